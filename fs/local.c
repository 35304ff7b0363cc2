/* local.c - see local.h */
#include "fs/local.h"
#include "fs/local_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/alias.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/map.h"
#include "util/strbuf.h"


static struct local_node *local_node_new(enum local_kind kind, mode_t mode)
{
	struct local_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	atomic_init(&n->refs, 1);
	n->kind = kind;
	n->mode = mode & 07777;
	n->linked = true;
	n->append_from = -1;
	local_now(&n->mtime);
	n->atime = n->ctime = n->mtime;
	return n;
}

static void node_ref(struct local_node *n)
{
	atomic_fetch_add(&n->refs, 1);
}

/* Free a node whose last reference went; l->lock held or not needed. */
static void local_node_free(struct local *l, struct local_node *n)
{
	if (l)
		l->total -= n->data.len;
	strbuf_release(&n->data);
	free(n->error);
	free(n->key);
	free(n->dir);
	free(n->name);
	free(n);
}

/* Record where n is; called with the lock held (or before it is shared). */
static void local_place(struct local_node *n, const char *dir, const char *name)
{
	free(n->dir);
	free(n->name);
	n->dir = strdup(dir);
	n->name = strdup(name);
}

static char *hidden_key(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *k = malloc(n);
	if (k)
		snprintf(k, n, "%s/%s", dir, name);
	return k;
}

/* Forget the hidden alias at dir/name; lock held. */
static void local_unhide(struct local *l, const char *dir, const char *name)
{
	char *k = hidden_key(dir, name);
	if (k)
		free(map_del(l->hidden, k));
	free(k);
}

/* Remember a removed alias, so that writing the name again updates its
 * ticket; lock held. */
static void local_hide(struct local *l, const char *dir, const char *name,
		 const char *key)
{
	char *k = hidden_key(dir, name), *v = strdup(key), *old = NULL;
	if (k && v && map_put(l->hidden, k, v, (void **)&old) == 0)
		v = NULL;
	free(old);
	free(v);
	free(k);
}

void local_node_unref(struct local *l, struct local_node *n)
{
	if (!n || atomic_fetch_sub(&n->refs, 1) != 1)
		return;
	pthread_mutex_lock(&l->lock);
	local_node_free(l, n);
	pthread_mutex_unlock(&l->lock);
}

/* Drop the directory's reference; called with the lock held. */
static void local_unlink_node(struct local *l, struct local_node *n)
{
	n->linked = false;
	free(n->dir);
	free(n->name);
	n->dir = n->name = NULL;
	if (atomic_fetch_sub(&n->refs, 1) == 1)
		local_node_free(l, n);
}

static struct map *local_dir_of(struct local *l, const char *dir, bool create)
{
	struct map *d = map_get(l->dirs, dir);
	if (!d && create) {
		d = map_new();
		if (d && map_put(l->dirs, dir, d, NULL)) {
			map_free(d);
			d = NULL;
		}
	}
	return d;
}

static int local_alias_put(struct local *l, const char *dir, const char *name,
		    const char *key)
{
	struct map *d = local_dir_of(l, dir, true);
	struct local_node *n = local_node_new(LOCAL_ALIAS, 0777);
	if (!d || !n || !(n->key = strdup(key))) {
		if (n)
			local_node_free(NULL, n);
		return -ENOMEM;
	}
	void *old = NULL;
	if (map_put(d, name, n, &old)) {
		local_node_free(NULL, n);
		return -ENOMEM;
	}
	local_place(n, dir, name);
	if (old)
		local_unlink_node(l, old);
	local_unhide(l, dir, name);
	return 0;
}

/* ---- the alias journal (fs/alias.h) ----------------------------------- */

/* Record a change of an alias; without the local lock. */
static void journal(struct local *l, const char *op, const char *dir,
		    const char *name, const char *key)
{
	if (l->journal)
		alias_journal_add(l->journal, op, dir, name, key);
}

/* One line of the journal, at load (no other thread yet). */
static void replay(void *ctx, const char *op, const char *dir,
		   const char *name, const char *key)
{
	struct local *l = ctx;
	if (strcmp(op, "+") == 0) {
		if (key)
			local_alias_put(l, dir, name, key);
		return;
	}
	if (strcmp(op, "-") != 0 && strcmp(op, "~") != 0)
		return;
	struct map *d = local_dir_of(l, dir, false);
	struct local_node *n = d ? map_get(d, name) : NULL;
	if (n && n->kind == LOCAL_ALIAS)
		local_unlink_node(l, map_del(d, name));
	if (op[0] == '~' && key)
		local_hide(l, dir, name, key);
	else
		local_unhide(l, dir, name);
}

/* Rewrite the journal with only the live aliases and removed ones. */
static void compact(struct local *l)
{
	struct strbuf sb = STRBUF_INIT;
	struct map_iter di = map_iter_start(l->dirs);
	while (map_iter_next(&di)) {
		struct map_iter ni = map_iter_start(di.value);
		while (map_iter_next(&ni)) {
			struct local_node *n = ni.value;
			if (n->kind == LOCAL_ALIAS)
				alias_journal_line(&sb, "+", di.key, ni.key,
						   n->key);
		}
	}
	struct map_iter hi = map_iter_start(l->hidden);
	while (map_iter_next(&hi)) {
		const char *slash = strrchr(hi.key, '/');
		char *dir = strndup(hi.key, (size_t)(slash - hi.key));
		if (dir)
			alias_journal_line(&sb, "~", dir, slash + 1, hi.value);
		else
			sb.failed = true;
		free(dir);
	}
	alias_journal_rewrite(l->journal, &sb);
	strbuf_release(&sb);
}

/* ---- life ----------------------------------------------------------------- */

struct local *local_new(const char *state_dir)
{
	struct local *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->dirs = map_new();
	l->errors = map_new();
	l->hidden = map_new();
	pthread_mutex_init(&l->lock, NULL);
	cond_init_monotonic(&l->commit_cv);
	if (!l->dirs || !l->errors || !l->hidden) {
		local_free(l);
		return NULL;
	}
	if (state_dir) {
		l->journal = alias_journal_open(state_dir);
		size_t lines =
			l->journal ? alias_journal_load(l->journal, replay, l)
				   : 0;
		size_t live = map_count(l->hidden);
		struct map_iter di = map_iter_start(l->dirs);
		while (map_iter_next(&di))
			live += map_count(di.value);
		if (lines > live)
			compact(l);
		if (live)
			jlog_info("%zu aliases from %s", live,
				  alias_journal_path(l->journal));
	}
	return l;
}

void local_free(struct local *l)
{
	if (!l)
		return;
	if (l->dirs) {
		struct map_iter di = map_iter_start(l->dirs);
		while (map_iter_next(&di)) {
			struct map_iter ni = map_iter_start(di.value);
			while (map_iter_next(&ni))
				local_unlink_node(l, ni.value);
			map_free(di.value);
		}
		map_free(l->dirs);
	}
	struct map *strmaps[] = { l->errors, l->hidden };
	for (size_t i = 0; i < 2; i++) {
		if (!strmaps[i])
			continue;
		struct map_iter it = map_iter_start(strmaps[i]);
		while (map_iter_next(&it))
			free(it.value);
		map_free(strmaps[i]);
	}
	pthread_cond_destroy(&l->commit_cv);
	pthread_mutex_destroy(&l->lock);
	alias_journal_close(l->journal);
	free(l);
}

/* ---- names -------------------------------------------------------------- */

int local_get(struct local *l, const char *dir, const char *name,
	      struct local_node **out)
{
	pthread_mutex_lock(&l->lock);
	struct map *d = local_dir_of(l, dir, false);
	struct local_node *n = d ? map_get(d, name) : NULL;
	if (n)
		node_ref(n);
	pthread_mutex_unlock(&l->lock);
	*out = n;
	return n ? 0 : -ENOENT;
}

bool local_exists(struct local *l, const char *dir, const char *name)
{
	pthread_mutex_lock(&l->lock);
	struct map *d = local_dir_of(l, dir, false);
	bool found = d && map_get(d, name);
	pthread_mutex_unlock(&l->lock);
	return found;
}

int local_create(struct local *l, const char *dir, const char *name,
		 enum local_kind kind, mode_t mode, struct local_node **out)
{
	int ret = 0;
	pthread_mutex_lock(&l->lock);
	struct map *d = local_dir_of(l, dir, true);
	struct local_node *n = NULL;
	if (!d) {
		ret = -ENOMEM;
	} else if (map_get(d, name)) {
		ret = -EEXIST;
	} else if (!(n = local_node_new(kind, mode)) || map_put(d, name, n, NULL)) {
		if (n)
			local_node_free(NULL, n);
		n = NULL;
		ret = -ENOMEM;
	} else {
		local_place(n, dir, name);
	}
	if (n && out)
		node_ref(n);
	pthread_mutex_unlock(&l->lock);
	if (out)
		*out = n;
	return ret;
}

int local_create_view(struct local *l, const char *dir, const char *name,
		      const char *data, size_t len, off_t append_from,
		      struct local_node **out)
{
	if (len > LOCAL_MAX_FILE)
		return -EFBIG;
	/* made whole before it is placed: a reader sees it complete */
	struct local_node *n = local_node_new(LOCAL_OVERLAY, 0644);
	if (!n || strbuf_add(&n->data, data, len)) {
		if (n)
			local_node_free(NULL, n);
		return -ENOMEM;
	}
	n->append_from = append_from;
	int ret = 0;
	void *old = NULL;
	pthread_mutex_lock(&l->lock);
	struct map *d = local_dir_of(l, dir, true);
	if (l->total + len > LOCAL_MAX_TOTAL)
		ret = -ENOSPC;
	else if (!d || map_put(d, name, n, &old))
		ret = -ENOMEM;
	if (!ret) {
		l->total += len;
		local_place(n, dir, name);
		if (old)
			local_unlink_node(l, old);
		if (out)
			node_ref(n);
	}
	pthread_mutex_unlock(&l->lock);
	if (ret)
		local_node_free(NULL, n);
	if (out)
		*out = ret ? NULL : n;
	return ret;
}

int local_unlink(struct local *l, const char *dir, const char *name)
{
	pthread_mutex_lock(&l->lock);
	struct map *d = local_dir_of(l, dir, false);
	struct local_node *n = d ? map_del(d, name) : NULL;
	char *key = n && n->kind == LOCAL_ALIAS && n->key ? strdup(n->key)
							  : NULL;
	if (key)
		local_hide(l, dir, name, key);
	if (n)
		local_unlink_node(l, n);
	pthread_mutex_unlock(&l->lock);
	if (key)
		journal(l, "~", dir, name, key);
	free(key);
	return n ? 0 : -ENOENT;
}

char *local_hidden_alias(struct local *l, const char *dir, const char *name)
{
	char *k = hidden_key(dir, name);
	pthread_mutex_lock(&l->lock);
	const char *v = k ? map_get(l->hidden, k) : NULL;
	char *key = v ? strdup(v) : NULL;
	pthread_mutex_unlock(&l->lock);
	free(k);
	return key;
}

int local_node_where(struct local *l, struct local_node *n, char *dir,
		     size_t dsize, char *name, size_t nsize)
{
	pthread_mutex_lock(&l->lock);
	int ret = n->linked && n->dir && n->name ? 0 : -ENOENT;
	if (!ret) {
		snprintf(dir, dsize, "%s", n->dir);
		snprintf(name, nsize, "%s", n->name);
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

int local_commit_begin(struct local *l, struct local_node *n, int64_t d)
{
	struct timespec ts = deadline_timespec(d);
	int ret = 0;
	pthread_mutex_lock(&l->lock);
	while (n->busy && !ret)
		if (pthread_cond_timedwait(&l->commit_cv, &l->lock, &ts) ==
		    ETIMEDOUT)
			ret = -ETIMEDOUT;
	if (!ret)
		n->busy = true;
	pthread_mutex_unlock(&l->lock);
	return ret;
}

void local_commit_end(struct local *l, struct local_node *n)
{
	pthread_mutex_lock(&l->lock);
	n->busy = false;
	pthread_cond_broadcast(&l->commit_cv);
	pthread_mutex_unlock(&l->lock);
}

off_t local_append_from(struct local *l, struct local_node *n)
{
	pthread_mutex_lock(&l->lock);
	off_t a = n->append_from;
	pthread_mutex_unlock(&l->lock);
	return a;
}

void local_set_append_from(struct local *l, struct local_node *n, off_t off)
{
	pthread_mutex_lock(&l->lock);
	n->append_from = off;
	pthread_mutex_unlock(&l->lock);
}

int local_rename(struct local *l, const char *from_dir, const char *from,
		 const char *to_dir, const char *to, enum local_kind kind)
{
	int ret = 0;
	char *alias_key = NULL;
	bool old_alias = false, was_alias = false;
	pthread_mutex_lock(&l->lock);
	struct map *fd = local_dir_of(l, from_dir, false);
	struct map *td = local_dir_of(l, to_dir, true);
	struct local_node *n = fd ? map_get(fd, from) : NULL;
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	if (fd == td && strcmp(from, to) == 0) {
		if (n->kind != LOCAL_ALIAS)
			n->kind = kind;
		goto out;
	}
	if (!td) {
		ret = -ENOMEM;
		goto out;
	}
	void *old = NULL;
	if (map_put(td, to, n, &old)) {
		ret = -ENOMEM;
		goto out;
	}
	map_del(fd, from);
	local_place(n, to_dir, to);
	if (old && old != n) {
		old_alias = ((struct local_node *)old)->kind == LOCAL_ALIAS;
		local_unlink_node(l, old);
	}
	was_alias = n->kind == LOCAL_ALIAS;
	if (!was_alias)
		n->kind = kind;
	else
		alias_key = strdup(n->key);
	if (was_alias)
		local_unhide(l, to_dir, to);
	local_now(&n->ctime);
out:
	pthread_mutex_unlock(&l->lock);
	if (!ret && was_alias) {
		journal(l, "-", from_dir, from, NULL);
		if (alias_key)
			journal(l, "+", to_dir, to, alias_key);
	} else if (!ret && old_alias) {
		journal(l, "-", to_dir, to, NULL);
	}
	free(alias_key);
	return ret;
}

int local_alias_drop(struct local *l, const char *dir, const char *name)
{
	pthread_mutex_lock(&l->lock);
	struct map *d = local_dir_of(l, dir, false);
	struct local_node *n = d ? map_get(d, name) : NULL;
	char *k = hidden_key(dir, name);
	bool hidden = k && map_get(l->hidden, k);
	free(k);
	bool alias = n && n->kind == LOCAL_ALIAS;
	if (alias)
		local_unlink_node(l, map_del(d, name));
	local_unhide(l, dir, name);
	pthread_mutex_unlock(&l->lock);
	if (alias || hidden)
		journal(l, "-", dir, name, NULL);
	return alias || hidden ? 0 : -ENOENT;
}

int local_alias_set(struct local *l, const char *dir, const char *name,
		    const char *key)
{
	pthread_mutex_lock(&l->lock);
	int ret = local_alias_put(l, dir, name, key);
	pthread_mutex_unlock(&l->lock);
	if (!ret)
		journal(l, "+", dir, name, key);
	return ret;
}

void local_list(struct local *l, const char *dir,
		void (*fn)(void *ctx, const char *name,
			   const struct local_stat *st),
		void *ctx)
{
	pthread_mutex_lock(&l->lock);
	struct map *d = local_dir_of(l, dir, false);
	if (d) {
		struct map_iter it = map_iter_start(d);
		while (map_iter_next(&it)) {
			struct local_node *n = it.value;
			struct local_stat st = {
				.kind = n->kind,
				.mode = n->mode,
				.size = n->kind == LOCAL_ALIAS
						? 0
						: (off_t)n->data.len,
				.atime = n->atime,
				.mtime = n->mtime,
				.ctime = n->ctime,
				.has_error = n->error != NULL,
			};
			fn(ctx, it.key, &st);
		}
	}
	pthread_mutex_unlock(&l->lock);
}
