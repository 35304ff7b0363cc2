/*
 * model.c - the tree's data: projects, the tickets each holds and where
 * (KEY/ or closed/), installed from what fetch.c read, with the mount told
 * of every ticket that changed.  Called with the lock named at each
 * function (fs/tree_priv.h); no requests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/tree_priv.h"
#include "util/log.h"

void tree_project_free(struct project *p)
{
	struct map_iter it = map_iter_start(p->tickets);
	while (map_iter_next(&it))
		tree_entry_free(it.value);
	map_free(p->tickets);
	map_free(p->missing);
	cache_destroy(&p->cache);
	pthread_mutex_destroy(&p->lock);
	free(p->key);
	free(p);
}

void tree_free_order(struct tree *t)
{
	for (size_t i = 0; i < t->norder; i++)
		free(t->order[i]);
	free(t->order);
	t->order = NULL;
	t->norder = 0;
}

struct project *tree_project_new(struct tree *t, const char *key)
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

bool tree_wanted(const struct tree *t, const char *key)
{
	if (!t->nonly)
		return true;
	for (size_t i = 0; i < t->nonly; i++)
		if (t->only[i] && strcmp(t->only[i], key) == 0)
			return true;
	return false;
}

/* Install a fresh project list.  Called with the tree lock held. */
int tree_install_projects(struct tree *t, struct jira_project *list,
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
		bool wanted = tree_wanted(t, list[i].key);
		struct project *p = map_get(t->projects, list[i].key);
		if (!p) {
			p = tree_project_new(t, list[i].key);
			if (!p || map_put(t->projects, p->key, p, NULL)) {
				if (p)
					tree_project_free(p);
				continue;
			}
			p->outside = !wanted;
		}
		p->visible = true;
		if (!wanted)
			continue; /* reached by path only */
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
	tree_free_order(t);
	t->order = order;
	t->norder = k;
	return 0;
}

static void latest(struct timespec *acc, const struct timespec *ts)
{
	if (ts->tv_sec > acc->tv_sec ||
	    (ts->tv_sec == acc->tv_sec && ts->tv_nsec > acc->tv_nsec))
		*acc = *ts;
}

struct tentry *tree_entry_new(struct jira_issue *issue, bool done)
{
	struct tentry *e = calloc(1, sizeof(*e));
	if (e) {
		e->issue = issue;
		e->done = done;
	}
	return e;
}

void tree_entry_free(struct tentry *e)
{
	if (e) {
		jira_issue_unref(e->issue);
		free(e);
	}
}

/* Tell the kernel's side that key changed (and whether its name did).
 * Called with p->lock held. */
void tree_changed(struct project *p, const char *key, bool moved)
{
	struct tree *t = p->tree;
	if (t->changed)
		t->changed(t->changed_ctx, key, moved);
}

/* Put an issue into p's map (a new reference is taken), replacing what the
 * entry held; a write newer than `fetched` keeps the entry stale.  Called
 * with p->lock held.  0 or -ENOMEM. */
int tree_put_issue(struct project *p, struct map *m, struct jira_issue *is,
		     int64_t fetched)
{
	struct tentry *e = map_get(m, is->key);
	bool was_done = e && e->done;
	bool was = e && e->issue != is;
	if (!e) {
		e = tree_entry_new(NULL, is->done);
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
		tree_changed(p, is->key, e->done != was_done);
	return 0;
}

void tree_drop_entry(struct project *p, const char *key)
{
	struct tentry *e = map_del(p->tickets, key);
	if (e && e->stale_since)
		p->nstale--;
	if (e)
		tree_changed(p, key, true);
	tree_entry_free(e);
}

/* Recompute the directories' times.  Called with p->lock held. */
void tree_update_mtimes(struct project *p)
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
int tree_install_listing(struct project *p, struct jira_issue **issues,
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
			tree_changed(p, is->key, was->done != is->done);
		tree_put_issue(p, m, is, started);
	}
	/* what is left of the old listing is gone from Jira */
	it = map_iter_start(old);
	while (map_iter_next(&it)) {
		if (it.value && !map_get(m, it.key))
			tree_changed(p, it.key, true);
		tree_entry_free(it.value);
	}
	map_free(old);
	tree_update_mtimes(p);
	/* a fresh listing answers every "is it there" question itself */
	map_free(p->missing);
	p->missing = map_new();
	return p->missing ? 0 : -ENOMEM;
}
