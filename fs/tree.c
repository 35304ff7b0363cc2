/* tree.c - see tree.h */
#include "fs/tree.h"

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

/* A lookup trusts a listing at least this long, even with cache_ttl=0, so
 * that `ls -l` does not refetch the project once per file. */
#define LOOKUP_MIN_FRESH_MS 1000
/* A name that is not a known project makes the project list be fetched
 * again (it may be new), but not more often than this. */
#define UNKNOWN_PROJECT_FRESH_MS 5000
/* An incremental refresh asks for what changed since the last sync plus
 * this margin (Jira counts relative dates in minutes). */
#define DELTA_MARGIN_MIN 2
/* Past this, a refresh lists the whole project again. */
#define DELTA_MAX_MIN (24 * 60)
/* How long a caller waits for a background refresh of what it holds. */
#define GRACE_MS 1000
/* A background refresh may take this many times -o timeout. */
#define BG_BUDGET_FACTOR 4

/* A ticket as the tree knows it. */
struct tentry {
	struct jira_issue *issue; /* a reference; NULL for a ticket known only
				     by its key (created through jirafs) */
	int64_t stale_since;      /* mono ms of a write through jirafs not yet
				     read back; 0 when current */
	bool done;                /* listed in closed/ (issue->done unless a
				     write says otherwise) */
	bool pending;             /* a close/reopen waits in the outbox: done
				     says where it is going; not read back */
};

struct project {
	char *key;
	struct tree *tree;
	pthread_mutex_t lock;
	/* guarded by lock: */
	struct cache_state cache; /* of the listing */
	struct map *tickets;     /* key -> struct tentry */
	size_t nstale;           /* entries with stale_since set */
	bool stale_refreshing;   /* a reader reads them back */
	struct map *missing;     /* key -> mono ms until which it is absent */
	struct timespec mtime_open, mtime_closed;
	int64_t synced_at;       /* mono ms when the search behind the
				    listing held started; 0 = none */
	/* guarded by the tree lock: */
	bool visible;
};

struct tree {
	struct jira_client *client;
	void (*changed)(void *ctx, const char *key, bool moved);
	void *changed_ctx;
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

	int64_t bg_budget_ms;    /* time a background refresh may take */
	struct bg_pool bg;       /* the background refreshes */
};

static int refresh_projects(struct tree *t, deadline_t d);
static void tentry_free(struct tentry *e);
static int refresh_listing(struct tree *t, struct project *p, deadline_t d);

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

static void project_free(struct project *p)
{
	struct map_iter it = map_iter_start(p->tickets);
	while (map_iter_next(&it))
		tentry_free(it.value);
	map_free(p->tickets);
	map_free(p->missing);
	cache_destroy(&p->cache);
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
	/* no new background refreshes; the running ones end with their
	 * transfers, which the caller cancelled first (fs_mount_stop) */
	bg_close(&t->bg);
	struct map_iter it = map_iter_start(t->projects);
	while (map_iter_next(&it))
		project_free(it.value);
	map_free(t->projects);
	free_order(t);
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

static struct project *project_new(struct tree *t, const char *key)
{
	struct project *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tree = t;
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
		refresh_listing(t, job->p, d);
	else
		refresh_projects(t, d);
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
			p = project_new(t, list[i].key);
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

/* Fetch and install the project list; the caller marked the cache as
 * refreshing.  Called without locks; returns what cache_end returned. */
static int refresh_projects(struct tree *t, deadline_t d)
{
	struct jira_project *list = NULL;
	size_t n = 0;
	struct jira_error err = { 0 };
	enum jira_status st = jira_projects(t->client, d, &list, &n, &err);
	int ret;

	pthread_mutex_lock(&t->lock);
	if (st == JIRA_OK) {
		ret = install_projects(t, list, n);
	} else {
		ret = -fs_errno(st);
		if (t->cache.fetched_at)
			jlog_warn("cannot refresh the project list (%s); "
				  "showing the last one",
				  err.msg);
		else
			jlog_err("cannot list projects: %s", err.msg);
	}
	ret = cache_end(&t->cache, ret);
	pthread_mutex_unlock(&t->lock);
	jira_projects_free(list, n);
	return ret;
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
	ret = p ? refresh_listing(t, p, d) : refresh_projects(t, d);
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

static struct tentry *tentry_new(struct jira_issue *issue, bool done)
{
	struct tentry *e = calloc(1, sizeof(*e));
	if (e) {
		e->issue = issue;
		e->done = done;
	}
	return e;
}

static void tentry_free(struct tentry *e)
{
	if (e) {
		jira_issue_unref(e->issue);
		free(e);
	}
}

/* Tell the kernel's side that key changed (and whether its name did).
 * Called with p->lock held. */
static void changed(struct project *p, const char *key, bool moved)
{
	struct tree *t = p->tree;
	if (t->changed)
		t->changed(t->changed_ctx, key, moved);
}

/* Put an issue into p's map (a new reference is taken), replacing what the
 * entry held; a write newer than `fetched` keeps the entry stale.  Called
 * with p->lock held.  0 or -ENOMEM. */
static int put_issue(struct project *p, struct map *m, struct jira_issue *is,
		     int64_t fetched)
{
	struct tentry *e = map_get(m, is->key);
	bool was_done = e && e->done;
	bool was = e && e->issue != is;
	if (!e) {
		e = tentry_new(NULL, is->done);
		if (!e || map_put(m, is->key, e, NULL)) {
			free(e);
			return -ENOMEM;
		}
	}
	jira_issue_unref(e->issue);
	e->issue = jira_issue_ref(is);
	if (e->stale_since && e->stale_since <= fetched) {
		e->stale_since = 0;
		p->nstale--;
	}
	if (!e->stale_since && !e->pending)
		e->done = is->done;
	if (was)
		changed(p, is->key, e->done != was_done);
	return 0;
}

static void drop_entry(struct project *p, const char *key)
{
	struct tentry *e = map_del(p->tickets, key);
	if (e && e->stale_since)
		p->nstale--;
	if (e)
		changed(p, key, true);
	tentry_free(e);
}

/* Recompute the directories' times.  Called with p->lock held. */
static void update_mtimes(struct project *p)
{
	struct timespec mo = { 0 }, mc = { 0 };
	struct map_iter it = map_iter_start(p->tickets);
	while (map_iter_next(&it)) {
		struct tentry *e = it.value;
		if (e->issue)
			latest(e->done ? &mc : &mo, &e->issue->updated);
	}
	p->mtime_open = mo;
	p->mtime_closed = mc;
}

/* Replace p's tickets by a new listing whose search started at `started`.
 * Entries written through jirafs after that stay as they are.  Called with
 * p->lock held; the references in issues are released by the caller. */
static int install_listing(struct project *p, struct jira_issue **issues,
			   size_t n, int64_t started)
{
	struct map *m = map_new();
	if (!m)
		return -ENOMEM;
	struct map *old = p->tickets;
	p->tickets = m;
	p->nstale = 0;
	/* first what was written since the search started... */
	struct map_iter it = map_iter_start(old);
	while (map_iter_next(&it)) {
		struct tentry *e = it.value;
		if (((e->stale_since >= started && e->stale_since) ||
		     e->pending) &&
		    map_put(m, it.key, e, NULL) == 0) {
			if (e->stale_since)
				p->nstale++;
			it.value = NULL;
			map_put(old, it.key, NULL, NULL);
		}
	}
	/* ...then the listing */
	for (size_t i = 0; i < n; i++) {
		struct jira_issue *is = issues[i];
		if (strcmp(is->project, p->key) != 0)
			continue;
		struct tentry *was = map_get(old, is->key);
		if (was && (was->issue != is || was->done != is->done))
			changed(p, is->key, was->done != is->done);
		put_issue(p, m, is, started);
	}
	/* what is left of the old listing is gone from Jira */
	it = map_iter_start(old);
	while (map_iter_next(&it)) {
		if (it.value && !map_get(m, it.key))
			changed(p, it.key, true);
		tentry_free(it.value);
	}
	map_free(old);
	update_mtimes(p);
	/* a fresh listing answers every "is it there" question itself */
	map_free(p->missing);
	p->missing = map_new();
	return p->missing ? 0 : -ENOMEM;
}

/* The reuse hook of a project's searches: the ticket held in this
 * version, so that an unchanged ticket is neither rendered nor stored
 * twice. */
static struct jira_issue *reuse_held(void *ctx, const char *key,
				     const char *updated)
{
	struct project *p = ctx;
	struct jira_issue *i = NULL;
	pthread_mutex_lock(&p->lock);
	struct tentry *e = map_get(p->tickets, key);
	if (e && e->issue && strcmp(e->issue->updated_raw, updated) == 0)
		i = jira_issue_ref(e->issue);
	pthread_mutex_unlock(&p->lock);
	return i;
}

/*
 * An incremental refresh: the tickets updated since the last sync (with a
 * margin), merged into what is held, then Jira's count of the project to
 * notice tickets that left it (deleted, moved): two requests when nothing
 * left, whatever the project's size.  Returns 0 when done, 1 when the
 * whole project must be listed again (something left, or a count that
 * does not add up), or -errno.  Called without locks.
 */
static int refresh_delta(struct tree *t, struct project *p, int64_t since,
			 int64_t started, deadline_t d, struct jira_error *err)
{
	int64_t minutes = (started - since) / 60000 + 1 + DELTA_MARGIN_MIN;
	if (minutes > DELTA_MAX_MIN)
		return 1;
	char *jql = jql_project_updated(p->key, (unsigned)minutes);
	char *count_jql = jql_project_count(p->key);
	struct jira_issue **issues = NULL;
	size_t n = 0;
	enum jira_status st;
	if (jql && count_jql)
		st = jira_search_reusing(t->client, jql, false, reuse_held, p,
					 d, &issues, &n, NULL, err);
	else
		st = jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	free(jql);
	unsigned total = 0;
	if (st == JIRA_OK)
		st = jira_search_total(t->client, count_jql, d, &total, err);
	free(count_jql);
	if (st != JIRA_OK) {
		jira_issues_free(issues, n);
		return -fs_errno(st);
	}
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < n; i++)
		if (strcmp(issues[i]->project, p->key) == 0)
			put_issue(p, p->tickets, issues[i], started);
	size_t held = 0;
	struct map_iter it = map_iter_start(p->tickets);
	while (map_iter_next(&it))
		if (((struct tentry *)it.value)->issue)
			held++;
	int ret = held == total ? 0 : 1;
	if (!ret)
		update_mtimes(p);
	else
		jlog_info("%s: %zu tickets held, %u in Jira: listing it again",
			  p->key, held, total);
	pthread_mutex_unlock(&p->lock);
	jlog_debug("refreshed %s: %zu changed tickets", p->key, n);
	jira_issues_free(issues, n);
	return ret;
}

/* Fetch and install p's listing, incrementally when one is held; the
 * caller marked the cache as refreshing.  Called without locks; returns
 * what cache_end returned. */
static int refresh_listing(struct tree *t, struct project *p, deadline_t d)
{
	struct jira_issue **issues = NULL;
	size_t n = 0;
	struct jira_search_stats stats = { 0 };
	struct jira_error err = { 0 };
	enum jira_status st = JIRA_OK;
	int ret;
	int64_t started = clock_mono_ms();

	pthread_mutex_lock(&p->lock);
	int64_t since = p->cache.fetched_at ? p->synced_at : 0;
	pthread_mutex_unlock(&p->lock);
	int delta = since ? refresh_delta(t, p, since, started, d, &err) : 1;
	if (delta < 0)
		st = err.status;
	if (delta > 0) {
		char *jql = jql_project_all(p->key);
		if (jql)
			st = jira_search_reusing(t->client, jql, false,
						 reuse_held, p, d, &issues, &n,
						 &stats, &err);
		else
			st = jira_error_set(&err, JIRA_ERR_NOMEM,
					    "out of memory");
		free(jql);
	}

	pthread_mutex_lock(&p->lock);
	if (st == JIRA_OK) {
		ret = delta > 0 ? install_listing(p, issues, n, started) : 0;
		if (!ret)
			p->synced_at = started;
		if (delta > 0)
			jlog_debug("listed %s: %zu tickets in %u pages of %u "
				   "(%u unchanged)",
				   p->key, n, stats.pages, stats.page_size,
				   stats.reused);
	} else {
		ret = -fs_errno(st);
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
	ret = cache_end(&p->cache, ret);
	pthread_mutex_unlock(&p->lock);
	jira_issues_free(issues, n);
	/* the pages and the old listing are gone: give their memory back */
	if (delta > 0)
		malloc_trim(0);
	atomic_fetch_add(st == JIRA_OK ? &t->listings : &t->listing_failures,
			 1);
	return ret;
}

static int ensure_listing(struct tree *t, struct project *p, deadline_t d,
			  int64_t fresh_ms)
{
	return ensure(t, p, &p->cache, &p->lock, d, fresh_ms);
}

#define STALE_BATCH 200

/* Read back, with searches of up to STALE_BATCH keys, the tickets written
 * through jirafs since they were last read.  Called and returns with
 * p->lock held; failures keep what is held (and are logged). */
static void refresh_stale(struct tree *t, struct project *p, deadline_t d)
{
	struct http_counters hc;
	jira_client_counters(t->client, &hc);
	/* one reader at a time reads back; and not while Jira is failing
	 * (what is held is shown meanwhile) */
	if (p->stale_refreshing || hc.last_failure_ms > hc.last_ok_ms)
		return;
	p->stale_refreshing = true;
	while (p->nstale > 0) {
		char *keys[STALE_BATCH];
		size_t nk = 0;
		struct map_iter it = map_iter_start(p->tickets);
		while (nk < STALE_BATCH && map_iter_next(&it)) {
			struct tentry *e = it.value;
			if (e->stale_since && !(keys[nk] = strdup(it.key)))
				break;
			if (e->stale_since)
				nk++;
		}
		if (!nk)
			break;
		int64_t started = clock_mono_ms();
		pthread_mutex_unlock(&p->lock);
		struct jira_issue **issues = NULL;
		size_t n = 0;
		struct jira_error err = { 0 };
		enum jira_status st;
		char *jql = jql_keys((const char *const *)keys, nk);
		if (jql)
			st = jira_search(t->client, jql, true, d, &issues, &n,
					 NULL, &err);
		else
			st = jira_error_set(&err, JIRA_ERR_NOMEM,
					    "out of memory");
		free(jql);
		pthread_mutex_lock(&p->lock);
		if (st == JIRA_OK) {
			for (size_t i = 0; i < n; i++)
				if (strcmp(issues[i]->project, p->key) == 0)
					put_issue(p, p->tickets, issues[i],
						  started);
			/* asked for and not returned: gone (moved, deleted) */
			for (size_t k = 0; k < nk; k++) {
				struct tentry *e = map_get(p->tickets, keys[k]);
				if (e && e->stale_since &&
				    e->stale_since <= started)
					drop_entry(p, keys[k]);
			}
		} else {
			jlog_warn("cannot read back %zu tickets of %s: %s", nk,
				  p->key, err.msg);
		}
		jira_issues_free(issues, n);
		for (size_t k = 0; k < nk; k++)
			free(keys[k]);
		if (st != JIRA_OK)
			break;
	}
	p->stale_refreshing = false;
}

int tree_tickets(struct tree *t, struct project *p, bool closed,
		 deadline_t d,
		 void (*fn)(void *ctx, const char *key, struct jira_issue *i),
		 void *ctx)
{
	pthread_mutex_lock(&p->lock);
	int ret = ensure_listing(t, p, d, t->ttl_ms);
	if (!ret) {
		refresh_stale(t, p, d);
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

/* Is key a ticket key of project p ("SEC-12" for SEC)? */
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
	int ret = ensure_listing(t, p, d, fresh);
	if (ret)
		goto out;
	struct tentry *e = map_get(p->tickets, key);
	if (e && e->issue && (!e->stale_since || e->pending || as_held)) {
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
		put_issue(p, p->tickets, got, started);
		e = map_get(p->tickets, key);
		if (e && e->done != closed)
			ret = -ENOENT;
		else
			*out = jira_issue_ref(got);
		jira_issue_unref(got);
	} else if (st == JIRA_ERR_NOT_FOUND) {
		drop_entry(p, key);
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
		e = tentry_new(NULL, done);
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
	changed(p, key, moved);
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
	put_issue(p, p->tickets, issue, clock_mono_ms());
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
		changed(p, key, moved);
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
