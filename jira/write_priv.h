/*
 * write_priv.h - what write.c (the writer, its createmeta cache, the
 * lookups, the dispatch) and apply.c (the appliers of each kind of record)
 * share.  Private to those two files.  Every function here is bounded by
 * its deadline and returns a status with the reason in err (as write.h).
 */
#ifndef JIRAFS_JIRA_WRITE_PRIV_H
#define JIRAFS_JIRA_WRITE_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "jira/client.h"
#include "jira/op.h"
#include "jira/status.h"
#include "jira/write.h"
#include "util/clock.h"

/* The issue property a create carries: {"op": the record's id}. */
#define WRITE_MARKER_PROPERTY "jirafs"

struct map;

/* The writer: its settings (set once) and the createmeta cache. */
struct jira_writer {
	struct jira_client *c;
	char *default_issuetype, *close_transition, *resolution;
	pthread_mutex_t lock; /* guards meta and fetching */
	struct map *meta;     /* "SEC" or "SEC/10001" -> struct meta * */
	struct map *fetching; /* keys being fetched: others wait for it */
	pthread_cond_t fetched; /* one of them is in (CLOCK_MONOTONIC) */
};

/* ---- write.c ------------------------------------------------------------ */

/* Resolve a create plan's issue type by name against the project's create
 * screen (cached) and leave out the fields the screen does not offer. */
enum jira_status writer_resolve_create(struct jira_writer *w,
				       const char *project,
				       struct jira_create_plan *plan,
				       deadline_t d, struct jira_error *err);
/* Forget a project's screens (after Jira refused a create: they may have
 * changed). */
void writer_meta_forget(struct jira_writer *w, const char *project);

/* A lookup's failure as the record's: outages, credentials and NOMEM keep
 * their status, anything else becomes JIRA_ERR_LOOKUP ("cannot tell
 * whether an earlier try <what>"). */
enum jira_status writer_lookup_failed(enum jira_status st, const char *what,
				      struct jira_error *err);
/* The ticket an earlier try of this create made (its marker holds op->id):
 * *key malloc'd, or NULL when there is none. */
enum jira_status writer_find_created(struct jira_writer *w,
				     const struct jira_op *op,
				     const char *summary, deadline_t d,
				     char **key, struct jira_error *err);
/* Is payload's comment already on key, made since since_ms? */
enum jira_status writer_comment_exists(struct jira_writer *w, const char *key,
				       const cJSON *payload, int64_t since_ms,
				       deadline_t d, bool *found,
				       struct jira_error *err);

/* ---- apply.c ------------------------------------------------------------ */

/* The appliers of jira_writer_apply, one a kind; res as for it. */
enum jira_status apply_create(struct jira_writer *w, const struct jira_op *op,
			      deadline_t d, struct jira_op_result *res,
			      struct jira_error *err);
enum jira_status apply_update(struct jira_writer *w, const struct jira_op *op,
			      deadline_t d, struct jira_op_result *res,
			      struct jira_error *err);
enum jira_status apply_comment(struct jira_writer *w, const struct jira_op *op,
			       deadline_t d, struct jira_op_result *res,
			       struct jira_error *err);
/* Attach the spooled file; with maybe_sent, look for it on the ticket
 * first (a name and size made since the record was accepted). */
enum jira_status apply_attach(struct jira_writer *w, const struct jira_op *op,
			      deadline_t d, struct jira_op_result *res,
			      struct jira_error *err);
/* Move key into (done) or out of the done category, giving `resolution`
 * (NULL: the writer's); with res->maybe_sent, read it back first. */
enum jira_status apply_transition(struct jira_writer *w, const char *key,
				  bool done, const char *resolution,
				  deadline_t d, struct jira_op_result *res,
				  struct jira_error *err);

#endif
