/* Unit tests: fs/refresh.c - the single-flight cache state machine and
 * the background jobs. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include "fs/refresh.h"
#include "harness.h"

TEST(cache_first_refresh_then_fresh_then_stale)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct cache_state c;
	cache_init(&c);
	pthread_mutex_lock(&lock);
	deadline_t d = deadline_in(1000);
	CHECK_INT(cache_begin(&c, &lock, d, 60000), 1); /* nothing held */
	CHECK_INT(cache_end(&c, 0), 0);
	CHECK_INT(cache_begin(&c, &lock, d, 60000), 0); /* fresh */
	CHECK_INT(cache_begin(&c, &lock, d, 0), 1);     /* expired */
	/* someone refreshes and something is held: use it, do not wait */
	CHECK_INT(cache_begin(&c, &lock, d, 0), 0);
	CHECK_INT(cache_end(&c, 0), 0);
	pthread_mutex_unlock(&lock);
	cache_destroy(&c);
}

TEST(cache_failure_keeps_the_old_listing_and_pauses)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct cache_state c;
	cache_init(&c);
	pthread_mutex_lock(&lock);
	deadline_t d = deadline_in(1000);
	CHECK_INT(cache_begin(&c, &lock, d, 0), 1);
	CHECK_INT(cache_end(&c, 0), 0);
	CHECK_INT(cache_begin(&c, &lock, d, 0), 1);
	int64_t before = clock_mono_ms();
	CHECK_INT(cache_end(&c, -EIO), 0); /* the old listing is served */
	CHECK(c.fetched_at != 0);
	CHECK(c.retry_at - before >= RETRY_PAUSE_MS - 50);
	CHECK(c.retry_at - before <= RETRY_PAUSE_MS + 50);
	/* during the pause nobody refreshes, even when it is expired */
	CHECK_INT(cache_begin(&c, &lock, d, 0), 0);
	/* each further failure doubles the pause, up to the cap */
	c.retry_at = 0;
	CHECK_INT(cache_begin(&c, &lock, d, 0), 1);
	before = clock_mono_ms();
	CHECK_INT(cache_end(&c, -EIO), 0);
	CHECK(c.retry_at - before >= 2 * RETRY_PAUSE_MS - 50);
	for (int i = 0; i < 10; i++) {
		c.retry_at = 0;
		CHECK_INT(cache_begin(&c, &lock, d, 0), 1);
		cache_end(&c, -EIO);
	}
	CHECK(c.retry_at - clock_mono_ms() <= RETRY_PAUSE_MAX_MS);
	CHECK(c.retry_at - clock_mono_ms() >= RETRY_PAUSE_MAX_MS - 100);
	/* a success ends the pause and the count */
	c.retry_at = 0;
	CHECK_INT(cache_begin(&c, &lock, d, 0), 1);
	CHECK_INT(cache_end(&c, 0), 0);
	CHECK_INT(c.failures, 0);
	pthread_mutex_unlock(&lock);
	cache_destroy(&c);
}

TEST(cache_failure_with_nothing_held_is_the_error)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct cache_state c;
	cache_init(&c);
	pthread_mutex_lock(&lock);
	deadline_t d = deadline_in(1000);
	CHECK_INT(cache_begin(&c, &lock, d, 60000), 1);
	CHECK_INT(cache_end(&c, -ETIMEDOUT), -ETIMEDOUT);
	/* nothing to serve: the next caller tries again at once */
	CHECK_INT(cache_begin(&c, &lock, d, 60000), 1);
	CHECK_INT(cache_end(&c, -EACCES), -EACCES);
	pthread_mutex_unlock(&lock);
	cache_destroy(&c);
}

struct waiter {
	pthread_mutex_t *lock;
	struct cache_state *c;
	int64_t wait_ms;
	atomic_int started;
	int result;
};

static void *wait_first(void *arg)
{
	struct waiter *w = arg;
	pthread_mutex_lock(w->lock);
	atomic_store(&w->started, 1);
	w->result = cache_begin(w->c, w->lock, deadline_in(w->wait_ms), 0);
	pthread_mutex_unlock(w->lock);
	return NULL;
}

/* A cache with nothing held, and this thread its refresher: 1. */
static int first_refresh(struct cache_state *c, pthread_mutex_t *lock)
{
	cache_init(c);
	pthread_mutex_lock(lock);
	int r = cache_begin(c, lock, deadline_in(1000), 0);
	pthread_mutex_unlock(lock);
	return r;
}

TEST(cache_single_flight_waiters_take_the_refreshers_result)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct cache_state c;
	CHECK_INT(first_refresh(&c, &lock), 1);

	struct waiter w = { &lock, &c, 5000, 0, 99 };
	pthread_t th;
	CHECK_INT(pthread_create(&th, NULL, wait_first, &w), 0);
	while (!atomic_load(&w.started))
		usleep(1000);
	/* it set started holding the lock: the lock comes free only once it
	 * waits in cache_begin */
	pthread_mutex_lock(&lock);
	CHECK(c.refreshing);
	CHECK_INT(cache_end(&c, -EIO), -EIO);
	pthread_mutex_unlock(&lock);
	pthread_join(th, NULL);
	/* it took the refresher's result instead of refreshing again */
	CHECK_INT(w.result, -EIO);
	CHECK(!c.refreshing);
	cache_destroy(&c);
}

TEST(cache_wait_for_a_first_listing_is_bounded)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct cache_state c;
	CHECK_INT(first_refresh(&c, &lock), 1);
	struct waiter w = { &lock, &c, 50, 0, 99 };
	pthread_t th;
	int64_t t0 = clock_mono_ms();
	CHECK_INT(pthread_create(&th, NULL, wait_first, &w), 0);
	pthread_join(th, NULL);
	CHECK_INT(w.result, -ETIMEDOUT);
	CHECK(clock_mono_ms() - t0 < 2000);
	pthread_mutex_lock(&lock);
	cache_end(&c, 0);
	/* the refresh under way ended: waiting for it returns at once */
	t0 = clock_mono_ms();
	cache_wait_refresh(&c, &lock, deadline_in(2000));
	CHECK(clock_mono_ms() - t0 < 500);
	pthread_mutex_unlock(&lock);
	cache_destroy(&c);
}

static atomic_int jobs_done;

static void job(void *arg)
{
	usleep(10000);
	atomic_fetch_add(&jobs_done, *(int *)arg);
}

TEST(bg_close_waits_for_every_job)
{
	struct bg_pool b;
	static int one = 1;
	bg_init(&b);
	atomic_store(&jobs_done, 0);
	int started = 0;
	for (int i = 0; i < 8; i++)
		started += bg_start_job(&b, job, &one);
	CHECK_INT(started, 8);
	bg_close(&b);
	CHECK_INT(atomic_load(&jobs_done), 8);
}
