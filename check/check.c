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
#include "fs/config.h"
#include "fs/fs.h"
#include "jira/client.h"
#include "jira/write.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

enum mark { OK, FAIL, WARN };

struct check {
	cJSON *list;  /* the checks, for --json */
	bool json;
	unsigned failed, warned;
};

static void say(struct check *ck, enum mark m, const char *what,
		const char *detail, const char *fix)
{
	static const char *const sym[] = { "\u2713", "\u2717", "!" };
	static const char *const word[] = { "ok", "fail", "warn" };
	if (m == FAIL)
		ck->failed++;
	if (m == WARN)
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

/* "10.3.4" -> 10003004 */
static long version_number(const char *v)
{
	unsigned a = 0, b = 0, c = 0;
	if (!v || sscanf(v, "%u.%u.%u", &a, &b, &c) < 1)
		return -1;
	return (long)a * 1000000 + (long)b * 1000 + c;
}

/* The site: an answer to serverInfo (anonymous allowed) tells reachability,
 * TLS and the version.  False when nothing further can be asked. */
static bool check_site(struct check *ck, struct jira_client *c,
		       const struct jira_config *jcfg, const char *method)
{
	char *version = NULL, *deployment = NULL, buf[1400], fix[700];
	struct jira_error err = { 0 };
	deadline_t d = deadline_in((int64_t)jcfg->timeout_s * 1000);
	enum jira_status st =
		jira_server_info(c, d, &version, &deployment, &err);
	bool https = strncmp(jcfg->url, "https://", 8) == 0;

	switch (st) {
	case JIRA_OK:
		break;
	case JIRA_ERR_AUTH:
	case JIRA_ERR_AUTH_DISABLED:
	case JIRA_ERR_CAPTCHA:
	case JIRA_ERR_FORBIDDEN:
		/* serverInfo is anonymous, but credentials sent with it are
		 * checked: Jira answered; the account check names the cause */
		snprintf(buf, sizeof(buf), "%s answers (the version is not "
					   "shown to these credentials)",
			 jcfg->url);
		say(ck, OK, "reachability", buf, NULL);
		return true;
	case JIRA_ERR_TLS:
		snprintf(fix, sizeof(fix),
			 jcfg->cacert
				 ? "the CA in %s did not issue the server's "
				   "certificate: give the CA file that did "
				   "(ask the Jira admin which CA signs it)"
				 : "if the site uses a private CA, give -o "
				   "cacert=FILE with that CA's certificate%s",
			 jcfg->cacert ? jcfg->cacert : "");
		say(ck, FAIL, "TLS", err.msg, fix);
		return false;
	case JIRA_ERR_TIMEOUT:
		snprintf(buf, sizeof(buf), "no answer within %u s",
			 jcfg->timeout_s);
		say(ck, FAIL, "reachability", buf,
		    "check the URL, the network path (proxy=, tunnel=, "
		    "connect_to=) and that Jira is up");
		return false;
	case JIRA_ERR_UNREACHABLE:
		say(ck, FAIL, "reachability", err.msg,
		    "check the host name and port in the URL and the network "
		    "path (proxy=, tunnel=, connect_to=)");
		return false;
	default:
		snprintf(buf, sizeof(buf), "%s does not answer like Jira "
					   "(%s): %s",
			 jcfg->url, jira_status_name(st), err.msg);
		say(ck, FAIL, "Jira", buf,
		    "give the base URL of the Jira site (the address its web "
		    "interface has, without /secure or /browse)");
		return false;
	}
	snprintf(buf, sizeof(buf), "%s answers%s", jcfg->url,
		 https ? " over verified TLS" : " (http://, unencrypted)");
	say(ck, https ? OK : WARN, "reachability", buf,
	    https ? NULL : "use https:// where the site offers it");
	snprintf(buf, sizeof(buf), "Jira %s %s", version ? version : "?",
		 deployment ? deployment : "");
	bool cloud = deployment && strcmp(deployment, "Cloud") == 0;
	say(ck, cloud ? FAIL : OK, "version", buf,
	    cloud ? "jirafs works with Jira Server and Data Center, not "
		    "Jira Cloud"
		  : NULL);

	/* PATs came with Jira 8.14, incoming OAuth 2.0 links with 9.0 */
	long n = version_number(version);
	long need = strcmp(method, "pat") == 0	   ? 8014000
		    : strcmp(method, "oauth2") == 0 ? 9000000
						    : 0;
	if (need && n >= 0 && n < need) {
		snprintf(buf, sizeof(buf), "auth=%s needs Jira %s or later",
			 method, need == 8014000 ? "8.14" : "9.0");
		say(ck, FAIL, "auth method", buf,
		    "use auth=basic or auth=oauth1, or upgrade Jira");
	} else {
		snprintf(buf, sizeof(buf), "auth=%s is offered by this "
					   "version",
			 method);
		say(ck, OK, "auth method", buf, NULL);
	}
	free(version);
	free(deployment);
	return !cloud;
}

/* Who Jira says the account is.  False when it is not accepted. */
static bool check_account(struct check *ck, struct jira_client *c,
			  const struct jira_config *jcfg, const char *method,
			  char **user)
{
	struct jira_error err = { 0 };
	char buf[1400], fix[400];
	deadline_t d = deadline_in((int64_t)jcfg->timeout_s * 1000);
	enum jira_status st = jira_myself(c, d, user, &err);
	const char *what = "credentials";
	/* a 401 with Jira's "Basic authentication is disabled" is classified
	 * as refused credentials (see the session note: status.c should) */
	if (st == JIRA_ERR_AUTH && strstr(err.msg, "authentication is disabled"))
		st = JIRA_ERR_AUTH_DISABLED;

	switch (st) {
	case JIRA_OK:
		snprintf(buf, sizeof(buf), "logged in as %s (auth=%s)", *user,
			 method);
		say(ck, OK, what, buf, NULL);
		return true;
	case JIRA_ERR_CAPTCHA:
		say(ck, FAIL, what, "Jira demands a CAPTCHA after failed logins",
		    "log in once through the web interface (answering the "
		    "CAPTCHA), then check again");
		return false;
	case JIRA_ERR_AUTH_DISABLED:
		snprintf(buf, sizeof(buf), "auth=%s is disabled on this site: "
					   "%s",
			 method, err.msg);
		say(ck, FAIL, what, buf,
		    strcmp(method, "basic") == 0
			    ? "use auth=pat (a Personal Access Token) or ask "
			      "the Jira admin to allow Basic authentication"
			    : "use another auth= method or ask the Jira admin "
			      "to enable this one");
		return false;
	case JIRA_ERR_AUTH:
	case JIRA_ERR_FORBIDDEN:
		snprintf(buf, sizeof(buf), "not accepted (auth=%s): %s", method,
			 err.msg);
		snprintf(fix, sizeof(fix), "%s",
			 strcmp(method, "pat") == 0
				 ? "the token is wrong, revoked or expired: "
				   "make a new one (Profile > Personal Access "
				   "Tokens) and put it in token_file="
			 : strcmp(method, "basic") == 0
				 ? "check user= and the password in "
				   "password_file="
				 : "run jirafs auth oauth1-login or "
				   "oauth2-login again");
		say(ck, FAIL, what, buf, fix);
		return false;
	default:
		(void)jcfg;
		snprintf(buf, sizeof(buf), "cannot ask who the account is "
					   "(%s): %s",
			 jira_status_name(st), err.msg);
		say(ck, FAIL, what, buf, "check again once Jira answers");
		return false;
	}
}

/* The permissions each operation needs, as mypermissions names them. */
static const struct {
	const char *key, *name, *op;
} perms[] = {
	{ "BROWSE_PROJECTS", "Browse Projects", "read" },
	{ "CREATE_ISSUES", "Create Issues", "create" },
	{ "EDIT_ISSUES", "Edit Issues", "update" },
	{ "ADD_COMMENTS", "Add Comments", "comment" },
	{ "TRANSITION_ISSUES", "Transition Issues", "close/reopen" },
	{ "RESOLVE_ISSUES", "Resolve Issues", "resolve" },
	{ "CLOSE_ISSUES", "Close Issues", "close" },
	{ "CREATE_ATTACHMENTS", "Create Attachments", "attach" },
};

static void check_project(struct check *ck, struct jira_client *c,
			  const struct jira_config *jcfg, const char *key,
			  const char *user)
{
	char path[256], what[96], buf[1400], fix[700];
	struct jira_error err = { 0 };
	cJSON *root = NULL;
	deadline_t d = deadline_in((int64_t)jcfg->timeout_s * 1000);

	snprintf(what, sizeof(what), "project %s", key);
	snprintf(path, sizeof(path), "/rest/api/2/mypermissions?projectKey=%s",
		 key);
	enum jira_status st = jira_get_json(c, path, d, &root, &err);
	if (st != JIRA_OK) {
		snprintf(buf, sizeof(buf), "cannot read the permissions (%s): "
					   "%s",
			 jira_status_name(st), err.msg);
		say(ck, st == JIRA_ERR_NOT_FOUND ? FAIL : WARN, what, buf,
		    st == JIRA_ERR_NOT_FOUND
			    ? "the project does not exist: correct projects="
			    : NULL);
		cJSON_Delete(root);
		return;
	}
	const cJSON *p = json_item(root, "permissions");
	struct strbuf miss = STRBUF_INIT, ops = STRBUF_INIT;
	for (size_t i = 0; i < sizeof(perms) / sizeof(perms[0]); i++) {
		const cJSON *e = json_item(p, perms[i].key);
		if (cJSON_IsTrue(json_item(e, "havePermission")))
			continue;
		strbuf_addf(&miss, "%s%s", miss.len ? ", " : "", perms[i].name);
		strbuf_addf(&ops, "%s%s", ops.len ? ", " : "", perms[i].op);
	}
	if (!miss.len) {
		say(ck, OK, what,
		    "browse, create, edit, comment, transition, resolve, "
		    "close, create attachments",
		    NULL);
	} else {
		snprintf(buf, sizeof(buf), "%s lacks %s (refused: %s)", user,
			 miss.buf, ops.buf);
		snprintf(fix, sizeof(fix),
			 "ask a Jira admin to grant %s to %s in the permission "
			 "scheme of project %s",
			 miss.buf, user, key);
		say(ck, FAIL, what, buf, fix);
	}
	strbuf_release(&miss);
	strbuf_release(&ops);
	cJSON_Delete(root);
}

static void check_projects(struct check *ck, struct jira_client *c,
			   const struct jira_config *jcfg,
			   const struct fs_config *fcfg, const char *user)
{
	if (fcfg->nprojects) {
		for (size_t i = 0; i < fcfg->nprojects; i++)
			check_project(ck, c, jcfg, fcfg->projects[i], user);
		return;
	}
	struct jira_project *pr = NULL;
	size_t n = 0;
	struct jira_error err = { 0 };
	deadline_t d = deadline_in((int64_t)jcfg->timeout_s * 1000);
	enum jira_status st = jira_projects(c, d, &pr, &n, &err);
	if (st != JIRA_OK) {
		say(ck, FAIL, "projects", err.msg, "check again once Jira "
						   "answers");
		return;
	}
	if (!n)
		say(ck, FAIL, "projects", "the account can browse no project",
		    "ask a Jira admin to grant Browse Projects to the "
		    "account in the projects it should see");
	for (size_t i = 0; i < n; i++)
		check_project(ck, c, jcfg, pr[i].key, user);
	jira_projects_free(pr, n);
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
		say(ck, ok ? OK : FAIL, what, buf, ok ? NULL : fix);
		return;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 0077)) {
		snprintf(buf, sizeof(buf), "%s is %s (mode %04o, owner %u)",
			 dir, S_ISDIR(st.st_mode) ? "a directory" : "no directory",
			 (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		snprintf(fix, sizeof(fix), "chmod 700 %s (it holds tokens and "
					   "queued writes), owned by you",
			 dir);
		say(ck, FAIL, what, buf, fix);
		return;
	}
	struct statvfs vfs;
	unsigned long long free_mb =
		statvfs(dir, &vfs) == 0
			? (unsigned long long)vfs.f_bavail * vfs.f_frsize >> 20
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
	snprintf(buf, sizeof(buf), "%s: 0700, yours, %llu MiB free, %zu "
				   "operation%s waiting in the outbox",
		 dir, free_mb, pending, pending == 1 ? "" : "s");
	say(ck, free_mb < 64 || pending ? WARN : OK, what, buf,
	    free_mb < 64 ? "free space in the state directory (attachments "
			   "and queued writes are spooled there)"
	    : pending    ? "mount to send them (or look at them in "
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
	struct jira_client *c = NULL;
	struct check ck = { 0 };
	char errbuf[1024] = "", *state_dir = NULL, *user = NULL;
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
	if (auth_new(&acfg, state_dir, &auth, errbuf, sizeof(errbuf))) {
		say(&ck, FAIL, "credentials", errbuf,
		    "give the options and secret files the auth= method needs "
		    "(see jirafs(1), Authentication)");
	} else if (jira_client_new(&jcfg, auth, &c) == 0) {
		const char *method = auth_name(auth);
		if (check_site(&ck, c, &jcfg, method) &&
		    check_account(&ck, c, &jcfg, method, &user))
			check_projects(&ck, c, &jcfg, &fcfg, user);
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
	jira_client_free(c);
	auth_free(auth);
	free(user);
	free(state_dir);
	free(cl.url);
	auth_config_release(&acfg);
	jira_write_config_release(&wcfg);
	jira_config_release(&jcfg);
	fs_config_release(&fcfg);
	fuse_opt_free_args(&args);
	return ret;
}
