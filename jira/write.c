/*
 * write.c - the write side's frame (see write.h): its options and --help,
 * the writer and its createmeta cache (the create screens, resolving a
 * create against them), the lookups that keep a retried record from being
 * applied twice (a create's marker, a comment already there), and
 * jira_writer_apply(), which hands a record to its applier in apply.c.
 * What the two share is write_priv.h.
 */
#include "jira/write.h"

#include <errno.h>
#include <fuse_opt.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jira/write_priv.h"
#include "util/json.h"
#include "util/log.h"
#include "util/map.h"
#include "util/strbuf.h"

#define DEFAULT_ISSUETYPE "Task"
#define META_TTL_MS (10 * 60 * 1000)

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
	w->fetching = map_new();
	pthread_mutex_init(&w->lock, NULL);
	cond_init_monotonic(&w->fetched);
	if (!w->default_issuetype || !w->meta || !w->fetching) {
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
	map_free(w->fetching);
	pthread_cond_destroy(&w->fetched);
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

/* The cached createmeta resource `path` under `key`; *out is a copy the
 * caller deletes.  One thread fetches a key at a time: the eight workers
 * applying a scan import's creates wait for the first one's answer
 * (bounded by d) instead of asking eight times. */
static enum jira_status meta_get(struct jira_writer *w, const char *key,
				 const char *path, deadline_t d, cJSON **out,
				 struct jira_error *err)
{
	pthread_mutex_lock(&w->lock);
	struct timespec ts = deadline_timespec(d);
	while (map_get(w->fetching, key) &&
	       pthread_cond_timedwait(&w->fetched, &w->lock, &ts) == 0)
		;
	struct meta *m = map_get(w->meta, key);
	if (m && clock_mono_ms() - m->fetched_at < META_TTL_MS) {
		*out = cJSON_Duplicate(m->values, true);
		pthread_mutex_unlock(&w->lock);
		return *out ? JIRA_OK
			    : jira_error_set(err, JIRA_ERR_NOMEM,
					     "out of memory");
	}
	/* not marked when out of memory: it then fetches on its own */
	bool marked = !map_get(w->fetching, key) &&
		      map_put(w->fetching, key, w, NULL) == 0;
	pthread_mutex_unlock(&w->lock);

	cJSON *values = NULL;
	enum jira_status st = jira_get_values(w->c, path, d, &values, err);
	if (marked) {
		pthread_mutex_lock(&w->lock);
		map_del(w->fetching, key);
		pthread_cond_broadcast(&w->fetched);
		pthread_mutex_unlock(&w->lock);
	}
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
void writer_meta_forget(struct jira_writer *w, const char *project)
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

/* ---- the create screen ------------------------------------------------ */

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
enum jira_status writer_resolve_create(struct jira_writer *w,
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

/* ---- finding an earlier try ------------------------------------------- */

/*
 * A lookup failing is not the operation failing: a 400 to the lookup's
 * search (say) refuses the search, not the create.  Outages and credential
 * problems keep their own status (retried, reported as such); anything else
 * becomes JIRA_ERR_LOOKUP, which the outbox retries and never takes for a
 * refusal.
 */
enum jira_status writer_lookup_failed(enum jira_status st, const char *what,
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
		 "/rest/api/2/issue/%s/properties/" WRITE_MARKER_PROPERTY, key);
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
enum jira_status writer_find_created(struct jira_writer *w,
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
		return writer_lookup_failed(st, "made the ticket", err);
	jlog_debug("looked for an earlier try of %s: %u candidate(s) read, "
		   "%s",
		   op->id, checked, *key ? *key : "none");
	return JIRA_OK;
}

/*
 * Is there already a comment with payload's body on key, made after
 * since_ms (an earlier try of the same record)?  The comments are read
 * newest first, page by page, until they are older than that.
 */
enum jira_status writer_comment_exists(struct jira_writer *w, const char *key,
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
	return writer_lookup_failed(st, "added the comment", err);
}

/* ---- dispatch ----------------------------------------------------------- */

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
		return apply_transition(w, op->key, true, op->resolution, d,
					res, err);
	case JIRA_OP_REOPEN:
		return apply_transition(w, op->key, false, NULL, d, res, err);
	case JIRA_OP_ATTACH:
		return apply_attach(w, op, d, res, err);
	}
	return jira_error_set(err, JIRA_ERR_INTERNAL, "unknown operation");
}
