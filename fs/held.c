/* held.c - the handles the kernel holds open; see held.h. */
#include "fs/held.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

struct held {
	struct held *prev, *next;
	void *obj;         /* NULL once let go */
	held_drop_fn drop;
};

struct held_list {
	pthread_mutex_t lock; /* guards the list and every entry's obj */
	struct held *head;
};

struct held_list *held_list_new(void)
{
	struct held_list *l = calloc(1, sizeof(*l));
	if (l)
		pthread_mutex_init(&l->lock, NULL);
	return l;
}

void held_list_free(struct held_list *l, struct jirafs *fs)
{
	if (!l)
		return;
	while (l->head) {
		struct held *h = l->head;
		l->head = h->next;
		if (h->obj)
			h->drop(fs, h->obj);
		free(h);
	}
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int hold(struct held_list *l, struct fuse_file_info *fi, void *obj,
	 held_drop_fn drop)
{
	struct held *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->obj = obj;
	h->drop = drop;
	pthread_mutex_lock(&l->lock);
	h->next = l->head;
	if (h->next)
		h->next->prev = h;
	l->head = h;
	pthread_mutex_unlock(&l->lock);
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

void *unhold(struct held_list *l, struct fuse_file_info *fi)
{
	struct held *h = (struct held *)(uintptr_t)fi->fh;
	if (!h)
		return NULL;
	pthread_mutex_lock(&l->lock);
	void *obj = h->obj;
	if (h->prev)
		h->prev->next = h->next;
	else
		l->head = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&l->lock);
	free(h);
	fi->fh = 0;
	return obj;
}

void *held_obj(const struct fuse_file_info *fi)
{
	const struct held *h = fi ? (const struct held *)(uintptr_t)fi->fh
				  : NULL;
	return h ? h->obj : NULL;
}

void held_let_go(struct held_list *l, struct jirafs *fs)
{
	pthread_mutex_lock(&l->lock);
	for (struct held *h = l->head; h; h = h->next) {
		if (h->obj)
			h->drop(fs, h->obj);
		h->obj = NULL;
	}
	pthread_mutex_unlock(&l->lock);
}
