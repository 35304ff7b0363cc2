/*
 * fetch.c - what the tree reads from Jira: the project list, a project's
 * listing (the whole of it, or what changed since the last sync: a delta
 * search that reuses the tickets held), and the read-back of tickets
 * written through jirafs.  Every search runs without a lock; what it found
 * is installed under the project's lock (fs/tree_priv.h).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/errmap.h"
#include "fs/tree_priv.h"
#include "util/log.h"

/* Fetch and install the project list; the caller marked the cache as
 * refreshing.  Called without locks; returns what cache_end returned. */
int fetch_projects(struct tree *t, deadline_t d)
{
	struct jira_project *list = NULL;
	size_t n = 0;
	struct jira_error err = { 0 };
	enum jira_status st = jira_projects(t->client, d, &list, &n, &err);
	int ret;

	pthread_mutex_lock(&t->lock);
	if (st == JIRA_OK) {
		ret = tree_install_projects(t, list, n);
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

/* The page hook of a first listing that readers are shown while it is
 * fetched (p->streaming): its tickets join p->stream. */
static void stream_page(void *ctx, struct jira_issue *const *issues, size_t n)
{
	struct project *p = ctx;
	pthread_mutex_lock(&p->lock);
	if (p->nstream + n > p->stream_cap) {
		size_t cap = p->stream_cap ? p->stream_cap : 1024;
		while (cap < p->nstream + n)
			cap *= 2;
		struct jira_issue **v = realloc(p->stream, cap * sizeof(*v));
		if (!v) {
			/* readers get these once the listing is installed */
			pthread_mutex_unlock(&p->lock);
			return;
		}
		p->stream = v;
		p->stream_cap = cap;
	}
	for (size_t i = 0; i < n; i++)
		/* as the install: only this project's keys */
		if (strcmp(issues[i]->project, p->key) == 0)
			p->stream[p->nstream++] = jira_issue_ref(issues[i]);
	pthread_cond_broadcast(&p->cache.done);
	pthread_mutex_unlock(&p->lock);
}

/* With p->lock held: the listing streamed has ended (installed or not). */
static void stream_end(struct project *p)
{
	if (!p->streaming)
		return;
	for (size_t i = 0; i < p->nstream; i++)
		jira_issue_unref(p->stream[i]);
	free(p->stream);
	p->stream = NULL;
	p->nstream = p->stream_cap = 0;
	p->streaming = false;
	p->stream_gen++;
	pthread_cond_broadcast(&p->cache.done);
}

/* Search jql (taken over: freed here; NULL means out of memory), reusing
 * the tickets p holds when p is given, and giving its pages to p's stream
 * when `stream`. */
static enum jira_status search(struct tree *t, char *jql, bool lenient,
			       struct project *p, bool stream, deadline_t d,
			       struct jira_issue ***issues, size_t *n,
			       struct jira_search_stats *stats,
			       struct jira_error *err)
{
	struct jira_search_hooks hooks = { reuse_held,
					   stream ? stream_page : NULL, p };
	enum jira_status st =
		jql ? jira_search_with(t->client, jql, lenient,
				       p ? &hooks : NULL, d, issues, n, stats,
				       err)
		    : jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	free(jql);
	return st;
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
	char *count_jql = jql_project_count(p->key);
	struct jira_issue **issues = NULL;
	size_t n = 0;
	enum jira_status st =
		search(t, jql_project_updated(p->key, (unsigned)minutes), false,
		       p, false, d, &issues, &n, NULL, err);
	unsigned total = 0;
	if (st == JIRA_OK)
		st = count_jql ? jira_search_total(t->client, count_jql, d,
						   &total, err)
			       : jira_error_set(err, JIRA_ERR_NOMEM,
						"out of memory");
	free(count_jql);
	if (st != JIRA_OK) {
		jira_issues_free(issues, n);
		return -fs_errno(st);
	}
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < n; i++)
		if (strcmp(issues[i]->project, p->key) == 0)
			tree_put_issue(p, p->tickets, issues[i], started);
	size_t held = 0;
	struct map_iter it = map_iter_start(p->tickets);
	while (map_iter_next(&it))
		if (((struct tentry *)it.value)->issue)
			held++;
	int ret = held == total ? 0 : 1;
	if (!ret)
		tree_update_mtimes(p);
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
int fetch_listing(struct tree *t, struct project *p, deadline_t d)
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
	bool stream = p->streaming; /* set by who started this listing */
	pthread_mutex_unlock(&p->lock);
	int delta = since ? refresh_delta(t, p, since, started, d, &err) : 1;
	if (delta < 0)
		st = err.status;
	if (delta > 0) {
		st = search(t, jql_project_all(p->key), false, p, stream, d,
			    &issues, &n, &stats, &err);
	}

	pthread_mutex_lock(&p->lock);
	if (st == JIRA_OK) {
		ret = delta > 0 ? tree_install_listing(p, issues, n, started) : 0;
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
	stream_end(p);
	pthread_mutex_unlock(&p->lock);
	jira_issues_free(issues, n);
	/* the pages and the old listing are gone: give their memory back */
	if (delta > 0)
		malloc_trim(0);
	atomic_fetch_add(st == JIRA_OK ? &t->listings : &t->listing_failures,
			 1);
	return ret;
}

#define STALE_BATCH 200

/* Read back, with searches of up to STALE_BATCH keys, the tickets written
 * through jirafs since they were last read.  Called and returns with
 * p->lock held; failures keep what is held (and are logged). */
void fetch_stale(struct tree *t, struct project *p, deadline_t d)
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
		enum jira_status st =
			search(t, jql_keys((const char *const *)keys, nk),
			       true, NULL, false, d, &issues, &n, NULL, &err);
		pthread_mutex_lock(&p->lock);
		if (st == JIRA_OK) {
			for (size_t i = 0; i < n; i++)
				if (strcmp(issues[i]->project, p->key) == 0)
					tree_put_issue(p, p->tickets, issues[i],
						  started);
			/* asked for and not returned: gone (moved, deleted) */
			for (size_t k = 0; k < nk; k++) {
				struct tentry *e = map_get(p->tickets, keys[k]);
				if (e && e->stale_since &&
				    e->stale_since <= started)
					tree_drop_entry(p, keys[k]);
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
