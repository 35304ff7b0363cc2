/*
 * clock.h - monotonic time and deadlines.
 *
 * A deadline is an absolute CLOCK_MONOTONIC time in milliseconds.  Every
 * network wait in jirafs is bounded by one: a FUSE operation computes
 * deadline_in(timeout) once and passes it down.
 */
#ifndef JIRAFS_UTIL_CLOCK_H
#define JIRAFS_UTIL_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

typedef int64_t deadline_t;

int64_t clock_mono_ms(void);
int64_t clock_wall_ms(void);

static inline deadline_t deadline_in(int64_t ms)
{
	return clock_mono_ms() + ms;
}

/* Milliseconds left until d, never negative. */
static inline int64_t deadline_left(deadline_t d)
{
	int64_t left = d - clock_mono_ms();
	return left > 0 ? left : 0;
}

/* The deadline as an absolute CLOCK_MONOTONIC timespec, for
 * pthread_cond_timedwait on a condvar set to CLOCK_MONOTONIC. */
struct timespec deadline_timespec(deadline_t d);

/* Initialise c to wait on CLOCK_MONOTONIC, so that deadline_timespec()
 * bounds pthread_cond_timedwait.  0 or an errno. */
int cond_init_monotonic(pthread_cond_t *c);

/*
 * Capped exponential backoff: the wait before retry number `attempt`
 * (0 = the first retry) is base_ms * 2^attempt, at most cap_ms, less a
 * random part of up to jitter_pct percent of it ("equal jitter": clients
 * that failed together do not come back together, and no wait is longer
 * than the unjittered one).
 */
struct backoff {
	int64_t base_ms;
	int64_t cap_ms;
	unsigned jitter_pct; /* 0..100 */
};
int64_t backoff_ms(const struct backoff *b, unsigned attempt);

#endif
