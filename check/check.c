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
#include <fuse_lowlevel.h>
#include <fuse_opt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "auth/auth.h"
#include "fs/config.h"
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
	struct fs_config fcfg = { 0 };
	struct jira_config jcfg = { 0 };
	struct jira_write_config wcfg = { 0 };
	struct auth_config acfg = { 0 };
	struct auth *auth = NULL;
	struct check ck = { 0 };
	char errbuf[1024] = "", *state_dir = NULL;
	int ret = 1;

	if (fuse_opt_parse(&args, &cl, check_opts, check_proc) < 0 ||
	    config_apply(&args, errbuf, sizeof(errbuf)) ||
	    fs_opt_parse(&args, &fcfg) || jira_opt_parse(&args, &jcfg) ||
	    jira_write_opt_parse(&args, &wcfg) ||
	    auth_opt_parse(&args, &acfg)) {
		if (*errbuf)
			fprintf(stderr, "jirafs: %s\n", errbuf);
		goto out;
	}
	if (cl.help || !cl.url || cl.extra) {
		printf("usage: jirafs check URL [-o opt[,opt...]] [--json]\n"
		       "Check every prerequisite of mounting URL with these "
		       "options; exit 0 when a mount\nwould work.  Nothing "
		       "is changed in Jira.  See jirafs(1).\n");
		ret = cl.help ? 0 : 1;
		goto out;
	}
	if (jira_url_check(cl.url, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "jirafs: %s\n", errbuf);
		goto out;
	}
	/* what no module took is libfuse's: checked as a mount checks it
	 * (a typo fails here; libfuse names it), and the owner options */
	struct fuse_lowlevel_ops none = { 0 };
	struct fuse_session *se =
		fuse_session_new(&args, &none, sizeof(none), NULL);
	if (!se)
		goto out;
	fuse_session_destroy(se);
	uid_t uid;
	gid_t gid;
	mode_t um;
	if (fs_owner_resolve(&fcfg, &uid, &gid, &um, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "jirafs: %s\n", errbuf);
		goto out;
	}
	jcfg.url = cl.url;
	cl.url = NULL;
	log_set_debug(jcfg.debug);
	state_dir = fs_state_dir(&fcfg, jcfg.url);
	if (!state_dir)
		goto out;
	ck.json = cl.json;
	ck.list = cJSON_CreateArray();
	if (!ck.list)
		goto out;
	ck.jcfg = &jcfg;
	ck.fcfg = &fcfg;
	ck.wcfg = &wcfg;
	ck.acfg = &acfg;
	ck.state_dir = state_dir;
	/* without usable credentials the site is still asked (anonymously)
	 * for the way there and its version */
	bool have_auth =
		auth_new(&acfg, state_dir, &auth, errbuf, sizeof(errbuf)) == 0;
	if (!have_auth)
		check_say(&ck, CHECK_FAIL, "credentials", errbuf,
			  "give the options and secret files the auth= method "
			  "needs (see jirafs(1), Authentication)");
	ck.method = have_auth ? auth_name(auth)
		    : acfg.method ? acfg.method
				  : "pat";
	/* a password or token over http:// is refused by a mount, and not
	 * sent by a check either */
	bool cleartext = have_auth && auth->needs_tls &&
			 strncmp(jcfg.url, "http://", 7) == 0;
	if (cleartext && !acfg.allow_http) {
		snprintf(errbuf, sizeof(errbuf), "auth=%s would send the "
						 "password unencrypted over "
						 "http://; a mount refuses it",
			 ck.method);
		check_say(&ck, CHECK_FAIL, "auth method", errbuf,
			  "use https:// (or -o allow_http, accepting that "
			  "anyone on the path can read the password)");
		have_auth = false;
	}
	if (!check_network(&ck)) {
		/* the line says where the way breaks */
	} else if (jira_client_new(&jcfg, auth, &ck.c) != 0) {
		check_say(&ck, CHECK_FAIL, "Jira",
			  jcfg.tunnel ? "the ssh tunnel could not be started"
				      : "out of memory",
			  jcfg.tunnel ? "check ssh_command= and that ssh is "
					"installed (openssh-client)"
				      : "free some memory and check again");
	} else if (check_site(&ck) && have_auth && check_account(&ck)) {
		check_projects(&ck);
	}
	check_state(&ck, state_dir);
	ret = ck.failed ? 2 : 0;
	if (ck.json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "url", jcfg.url);
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
	auth_config_release(&acfg);
	jira_write_config_release(&wcfg);
	jira_config_release(&jcfg);
	fs_config_release(&fcfg);
	fuse_opt_free_args(&args);
	return ret;
}
