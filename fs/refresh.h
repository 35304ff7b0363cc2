/*
 * refresh.h - a cached listing that one thread at a time refreshes, and
 * the background threads that refresh listings while readers are answered
 * from what is held.
 *
 * A struct cache_state is guarded by its owner's lock, passed in.
 * cache_begin() says whether the caller may use what is held or must
 * refresh; the refresher fetches without the lock and reports with
 * cache_end(); threads that waited take that result.  After a failed
 * refresh the old listing is served without retrying for a pause that
 * doubles with each further failure (capped); a failure never drops what
 * is held.  Memory and condition variables only: unit-tested.
 */
#ifndef JIRAFS_FS_REFRESH_H
#define JIRAFS_FS_REFRESH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/clock.h"

/* After a failed refresh, the old listing is served without retrying for
 * this long, doubled after each further failure up to the maximum. */
#define RETRY_PAUSE_MS 2000
#define RETRY_PAUSE_MAX_MS 60000

struct cache_state {
	pthread_cond_t done;   /* a refresh ended (CLOCK_MONOTONIC) */
	int64_t fetched_at;    /* mono ms of the listing held, 0 = none */
	int64_t retry_at;      /* after a failure, no refresh before this */
	bool refreshing;
	uint64_t generation;   /* refreshes finished, failed or not */
	int last_error;        /* -errno for waiters when nothing is held */
	unsigned failures;     /* consecutive failed refreshes */
};

void cache_init(struct cache_state *c);
void cache_destroy(struct cache_state *c);

/* With lock held: 1 when the caller must refresh now (it is marked as the
 * refresher and must call cache_end), 0 when what is held may be used
 * (fresher than fresh_ms, or in a pause after a failure, or being
 * refreshed by another thread), -errno when nothing can be used (a wait
 * for the first listing passed d: -ETIMEDOUT; it failed: its error). */
int cache_begin(struct cache_state *c, pthread_mutex_t *lock, deadline_t d,
		int64_t fresh_ms);

/* With lock held again: the refresh ended with err (0 or -errno).  Returns
 * what the refresher's caller gets: 0 when something can be used. */
int cache_end(struct cache_state *c, int err);

/* With lock held: wait until the refresh under way ends, or until. */
void cache_wait_refresh(struct cache_state *c, pthread_mutex_t *lock,
			deadline_t until);

/* Background refreshes: detached threads, counted so that they can be
 * waited for. */
struct bg_pool {
	pthread_mutex_t lock; /* a leaf lock, guards: */
	pthread_cond_t done;  /* a background job ended */
	unsigned running;
	bool closing;         /* no new jobs */
};

void bg_init(struct bg_pool *b);
/* Run fn(arg) on a thread of its own.  False when closing or no thread
 * can be had: the caller then does the work itself (and owns arg). */
bool bg_start_job(struct bg_pool *b, void (*fn)(void *arg), void *arg);
/* No new jobs; wait for the running ones to end. */
void bg_close(struct bg_pool *b);

#endif
