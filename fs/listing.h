/*
 * listing.h - what an open directory lists: taken once (at the first
 * readdir, or again from offset 0) and given to the kernel in pieces, so
 * that a directory does not change under a reader between two calls; a
 * project's first listing is taken as its pages come, each call adding
 * to what was taken.
 * Memory only; one handle is used by one request at a time.
 */
#ifndef JIRAFS_FS_LISTING_H
#define JIRAFS_FS_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fs/tree.h"

struct dentry {
	char *name;
	struct stat st;
	bool plus; /* st is complete: the entry may be given to the kernel */
};

struct listing {
	struct dentry *v;
	size_t n, cap;
	bool filled;
	bool more;     /* a listing being fetched: more entries will come */
	struct tree_cursor cursor; /* where in it (fs_readdir) */
	int error;     /* set by listing_add when out of memory */
};

struct listing *listing_new(void);
void listing_free(struct listing *dh);
/* Empty it for a new listing. */
void listing_clear(struct listing *dh);
/* An fs_fill_fn (fs/ops.h): add name (st NULL or complete); nonzero to
 * stop (out of memory, in dh->error). */
int listing_add(void *ctx, const char *name, const struct stat *st);

#endif
