/*
 * req.h - what every operation is given: the mount, who asks, and the one
 * deadline of the request (computed from -o timeout when it arrives).
 */
#ifndef JIRAFS_FS_REQ_H
#define JIRAFS_FS_REQ_H

#include <sys/types.h>

#include "fs/fs.h"
#include "util/clock.h"

struct fs_req {
	struct jirafs *fs;
	pid_t pid;           /* the calling thread (FUSE's ctx->pid) */
	deadline_t deadline; /* of everything this request waits for */
};

static inline struct fs_req fs_req_make(struct jirafs *fs, pid_t pid)
{
	struct fs_req rq = { fs, pid,
			     deadline_in((int64_t)fs->jira->timeout_s * 1000) };
	return rq;
}

#endif
