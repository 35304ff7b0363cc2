/*
 * commit.h - turning what users write into operation records for the
 * outbox (CONTRACT §4).
 *
 *   close() of a new *.json file  -> create (the name becomes an alias)
 *   close() after O_APPEND        -> comment
 *   close() after an overwrite    -> update (only what changed)
 *   rename between KEY/ and closed/ -> close / reopen (rename.c)
 *   rename of a scratch file onto a ticket name -> create or update
 *
 * Each record is checked first (no network); a refusal leaves the bytes
 * written under the name as a draft or overlay, with the reason in
 * user.jira.error and .jirafs/log.  After each change the tree is told, so
 * that the next read shows it (read-your-writes).  What the outbox applies
 * or refuses later comes back through outcome.c.
 */
#ifndef JIRAFS_FS_COMMIT_H
#define JIRAFS_FS_COMMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "fs/handle.h"
#include "fs/node.h"
#include "fs/outbox.h"
#include "fs/req.h"
#include "fs/resolve.h"
#include "jira/issue.h"
#include "jira/op.h"

/* commit.c: apply what an open file holds (at the opener's close(), or
 * when the last descriptor goes).  0 or -errno. */
int fs_commit(const struct fs_req *rq, struct open_file *of);

/* rename.c: rename(2) of a ticket or local file in project directories.
 * 0 or -errno. */
int fs_rename(const struct fs_req *rq, const struct fs_node *a,
	      const struct fs_node *b, unsigned flags);

/* outcome.c: what the outbox reports of records applied, made or refused
 * later (struct outbox_callbacks, ctx = the struct jirafs). */
void fs_outbox_applied(void *ctx, const struct jira_op *op,
		       struct jira_op_result *res);
void fs_outbox_made(void *ctx, const struct jira_op *op,
		    const struct jira_op_result *res);
void fs_outbox_refused(void *ctx, const struct jira_op *op,
		       struct jira_op_result *res, int err, const char *why);

/* ---- shared by commit.c, rename.c and outcome.c ---- */

/* Check op and hand it to the outbox (op is taken over): 0 (applied: res
 * filled), OUTBOX_QUEUED, or -errno with the reason in why and the log. */
int commit_run(const struct fs_req *rq, struct jira_op *op,
	       const char *path, struct jira_op_result *res, char *why,
	       size_t whysize);
/* After a change to key: install what was read back, or let the next
 * reader read it back. */
void commit_written(struct jirafs *fs, const char *key, bool done,
		    struct jira_op_result *res);
/* Remove `name` from dir if it is still node ln. */
void commit_unlink_if(struct jirafs *fs, const char *dir, const char *name,
		      struct local_node *ln);
/* Update key (as last read: base) with the new file body, shown in an
 * overlay while it waits.  *partial (may be NULL) tells a failure that
 * changed Jira all the same. */
int commit_update(const struct fs_req *rq, const struct fs_node *n,
		  const char *key, const struct jira_issue *base,
		  const char *body, size_t len, char *why, size_t whysize,
		  bool *partial);
/* Create a ticket in n's project from body (n's name becomes its alias). */
int commit_create(const struct fs_req *rq, const struct fs_node *n,
		  const char *body, size_t len, char *why, size_t whysize);

#endif
