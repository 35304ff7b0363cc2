/*
 * local_priv.h - the insides of fs/local.h, shared by local.c (names,
 * directories, aliases) and local_data.c (what one file holds).  Private
 * to those two, which do not call each other.
 */
#ifndef JIRAFS_FS_LOCAL_PRIV_H
#define JIRAFS_FS_LOCAL_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "fs/alias.h"
#include "fs/local.h"
#include "util/map.h"
#include "util/strbuf.h"

struct local_node {
	atomic_int refs;
	/* guarded by the local lock: */
	enum local_kind kind;
	struct strbuf data;
	mode_t mode;
	struct timespec atime, mtime, ctime;
	char *error;   /* user.jira.error */
	char *key;     /* an alias's target */
	bool linked;   /* reachable by a name */
	char *dir, *name; /* where it is, while linked */
	bool busy;     /* a commit of it is under way (see commit_cv) */
	off_t append_from; /* an overlay of a refused append: where the
			      appended bytes start; -1 otherwise */
};

struct local {
	pthread_mutex_t lock;
	/* guarded by lock: */
	struct map *dirs;    /* "SEC", "SEC/closed" -> struct map (name -> node) */
	struct map *errors;  /* ticket key -> malloc'd message */
	struct map *hidden;  /* "dir/name" -> key of a removed alias */
	size_t total;        /* bytes held by all nodes */
	pthread_cond_t commit_cv; /* a node stopped being busy */

	struct alias_journal *journal; /* or NULL: aliases last this mount */
};

static inline void local_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

#endif
