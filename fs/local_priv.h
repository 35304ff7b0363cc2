/*
 * local_priv.h - what local.c (files and names) and alias.c (the alias
 * journal) share.  Private to those two files.
 */
#ifndef JIRAFS_FS_LOCAL_PRIV_H
#define JIRAFS_FS_LOCAL_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "fs/local.h"
#include "util/map.h"
#include "util/strbuf.h"

#define ALIAS_JOURNAL "aliases"

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

	char *journal;       /* path of the alias journal, or NULL */
	pthread_mutex_t journal_lock; /* guards writes to it */
};

/* ---- local.c, with the local lock held where a node or directory is
 * touched ---- */
void local_now(struct timespec *ts);
struct local_node *local_node_new(enum local_kind kind, mode_t mode);
void local_node_free(struct local *l, struct local_node *n);
/* n is now dir/name. */
void local_place(struct local_node *n, const char *dir, const char *name);
/* dir/name is (no longer) a removed alias of key. */
void local_hide(struct local *l, const char *dir, const char *name,
		const char *key);
void local_unhide(struct local *l, const char *dir, const char *name);
/* n lost its name: drop the directory's reference. */
void local_unlink_node(struct local *l, struct local_node *n);
/* The directory dir ("SEC[/closed]"), made if create.  NULL if none. */
struct map *local_dir_of(struct local *l, const char *dir, bool create);

/* dir/name is now an alias of key (replacing what was there). */
int local_alias_put(struct local *l, const char *dir, const char *name,
		    const char *key);

/* ---- alias.c ---- */
/* Record an alias change: op "+" (dir/name -> key), "-" (gone), "~"
 * (removed, key remembered).  Durable before it returns; without the
 * local lock. */
void alias_journal(struct local *l, const char *op, const char *dir,
		   const char *name, const char *key);
/* Replay the journal into l (at creation): the number of lines read. */
size_t alias_journal_load(struct local *l);
/* Rewrite the journal with only what is live. */
void alias_journal_compact(struct local *l);

#endif
