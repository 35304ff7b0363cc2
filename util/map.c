/* map.c - see map.h; chained buckets, power-of-two table, FNV-1a. */
#include "util/map.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	uint64_t hash;
	void *value;
	char key[];
};

struct map {
	struct entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct map *map_new(void)
{
	struct map *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->nbuckets = 16;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	return m;
}

void map_free(struct map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i];
		while (e) {
			struct entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(m->buckets);
	free(m);
}

size_t map_count(const struct map *m)
{
	return m->count;
}

static struct entry **find(const struct map *m, const char *key, uint64_t h)
{
	struct entry **pp = &m->buckets[h & (m->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
			break;
	return pp;
}

void *map_get(const struct map *m, const char *key)
{
	struct entry **pp = find(m, key, hash_str(key));
	return *pp ? (*pp)->value : NULL;
}

static void grow(struct map *m)
{
	size_t n = m->nbuckets * 2;
	struct entry **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* keep working with longer chains */
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i];
		while (e) {
			struct entry *next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

int map_put(struct map *m, const char *key, void *value, void **old)
{
	uint64_t h = hash_str(key);
	struct entry **pp = find(m, key, h);
	if (*pp) {
		if (old)
			*old = (*pp)->value;
		(*pp)->value = value;
		return 0;
	}
	size_t klen = strlen(key);
	struct entry *e = malloc(sizeof(*e) + klen + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, key, klen + 1);
	e->hash = h;
	e->value = value;
	e->next = NULL;
	*pp = e;
	m->count++;
	if (old)
		*old = NULL;
	if (m->count > m->nbuckets)
		grow(m);
	return 0;
}

void *map_del(struct map *m, const char *key)
{
	struct entry **pp = find(m, key, hash_str(key));
	struct entry *e = *pp;
	if (!e)
		return NULL;
	void *v = e->value;
	*pp = e->next;
	free(e);
	m->count--;
	return v;
}

struct map_iter map_iter_start(const struct map *m)
{
	struct map_iter it = { .m = m };
	return it;
}

int map_iter_next(struct map_iter *it)
{
	struct entry *e = it->entry;
	if (e)
		e = e->next;
	while (!e && it->bucket < it->m->nbuckets)
		e = it->m->buckets[it->bucket++];
	it->entry = e;
	if (!e)
		return 0;
	it->key = e->key;
	it->value = e->value;
	return 1;
}
