/*
 * lowlevel.c - the kernel's side of the mount: inode numbers, how long the
 * kernel may trust what it was told, and telling it when that changed.
 *
 * The operations themselves (ops.c) work on paths.  This layer gives the
 * kernel inode numbers for them, like libfuse's high-level API, but with a
 * cache lifetime chosen per name: a ticket file stays a regular file for
 * life, so the kernel may keep its entry and attributes for cache_ttl (a
 * warm `ls -l` of 50,000 tickets then costs no round trip per file), while
 * names that change kind (a new file becomes an alias symlink, scratch
 * files come and go) are asked about every time.  When a ticket changes
 * (a write, a refresh, a read-back, the outbox), the kernel's entries and
 * attributes for it are invalidated: at once for the file being closed
 * (before close() returns), from a notifier thread otherwise (never inside
 * an operation that may hold the directory's lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/internal.h"
#include "util/log.h"
#include "util/map.h"

#define DIR_TTL_S 60.0  /* project directories, closed/, .jirafs/ */
#define DIR_ATTR_TTL_S 1.0
#define UNKNOWN_INO 0xffffffffu /* d_ino of an entry not looked up */

struct lnode {
	fuse_ino_t ino;
	struct lnode *parent; /* NULL for the root */
	char *name;           /* NULL for the root */
	uint64_t nlookup;     /* the kernel's references */
	unsigned children;    /* nodes whose parent this is */
	unsigned open;        /* open handles */
	bool hashed;          /* findable by (parent, name) */
};

static struct {
	pthread_mutex_t lock; /* guards the table and the nodes */
	struct map *by_ino;   /* "%x" -> lnode */
	struct map *by_name;  /* "%x/name" -> lnode */
	fuse_ino_t next_ino;
	struct lnode root;

	struct jirafs *fs;
	const struct fuse_operations *ops;
	struct fuse_session *se;
	double ticket_ttl;

	/* tickets whose kernel caches must be invalidated */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct map *queue;    /* key -> (void *)1 */
	bool qstop;
	bool qthread_started;
	pthread_t qthread;
} ll = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.qlock = PTHREAD_MUTEX_INITIALIZER,
	.qcond = PTHREAD_COND_INITIALIZER,
};

static __thread pid_t caller_pid;

struct jirafs *fs_get(void)
{
	return ll.fs;
}

pid_t fs_caller_pid(void)
{
	return caller_pid;
}

/* ---- the node table ----------------------------------------------------- */

static void ino_key(char *buf, size_t size, fuse_ino_t ino)
{
	snprintf(buf, size, "%" PRIx64, (uint64_t)ino);
}

static char *name_key(fuse_ino_t parent, const char *name)
{
	size_t n = strlen(name) + 24;
	char *k = malloc(n);
	if (k)
		snprintf(k, n, "%" PRIx64 "/%s", (uint64_t)parent, name);
	return k;
}

/* With lock held. */
static struct lnode *node_by_ino(fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &ll.root;
	char k[24];
	ino_key(k, sizeof(k), ino);
	return map_get(ll.by_ino, k);
}

/* With lock held. */
static struct lnode *child(struct lnode *parent, const char *name)
{
	char *k = name_key(parent->ino, name);
	struct lnode *n = k ? map_get(ll.by_name, k) : NULL;
	free(k);
	return n;
}

/* With lock held. */
static void unhash(struct lnode *n)
{
	if (!n->hashed)
		return;
	char *k = name_key(n->parent->ino, n->name);
	if (k)
		map_del(ll.by_name, k);
	free(k);
	n->hashed = false;
}

/* With lock held: (re)hash n as name in parent.  0 or -ENOMEM. */
static int hash(struct lnode *n, struct lnode *parent, const char *name)
{
	char *nm = strdup(name);
	char *k = name_key(parent->ino, name);
	if (!nm || !k || map_put(ll.by_name, k, n, NULL)) {
		free(nm);
		free(k);
		return -ENOMEM;
	}
	free(k);
	if (n->parent != parent) {
		if (n->parent)
			n->parent->children--;
		parent->children++;
		n->parent = parent;
	}
	free(n->name);
	n->name = nm;
	n->hashed = true;
	return 0;
}

/* With lock held: free n (and parents left unused) once nothing refers
 * to it. */
static void maybe_free(struct lnode *n)
{
	while (n && n != &ll.root && !n->nlookup && !n->children && !n->open) {
		struct lnode *parent = n->parent;
		unhash(n);
		char k[24];
		ino_key(k, sizeof(k), n->ino);
		map_del(ll.by_ino, k);
		parent->children--;
		free(n->name);
		free(n);
		n = parent;
	}
}

/* With lock held: the child called name, created if needed. */
static struct lnode *child_get(struct lnode *parent, const char *name)
{
	struct lnode *n = child(parent, name);
	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->ino = ll.next_ino++;
	char k[24];
	ino_key(k, sizeof(k), n->ino);
	if (map_put(ll.by_ino, k, n, NULL)) {
		free(n);
		return NULL;
	}
	if (hash(n, parent, name)) {
		map_del(ll.by_ino, k);
		free(n);
		return NULL;
	}
	return n;
}

/* With lock held: "/a/b" of n (malloc'd), or NULL. */
static char *path_of(const struct lnode *n)
{
	if (n == &ll.root)
		return strdup("/");
	const struct lnode *chain[8];
	size_t depth = 0;
	for (const struct lnode *x = n; x && x != &ll.root; x = x->parent) {
		if (depth == sizeof(chain) / sizeof(*chain))
			return NULL;
		chain[depth++] = x;
	}
	struct strbuf sb = STRBUF_INIT;
	while (depth--)
		strbuf_addf(&sb, "/%s", chain[depth]->name);
	return strbuf_detach(&sb, NULL);
}

/* The path of ino (malloc'd); *hashed says whether its name still leads
 * to it.  NULL when the inode is unknown. */
static char *ino_path(fuse_ino_t ino, bool *hashed)
{
	pthread_mutex_lock(&ll.lock);
	struct lnode *n = node_by_ino(ino);
	char *p = n ? path_of(n) : NULL;
	if (hashed)
		*hashed = n && (n == &ll.root || n->hashed);
	pthread_mutex_unlock(&ll.lock);
	return p;
}

static char *child_path(fuse_ino_t parent, const char *name)
{
	pthread_mutex_lock(&ll.lock);
	struct lnode *n = node_by_ino(parent);
	char *pp = n ? path_of(n) : NULL;
	pthread_mutex_unlock(&ll.lock);
	if (!pp)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s%s%s", pp, strcmp(pp, "/") ? "/" : "", name);
	free(pp);
	return strbuf_detach(&sb, NULL);
}

/* ---- how long the kernel may trust an answer ---------------------------- */

static void timeouts(const char *path, const struct stat *st, double *entry,
		     double *attr)
{
	struct node n;
	*entry = *attr = 0;
	if (fs_parse_path(path, &n))
		return;
	switch (n.kind) {
	case N_ROOT:
	case N_PROJECT:
	case N_CLOSED:
	case N_CTL_DIR:
	case N_CTL_OUTBOX:
		*entry = DIR_TTL_S;
		*attr = DIR_ATTR_TTL_S;
		break;
	case N_ENTRY:
		/* a ticket's name never changes kind; changes of its
		 * contents are invalidated (ll_ticket_changed) */
		if (n.key[0] && S_ISREG(st->st_mode))
			*entry = *attr = ll.ticket_ttl;
		break;
	default:
		break;
	}
}

/* Take note of a lookup of name in parent: fill e.  0 or -errno. */
static int entry_of(fuse_ino_t parent, const char *name, const char *path,
		    const struct stat *st, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_lock(&ll.lock);
	struct lnode *p = node_by_ino(parent);
	struct lnode *n = p ? child_get(p, name) : NULL;
	if (n) {
		n->nlookup++;
		e->ino = n->ino;
	}
	pthread_mutex_unlock(&ll.lock);
	if (!n)
		return p ? -ENOMEM : -ENOENT;
	e->attr = *st;
	e->attr.st_ino = e->ino;
	timeouts(path, st, &e->entry_timeout, &e->attr_timeout);
	return 0;
}

static void enter(fuse_req_t req)
{
	caller_pid = fuse_req_ctx(req)->pid;
}

/* ---- invalidation ------------------------------------------------------- */

/* What the queue says of a key: its content changed, or its name too. */
#define Q_CONTENT ((void *)1)
#define Q_MOVED ((void *)2)

void ll_ticket_changed(void *ctx, const char *key, bool moved)
{
	(void)ctx;
	pthread_mutex_lock(&ll.qlock);
	void *was = ll.queue ? map_get(ll.queue, key) : NULL;
	if (ll.queue && was != Q_MOVED &&
	    map_put(ll.queue, key, moved ? Q_MOVED : Q_CONTENT, NULL) == 0 &&
	    !was)
		pthread_cond_signal(&ll.qcond);
	pthread_mutex_unlock(&ll.qlock);
}

struct inval {
	fuse_ino_t parent, ino;
	char name[NAME_LEN + 8];
};

/* The kernel's names for key: SEC/SEC-1.json, SEC/closed/SEC-1.json. */
static size_t invals_of(const char *key, struct inval out[2])
{
	const char *dash = strrchr(key, '-');
	char project[NAME_LEN], name[NAME_LEN + 8];
	size_t k = 0;
	if (!dash || (size_t)(dash - key) >= sizeof(project))
		return 0;
	memcpy(project, key, (size_t)(dash - key));
	project[dash - key] = '\0';
	snprintf(name, sizeof(name), "%s%s", key, TICKET_SUFFIX);
	pthread_mutex_lock(&ll.lock);
	struct lnode *p = child(&ll.root, project);
	struct lnode *dirs[2] = { p, p ? child(p, CLOSED_DIR) : NULL };
	for (int i = 0; i < 2; i++) {
		struct lnode *n = dirs[i] ? child(dirs[i], name) : NULL;
		if (!n)
			continue;
		out[k].parent = dirs[i]->ino;
		out[k].ino = n->ino;
		snprintf(out[k].name, sizeof(out[k].name), "%s", name);
		k++;
	}
	pthread_mutex_unlock(&ll.lock);
	return k;
}

/* A name is dropped only when it moved: a ticket that merely changed
 * keeps its name, so an append to it needs no lookup (nor read-back). */
static void invalidate(const char *key, bool moved)
{
	struct inval iv[2];
	size_t n = invals_of(key, iv);
	for (size_t i = 0; i < n; i++) {
		fuse_lowlevel_notify_inval_inode(ll.se, iv[i].ino, -1, 0);
		if (moved)
			fuse_lowlevel_notify_inval_entry(ll.se, iv[i].parent,
							 iv[i].name,
							 strlen(iv[i].name));
	}
}

/* Invalidate the queued tickets' attributes now, in this thread, and
 * leave them queued: dropping their names (which takes the directory's
 * lock in the kernel) is the notifier thread's job, never a request's. */
static void invalidate_attrs_now(void)
{
	pthread_mutex_lock(&ll.qlock);
	size_t n = ll.queue ? map_count(ll.queue) : 0;
	char **keys = n ? calloc(n, sizeof(*keys)) : NULL;
	size_t k = 0;
	if (keys) {
		struct map_iter it = map_iter_start(ll.queue);
		while (k < n && map_iter_next(&it))
			if ((keys[k] = strdup(it.key)))
				k++;
	}
	pthread_mutex_unlock(&ll.qlock);
	for (size_t i = 0; i < k; i++) {
		struct inval iv[2];
		size_t m = invals_of(keys[i], iv);
		for (size_t j = 0; j < m; j++)
			fuse_lowlevel_notify_inval_inode(ll.se, iv[j].ino, -1,
							 0);
		free(keys[i]);
	}
	free(keys);
}

/* Invalidate what is queued, in this thread.  Returns false when the
 * queue was empty. */
static bool drain(void)
{
	pthread_mutex_lock(&ll.qlock);
	struct map *q = ll.queue;
	bool any = q && map_count(q);
	if (any)
		ll.queue = map_new();
	pthread_mutex_unlock(&ll.qlock);
	if (!any)
		return false;
	struct map_iter it = map_iter_start(q);
	while (map_iter_next(&it))
		invalidate(it.key, it.value == Q_MOVED);
	map_free(q);
	return true;
}

static void *notifier(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&ll.qlock);
	while (!ll.qstop) {
		if (!ll.queue || !map_count(ll.queue)) {
			pthread_cond_wait(&ll.qcond, &ll.qlock);
			continue;
		}
		pthread_mutex_unlock(&ll.qlock);
		drain();
		pthread_mutex_lock(&ll.qlock);
	}
	pthread_mutex_unlock(&ll.qlock);
	return NULL;
}

/* After close(): the attributes of the file and of whatever its write
 * changed are invalidated before the caller hears back (read-your-writes);
 * a stale name is then checked by the getattr that follows. */
static void settle(fuse_ino_t ino)
{
	fuse_lowlevel_notify_inval_inode(ll.se, ino, -1, 0);
	invalidate_attrs_now();
}

/* ---- operations --------------------------------------------------------- */

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	struct fuse_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	ll.ops->init(conn, &cfg);
	pthread_mutex_lock(&ll.qlock);
	if (!pthread_create(&ll.qthread, NULL, notifier, NULL))
		ll.qthread_started = true;
	pthread_mutex_unlock(&ll.qlock);
}

static void ll_destroy(void *userdata)
{
	(void)userdata;
	pthread_mutex_lock(&ll.qlock);
	ll.qstop = true;
	pthread_cond_broadcast(&ll.qcond);
	bool started = ll.qthread_started;
	pthread_mutex_unlock(&ll.qlock);
	if (started)
		pthread_join(ll.qthread, NULL);
	ll.ops->destroy(ll.fs);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	enter(req);
	char *path = child_path(parent, name);
	struct stat st;
	struct fuse_entry_param e;
	int r = path ? ll.ops->getattr(path, &st, NULL) : -ENOENT;
	if (!r)
		r = entry_of(parent, name, path, &st, &e);
	free(path);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void forget_one(fuse_ino_t ino, uint64_t nlookup)
{
	struct lnode *n = node_by_ino(ino);
	if (!n || n == &ll.root)
		return;
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	maybe_free(n);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	pthread_mutex_lock(&ll.lock);
	forget_one(ino, nlookup);
	pthread_mutex_unlock(&ll.lock);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	pthread_mutex_lock(&ll.lock);
	for (size_t i = 0; i < count; i++)
		forget_one(forgets[i].ino, forgets[i].nlookup);
	pthread_mutex_unlock(&ll.lock);
	fuse_reply_none(req);
}

static void reply_attr(fuse_req_t req, fuse_ino_t ino, const char *path,
		       struct stat *st)
{
	double entry = 0, attr = 0;
	st->st_ino = ino;
	if (path)
		timeouts(path, st, &entry, &attr);
	fuse_reply_attr(req, st, attr);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	enter(req);
	bool hashed;
	char *path = ino_path(ino, &hashed);
	struct stat st;
	int r;
	if (!path)
		r = -ENOENT;
	else if (!hashed) /* its name is gone: what the descriptor holds */
		r = ll.ops->getattr(NULL, &st, fi);
	else
		r = ll.ops->getattr(path, &st, fi);
	if (r)
		fuse_reply_err(req, -r);
	else
		reply_attr(req, ino, hashed ? path : NULL, &st);
	free(path);
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	enter(req);
	bool hashed;
	char *path = ino_path(ino, &hashed);
	int r = path ? 0 : -ENOENT;
	if (!r && (to_set & FUSE_SET_ATTR_MODE))
		r = ll.ops->chmod(path, attr->st_mode, fi);
	if (!r && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = ll.ops->chown(path,
				  (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid
							       : (uid_t)-1,
				  (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid
							       : (gid_t)-1,
				  fi);
	if (!r && (to_set & FUSE_SET_ATTR_SIZE))
		r = ll.ops->truncate(path, attr->st_size, fi);
	if (!r && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		struct timespec tv[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_ATIME)
			tv[0] = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			tv[1] = attr->st_mtim;
		r = ll.ops->utimens(path, tv, fi);
	}
	struct stat st;
	if (!r)
		r = ll.ops->getattr(hashed ? path : NULL, &st, fi);
	if (r)
		fuse_reply_err(req, -r);
	else
		reply_attr(req, ino, hashed ? path : NULL, &st);
	free(path);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	enter(req);
	char *path = ino_path(ino, NULL);
	char buf[4096];
	int r = path ? ll.ops->readlink(path, buf, sizeof(buf)) : -ENOENT;
	free(path);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, buf);
}

/* Reply to an operation that made a name: an entry for it. */
static void reply_made(fuse_req_t req, fuse_ino_t parent, const char *name,
		       const char *path, int r)
{
	struct stat st;
	struct fuse_entry_param e;
	if (!r)
		r = ll.ops->getattr(path, &st, NULL);
	if (!r)
		r = entry_of(parent, name, path, &st, &e);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)rdev;
	enter(req);
	char *path = child_path(parent, name);
	int r = path ? 0 : -ENOENT;
	if (!r && !S_ISREG(mode))
		r = -EPERM;
	if (!r) {
		struct fuse_file_info fi;
		memset(&fi, 0, sizeof(fi));
		fi.flags = O_CREAT | O_EXCL | O_WRONLY;
		r = ll.ops->create(path, mode, &fi);
		if (!r)
			ll.ops->release(path, &fi);
	}
	reply_made(req, parent, name, path, r);
	free(path);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	enter(req);
	char *path = child_path(parent, name);
	int r = path ? ll.ops->mkdir(path, mode) : -ENOENT;
	reply_made(req, parent, name, path, r);
	free(path);
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	enter(req);
	char *path = child_path(parent, name);
	int r = path ? ll.ops->symlink(link, path) : -ENOENT;
	reply_made(req, parent, name, path, r);
	free(path);
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	enter(req);
	char *from = ino_path(ino, NULL);
	char *to = child_path(newparent, newname);
	int r = from && to ? ll.ops->link(from, to) : -ENOENT;
	reply_made(req, newparent, newname, to, r);
	free(from);
	free(to);
}

static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name,
			int (*op)(const char *))
{
	enter(req);
	char *path = child_path(parent, name);
	int r = path ? op(path) : -ENOENT;
	free(path);
	if (!r) {
		pthread_mutex_lock(&ll.lock);
		struct lnode *p = node_by_ino(parent);
		struct lnode *n = p ? child(p, name) : NULL;
		if (n)
			unhash(n);
		pthread_mutex_unlock(&ll.lock);
	}
	fuse_reply_err(req, -r);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, ll.ops->unlink);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, ll.ops->rmdir);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	enter(req);
	char *from = child_path(parent, name);
	char *to = child_path(newparent, newname);
	int r = from && to ? ll.ops->rename(from, to, flags) : -ENOENT;
	free(from);
	free(to);
	if (!r) {
		pthread_mutex_lock(&ll.lock);
		struct lnode *p = node_by_ino(parent);
		struct lnode *np = node_by_ino(newparent);
		struct lnode *n = p ? child(p, name) : NULL;
		struct lnode *target = np ? child(np, newname) : NULL;
		if (target && target != n)
			unhash(target);
		if (n && np) {
			unhash(n);
			if (hash(n, np, newname))
				n->hashed = false;
		}
		pthread_mutex_unlock(&ll.lock);
	}
	fuse_reply_err(req, -r);
}

static void opened(fuse_ino_t ino, int delta)
{
	pthread_mutex_lock(&ll.lock);
	struct lnode *n = node_by_ino(ino);
	if (n && n != &ll.root) {
		n->open += (unsigned)delta;
		if (delta < 0)
			maybe_free(n);
	}
	pthread_mutex_unlock(&ll.lock);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	enter(req);
	bool hashed;
	char *path = ino_path(ino, &hashed);
	/* a name since given to another file must not open that one */
	int r = path && hashed ? ll.ops->open(path, fi) : -ENOENT;
	if (r) {
		fuse_reply_err(req, -r);
	} else {
		opened(ino, 1);
		if (fuse_reply_open(req, fi) == -ENOENT) { /* interrupted */
			ll.ops->release(path, fi);
			opened(ino, -1);
		}
	}
	free(path);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	enter(req);
	char *path = child_path(parent, name);
	int r = path ? ll.ops->create(path, mode, fi) : -ENOENT;
	if (r) {
		fuse_reply_err(req, -r);
		free(path);
		return;
	}
	struct stat st;
	struct fuse_entry_param e;
	r = ll.ops->getattr(path, &st, NULL);
	if (!r)
		r = entry_of(parent, name, path, &st, &e);
	if (r) {
		ll.ops->release(path, fi);
		fuse_reply_err(req, -r);
	} else {
		opened(e.ino, 1);
		if (fuse_reply_create(req, &e, fi) == -ENOENT) {
			ll.ops->release(path, fi);
			opened(e.ino, -1);
		}
	}
	free(path);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	enter(req);
	char *path = ino_path(ino, NULL);
	char *buf = malloc(size ? size : 1);
	int r = !buf ? -ENOMEM : ll.ops->read(path, buf, size, off, fi);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
	free(path);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	enter(req);
	char *path = ino_path(ino, NULL);
	int r = ll.ops->write(path ? path : "?", buf, size, off, fi);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, (size_t)r);
	free(path);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	enter(req);
	char *path = ino_path(ino, NULL);
	int r = ll.ops->flush(path, fi);
	free(path);
	settle(ino);
	fuse_reply_err(req, -r);
}

static void ll_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	enter(req);
	char *path = ino_path(ino, NULL);
	ll.ops->release(path, fi);
	free(path);
	opened(ino, -1);
	settle(ino);
	fuse_reply_err(req, 0);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	enter(req);
	char *path = ino_path(ino, NULL);
	int r = ll.ops->fsync(path, datasync, fi);
	free(path);
	fuse_reply_err(req, -r);
}

/* ---- directories -------------------------------------------------------- */

struct dentry {
	char *name;
	struct stat st;
	bool plus; /* st is complete: the entry may be given to the kernel */
};

struct dir_handle {
	struct dentry *v;
	size_t n, cap;
	bool filled;
	int error;
};

static int collect(void *buf, const char *name, const struct stat *st,
		   off_t off, enum fuse_fill_dir_flags flags)
{
	(void)off;
	struct dir_handle *dh = buf;
	if (dh->n == dh->cap) {
		size_t cap = dh->cap ? dh->cap * 2 : 64;
		struct dentry *v = realloc(dh->v, cap * sizeof(*v));
		if (!v) {
			dh->error = -ENOMEM;
			return 1;
		}
		dh->v = v;
		dh->cap = cap;
	}
	struct dentry *d = &dh->v[dh->n];
	memset(d, 0, sizeof(*d));
	d->name = strdup(name);
	if (!d->name) {
		dh->error = -ENOMEM;
		return 1;
	}
	if (st)
		d->st = *st;
	d->plus = st && (flags & FUSE_FILL_DIR_PLUS);
	dh->n++;
	return 0;
}

static void dir_clear(struct dir_handle *dh)
{
	for (size_t i = 0; i < dh->n; i++)
		free(dh->v[i].name);
	dh->n = 0;
	dh->filled = false;
	dh->error = 0;
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	struct dir_handle *dh = calloc(1, sizeof(*dh));
	if (!dh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)dh;
	if (fuse_reply_open(req, fi) == -ENOENT)
		free(dh);
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi, bool plus)
{
	enter(req);
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;
	if (off == 0 || !dh->filled) {
		dir_clear(dh);
		char *path = ino_path(ino, NULL);
		int r = path ? ll.ops->readdir(path, dh, collect, 0, NULL,
					       plus ? FUSE_READDIR_PLUS : 0)
			     : -ENOENT;
		if (!r)
			r = dh->error;
		if (r) {
			free(path);
			fuse_reply_err(req, -r);
			return;
		}
		dh->filled = true;
		free(path);
	}
	char *buf = malloc(size);
	char *dirpath = plus ? ino_path(ino, NULL) : NULL;
	if (!buf || (plus && !dirpath)) {
		free(buf);
		free(dirpath);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	for (size_t i = (size_t)off; i < dh->n; i++) {
		struct dentry *d = &dh->v[i];
		size_t left = size - used;
		size_t need;
		if (!plus) {
			struct stat st = d->st;
			st.st_ino = UNKNOWN_INO;
			need = fuse_add_direntry(req, buf + used, left, d->name,
						 &st, (off_t)i + 1);
		} else {
			struct fuse_entry_param e;
			memset(&e, 0, sizeof(e));
			bool dots = strcmp(d->name, ".") == 0 ||
				    strcmp(d->name, "..") == 0;
			e.attr = d->st;
			e.attr.st_ino = UNKNOWN_INO;
			/* measure first: a lookup is counted only for an
			 * entry that goes out */
			need = fuse_add_direntry_plus(req, NULL, 0, d->name,
						      &e, 0);
			if (need > left)
				break;
			if (d->plus && !dots) {
				struct strbuf sb = STRBUF_INIT;
				strbuf_addf(&sb, "%s/%s",
					    strcmp(dirpath, "/") ? dirpath : "",
					    d->name);
				char *path = strbuf_detach(&sb, NULL);
				if (!path ||
				    entry_of(ino, d->name, path, &d->st, &e)) {
					memset(&e, 0, sizeof(e));
					e.attr = d->st;
					e.attr.st_ino = UNKNOWN_INO;
				}
				free(path);
			}
			need = fuse_add_direntry_plus(req, buf + used, left,
						      d->name, &e,
						      (off_t)i + 1);
		}
		if (need > left)
			break;
		used += need;
	}
	free(dirpath);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, false);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, true);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;
	dir_clear(dh);
	free(dh->v);
	free(dh);
	fuse_reply_err(req, 0);
}

static void ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* ---- the rest ----------------------------------------------------------- */

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	enter(req);
	struct statvfs sv;
	int r = ll.ops->statfs("/", &sv);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_statfs(req, &sv);
}

/* getxattr of name, or listxattr (name NULL): the size when size is 0,
 * else the value. */
static void reply_xattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	enter(req);
	char *path = ino_path(ino, NULL);
	char *buf = size ? malloc(size) : NULL;
	int r = !path ? -ENOENT
		: size && !buf ? -ENOMEM
		: name ? ll.ops->getxattr(path, name, buf, size)
		: ll.ops->listxattr(path, buf, size);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (!size)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
	free(path);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	reply_xattr(req, ino, name, size);
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_xattr(req, ino, NULL, size);
}

static void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	enter(req);
	char *path = ino_path(ino, NULL);
	int r = path ? ll.ops->setxattr(path, name, value, size, flags)
		     : -ENOENT;
	free(path);
	fuse_reply_err(req, -r);
}

static void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	enter(req);
	char *path = ino_path(ino, NULL);
	int r = path ? ll.ops->removexattr(path, name) : -ENOENT;
	free(path);
	fuse_reply_err(req, -r);
}

static const struct fuse_lowlevel_ops ll_ops = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mknod = ll_mknod,
	.mkdir = ll_mkdir,
	.unlink = ll_unlink,
	.rmdir = ll_rmdir,
	.symlink = ll_symlink,
	.rename = ll_rename,
	.link = ll_link,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	.flush = ll_flush,
	.release = ll_release,
	.fsync = ll_fsync,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
	.releasedir = ll_releasedir,
	.fsyncdir = ll_fsyncdir,
	.statfs = ll_statfs,
	.setxattr = ll_setxattr,
	.getxattr = ll_getxattr,
	.listxattr = ll_listxattr,
	.removexattr = ll_removexattr,
	.create = ll_create,
};

struct fuse_session *jirafs_session_new(struct fuse_args *args,
					struct jirafs *fs)
{
	ll.fs = fs;
	ll.ops = jirafs_operations();
	ll.ticket_ttl = (double)fs->cfg.cache_ttl_s;
	ll.next_ino = FUSE_ROOT_ID + 1;
	ll.root.ino = FUSE_ROOT_ID;
	ll.root.hashed = true;
	ll.by_ino = map_new();
	ll.by_name = map_new();
	ll.queue = map_new();
	if (!ll.by_ino || !ll.by_name || !ll.queue)
		return NULL;
	ll.se = fuse_session_new(args, &ll_ops, sizeof(ll_ops), fs);
	return ll.se;
}

void jirafs_session_free(struct fuse_session *se)
{
	if (se)
		fuse_session_destroy(se);
	pthread_mutex_lock(&ll.lock);
	if (ll.by_ino) {
		struct map_iter it = map_iter_start(ll.by_ino);
		while (map_iter_next(&it)) {
			struct lnode *n = it.value;
			free(n->name);
			free(n);
		}
	}
	map_free(ll.by_ino);
	map_free(ll.by_name);
	ll.by_ino = ll.by_name = NULL;
	pthread_mutex_unlock(&ll.lock);
	pthread_mutex_lock(&ll.qlock);
	map_free(ll.queue);
	ll.queue = NULL;
	pthread_mutex_unlock(&ll.qlock);
	ll.se = NULL;
}
