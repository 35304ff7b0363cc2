/*
 * map.h - a string-keyed hash map of pointers.
 *
 * Keys are copied into the map; values are borrowed (the map never frees
 * them).  Iteration order is unspecified.  Not thread-safe: the owner's lock
 * guards it.
 */
#ifndef JIRAFS_UTIL_MAP_H
#define JIRAFS_UTIL_MAP_H

#include <stddef.h>

struct map;

struct map *map_new(void);
/* Frees the map and its key copies, not the values. */
void map_free(struct map *m);
size_t map_count(const struct map *m);
void *map_get(const struct map *m, const char *key);
/* Insert or replace.  Returns 0, or -ENOMEM (map unchanged).  If old is not
 * NULL it receives the replaced value (or NULL). */
int map_put(struct map *m, const char *key, void *value, void **old);
/* Remove key; returns its value or NULL. */
void *map_del(struct map *m, const char *key);

/* Iteration: for (struct map_iter it = map_iter_start(m);
 *                  map_iter_next(&it);) use it.key, it.value;
 * The map must not change during an iteration. */
struct map_iter {
	const struct map *m;
	size_t bucket;
	void *entry;
	const char *key;
	void *value;
};
struct map_iter map_iter_start(const struct map *m);
int map_iter_next(struct map_iter *it);

#endif
