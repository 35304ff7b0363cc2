/*
 * clock.h - monotonic time and deadlines.
 *
 * A deadline is an absolute CLOCK_MONOTONIC time in milliseconds.  Every
 * network wait in jirafs is bounded by one: a FUSE operation computes
 * deadline_in(timeout) once and passes it down.
 */
#ifndef JIRAFS_UTIL_CLOCK_H
#define JIRAFS_UTIL_CLOCK_H

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

/* Sleep until min(now + ms, d). */
void clock_sleep_ms(int64_t ms, deadline_t d);

#endif
