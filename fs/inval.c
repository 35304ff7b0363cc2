/* inval.c - the kernel's cache invalidations; see inval.h. */
#include "fs/inval.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/map.h"

/* What the queue says of a key: its content changed, or its name too; or
 * (a key "\001PARENT/NAME", parent in hex) that the kernel must forget
 * that name. */
#define Q_CONTENT ((void *)1)
#define Q_MOVED ((void *)2)
#define Q_NAME ((void *)3)
#define NAME_MARK '\001'

struct inval {
	struct inode_table *inodes;
	pthread_mutex_t lock;  /* guards the fields below */
	pthread_cond_t wake;   /* something was queued, or stop */
	struct map *queue;     /* key -> Q_CONTENT | Q_MOVED */
	struct fuse_session *se; /* NULL until started, again once stopped */
	bool stop;
	bool started;
	pthread_t thread;
};

struct inval *inval_new(struct inode_table *t)
{
	struct inval *iv = calloc(1, sizeof(*iv));
	if (!iv)
		return NULL;
	iv->inodes = t;
	iv->queue = map_new();
	if (!iv->queue) {
		free(iv);
		return NULL;
	}
	pthread_mutex_init(&iv->lock, NULL);
	pthread_cond_init(&iv->wake, NULL);
	return iv;
}

void inval_free(struct inval *iv)
{
	if (!iv)
		return;
	inval_stop(iv);
	map_free(iv->queue);
	pthread_cond_destroy(&iv->wake);
	pthread_mutex_destroy(&iv->lock);
	free(iv);
}

void inval_ticket_changed(void *ctx, const char *key, bool moved)
{
	struct inval *iv = ctx;
	pthread_mutex_lock(&iv->lock);
	void *was = map_get(iv->queue, key);
	if (was != Q_MOVED &&
	    map_put(iv->queue, key, moved ? Q_MOVED : Q_CONTENT, NULL) == 0 &&
	    !was)
		pthread_cond_signal(&iv->wake);
	pthread_mutex_unlock(&iv->lock);
}

void inval_name(struct inval *iv, fuse_ino_t parent, const char *name)
{
	char key[300];
	int n = snprintf(key, sizeof(key), "%c%llx/%s", NAME_MARK,
			 (unsigned long long)parent, name);
	if (n < 0 || (size_t)n >= sizeof(key))
		return; /* no name of the tree is that long */
	pthread_mutex_lock(&iv->lock);
	if (map_put(iv->queue, key, Q_NAME, NULL) == 0)
		pthread_cond_signal(&iv->wake);
	pthread_mutex_unlock(&iv->lock);
}

/* A name is dropped only when it moved: a ticket that merely changed
 * keeps its name, so an append to it needs no lookup (nor read-back). */
static void invalidate(struct inval *iv, struct fuse_session *se,
		       const char *key, bool moved)
{
	struct inode_name in[2];
	size_t n = inode_ticket_names(iv->inodes, key, in);
	for (size_t i = 0; i < n; i++) {
		fuse_lowlevel_notify_inval_inode(se, in[i].ino, -1, 0);
		if (moved)
			fuse_lowlevel_notify_inval_entry(se, in[i].parent,
							 in[i].name,
							 strlen(in[i].name));
	}
}

/* Invalidate what is queued, in this thread. */
static void drain(struct inval *iv, struct fuse_session *se)
{
	pthread_mutex_lock(&iv->lock);
	struct map *q = iv->queue, *fresh = map_new();
	if (fresh)
		iv->queue = fresh;
	pthread_mutex_unlock(&iv->lock);
	if (!fresh)
		return; /* out of memory: left queued, tried again */
	struct map_iter it = map_iter_start(q);
	while (map_iter_next(&it)) {
		if (it.value != Q_NAME) {
			invalidate(iv, se, it.key, it.value == Q_MOVED);
			continue;
		}
		char *end;
		unsigned long long parent = strtoull(it.key + 1, &end, 16);
		if (*end == '/')
			fuse_lowlevel_notify_inval_entry(se, (fuse_ino_t)parent,
							 end + 1,
							 strlen(end + 1));
	}
	map_free(q);
}

static void *notifier(void *arg)
{
	struct inval *iv = arg;
	pthread_mutex_lock(&iv->lock);
	while (!iv->stop) {
		if (!map_count(iv->queue)) {
			pthread_cond_wait(&iv->wake, &iv->lock);
			continue;
		}
		struct fuse_session *se = iv->se;
		pthread_mutex_unlock(&iv->lock);
		drain(iv, se);
		pthread_mutex_lock(&iv->lock);
	}
	pthread_mutex_unlock(&iv->lock);
	return NULL;
}

int inval_start(struct inval *iv, struct fuse_session *se)
{
	pthread_mutex_lock(&iv->lock);
	iv->se = se;
	iv->stop = false;
	int ret = iv->started ? 0
		  : pthread_create(&iv->thread, NULL, notifier, iv);
	if (!ret)
		iv->started = true;
	pthread_mutex_unlock(&iv->lock);
	return -ret;
}

void inval_stop(struct inval *iv)
{
	pthread_mutex_lock(&iv->lock);
	iv->stop = true;
	pthread_cond_broadcast(&iv->wake);
	bool started = iv->started;
	iv->started = false;
	pthread_mutex_unlock(&iv->lock);
	if (started)
		pthread_join(iv->thread, NULL);
	pthread_mutex_lock(&iv->lock);
	iv->se = NULL;
	pthread_mutex_unlock(&iv->lock);
}

void inval_settle(struct inval *iv, fuse_ino_t ino)
{
	pthread_mutex_lock(&iv->lock);
	struct fuse_session *se = iv->se;
	size_t n = map_count(iv->queue);
	char **keys = se && n ? calloc(n, sizeof(*keys)) : NULL;
	size_t k = 0;
	if (keys) {
		struct map_iter it = map_iter_start(iv->queue);
		while (k < n && map_iter_next(&it))
			if ((keys[k] = strdup(it.key)))
				k++;
	}
	pthread_mutex_unlock(&iv->lock);
	if (!se)
		return;
	fuse_lowlevel_notify_inval_inode(se, ino, -1, 0);
	/* the names stay queued: dropping them (which takes the directory's
	 * lock in the kernel) is the notifier's job, never a request's */
	for (size_t i = 0; i < k; i++) {
		struct inode_name in[2];
		if (keys[i][0] == NAME_MARK) { /* a name: the notifier's */
			free(keys[i]);
			continue;
		}
		size_t m = inode_ticket_names(iv->inodes, keys[i], in);
		for (size_t j = 0; j < m; j++)
			fuse_lowlevel_notify_inval_inode(se, in[j].ino, -1, 0);
		free(keys[i]);
	}
	free(keys);
}
