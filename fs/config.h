/*
 * config.h - options from a file (CONTRACT §7).
 *
 * A mount reads $XDG_CONFIG_HOME/jirafs/config (~/.config/jirafs/config)
 * when it exists, or the file -o config=FILE names (which must).  One
 * option a line, written as it would be given to -o: "cache_ttl=60",
 * "projects=SEC,OPS", "insecure".  Blank lines and lines starting with '#'
 * are skipped; spaces around a line are not part of it.  The file's
 * options go before the command line's, and the last of an option wins, so
 * -o overrides the file.
 *
 * The file can name programs jirafs runs (ssh_command=) and where secrets
 * are read from, so like ~/.ssh/config it is refused when someone else may
 * write it: it must belong to the user (or root) and not be writable by
 * group or others.
 */
#ifndef JIRAFS_FS_CONFIG_H
#define JIRAFS_FS_CONFIG_H

#include <fuse_opt.h>
#include <stddef.h>

#define CONFIG_MAX_BYTES (64 * 1024)

/* Insert the file's options into args (after argv[0]).  0 (also when the
 * default file does not exist), or -1 with a one-line reason in errbuf.
 * args must be made by FUSE_ARGS_INIT: the file's options are inserted
 * by libfuse, which reallocates the array (a hand-made one aborts it). */
int config_apply(struct fuse_args *args, char *errbuf, size_t errsize);

/* The file config_apply reads for these args (malloc'd), and whether it
 * was named by -o config= (*explicit).  NULL when there is none to read
 * (no home directory) or out of memory. */
char *config_path(const struct fuse_args *args, int *explicit);

#endif
