/* clock.c - see clock.h */
#include "util/clock.h"

#include <errno.h>

int64_t clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec deadline_timespec(deadline_t d)
{
	struct timespec ts = { .tv_sec = d / 1000,
			       .tv_nsec = (long)(d % 1000) * 1000000 };
	return ts;
}

void clock_sleep_ms(int64_t ms, deadline_t d)
{
	int64_t left = deadline_left(d);
	if (ms > left)
		ms = left;
	if (ms <= 0)
		return;
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
