/* tree.c - see tree.h */
#include "fs/tree.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/errmap.h"
#include "util/log.h"
#include "util/map.h"

/* A lookup trusts a listing at least this long, even with cache_ttl=0, so
 * that `ls -l` does not refetch the project once per file. */
#define LOOKUP_MIN_FRESH_MS 1000
/* A name that is not a known project makes the project list be fetched
 * again (it may be new), but not more often than this. */
#define UNKNOWN_PROJECT_FRESH_MS 5000
/* After a failed refresh, the old listing is served without retrying for
 * this long. */
#define RETRY_PAUSE_MS 2000

/*
 * A cached listing that one thread at a time refreshes, guarded by its
 * owner's lock.  cache_begin() says whether the caller may use what is held
 * or must refresh; the refresher fetches without the lock and reports with
 * cache_end(); threads that waited take that result.
 */
struct cache_state {
	pthread_cond_t done;   /* a refresh ended (CLOCK_MONOTONIC) */
	int64_t fetched_at;    /* mono ms of the listing held, 0 = none */
	int64_t retry_at;      /* after a failure, no refresh before this */
	bool refreshing;
	uint64_t generation;   /* refreshes finished, failed or not */
	int last_error;        /* -errno for waiters when nothing is held */
};

struct project {
	char *key;
	pthread_mutex_t lock;
	/* guarded by lock: */
	struct cache_state cache; /* of the listing */
	struct map *tickets;     /* key -> struct jira_issue * (a reference) */
	struct map *missing;     /* key -> mono ms until which it is absent */
	struct timespec mtime_open, mtime_closed;
	/* guarded by the tree lock: */
	bool visible;
};

struct tree {
	struct jira_client *client;
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
};

static void cache_init(struct cache_state *c)
{
	pthread_condattr_t a;
	memset(c, 0, sizeof(*c));
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&c->done, &a);
	pthread_condattr_destroy(&a);
}

/* With lock held: 1 when the caller must refresh now (it is marked as the
 * refresher and must call cache_end), 0 when what is held may be used,
 * -errno when nothing can be used. */
static int cache_begin(struct cache_state *c, pthread_mutex_t *lock,
		       deadline_t d, int64_t fresh_ms)
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
		struct timespec ts = deadline_timespec(d);
		if (pthread_cond_timedwait(&c->done, lock, &ts) == ETIMEDOUT &&
		    c->generation == gen)
			return c->fetched_at ? 0 : -ETIMEDOUT;
	}
	c->refreshing = true;
	return 1;
}

/* With lock held again: the refresh ended with err (0 or -errno).  Returns
 * what the refresher's caller gets: 0 when something can be used. */
static int cache_end(struct cache_state *c, int err)
{
	int64_t now = clock_mono_ms();
	c->refreshing = false;
	c->generation++;
	pthread_cond_broadcast(&c->done);
	if (!err) {
		c->fetched_at = now;
		c->last_error = 0;
	} else {
		c->retry_at = now + RETRY_PAUSE_MS;
		c->last_error = c->fetched_at ? 0 : err;
	}
	return c->last_error;
}

struct tree *tree_new(struct jira_client *client,
		      const struct tree_config *cfg)
{
	struct tree *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->client = client;
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
	return t;
}

static void project_free(struct project *p)
{
	struct map_iter it = map_iter_start(p->tickets);
	while (map_iter_next(&it))
		jira_issue_unref(it.value);
	map_free(p->tickets);
	map_free(p->missing);
	pthread_cond_destroy(&p->cache.done);
	pthread_mutex_destroy(&p->lock);
	free(p->key);
	free(p);
}

static void free_order(struct tree *t)
{
	for (size_t i = 0; i < t->norder; i++)
		free(t->order[i]);
	free(t->order);
	t->order = NULL;
	t->norder = 0;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	struct map_iter it = map_iter_start(t->projects);
	while (map_iter_next(&it))
		project_free(it.value);
	map_free(t->projects);
	free_order(t);
	for (size_t i = 0; i < t->nonly; i++)
		free(t->only[i]);
	free(t->only);
	pthread_cond_destroy(&t->cache.done);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

const char *project_key(const struct project *p)
{
	return p->key;
}

static struct project *project_new(const char *key)
{
	struct project *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->key = strdup(key);
	p->tickets = map_new();
	p->missing = map_new();
	if (!p->key || !p->tickets || !p->missing) {
		map_free(p->tickets);
		map_free(p->missing);
		free(p->key);
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	cache_init(&p->cache);
	return p;
}

static bool wanted(const struct tree *t, const char *key)
{
	if (!t->nonly)
		return true;
	for (size_t i = 0; i < t->nonly; i++)
		if (t->only[i] && strcmp(t->only[i], key) == 0)
			return true;
	return false;
}

/* Install a fresh project list.  Called with the tree lock held. */
static int install_projects(struct tree *t, struct jira_project *list,
			    size_t n)
{
	char **order = calloc(n ? n : 1, sizeof(*order));
	size_t k = 0;
	if (!order)
		return -ENOMEM;
	struct map_iter it = map_iter_start(t->projects);
	while (map_iter_next(&it))
		((struct project *)it.value)->visible = false;
	for (size_t i = 0; i < n; i++) {
		if (!wanted(t, list[i].key))
			continue;
		struct project *p = map_get(t->projects, list[i].key);
		if (!p) {
			p = project_new(list[i].key);
			if (!p || map_put(t->projects, p->key, p, NULL)) {
				if (p)
					project_free(p);
				continue;
			}
		}
		p->visible = true;
		order[k] = strdup(list[i].key);
		if (order[k])
			k++;
	}
	for (size_t i = 0; i < t->nonly; i++) {
		struct project *p = map_get(t->projects, t->only[i]);
		if ((!p || !p->visible) && t->cache.fetched_at == 0)
			jlog_warn("project %s (from projects=) does not exist "
				  "or is not visible to this account",
				  t->only[i]);
	}
	free_order(t);
	t->order = order;
	t->norder = k;
	return 0;
}

/* Make the project list usable: refresh it when stale.  Called and
 * returns with the tree lock held; 0 or -errno. */
static int ensure_projects(struct tree *t, deadline_t d, int64_t fresh_ms)
{
	int ret = cache_begin(&t->cache, &t->lock, d, fresh_ms);
	if (ret <= 0)
		return ret;
	pthread_mutex_unlock(&t->lock);

	struct jira_project *list = NULL;
	size_t n = 0;
	struct jira_error err = { 0 };
	enum jira_status st = jira_projects(t->client, d, &list, &n, &err);

	pthread_mutex_lock(&t->lock);
	if (st == JIRA_OK) {
		ret = install_projects(t, list, n);
	} else {
		ret = -jira_errno(st);
		if (t->cache.fetched_at)
			jlog_warn("cannot refresh the project list (%s); "
				  "showing the last one",
				  err.msg);
		else
			jlog_err("cannot list projects: %s", err.msg);
	}
	jira_projects_free(list, n);
	return cache_end(&t->cache, ret);
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
	if (!jira_project_key_valid(key) || !wanted(t, key))
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

static void latest(struct timespec *acc, const struct timespec *ts)
{
	if (ts->tv_sec > acc->tv_sec ||
	    (ts->tv_sec == acc->tv_sec && ts->tv_nsec > acc->tv_nsec))
		*acc = *ts;
}

/* Replace p's tickets by a new listing.  Called with p->lock held; takes
 * over the references in issues. */
static int install_listing(struct project *p, struct jira_issue **issues,
			   size_t n)
{
	struct map *m = map_new();
	if (!m)
		return -ENOMEM;
	struct timespec mo = { 0 }, mc = { 0 };
	for (size_t i = 0; i < n; i++) {
		struct jira_issue *is = issues[i];
		void *old = NULL;
		issues[i] = NULL; /* consumed, kept or not */
		if (strcmp(is->project, p->key) != 0 ||
		    map_put(m, is->key, is, &old)) {
			jira_issue_unref(is);
			continue;
		}
		if (old) /* the same key twice: keep the later one */
			jira_issue_unref(old);
		latest(is->done ? &mc : &mo, &is->updated);
	}
	struct map_iter it = map_iter_start(p->tickets);
	while (map_iter_next(&it))
		jira_issue_unref(it.value);
	map_free(p->tickets);
	p->tickets = m;
	p->mtime_open = mo;
	p->mtime_closed = mc;
	/* a fresh listing answers every "is it there" question itself */
	map_free(p->missing);
	p->missing = map_new();
	return p->missing ? 0 : -ENOMEM;
}

/* Make p's listing usable.  Called and returns with p->lock held. */
static int ensure_listing(struct tree *t, struct project *p, deadline_t d,
			  int64_t fresh_ms)
{
	int ret = cache_begin(&p->cache, &p->lock, d, fresh_ms);
	if (ret <= 0)
		return ret;
	pthread_mutex_unlock(&p->lock);

	struct jira_issue **issues = NULL;
	size_t n = 0;
	struct jira_search_stats stats = { 0 };
	struct jira_error err = { 0 };
	enum jira_status st;
	char *jql = jql_project_all(p->key);
	if (jql)
		st = jira_search(t->client, jql, d, &issues, &n, &stats, &err);
	else
		st = jira_error_set(&err, JIRA_ERR_NOMEM, "out of memory");
	free(jql);

	pthread_mutex_lock(&p->lock);
	if (st == JIRA_OK) {
		ret = install_listing(p, issues, n);
		jlog_debug("listed %s: %zu tickets in %u pages of %u", p->key,
			   n, stats.pages, stats.page_size);
	} else {
		ret = -jira_errno(st);
		if (p->cache.fetched_at)
			jlog_warn("cannot refresh %s (%s); showing the listing "
				  "from %lld s ago",
				  p->key, err.msg,
				  (long long)(clock_mono_ms() -
					      p->cache.fetched_at) /
					  1000);
		else
			jlog_err("cannot list %s: %s", p->key, err.msg);
	}
	jira_issues_free(issues, n); /* what install_listing did not take */
	ret = cache_end(&p->cache, ret);

	atomic_fetch_add(st == JIRA_OK ? &t->listings : &t->listing_failures,
			 1);
	return ret;
}

int tree_tickets(struct tree *t, struct project *p, bool closed,
		 deadline_t d, void (*fn)(void *ctx, struct jira_issue *i),
		 void *ctx)
{
	pthread_mutex_lock(&p->lock);
	int ret = ensure_listing(t, p, d, t->ttl_ms);
	if (!ret) {
		struct map_iter it = map_iter_start(p->tickets);
		while (map_iter_next(&it)) {
			struct jira_issue *i = it.value;
			if (i->done == closed)
				fn(ctx, i);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* Is key a ticket key of project p ("SEC-12" for SEC)? */
static bool key_of_project(const struct project *p, const char *key)
{
	size_t n = strlen(p->key);
	return strncmp(key, p->key, n) == 0 && key[n] == '-' &&
	       jira_key_valid(key);
}

int tree_ticket(struct tree *t, struct project *p, const char *key,
		bool closed, deadline_t d, struct jira_issue **out)
{
	int64_t fresh = t->ttl_ms > LOOKUP_MIN_FRESH_MS ? t->ttl_ms
							: LOOKUP_MIN_FRESH_MS;
	*out = NULL;
	if (!key_of_project(p, key))
		return -ENOENT;

	pthread_mutex_lock(&p->lock);
	int ret = ensure_listing(t, p, d, fresh);
	if (ret)
		goto out;
	struct jira_issue *i = map_get(p->tickets, key);
	if (i) {
		if (i->done != closed) {
			ret = -ENOENT;
			goto out;
		}
		*out = jira_issue_ref(i);
		goto out;
	}
	intptr_t until = p->missing ? (intptr_t)map_get(p->missing, key) : 0;
	if (until && clock_mono_ms() < (int64_t)until) {
		ret = -ENOENT;
		goto out;
	}
	/* Not in the listing: it may be newer than the listing.  Ask Jira. */
	int64_t listed_at = p->cache.fetched_at;
	pthread_mutex_unlock(&p->lock);
	struct jira_error err = { 0 };
	struct jira_issue *got = NULL;
	enum jira_status st = jira_issue_get(t->client, key, d, &got, &err);
	pthread_mutex_lock(&p->lock);
	if (st == JIRA_OK) {
		if (p->cache.fetched_at == listed_at) {
			void *old = NULL;
			if (map_put(p->tickets, got->key, got, &old) == 0) {
				jira_issue_ref(got);
				if (old)
					jira_issue_unref(old);
			}
		}
		if (got->done != closed) {
			jira_issue_unref(got);
			ret = -ENOENT;
		} else {
			*out = got;
		}
	} else if (st == JIRA_ERR_NOT_FOUND) {
		if (p->missing)
			map_put(p->missing, key,
				(void *)(intptr_t)(clock_mono_ms() + fresh),
				NULL);
		ret = -ENOENT;
	} else {
		jlog_err("cannot read %s: %s", key, err.msg);
		ret = -jira_errno(st);
	}
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
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
