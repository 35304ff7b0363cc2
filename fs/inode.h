/*
 * inode.h - the kernel's inode numbers: ino <-> (parent, name), each
 * holding what its name is (fs/node.h), decided once when the name is
 * looked up and again when it is renamed.  An inode keeps only that
 * decision (a few bytes) beside its name; the struct fs_node an operation
 * gets is put together from them and the names above it, without taking
 * any name apart again.
 *
 * An inode lives while the kernel holds a lookup of it (nlookup), a
 * handle is open on it, or it is the parent of one that lives; unlinking
 * or renaming over a name unhashes it, so that the name can lead to a new
 * inode while the old one still serves its open descriptors.  One mutex
 * guards the table; nothing under it does I/O.  Memory only: unit-tested
 * without a mount.
 */
#ifndef JIRAFS_FS_INODE_H
#define JIRAFS_FS_INODE_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#include "fs/node.h"

struct inode_table;

struct inode_table *inode_table_new(void);
void inode_table_free(struct inode_table *t);

/* The node of ino (a copy): 0, or -ENOENT when the inode is unknown.
 * *hashed (may be NULL) says whether its name still leads to it. */
int inode_node(struct inode_table *t, fuse_ino_t ino, struct fs_node *out,
	       bool *hashed);

/* The node `name` in parent would have (not counted): 0, -ENOENT when the
 * parent is unknown, -ENAMETOOLONG. */
int inode_child_node(struct inode_table *t, fuse_ino_t parent,
		     const char *name, struct fs_node *out);

/* Count one lookup of name in parent, whose node is n: *ino is its inode,
 * made if new.  0, -ENOENT (parent unknown) or -ENOMEM. */
int inode_lookup(struct inode_table *t, fuse_ino_t parent, const char *name,
		 const struct fs_node *n, fuse_ino_t *ino);

/* The kernel dropped nlookup lookups of ino. */
void inode_forget(struct inode_table *t, fuse_ino_t ino, uint64_t nlookup);

/* A handle on ino was opened (+1) or released (-1). */
void inode_open(struct inode_table *t, fuse_ino_t ino, int delta);

/* name in parent is gone (unlink, rmdir). */
void inode_unhash(struct inode_table *t, fuse_ino_t parent,
		  const char *name);

/* name in parent is now newname in newparent; what newname named before
 * is unhashed.  Its node is taken apart again for the new name.  0 or
 * -ENOMEM (then the inode is left unhashed: the next lookup makes a new
 * one). */
int inode_rename(struct inode_table *t, fuse_ino_t parent, const char *name,
		 fuse_ino_t newparent, const char *newname);

/* Where the kernel may hold ticket `key`: SEC/KEY.json and
 * SEC/closed/KEY.json, those looked up.  Returns how many were filled. */
struct inode_name {
	fuse_ino_t parent, ino;
	char name[NAME_LEN];
};
size_t inode_ticket_names(struct inode_table *t, const char *key,
			  struct inode_name out[2]);

/* Inodes alive (for tests). */
size_t inode_count(struct inode_table *t);

#endif
