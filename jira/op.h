/*
 * op.h - one change to Jira, as a self-contained record.
 *
 * Every write through the filesystem becomes a struct jira_op: what to do,
 * to which ticket, with which body.  A record holds everything needed to
 * apply it later (the durable outbox journals exactly these records), and
 * serializes to and from one JSON object.
 *
 *   JIRA_OP_CREATE   body: the file written (CONTRACT §3 shape, or Jira's
 *                    native {"fields": {...}}); project from the directory;
 *                    `alias`: the name the file was written under;
 *                    `then_close`: it was written in closed/.
 *   JIRA_OP_UPDATE   body: the whole new ticket file; base: the ticket file
 *                    as last read (only the differences are sent).
 *   JIRA_OP_COMMENT  body: the bytes appended (plain text, or a JSON object
 *                    {"body": ..., "visibility": ...}).
 *   JIRA_OP_CLOSE    run a transition into the "done" category.
 *   JIRA_OP_REOPEN   run a transition out of it.
 *   JIRA_OP_ATTACH   attach a file to the ticket: body: the path of the
 *                    spooled bytes (STATE/attachments/up/KEY/NAME, which
 *                    the record owns once journaled and which goes when
 *                    it is done); `name`: the attachment's file name;
 *                    `size`: the bytes sent.
 *
 * jira_op_check() does every check that needs no network (JSON, UTF-8,
 * required keys, read-only keys, sizes): a record that fails it is refused
 * (JIRA_ERR_BAD_REQUEST, or JIRA_ERR_TOO_LARGE for a size) and never sent.
 * Like every call into jira/, the checks return a status with the reason
 * (one line) in err->msg; err may be NULL.
 *
 * Records are plain data owned by whoever holds them; nothing here locks.
 *
 * op.c holds the record (new, free, serialize, parse, jira_op_check);
 * plan.c the checks, the comment payload and the create/update plans.
 */
#ifndef JIRAFS_JIRA_OP_H
#define JIRAFS_JIRA_OP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jira/status.h"

/* CONTRACT §4.5 */
#define JIRA_MAX_BODY_MIB 1 /* a ticket file, in MiB */
#define JIRA_MAX_BODY ((unsigned)JIRA_MAX_BODY_MIB << 20) /* in bytes */
/* The limit for messages: "1 MiB". */
#define JIRA_MAX_BODY_TEXT JIRA_OP_STR(JIRA_MAX_BODY_MIB) " MiB"
#define JIRA_OP_STR(x) JIRA_OP_STR_(x)
#define JIRA_OP_STR_(x) #x
#define JIRA_MAX_COMMENT_CHARS 32767    /* a comment, in characters */

enum jira_op_kind {
	JIRA_OP_CREATE,
	JIRA_OP_UPDATE,
	JIRA_OP_COMMENT,
	JIRA_OP_CLOSE,
	JIRA_OP_REOPEN,
	JIRA_OP_ATTACH,
};

#define JIRA_OP_ID_LEN 32 /* hex characters */

struct jira_op {
	char id[JIRA_OP_ID_LEN + 1]; /* random; a create's marker in Jira */
	enum jira_op_kind kind;
	char *project;      /* "SEC" */
	char *key;          /* "SEC-12"; NULL for a create */
	char *body;         /* create, update, comment; NUL-terminated */
	size_t body_len;
	char *base;         /* update: the ticket file as last read */
	char *alias;        /* create: the file name, e.g. "new-finding.json" */
	bool alias_closed;  /* create: the alias lives in closed/ */
	bool then_close;    /* create: written in closed/ */
	/* an operation of a scan import (CONTRACT §10): the report's name
	 * in PROJECT/scans/ and the finding's fingerprint; NULL otherwise */
	char *scan;
	char *fp;
	char *resolution;   /* close: the resolution to give (NULL: the
			       mount's -o resolution=) */
	char *name;         /* attach: the file name */
	int64_t size;       /* attach: the bytes spooled at body */
	int64_t accepted_ms; /* wall clock when close()/rename() took it */
	/* the outbox's bookkeeping, journaled with the record */
	int attempts;       /* tries so far */
	char *last_error;   /* why the last one failed, or NULL */
	bool maybe_sent;    /* an earlier try may have reached Jira: look
			       for its effect before sending again */
	int64_t sent_ms;    /* wall clock when the last worker try started
			       (0: none, accepted_ms is used) */
	char *made;         /* create: the ticket an earlier try made (its
			       answer arrived, a later step failed) */
};

const char *jira_op_kind_name(enum jira_op_kind k);

/* A new record with a fresh random id; strings are copied (NULL allowed).
 * NULL when out of memory. */
struct jira_op *jira_op_new(enum jira_op_kind kind, const char *project,
			    const char *key, const char *body, size_t body_len);
void jira_op_free(struct jira_op *op);

/* The record as one JSON object (malloc'd text), and back.  parse returns
 * NULL for anything that is not a record this version wrote.  A record
 * read back from a journal counts as maybe sent (the daemon may have died
 * after sending it). */
char *jira_op_serialize(const struct jira_op *op);
struct jira_op *jira_op_parse(const char *text, size_t len);

/*
 * The checks that need no network.  JIRA_OK, JIRA_ERR_BAD_REQUEST,
 * JIRA_ERR_TOO_LARGE or JIRA_ERR_NOMEM.  For a comment, *empty is set when
 * the append adds nothing (whitespace only): the caller then sends nothing
 * and succeeds.
 */
enum jira_status jira_op_check(const struct jira_op *op, bool *empty,
			       struct jira_error *err);

/* The text of a comment append: plain text with one trailing newline
 * trimmed, or the "body" of a JSON object.  *json receives the object to
 * POST ({"body", "visibility"?}); NULL when empty.  JIRA_OK,
 * JIRA_ERR_BAD_REQUEST, JIRA_ERR_TOO_LARGE or JIRA_ERR_NOMEM. */
enum jira_status jira_comment_payload(const char *bytes, size_t len,
				      cJSON **json, struct jira_error *err);

/*
 * What an update sends, worked out from the ticket as last read (base) and
 * the new file (body): `fields` for one PUT (only what changed), the status
 * to reach (NULL if unchanged), the resolution to give on the way (NULL for
 * the default), and the comments to add.  Every member may be NULL/empty.
 * Statuses as for jira_op_check(); on failure the plan is empty.
 */
struct jira_update_plan {
	cJSON *fields;        /* object for {"fields": ...}, NULL if none */
	char *status;         /* new status name */
	char *resolution;     /* resolution named in the file, if it changed */
	cJSON *comments;      /* array of comment objects to POST */
};
enum jira_status jira_update_plan(const char *base, const char *body,
				  struct jira_update_plan *plan,
				  struct jira_error *err);
void jira_update_plan_release(struct jira_update_plan *plan);

/*
 * What a create sends, before names are resolved against the project's
 * create screen: `fields` for POST /issue (project set, issuetype as
 * {"name"}, names as {"name"}), `native` when the body was Jira's own
 * {"fields": ...} shape (passed through as given), and `custom` the keys
 * that came from the §3 file's "fields" (to keep only those on the screen).
 * Statuses as for jira_op_check(); on failure the plan is empty.
 */
struct jira_create_plan {
	cJSON *fields;
	bool native;
	cJSON *custom;       /* array of field ids, NULL for native */
	char *issuetype;     /* the name asked for (or the default) */
};
enum jira_status jira_create_plan(const char *body, const char *project,
				  const char *default_issuetype,
				  struct jira_create_plan *plan,
				  struct jira_error *err);
void jira_create_plan_release(struct jira_create_plan *plan);

#endif
