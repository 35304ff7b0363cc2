/*
 * queries_priv.h - the insides of fs/queries.h, shared by queries.c (the
 * texts, the results) and query_filters.c (the read-only queries: the
 * favourite filters and query.NAME= options).  Private to those files.
 */
#ifndef JIRAFS_FS_QUERIES_PRIV_H
#define JIRAFS_FS_QUERIES_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fs/queries.h"
#include "fs/refresh.h"
#include "jira/issue.h"
#include "util/map.h"

/* The results of one query, as last read. */
struct result {
	struct jira_issue **v; /* references, in the JQL's order */
	size_t n;
	struct map *index;     /* entry name ("SEC-12.json") -> its ticket */
	struct cache_state cache;
	uint64_t gen; /* its text's version: a read of an older one is
			 dropped */
};

#define FAVS_DIR ".filters"

struct queries {
	int dirfd; /* STATE_DIR/queries, -1 when it could not be made */
	struct jira_client *client;
	struct tree *tree;
	int64_t ttl_ms, bg_budget_ms;
	pthread_mutex_t lock; /* guards: */
	struct map *results;  /* query name -> struct result */
	struct map *errors;   /* file name -> why Jira refused it */
	/* the account's favourite filters, read-only NAME.jql files of
	 * STATE_DIR/queries/.filters/, written as they are read */
	int favfd;
	struct map *favs;     /* file name -> (void *)1 */
	struct map *fixed;    /* the same for query.NAME= of the options */
	int64_t favs_at;      /* mono ms of the last reading, 0 = none */
	bool favs_reading;
	struct bg_pool bg;
	_Atomic uint64_t searches;
};

/* ---- query_filters.c ---- */

/* The text of a read-only query into FAVS_DIR: 0 or -1. */
int filters_put(struct queries *q, const char *file, const char *jql);
/* Read the favourites again when due (cache_ttl); called without the
 * lock. */
void filters_read(struct queries *q, deadline_t d);
/* Is file name a read-only query's (and no text of the user's by that
 * name)?  Called without the lock. */
bool filters_has(struct queries *q, const char *name);

#endif
