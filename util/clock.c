/* clock.c - see clock.h */
#include "util/clock.h"

#include <errno.h>
#include <stdlib.h>

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

int cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t ca;
	int ret = pthread_condattr_init(&ca);
	if (ret)
		return ret;
	ret = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
	return ret;
}

int64_t backoff_ms(const struct backoff *b, unsigned attempt)
{
	static __thread unsigned seed;
	int64_t ms = b->base_ms > 0 ? b->base_ms : 1;
	for (unsigned i = 0; i < attempt && ms < b->cap_ms; i++)
		ms *= 2;
	if (ms > b->cap_ms)
		ms = b->cap_ms;
	if (!b->jitter_pct || ms <= 1)
		return ms;
	if (!seed)
		seed = (unsigned)clock_mono_ms() ^ (unsigned)(uintptr_t)&seed;
	int64_t span = ms * (b->jitter_pct > 100 ? 100 : b->jitter_pct) / 100;
	return ms - rand_r(&seed) % (span + 1);
}
