/*
 * inval.h - telling the kernel that what it was told about a ticket
 * changed (a write, a refresh, a read-back, the outbox).
 *
 * The tree reports changes through inval_ticket_changed (its `changed`
 * hook, called with a project lock held: it only queues).  A notifier
 * thread invalidates the kernel's attributes, and its names when the
 * ticket moved between KEY/ and KEY/closed/, never inside an operation
 * that may hold the directory's lock in the kernel.  inval_settle() is the
 * exception for close(): the attributes of what the write changed are
 * invalidated before close() returns (read-your-writes).
 *
 * Lock order: a project's lock before the queue lock; the queue lock
 * before the inode table's.
 */
#ifndef JIRAFS_FS_INVAL_H
#define JIRAFS_FS_INVAL_H

#include <fuse_lowlevel.h>
#include <stdbool.h>

#include "fs/inode.h"

struct inval;

/* Over the inode table t (borrowed).  NULL when out of memory. */
struct inval *inval_new(struct inode_table *t);
/* Start the notifier for session se: 0 or -errno. */
int inval_start(struct inval *iv, struct fuse_session *se);
/* Stop the notifier (what is queued stays queued; nothing more is sent). */
void inval_stop(struct inval *iv);
void inval_free(struct inval *iv);

/* The tree's hook (ctx = the struct inval): queue key. */
void inval_ticket_changed(void *ctx, const char *key, bool moved);

/* Queue: the kernel must forget the name `name` in directory parent (a
 * rename that acted on another node than the one the kernel moves). */
void inval_name(struct inval *iv, fuse_ino_t parent, const char *name);

/* After close() of ino: its attributes and those of every queued ticket
 * are invalidated now, in this thread. */
void inval_settle(struct inval *iv, fuse_ino_t ino);

#endif
