/*
 * queries.h - the searches of /queries/ (CONTRACT §11): a JQL text written
 * as queries/NAME.jql defines the search NAME, whose results are the
 * directory queries/NAME/, one symlink per ticket to the ticket's own
 * file, in the JQL's order.
 *
 *   NAME.jql         the JQL as written; closing it has Jira validate it
 *                    (a strict search asking for no ticket): refused, the
 *                    close fails with EINVAL and Jira's message is the
 *                    file's user.jira.error, the text kept as written
 *   NAME/            the results of a valid NAME.jql
 *   NAME/KEY.json    -> ../../PROJECT/KEY.json, or ../../PROJECT/closed/
 *   .x, x~, #x#      scratch names (editors' temporaries): kept, never
 *                    validated; renamed to NAME.jql, they are
 *   FILTER.jql       read-only: a favourite filter of the account, or a
 *                    query.NAME=JQL option (the configuration's)
 *
 * The texts live on disk in STATE_DIR/queries/, so they outlast the
 * mount.  Results are read like a project listing (⌈N/P⌉ requests, pages
 * in parallel), kept for cache_ttl, refreshed in the background once a
 * listing is held, and kept when Jira cannot be reached.  One mutex guards
 * the results and the errors.  Functions return 0 or -errno.
 */
#ifndef JIRAFS_FS_QUERIES_H
#define JIRAFS_FS_QUERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/node.h"
#include "jira/client.h"
#include "util/clock.h"

/* The longest JQL text taken: a write past it fails with EFBIG. */
#define QUERIES_MAX_TEXT (64 << 10)

struct queries;
struct tree;

/* With the query.NAME=JQL options (names, jqls: nfixed of each), which
 * are read-only queries as the favourite filters are. */
struct queries *queries_new(const char *state_dir, struct jira_client *c,
			    struct tree *t, int64_t ttl_ms,
			    int64_t bg_budget_ms, char *const *names,
			    char *const *jqls, size_t nfixed);
void queries_free(struct queries *q);

/* The names of queries/ are fs/node.h's: queries_is_definition(),
 * queries_is_file(). */

/* Each file of queries/ with its stat, then each valid query's directory
 * (st NULL). */
int queries_list(struct queries *q,
		 void (*fn)(void *ctx, const char *name, const struct stat *st),
		 void *ctx);
int queries_stat(struct queries *q, const char *name, struct stat *st);
/* open(2) of the file with flags (O_CREAT to create): *fd */
int queries_open(struct queries *q, const char *name, int flags, int *fd);
int queries_unlink(struct queries *q, const char *name);
int queries_rename(struct queries *q, const char *from, const char *to);
/* Why Jira refused the file name's JQL (malloc'd), or NULL. */
char *queries_error(struct queries *q, const char *name);

/* The definition `name` was written: have Jira validate it.  0 (the
 * results are read afresh), -EINVAL (refused: the reason kept and
 * logged), or another -errno (Jira could not say: kept unvalidated, the
 * directory fails until it can). */
int queries_define(struct queries *q, const char *name, deadline_t d);

/* Is qname a query whose directory exists (its text there, not refused)? */
bool queries_has(struct queries *q, const char *qname);
/* The results of qname, read if stale: for each ticket in the JQL's
 * order its entry name ("SEC-12.json") and link target.  fn runs under
 * the lock and must not block. */
int queries_results(struct queries *q, const char *qname, deadline_t d,
		    void (*fn)(void *ctx, const char *entry,
			       const char *target,
			       const struct timespec *mtime),
		    void *ctx);
/* One entry of qname's results: its target (and mtime), or -ENOENT. */
int queries_link(struct queries *q, const char *qname, const char *entry,
		 deadline_t d, char *target, size_t size,
		 struct timespec *mtime);

struct queries_stats {
	size_t defined, refused, held; /* texts, refused ones, result sets */
	uint64_t searches;             /* result listings read */
};
void queries_stats(struct queries *q, struct queries_stats *st);

#endif
