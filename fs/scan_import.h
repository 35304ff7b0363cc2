/*
 * scan_import.h - a report closed in PROJECT/scans/ becomes a plan of
 * ordinary operations in the outbox (CONTRACT §10).
 *
 * At close(): the report is parsed (scan/), the project's listing is
 * refreshed now (a delta), the tickets carrying the scope's label are
 * read from it, the plan is made against them, and every operation of it
 * is journaled at once (outbox_enqueue: all or nothing).  close() returns
 * then; the outbox's workers apply the operations in parallel, exactly
 * once.  NAME.result.json says what the import did, and gets the keys of
 * the tickets created as they are made.  Once the last create of an import
 * is applied, the listing is read again: a fingerprint carried by two open
 * tickets (two machines importing at once) keeps the lowest key, and the
 * others are closed as Duplicate.
 */
#ifndef JIRAFS_FS_SCAN_IMPORT_H
#define JIRAFS_FS_SCAN_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "fs/fs.h"
#include "fs/node.h"
#include "fs/req.h"
#include "jira/op.h"
#include "scan/scan.h"

/* The scan_*= options, compiled. */
struct scan_config {
	enum scan_group group;
	enum scan_severity min_severity;
	char *priority[SCAN_SEV_COUNT];
	bool autoclose;
	int autoclose_max_pct;
	char **accepted;
	size_t naccepted;
};

/* From cfg's scan_*= strings (defaults for the missing): 0, or -1 with
 * the reason in why. */
int scan_config_make(const struct fs_config *cfg, struct scan_config *out,
		     char *why, size_t whysize);
void scan_config_release(struct scan_config *c);

/* Import the report n (PROJECT/scans/NAME) whose bytes fd holds.  0 (the
 * plan is journaled; a dry run: only its result is written), or -EINVAL
 * (not a report: why in user.jira.error and the log), -EFBIG, -ENOSPC,
 * -EIO / -ETIMEDOUT (no listing to plan against).  Nothing is sent or
 * journaled on failure. */
int scan_import(const struct fs_req *rq, const struct fs_node *n, int fd);

/* A record of an import was applied, or refused for good (from the
 * outbox's workers). */
void scan_import_applied(struct jirafs *fs, const struct jira_op *op,
			 const struct jira_op_result *res);
void scan_import_refused(struct jirafs *fs, const struct jira_op *op,
			 const char *why);

#endif
