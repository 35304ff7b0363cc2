/*
 * tree.h - jirafs's memory model of the site: projects and their tickets.
 *
 * The tree caches what Jira said: the list of projects, and per project
 * every ticket (open and done) from one paged search.  A listing is fresh
 * for cache_ttl; an older one is refreshed on the next access, and when the
 * refresh fails the old listing keeps being served (an outage never makes
 * tickets vanish).  A ticket name that is not in a fresh listing is looked
 * up with one GET, and remembered as missing for a while when Jira says 404.
 *
 * Locking: the tree lock guards the project map and the project-list state;
 * each project's lock guards its tickets and listing state.  Order: tree
 * lock before a project lock, never the reverse.  No lock is held across a
 * network request: a refresher marks the listing `refreshing`, unlocks,
 * fetches, relocks and swaps; other threads wait on the condvar (bounded by
 * their deadline) or serve the old listing.
 *
 * A stale listing that is held is refreshed in the background (a thread
 * per refresh, with its own time budget) while readers are answered from
 * it; only a listing never fetched makes a reader wait, bounded by its
 * deadline.  tree_free() waits for the background refreshes (cancel the
 * client first to end them at once).
 *
 * Projects are never freed before tree_free(), so a struct project pointer
 * stays valid for the life of the mount.  Tickets are struct jira_issue
 * references (see jira/issue.h).  Functions return 0 or -errno.
 */
#ifndef JIRAFS_FS_TREE_H
#define JIRAFS_FS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "jira/client.h"
#include "util/clock.h"

struct tree;
struct project;

struct tree_config {
	int64_t cache_ttl_ms;
	int64_t timeout_ms;  /* -o timeout: budgets of background refreshes */
	char **only;   /* projects= filter, NULL for every browsable project */
	size_t nonly;
	/* A ticket the kernel may hold changed: another version (`moved`
	 * false), or another directory or gone (`moved`: its name changed
	 * too).  Called with tree locks held: it must only take note
	 * (lowlevel.c queues a cache invalidation). */
	void (*changed)(void *ctx, const char *key, bool moved);
	void *ctx;
};

struct tree *tree_new(struct jira_client *client,
		      const struct tree_config *cfg);
void tree_free(struct tree *t);

/* Call fn for every visible project key, in key order (under the tree
 * lock: fn must not block or call back into the tree). */
int tree_projects(struct tree *t, deadline_t d,
		  void (*fn)(void *ctx, const char *key), void *ctx);

/* The project with this key the account can browse (visible, or outside
 * projects=), or -ENOENT. */
int tree_project(struct tree *t, const char *key, deadline_t d,
		 struct project **out);

const char *project_key(const struct project *p);
/* A project the account can browse that projects= leaves out: reached by
 * a path (a search's link into it), never listed (its directories refuse
 * a listing), its tickets read one by one. */
bool project_outside(const struct project *p);

/* Call fn for every ticket of p that is done (closed) or not, fetching the
 * listing if it is stale and reading back the tickets written through
 * jirafs since.  `i` is NULL for a ticket known only by its key (just
 * created, not readable yet).  fn runs under the project lock and must not
 * block. */
int tree_tickets(struct tree *t, struct project *p, bool closed,
		 deadline_t d,
		 void (*fn)(void *ctx, const char *key, struct jira_issue *i),
		 void *ctx);

/*
 * tree_tickets() for a reader that takes the tickets in pieces, a
 * directory handle: while p's first listing is fetched, the tickets of the
 * pages read so far are given as they come (then 1: call again, with the
 * same cursor, for more; each such call waits for at least one more ticket
 * until d), and once it is installed what the pages did not give (then
 * 0, as for any other listing, which is given whole).  A cursor starts
 * zeroed and is let go with tree_cursor_release().
 */
struct tree_cursor {
	bool streaming;  /* a call returned 1 */
	unsigned gen;    /* the stream it reads */
	size_t at;       /* the stream's tickets it has seen */
	struct map *seen; /* keys given (a ticket on two pages is one) */
};
int tree_tickets_stream(struct tree *t, struct project *p, bool closed,
			deadline_t d, struct tree_cursor *cur,
			void (*fn)(void *ctx, const char *key,
				   struct jira_issue *i),
			void *ctx);
void tree_cursor_release(struct tree_cursor *cur);

/* Every ticket of p, open and done, after a refresh made now whatever the
 * listing's age (a delta when one is held; a scan import plans against
 * what Jira has, CONTRACT §10).  A refresh that fails leaves the listing
 * held, which is then used (-errno only when none is held).  fn as for
 * tree_tickets, told which directory the ticket is in. */
int tree_tickets_now(struct tree *t, struct project *p, deadline_t d,
		     void (*fn)(void *ctx, const char *key,
				struct jira_issue *i, bool done),
		     void *ctx);

/* The ticket `key` of p if it belongs in the open (closed=false) or
 * closed/ directory; *out holds a new reference.  -ENOENT when Jira has no
 * such ticket or it lives in the other directory.  A ticket written through
 * jirafs since it was read is read back first, unless `as_held` (an append
 * needs the ticket's place, not its text). */
int tree_ticket(struct tree *t, struct project *p, const char *key,
		bool closed, bool as_held, deadline_t d,
		struct jira_issue **out);

/*
 * Read-your-writes.  tree_written() says a write through jirafs changed
 * (or created) `key`, which now belongs in closed/ when `done`: the next
 * reader reads it back from Jira.  tree_put() installs a ticket just read
 * back (a transition's confirmation).  Neither makes a request.
 */
void tree_written(struct tree *t, const char *key, bool done);

/* A ticket read by another search (queries/): held for its project if that
 * project's listing is not, so that a lookup of it, within cache_ttl, needs
 * no request; the project's listing, when it is read, replaces it. */
void tree_offer(struct tree *t, struct jira_issue *is);
void tree_put(struct tree *t, struct jira_issue *issue);
/* A close or reopen of key waits in the outbox: show it where it is
 * going (closed/ when done) and do not read it back until tree_put() or
 * tree_written() says it got there (or not). */
void tree_pending(struct tree *t, const char *key, bool done);
/* Where the tree last saw key: 0 with *done, or -ENOENT.  No request. */
int tree_where(struct tree *t, const char *key, bool *done);

/* Times for the directories of p: the newest `updated` among its open
 * (closed=false) or done tickets; the mount time if none is known. */
struct timespec tree_project_mtime(struct tree *t, struct project *p,
				   bool closed);

struct tree_stats {
	size_t projects;     /* visible */
	size_t tickets;      /* held in memory, all projects */
	uint64_t listings;   /* successful project listings */
	uint64_t listing_failures;
};
void tree_stats(struct tree *t, struct tree_stats *out);

#endif
