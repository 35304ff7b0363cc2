/*
 * op.c - operation records (see op.h): a new record and its id, freeing,
 * serializing to the journal's JSON and parsing it back, and
 * jira_op_check(), which runs the checks of plan.c on a whole record.
 */
#include "jira/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "jira/issue.h"
#include "util/clock.h"
#include "util/json.h"

static const char *const kind_names[] = {
	[JIRA_OP_CREATE] = "create",   [JIRA_OP_UPDATE] = "update",
	[JIRA_OP_COMMENT] = "comment", [JIRA_OP_CLOSE] = "close",
	[JIRA_OP_REOPEN] = "reopen",   [JIRA_OP_ATTACH] = "attach",
};

const char *jira_op_kind_name(enum jira_op_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(*kind_names)
		       ? kind_names[k]
		       : "?";
}

static void random_id(char out[JIRA_OP_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[JIRA_OP_ID_LEN / 2];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		/* no entropy source: time and address still make it unique
		 * enough for one machine */
		uint64_t t = (uint64_t)clock_wall_ms() ^ (uint64_t)clock_mono_ms()
			     << 20 ^ (uint64_t)(uintptr_t)out;
		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)(t >> (8 * (i % 8))) ^
				 (unsigned char)(i * 131);
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[JIRA_OP_ID_LEN] = '\0';
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct jira_op *jira_op_new(enum jira_op_kind kind, const char *project,
			    const char *key, const char *body, size_t body_len)
{
	struct jira_op *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	random_id(op->id);
	op->kind = kind;
	op->project = dup_or_null(project);
	op->key = dup_or_null(key);
	if (body) {
		op->body = malloc(body_len + 1);
		if (op->body) {
			memcpy(op->body, body, body_len);
			op->body[body_len] = '\0';
			op->body_len = body_len;
		}
	}
	op->accepted_ms = clock_wall_ms();
	if ((project && !op->project) || (key && !op->key) ||
	    (body && !op->body)) {
		jira_op_free(op);
		return NULL;
	}
	return op;
}

void jira_op_free(struct jira_op *op)
{
	if (!op)
		return;
	free(op->project);
	free(op->key);
	free(op->body);
	free(op->base);
	free(op->alias);
	free(op->scan);
	free(op->fp);
	free(op->resolution);
	free(op->name);
	free(op->last_error);
	free(op->made);
	free(op);
}

/* ---- serialization ---------------------------------------------------- */

static void add_opt_string(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

char *jira_op_serialize(const struct jira_op *op)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "version", 1);
	cJSON_AddStringToObject(o, "id", op->id);
	cJSON_AddStringToObject(o, "kind", jira_op_kind_name(op->kind));
	add_opt_string(o, "project", op->project);
	add_opt_string(o, "key", op->key);
	add_opt_string(o, "body", op->body);
	add_opt_string(o, "base", op->base);
	add_opt_string(o, "alias", op->alias);
	if (op->alias_closed)
		cJSON_AddTrueToObject(o, "alias_closed");
	if (op->then_close)
		cJSON_AddTrueToObject(o, "then_close");
	add_opt_string(o, "scan", op->scan);
	add_opt_string(o, "fp", op->fp);
	add_opt_string(o, "resolution", op->resolution);
	add_opt_string(o, "name", op->name);
	if (op->kind == JIRA_OP_ATTACH)
		cJSON_AddNumberToObject(o, "size", (double)op->size);
	cJSON_AddNumberToObject(o, "accepted_ms", (double)op->accepted_ms);
	cJSON_AddNumberToObject(o, "attempts", op->attempts);
	add_opt_string(o, "last_error", op->last_error);
	if (op->sent_ms)
		cJSON_AddNumberToObject(o, "sent_ms", (double)op->sent_ms);
	add_opt_string(o, "made", op->made);
	char *text = json_file_text(o, NULL);
	cJSON_Delete(o);
	return text;
}

static bool hex_id(const char *id)
{
	if (!id || strlen(id) != JIRA_OP_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

struct jira_op *jira_op_parse(const char *text, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(text, len);
	struct jira_op *op = NULL;
	const cJSON *ver = json_item(o, "version");
	const char *id = json_str(o, "id"), *kind = json_str(o, "kind");
	if (!cJSON_IsObject(o) || !cJSON_IsNumber(ver) ||
	    ver->valuedouble != 1 || !hex_id(id) || !kind)
		goto out;
	int k = -1;
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(*kind_names); i++)
		if (strcmp(kind, kind_names[i]) == 0)
			k = (int)i;
	if (k < 0)
		goto out;
	const char *body = json_str(o, "body");
	op = jira_op_new((enum jira_op_kind)k, json_str(o, "project"),
			 json_str(o, "key"), body, body ? strlen(body) : 0);
	if (!op)
		goto out;
	memcpy(op->id, id, JIRA_OP_ID_LEN + 1);
	op->base = dup_or_null(json_str(o, "base"));
	op->alias = dup_or_null(json_str(o, "alias"));
	op->alias_closed = cJSON_IsTrue(json_item(o, "alias_closed"));
	op->then_close = cJSON_IsTrue(json_item(o, "then_close"));
	op->scan = dup_or_null(json_str(o, "scan"));
	op->fp = dup_or_null(json_str(o, "fp"));
	op->resolution = dup_or_null(json_str(o, "resolution"));
	op->name = dup_or_null(json_str(o, "name"));
	const cJSON *size = json_item(o, "size");
	if (cJSON_IsNumber(size) && size->valuedouble >= 0)
		op->size = (int64_t)size->valuedouble;
	const cJSON *acc = json_item(o, "accepted_ms");
	if (cJSON_IsNumber(acc))
		op->accepted_ms = (int64_t)acc->valuedouble;
	const cJSON *att = json_item(o, "attempts");
	if (cJSON_IsNumber(att) && att->valuedouble >= 0)
		op->attempts = (int)att->valuedouble;
	op->last_error = dup_or_null(json_str(o, "last_error"));
	const cJSON *sent = json_item(o, "sent_ms");
	if (cJSON_IsNumber(sent))
		op->sent_ms = (int64_t)sent->valuedouble;
	const char *made = json_str(o, "made");
	if (made && jira_key_valid(made))
		op->made = strdup(made);
	op->maybe_sent = true;
	if (!op->project || (op->kind != JIRA_OP_CREATE && !op->key)) {
		jira_op_free(op);
		op = NULL;
	}
out:
	cJSON_Delete(o);
	return op;
}

/* ---- the whole record --------------------------------------------------- */

enum jira_status jira_op_check(const struct jira_op *op, bool *empty,
			       struct jira_error *err)
{
	*empty = false;
	if (!op->project)
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST, "no project");
	if ((op->kind == JIRA_OP_CREATE || op->kind == JIRA_OP_UPDATE) &&
	    op->body && memchr(op->body, '\0', op->body_len))
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "the ticket file contains NUL bytes");
	switch (op->kind) {
	case JIRA_OP_CREATE: {
		struct jira_create_plan p;
		enum jira_status ret = jira_create_plan(
			op->body ? op->body : "", op->project, "Task", &p, err);
		jira_create_plan_release(&p);
		return ret;
	}
	case JIRA_OP_UPDATE: {
		struct jira_update_plan p;
		if (!op->key || !op->base)
			return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
					      "an update needs a ticket");
		enum jira_status ret = jira_update_plan(
			op->base, op->body ? op->body : "", &p, err);
		*empty = !ret && !p.fields && !p.status && !p.comments;
		jira_update_plan_release(&p);
		return ret;
	}
	case JIRA_OP_COMMENT: {
		cJSON *j = NULL;
		if (!op->key)
			return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
					      "a comment needs a ticket");
		enum jira_status ret = jira_comment_payload(
			op->body ? op->body : "", op->body_len, &j, err);
		*empty = !ret && !j;
		cJSON_Delete(j);
		return ret;
	}
	case JIRA_OP_CLOSE:
	case JIRA_OP_REOPEN:
		return op->key ? JIRA_OK
			       : jira_error_set(err, JIRA_ERR_BAD_REQUEST,
						"a transition needs a ticket");
	case JIRA_OP_ATTACH:
		return op->key && op->name && op->name[0] && op->body &&
				       op->body[0] == '/' && op->size >= 0
			       ? JIRA_OK
			       : jira_error_set(err, JIRA_ERR_BAD_REQUEST,
						"an attachment needs a ticket, "
						"a name and its bytes");
	}
	return jira_error_set(err, JIRA_ERR_BAD_REQUEST, "unknown operation");
}
