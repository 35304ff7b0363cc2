/* tree.c - see tree.h */
#include "fs/tree.h"
#include "fs/tree_priv.h"

#include <errno.h>
#include <stddef.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/errmap.h"
#include "fs/refresh.h"
#include "util/log.h"
#include "util/map.h"

struct tree *tree_new(struct jira_client *client,
		      const struct tree_config *cfg)
{
	struct tree *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->client = client;
	t->changed = cfg->changed;
	t->changed_ctx = cfg->ctx;
	t->ttl_ms = cfg->cache_ttl_ms;
	t->projects = map_new();
	if (!t->projects) {
		free(t);
		return NULL;
	}
	if (cfg->nonly) {
		t->only = calloc(cfg->nonly, sizeof(*t->only));
		for (size_t i = 0; t->only && i < cfg->nonly; i++)
			t->only[t->nonly++] = strdup(cfg->only[i]);
	}
	clock_gettime(CLOCK_REALTIME, &t->mounted);
	pthread_mutex_init(&t->lock, NULL);
	cache_init(&t->cache);
	t->bg_budget_ms = cfg->timeout_ms * BG_BUDGET_FACTOR;
	bg_init(&t->bg);
	return t;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	/* no new background refreshes; the running ones end with their
	 * transfers, which the caller cancelled first (fs_mount_stop) */
	bg_close(&t->bg);
	struct map_iter it = map_iter_start(t->projects);
	while (map_iter_next(&it))
		tree_project_free(it.value);
	map_free(t->projects);
	tree_free_order(t);
	for (size_t i = 0; i < t->nonly; i++)
		free(t->only[i]);
	free(t->only);
	cache_destroy(&t->cache);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

const char *project_key(const struct project *p)
{
	return p->key;
}

bool project_outside(const struct project *p)
{
	return p->outside;
}

/*
 * Background refreshes.  A stale listing that is held is refreshed by a
 * thread of its own, with its own time budget, while callers answer from
 * what is held: an `ls` never waits on a slow or hung Jira for a listing
 * it already has.  A healthy Jira gets GRACE_MS to make the answer fresh.
 */
struct bg_job {
	struct tree *t;
	struct project *p; /* NULL: the project list */
};

static void bg_refresh(void *arg)
{
	struct bg_job *job = arg;
	struct tree *t = job->t;
	deadline_t d = deadline_in(t->bg_budget_ms);
	if (job->p)
		fetch_listing(t, job->p, d);
	else
		fetch_projects(t, d);
	free(job);
}

/* Start refreshing p (or the project list) in the background; the cache is
 * already marked refreshing.  False when no thread can be had: the caller
 * then refreshes itself. */
static bool bg_start(struct tree *t, struct project *p)
{
	struct bg_job *job = malloc(sizeof(*job));
	if (!job)
		return false;
	job->t = t;
	job->p = p;
	if (bg_start_job(&t->bg, bg_refresh, job))
		return true;
	free(job);
	return false;
}

/* After starting a background refresh: wait a little for it when Jira has
 * been answering, so that a healthy Jira's answer is fresh.  Called with
 * the cache's lock held. */
static void grace_wait(struct tree *t, struct cache_state *c,
		       pthread_mutex_t *lock, deadline_t d)
{
	struct http_counters hc;
	jira_client_counters(t->client, &hc);
	if (hc.last_failure_ms > hc.last_ok_ms)
		return; /* Jira is failing: do not wait at all */
	deadline_t until = deadline_in(GRACE_MS);
	cache_wait_refresh(c, lock, until < d ? until : d);
}

/* Make a listing usable: p's, or the project list when p is NULL, whose
 * cache c is guarded by lock.  Called and returns with lock held; 0 or
 * -errno. */
static int ensure(struct tree *t, struct project *p, struct cache_state *c,
		  pthread_mutex_t *lock, deadline_t d, int64_t fresh_ms)
{
	int ret = cache_begin(c, lock, d, fresh_ms);
	if (ret <= 0)
		return ret;
	if (c->fetched_at && bg_start(t, p)) {
		grace_wait(t, c, lock, d);
		return 0;
	}
	pthread_mutex_unlock(lock);
	ret = p ? fetch_listing(t, p, d) : fetch_projects(t, d);
	pthread_mutex_lock(lock);
	return ret;
}

static int ensure_projects(struct tree *t, deadline_t d, int64_t fresh_ms)
{
	return ensure(t, NULL, &t->cache, &t->lock, d, fresh_ms);
}

int tree_projects(struct tree *t, deadline_t d,
		  void (*fn)(void *ctx, const char *key), void *ctx)
{
	pthread_mutex_lock(&t->lock);
	int ret = ensure_projects(t, d, t->ttl_ms);
	if (!ret)
		for (size_t i = 0; i < t->norder; i++)
			fn(ctx, t->order[i]);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int tree_project(struct tree *t, const char *key, deadline_t d,
		 struct project **out)
{
	int64_t fresh = t->ttl_ms > LOOKUP_MIN_FRESH_MS ? t->ttl_ms
							: LOOKUP_MIN_FRESH_MS;
	*out = NULL;
	if (!jira_project_key_valid(key))
		return -ENOENT;
	pthread_mutex_lock(&t->lock);
	struct project *p = map_get(t->projects, key);
	int ret = 0;
	/* a project not seen yet may be new: look at a recent list */
	if (!p || !p->visible || !t->cache.fetched_at)
		ret = ensure_projects(t, d, UNKNOWN_PROJECT_FRESH_MS < fresh
						    ? UNKNOWN_PROJECT_FRESH_MS
						    : fresh);
	else
		ret = ensure_projects(t, d, INT64_MAX);
	if (!ret) {
		p = map_get(t->projects, key);
		if (p && p->visible)
			*out = p;
		else
			ret = -ENOENT;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static int ensure_listing(struct tree *t, struct project *p, deadline_t d,
			  int64_t fresh_ms)
{
	return ensure(t, p, &p->cache, &p->lock, d, fresh_ms);
}

int tree_tickets(struct tree *t, struct project *p, bool closed,
		 deadline_t d,
		 void (*fn)(void *ctx, const char *key, struct jira_issue *i),
		 void *ctx)
{
	pthread_mutex_lock(&p->lock);
	int ret = ensure_listing(t, p, d, t->ttl_ms);
	if (!ret) {
		fetch_stale(t, p, d);
		struct map_iter it = map_iter_start(p->tickets);
		while (map_iter_next(&it)) {
			struct tentry *e = it.value;
			if (e->done == closed)
				fn(ctx, it.key, e->issue);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* With p->lock held: is this ticket of the stream in closed/ or not (a
 * close or reopen written meanwhile says where it goes)? */
static bool stream_done(const struct project *p, const struct jira_issue *is)
{
	const struct tentry *e =
		map_count(p->tickets) ? map_get(p->tickets, is->key) : NULL;
	return e ? e->done : is->done;
}

int tree_tickets_stream(struct tree *t, struct project *p, bool closed,
			deadline_t d, struct tree_cursor *cur,
			void (*fn)(void *ctx, const char *key,
				   struct jira_issue *i),
			void *ctx)
{
	pthread_mutex_lock(&p->lock);
	int ret = 0;
	if (!cur->streaming) {
		/* a first listing, nothing written meanwhile: fetch it in
		 * the background and show its pages as they come */
		if (!p->streaming && !p->cache.fetched_at &&
		    !p->cache.refreshing && map_count(p->tickets) == 0 &&
		    (ret = cache_begin(&p->cache, &p->lock, d, t->ttl_ms)) == 1) {
			p->streaming = true;
			if (!bg_start(t, p)) {
				/* no thread: fetched here, then given whole */
				p->streaming = false;
				pthread_mutex_unlock(&p->lock);
				ret = fetch_listing(t, p, d);
				pthread_mutex_lock(&p->lock);
				if (!ret)
					goto rest;
				goto out;
			}
			ret = 0;
		}
		if (ret < 0 || !p->streaming) {
			pthread_mutex_unlock(&p->lock);
			return ret < 0 ? ret
				       : tree_tickets(t, p, closed, d, fn, ctx);
		}
		if (!(cur->seen = map_new())) {
			pthread_mutex_unlock(&p->lock);
			return -ENOMEM;
		}
		cur->streaming = true;
		cur->gen = p->stream_gen;
		cur->at = 0;
	}
	for (size_t given = 0;;) {
		if (!p->streaming || p->stream_gen != cur->gen)
			break; /* it has ended */
		for (; cur->at < p->nstream; cur->at++) {
			struct jira_issue *is = p->stream[cur->at];
			if (stream_done(p, is) != closed ||
			    map_get(cur->seen, is->key))
				continue;
			if (map_put(cur->seen, is->key, is, NULL)) {
				ret = -ENOMEM;
				goto out;
			}
			fn(ctx, is->key, is);
			given++;
		}
		if (given) {
			ret = 1;
			goto out;
		}
		if (deadline_left(d) <= 0) {
			ret = -ETIMEDOUT;
			goto out;
		}
		struct timespec ts = deadline_timespec(d);
		pthread_cond_timedwait(&p->cache.done, &p->lock, &ts);
	}
	/* installed (or failed): the tickets its pages did not give */
	cur->streaming = false;
	if (!p->cache.fetched_at) {
		ret = p->cache.last_error ? p->cache.last_error : -EIO;
		goto out;
	}
rest:
	fetch_stale(t, p, d); /* what was written meanwhile, read back */
	struct map_iter it = map_iter_start(p->tickets);
	while (map_iter_next(&it)) {
		struct tentry *e = it.value;
		if (e->done == closed &&
		    !(cur->seen && map_get(cur->seen, it.key)))
			fn(ctx, it.key, e->issue);
	}
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void tree_cursor_release(struct tree_cursor *cur)
{
	map_free(cur->seen);
	memset(cur, 0, sizeof(*cur));
}

/* Is key a ticket key of project p ("SEC-12" for SEC)? */
int tree_tickets_now(struct tree *t, struct project *p, deadline_t d,
		     void (*fn)(void *ctx, const char *key,
				struct jira_issue *i, bool done),
		     void *ctx)
{
	pthread_mutex_lock(&p->lock);
	/* a refresh under way may have started before what the caller
	 * wants to see: wait for it, then make one of our own */
	while (p->cache.refreshing && deadline_left(d) > 0)
		cache_wait_refresh(&p->cache, &p->lock, d);
	int ret = cache_begin(&p->cache, &p->lock, d, 0);
	if (ret == 1) {
		pthread_mutex_unlock(&p->lock);
		ret = fetch_listing(t, p, d);
		pthread_mutex_lock(&p->lock);
	}
	if (!ret) {
		fetch_stale(t, p, d);
		struct map_iter it = map_iter_start(p->tickets);
		while (map_iter_next(&it)) {
			struct tentry *e = it.value;
			fn(ctx, it.key, e->issue, e->done);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static bool key_of_project(const struct project *p, const char *key)
{
	size_t n = strlen(p->key);
	return strncmp(key, p->key, n) == 0 && key[n] == '-' &&
	       jira_key_valid(key);
}

int tree_ticket(struct tree *t, struct project *p, const char *key,
		bool closed, bool as_held, deadline_t d,
		struct jira_issue **out)
{
	int64_t fresh = t->ttl_ms > LOOKUP_MIN_FRESH_MS ? t->ttl_ms
							: LOOKUP_MIN_FRESH_MS;
	*out = NULL;
	if (!key_of_project(p, key))
		return -ENOENT;

	pthread_mutex_lock(&p->lock);
	struct tentry *e = map_get(p->tickets, key);
	int ret = 0;
	/* offered by a search, fresh, no listing held: no need of one */
	bool offered = e && e->offered_at && e->issue && !p->cache.fetched_at &&
		       clock_mono_ms() - e->offered_at < fresh;
	/* a project outside projects= is never listed: what is not held
	 * fresh is read by itself */
	if (!offered && !p->outside && (ret = ensure_listing(t, p, d, fresh)))
		goto out;
	e = map_get(p->tickets, key);
	if (e && e->issue && (!e->stale_since || e->pending || as_held) &&
	    (!p->outside || offered || e->pending)) {
		if (e->done != closed)
			ret = -ENOENT;
		else
			*out = jira_issue_ref(e->issue);
		goto out;
	}
	if (!e) {
		intptr_t until =
			p->missing ? (intptr_t)map_get(p->missing, key) : 0;
		if (until && clock_mono_ms() < (int64_t)until) {
			ret = -ENOENT;
			goto out;
		}
	}
	/* Not in the listing (it may be newer), or written through jirafs
	 * since it was read: ask Jira. */
	int64_t started = clock_mono_ms();
	pthread_mutex_unlock(&p->lock);
	struct jira_error err = { 0 };
	struct jira_issue *got = NULL;
	enum jira_status st = jira_issue_get(t->client, key, d, &got, &err);
	pthread_mutex_lock(&p->lock);
	if (st == JIRA_OK) {
		tree_put_issue(p, p->tickets, got, started);
		e = map_get(p->tickets, key);
		if (e && p->outside)
			e->offered_at = started; /* fresh for cache_ttl */
		if (e && e->done != closed)
			ret = -ENOENT;
		else
			*out = jira_issue_ref(got);
		jira_issue_unref(got);
	} else if (st == JIRA_ERR_NOT_FOUND) {
		tree_drop_entry(p, key);
		if (p->missing)
			map_put(p->missing, key,
				(void *)(intptr_t)(clock_mono_ms() + fresh),
				NULL);
		ret = -ENOENT;
	} else if ((e = map_get(p->tickets, key)) && e->issue) {
		/* written, and now it cannot be read back: show what is held
		 * rather than fail */
		jlog_warn("cannot read back %s (%s); showing it as last read",
			  key, err.msg);
		if (e->done != closed)
			ret = -ENOENT;
		else
			*out = jira_issue_ref(e->issue);
	} else {
		jlog_err("cannot read %s: %s", key, err.msg);
		ret = -fs_errno(st);
	}
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* The project of a key, without any request (NULL if not known). */
static struct project *project_of(struct tree *t, const char *key)
{
	const char *dash = strrchr(key, '-');
	char proj[256];
	if (!dash || dash - key >= (ptrdiff_t)sizeof(proj))
		return NULL;
	memcpy(proj, key, (size_t)(dash - key));
	proj[dash - key] = '\0';
	pthread_mutex_lock(&t->lock);
	struct project *p = map_get(t->projects, proj);
	pthread_mutex_unlock(&t->lock);
	return p;
}

void tree_offer(struct tree *t, struct jira_issue *is)
{
	struct project *p = project_of(t, is->key);
	if (!p || strcmp(is->project, p->key) != 0)
		return;
	pthread_mutex_lock(&p->lock);
	struct tentry *e = map_get(p->tickets, is->key);
	if (!p->cache.fetched_at && !p->cache.refreshing &&
	    (!e || e->offered_at) &&
	    tree_put_issue(p, p->tickets, is, clock_mono_ms()) == 0 &&
	    (e = map_get(p->tickets, is->key)))
		e->offered_at = clock_mono_ms();
	pthread_mutex_unlock(&p->lock);
}

void tree_written(struct tree *t, const char *key, bool done)
{
	struct project *p = project_of(t, key);
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	struct tentry *e = map_get(p->tickets, key);
	/* a comment or an update leaves the name where it was */
	bool moved = !e || e->done != done;
	if (!e) {
		e = tree_entry_new(NULL, done);
		if (!e || map_put(p->tickets, key, e, NULL)) {
			free(e);
			e = NULL;
		}
	}
	if (e) {
		if (!e->stale_since)
			p->nstale++;
		e->stale_since = clock_mono_ms();
		e->done = done;
		e->pending = false;
	}
	if (p->missing)
		map_del(p->missing, key);
	tree_changed(p, key, moved);
	pthread_mutex_unlock(&p->lock);
}

void tree_put(struct tree *t, struct jira_issue *issue)
{
	struct project *p = project_of(t, issue->key);
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	struct tentry *e = map_get(p->tickets, issue->key);
	if (e && e->stale_since) {
		e->stale_since = 0;
		p->nstale--;
	}
	if (e)
		e->pending = false;
	tree_put_issue(p, p->tickets, issue, clock_mono_ms());
	if (p->missing)
		map_del(p->missing, issue->key);
	pthread_mutex_unlock(&p->lock);
}

void tree_pending(struct tree *t, const char *key, bool done)
{
	struct project *p = project_of(t, key);
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	struct tentry *e = map_get(p->tickets, key);
	if (e) {
		bool moved = e->done != done;
		e->pending = true;
		e->done = done;
		tree_changed(p, key, moved);
	}
	pthread_mutex_unlock(&p->lock);
}

int tree_where(struct tree *t, const char *key, bool *done)
{
	struct project *p = project_of(t, key);
	if (!p)
		return -ENOENT;
	pthread_mutex_lock(&p->lock);
	struct tentry *e = map_get(p->tickets, key);
	if (e)
		*done = e->done;
	pthread_mutex_unlock(&p->lock);
	return e ? 0 : -ENOENT;
}

struct timespec tree_project_mtime(struct tree *t, struct project *p,
				   bool closed)
{
	pthread_mutex_lock(&p->lock);
	struct timespec ts = closed ? p->mtime_closed : p->mtime_open;
	pthread_mutex_unlock(&p->lock);
	if (!ts.tv_sec)
		ts = t->mounted;
	return ts;
}

void tree_stats(struct tree *t, struct tree_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&t->lock);
	out->projects = t->norder;
	out->listings = atomic_load(&t->listings);
	out->listing_failures = atomic_load(&t->listing_failures);
	struct map_iter it = map_iter_start(t->projects);
	while (map_iter_next(&it)) {
		struct project *p = it.value;
		pthread_mutex_lock(&p->lock);
		out->tickets += map_count(p->tickets);
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&t->lock);
}
