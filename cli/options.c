/* options.c - see options.h */
#include "cli/options.h"

#include <fuse_log.h>
#include <fuse_lowlevel.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/config.h"
#include "util/path.h"
#include "util/strbuf.h"

int mount_options_parse(struct fuse_args *args, struct mount_options *mo)
{
	char errbuf[512] = "";

	if (config_apply(args, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "jirafs: %s\n", errbuf);
		return -1;
	}
	/* each parser names what it refuses */
	if (fs_opt_parse(args, &mo->fs) || jira_opt_parse(args, &mo->jira) ||
	    jira_write_opt_parse(args, &mo->write) ||
	    auth_opt_parse(args, &mo->auth))
		return -1;
	return 0;
}

/* Whether an -o option named `name`= is among args. */
static bool has_opt(const struct fuse_args *args, const char *name)
{
	size_t n = strlen(name);
	for (int i = 1; i < args->argc; i++) {
		const char *a = args->argv[i];
		if (strncmp(a, "-o", 2) == 0)
			a += 2;
		if (!*a && i + 1 < args->argc)
			a = args->argv[++i];
		for (const char *p = a; p; p = strchr(p, ',')) {
			p += *p == ',';
			if (strncmp(p, name, n) == 0 && p[n] == '=')
				return true;
		}
	}
	return false;
}

/* -o fsname=URL (commas and backslashes escaped for libfuse's option
 * parser) and -o subtype=jirafs, unless given.  0 or -1. */
static int add_mount_names(struct fuse_args *args, const char *url)
{
	if (!has_opt(args, "subtype") &&
	    fuse_opt_add_arg(args, "-osubtype=jirafs"))
		return -1;
	if (has_opt(args, "fsname"))
		return 0;
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "-ofsname=");
	for (const char *p = url; *p; p++) {
		if (*p == ',' || *p == '\\')
			strbuf_addc(&sb, '\\');
		strbuf_addc(&sb, *p);
	}
	int r = fuse_opt_add_arg(args, strbuf_str(&sb));
	strbuf_release(&sb);
	return r;
}

/* What libfuse says while it checks the options: its errors and warnings,
 * not the debug lines of -d, which the mount's own session prints. */
static __attribute__((format(printf, 2, 0))) void
errors_only(enum fuse_log_level level, const char *fmt, va_list ap)
{
	if (level <= FUSE_LOG_WARNING)
		vfprintf(stderr, fmt, ap);
}

int mount_options_check_fuse(const struct fuse_args *args)
{
	/* checked by a session that is never mounted (libfuse prints what it
	 * refuses); on a copy, since a session takes the options it knows
	 * out of its args */
	struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
	for (int i = 0; i < args->argc; i++)
		if (fuse_opt_add_arg(&copy, args->argv[i])) {
			fuse_opt_free_args(&copy);
			fprintf(stderr, "jirafs: out of memory\n");
			return -1;
		}
	struct fuse_lowlevel_ops none = { 0 };
	fuse_set_log_func(errors_only);
	struct fuse_session *se =
		fuse_session_new(&copy, &none, sizeof(none), NULL);
	fuse_set_log_func(NULL); /* libfuse's own again: to stderr */
	fuse_opt_free_args(&copy);
	if (!se)
		return -1;
	fuse_session_destroy(se);
	return 0;
}

int mount_options_finish(struct fuse_args *args, struct mount_options *mo,
			 char **url)
{
	char errbuf[512] = "";

	if (jira_url_check(*url, errbuf, sizeof(errbuf)) ||
	    fs_owner_resolve(&mo->fs, &mo->uid, &mo->gid, &mo->umask, errbuf,
			     sizeof(errbuf))) {
		fprintf(stderr, "jirafs: %s\n", errbuf);
		return -1;
	}
	free(mo->jira.url);
	mo->jira.url = *url;
	*url = NULL;
	if (mo->jira.cacert) {
		char *abs = path_absolute(mo->jira.cacert);
		if (!abs)
			goto oom;
		free(mo->jira.cacert);
		mo->jira.cacert = abs;
	}
	/* Others may use the mount: without default_permissions the kernel
	 * checks no mode bits on a FUSE mount, and every local user would
	 * act as the Jira account. */
	if (mo->fs.shared && fuse_opt_add_arg(args, "-odefault_permissions"))
		goto oom;
	/* The URL is the mount's source (as sshfs shows host:path) and
	 * fuse.jirafs its type, unless given: mount -a then knows an fstab
	 * line is mounted, and findmnt and systemd's What= match it. */
	if (add_mount_names(args, mo->jira.url))
		goto oom;
	if (mount_options_check_fuse(args))
		return -1;
	return 0;
oom:
	fprintf(stderr, "jirafs: out of memory\n");
	return -1;
}

void mount_options_release(struct mount_options *mo)
{
	auth_config_release(&mo->auth);
	jira_write_config_release(&mo->write);
	jira_config_release(&mo->jira);
	fs_config_release(&mo->fs);
}
