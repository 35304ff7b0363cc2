/* write.c - see write.h */
#include "jira/write.h"

#include <errno.h>
#include <fuse_opt.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/json.h"
#include "util/log.h"
#include "util/map.h"
#include "util/strbuf.h"

#define DEFAULT_ISSUETYPE "Task"
#define DEFAULT_RESOLUTION "Done"
#define META_TTL_MS (10 * 60 * 1000)
#define MARKER_PROPERTY "jirafs"

/* ---- options ------------------------------------------------------------ */

#define WRITE_OPT(t, p) { t, offsetof(struct jira_write_config, p), 0 }

static const struct fuse_opt write_opts[] = {
	WRITE_OPT("default_issuetype=%s", default_issuetype),
	WRITE_OPT("close_transition=%s", close_transition),
	WRITE_OPT("resolution=%s", resolution),
	FUSE_OPT_END
};

static int keep(void *data, const char *arg, int key, struct fuse_args *out)
{
	(void)data;
	(void)arg;
	(void)key;
	(void)out;
	return 1;
}

int jira_write_opt_parse(struct fuse_args *args, struct jira_write_config *cfg)
{
	return fuse_opt_parse(args, cfg, write_opts, keep);
}

void jira_write_config_release(struct jira_write_config *cfg)
{
	free(cfg->default_issuetype);
	free(cfg->close_transition);
	free(cfg->resolution);
	memset(cfg, 0, sizeof(*cfg));
}

void jira_write_opt_help(void)
{
	printf("Writing options:\n"
	       "    -o default_issuetype=NAME  issue type of new tickets that "
	       "name none (default: Task)\n"
	       "    -o close_transition=NAME   transition to close with, when "
	       "several lead to done\n"
	       "    -o resolution=NAME         resolution given when closing "
	       "(default: Done)\n");
}

/* ---- the writer and its createmeta cache ------------------------------- */

struct meta {
	int64_t fetched_at;
	cJSON *values; /* issue types, or the fields of one type's screen */
};

struct jira_writer {
	struct jira_client *c;
	char *default_issuetype, *close_transition, *resolution;
	pthread_mutex_t lock; /* guards meta */
	struct map *meta;     /* "SEC" or "SEC/10001" -> struct meta * */
};

static char *dup_or(const char *s, const char *dflt)
{
	return strdup(s ? s : dflt);
}

struct jira_writer *jira_writer_new(struct jira_client *c,
				    const struct jira_write_config *cfg)
{
	struct jira_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->c = c;
	w->default_issuetype = dup_or(cfg->default_issuetype,
				      DEFAULT_ISSUETYPE);
	w->close_transition = cfg->close_transition
				      ? strdup(cfg->close_transition)
				      : NULL;
	w->resolution = cfg->resolution ? strdup(cfg->resolution) : NULL;
	w->meta = map_new();
	pthread_mutex_init(&w->lock, NULL);
	if (!w->default_issuetype || !w->meta) {
		jira_writer_free(w);
		return NULL;
	}
	return w;
}

static void meta_free(struct meta *m)
{
	if (m) {
		cJSON_Delete(m->values);
		free(m);
	}
}

void jira_writer_free(struct jira_writer *w)
{
	if (!w)
		return;
	if (w->meta) {
		struct map_iter it = map_iter_start(w->meta);
		while (map_iter_next(&it))
			meta_free(it.value);
		map_free(w->meta);
	}
	pthread_mutex_destroy(&w->lock);
	free(w->default_issuetype);
	free(w->close_transition);
	free(w->resolution);
	free(w);
}

void jira_op_result_release(struct jira_op_result *r)
{
	free(r->key);
	jira_issue_unref(r->issue);
	memset(r, 0, sizeof(*r));
}

/* Every "values" of a paged createmeta resource, as one array. */
static enum jira_status fetch_paged(struct jira_writer *w, const char *path,
				    deadline_t d, cJSON **out,
				    struct jira_error *err)
{
	cJSON *all = cJSON_CreateArray();
	if (!all)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	for (int start = 0, pages = 0; pages < 100; pages++) {
		char p[512];
		snprintf(p, sizeof(p), "%s?startAt=%d&maxResults=200", path,
			 start);
		cJSON *j = NULL;
		enum jira_status st = jira_get_json(w->c, p, d, &j, err);
		if (st != JIRA_OK) {
			cJSON_Delete(all);
			return st;
		}
		cJSON *values = cJSON_DetachItemFromObjectCaseSensitive(
			j, "values");
		int n = cJSON_GetArraySize(values);
		while (values && values->child) {
			cJSON *v = cJSON_DetachItemViaPointer(values,
							      values->child);
			cJSON_AddItemToArray(all, v);
		}
		cJSON_Delete(values);
		bool last = cJSON_IsTrue(json_item(j, "isLast")) || n == 0;
		cJSON_Delete(j);
		if (last)
			break;
		start += n;
	}
	*out = all;
	return JIRA_OK;
}

/* The cached createmeta resource `path` under `key`; *out is a copy the
 * caller deletes. */
static enum jira_status meta_get(struct jira_writer *w, const char *key,
				 const char *path, deadline_t d, cJSON **out,
				 struct jira_error *err)
{
	pthread_mutex_lock(&w->lock);
	struct meta *m = map_get(w->meta, key);
	if (m && clock_mono_ms() - m->fetched_at < META_TTL_MS) {
		*out = cJSON_Duplicate(m->values, true);
		pthread_mutex_unlock(&w->lock);
		return *out ? JIRA_OK
			    : jira_error_set(err, JIRA_ERR_NOMEM,
					     "out of memory");
	}
	pthread_mutex_unlock(&w->lock);

	cJSON *values = NULL;
	enum jira_status st = fetch_paged(w, path, d, &values, err);
	if (st != JIRA_OK)
		return st;
	struct meta *fresh = calloc(1, sizeof(*fresh));
	*out = cJSON_Duplicate(values, true);
	if (!fresh || !*out) {
		free(fresh);
		cJSON_Delete(values);
		cJSON_Delete(*out);
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	}
	fresh->fetched_at = clock_mono_ms();
	fresh->values = values;
	pthread_mutex_lock(&w->lock);
	void *old = NULL;
	if (map_put(w->meta, key, fresh, &old))
		meta_free(fresh);
	else
		meta_free(old);
	pthread_mutex_unlock(&w->lock);
	return JIRA_OK;
}

/* Forget a project's screens (after Jira refused a create: they may have
 * changed). */
static void meta_forget(struct jira_writer *w, const char *project)
{
	size_t n = strlen(project);
	pthread_mutex_lock(&w->lock);
	struct map *keep_ = map_new();
	struct map_iter it = map_iter_start(w->meta);
	while (map_iter_next(&it)) {
		if (strncmp(it.key, project, n) == 0 &&
		    (it.key[n] == '\0' || it.key[n] == '/'))
			meta_free(it.value);
		else if (keep_)
			map_put(keep_, it.key, it.value, NULL);
	}
	if (keep_) {
		map_free(w->meta);
		w->meta = keep_;
	}
	pthread_mutex_unlock(&w->lock);
}

/* ---- create ------------------------------------------------------------- */

static void list_names(struct strbuf *sb, const cJSON *values)
{
	const cJSON *v;
	bool first = true;
	cJSON_ArrayForEach(v, values) {
		const char *n = json_str(v, "name");
		if (!n)
			continue;
		strbuf_addf(sb, "%s%s", first ? "" : ", ", n);
		first = false;
	}
}

/* Resolve the issue type by name and keep only fields on its screen. */
static enum jira_status resolve_create(struct jira_writer *w,
				       const char *project,
				       struct jira_create_plan *plan,
				       deadline_t d, struct jira_error *err)
{
	char key[600], path[600];
	cJSON *types = NULL, *screen = NULL;
	enum jira_status st;

	snprintf(key, sizeof(key), "%s", project);
	snprintf(path, sizeof(path),
		 "/rest/api/2/issue/createmeta/%s/issuetypes", project);
	if ((st = meta_get(w, key, path, d, &types, err)) != JIRA_OK)
		return st;
	const cJSON *type = NULL, *v;
	cJSON_ArrayForEach(v, types) {
		const char *n = json_str(v, "name");
		if (n && plan->issuetype &&
		    strcasecmp(n, plan->issuetype) == 0)
			type = v;
	}
	const char *id = type ? json_str(type, "id") : NULL;
	if (!id) {
		struct strbuf sb = STRBUF_INIT;
		list_names(&sb, types);
		st = jira_error_set(err, JIRA_ERR_BAD_REQUEST,
				    "issuetype: unknown issue type '%s' in %s "
				    "(valid: %s)",
				    plan->issuetype ? plan->issuetype : "",
				    project, strbuf_str(&sb));
		strbuf_release(&sb);
		cJSON_Delete(types);
		return st;
	}
	cJSON *it = cJSON_CreateObject();
	cJSON_AddStringToObject(it, "id", id);
	if (!cJSON_ReplaceItemInObjectCaseSensitive(plan->fields, "issuetype",
						    it))
		cJSON_Delete(it);

	snprintf(key, sizeof(key), "%s/%s", project, id);
	snprintf(path, sizeof(path),
		 "/rest/api/2/issue/createmeta/%s/issuetypes/%s", project, id);
	st = meta_get(w, key, path, d, &screen, err);
	cJSON_Delete(types);
	if (st != JIRA_OK)
		return st;
	/* a copied ticket file carries fields no create screen has (creator,
	 * watches, votes...): leave out what the screen does not offer */
	struct strbuf dropped = STRBUF_INIT;
	cJSON *f = plan->fields->child;
	while (f) {
		cJSON *next = f->next;
		bool on_screen = strcmp(f->string, "project") == 0 ||
				 strcmp(f->string, "issuetype") == 0 ||
				 strcmp(f->string, "summary") == 0;
		cJSON_ArrayForEach(v, screen) {
			const char *fid = json_str(v, "fieldId");
			on_screen |= fid && strcmp(fid, f->string) == 0;
		}
		if (!on_screen) {
			strbuf_addf(&dropped, "%s%s", dropped.len ? ", " : "",
				    f->string);
			cJSON_Delete(cJSON_DetachItemViaPointer(plan->fields, f));
		}
		f = next;
	}
	if (dropped.len)
		jlog_info("%s: not on the create screen, left out: %s",
			  project, strbuf_str(&dropped));
	strbuf_release(&dropped);
	cJSON_Delete(screen);
	return JIRA_OK;
}

static enum jira_status transition(struct jira_writer *w, const char *key,
				   bool done, const char *resolution,
				   deadline_t d, struct jira_op_result *res,
				   struct jira_error *err);

/* ---- finding an earlier try ------------------------------------------- */

/*
 * A lookup failing is not the operation failing: a 400 to the lookup's
 * search (say) refuses the search, not the create.  Outages and credential
 * problems keep their own status (retried, reported as such); anything else
 * becomes JIRA_ERR_LOOKUP, which the outbox retries and never takes for a
 * refusal.
 */
static enum jira_status lookup_failed(enum jira_status st, const char *what,
				      struct jira_error *err)
{
	if (st == JIRA_OK || st == JIRA_ERR_NOMEM || jira_status_auth(st) ||
	    jira_status_transient(st)) /* LOOKUP is transient */
		return st;
	char was[JIRA_ERROR_MSG_MAX];
	snprintf(was, sizeof(was), "%s", err->msg);
	return jira_error_set(err, JIRA_ERR_LOOKUP,
			      "cannot tell whether an earlier try %s: %.900s",
			      what, was);
}

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

/* Summaries equal but for surrounding white space (which Jira may trim). */
static bool same_summary(const char *a, const char *b)
{
	while (*a == ' ' || *a == '\t')
		a++;
	while (*b == ' ' || *b == '\t')
		b++;
	size_t la = strlen(a), lb = strlen(b);
	while (la && (a[la - 1] == ' ' || a[la - 1] == '\t'))
		la--;
	while (lb && (b[lb - 1] == ' ' || b[lb - 1] == '\t'))
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

/* Does ticket key carry op's marker?  One GET of the issue property
 * (GET /rest/api/2/issue/{key}/properties/{propertyKey}: an
 * EntityPropertyBean {key, value}, 404 when the ticket has none). */
static enum jira_status has_marker(struct jira_writer *w, const char *key,
				   const char *id, deadline_t d, bool *yes,
				   struct jira_error *err)
{
	char path[512];
	snprintf(path, sizeof(path),
		 "/rest/api/2/issue/%s/properties/" MARKER_PROPERTY, key);
	cJSON *j = NULL;
	*yes = false;
	enum jira_status st = jira_get_json(w->c, path, d, &j, err);
	if (st == JIRA_ERR_NOT_FOUND) /* no marker, or deleted meanwhile */
		return JIRA_OK;
	if (st != JIRA_OK)
		return st;
	const cJSON *v = json_item(j, "value");
	cJSON *parsed = NULL;
	if (cJSON_IsString(v)) /* the value as JSON text, as some versions
				  answer it */
		v = parsed = cJSON_Parse(v->valuestring);
	const char *op = json_str(v, "op");
	*yes = op && strcmp(op, id) == 0;
	cJSON_Delete(parsed);
	cJSON_Delete(j);
	return JIRA_OK;
}

#define LOOKUP_PAGE 100
#define LOOKUP_MARGIN_MIN 5        /* minutes before acceptance searched */

/*
 * The ticket an earlier try of this create made, found with what every
 * stock Jira offers (JQL cannot see issue properties unless an app indexes
 * them): the tickets of the project the mounting user created since a
 * little before the record was accepted (a relative date, on Jira's own
 * clock), newest first, page by page; those with the same summary are
 * confirmed by reading their marker property, which holds the record's id.
 * 0 with *key (NULL when there is none), or a failure status.
 */
static enum jira_status find_created(struct jira_writer *w,
				     const struct jira_op *op,
				     const char *summary, deadline_t d,
				     char **key, struct jira_error *err)
{
	*key = NULL;
	int64_t now = clock_wall_ms();
	int64_t since = op->accepted_ms > 0 && op->accepted_ms <= now
				? op->accepted_ms
				: now;
	long long minutes = (long long)((now - since) / 60000) +
			    LOOKUP_MARGIN_MIN + 1;
	char *p = jql_quote(op->project);
	struct strbuf jql = STRBUF_INIT;
	strbuf_addf(&jql,
		    "project = %s AND creator = currentUser() AND created >= "
		    "-%lldm ORDER BY created DESC",
		    p ? p : "\"\"", minutes);
	free(p);
	enum jira_status st = jql.failed ? jira_error_set(err, JIRA_ERR_NOMEM,
							  "out of memory")
					 : JIRA_OK;
	unsigned checked = 0;
	for (int start = 0, pages = 0; st == JIRA_OK && !*key && pages < 1000;
	     pages++) {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "jql", strbuf_str(&jql));
		cJSON_AddNumberToObject(b, "startAt", start);
		cJSON_AddNumberToObject(b, "maxResults", LOOKUP_PAGE);
		cJSON *f = cJSON_AddArrayToObject(b, "fields");
		cJSON_AddItemToArray(f, cJSON_CreateString("summary"));
		char *body = cJSON_PrintUnformatted(b);
		cJSON_Delete(b);
		cJSON *page = NULL;
		st = body ? jira_request_json(w->c, "POST", "/rest/api/2/search",
					      body, d, true, &page, err)
			  : jira_error_set(err, JIRA_ERR_NOMEM,
					   "out of memory");
		free(body);
		if (st != JIRA_OK)
			break;
		const cJSON *issues = json_item(page, "issues"), *i;
		int n = cJSON_GetArraySize(issues);
		cJSON_ArrayForEach(i, issues) {
			const char *k = json_str(i, "key");
			const char *s =
				json_str(json_item(i, "fields"), "summary");
			if (!k || !jira_key_valid(k) ||
			    (summary && (!s || !same_summary(s, summary))))
				continue;
			bool yes = false;
			checked++;
			st = has_marker(w, k, op->id, d, &yes, err);
			if (st != JIRA_OK)
				break;
			if (yes) {
				if (!(*key = strdup(k)))
					st = jira_error_set(err, JIRA_ERR_NOMEM,
							    "out of memory");
				break;
			}
		}
		const cJSON *total = json_item(page, "total");
		start += n;
		bool last = n == 0 || !cJSON_IsNumber(total) ||
			    start >= total->valuedouble;
		cJSON_Delete(page);
		if (last)
			break;
	}
	strbuf_release(&jql);
	if (st != JIRA_OK)
		return lookup_failed(st, "made the ticket", err);
	jlog_debug("looked for an earlier try of %s: %u candidate(s) read, "
		   "%s",
		   op->id, checked, *key ? *key : "none");
	return JIRA_OK;
}

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
	enum jira_status st = transition(w, res->key, true, NULL, d, res, err);
	if (refusal(st))
		res->partial = true;
	else if (st != JIRA_OK)
		res->maybe_sent = true; /* the create is done: never again */
	return st;
}

static enum jira_status apply_create(struct jira_writer *w,
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
		st = find_created(w, op, json_str(plan.fields, "summary"), d,
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
		st = resolve_create(w, op->project, &plan, d, err);
	cJSON *req = NULL, *answer = NULL;
	if (st == JIRA_OK) {
		req = cJSON_CreateObject();
		cJSON_AddItemToObject(req, "fields", plan.fields);
		plan.fields = NULL;
		cJSON *props = cJSON_AddArrayToObject(req, "properties");
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "key", MARKER_PROPERTY);
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
		meta_forget(w, op->project);
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

static enum jira_status transition(struct jira_writer *w, const char *key,
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
			return lookup_failed(st, "moved the ticket", err);
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

/*
 * Is there already a comment with payload's body on key, made after
 * since_ms (an earlier try of the same record)?  The comments are read
 * newest first, page by page, until they are older than that.
 */
static enum jira_status comment_exists(struct jira_writer *w, const char *key,
				       const cJSON *payload, int64_t since_ms,
				       deadline_t d, bool *found,
				       struct jira_error *err)
{
	const char *body = json_str(payload, "body");
	enum jira_status st = JIRA_OK;
	*found = false;
	/* a minute of clock difference between here and Jira */
	int64_t after = since_ms - 60000;
	bool older = false;
	for (int start = 0, pages = 0;
	     !*found && !older && pages < 1000 && st == JIRA_OK; pages++) {
		char path[512];
		cJSON *j = NULL;
		snprintf(path, sizeof(path),
			 "/rest/api/2/issue/%s/comment?startAt=%d&maxResults="
			 "100&orderBy=-created",
			 key, start);
		st = jira_get_json(w->c, path, d, &j, err);
		if (st != JIRA_OK)
			break;
		const cJSON *list = json_item(j, "comments"), *c;
		int n = cJSON_GetArraySize(list);
		cJSON_ArrayForEach(c, list) {
			const char *b = json_str(c, "body");
			struct timespec ts = { 0 };
			const char *created = json_str(c, "created");
			if (created)
				jira_time_parse(created, &ts);
			int64_t at = (int64_t)ts.tv_sec * 1000;
			if (created && at < after)
				older = true;
			else if (b && body && strcmp(b, body) == 0)
				*found = true;
		}
		const cJSON *total = json_item(j, "total");
		start += n;
		if (n == 0 || !cJSON_IsNumber(total) ||
		    start >= total->valuedouble)
			older = true;
		cJSON_Delete(j);
	}
	if (st == JIRA_ERR_NOT_FOUND) /* the ticket is gone: the POST says */
		return JIRA_OK;
	return lookup_failed(st, "added the comment", err);
}

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

static enum jira_status apply_update(struct jira_writer *w,
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
			st = comment_exists(w, op->key, c, op->accepted_ms, d,
					    &found, err);
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

static enum jira_status apply_comment(struct jira_writer *w,
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
		st = comment_exists(w, op->key, payload, op->accepted_ms, d,
				    &found, err);
	if (st == JIRA_OK && !found)
		st = post_comment(w, op->key, payload, d, res, err);
	else if (found)
		jlog_notice("the comment on %s was added by an earlier try",
			    op->key);
	cJSON_Delete(payload);
	return st;
}

enum jira_status jira_writer_apply(struct jira_writer *w,
				   const struct jira_op *op, deadline_t d,
				   struct jira_op_result *res,
				   struct jira_error *err)
{
	memset(res, 0, sizeof(*res));
	res->maybe_sent = op->maybe_sent;
	if (op->kind != JIRA_OP_CREATE) {
		res->key = strdup(op->key ? op->key : "");
		if (!res->key)
			return jira_error_set(err, JIRA_ERR_NOMEM,
					      "out of memory");
	}
	switch (op->kind) {
	case JIRA_OP_CREATE:
		return apply_create(w, op, d, res, err);
	case JIRA_OP_UPDATE:
		return apply_update(w, op, d, res, err);
	case JIRA_OP_COMMENT:
		return apply_comment(w, op, d, res, err);
	case JIRA_OP_CLOSE:
		return transition(w, op->key, true, NULL, d, res, err);
	case JIRA_OP_REOPEN:
		return transition(w, op->key, false, NULL, d, res, err);
	}
	return jira_error_set(err, JIRA_ERR_INTERNAL, "unknown operation");
}
