/* queries.c - the searches of /queries/; see queries.h. */
#include "fs/queries.h"
#include "fs/queries_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "fs/node.h"
#include "fs/refresh.h"
#include "fs/tree.h"
#include "jira/issue.h"
#include "util/log.h"
#include "util/map.h"
#include "util/strbuf.h"

struct queries *queries_new(const char *state_dir, struct jira_client *c,
			    struct tree *t, int64_t ttl_ms,
			    int64_t bg_budget_ms, char *const *names,
			    char *const *jqls, size_t nfixed)
{
	struct queries *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->client = c;
	q->tree = t;
	q->ttl_ms = ttl_ms;
	q->bg_budget_ms = bg_budget_ms;
	q->results = map_new();
	q->errors = map_new();
	pthread_mutex_init(&q->lock, NULL);
	bg_init(&q->bg);
	q->favs = map_new();
	q->fixed = map_new();
	q->dirfd = q->favfd = -1;
	char path[4096];
	snprintf(path, sizeof(path), "%s/" QUERIES_DIR, state_dir);
	if (mkdir(path, 0700) && errno != EEXIST)
		jlog_warn("cannot make %s: %s; queries/ is empty", path,
			  strerror(errno));
	else if ((q->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
		 0)
		jlog_warn("cannot open %s: %s; queries/ is empty", path,
			  strerror(errno));
	if (q->dirfd >= 0 && (mkdirat(q->dirfd, FAVS_DIR, 0700) == 0 ||
			      errno == EEXIST))
		q->favfd = openat(q->dirfd, FAVS_DIR,
				  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!q->results || !q->errors || !q->favs || !q->fixed) {
		queries_free(q);
		return NULL;
	}
	for (size_t i = 0; i < nfixed && q->favfd >= 0; i++) {
		char file[NAME_LEN];
		snprintf(file, sizeof(file), "%s" QUERY_SUFFIX, names[i]);
		if (filters_put(q, file, jqls[i]) == 0)
			map_put(q->fixed, file, (void *)1, NULL);
		else
			jlog_warn("query.%s: cannot keep its text: %s", names[i],
				  strerror(errno));
	}
	return q;
}

static void result_free(struct result *r)
{
	if (!r)
		return;
	jira_issues_free(r->v, r->n);
	map_free(r->index);
	cache_destroy(&r->cache);
	free(r);
}

void queries_free(struct queries *q)
{
	if (!q)
		return;
	bg_close(&q->bg); /* the refreshes end with their transfers */
	for (struct map_iter it = map_iter_start(q->results);
	     map_iter_next(&it);)
		result_free(it.value);
	for (struct map_iter it = map_iter_start(q->errors);
	     map_iter_next(&it);)
		free(it.value);
	map_free(q->results);
	map_free(q->errors);
	map_free(q->favs);
	map_free(q->fixed);
	pthread_mutex_destroy(&q->lock);
	if (q->dirfd >= 0)
		close(q->dirfd);
	if (q->favfd >= 0)
		close(q->favfd);
	free(q);
}

/* ---- the texts ---------------------------------------------------------- */

static int need_dir(const struct queries *q)
{
	return q->dirfd >= 0 ? 0 : -EIO;
}

int queries_stat(struct queries *q, const char *name, struct stat *st)
{
	int ret = need_dir(q);
	if (ret)
		return ret;
	if (!queries_is_file(name))
		return -ENOENT;
	if (fstatat(q->dirfd, name, st, AT_SYMLINK_NOFOLLOW)) {
		if (errno != ENOENT || !filters_has(q, name) ||
		    fstatat(q->favfd, name, st, AT_SYMLINK_NOFOLLOW))
			return -ENOENT;
		st->st_mode = S_IFREG | 0444; /* Jira's: read-only */
	}
	return S_ISREG(st->st_mode) ? 0 : -ENOENT;
}

int queries_open(struct queries *q, const char *name, int flags, int *fd)
{
	int ret = need_dir(q);
	if (ret)
		return ret;
	if (!queries_is_file(name))
		return -EPERM;
	if (filters_has(q, name)) {
		if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
			return -EACCES; /* a favourite filter is Jira's */
		*fd = openat(q->favfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		return *fd < 0 ? -errno : 0;
	}
	flags &= O_ACCMODE | O_CREAT | O_TRUNC | O_EXCL;
	*fd = openat(q->dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
	return *fd < 0 ? -errno : 0;
}

/* With the lock held: forget what was read and refused for file name.
 * The result stays (a reader may wait on it), emptied; a read under way
 * reads again (fetch). */
static void forget(struct queries *q, const char *name)
{
	free(map_del(q->errors, name));
	char qname[NAME_LEN];
	if (!queries_is_definition(name, qname, sizeof(qname)))
		return;
	struct result *r = map_get(q->results, qname);
	if (!r)
		return;
	jira_issues_free(r->v, r->n);
	map_free(r->index);
	r->index = NULL;
	r->v = NULL;
	r->n = 0;
	r->cache.fetched_at = 0;
	r->gen++;
}

int queries_unlink(struct queries *q, const char *name)
{
	int ret = need_dir(q);
	if (ret)
		return ret;
	if (!queries_is_file(name))
		return -EISDIR;
	if (filters_has(q, name))
		return -EPERM;
	if (unlinkat(q->dirfd, name, 0))
		return -errno;
	pthread_mutex_lock(&q->lock);
	forget(q, name);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

int queries_rename(struct queries *q, const char *from, const char *to)
{
	int ret = need_dir(q);
	if (ret)
		return ret;
	if (!queries_is_file(from) || !queries_is_file(to) ||
	    filters_has(q, from))
		return -EPERM;
	if (renameat(q->dirfd, from, q->dirfd, to))
		return -errno;
	pthread_mutex_lock(&q->lock);
	forget(q, from);
	forget(q, to);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

char *queries_error(struct queries *q, const char *name)
{
	pthread_mutex_lock(&q->lock);
	const char *why = map_get(q->errors, name);
	char *out = why ? strdup(why) : NULL;
	pthread_mutex_unlock(&q->lock);
	return out;
}

/* The JQL of query qname, trimmed (malloc'd), or NULL with *err. */
static char *jql_of(struct queries *q, const char *qname, int *err)
{
	char name[NAME_LEN + 8];
	snprintf(name, sizeof(name), "%s" QUERY_SUFFIX, qname);
	int fd = -1;
	*err = queries_open(q, name, O_RDONLY, &fd);
	if (fd < 0) {
		return NULL;
	}
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t got;
	while ((got = read(fd, buf, sizeof(buf))) > 0 &&
	       sb.len <= QUERIES_MAX_TEXT)
		strbuf_add(&sb, buf, (size_t)got);
	close(fd);
	if (got < 0 || sb.failed || sb.len > QUERIES_MAX_TEXT) {
		*err = got < 0 ? -EIO : sb.failed ? -ENOMEM : -EFBIG;
		strbuf_release(&sb);
		return NULL;
	}
	size_t b = 0, e = sb.len;
	const char *s = strbuf_str(&sb);
	while (b < e && strchr(" \t\r\n", s[b]))
		b++;
	while (e > b && strchr(" \t\r\n", s[e - 1]))
		e--;
	char *jql = strndup(s + b, e - b);
	strbuf_release(&sb);
	*err = jql ? 0 : -ENOMEM;
	return jql;
}

int queries_define(struct queries *q, const char *name, deadline_t d)
{
	char qname[NAME_LEN];
	if (!queries_is_definition(name, qname, sizeof(qname)))
		return 0; /* a scratch file */
	int ret;
	char *jql = jql_of(q, qname, &ret);
	if (!jql)
		return ret;
	struct jira_error err = { 0 };
	unsigned total = 0;
	enum jira_status st =
		*jql ? jira_search_total(q->client, jql, d, &total, &err)
		     : jira_error_set(&err, JIRA_ERR_BAD_REQUEST,
				      "the query is empty");
	free(jql);
	ret = st == JIRA_OK ? 0 : -fs_errno(st);
	pthread_mutex_lock(&q->lock);
	forget(q, name);
	if (st == JIRA_ERR_BAD_REQUEST) {
		ret = -EINVAL;
		char *why = strdup(err.msg);
		if (why && map_put(q->errors, name, why, NULL))
			free(why);
	}
	pthread_mutex_unlock(&q->lock);
	if (st == JIRA_OK)
		jlog_notice(QUERIES_DIR "/%s: %u tickets", name, total);
	else if (ret == -EINVAL)
		jlog_warn(QUERIES_DIR "/%s: Jira refuses the query: %s", name,
			  err.msg);
	else
		jlog_warn(QUERIES_DIR "/%s: kept, not validated: %s", name,
			  err.msg);
	return ret;
}

bool queries_has(struct queries *q, const char *qname)
{
	char name[NAME_LEN + 8];
	struct stat st;
	if (strlen(qname) + sizeof(QUERY_SUFFIX) > NAME_LEN)
		return false;
	snprintf(name, sizeof(name), "%s" QUERY_SUFFIX, qname);
	if (queries_stat(q, name, &st))
		return false;
	pthread_mutex_lock(&q->lock);
	bool refused = map_get(q->errors, name) != NULL;
	pthread_mutex_unlock(&q->lock);
	return !refused;
}

/* Room in *names for one more than n: false when out of memory (then
 * nothing changed). */
static bool grow_names(char ***names, size_t *cap, size_t n)
{
	if (n < *cap)
		return true;
	size_t c2 = *cap ? *cap * 2 : 16;
	char **v = realloc(*names, c2 * sizeof(*v));
	if (!v)
		return false;
	*names = v;
	*cap = c2;
	return true;
}

int queries_list(struct queries *q,
		 void (*fn)(void *ctx, const char *name, const struct stat *st),
		 void *ctx)
{
	if (q->dirfd < 0)
		return 0;
	filters_read(q, deadline_in(q->bg_budget_ms / 4));
	int fd = dup(q->dirfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	rewinddir(dir);
	/* the user's texts, then the favourites they do not hide */
	pthread_mutex_lock(&q->lock);
	size_t nf = map_count(q->favs) + map_count(q->fixed), k = 0;
	char **favs = calloc(nf + 1, sizeof(*favs));
	for (struct map_iter it = map_iter_start(q->fixed);
	     favs && map_iter_next(&it);)
		if ((favs[k] = strdup(it.key)))
			k++;
	for (struct map_iter it = map_iter_start(q->favs);
	     favs && k < nf && map_iter_next(&it);)
		if ((favs[k] = strdup(it.key)))
			k++;
	pthread_mutex_unlock(&q->lock);
	char **names = NULL;
	size_t n = 0, cap = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		struct stat st;
		if (!queries_is_file(e->d_name) ||
		    queries_stat(q, e->d_name, &st))
			continue;
		fn(ctx, e->d_name, &st);
		char qname[NAME_LEN];
		if (!queries_is_definition(e->d_name, qname, sizeof(qname)))
			continue;
		if (!grow_names(&names, &cap, n))
			break;
		if ((names[n] = strdup(qname)))
			n++;
	}
	closedir(dir);
	for (size_t i = 0; i < k; i++) {
		struct stat st;
		char qname[NAME_LEN];
		if (filters_has(q, favs[i]) &&
		    queries_stat(q, favs[i], &st) == 0) {
			fn(ctx, favs[i], &st);
			if (queries_is_definition(favs[i], qname,
						  sizeof(qname)) &&
			    grow_names(&names, &cap, n) &&
			    (names[n] = strdup(qname)))
				n++;
		}
		free(favs[i]);
	}
	free(favs);
	for (size_t i = 0; i < n; i++) {
		if (queries_has(q, names[i]))
			fn(ctx, names[i], NULL);
		free(names[i]);
	}
	free(names);
	return 0;
}

/* ---- the results ------------------------------------------------------- */

/* Read qname's results and install them; its cache is marked refreshing.
 * A text defined again meanwhile is read again.  Called without the lock;
 * returns what cache_end returned. */
static int fetch(struct queries *q, const char *qname, struct result *r,
		 deadline_t d)
{
	int ret;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		uint64_t gen = r->gen;
		pthread_mutex_unlock(&q->lock);
		struct jira_issue **v = NULL;
		size_t n = 0;
		struct jira_error err = { 0 };
		char *jql = jql_of(q, qname, &ret);
		if (jql) {
			enum jira_status st = jira_search(
				q->client, jql, false, d, &v, &n, NULL, &err);
			ret = st == JIRA_OK ? 0 : -fs_errno(st);
			free(jql);
			atomic_fetch_add(&q->searches, 1);
			if (ret)
				jlog_warn(QUERIES_DIR "/%s: cannot read its "
					  "results: %s",
					  qname, err.msg);
		}
		/* the tickets linked to need no request of their own; a
		 * lookup finds its entry in the index */
		struct map *index = ret ? NULL : map_new();
		for (size_t i = 0; !ret && i < n; i++) {
			char entry[NAME_LEN];
			tree_offer(q->tree, v[i]);
			fs_ticket_name(entry, sizeof(entry), v[i]->key);
			if (index && entry[0] && !map_get(index, entry) &&
			    map_put(index, entry, v[i], NULL)) {
				map_free(index);
				index = NULL;
			}
		}
		if (!ret && !index)
			ret = -ENOMEM;
		pthread_mutex_lock(&q->lock);
		if (ret || gen == r->gen) {
			if (!ret) {
				struct jira_issue **old = r->v;
				size_t oldn = r->n;
				r->v = v;
				r->n = n;
				v = old;
				n = oldn;
				map_free(r->index);
				r->index = index;
				index = NULL;
			}
			map_free(index);
			ret = cache_end(&r->cache, ret);
			pthread_mutex_unlock(&q->lock);
			jira_issues_free(v, n);
			return ret;
		}
		map_free(index);
		jira_issues_free(v, n); /* an older text's */
	}
}

struct bg_job {
	struct queries *q;
	struct result *r;
	char qname[NAME_LEN];
};

static void bg_fetch(void *arg)
{
	struct bg_job *job = arg;
	fetch(job->q, job->qname, job->r,
	      deadline_in(job->q->bg_budget_ms));
	free(job);
}

/* With the lock held: qname's results, usable (read now if none is held,
 * in the background if they are stale), or NULL with *ret. */
static struct result *results(struct queries *q, const char *qname,
			      deadline_t d, int *ret)
{
	struct result *r = map_get(q->results, qname);
	if (!r) {
		if (!(r = calloc(1, sizeof(*r))) ||
		    map_put(q->results, qname, r, NULL)) {
			free(r);
			*ret = -ENOMEM;
			return NULL;
		}
		cache_init(&r->cache);
	}
	*ret = cache_begin(&r->cache, &q->lock, d, q->ttl_ms);
	if (*ret == 1 && r->cache.fetched_at) {
		struct bg_job *job = malloc(sizeof(*job));
		if (job) {
			job->q = q;
			job->r = r;
			snprintf(job->qname, sizeof(job->qname), "%s", qname);
		}
		if (job && bg_start_job(&q->bg, bg_fetch, job)) {
			*ret = 0;
			return r;
		}
		free(job);
	}
	if (*ret == 1) {
		pthread_mutex_unlock(&q->lock);
		*ret = fetch(q, qname, r, d);
		pthread_mutex_lock(&q->lock);
	}
	return *ret ? NULL : r;
}

/* "../../SEC/SEC-12.json" or "../../SEC/closed/SEC-12.json" for i, in the
 * directory the tree shows it in. */
static void target_of(struct queries *q, const struct jira_issue *i,
		      char *buf, size_t size)
{
	bool done = i->done, held;
	if (tree_where(q->tree, i->key, &held) == 0)
		done = held; /* a close or reopen written meanwhile */
	snprintf(buf, size, "../../%s/%s%s" TICKET_SUFFIX, i->project,
		 done ? CLOSED_DIR "/" : "", i->key);
}

int queries_results(struct queries *q, const char *qname, deadline_t d,
		    void (*fn)(void *ctx, const char *entry,
			       const char *target,
			       const struct timespec *mtime),
		    void *ctx)
{
	if (!queries_has(q, qname))
		return -ENOENT;
	int ret;
	pthread_mutex_lock(&q->lock);
	struct result *r = results(q, qname, d, &ret);
	struct map *seen = r ? map_new() : NULL;
	for (size_t k = 0; r && seen && k < r->n; k++) {
		const struct jira_issue *i = r->v[k];
		char entry[NAME_LEN], target[DIR_LEN + NAME_LEN];
		fs_ticket_name(entry, sizeof(entry), i->key);
		if (!entry[0] || map_get(seen, entry) ||
		    map_put(seen, entry, r->v[k], NULL))
			continue; /* a ticket on two pages is listed once */
		target_of(q, i, target, sizeof(target));
		fn(ctx, entry, target, &i->updated);
	}
	if (r && !seen)
		ret = -ENOMEM;
	pthread_mutex_unlock(&q->lock);
	map_free(seen);
	return ret;
}

int queries_link(struct queries *q, const char *qname, const char *entry,
		 deadline_t d, char *target, size_t size,
		 struct timespec *mtime)
{
	if (!queries_has(q, qname))
		return -ENOENT;
	int ret;
	pthread_mutex_lock(&q->lock);
	struct result *r = results(q, qname, d, &ret);
	const struct jira_issue *i =
		r && r->index ? map_get(r->index, entry) : NULL;
	if (i) {
		target_of(q, i, target, size);
		*mtime = i->updated;
	}
	pthread_mutex_unlock(&q->lock);
	return i ? 0 : r ? -ENOENT : ret;
}

void queries_stats(struct queries *q, struct queries_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	st->refused = map_count(q->errors);
	for (struct map_iter it = map_iter_start(q->results);
	     map_iter_next(&it);)
		if (((struct result *)it.value)->cache.fetched_at)
			st->held++;
	pthread_mutex_unlock(&q->lock);
	st->searches = atomic_load(&q->searches);
	if (q->dirfd < 0)
		return;
	int fd = dup(q->dirfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(dir);
	for (struct dirent *e; (e = readdir(dir));)
		if (queries_is_definition(e->d_name, NULL, 0))
			st->defined++;
	closedir(dir);
}
