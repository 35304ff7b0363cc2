/* local.c - see local.h */
#include "fs/local.h"
#include "fs/local_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/map.h"
#include "util/strbuf.h"

void local_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

struct local_node *local_node_new(enum local_kind kind, mode_t mode)
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
void local_node_free(struct local *l, struct local_node *n)
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
void local_place(struct local_node *n, const char *dir, const char *name)
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
void local_unhide(struct local *l, const char *dir, const char *name)
{
	char *k = hidden_key(dir, name);
	if (k)
		free(map_del(l->hidden, k));
	free(k);
}

/* Remember a removed alias, so that writing the name again updates its
 * ticket; lock held. */
void local_hide(struct local *l, const char *dir, const char *name,
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
void local_unlink_node(struct local *l, struct local_node *n)
{
	n->linked = false;
	free(n->dir);
	free(n->name);
	n->dir = n->name = NULL;
	if (atomic_fetch_sub(&n->refs, 1) == 1)
		local_node_free(l, n);
}

struct map *local_dir_of(struct local *l, const char *dir, bool create)
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

int local_alias_put(struct local *l, const char *dir, const char *name,
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
	pthread_mutex_init(&l->journal_lock, NULL);
	cond_init_monotonic(&l->commit_cv);
	if (!l->dirs || !l->errors || !l->hidden) {
		local_free(l);
		return NULL;
	}
	if (state_dir) {
		size_t n = strlen(state_dir) + sizeof(ALIAS_JOURNAL) + 2;
		l->journal = malloc(n);
		if (l->journal)
			snprintf(l->journal, n, "%s/%s", state_dir,
				 ALIAS_JOURNAL);
		size_t lines = l->journal ? alias_journal_load(l) : 0;
		size_t live = map_count(l->hidden);
		struct map_iter di = map_iter_start(l->dirs);
		while (map_iter_next(&di))
			live += map_count(di.value);
		if (lines > live)
			alias_journal_compact(l);
		if (live)
			jlog_info("%zu aliases from %s", live, l->journal);
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
	pthread_mutex_destroy(&l->journal_lock);
	pthread_mutex_destroy(&l->lock);
	free(l->journal);
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
		alias_journal(l, "~", dir, name, key);
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
		alias_journal(l, "-", from_dir, from, NULL);
		if (alias_key)
			alias_journal(l, "+", to_dir, to, alias_key);
	} else if (!ret && old_alias) {
		alias_journal(l, "-", to_dir, to, NULL);
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
		alias_journal(l, "-", dir, name, NULL);
	return alias || hidden ? 0 : -ENOENT;
}

int local_alias_set(struct local *l, const char *dir, const char *name,
		    const char *key)
{
	pthread_mutex_lock(&l->lock);
	int ret = local_alias_put(l, dir, name, key);
	pthread_mutex_unlock(&l->lock);
	if (!ret)
		alias_journal(l, "+", dir, name, key);
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

/* ---- one node ----------------------------------------------------------- */

void local_node_stat(struct local *l, struct local_node *n,
		     struct local_stat *st)
{
	pthread_mutex_lock(&l->lock);
	st->kind = n->kind;
	st->mode = n->mode;
	st->size = n->kind == LOCAL_ALIAS ? 0 : (off_t)n->data.len;
	st->atime = n->atime;
	st->mtime = n->mtime;
	st->ctime = n->ctime;
	st->has_error = n->error != NULL;
	pthread_mutex_unlock(&l->lock);
}

bool local_node_linked(struct local *l, struct local_node *n)
{
	pthread_mutex_lock(&l->lock);
	bool linked = n->linked;
	pthread_mutex_unlock(&l->lock);
	return linked;
}

ssize_t local_read(struct local *l, struct local_node *n, char *buf,
		   size_t size, off_t off)
{
	ssize_t ret = 0;
	pthread_mutex_lock(&l->lock);
	if (off >= 0 && (size_t)off < n->data.len) {
		size_t avail = n->data.len - (size_t)off;
		if (size > avail)
			size = avail;
		memcpy(buf, n->data.buf + off, size);
		ret = (ssize_t)size;
	}
	local_now(&n->atime);
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* Make the content exactly `size` bytes (zero-filled when growing); called
 * with the lock held. */
static int resize(struct local *l, struct local_node *n, size_t size,
		  size_t limit)
{
	size_t max = limit && limit < LOCAL_MAX_FILE ? limit : LOCAL_MAX_FILE;
	if (size > max)
		return -EFBIG;
	if (size > n->data.len) {
		size_t grow = size - n->data.len;
		if (l->total + grow > LOCAL_MAX_TOTAL)
			return -ENOSPC;
		if (strbuf_grow(&n->data, grow))
			return -ENOMEM;
		memset(n->data.buf + n->data.len, 0, grow);
		l->total += grow;
	} else if (n->data.buf) {
		l->total -= n->data.len - size;
	}
	n->data.len = size;
	if (n->data.buf)
		n->data.buf[size] = '\0';
	return 0;
}

ssize_t local_write(struct local *l, struct local_node *n, const char *buf,
		    size_t size, off_t off, size_t limit)
{
	pthread_mutex_lock(&l->lock);
	if (off < 0) /* an append: at the end, as it is now */
		off = (off_t)n->data.len;
	ssize_t ret = (ssize_t)size;
	size_t end = (size_t)off + size;
	if (size && end > n->data.len) { /* writing nothing changes nothing */
		int r = resize(l, n, end, limit);
		if (r)
			ret = r;
	}
	if (ret > 0) {
		memcpy(n->data.buf + off, buf, size);
		local_now(&n->mtime);
		n->ctime = n->mtime;
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

int local_truncate(struct local *l, struct local_node *n, off_t size,
		   size_t limit)
{
	if (size < 0)
		return -EINVAL;
	pthread_mutex_lock(&l->lock);
	int ret = resize(l, n, (size_t)size, limit);
	if (!ret) {
		local_now(&n->mtime);
		n->ctime = n->mtime;
		if (size < n->append_from)
			n->append_from = -1; /* rewritten: an overwrite now */
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

int local_set_content(struct local *l, struct local_node *n,
		      const char *data, size_t len)
{
	pthread_mutex_lock(&l->lock);
	/* checked before anything is dropped: a refused replacement keeps
	 * the old content */
	int ret = len > LOCAL_MAX_FILE ? -EFBIG
		  : l->total - n->data.len + len > LOCAL_MAX_TOTAL ? -ENOSPC
								   : 0;
	if (!ret)
		ret = resize(l, n, 0, 0);
	if (!ret)
		ret = resize(l, n, len, 0);
	if (!ret && len)
		memcpy(n->data.buf, data, len);
	if (!ret) {
		local_now(&n->mtime);
		n->ctime = n->mtime;
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

char *local_content(struct local *l, struct local_node *n, size_t *len)
{
	pthread_mutex_lock(&l->lock);
	char *out = malloc(n->data.len + 1);
	if (out) {
		if (n->data.len)
			memcpy(out, n->data.buf, n->data.len);
		out[n->data.len] = '\0';
		*len = n->data.len;
	}
	pthread_mutex_unlock(&l->lock);
	return out;
}

int local_chmod(struct local *l, struct local_node *n, mode_t mode)
{
	pthread_mutex_lock(&l->lock);
	n->mode = mode & 07777;
	local_now(&n->ctime);
	pthread_mutex_unlock(&l->lock);
	return 0;
}

void local_utimens(struct local *l, struct local_node *n,
		   const struct timespec tv[2])
{
	struct timespec t;
	local_now(&t);
	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < 2; i++) {
		struct timespec *dst = i ? &n->mtime : &n->atime;
		if (!tv || tv[i].tv_nsec == UTIME_NOW)
			*dst = t;
		else if (tv[i].tv_nsec != UTIME_OMIT)
			*dst = tv[i];
	}
	n->ctime = t;
	pthread_mutex_unlock(&l->lock);
}

void local_set_error(struct local *l, struct local_node *n, const char *msg)
{
	char *copy = msg ? strdup(msg) : NULL;
	pthread_mutex_lock(&l->lock);
	free(n->error);
	n->error = copy;
	pthread_mutex_unlock(&l->lock);
}

char *local_error(struct local *l, struct local_node *n)
{
	pthread_mutex_lock(&l->lock);
	char *e = n->error ? strdup(n->error) : NULL;
	pthread_mutex_unlock(&l->lock);
	return e;
}

char *local_alias_key(struct local *l, struct local_node *n)
{
	pthread_mutex_lock(&l->lock);
	char *k = n->kind == LOCAL_ALIAS && n->key ? strdup(n->key) : NULL;
	pthread_mutex_unlock(&l->lock);
	return k;
}

void local_ticket_error_set(struct local *l, const char *key,
			    const char *msg)
{
	char *copy = msg ? strdup(msg) : NULL;
	pthread_mutex_lock(&l->lock);
	void *old = map_del(l->errors, key);
	free(old);
	if (copy && map_put(l->errors, key, copy, NULL))
		free(copy);
	pthread_mutex_unlock(&l->lock);
}

char *local_ticket_error(struct local *l, const char *key)
{
	pthread_mutex_lock(&l->lock);
	const char *e = map_get(l->errors, key);
	char *copy = e ? strdup(e) : NULL;
	pthread_mutex_unlock(&l->lock);
	return copy;
}
