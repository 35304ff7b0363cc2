/*
 * check.c - see check.h.
 *
 * Each check is one line: ✓ (holds), ✗ (a mount, or an operation, would
 * fail; the fix follows in one sentence) or ! (worth knowing, not fatal).
 * The checks run in the order a mount meets them and stop where the next
 * ones cannot be asked (no answer from Jira: no credentials to check).
 * Only GETs are sent: nothing changes in Jira.
 */
#include "check/check.h"
#include "check/check_priv.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fuse_opt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cli/options.h"
#include "fs/fs.h"
#include "jira/client.h"
#include "jira/write.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

void check_say(struct check *ck, enum check_mark m, const char *what,
	       const char *detail, const char *fix)
{
	static const char *const sym[] = { "\u2713", "\u2717", "!" };
	static const char *const word[] = { "ok", "fail", "warn" };
	if (m == CHECK_FAIL)
		ck->failed++;
	if (m == CHECK_WARN)
		ck->warned++;
	if (ck->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "check", what);
		cJSON_AddStringToObject(o, "result", word[m]);
		cJSON_AddStringToObject(o, "detail", detail ? detail : "");
		if (fix)
			cJSON_AddStringToObject(o, "fix", fix);
		cJSON_AddItemToArray(ck->list, o);
		return;
	}
	printf("%s %s: %s\n", sym[m], what, detail ? detail : "");
	if (fix)
		printf("    fix: %s\n", fix);
}

deadline_t check_deadline(const struct check *ck)
{
	return deadline_in((int64_t)ck->jcfg->timeout_s * 1000);
}

/* The state directory: exists or can be made, 0700, ours, room, and the
 * operations an earlier mount left. */
static void check_state(struct check *ck, const char *dir)
{
	char buf[PATH_MAX + 200], fix[PATH_MAX + 200];
	const char *what = "state directory";
	struct stat st;
	if (stat(dir, &st) != 0) {
		/* the nearest existing parent must be writable */
		char parent[PATH_MAX];
		snprintf(parent, sizeof(parent), "%s", dir);
		char *slash;
		while ((slash = strrchr(parent, '/')) && slash != parent) {
			*slash = '\0';
			if (access(parent, F_OK) == 0)
				break;
		}
		if (slash == parent)
			parent[1] = '\0';
		bool ok = access(parent, W_OK | X_OK) == 0;
		snprintf(buf, sizeof(buf), "%s does not exist yet; %s", dir,
			 ok ? "the mount will create it (0700)"
			    : "it cannot be created");
		snprintf(fix, sizeof(fix), "give -o state_dir= a directory "
					   "you can write (%s is not)",
			 parent);
		check_say(ck, ok ? CHECK_OK : CHECK_FAIL, what, buf, ok ? NULL : fix);
		return;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		bool dir_ = S_ISDIR(st.st_mode);
		snprintf(buf, sizeof(buf), "%s is %s (mode %04o, owner %u)",
			 dir, dir_ ? "a directory of another user"
				   : "not a directory",
			 (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		snprintf(fix, sizeof(fix),
			 dir_ ? "chown it to yourself, or give -o state_dir= "
				"one of yours"
			      : "give -o state_dir= a directory (%s is not one)",
			 dir);
		check_say(ck, CHECK_FAIL, what, buf, fix);
		return;
	}
	/* a mount works with it, but others may read tokens and queued
	 * writes */
	bool loose = st.st_mode & 0077;
	struct statvfs vfs;
	bool known = statvfs(dir, &vfs) == 0;
	unsigned long long free_mb =
		known ? (unsigned long long)vfs.f_bavail * vfs.f_frsize >> 20
		      : 0;
	size_t pending = 0;
	snprintf(buf, sizeof(buf), "%s/outbox", dir);
	DIR *dh = opendir(buf);
	struct dirent *de;
	while (dh && (de = readdir(dh)))
		if (de->d_name[0] != '.' && strlen(de->d_name) > 5 &&
		    strcmp(de->d_name + strlen(de->d_name) - 5, ".json") == 0)
			pending++; /* records, not their temporary files */
	if (dh)
		closedir(dh);
	char room[64] = "free space unknown";
	if (known)
		snprintf(room, sizeof(room), "%llu MiB free", free_mb);
	snprintf(buf, sizeof(buf), "%s: mode %04o, yours, %s, %zu operation%s "
				   "waiting in the outbox",
		 dir, (unsigned)(st.st_mode & 07777), room, pending,
		 pending == 1 ? "" : "s");
	snprintf(fix, sizeof(fix), "chmod 700 %s (it holds tokens and queued "
				   "writes)",
		 dir);
	bool low = known && free_mb < 64;
	check_say(ck, loose || low || pending ? CHECK_WARN : CHECK_OK, what, buf,
		  loose	 ? fix
		  : low	 ? "free space in the state directory (attachments "
			   "and queued writes are spooled there)"
		  : pending ? "mount to send them (or look at them in "
			      ".jirafs/outbox)"
			    : NULL);
}

static const struct fuse_opt check_opts[] = {
	FUSE_OPT_KEY("--json", 1),
	FUSE_OPT_KEY("-h", 2),
	FUSE_OPT_KEY("--help", 2),
	FUSE_OPT_END
};

struct cmdline {
	bool json, help;
	char *url;
	int extra;
};

static int check_proc(void *data, const char *arg, int key,
		      struct fuse_args *outargs)
{
	(void)outargs;
	struct cmdline *cl = data;
	if (key == 1) {
		cl->json = true;
		return 0;
	}
	if (key == 2) {
		cl->help = true;
		return 0;
	}
	if (key == FUSE_OPT_KEY_NONOPT) {
		if (cl->url) {
			cl->extra++;
			return 0;
		}
		cl->url = strdup(arg);
		return cl->url ? 0 : -1;
	}
	return 1;
}

int check_main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct cmdline cl = { 0 };
	struct mount_options mo = { 0 };
	struct auth *auth = NULL;
	struct check ck = { 0 };
	char errbuf[1024] = "", *state_dir = NULL;
	int ret = 1;

	if (fuse_opt_parse(&args, &cl, check_opts, check_proc) < 0 ||
	    mount_options_parse(&args, &mo))
		goto out;
	if (cl.help || !cl.url || cl.extra) {
		printf("usage: jirafs check URL [-o opt[,opt...]] [--json]\n"
		       "Check every prerequisite of mounting URL with these "
		       "options; exit 0 when a mount\nwould work.  Nothing "
		       "is changed in Jira.  See jirafs(1).\n");
		ret = cl.help ? 0 : 1;
		goto out;
	}
	/* as a mount checks them: a typo fails here (libfuse's included) */
	if (mount_options_finish(&args, &mo, &cl.url))
		goto out;
	log_set_debug(mo.jira.debug);
	state_dir = fs_state_dir(&mo.fs, mo.jira.url);
	if (!state_dir)
		goto out;
	ck.json = cl.json;
	ck.list = cJSON_CreateArray();
	if (!ck.list)
		goto out;
	ck.jcfg = &mo.jira;
	ck.fcfg = &mo.fs;
	ck.wcfg = &mo.write;
	ck.acfg = &mo.auth;
	ck.state_dir = state_dir;
	/* without usable credentials the site is still asked (anonymously)
	 * for the way there and its version; what is wrong with them is
	 * said after that, in the order a mount meets it */
	char why[1024] = "";
	bool have_auth = auth_new(&mo.auth, state_dir, &auth, why,
				  sizeof(why)) == 0;
	ck.method = have_auth	     ? auth_name(auth)
		    : mo.auth.method ? mo.auth.method
				     : "pat";
	/* a password or token over http:// is refused by a mount, and not
	 * sent by a check either */
	ck.cleartext = have_auth && auth->needs_tls && !mo.auth.allow_http &&
		       strncmp(mo.jira.url, "http://", 7) == 0;
	bool reached = false;
	if (!check_network(&ck)) {
		/* the line says where the way breaks */
	} else if (jira_client_new(&mo.jira, ck.cleartext ? NULL : auth,
				   &ck.c) != 0) {
		check_say(&ck, CHECK_FAIL, "Jira",
			  mo.jira.tunnel ? "the ssh tunnel could not be started"
					 : "out of memory",
			  mo.jira.tunnel ? "check ssh_command= and that ssh is "
					   "installed (openssh-client)"
					 : "free some memory and check again");
	} else {
		reached = check_site(&ck);
	}
	if (ck.cleartext) {
		snprintf(errbuf, sizeof(errbuf), "auth=%s would send the "
						 "password unencrypted over "
						 "http://; a mount refuses it",
			 ck.method);
		check_say(&ck, CHECK_FAIL, "auth method", errbuf,
			  "use https:// (or -o allow_http, accepting that "
			  "anyone on the path can read the password)");
	} else if (!have_auth) {
		check_say(&ck, CHECK_FAIL, "credentials", why,
			  "give the options and secret files the auth= method "
			  "needs (see jirafs(1), Authentication)");
	} else if (reached && check_account(&ck)) {
		check_projects(&ck);
	}
	check_state(&ck, state_dir);
	ret = ck.failed ? 2 : 0;
	if (ck.json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "url", mo.jira.url);
		cJSON_AddBoolToObject(o, "ok", !ck.failed);
		cJSON_AddNumberToObject(o, "failed", ck.failed);
		cJSON_AddNumberToObject(o, "warnings", ck.warned);
		cJSON_AddItemToObject(o, "checks", ck.list);
		ck.list = NULL;
		char *text = cJSON_Print(o);
		if (text)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(o);
	} else {
		printf("%u failed, %u warning%s\n", ck.failed, ck.warned,
		       ck.warned == 1 ? "" : "s");
	}
out:
	cJSON_Delete(ck.list);
	jira_client_free(ck.c);
	auth_free(auth);
	free(ck.user);
	free(state_dir);
	free(cl.url);
	mount_options_release(&mo);
	fuse_opt_free_args(&args);
	return ret;
}
