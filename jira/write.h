/*
 * write.h - applying operation records (op.h) to Jira.
 *
 *   create   the project's create screen (createmeta, Jira 9 style, cached)
 *            resolves the issue type by name and tells which fields can be
 *            set; one POST /issue carries the fields and, as an issue
 *            property "jirafs", the record's id (the marker that lets a
 *            create whose outcome is unknown be found again).
 *   update   one PUT with only the fields that changed; a changed status
 *            runs the transition that leads to it (checked before anything
 *            is written); new comments are added.
 *   comment  one POST.
 *   close,   the transitions GET (with the screens' fields), one POST that
 *   reopen   fills the required fields, and a read-back that confirms the
 *            ticket moved (Jira can answer 204 without moving it).
 *
 * A struct jira_writer borrows the client and holds the settings and the
 * createmeta cache (guarded by its own mutex); any thread may apply
 * records at once.  Requests that change Jira are not retried here: a
 * failure is returned for the caller to decide.
 *
 * write.c holds the options, the writer and its cache, the lookups of an
 * earlier try and the dispatch; apply.c the appliers of each kind.
 */
#ifndef JIRAFS_JIRA_WRITE_H
#define JIRAFS_JIRA_WRITE_H

#include "jira/client.h"
#include "jira/op.h"

/* Options of the write side (-o default_issuetype=, close_transition=,
 * resolution=); strings malloc'd. */
struct jira_write_config {
	char *default_issuetype; /* NULL: "Task" */
	char *close_transition;  /* NULL: one named like Close/Done/Resolve */
	char *resolution;        /* NULL: "Done", else the first allowed */
};

struct fuse_args; /* <fuse_opt.h> */
int jira_write_opt_parse(struct fuse_args *args, struct jira_write_config *cfg);
void jira_write_config_release(struct jira_write_config *cfg);
void jira_write_opt_help(void);

struct jira_writer;

struct jira_writer *jira_writer_new(struct jira_client *c,
				    const struct jira_write_config *cfg);
void jira_writer_free(struct jira_writer *w);

struct jira_op_result {
	char *key;                /* the ticket (a create's new key) */
	struct jira_issue *issue; /* read back after a transition, or NULL */
	bool partial;             /* failed, but after changing Jira (a
				     create whose close failed, an update
				     whose transition failed) */
	bool maybe_sent;          /* in: an earlier try of the record may
				     have reached Jira; out: this one may
				     have too (an answer that does not prove
				     otherwise, or applied in part): the
				     next try looks before sending */
};
void jira_op_result_release(struct jira_op_result *r);

/*
 * Apply one record, bounded by the deadline.  A refusal by Jira (or by the
 * checks of the project's screens: unknown issue type, no transition to the
 * status asked for, a transition screen jirafs cannot fill) is
 * JIRA_ERR_BAD_REQUEST with the reason in err->msg, Jira's words verbatim.
 * Everything that can be checked is checked before the first change; when
 * a later step fails anyway, res->partial says so (and res->key, for a
 * create, names the ticket that exists).  Release res in every case.
 *
 * Never twice: when op->maybe_sent (an earlier try may have reached Jira),
 * a create first looks for the ticket carrying its marker (candidates by
 * ordinary JQL, confirmed by reading the marker property: stock Jira cannot
 * search issue properties), a comment for a comment with its body made
 * since the record was accepted, a transition reads the ticket back to see
 * whether it already moved.  A lookup that fails is JIRA_ERR_LOOKUP (or an
 * outage's status), never a refusal.  op->made (a create an earlier try
 * made) skips the create.
 */
/* How long after a create Jira's search may still not show it (on a Data
 * Center, until every node's index has it): a create whose answer was lost
 * is looked for no sooner. */
#define JIRA_SEARCH_LAG_MS (5 * 1000)

enum jira_status jira_writer_apply(struct jira_writer *w,
				   const struct jira_op *op, deadline_t d,
				   struct jira_op_result *res,
				   struct jira_error *err);

/* Choosing a transition (exposed for unit tests): among the transitions of
 * a TransitionsMetaBean's list, the one that leads into ("done" = true) or
 * out of the done category, preferring `wanted` by name, then names like
 * Close/Done/Resolve (or Reopen); NULL when none leads there. */
const cJSON *jira_pick_transition(const cJSON *transitions, bool done,
				  const char *wanted);

/* The fields a transition's screen requires, filled (exposed for tests):
 * resolution from `resolution`, else "Done", else the first allowed value;
 * other required fields with allowed values get the first one.  *out is
 * the object to send as "fields" (maybe empty).  JIRA_OK,
 * JIRA_ERR_BAD_REQUEST when a required field cannot be filled, or
 * JIRA_ERR_NOMEM; *out is NULL on failure. */
enum jira_status jira_transition_fields(const cJSON *transition,
					const char *resolution, cJSON **out,
					struct jira_error *err);

#endif
