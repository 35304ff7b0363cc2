/*
 * ctl.h - the files of /.jirafs/: status (JSON: server, versions, user,
 * auth, transport, counters), log (the last notable events) and the
 * records waiting in outbox/.
 */
#ifndef JIRAFS_FS_CTL_H
#define JIRAFS_FS_CTL_H

#include <stddef.h>

#include "fs/fs.h"
#include "fs/node.h"

/* The current text of the control file n (N_CTL_FILE or
 * N_CTL_OUTBOX_FILE), malloc'd; NULL when it is gone (an outbox record
 * applied meanwhile) or out of memory. */
char *ctl_text(struct jirafs *fs, const struct fs_node *n, size_t *len);

#endif
