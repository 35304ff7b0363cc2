/* attach.c - see attach.h */
#include "fs/attach.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/map.h"

#define ATTACH_STATE "attachments"
#define EXT_MAX 32 /* an extension kept when a long name is cut */

struct attach {
	char *up_path;         /* STATE/attachments/up */
	int cachefd, upfd;     /* STATE/attachments/{cache,up} */
	struct jira_client *client;
	size_t cache_max;
	int64_t ttl_ms;
	pthread_mutex_t lock;  /* guards what follows */
	pthread_cond_t done;   /* a download ended (CLOCK_MONOTONIC) */
	struct map *fetching;  /* ids being downloaded */
	int64_t meta_at;       /* when meta was read (0: never) */
	bool enabled;
	int64_t limit;
	uint64_t downloads, uploads;
};

/* ---- names -------------------------------------------------------------- */

/* The start of the extension of s (len bytes): its last ".", not the
 * first byte, at most EXT_MAX bytes from the end; else len. */
static size_t ext_at(const char *s, size_t len)
{
	const char *dot = memrchr(s, '.', len);
	if (!dot || dot == s || (size_t)(s + len - dot) > EXT_MAX)
		return len;
	return (size_t)(dot - s);
}

/* Cut n back to a UTF-8 character boundary of s. */
static size_t utf8_cut(const char *s, size_t n)
{
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* out = stem + mid + ext within NAME_LEN - 1 bytes: the stem is cut. */
static void compose(const char *stem, size_t ls, const char *mid,
		    const char *ext, size_t le, char *out)
{
	size_t lm = strlen(mid), room = NAME_LEN - 1;
	if (lm + le > room) { /* an extension too long to keep */
		le = 0;
		if (lm > room)
			lm = room;
	}
	if (ls + lm + le > room)
		ls = utf8_cut(stem, room - lm - le);
	memmove(out, stem, ls); /* stem may be out */
	memcpy(out + ls, mid, lm);
	memmove(out + ls + lm, ext, le);
	out[ls + lm + le] = '\0';
}

void attach_safe_name(const char *name, char *out)
{
	char buf[4096];
	size_t n = 0;
	bool dots = true;
	for (const unsigned char *c = (const unsigned char *)name;
	     *c && n < sizeof(buf) - 1; c++) {
		buf[n++] = *c == '/' || *c < 0x20 || *c == 0x7f ? '_'
								  : (char)*c;
		dots = dots && *c == '.';
	}
	buf[n] = '\0';
	const char *prefix = !n || (dots && n <= 2) ? "_" : "";
	size_t e = ext_at(buf, n);
	char stem[4096 + 2];
	snprintf(stem, sizeof(stem), "%s%.*s", prefix, (int)e, buf);
	compose(stem, strlen(stem), "", buf + e, n - e, out);
}

void attach_dup_name(const char *safe, const char *id, unsigned n,
		     char *out)
{
	char mid[64], in[NAME_LEN];
	snprintf(in, sizeof(in), "%s", safe);
	size_t len = strlen(in), e = ext_at(in, len);
	if (n)
		snprintf(mid, sizeof(mid), " (%s-%u)", id, n + 1);
	else
		snprintf(mid, sizeof(mid), " (%s)", id);
	compose(in, e, mid, in + e, len - e, out);
}

static bool taken(const struct attach_dir *d, size_t k, const char *name)
{
	for (size_t j = 0; j < k; j++)
		if (strcmp(d->names[j], name) == 0)
			return true;
	return false;
}

int attach_dir_of(const struct jira_issue *i, struct attach_dir *d)
{
	size_t len;
	memset(d, 0, sizeof(*d));
	if (!i->attachments)
		return 0;
	char *text = jira_issue_text(i, &len);
	if (!text)
		return -EIO;
	int r = jira_attachments_of(text, len, &d->a, &d->n);
	free(text);
	if (r)
		return r == -ENOMEM ? -ENOMEM : -EIO;
	if (d->n && !(d->names = calloc(d->n, sizeof(*d->names)))) {
		attach_dir_release(d);
		return -ENOMEM;
	}
	for (size_t k = 0; k < d->n; k++) {
		char safe[NAME_LEN], *name = d->names[k];
		attach_safe_name(d->a[k].filename, safe);
		snprintf(name, NAME_LEN, "%s", safe);
		/* taken by an older one: the id tells them apart, and should
		 * an older one be named so too, a count after it (each try a
		 * new name, which the cut to 255 bytes keeps) */
		for (unsigned n = 0; taken(d, k, name); n++)
			attach_dup_name(safe, d->a[k].id, n, name);
	}
	return 0;
}

long attach_dir_find(const struct attach_dir *d, const char *name)
{
	for (size_t k = 0; k < d->n; k++)
		if (strcmp(d->names[k], name) == 0)
			return (long)k;
	return -1;
}

void attach_dir_release(struct attach_dir *d)
{
	jira_attachments_free(d->a, d->n);
	free(d->names);
	memset(d, 0, sizeof(*d));
}

/* ---- the mount's state -------------------------------------------------- */

static int subdir(int parent, const char *name)
{
	if (mkdirat(parent, name, 0700) && errno != EEXIST)
		return -1;
	return openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The directory dir of parent ("." for parent itself) to read, with a
 * reading position of its own (a dup() would share parent's); NULL when
 * it cannot be opened. */
static DIR *open_dir(int parent, const char *dir)
{
	int fd = openat(parent, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	return d;
}

/* Downloads a crash left half done. */
static void sweep_partial(int dirfd)
{
	DIR *dir = open_dir(dirfd, ".");
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir)))
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") &&
		    strcmp(e->d_name, ".."))
			unlinkat(dirfd, e->d_name, 0);
	closedir(dir);
}

struct attach *attach_new(const char *state_dir, struct jira_client *c,
			  size_t cache_max, int64_t ttl_ms)
{
	struct attach *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->cachefd = a->upfd = -1;
	a->client = c;
	a->cache_max = cache_max;
	a->ttl_ms = ttl_ms;
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->done, &ca);
	pthread_condattr_destroy(&ca);
	a->fetching = map_new();
	int state = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int top = state >= 0 ? subdir(state, ATTACH_STATE) : -1;
	if (top >= 0) {
		a->cachefd = subdir(top, "cache");
		a->upfd = subdir(top, "up");
		close(top);
	}
	if (state >= 0)
		close(state);
	size_t pl = strlen(state_dir) + sizeof(ATTACH_SPOOL_TAIL);
	if ((a->up_path = malloc(pl))) /* without the tail's last "/" */
		snprintf(a->up_path, pl, "%s%.*s", state_dir,
			 (int)strlen(ATTACH_SPOOL_TAIL) - 1, ATTACH_SPOOL_TAIL);
	if (a->cachefd < 0 || a->upfd < 0 || !a->fetching || !a->up_path) {
		jlog_err("cannot use %s/" ATTACH_STATE ": %s", state_dir,
			 strerror(errno ? errno : ENOMEM));
		attach_free(a);
		return NULL;
	}
	sweep_partial(a->cachefd);
	return a;
}

void attach_free(struct attach *a)
{
	if (!a)
		return;
	if (a->cachefd >= 0)
		close(a->cachefd);
	if (a->upfd >= 0)
		close(a->upfd);
	map_free(a->fetching);
	free(a->up_path);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* ---- the cache ---------------------------------------------------------- */

struct cached {
	char name[32];
	off_t size;
	struct timespec used; /* mtime: set at each fetch */
};

static int by_use(const void *x, const void *y)
{
	const struct cached *a = x, *b = y;
	if (a->used.tv_sec != b->used.tv_sec)
		return a->used.tv_sec < b->used.tv_sec ? -1 : 1;
	if (a->used.tv_nsec != b->used.tv_nsec)
		return a->used.tv_nsec < b->used.tv_nsec ? -1 : 1;
	return 0;
}

/* The cached files (ids only), oldest use first; *total their bytes. */
static struct cached *cache_scan(struct attach *a, size_t *n, size_t *total)
{
	struct cached *v = NULL;
	size_t cap = 0;
	*n = *total = 0;
	DIR *dir = open_dir(a->cachefd, ".");
	if (!dir)
		return NULL;
	struct dirent *e;
	struct stat st;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= 32 ||
		    fstatat(a->cachefd, e->d_name, &st, 0) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			struct cached *nv =
				realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		snprintf(v[*n].name, sizeof(v[*n].name), "%s", e->d_name);
		v[*n].size = st.st_size;
		v[*n].used = st.st_mtim;
		*total += (size_t)st.st_size;
		(*n)++;
	}
	closedir(dir);
	if (v)
		qsort(v, *n, sizeof(*v), by_use);
	return v;
}

/* Remove the least recently used files until the rest fits, keeping
 * `keep`. */
static void cache_trim(struct attach *a, const char *keep)
{
	size_t n, total;
	struct cached *v = cache_scan(a, &n, &total);
	for (size_t k = 0; k < n && total > a->cache_max; k++) {
		if (strcmp(v[k].name, keep) == 0)
			continue;
		if (unlinkat(a->cachefd, v[k].name, 0) == 0)
			total -= (size_t)v[k].size;
	}
	free(v);
}

int attach_fetch(struct attach *a, const struct jira_attachment *att,
		 deadline_t d, int *out)
{
	struct timespec ts = deadline_timespec(d);
	int ret = 0;
	*out = -1;
	pthread_mutex_lock(&a->lock);
	/* one download of an id at a time: the others wait for it */
	while (map_get(a->fetching, att->id) && ret == 0)
		ret = pthread_cond_timedwait(&a->done, &a->lock, &ts);
	if (ret) {
		pthread_mutex_unlock(&a->lock);
		return -ETIMEDOUT;
	}
	int fd = openat(a->cachefd, att->id, O_RDONLY | O_CLOEXEC);
	struct stat held;
	if (fd >= 0 && att->size >= 0 &&
	    (fstat(fd, &held) || held.st_size != att->size)) {
		/* not what Jira says it is (a crash before the bytes were on
		 * disk): downloaded again */
		close(fd);
		unlinkat(a->cachefd, att->id, 0);
		fd = -1;
	}
	if (fd >= 0) {
		futimens(fd, NULL); /* used now */
		pthread_mutex_unlock(&a->lock);
		*out = fd;
		return 0;
	}
	if (map_put(a->fetching, att->id, (void *)1, NULL)) {
		pthread_mutex_unlock(&a->lock);
		return -ENOMEM;
	}
	pthread_mutex_unlock(&a->lock);

	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".%s.part", att->id);
	fd = openat(a->cachefd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	struct jira_error err = { 0 };
	if (fd < 0) {
		ret = -errno;
		jlog_err("cannot download attachment %s (%s): %s", att->id,
			 att->filename, strerror(errno));
	} else {
		enum jira_status st =
			jira_attach_download(a->client, att, fd, d, &err);
		if (st == JIRA_OK &&
		    renameat(a->cachefd, tmp, a->cachefd, att->id) == 0) {
			*out = fd;
		} else {
			ret = st == JIRA_OK ? -errno : -fs_errno(st);
			jlog_err("cannot download attachment %s (%s): %s",
				 att->id, att->filename,
				 st == JIRA_OK ? strerror(errno) : err.msg);
			unlinkat(a->cachefd, tmp, 0);
			close(fd);
		}
	}
	pthread_mutex_lock(&a->lock);
	map_del(a->fetching, att->id);
	if (!ret)
		a->downloads++;
	pthread_cond_broadcast(&a->done);
	pthread_mutex_unlock(&a->lock);
	if (!ret)
		cache_trim(a, att->id);
	return ret;
}

/* ---- what the server allows --------------------------------------------- */

int attach_may_create(struct attach *a, const char *key, deadline_t d,
		      int64_t *limit, char *why, size_t whysize)
{
	struct jira_error err = { 0 };
	*limit = 0;
	why[0] = '\0';
	pthread_mutex_lock(&a->lock);
	bool due = !a->meta_at || clock_mono_ms() - a->meta_at >= a->ttl_ms;
	pthread_mutex_unlock(&a->lock);
	if (due) {
		bool enabled;
		int64_t lim;
		if (jira_attach_meta(a->client, d, &enabled, &lim, &err) ==
		    JIRA_OK) {
			pthread_mutex_lock(&a->lock);
			a->enabled = enabled;
			a->limit = lim;
			a->meta_at = clock_mono_ms();
			pthread_mutex_unlock(&a->lock);
		} else {
			jlog_warn("cannot read Jira's attachment settings: %s",
				  err.msg);
		}
	}
	pthread_mutex_lock(&a->lock);
	bool known = a->meta_at != 0, enabled = a->enabled;
	*limit = a->limit;
	pthread_mutex_unlock(&a->lock);
	if (!known)
		return 0; /* the outbox will hear it from Jira */
	if (!enabled) {
		snprintf(why, whysize,
			 "attachments are disabled in Jira (ask a Jira "
			 "admin: Attachments in the system settings)");
		return -ENOTSUP;
	}
	bool allowed = true;
	enum jira_status st =
		jira_attach_allowed(a->client, key, d, &allowed, &err);
	/* the ticket exists (its directory was found): a failure to ask
	 * leaves it to Jira when the upload is sent */
	if (st == JIRA_OK && !allowed) {
		snprintf(why, whysize,
			 "the account may not attach files to %s (the Create "
			 "Attachments permission)",
			 key);
		return -EACCES;
	}
	return 0;
}

/* ---- uploads ------------------------------------------------------------ */

int attach_spool_create(struct attach *a, const char *key, const char *name,
			int *fd)
{
	char rel[2 * NAME_LEN + 2];
	if (mkdirat(a->upfd, key, 0700) && errno != EEXIST)
		return -errno;
	snprintf(rel, sizeof(rel), "%s/%s", key, name);
	*fd = openat(a->upfd, rel, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		     0600);
	return *fd < 0 ? -errno : 0;
}

int attach_spool_path(struct attach *a, const char *key, const char *name,
		      char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s/%s", a->up_path, key, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int attach_spool_sync(struct attach *a, const char *key, int fd)
{
	if (fsync(fd))
		return -errno;
	int dir = openat(a->upfd, key, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = dir < 0 || fsync(dir) || fsync(a->upfd) ? -errno : 0;
	if (dir >= 0)
		close(dir);
	return ret;
}

int attach_spool_stat(struct attach *a, const char *key, const char *name,
		      struct stat *st)
{
	char rel[2 * NAME_LEN + 2];
	snprintf(rel, sizeof(rel), "%s/%s", key, name);
	return fstatat(a->upfd, rel, st, AT_SYMLINK_NOFOLLOW) ? -ENOENT : 0;
}

void attach_spool_remove(struct attach *a, const char *key, const char *name)
{
	char rel[2 * NAME_LEN + 2];
	snprintf(rel, sizeof(rel), "%s/%s", key, name);
	unlinkat(a->upfd, rel, 0);
	unlinkat(a->upfd, key, AT_REMOVEDIR); /* when it was the last */
}

/* fn for each name in dir (relative to upfd, "." for upfd itself). */
static void each(struct attach *a, const char *dir,
		 void (*fn)(void *ctx, const char *name,
			    const struct stat *st),
		 void *ctx)
{
	DIR *dp = open_dir(a->upfd, dir);
	if (!dp)
		return;
	struct dirent *e;
	struct stat st;
	while ((e = readdir(dp)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0)
			fn(ctx, e->d_name, &st);
	closedir(dp);
}

void attach_spool_list(struct attach *a, const char *key,
		       void (*fn)(void *ctx, const char *name,
				  const struct stat *st),
		       void *ctx)
{
	each(a, key, fn, ctx);
}

struct sweep_ctx {
	struct attach *a;
	const char *key;
	bool (*kept)(void *ctx, const char *path);
	void *ctx;
};

static void sweep_file(void *arg, const char *name, const struct stat *st)
{
	struct sweep_ctx *s = arg;
	char rel[2 * NAME_LEN + 2];
	snprintf(rel, sizeof(rel), "%s/%s", s->key, name);
	if (!S_ISREG(st->st_mode) || s->kept(s->ctx, rel))
		return;
	jlog_notice("%s/%s: an upload that never reached the outbox; "
		    "removed",
		    s->key, name);
	attach_spool_remove(s->a, s->key, name);
}

static void sweep_key(void *arg, const char *key, const struct stat *st)
{
	struct sweep_ctx s = *(struct sweep_ctx *)arg;
	if (!S_ISDIR(st->st_mode))
		return;
	s.key = key;
	each(s.a, key, sweep_file, &s);
	unlinkat(s.a->upfd, key, AT_REMOVEDIR); /* when it is empty */
}

void attach_spool_sweep(struct attach *a,
			bool (*kept)(void *ctx, const char *path), void *ctx)
{
	struct sweep_ctx s = { a, NULL, kept, ctx };
	each(a, ".", sweep_key, &s);
}

struct keys_ctx {
	const char *project;
	void (*fn)(void *ctx, const char *key);
	void *ctx;
};

static void key_of(void *arg, const char *name, const struct stat *st)
{
	struct keys_ctx *k = arg;
	size_t pl = strlen(k->project);
	if (S_ISDIR(st->st_mode) && strncmp(name, k->project, pl) == 0 && name[pl] == '-')
		k->fn(k->ctx, name);
}

void attach_spool_keys(struct attach *a, const char *project,
		       void (*fn)(void *ctx, const char *key), void *ctx)
{
	struct keys_ctx k = { project, fn, ctx };
	each(a, ".", key_of, &k);
}

void attach_stats(struct attach *a, struct attach_stats *out)
{
	size_t n, total;
	free(cache_scan(a, &n, &total));
	pthread_mutex_lock(&a->lock);
	out->cached = n;
	out->cached_bytes = total;
	out->cache_max = a->cache_max;
	out->downloads = a->downloads;
	out->uploads = a->uploads;
	pthread_mutex_unlock(&a->lock);
}

void attach_uploaded(struct attach *a)
{
	pthread_mutex_lock(&a->lock);
	a->uploads++;
	pthread_mutex_unlock(&a->lock);
}
