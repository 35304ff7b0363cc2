/* options.c - the fs module's options and the state directory. */
#include <curl/curl.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/node.h"
#include "fs/attach.h"
#include "fs/scan_import.h"
#include "jira/issue.h"
#include "util/log.h"
#include "util/path.h"

enum { KEY_PROJECTS = 1, KEY_DISCARD, KEY_SHARED };

#define FS_OPT(t, p) { t, offsetof(struct fs_config, p), 0 }

static const struct fuse_opt fs_opts[] = {
	FS_OPT("cache_ttl=%u", cache_ttl_s),
	FS_OPT("state_dir=%s", state_dir),
	FS_OPT("memory_max=%s", memory_max),
	FS_OPT("attachment_cache=%s", attachment_cache),
	FS_OPT("uid=%s", owner),
	FS_OPT("gid=%s", group),
	FS_OPT("umask=%s", umask),
	FS_OPT("scan_priority=%s", scan_priority),
	FS_OPT("scan_min_severity=%s", scan_min_severity),
	FS_OPT("scan_group=%s", scan_group),
	FS_OPT("scan_accepted=%s", scan_accepted),
	FS_OPT("scan_autoclose_max=%s", scan_autoclose_max),
	{ "scan_autoclose", offsetof(struct fs_config, scan_autoclose), 1 },
	{ "noscan_autoclose", offsetof(struct fs_config, scan_autoclose), 0 },
	FUSE_OPT_KEY("allow_other", KEY_SHARED),
	FUSE_OPT_KEY("allow_root", KEY_SHARED),
	FUSE_OPT_KEY("projects=", KEY_PROJECTS),
	/* /etc/fstab noise that mount(8) passes on */
	FUSE_OPT_KEY("_netdev", KEY_DISCARD),
	FUSE_OPT_KEY("noauto", KEY_DISCARD),
	FUSE_OPT_KEY("auto", KEY_DISCARD),
	FUSE_OPT_KEY("nofail", KEY_DISCARD),
	FUSE_OPT_KEY("user", KEY_DISCARD),
	FUSE_OPT_KEY("users", KEY_DISCARD),
	FUSE_OPT_KEY("comment=", KEY_DISCARD),
	/* read by config_apply (fs/config.h) before options are parsed */
	FUSE_OPT_KEY("config=", KEY_DISCARD),
	FUSE_OPT_END
};

static int add_project(struct fs_config *cfg, const char *key)
{
	if (!*key)
		return 0;
	if (!jira_project_key_valid(key)) {
		jlog_err("projects=: '%s' is not a Jira project key", key);
		return -1;
	}
	char **p = realloc(cfg->projects,
			   (cfg->nprojects + 1) * sizeof(*cfg->projects));
	if (!p)
		return -1;
	cfg->projects = p;
	p[cfg->nprojects] = strdup(key);
	if (!p[cfg->nprojects])
		return -1;
	cfg->nprojects++;
	return 0;
}

/* "projects=SEC,OPS" arrives as "projects=SEC" then "OPS": fuse_opt splits
 * -o on commas.  A bare option that looks like a project key right after
 * projects= continues the list (libfuse has no upper-case options).  A
 * later projects= replaces the list, as the last of any option wins (the
 * command line's over the config file's). */
/* query.NAME=JQL: a search of queries/ (fs/queries.h); the name as a file
 * name of queries/ would be, not a scratch name.  0 or -1. */
static int add_query(struct fs_config *cfg, const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t n = eq ? (size_t)(eq - spec) : 0;
	char name[NAME_LEN];
	if (!n || n >= NAME_LEN - sizeof(QUERY_SUFFIX) || !eq[1]) {
		jlog_err("query.%s: a query is query.NAME=JQL", spec);
		return -1;
	}
	snprintf(name, sizeof(name), "%.*s" QUERY_SUFFIX, (int)n, spec);
	if (memchr(spec, '/', n) || !queries_is_definition(name, NULL, 0)) {
		jlog_err("query.%.*s: not a name for a file of queries/", (int)n,
			 spec);
		return -1;
	}
	char **names = realloc(cfg->query_names,
			       (cfg->nqueries + 1) * sizeof(*names));
	if (names)
		cfg->query_names = names;
	char **jqls = realloc(cfg->query_jqls,
			      (cfg->nqueries + 1) * sizeof(*jqls));
	if (jqls)
		cfg->query_jqls = jqls;
	if (!names || !jqls)
		return -1;
	names[cfg->nqueries] = strndup(spec, n);
	jqls[cfg->nqueries] = strdup(eq + 1);
	if (!names[cfg->nqueries] || !jqls[cfg->nqueries]) {
		free(names[cfg->nqueries]);
		free(jqls[cfg->nqueries]);
		return -1;
	}
	cfg->nqueries++;
	return 0;
}

static int fs_opt_proc(void *data, const char *arg, int key,
		       struct fuse_args *outargs)
{
	(void)outargs;
	struct fs_config *cfg = data;
	switch (key) {
	case KEY_PROJECTS: {
		for (size_t i = 0; i < cfg->nprojects; i++)
			free(cfg->projects[i]);
		cfg->nprojects = 0;
		cfg->projects_open = true;
		char *list = strdup(arg + strlen("projects="));
		if (!list)
			return -1;
		char *save = NULL;
		int ret = 0;
		for (char *k = strtok_r(list, ",:", &save); k && !ret;
		     k = strtok_r(NULL, ",:", &save))
			ret = add_project(cfg, k);
		free(list);
		return ret;
	}
	case KEY_DISCARD:
		cfg->projects_open = false;
		return 0;
	case KEY_SHARED: /* noted, and passed on to libfuse */
		cfg->projects_open = false;
		cfg->shared = true;
		return 1;
	case FUSE_OPT_KEY_OPT:
		if (strncmp(arg, "query.", 6) == 0) {
			cfg->projects_open = false;
			return add_query(cfg, arg + 6);
		}
		if (strncmp(arg, "x-", 2) == 0) { /* x-systemd.*, x-gvfs-* */
			cfg->projects_open = false;
			return 0;
		}
		if (cfg->projects_open && jira_project_key_valid(arg))
			return add_project(cfg, arg);
		cfg->projects_open = false;
		return 1;
	default:
		return 1;
	}
}

/* "512M", "64K", "2G", "1048576": bytes (binary units).  0 or -1. */
static int parse_size(const char *s, size_t *out)
{
	char *end = NULL;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	int shift = 0;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	default: break;
	}
	if (errno || *end || v > (SIZE_MAX >> shift) / 2)
		return -1;
	*out = (size_t)(v << shift);
	return 0;
}

int fs_opt_parse(struct fuse_args *args, struct fs_config *cfg)
{
	cfg->cache_ttl_s = JIRAFS_DEFAULT_CACHE_TTL_S;
	if (fuse_opt_parse(args, cfg, fs_opts, fs_opt_proc) < 0)
		return -1;
	if (cfg->cache_ttl_s > 86400) {
		jlog_err("cache_ttl must be at most 86400 seconds");
		return -1;
	}
	cfg->memory_max_bytes = (size_t)JIRAFS_DEFAULT_MEMORY_MAX;
	if (cfg->memory_max &&
	    parse_size(cfg->memory_max, &cfg->memory_max_bytes)) {
		jlog_err("memory_max=%s: a size is a number with K, M or G "
			 "after it (memory_max=512M)",
			 cfg->memory_max);
		return -1;
	}
	cfg->attachment_cache_bytes = (size_t)ATTACH_DEFAULT_CACHE_MAX;
	if (cfg->attachment_cache &&
	    parse_size(cfg->attachment_cache, &cfg->attachment_cache_bytes)) {
		jlog_err("attachment_cache=%s: a size is a number with K, M or "
			 "G after it (attachment_cache=256M)",
			 cfg->attachment_cache);
		return -1;
	}
	char why[256];
	if (!(cfg->scan = calloc(1, sizeof(*cfg->scan))) ||
	    scan_config_make(cfg, cfg->scan, why, sizeof(why))) {
		jlog_err("%s", cfg->scan ? why : "out of memory");
		return -1;
	}
	return 0;
}

void fs_config_release(struct fs_config *cfg)
{
	for (size_t i = 0; i < cfg->nprojects; i++)
		free(cfg->projects[i]);
	free(cfg->projects);
	free(cfg->state_dir);
	free(cfg->memory_max);
	free(cfg->attachment_cache);
	free(cfg->owner);
	free(cfg->group);
	free(cfg->umask);
	free(cfg->scan_priority);
	free(cfg->scan_min_severity);
	free(cfg->scan_group);
	free(cfg->scan_accepted);
	free(cfg->scan_autoclose_max);
	if (cfg->scan)
		scan_config_release(cfg->scan);
	free(cfg->scan);
	for (size_t i = 0; i < cfg->nqueries; i++) {
		free(cfg->query_names[i]);
		free(cfg->query_jqls[i]);
	}
	free(cfg->query_names);
	free(cfg->query_jqls);
	memset(cfg, 0, sizeof(*cfg));
}

void fs_opt_help(void)
{
	printf("Filesystem options:\n"
	       "    -o projects=KEY,KEY    show only these projects (default: "
	       "all the account can browse)\n"
	       "    -o cache_ttl=SECONDS   how long listings are reused "
	       "(default: %d)\n"
	       "    -o state_dir=DIR       where state is kept (default: "
	       "$XDG_STATE_HOME/jirafs/HOST)\n"
	       "    -o memory_max=SIZE     memory for ticket files, compressed "
	       "(K, M, G; default:\n"
	       "                           512M); beyond it they are kept in a "
	       "file of the state\n"
	       "                           directory\n"
	       "    -o attachment_cache=SIZE  attachments downloaded, kept in "
	       "the state directory\n"
	       "                           (K, M, G; default: 256M)\n"
	       "    -o query.NAME=JQL      a read-only search queries/NAME "
	       "(repeatable; in\n"
	       "                           -o, write a comma of the JQL as "
	       "\\,)\n"
	       "    -o uid=USER            owner of every file and directory "
	       "(name or number;\n"
	       "                           default: the mounting user)\n"
	       "    -o gid=GROUP           their group (default: the mounting "
	       "user's)\n"
	       "    -o umask=OCTAL         mode bits taken away (default: 022); "
	       "with allow_other\n"
	       "                           or allow_root the kernel enforces "
	       "them\n"
	       "    -o config=FILE         read options from FILE, one a line "
	       "(default:\n"
	       "                           $XDG_CONFIG_HOME/jirafs/config, if "
	       "it exists)\n"
	       "Scanner reports (PROJECT/scans/):\n"
	       "    -o scan_autoclose      close the ticket of a finding a "
	       "later scan no longer\n"
	       "                           reports (default: a comment only)\n"
	       "    -o scan_autoclose_max=PCT  close nothing when more than "
	       "PCT%% of the scope's\n"
	       "                           open tickets would close (default: "
	       "50)\n"
	       "    -o scan_min_severity=S skip findings below S (info, low, "
	       "medium, high,\n"
	       "                           critical; default: info)\n"
	       "    -o scan_priority=C:H:M:L:I  priority names for critical, "
	       "high, medium, low\n"
	       "                           and info (default: "
	       "Highest:High:Medium:Low:Lowest)\n"
	       "    -o scan_group=G        finding (default), rule, or "
	       "rule+target: one ticket\n"
	       "                           per finding, per rule, or per rule "
	       "and target\n"
	       "    -o scan_accepted=R:R   resolutions that mean the risk was "
	       "accepted: such a\n"
	       "                           ticket is not reopened (default: "
	       "Won't Fix:Won't Do:\n"
	       "                           Duplicate:Not a Bug)\n",
	       JIRAFS_DEFAULT_CACHE_TTL_S);
}

/* A number made only of digits, else -1. */
static long long number(const char *s)
{
	char *end = NULL;
	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	return errno || *end ? -1 : v;
}

/* uid= or gid= (opt): a number, else a name found with lookup (which
 * returns -1 for none).  0 with *id, or -1 with the reason in err. */
static int resolve_id(const char *opt, const char *value,
		      long long (*lookup)(const char *), const char *what,
		      unsigned *id, char *err, size_t errsize)
{
	long long n = number(value);
	if (n < 0)
		n = lookup(value);
	if (n < 0) {
		snprintf(err, errsize, "%s=%s: no such %s", opt, value, what);
		return -1;
	}
	if (n > (long long)(uid_t)-2) {
		snprintf(err, errsize, "%s=%s: out of range", opt, value);
		return -1;
	}
	*id = (unsigned)n;
	return 0;
}

static long long user_id(const char *name)
{
	struct passwd *pw = getpwnam(name);
	return pw ? (long long)pw->pw_uid : -1;
}

static long long group_id(const char *name)
{
	struct group *gr = getgrnam(name);
	return gr ? (long long)gr->gr_gid : -1;
}

int fs_owner_resolve(const struct fs_config *cfg, uid_t *uid, gid_t *gid,
		     mode_t *umask, char *err, size_t errsize)
{
	unsigned u = getuid(), g = getgid();
	*umask = 022;
	if ((cfg->owner && resolve_id("uid", cfg->owner, user_id, "user", &u,
				      err, errsize)) ||
	    (cfg->group && resolve_id("gid", cfg->group, group_id, "group",
				      &g, err, errsize)))
		return -1;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	if (cfg->umask) {
		char *end = NULL;
		errno = 0;
		unsigned long m = strtoul(cfg->umask, &end, 8);
		if (!*cfg->umask || errno || *end || m > 0777) {
			snprintf(err, errsize,
				 "umask=%s: give octal digits, at most 777",
				 cfg->umask);
			return -1;
		}
		*umask = (mode_t)m;
	}
	return 0;
}

char *fs_state_dir(const struct fs_config *cfg, const char *url)
{
	if (cfg->state_dir)
		return path_absolute(cfg->state_dir);
	char *host = NULL, *port = NULL;
	CURLU *u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_HOST, &host, 0);
		curl_url_get(u, CURLUPART_PORT, &port, 0);
	}
	char name[512];
	snprintf(name, sizeof(name), "%s%s%s", host ? host : "jira",
		 port ? "_" : "", port ? port : "");
	for (char *c = name; *c; c++)
		if (*c == '/' || *c == '[' || *c == ']')
			*c = '_';
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);

	const char *xdg = getenv("XDG_STATE_HOME");
	char *base = xdg && *xdg == '/' ? strdup(xdg)
					: path_expand_home("~/.local/state");
	if (!base)
		return NULL;
	size_t n = strlen(base) + strlen(name) + sizeof("/jirafs/");
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/jirafs/%s", base, name);
	free(base);
	return out;
}
