/*
 * options.h - a mount's whole option chain: the config file, then each
 * module's options, then libfuse's.  The mount (main.c) and `jirafs
 * check` parse through it, so that check judges exactly the options a
 * mount would be given; `jirafs auth` reads the same options.  (Above
 * fs/: it reaches auth/, which fs/ never does.)
 */
#ifndef JIRAFS_CLI_OPTIONS_H
#define JIRAFS_CLI_OPTIONS_H

#include <fuse_opt.h>
#include <sys/types.h>

#include "auth/auth.h"
#include "fs/fs.h"
#include "jira/client.h"
#include "jira/write.h"

/* Every option a mount takes. */
struct mount_options {
	struct fs_config fs;
	struct jira_config jira; /* .url set by mount_options_finish() */
	struct jira_write_config write;
	struct auth_config auth;
	uid_t uid;   /* uid=, gid=, umask= resolved */
	gid_t gid;
	mode_t umask;
};

/* The config file's options, then each module's (fs, jira, the writer's,
 * auth) taken out of args; what is left is libfuse's (and the caller's
 * fuse_parse_cmdline()'s).  0, or -1 with the reason printed. */
int mount_options_parse(struct fuse_args *args, struct mount_options *mo);

/* With the URL (taken: *url is moved into mo->jira.url): the URL's form,
 * cacert= made absolute (a daemon changes to /), uid=/gid=/umask=
 * resolved, default_permissions for a mount others may use, the mount's
 * source and type (-o fsname=URL, subtype=jirafs) unless given, and what
 * is left in args checked as libfuse checks it (a typo fails here, with
 * libfuse naming it).  0, or -1 with the reason printed. */
int mount_options_finish(struct fuse_args *args, struct mount_options *mo,
			 char **url);

/* What is left in args (after the parsers), checked as libfuse checks it:
 * 0, or -1 with libfuse's reason printed.  Part of
 * mount_options_finish(); alone for a command that mounts nothing. */
int mount_options_check_fuse(const struct fuse_args *args);

void mount_options_release(struct mount_options *mo);

#endif
