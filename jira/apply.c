/*
 * apply.c - the appliers of write.c's jira_writer_apply (see write.h): a
 * create (one POST with the marker, then the close of a ticket written in
 * closed/), the transitions (close, reopen, and an update's status: pick
 * one, fill its screen, POST, read back), a comment, and an update (PUT
 * the changed fields, add comments, run the transition), an attachment
 * (one multipart POST of the spooled file).  Requests that
 * change Jira are sent once; what an earlier try may have done is looked
 * up first (write.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jira/attach.h"
#include "jira/write.h"
#include "jira/write_priv.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#define DEFAULT_RESOLUTION "Done"
#define ATTACH_MIN_RATE 100 /* bytes per ms: 100 kB/s */

/* The answers that refuse an operation for good (a 4xx to its own
 * request, or the checks of the project's screens); everything else is
 * retried. */
static bool refusal(enum jira_status st)
{
	return st == JIRA_ERR_BAD_REQUEST || st == JIRA_ERR_NOT_FOUND ||
	       st == JIRA_ERR_CONFLICT || st == JIRA_ERR_TOO_LARGE;
}

/* A write request's failure: when it may have been applied all the same,
 * the next try looks for its effect before sending again. */
static enum jira_status sent(struct jira_op_result *res, enum jira_status st,
			     const struct jira_error *err)
{
	if (st != JIRA_OK && jira_outcome_unknown(err))
		res->maybe_sent = true;
	return st;
}

/* ---- create ------------------------------------------------------------- */

/* After the create (made now or by an earlier try): close it if it was
 * written in closed/.  A failure that is not a refusal keeps the record
 * (which remembers the ticket); a refusal leaves a partial result. */
static enum jira_status then_close(struct jira_writer *w,
				   const struct jira_op *op, deadline_t d,
				   struct jira_op_result *res,
				   struct jira_error *err)
{
	if (!op->then_close)
		return JIRA_OK;
	enum jira_status st =
		apply_transition(w, res->key, true, NULL, d, res, err);
	if (refusal(st))
		res->partial = true;
	else if (st != JIRA_OK)
		res->maybe_sent = true; /* the create is done: never again */
	return st;
}

enum jira_status apply_create(struct jira_writer *w,
			      const struct jira_op *op, deadline_t d,
			      struct jira_op_result *res,
			      struct jira_error *err)
{
	if (op->made) {
		/* made by an earlier try whose later step failed */
		if (!(res->key = strdup(op->made)))
			return jira_error_set(err, JIRA_ERR_NOMEM,
					      "out of memory");
		return then_close(w, op, d, res, err);
	}
	struct jira_create_plan plan;
	enum jira_status st =
		jira_create_plan(op->body ? op->body : "", op->project,
				 w->default_issuetype, &plan, err);
	if (st != JIRA_OK)
		return st;
	if (op->maybe_sent) {
		/* an earlier try may have made it: never create it twice */
		char *key = NULL;
		st = writer_find_created(w, op,
					 json_str(plan.fields, "summary"), d,
					 &key, err);
		if (st != JIRA_OK) {
			jira_create_plan_release(&plan);
			return st;
		}
		if (key) {
			jlog_notice("%s was created by an earlier try (found "
				    "by its marker)",
				    key);
			jira_create_plan_release(&plan);
			res->key = key;
			return then_close(w, op, d, res, err);
		}
	}
	if (!plan.native)
		st = writer_resolve_create(w, op->project, &plan, d, err);
	cJSON *req = NULL, *answer = NULL;
	if (st == JIRA_OK) {
		req = cJSON_CreateObject();
		cJSON_AddItemToObject(req, "fields", plan.fields);
		plan.fields = NULL;
		cJSON *props = cJSON_AddArrayToObject(req, "properties");
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "key", WRITE_MARKER_PROPERTY);
		cJSON *val = cJSON_AddObjectToObject(p, "value");
		cJSON_AddStringToObject(val, "op", op->id);
		cJSON_AddItemToArray(props, p);
		char *body = cJSON_PrintUnformatted(req);
		if (!body)
			st = jira_error_set(err, JIRA_ERR_NOMEM,
					    "out of memory");
		else
			st = sent(res,
				  jira_request_json(w->c, "POST",
						    "/rest/api/2/issue", body,
						    d, false, &answer, err),
				  err);
		free(body);
	}
	jira_create_plan_release(&plan);
	cJSON_Delete(req);
	if (st == JIRA_ERR_BAD_REQUEST)
		writer_meta_forget(w, op->project);
	if (st != JIRA_OK) {
		cJSON_Delete(answer);
		return st;
	}
	const char *key = json_str(answer, "key");
	if (!key || !jira_key_valid(key)) {
		cJSON_Delete(answer);
		res->maybe_sent = true; /* a 2xx: it may well exist */
		return jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				      "the create was answered without a key");
	}
	res->key = strdup(key);
	cJSON_Delete(answer);
	if (!res->key)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	jlog_info("created %s", res->key);
	return then_close(w, op, d, res, err);
}

/* ---- transitions -------------------------------------------------------- */

static bool leads_to_done(const cJSON *t)
{
	const char *cat = json_str(
		json_item(json_item(t, "to"), "statusCategory"), "key");
	return cat && strcmp(cat, "done") == 0;
}

const cJSON *jira_pick_transition(const cJSON *transitions, bool done,
				  const char *wanted)
{
	static const char *const close_like[] = { "close", "done", "resolve" };
	static const char *const reopen_like[] = { "reopen" };
	const char *const *like = done ? close_like : reopen_like;
	size_t nlike = done ? 3 : 1;
	const cJSON *t, *first = NULL;

	cJSON_ArrayForEach(t, transitions) {
		if (leads_to_done(t) != done)
			continue;
		if (!first)
			first = t;
		const char *n = json_str(t, "name");
		if (wanted && n && strcasecmp(n, wanted) == 0)
			return t;
	}
	for (size_t i = 0; i < nlike; i++) {
		cJSON_ArrayForEach(t, transitions) {
			const char *n = json_str(t, "name");
			if (leads_to_done(t) == done && n &&
			    strcasestr(n, like[i]))
				return t;
		}
	}
	return first;
}

/* The allowed value named `name` (case-insensitive), or NULL. */
static const cJSON *allowed_named(const cJSON *allowed, const char *name)
{
	const cJSON *v;
	if (!name)
		return NULL;
	cJSON_ArrayForEach(v, allowed) {
		const char *n = json_str(v, "name");
		if (!n)
			n = json_str(v, "value");
		if (n && strcasecmp(n, name) == 0)
			return v;
	}
	return NULL;
}

static cJSON *ref_to(const cJSON *v)
{
	cJSON *o = cJSON_CreateObject();
	if (json_str(v, "id"))
		cJSON_AddStringToObject(o, "id", json_str(v, "id"));
	else if (json_str(v, "name"))
		cJSON_AddStringToObject(o, "name", json_str(v, "name"));
	else if (json_str(v, "value"))
		cJSON_AddStringToObject(o, "value", json_str(v, "value"));
	return o;
}

enum jira_status jira_transition_fields(const cJSON *transition,
					const char *resolution, cJSON **fields,
					struct jira_error *err)
{
	cJSON *out = cJSON_CreateObject();
	const cJSON *f;
	*fields = NULL;
	if (!out)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(f, json_item(transition, "fields")) {
		const cJSON *allowed = json_item(f, "allowedValues");
		bool required = cJSON_IsTrue(json_item(f, "required"));
		bool is_resolution = strcmp(f->string, "resolution") == 0;
		if (!required && !is_resolution)
			continue;
		if (is_resolution) {
			const cJSON *v = allowed_named(allowed, resolution);
			if (!v)
				v = allowed_named(allowed, DEFAULT_RESOLUTION);
			if (!v)
				v = cJSON_GetArrayItem(allowed, 0);
			if (v) {
				cJSON_AddItemToObject(out, f->string,
						      ref_to(v));
				continue;
			}
		} else if (cJSON_IsTrue(json_item(f, "hasDefaultValue"))) {
			continue;
		} else if (cJSON_GetArraySize(allowed) > 0) {
			const cJSON *v = cJSON_GetArrayItem(allowed, 0);
			const char *type =
				json_str(json_item(f, "schema"), "type");
			if (type && strcmp(type, "array") == 0) {
				cJSON *arr = cJSON_CreateArray();
				cJSON_AddItemToArray(arr, ref_to(v));
				cJSON_AddItemToObject(out, f->string, arr);
			} else {
				cJSON_AddItemToObject(out, f->string,
						      ref_to(v));
			}
			continue;
		}
		if (!required)
			continue;
		const char *name = json_str(transition, "name");
		cJSON_Delete(out);
		return jira_error_set(
			err, JIRA_ERR_BAD_REQUEST,
			"the transition \"%s\" requires the field "
			"\"%s\", which jirafs cannot fill",
			name ? name : "?", f->string);
	}
	*fields = out;
	return JIRA_OK;
}

/* Say which ticket err is about: "KEY: " before its message. */
static enum jira_status about(const char *key, enum jira_status st,
			      struct jira_error *err)
{
	char was[JIRA_ERROR_MSG_MAX];
	snprintf(was, sizeof(was), "%s", err->msg);
	return jira_error_set(err, st, "%s: %.900s", key, was);
}

static enum jira_status get_transitions(struct jira_writer *w,
					const char *key, deadline_t d,
					cJSON **out, struct jira_error *err)
{
	char path[512];
	snprintf(path, sizeof(path),
		 "/rest/api/2/issue/%s/transitions?expand=transitions.fields",
		 key);
	return jira_get_json(w->c, path, d, out, err);
}

static void names_of_transitions(struct strbuf *sb, const cJSON *list)
{
	const cJSON *t;
	bool first = true;
	cJSON_ArrayForEach(t, list) {
		strbuf_addf(sb, "%s%s -> %s", first ? "" : ", ",
			    json_str(t, "name") ? json_str(t, "name") : "?",
			    json_str(json_item(t, "to"), "name")
				    ? json_str(json_item(t, "to"), "name")
				    : "?");
		first = false;
	}
}

/* POST the transition t of key with its screen's required fields, then read
 * the ticket back into res->issue. */
static enum jira_status run_transition(struct jira_writer *w, const char *key,
				       const cJSON *t, const char *resolution,
				       deadline_t d,
				       struct jira_op_result *res,
				       struct jira_error *err)
{
	cJSON *fields = NULL;
	enum jira_status st = jira_transition_fields(
		t, resolution ? resolution : w->resolution, &fields, err);
	if (st != JIRA_OK)
		return about(key, st, err);
	cJSON *req = cJSON_CreateObject();
	cJSON *tr = cJSON_AddObjectToObject(req, "transition");
	cJSON_AddStringToObject(tr, "id",
				json_str(t, "id") ? json_str(t, "id") : "");
	if (fields->child)
		cJSON_AddItemToObject(req, "fields", fields);
	else
		cJSON_Delete(fields);
	char *body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!body)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	char path[512];
	snprintf(path, sizeof(path), "/rest/api/2/issue/%s/transitions", key);
	cJSON *answer = NULL;
	st = sent(res,
		  jira_request_json(w->c, "POST", path, body, d, false, &answer,
				    err),
		  err);
	free(body);
	cJSON_Delete(answer);
	if (st != JIRA_OK)
		return st;

	struct jira_issue *back = NULL;
	st = jira_issue_get(w->c, key, d, &back, err);
	if (st != JIRA_OK) {
		res->maybe_sent = true; /* it went through: read back first */
		return st;
	}
	const char *to = json_str(json_item(t, "to"), "name");
	if (back->done != leads_to_done(t) ||
	    (to && strcasecmp(back->status, to) != 0)) {
		/* the workflow did not take it: a refusal, not an outage */
		st = jira_error_set(
			err, JIRA_ERR_BAD_REQUEST,
			"%s: Jira accepted \"%s\" but the ticket "
			"is still %s",
			key, json_str(t, "name") ? json_str(t, "name") : "?",
			back->status);
		jira_issue_unref(back);
		return st;
	}
	jira_issue_unref(res->issue);
	res->issue = back;
	return JIRA_OK;
}

enum jira_status apply_transition(struct jira_writer *w, const char *key,
				  bool done, const char *resolution,
				  deadline_t d, struct jira_op_result *res,
				  struct jira_error *err)
{
	cJSON *j = NULL;
	if (res->maybe_sent) {
		/* an earlier try may have moved it already */
		struct jira_issue *now = NULL;
		enum jira_status st = jira_issue_get(w->c, key, d, &now, err);
		if (st == JIRA_ERR_NOT_FOUND) /* the ticket is gone */
			return st;
		if (st != JIRA_OK)
			return writer_lookup_failed(st, "moved the ticket",
						    err);
		if (now->done == done) {
			jira_issue_unref(res->issue);
			res->issue = now;
			return JIRA_OK;
		}
		jira_issue_unref(now);
	}
	enum jira_status st = get_transitions(w, key, d, &j, err);
	if (st != JIRA_OK)
		return st;
	const cJSON *list = json_item(j, "transitions");
	const cJSON *t = jira_pick_transition(
		list, done, done ? w->close_transition : NULL);
	struct jira_issue *now = NULL;
	struct jira_error look = { 0 };
	if (!t && jira_issue_get(w->c, key, d, &now, &look) == JIRA_OK &&
	    now->done == done) {
		/* there already (another machine closed it first) */
		jira_issue_unref(res->issue);
		res->issue = now;
		cJSON_Delete(j);
		return JIRA_OK;
	}
	jira_issue_unref(now);
	if (!t) {
		struct strbuf sb = STRBUF_INIT;
		names_of_transitions(&sb, list);
		st = jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				    "%s: no transition leads %s the done "
				    "category (available: %s)",
				    key, done ? "into" : "out of",
				    sb.len ? strbuf_str(&sb) : "none");
		strbuf_release(&sb);
	} else {
		st = run_transition(w, key, t, resolution, d, res, err);
	}
	cJSON_Delete(j);
	return st;
}

/* ---- update and comment ------------------------------------------------- */

static enum jira_status post_comment(struct jira_writer *w, const char *key,
				     const cJSON *payload, deadline_t d,
				     struct jira_op_result *res,
				     struct jira_error *err)
{
	char path[512];
	snprintf(path, sizeof(path), "/rest/api/2/issue/%s/comment", key);
	char *body = cJSON_PrintUnformatted(payload);
	if (!body)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	cJSON *answer = NULL;
	enum jira_status st = sent(res,
				   jira_request_json(w->c, "POST", path, body,
						     d, false, &answer, err),
				   err);
	free(body);
	cJSON_Delete(answer);
	return st;
}

enum jira_status apply_update(struct jira_writer *w,
			      const struct jira_op *op, deadline_t d,
			      struct jira_op_result *res,
			      struct jira_error *err)
{
	struct jira_update_plan plan;
	enum jira_status st = jira_update_plan(
		op->base ? op->base : "", op->body ? op->body : "", &plan, err);
	if (st != JIRA_OK)
		return st;
	cJSON *trans = NULL;
	const cJSON *t = NULL;

	/* find the transition first, so that nothing is written when the
	 * status asked for cannot be reached */
	if (plan.status) {
		st = get_transitions(w, op->key, d, &trans, err);
		const cJSON *list = json_item(trans, "transitions"), *x;
		cJSON_ArrayForEach(x, list) {
			const char *to = json_str(json_item(x, "to"), "name");
			if (to && strcasecmp(to, plan.status) == 0) {
				t = x;
				break;
			}
		}
		if (st == JIRA_OK && !t) {
			struct strbuf sb = STRBUF_INIT;
			names_of_transitions(&sb, list);
			st = jira_error_set(err, JIRA_ERR_BAD_REQUEST,
					    "status: no transition of %s leads "
					    "to \"%s\" (available: %s)",
					    op->key, plan.status,
					    sb.len ? strbuf_str(&sb) : "none");
			strbuf_release(&sb);
		}
		/* and its screen must be fillable, before anything changes */
		cJSON *probe = NULL;
		if (st == JIRA_OK && t) {
			st = jira_transition_fields(t,
						    plan.resolution
							    ? plan.resolution
							    : w->resolution,
						    &probe, err);
			if (st != JIRA_OK)
				st = about(op->key, st, err);
		}
		cJSON_Delete(probe);
	}
	bool plan_had_fields = plan.fields != NULL;
	if (st == JIRA_OK && plan.fields) {
		cJSON *req = cJSON_CreateObject();
		cJSON_AddItemToObject(req, "fields", plan.fields);
		plan.fields = NULL;
		char *body = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		char path[512];
		snprintf(path, sizeof(path), "/rest/api/2/issue/%s", op->key);
		cJSON *answer = NULL;
		st = body ? sent(res,
				 jira_request_json(w->c, "PUT", path, body, d,
						   false, &answer, err),
				 err)
			  : jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
		free(body);
		cJSON_Delete(answer);
	}
	bool changed = st == JIRA_OK && plan_had_fields;
	const cJSON *c;
	cJSON_ArrayForEach(c, plan.comments) {
		if (st != JIRA_OK)
			break;
		bool found = false;
		if (op->maybe_sent)
			st = writer_comment_exists(w, op->key, c,
						   op->accepted_ms, d, &found,
						   err);
		if (st == JIRA_OK && !found)
			st = post_comment(w, op->key, c, d, res, err);
		changed |= st == JIRA_OK;
	}
	if (st == JIRA_OK && t)
		st = run_transition(w, op->key, t, plan.resolution, d, res,
				    err);
	/* refused after changing Jira: the rest is refused; failed otherwise:
	 * the whole record is tried again, looking first (the PUT sets the
	 * same values again, comments and the move are looked for) */
	res->partial = st != JIRA_OK && changed && refusal(st);
	if (st != JIRA_OK && changed && !refusal(st))
		res->maybe_sent = true;
	cJSON_Delete(trans);
	jira_update_plan_release(&plan);
	return st;
}

enum jira_status apply_comment(struct jira_writer *w,
			       const struct jira_op *op, deadline_t d,
			       struct jira_op_result *res,
			       struct jira_error *err)
{
	cJSON *payload = NULL;
	enum jira_status st = jira_comment_payload(op->body ? op->body : "",
						   op->body_len, &payload, err);
	if (st != JIRA_OK || !payload)
		return st;
	bool found = false;
	if (op->maybe_sent)
		st = writer_comment_exists(w, op->key, payload,
					   op->accepted_ms, d, &found, err);
	if (st == JIRA_OK && !found)
		st = post_comment(w, op->key, payload, d, res, err);
	else if (found)
		jlog_notice("the comment on %s was added by an earlier try",
			    op->key);
	cJSON_Delete(payload);
	return st;
}

/* ---- attach ------------------------------------------------------------- */

enum jira_status apply_attach(struct jira_writer *w, const struct jira_op *op,
			      deadline_t d, struct jira_op_result *res,
			      struct jira_error *err)
{
	int fd = open(op->body, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && errno != ENOENT)
		return jira_error_set(err, JIRA_ERR_INTERNAL,
				      "cannot read %s: %s", op->body,
				      strerror(errno));
	if (fd < 0 || fstat(fd, &st) || st.st_size < op->size) {
		if (fd >= 0)
			close(fd);
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "the bytes of %s are gone from the state "
				      "directory (%s)",
				      op->name, op->body);
	}
	/* as long as the bytes take at ATTACH_MIN_RATE (a stall is caught
	 * sooner: the transport's low-speed limit) */
	int64_t need = op->size / ATTACH_MIN_RATE;
	if (deadline_left(d) < need)
		d = deadline_in(need);
	bool found = false;
	enum jira_status s = JIRA_OK;
	if (op->maybe_sent) {
		s = jira_attach_find(w->c, op->key, op->name, op->size,
				     op->accepted_ms, d, &found, err);
		if (s != JIRA_OK)
			s = writer_lookup_failed(s, "attached the file", err);
	}
	if (s == JIRA_OK && !found) {
		s = sent(res,
			 jira_attach_upload(w->c, op->key, op->name, fd,
					    (off_t)op->size, op->id, d, err),
			 err);
	} else if (found) {
		jlog_notice("%s was attached to %s by an earlier try",
			    op->name, op->key);
	}
	close(fd);
	return s;
}
