/* local_data.c - what one local file holds: its bytes (within the limits
 * of fs/local.h), mode, times, error text and an alias's key; see
 * local.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/local_priv.h"

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

/* With the lock held: replace n's content with data.  Checked before
 * anything is dropped: a refused replacement keeps the old content. */
static int replace(struct local *l, struct local_node *n, const char *data,
		   size_t len)
{
	int ret = len > LOCAL_MAX_FILE ? -EFBIG
		  : l->total - n->data.len + len > LOCAL_MAX_TOTAL ? -ENOSPC
								   : 0;
	if (!ret)
		ret = resize(l, n, 0, 0);
	if (!ret)
		ret = resize(l, n, len, 0);
	if (ret)
		return ret;
	if (len)
		memcpy(n->data.buf, data, len);
	local_now(&n->mtime);
	n->ctime = n->mtime;
	return 0;
}

int local_set_content(struct local *l, struct local_node *n,
		      const char *data, size_t len)
{
	pthread_mutex_lock(&l->lock);
	int ret = replace(l, n, data, len);
	pthread_mutex_unlock(&l->lock);
	return ret;
}

int local_set_view(struct local *l, struct local_node *n, const char *data,
		   size_t len, off_t append_from)
{
	pthread_mutex_lock(&l->lock);
	int ret = replace(l, n, data, len);
	if (!ret) {
		n->append_from = append_from;
		free(n->error);
		n->error = NULL;
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
