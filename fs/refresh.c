/* refresh.c - single-flight cache state and background jobs; see
 * refresh.h. */
#include "fs/refresh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct backoff retry_pause = { RETRY_PAUSE_MS,
					    RETRY_PAUSE_MAX_MS, 0 };

void cache_init(struct cache_state *c)
{
	memset(c, 0, sizeof(*c));
	cond_init_monotonic(&c->done);
}

void cache_destroy(struct cache_state *c)
{
	pthread_cond_destroy(&c->done);
}

int cache_begin(struct cache_state *c, pthread_mutex_t *lock, deadline_t d,
		int64_t fresh_ms)
{
	uint64_t gen = c->generation;
	for (;;) {
		int64_t now = clock_mono_ms();
		if (c->fetched_at && now - c->fetched_at < fresh_ms)
			return 0;
		if (c->fetched_at && now < c->retry_at)
			return 0; /* serve the old listing during an outage */
		if (c->generation != gen) /* we waited for a refresh: take it */
			return c->fetched_at ? 0 : c->last_error;
		if (!c->refreshing)
			break;
		if (c->fetched_at)
			return 0; /* someone refreshes: use what is held */
		struct timespec ts = deadline_timespec(d);
		if (pthread_cond_timedwait(&c->done, lock, &ts) == ETIMEDOUT &&
		    c->generation == gen)
			return c->fetched_at ? 0 : -ETIMEDOUT;
	}
	c->refreshing = true;
	return 1;
}

int cache_end(struct cache_state *c, int err)
{
	int64_t now = clock_mono_ms();
	c->refreshing = false;
	c->generation++;
	pthread_cond_broadcast(&c->done);
	if (!err) {
		c->fetched_at = now;
		c->last_error = 0;
		c->failures = 0;
	} else {
		c->retry_at = now + backoff_ms(&retry_pause, c->failures);
		c->failures++;
		c->last_error = c->fetched_at ? 0 : err;
	}
	return c->last_error;
}

void cache_wait_refresh(struct cache_state *c, pthread_mutex_t *lock,
			deadline_t until)
{
	uint64_t gen = c->generation;
	struct timespec ts = deadline_timespec(until);
	while (c->refreshing && c->generation == gen &&
	       pthread_cond_timedwait(&c->done, lock, &ts) != ETIMEDOUT)
		;
}

void bg_init(struct bg_pool *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->done, NULL);
}

struct bg_job {
	struct bg_pool *pool;
	void (*fn)(void *arg);
	void *arg;
};

static void *bg_run(void *arg)
{
	struct bg_job *job = arg;
	struct bg_pool *b = job->pool;
	job->fn(job->arg);
	free(job);
	pthread_mutex_lock(&b->lock);
	b->running--;
	pthread_cond_broadcast(&b->done);
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

bool bg_start_job(struct bg_pool *b, void (*fn)(void *arg), void *arg)
{
	struct bg_job *job = malloc(sizeof(*job));
	if (!job)
		return false;
	*job = (struct bg_job){ b, fn, arg };
	pthread_mutex_lock(&b->lock);
	bool ok = !b->closing;
	if (ok)
		b->running++;
	pthread_mutex_unlock(&b->lock);
	pthread_t tid;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (ok && pthread_create(&tid, &attr, bg_run, job) != 0) {
		pthread_mutex_lock(&b->lock);
		b->running--;
		pthread_cond_broadcast(&b->done);
		pthread_mutex_unlock(&b->lock);
		ok = false;
	}
	pthread_attr_destroy(&attr);
	if (!ok)
		free(job);
	return ok;
}

void bg_close(struct bg_pool *b)
{
	pthread_mutex_lock(&b->lock);
	b->closing = true;
	while (b->running)
		pthread_cond_wait(&b->done, &b->lock);
	pthread_mutex_unlock(&b->lock);
	pthread_cond_destroy(&b->done);
	pthread_mutex_destroy(&b->lock);
}
