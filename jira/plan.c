/*
 * plan.c - what a record's body means to Jira, worked out with no network
 * (see op.h): the checks of a ticket file (text, JSON, known keys, value
 * types), the payload of a comment append, and the plans of a create and
 * of an update (the diff of the new file against the ticket as last read).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jira/op.h"
#include "util/json.h"

/* ---- shared checks ------------------------------------------------------ */

/* The text of a file: UTF-8 without NUL bytes. */
static enum jira_status check_text(const char *s, size_t len, const char *what,
				   struct jira_error *err)
{
	if (memchr(s, '\0', len))
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "%s contains NUL bytes", what);
	if (!utf8_valid(s, len))
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "%s is not valid UTF-8", what);
	return JIRA_OK;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Parse a ticket file: a JSON object.  *out to free with cJSON_Delete. */
static enum jira_status parse_object(const char *s, size_t len,
				     const char *what, cJSON **out,
				     struct jira_error *err)
{
	enum jira_status ret = check_text(s, len, what, err);
	if (ret)
		return ret;
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(s, len, &end, false);
	if (!o) {
		size_t off = end && end >= s ? (size_t)(end - s) : 0;
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "%s is not valid JSON (near byte %zu)",
				      what, off);
	}
	/* nothing but white space may follow the value */
	for (const char *p = end; p && p < s + len; p++) {
		if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
			cJSON_Delete(o);
			return jira_error_set(
				err, JIRA_ERR_BAD_REQUEST,
				"%s is not valid JSON (extra text at "
				"byte %zu)",
				what, (size_t)(p - s));
		}
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "%s must be a JSON object", what);
	}
	*out = o;
	return JIRA_OK;
}

/* A ticket file as written: at most JIRA_MAX_BODY bytes of one object. */
static enum jira_status parse_ticket_file(const char *body, cJSON **out,
					  struct jira_error *err)
{
	size_t len = strlen(body);
	if (len > JIRA_MAX_BODY)
		return jira_error_set(
			err, JIRA_ERR_TOO_LARGE,
			"the ticket file is larger than " JIRA_MAX_BODY_TEXT);
	return parse_object(body, len, "the ticket file", out, err);
}

/* The keys of a §3 ticket file. */
static const char *const ticket_keys[] = {
	"key",      "project",    "issuetype", "summary",  "description",
	"status",   "resolution", "priority",  "labels",   "components",
	"assignee", "reporter",   "created",   "updated",  "fields",
	"comments",
};

static enum jira_status check_known_keys(const cJSON *o, struct jira_error *err)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, o) {
		bool known = false;
		for (size_t i = 0; i < sizeof(ticket_keys) / sizeof(*ticket_keys);
		     i++)
			known |= strcmp(c->string, ticket_keys[i]) == 0;
		if (!known)
			return jira_error_set(
				err, JIRA_ERR_BAD_REQUEST,
				"unknown key \"%s\" (other Jira fields go "
				"under \"fields\", by field id)",
				c->string);
	}
	return JIRA_OK;
}

/* v must be absent, null or a string. */
static enum jira_status want_string_or_null(const cJSON *o, const char *k,
					    struct jira_error *err)
{
	const cJSON *v = json_item(o, k);
	if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "\"%s\" must be a string or null", k);
	return JIRA_OK;
}

/* v must be absent, null or an array of strings. */
static enum jira_status want_strings(const cJSON *o, const char *k,
				     struct jira_error *err)
{
	const cJSON *v = json_item(o, k), *c;
	if (!v || cJSON_IsNull(v))
		return JIRA_OK;
	if (!cJSON_IsArray(v))
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "\"%s\" must be a list of strings", k);
	cJSON_ArrayForEach(c, v)
		if (!cJSON_IsString(c))
			return jira_error_set(
				err, JIRA_ERR_BAD_REQUEST,
				"\"%s\" must be a list of strings", k);
	return JIRA_OK;
}

static enum jira_status check_value_types(const cJSON *o,
					  struct jira_error *err)
{
	static const char *const strings[] = { "issuetype", "description",
					       "priority", "assignee",
					       "status", "resolution" };
	enum jira_status ret;
	for (size_t i = 0; i < sizeof(strings) / sizeof(*strings); i++)
		if ((ret = want_string_or_null(o, strings[i], err)))
			return ret;
	if ((ret = want_strings(o, "labels", err)) ||
	    (ret = want_strings(o, "components", err)))
		return ret;
	const cJSON *f = json_item(o, "fields");
	if (f && !cJSON_IsNull(f) && !cJSON_IsObject(f))
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "\"fields\" must be an object");
	const cJSON *s = json_item(o, "summary");
	if (s && (!cJSON_IsString(s) || !*s->valuestring))
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "\"summary\" must be a non-empty string");
	return JIRA_OK;
}

static cJSON *name_object(const char *name)
{
	cJSON *o = cJSON_CreateObject();
	if (o)
		cJSON_AddStringToObject(o, "name", name);
	return o;
}

static cJSON *named_or_null(const cJSON *v)
{
	return cJSON_IsString(v) ? name_object(v->valuestring)
				 : cJSON_CreateNull();
}

static cJSON *names_list(const cJSON *v)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *c;
	cJSON_ArrayForEach(c, v)
		cJSON_AddItemToArray(arr, name_object(c->valuestring));
	return arr;
}

/* ---- comments ----------------------------------------------------------- */

enum jira_status jira_comment_payload(const char *bytes, size_t len,
				      cJSON **json, struct jira_error *err)
{
	*json = NULL;
	enum jira_status ret = check_text(bytes, len, "the comment", err);
	if (ret)
		return ret;
	size_t n = len;
	if (n && bytes[n - 1] == '\n') {
		n--;
		if (n && bytes[n - 1] == '\r')
			n--;
	}
	size_t lead = 0;
	while (lead < n && strchr(" \t\r\n", bytes[lead]))
		lead++;
	if (lead == n)
		return JIRA_OK; /* nothing but white space: nothing to add */

	cJSON *body = NULL;
	if (bytes[lead] == '{') {
		const char *end = NULL;
		cJSON *o = cJSON_ParseWithLengthOpts(bytes, n, &end, false);
		/* only an object and white space: more text makes it text */
		for (const char *p = end; o && p && p < bytes + n; p++) {
			if (!strchr(" \t\r\n", *p)) {
				cJSON_Delete(o);
				o = NULL;
			}
		}
		const cJSON *b = json_item(o, "body");
		if (cJSON_IsObject(o) && cJSON_IsString(b)) {
			cJSON *c;
			bool plain = false;
			cJSON_ArrayForEach(c, o)
				plain |= strcmp(c->string, "body") != 0 &&
					 strcmp(c->string, "visibility") != 0 &&
					 strcmp(c->string, "properties") != 0;
			if (!plain) {
				body = o;
				o = NULL;
			}
		}
		cJSON_Delete(o);
	}
	if (!body) {
		char *text = strndup(bytes, n);
		body = cJSON_CreateObject();
		if (!text || !body) {
			free(text);
			cJSON_Delete(body);
			return jira_error_set(err, JIRA_ERR_NOMEM,
					      "out of memory");
		}
		cJSON_AddStringToObject(body, "body", text);
		free(text);
	}
	const char *b = json_item(body, "body")->valuestring;
	size_t chars = utf8_chars(b);
	if (chars > JIRA_MAX_COMMENT_CHARS) {
		cJSON_Delete(body);
		return jira_error_set(
			err, JIRA_ERR_TOO_LARGE,
			"the comment has %zu characters; Jira takes at "
			"most %d",
			chars, JIRA_MAX_COMMENT_CHARS);
	}
	bool blank = true;
	for (const char *p = b; *p && blank; p++)
		blank = strchr(" \t\r\n", *p) != NULL;
	if (blank) {
		cJSON_Delete(body);
		return JIRA_OK;
	}
	*json = body;
	return JIRA_OK;
}

/* ---- create ------------------------------------------------------------- */

void jira_create_plan_release(struct jira_create_plan *plan)
{
	cJSON_Delete(plan->fields);
	cJSON_Delete(plan->custom);
	free(plan->issuetype);
	memset(plan, 0, sizeof(*plan));
}

static enum jira_status native_plan(cJSON *o, const char *project,
				    const char *default_issuetype,
				    struct jira_create_plan *plan,
				    struct jira_error *err)
{
	cJSON *c;
	cJSON_ArrayForEach(c, o)
		if (strcmp(c->string, "fields") != 0)
			return jira_error_set(
				err, JIRA_ERR_BAD_REQUEST,
				"unknown key \"%s\" next to \"fields\"",
				c->string);
	cJSON *f = cJSON_DetachItemFromObjectCaseSensitive(o, "fields");
	const cJSON *s = json_item(f, "summary");
	if (!cJSON_IsObject(f) || !cJSON_IsString(s) || !*s->valuestring) {
		cJSON_Delete(f);
		return jira_error_set(
			err, JIRA_ERR_BAD_REQUEST,
			"\"fields\" must hold a non-empty \"summary\"");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(f, "project");
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "key", project);
	cJSON_AddItemToObject(f, "project", p);
	const cJSON *it = json_item(f, "issuetype");
	const char *tname = cJSON_IsString(json_item(it, "name"))
				    ? json_item(it, "name")->valuestring
				    : NULL;
	if (!it) {
		cJSON_AddItemToObject(f, "issuetype",
				      name_object(default_issuetype));
		tname = default_issuetype;
	}
	plan->issuetype = tname ? strdup(tname) : NULL;
	plan->native = true;
	plan->fields = f;
	return JIRA_OK;
}

enum jira_status jira_create_plan(const char *body, const char *project,
				  const char *default_issuetype,
				  struct jira_create_plan *plan,
				  struct jira_error *err)
{
	cJSON *o = NULL;
	memset(plan, 0, sizeof(*plan));
	enum jira_status ret = parse_ticket_file(body, &o, err);
	if (ret)
		return ret;
	if (!json_item(o, "summary") &&
	    cJSON_IsObject(json_item(o, "fields"))) {
		ret = native_plan(o, project, default_issuetype, plan, err);
		cJSON_Delete(o);
		return ret;
	}
	if ((ret = check_known_keys(o, err)) ||
	    (ret = check_value_types(o, err)))
		goto out;
	if (!json_item(o, "summary")) {
		ret = jira_error_set(
			err, JIRA_ERR_BAD_REQUEST,
			"\"summary\" is required to create a ticket");
		goto out;
	}

	cJSON *f = cJSON_CreateObject();
	cJSON *custom = cJSON_CreateArray();
	if (!f || !custom) {
		cJSON_Delete(f);
		cJSON_Delete(custom);
		ret = jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "key", project);
	cJSON_AddItemToObject(f, "project", p);
	const cJSON *t = json_item(o, "issuetype");
	const char *tname = cJSON_IsString(t) && *t->valuestring
				    ? t->valuestring
				    : default_issuetype;
	cJSON_AddItemToObject(f, "issuetype", name_object(tname));
	cJSON_AddStringToObject(f, "summary",
				json_item(o, "summary")->valuestring);
	const cJSON *v;
	if (cJSON_IsString(v = json_item(o, "description")))
		cJSON_AddStringToObject(f, "description", v->valuestring);
	if (cJSON_IsString(v = json_item(o, "priority")))
		cJSON_AddItemToObject(f, "priority", name_object(v->valuestring));
	if (cJSON_IsString(v = json_item(o, "assignee")))
		cJSON_AddItemToObject(f, "assignee", name_object(v->valuestring));
	if (cJSON_GetArraySize(v = json_item(o, "labels")) > 0)
		cJSON_AddItemToObject(f, "labels", cJSON_Duplicate(v, true));
	if (cJSON_GetArraySize(v = json_item(o, "components")) > 0)
		cJSON_AddItemToObject(f, "components", names_list(v));
	const cJSON *c;
	cJSON_ArrayForEach(c, json_item(o, "fields")) {
		if (cJSON_IsNull(c) || json_item(f, c->string))
			continue;
		cJSON_AddItemToObject(f, c->string, cJSON_Duplicate(c, true));
		cJSON_AddItemToArray(custom, cJSON_CreateString(c->string));
	}
	plan->fields = f;
	plan->custom = custom;
	plan->issuetype = strdup(tname);
out:
	cJSON_Delete(o);
	if (ret)
		jira_create_plan_release(plan);
	return ret;
}

/* ---- update ------------------------------------------------------------- */

void jira_update_plan_release(struct jira_update_plan *plan)
{
	cJSON_Delete(plan->fields);
	cJSON_Delete(plan->comments);
	free(plan->status);
	free(plan->resolution);
	memset(plan, 0, sizeof(*plan));
}

/* Is key present in `neu` with a value other than in `old`? */
static bool changed(const cJSON *old, const cJSON *neu, const char *key)
{
	const cJSON *n = json_item(neu, key);
	if (!n)
		return false;
	const cJSON *o = json_item(old, key);
	if (!o)
		return !cJSON_IsNull(n);
	return !cJSON_Compare(o, n, true);
}

static const cJSON *comment_by_id(const cJSON *list, const char *id)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, list) {
		const cJSON *cid = json_item(c, "id");
		if (cJSON_IsString(cid) && strcmp(cid->valuestring, id) == 0)
			return c;
	}
	return NULL;
}

static enum jira_status plan_comments(const cJSON *old, const cJSON *neu,
				      struct jira_update_plan *plan,
				      struct jira_error *err)
{
	const cJSON *list = json_item(neu, "comments"), *c;
	if (!list || cJSON_IsNull(list))
		return JIRA_OK;
	if (!cJSON_IsArray(list))
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				      "\"comments\" must be a list");
	cJSON_ArrayForEach(c, list) {
		const cJSON *id = json_item(c, "id");
		if (cJSON_IsTrue(json_item(c, "pending")))
			continue; /* shown while it waits in the outbox */
		if (cJSON_IsString(id)) {
			const cJSON *was = comment_by_id(
				json_item(old, "comments"), id->valuestring);
			if (!was || !cJSON_Compare(was, c, true))
				return jira_error_set(
					err, JIRA_ERR_BAD_REQUEST,
					"comment %s cannot be changed "
					"through jirafs (add a new "
					"entry without \"id\")",
					id->valuestring);
			continue;
		}
		cJSON *add = NULL;
		if (cJSON_IsString(c)) {
			add = cJSON_CreateObject();
			cJSON_AddStringToObject(add, "body", c->valuestring);
		} else if (cJSON_IsObject(c) &&
			   cJSON_IsString(json_item(c, "body"))) {
			add = cJSON_CreateObject();
			cJSON_AddStringToObject(
				add, "body", json_item(c, "body")->valuestring);
			if (cJSON_IsObject(json_item(c, "visibility")))
				cJSON_AddItemToObject(
					add, "visibility",
					cJSON_Duplicate(
						json_item(c, "visibility"),
						true));
		} else {
			return jira_error_set(err, JIRA_ERR_BAD_REQUEST,
					      "a new comment needs a \"body\"");
		}
		const char *b = json_item(add, "body")->valuestring;
		if (utf8_chars(b) > JIRA_MAX_COMMENT_CHARS) {
			cJSON_Delete(add);
			return jira_error_set(err, JIRA_ERR_TOO_LARGE,
					      "a new comment has more than %d "
					      "characters",
					      JIRA_MAX_COMMENT_CHARS);
		}
		if (!*b) {
			cJSON_Delete(add);
			continue;
		}
		if (!plan->comments)
			plan->comments = cJSON_CreateArray();
		cJSON_AddItemToArray(plan->comments, add);
	}
	return JIRA_OK;
}

enum jira_status jira_update_plan(const char *base, const char *body,
				  struct jira_update_plan *plan,
				  struct jira_error *err)
{
	static const char *const read_only[] = { "key", "project", "reporter",
						 "created", "updated" };
	cJSON *old = NULL, *neu = NULL;
	memset(plan, 0, sizeof(*plan));
	enum jira_status ret = parse_ticket_file(body, &neu, err);
	if (ret)
		return ret;
	old = cJSON_Parse(base);
	if (!cJSON_IsObject(old)) {
		ret = jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				     "the ticket as last read is unusable");
		goto out;
	}
	if ((ret = check_known_keys(neu, err)) ||
	    (ret = check_value_types(neu, err)))
		goto out;
	for (size_t i = 0; i < sizeof(read_only) / sizeof(*read_only); i++) {
		if (changed(old, neu, read_only[i])) {
			ret = jira_error_set(err, JIRA_ERR_BAD_REQUEST,
					     "\"%s\" is read-only",
					     read_only[i]);
			goto out;
		}
	}
	bool status_changed = changed(old, neu, "status");
	if (status_changed) {
		const cJSON *s = json_item(neu, "status");
		if (!cJSON_IsString(s) || !*s->valuestring) {
			ret = jira_error_set(err, JIRA_ERR_BAD_REQUEST,
					     "\"status\" must name a status");
			goto out;
		}
		plan->status = strdup(s->valuestring);
	}
	if (changed(old, neu, "resolution")) {
		if (!status_changed) {
			ret = jira_error_set(err, JIRA_ERR_BAD_REQUEST,
					     "\"resolution\" changes only with "
					     "\"status\"");
			goto out;
		}
		const cJSON *r = json_item(neu, "resolution");
		if (cJSON_IsString(r))
			plan->resolution = strdup(r->valuestring);
	}

	cJSON *f = cJSON_CreateObject();
	if (!f) {
		ret = jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
		goto out;
	}
	const cJSON *v;
	if (changed(old, neu, "summary"))
		cJSON_AddStringToObject(f, "summary",
					json_item(neu, "summary")->valuestring);
	if (changed(old, neu, "description"))
		cJSON_AddItemToObject(
			f, "description",
			cJSON_Duplicate(json_item(neu, "description"), true));
	static const char *const named[] = { "priority", "assignee",
					     "issuetype" };
	for (size_t i = 0; i < sizeof(named) / sizeof(*named); i++)
		if (changed(old, neu, named[i]))
			cJSON_AddItemToObject(
				f, named[i],
				named_or_null(json_item(neu, named[i])));
	if (changed(old, neu, "labels")) {
		v = json_item(neu, "labels");
		cJSON_AddItemToObject(f, "labels",
				      cJSON_IsArray(v) ? cJSON_Duplicate(v, true)
						       : cJSON_CreateArray());
	}
	if (changed(old, neu, "components")) {
		v = json_item(neu, "components");
		cJSON_AddItemToObject(f, "components",
				      cJSON_IsArray(v) ? names_list(v)
						       : cJSON_CreateArray());
	}
	const cJSON *nf = json_item(neu, "fields"),
		    *of = json_item(old, "fields"), *c;
	cJSON_ArrayForEach(c, nf) {
		if (changed(of, nf, c->string) && !json_item(f, c->string))
			cJSON_AddItemToObject(f, c->string,
					      cJSON_Duplicate(c, true));
	}
	if (f->child)
		plan->fields = f;
	else
		cJSON_Delete(f);
	ret = plan_comments(old, neu, plan, err);
out:
	cJSON_Delete(old);
	cJSON_Delete(neu);
	if (ret)
		jira_update_plan_release(plan);
	return ret;
}
