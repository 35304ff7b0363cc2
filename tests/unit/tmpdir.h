/*
 * tmpdir.h - scratch directories and small files for the unit tests.
 *
 * tmpdir_new() makes a fresh directory under $TMPDIR (or /tmp) with
 * mkdtemp and returns its malloc'd path (NULL on failure);
 * tmpdir_remove() deletes it with everything in it and frees the path.
 */
#ifndef JIRAFS_TESTS_TMPDIR_H
#define JIRAFS_TESTS_TMPDIR_H

#include <stdbool.h>
#include <stddef.h>

char *tmpdir_new(const char *tag);
void tmpdir_remove(char *dir);

/* dir/name, malloc'd. */
char *tmpdir_path(const char *dir, const char *name);
/* Write exactly len bytes to dir/name (created or truncated).  0 or -1. */
int tmpdir_write(const char *dir, const char *name, const void *data,
		 size_t len);
/* The whole of dir/name, malloc'd and NUL-terminated, or NULL. */
char *tmpdir_read(const char *dir, const char *name, size_t *len);
bool tmpdir_exists(const char *dir, const char *name);
/* How many entries dir has, "." and ".." aside (-1: unreadable). */
int tmpdir_count(const char *dir);

#endif
