/*
 * path.h - small helpers for local file paths.
 */
#ifndef JIRAFS_UTIL_PATH_H
#define JIRAFS_UTIL_PATH_H

/* A malloc'd copy of path with a leading "~/" replaced by $HOME (or the
 * passwd entry's home directory).  NULL only when out of memory. */
char *path_expand_home(const char *path);

/* path_expand_home(), then made absolute against the current directory
 * (the daemon changes to / when it detaches).  NULL only when out of
 * memory. */
char *path_absolute(const char *path);

/* mkdir -p with the given mode for every directory it creates.  0 or
 * -errno. */
int path_mkdirs(const char *path, unsigned mode);

#endif
