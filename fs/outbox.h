/*
 * outbox.h - the durable outbox: nothing accepted is lost (CONTRACT §4.6).
 *
 * Every operation record close() or rename() accepts is first journaled in
 * STATE_DIR/outbox/ (one JSON file per record: written, fsync'd, renamed
 * into place, the directory fsync'd), then applied.  outbox_submit() tries
 * at once, bounded by the caller's deadline; what Jira cannot take now
 * (unreachable, a timeout, 429, 5xx, an authentication problem) stays
 * journaled and worker threads apply it later, with exponential backoff
 * and jitter, honouring Retry-After (capped), across restarts: journals
 * are replayed when the mount starts.
 *
 * Records with the same subject (a ticket key, the name of a file being
 * created, or the fingerprint of a scan finding being created) are applied in the order they were accepted; different
 * subjects proceed in parallel.  A record whose earlier try may have
 * reached Jira is applied with maybe_sent set, so that jira/write.c looks
 * for its effect before sending it again.
 *
 * Thread-safety: one mutex guards the queue; no lock is held while a
 * record is applied or a callback runs.
 */
#ifndef JIRAFS_FS_OUTBOX_H
#define JIRAFS_FS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "jira/op.h"
#include "jira/write.h"
#include "util/clock.h"

/* outbox_submit(): stored, to be applied later */
#define OUTBOX_QUEUED 1

struct outbox_callbacks {
	void *ctx;
	/* a record applied by a worker (res is released afterwards) */
	void (*applied)(void *ctx, const struct jira_op *op,
			struct jira_op_result *res);
	/* a create that made its ticket, before its record leaves the
	 * journal (in close() and in the workers): record the alias now */
	void (*made)(void *ctx, const struct jira_op *op,
		     const struct jira_op_result *res);
	/* a record Jira refused for good, found by a worker; err is -errno;
	 * res may name what it changed first (a create whose close was
	 * refused names its ticket) */
	void (*refused)(void *ctx, const struct jira_op *op,
			struct jira_op_result *res, int err, const char *why);
};

struct outbox;

/*
 * Open the outbox of state_dir (creating STATE_DIR/outbox), load what
 * earlier mounts left, and start `workers` threads.  NULL when the
 * directory cannot be used (logged).
 */
struct outbox *outbox_new(const char *state_dir, struct jira_writer *w,
			  unsigned workers, int64_t timeout_ms,
			  const struct outbox_callbacks *cb);
/* Stop the workers (what is in flight has been cancelled by the caller)
 * and keep what is pending for the next mount, saying so in the log. */
void outbox_free(struct outbox *ob);

/*
 * Journal op (taken over) and try to apply it at once unless an earlier
 * record of the same subject waits; a record's subject is its key, or
 * "new:DIR/NAME" for a create (fs_create_subject).  Returns 0 (applied:
 * res filled), OUTBOX_QUEUED (stored; res empty; err says why it waits),
 * or -errno: refused (err: Jira's answer, with its HTTP status; nothing
 * stays), or not stored at all (-ENOSPC, -EIO: nothing was sent).
 */
int outbox_submit(struct outbox *ob, struct jira_op *op, deadline_t d,
		  struct jira_op_result *res, struct jira_error *err);

/*
 * Journal n records (taken over, also on failure) for the workers to
 * apply, without trying any now: all of them are stored, or none
 * (-ENOSPC, -EIO, -ENOMEM with the reason in err).  A scan import's plan.
 */
int outbox_enqueue(struct outbox *ob, struct jira_op **ops, size_t n,
		   struct jira_error *err);

/* Cancel the queued record of subject (a draft removed while its create
 * waits): 0 when it was never sent (removed from the journal), -EBUSY when
 * it is being sent or an earlier try may have reached Jira (it stays),
 * -ENOENT when none waits.  why says which, for the log. */
int outbox_cancel(struct outbox *ob, const char *subject, char *why,
		  size_t whysize);

/* A record of subject not sent yet: replace the body of the queued create
 * of a file written again.  0, -ENOENT (none queued), -EBUSY (being sent,
 * or an earlier try may have reached Jira), or a journal error.  Like
 * outbox_cancel, it waits while the record's file is being rewritten. */
int outbox_replace_body(struct outbox *ob, const char *subject,
			const char *body, size_t len);

/* Records waiting for subject (0: none).  Never waits for the disk: the
 * journal is written without the lock these take. */
size_t outbox_pending(struct outbox *ob, const char *subject);
size_t outbox_count(struct outbox *ob);

/* fn for each waiting record, in order, under the outbox's lock (fn must
 * only look). */
void outbox_each(struct outbox *ob,
		 void (*fn)(void *ctx, const struct jira_op *op), void *ctx);

/* .jirafs/outbox/: fn for each waiting record's file name; its text. */
void outbox_list(struct outbox *ob,
		 void (*fn)(void *ctx, const char *name), void *ctx);
char *outbox_text(struct outbox *ob, const char *name, size_t *len);

/* The last authentication problem the workers met, "" if none (for
 * .jirafs/status). */
void outbox_auth_problem(struct outbox *ob, char *buf, size_t size);

#endif
