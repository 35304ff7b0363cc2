/* listing.c - an open directory's listing; see listing.h. */
#include "fs/listing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int listing_add(void *ctx, const char *name, const struct stat *st)
{
	struct listing *dh = ctx;
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
	d->plus = st != NULL;
	dh->n++;
	return 0;
}

void listing_clear(struct listing *dh)
{
	for (size_t i = 0; i < dh->n; i++)
		free(dh->v[i].name);
	dh->n = 0;
	dh->filled = dh->more = false;
	tree_cursor_release(&dh->cursor);
	dh->error = 0;
}

struct listing *listing_new(void)
{
	return calloc(1, sizeof(struct listing));
}

void listing_free(struct listing *dh)
{
	if (!dh)
		return;
	listing_clear(dh);
	free(dh->v);
	free(dh);
}
