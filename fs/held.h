/*
 * held.h - the handles the kernel holds open (files and directories): each
 * is on this list from its OPEN to its RELEASE.  The kernel sends RELEASE
 * without waiting for it, so one may still be on its way when the mount
 * ends: at DESTROY what is left is let go (each with the function given
 * when it was handed out), and the list itself is freed with the session,
 * once no request can run.  One mutex guards the list and every entry.
 */
#ifndef JIRAFS_FS_HELD_H
#define JIRAFS_FS_HELD_H

#include <fuse_lowlevel.h>

#include "fs/fs.h"

/* Frees obj; called with the list's lock held (it must not use the
 * list). */
typedef void (*held_drop_fn)(struct jirafs *fs, void *obj);

struct held_list *held_list_new(void);
/* Free the list; what was never released is dropped (needs no mount). */
void held_list_free(struct held_list *l, struct jirafs *fs);

/* Give obj to the kernel as fi's handle: 0 or -ENOMEM. */
int hold(struct held_list *l, struct fuse_file_info *fi, void *obj,
	 held_drop_fn drop);
/* The kernel released fi: its object (NULL if let go already); the entry
 * is gone. */
void *unhold(struct held_list *l, struct fuse_file_info *fi);
/* The object behind fi (NULL: none, or let go). */
void *held_obj(const struct fuse_file_info *fi);
/* At DESTROY: drop every object still held, while the mount they refer to
 * is still up; the entries stay until their RELEASE or held_list_free. */
void held_let_go(struct held_list *l, struct jirafs *fs);

#endif
