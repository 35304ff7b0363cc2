/*
 * tree_priv.h - the tree's insides, shared by its three files, which call
 * one way: tree.c (the interface of fs/tree.h: when to refresh, what to
 * answer) -> fetch.c (what is read from Jira) -> model.c (the data, and
 * installing what was read).  Private to those files.
 * Lock order: the tree lock before a project's lock.
 */
#ifndef JIRAFS_FS_TREE_PRIV_H
#define JIRAFS_FS_TREE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fs/refresh.h"
#include "fs/tree.h"
#include "jira/client.h"
#include "jira/issue.h"
#include "util/clock.h"
#include "util/map.h"

/* A lookup trusts a listing at least this long, even with cache_ttl=0, so
 * that `ls -l` does not refetch the project once per file. */
#define LOOKUP_MIN_FRESH_MS 1000
/* A name that is not a known project makes the project list be fetched
 * again (it may be new), but not more often than this. */
#define UNKNOWN_PROJECT_FRESH_MS 5000
/* An incremental refresh asks for what changed since the last sync plus
 * this margin (Jira counts relative dates in minutes). */
#define DELTA_MARGIN_MIN 2
/* Past this, a refresh lists the whole project again. */
#define DELTA_MAX_MIN (24 * 60)
/* How long a caller waits for a background refresh of what it holds. */
#define GRACE_MS 1000
/* A background refresh may take this many times -o timeout. */
#define BG_BUDGET_FACTOR 4

/* A ticket as the tree knows it. */
struct tentry {
	struct jira_issue *issue; /* a reference; NULL for a ticket known only
				     by its key (created through jirafs) */
	int64_t stale_since;      /* mono ms of a write through jirafs not yet
				     read back; 0 when current */
	bool done;                /* listed in closed/ (issue->done unless a
				     write says otherwise) */
	bool pending;             /* a close/reopen waits in the outbox: done
				     says where it is going; not read back */
	int64_t offered_at;       /* mono ms it came from a search of
				     queries/ while the project's listing was
				     not held (tree_offer); 0 otherwise */
};

struct project {
	char *key;
	struct tree *tree;
	pthread_mutex_t lock;
	/* guarded by lock: */
	struct cache_state cache; /* of the listing */
	struct map *tickets;     /* key -> struct tentry */
	size_t nstale;           /* entries with stale_since set */
	bool stale_refreshing;   /* a reader reads them back */
	struct map *missing;     /* key -> mono ms until which it is absent */
	struct timespec mtime_open, mtime_closed;
	int64_t synced_at;       /* mono ms when the search behind the
				    listing held started; 0 = none */
	/* a first listing shown while it is fetched: its pages' tickets
	 * (references) as they come, for tree_tickets_stream(); each page
	 * broadcasts cache.done */
	bool streaming;
	unsigned stream_gen;     /* streams ended */
	struct jira_issue **stream;
	size_t nstream, stream_cap;
	/* set once, at creation: the account can browse it, but projects=
	 * leaves it out: not listed at the top nor whole, only its tickets
	 * reached by a path (a search's link) are read, one by one */
	bool outside;
	/* guarded by the tree lock: */
	bool visible;
};

struct tree {
	struct jira_client *client;
	void (*changed)(void *ctx, const char *key, bool moved);
	void *changed_ctx;
	int64_t ttl_ms;
	char **only;
	size_t nonly;
	struct timespec mounted;

	pthread_mutex_t lock;
	/* guarded by lock: */
	struct cache_state cache; /* of the project list */
	struct map *projects;    /* key -> struct project * */
	char **order;            /* visible keys, sorted */
	size_t norder;
	/* atomic, no lock: */
	_Atomic uint64_t listings, listing_failures;

	int64_t bg_budget_ms;    /* time a background refresh may take */
	struct bg_pool bg;       /* the background refreshes */
};

/* ---- model.c ---- */

struct project *tree_project_new(struct tree *t, const char *key);
void tree_project_free(struct project *p);
/* The visible keys, sorted (t->order); with the tree lock held. */
void tree_free_order(struct tree *t);
/* Is key one of projects= (or is every project wanted)? */
bool tree_wanted(const struct tree *t, const char *key);
struct tentry *tree_entry_new(struct jira_issue *issue, bool done);
void tree_entry_free(struct tentry *e);

/* With the tree lock held: install the project list.  0 or -errno. */
int tree_install_projects(struct tree *t, struct jira_project *list,
			  size_t n);
/* With p->lock held: install a whole listing searched from `started` (mono
 * ms; the issues are taken over). */
int tree_install_listing(struct project *p, struct jira_issue **issues,
			 size_t n, int64_t started);
/* With p->lock held: one ticket read at `fetched` (taken over) into m. */
int tree_put_issue(struct project *p, struct map *m, struct jira_issue *is,
		   int64_t fetched);
void tree_drop_entry(struct project *p, const char *key);
void tree_update_mtimes(struct project *p);
/* Tell the mount that key changed (moved: its directory too). */
void tree_changed(struct project *p, const char *key, bool moved);

/* ---- fetch.c: called without locks ---- */

/* Fetch and install the project list; the caller marked the cache as
 * refreshing.  Returns what cache_end returned. */
int fetch_projects(struct tree *t, deadline_t d);
/* Fetch p's listing (a delta when one will do) and install it; the caller
 * marked the cache as refreshing.  Returns what cache_end returned. */
int fetch_listing(struct tree *t, struct project *p, deadline_t d);
/* Read back the tickets written through jirafs since the listing. */
void fetch_stale(struct tree *t, struct project *p, deadline_t d);

#endif
