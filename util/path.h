/*
 * path.h - small helpers for local file paths.
 */
#ifndef JIRAFS_UTIL_PATH_H
#define JIRAFS_UTIL_PATH_H

#include <stddef.h>

/* A malloc'd copy of path with a leading "~/" replaced by $HOME (or the
 * passwd entry's home directory).  NULL only when out of memory. */
char *path_expand_home(const char *path);

/* path_expand_home(), then made absolute against the current directory
 * (the daemon changes to / when it detaches).  NULL only when out of
 * memory. */
char *path_absolute(const char *path);

/* Replace path with data durably: write a temporary file beside it with
 * `mode`, fsync it, rename it into place, fsync the directory.  0 or
 * -errno (nothing is left half-written). */
int path_write_atomic(const char *path, const void *data, size_t len,
		      unsigned mode);

/* Append data to path (created with `mode` if missing) and fsync it.  0
 * or -errno. */
int path_append_sync(const char *path, const void *data, size_t len,
		     unsigned mode);

/* mkdir -p with the given mode for every directory it creates.  0 or
 * -errno. */
int path_mkdirs(const char *path, unsigned mode);

#endif
