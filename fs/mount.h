/*
 * mount.h - a mount's life after daemonizing: fs_mount_start() (FUSE's
 * init) creates the client, the tree, the writer, the local files and the
 * outbox, and wires the tree's changes into the kernel's invalidations and
 * the outbox's reports into fs/outcome.c; fs_mount_stop() (FUSE's destroy)
 * takes them down in an explicit order.
 */
#ifndef JIRAFS_FS_MOUNT_H
#define JIRAFS_FS_MOUNT_H

#include <fuse_lowlevel.h>

#include "fs/fs.h"

void fs_mount_start(struct jirafs *fs, struct fuse_conn_info *conn);
void fs_mount_stop(struct jirafs *fs);

#endif
