/* client.c - see client.h */
#include "jira/client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fuse_opt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jira/tunnel.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#define RETRY_ATTEMPTS 4 /* so an outage fails a read in ~1.5 s, not at the deadline */
#define RETRY_BASE_MS 200
#define RETRY_CAP_MS 5000
#define RETRY_JITTER_PCT 50      /* waits of [d/2, d] */
#define SEARCH_PAGE_REQUEST 1000 /* what we ask for; Jira grants less */
#define PARSE_SLOTS_MAX 4

struct jira_client {
	struct http *http;
	const struct auth *auth; /* borrowed, or NULL */
	struct tunnel *tunnel; /* or NULL */
	unsigned max_connections;
	/* Search pages are downloaded max_connections at a time but parsed
	 * and rendered only this many at a time (one per CPU, at most 4):
	 * more would not be faster, and each page's cJSON tree is tens of
	 * megabytes at 1,000 tickets. */
	sem_t parse_slots;
};

/* ---- options ---------------------------------------------------------- */

enum { KEY_DEBUG = 1 };

#define JIRA_OPT(t, p, v) { t, offsetof(struct jira_config, p), v }

static const struct fuse_opt jira_opts[] = {
	JIRA_OPT("timeout=%u", timeout_s, 0),
	JIRA_OPT("cacert=%s", cacert, 0),
	JIRA_OPT("insecure", insecure, 1),
	JIRA_OPT("max_connections=%u", max_connections, 0),
	JIRA_OPT("proxy=%s", proxy, 0),
	JIRA_OPT("connect_to=%s", connect_to, 0),
	JIRA_OPT("tunnel=%s", tunnel, 0),
	JIRA_OPT("ssh_command=%s", ssh_command, 0),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_END
};

static int jira_opt_proc(void *data, const char *arg, int key,
			 struct fuse_args *outargs)
{
	(void)arg;
	(void)outargs;
	struct jira_config *cfg = data;
	if (key == KEY_DEBUG)
		cfg->debug = 1;
	return 1; /* keep: libfuse wants -d/debug too, others are not ours */
}

int jira_opt_parse(struct fuse_args *args, struct jira_config *cfg)
{
	cfg->timeout_s = JIRA_DEFAULT_TIMEOUT_S;
	cfg->max_connections = JIRA_DEFAULT_MAX_CONNECTIONS;
	if (fuse_opt_parse(args, cfg, jira_opts, jira_opt_proc) < 0)
		return -1;
	if (cfg->timeout_s == 0 || cfg->timeout_s > 3600) {
		jlog_err("timeout must be between 1 and 3600 seconds");
		return -1;
	}
	if (cfg->max_connections == 0 || cfg->max_connections > 64) {
		jlog_err("max_connections must be between 1 and 64");
		return -1;
	}
	char why[256];
	if (cfg->tunnel && tunnel_parse(cfg->tunnel, why, sizeof(why))) {
		jlog_err("%s", why);
		return -1;
	}
	if (cfg->tunnel && cfg->proxy) {
		jlog_err("tunnel= and proxy= cannot be used together (the "
			 "tunnel is the proxy)");
		return -1;
	}
	if (cfg->proxy && *cfg->proxy && !strstr(cfg->proxy, "://")) {
		jlog_err("proxy=%s: give a URL (http://, https://, socks5h://)",
			 cfg->proxy);
		return -1;
	}
	return 0;
}

void jira_config_release(struct jira_config *cfg)
{
	free(cfg->url);
	free(cfg->cacert);
	free(cfg->proxy);
	free(cfg->connect_to);
	free(cfg->tunnel);
	free(cfg->ssh_command);
	memset(cfg, 0, sizeof(*cfg));
}

void jira_opt_help(void)
{
	printf("Connection options:\n"
	       "    -o timeout=SECONDS     longest network wait of any file "
	       "operation (default: %d)\n"
	       "    -o cacert=FILE         CA certificates to verify the server "
	       "with\n"
	       "    -o insecure            do not verify the server's "
	       "certificate (unsafe)\n"
	       "    -o max_connections=N   connections kept open to Jira "
	       "(default: %d)\n"
	       "    -o debug               log every request's headers "
	       "(secrets redacted)\n"
	       "    -o proxy=URL           an http://, https:// or socks5h:// "
	       "proxy\n"
	       "    -o connect_to=H:P:H2:P2\n"
	       "                           connect to H2:P2 for H:P (TLS still "
	       "verified for H)\n"
	       "    -o tunnel=ssh://[USER@]HOST[:PORT]\n"
	       "                           reach Jira through an ssh SOCKS "
	       "tunnel\n"
	       "    -o ssh_command=CMD     the ssh client and its options "
	       "(default: ssh)\n",
	       JIRA_DEFAULT_TIMEOUT_S, JIRA_DEFAULT_MAX_CONNECTIONS);
}

int jira_url_check(const char *url, char *errbuf, size_t errsize)
{
	int ret = -EINVAL;
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *query = NULL, *frag = NULL;
	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(errbuf, errsize, "'%s' is not a URL", url);
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	if (!scheme || (strcmp(scheme, "https") && strcmp(scheme, "http"))) {
		snprintf(errbuf, errsize,
			 "'%s': the URL must start with https:// or http://",
			 url);
		goto out;
	}
	if (!host || !*host) {
		snprintf(errbuf, errsize, "'%s' has no host", url);
		goto out;
	}
	if (query || frag) {
		snprintf(errbuf, errsize,
			 "'%s': give the Jira base URL, without ? or #", url);
		goto out;
	}
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return ret;
}

/* ---- client ----------------------------------------------------------- */

int jira_client_new(const struct jira_config *cfg, struct auth *auth,
		    struct jira_client **out)
{
	struct jira_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	char why[256];
	if (cfg->tunnel) {
		int r = tunnel_start(cfg->tunnel, cfg->ssh_command, &c->tunnel,
				     why, sizeof(why));
		if (r) {
			jlog_err("%s", why);
			free(c);
			return r;
		}
	}
	struct http_config hc = {
		.base_url = cfg->url,
		.cacert = cfg->cacert,
		.insecure = cfg->insecure,
		.max_connections = cfg->max_connections,
		.debug = cfg->debug,
		.proxy = cfg->proxy,
		.connect_to = cfg->connect_to,
		.tunnel = c->tunnel,
	};
	int ret = http_new(&hc, auth, &c->http);
	if (ret) {
		tunnel_stop(c->tunnel);
		free(c);
		return ret;
	}
	c->auth = auth;
	c->max_connections = hc.max_connections;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	sem_init(&c->parse_slots, 0,
		 cpus < 1 ? 1 : cpus > PARSE_SLOTS_MAX ? PARSE_SLOTS_MAX
						       : (unsigned)cpus);
	*out = c;
	return 0;
}

void jira_client_free(struct jira_client *c)
{
	if (!c)
		return;
	http_free(c->http);
	tunnel_stop(c->tunnel);
	sem_destroy(&c->parse_slots);
	free(c);
}

bool jira_client_tunnel(const struct jira_client *c, struct tunnel_state *out)
{
	if (!c->tunnel)
		return false;
	tunnel_state(c->tunnel, out);
	return true;
}

const char *jira_client_auth_name(const struct jira_client *c)
{
	return c->auth ? auth_name(c->auth) : "none";
}

char *jira_browse_url(const struct jira_client *c, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/browse/%s", http_base_url(c->http), key);
	return strbuf_detach(&sb, NULL);
}

void jira_client_cancel(struct jira_client *c)
{
	http_cancel(c->http);
}

void jira_client_counters(const struct jira_client *c,
			  struct http_counters *out)
{
	http_counters(c->http, out);
}

/* ---- requests with retries ------------------------------------------- */

/* Wait before retry number `attempt` (0-based); false when the wait would
 * pass the deadline, so the caller should stop. */
static bool backoff(struct jira_client *c, const struct jira_error *e,
		    int attempt, deadline_t deadline)
{
	static const struct backoff policy = { RETRY_BASE_MS, RETRY_CAP_MS,
					       RETRY_JITTER_PCT };
	int64_t wait = e->retry_after_s >= 0
			       ? (int64_t)e->retry_after_s * 1000
			       : backoff_ms(&policy, (unsigned)attempt);
	if (wait >= deadline_left(deadline))
		return false;
	return http_sleep(c->http, wait, deadline);
}

static bool content_is_json(const struct http_response *r)
{
	return strncasecmp(r->content_type, "application/json", 16) == 0;
}

/* Wait for a parse slot until the deadline: 0 or -ETIMEDOUT. */
static int gate_enter(struct jira_client *c, deadline_t deadline)
{
	struct timespec ts = deadline_timespec(deadline);
	while (sem_clockwait(&c->parse_slots, CLOCK_MONOTONIC, &ts) != 0)
		if (errno != EINTR)
			return -ETIMEDOUT;
	return 0;
}

static void gate_leave(struct jira_client *c)
{
	sem_post(&c->parse_slots);
}

/* jira_request_json; with `gated`, the answer is parsed holding a parse
 * slot, which the caller leaves (gate_leave) after freeing *out, when this
 * returns JIRA_OK.  With `raw`, a JSON answer is not parsed but handed
 * over as it came (*out stays NULL; release raw). */
static enum jira_status request_json(struct jira_client *c, const char *method,
				     const char *path, const char *body,
				     deadline_t deadline, bool idempotent,
				     bool gated, struct http_response *raw,
				     cJSON **out, struct jira_error *err)
{
	struct jira_error local;
	enum jira_status st = JIRA_OK;
	if (!err)
		err = &local;
	*out = NULL;
	if (raw)
		memset(raw, 0, sizeof(*raw));
	for (int attempt = 0;; attempt++) {
		struct http_response r;
		struct http_req req = {
			.method = method,
			.path = path,
			.body = body,
			.body_len = body ? strlen(body) : 0,
			.flags = idempotent ? HTTP_IDEMPOTENT : 0,
		};
		st = http_request(c->http, &req, deadline, &r, err);
		if (st == JIRA_OK && r.len > 0) {
			if (!content_is_json(&r)) {
				st = jira_error_set(
					err, JIRA_ERR_BAD_RESPONSE,
					"%s %s: answer is %s, not JSON", method,
					path,
					r.content_type[0] ? r.content_type
							  : "untyped");
			} else if (gated && gate_enter(c, deadline)) {
				st = jira_error_set(err, JIRA_ERR_TIMEOUT,
						    "%s %s: no time left to "
						    "read the answer",
						    method, path);
			} else if (raw) {
				json_neutralize_nul(r.body, r.len);
				*raw = r;
				memset(&r, 0, sizeof(r));
			} else {
				json_neutralize_nul(r.body, r.len);
				*out = cJSON_ParseWithLength(r.body, r.len);
				if (!*out) {
					st = jira_error_set(
						err, JIRA_ERR_BAD_RESPONSE,
						"%s %s: answer is not valid "
						"JSON (%zu bytes)",
						method, path, r.len);
					if (gated)
						gate_leave(c);
				}
			}
			err->retry_after_s = -1;
		} else if (st == JIRA_OK && gated && gate_enter(c, deadline)) {
			st = jira_error_set(err, JIRA_ERR_TIMEOUT,
					    "%s %s: no time left", method, path);
		}
		http_response_release(&r);
		if (st == JIRA_OK || !idempotent ||
		    !jira_status_transient(st) ||
		    attempt + 1 >= RETRY_ATTEMPTS ||
		    !backoff(c, err, attempt, deadline))
			break;
		http_count_retry(c->http);
		jlog_debug("retrying %s %s after: %s", method, path, err->msg);
	}
	return st;
}

enum jira_status jira_request_json(struct jira_client *c, const char *method,
				   const char *path, const char *body,
				   deadline_t deadline, bool idempotent,
				   cJSON **out, struct jira_error *err)
{
	return request_json(c, method, path, body, deadline, idempotent, false,
			    NULL, out, err);
}

enum jira_status jira_get_json(struct jira_client *c, const char *path,
			       deadline_t deadline, cJSON **out,
			       struct jira_error *err)
{
	enum jira_status st = jira_request_json(c, "GET", path, NULL, deadline,
					   true, out, err);
	if (st == JIRA_OK && !*out)
		st = jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				    "GET %s: empty answer", path);
	return st;
}

enum jira_status jira_myself(struct jira_client *c, deadline_t deadline,
			     char **name, struct jira_error *err)
{
	cJSON *j;
	*name = NULL;
	enum jira_status st =
		jira_get_json(c, "/rest/api/2/myself", deadline, &j, err);
	if (st != JIRA_OK)
		return st;
	*name = json_strdup(j, "name");
	cJSON_Delete(j);
	if (!*name)
		return jira_error_set(err, JIRA_ERR_AUTH,
				      "Jira did not say who the user is "
				      "(answered as anonymous?)");
	return JIRA_OK;
}

enum jira_status jira_server_info(struct jira_client *c, deadline_t deadline,
				  char **version, char **deployment,
				  struct jira_error *err)
{
	cJSON *j;
	*version = *deployment = NULL;
	enum jira_status st =
		jira_get_json(c, "/rest/api/2/serverInfo", deadline, &j, err);
	if (st != JIRA_OK)
		return st;
	*version = json_strdup(j, "version");
	*deployment = json_strdup(j, "deploymentType");
	cJSON_Delete(j);
	return JIRA_OK;
}

static int cmp_project(const void *a, const void *b)
{
	return strcmp(((const struct jira_project *)a)->key,
		      ((const struct jira_project *)b)->key);
}

enum jira_status jira_projects(struct jira_client *c, deadline_t deadline,
			       struct jira_project **out, size_t *n,
			       struct jira_error *err)
{
	cJSON *j;
	*out = NULL;
	*n = 0;
	enum jira_status st =
		jira_get_json(c, "/rest/api/2/project", deadline, &j, err);
	if (st != JIRA_OK)
		return st;
	if (!cJSON_IsArray(j)) {
		cJSON_Delete(j);
		return jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				      "/rest/api/2/project is not a list");
	}
	size_t cap = (size_t)cJSON_GetArraySize(j);
	struct jira_project *p = calloc(cap ? cap : 1, sizeof(*p));
	if (!p) {
		cJSON_Delete(j);
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	}
	const cJSON *item;
	size_t k = 0;
	cJSON_ArrayForEach(item, j) {
		const cJSON *key = json_item(item, "key");
		if (!cJSON_IsString(key) ||
		    !jira_project_key_valid(key->valuestring)) {
			jlog_warn("ignoring a project with an unusable key");
			continue;
		}
		p[k].key = strdup(key->valuestring);
		p[k].name = json_strdup(item, "name");
		if (!p[k].key) {
			jira_projects_free(p, k);
			cJSON_Delete(j);
			return jira_error_set(err, JIRA_ERR_NOMEM,
					      "out of memory");
		}
		k++;
	}
	cJSON_Delete(j);
	qsort(p, k, sizeof(*p), cmp_project);
	*out = p;
	*n = k;
	return JIRA_OK;
}

void jira_projects_free(struct jira_project *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].key);
		free(p[i].name);
	}
	free(p);
}

/* ---- search ------------------------------------------------------------ */

struct page {
	struct jira_issue **issues; /* NULL where a bean waits in `partial` */
	size_t n;
	cJSON **partial;  /* beans whose comments are not all there */
	size_t *partial_at; /* their places in issues */
	size_t npartial, partial_cap;
	unsigned granted; /* maxResults of the answer */
	unsigned total;
	unsigned skipped;
	unsigned reused;
};

struct reuse {
	jira_reuse_fn fn; /* or NULL */
	void *ctx;
};

static char *search_body(const char *jql, unsigned start, unsigned max,
			 bool lenient, const char *field_spec)
{
	cJSON *b = cJSON_CreateObject();
	if (!b)
		return NULL;
	cJSON_AddStringToObject(b, "jql", jql);
	/* a key that no longer exists is not an error; a Boolean, as
	 * Server/DC's SearchRequestBean has it ("warn" is Cloud's and a 400
	 * there) */
	if (lenient)
		cJSON_AddFalseToObject(b, "validateQuery");
	cJSON_AddNumberToObject(b, "startAt", start);
	cJSON_AddNumberToObject(b, "maxResults", max);
	cJSON *fields = cJSON_AddArrayToObject(b, "fields");
	char *spec = strdup(field_spec);
	char *save = NULL;
	for (char *f = spec ? strtok_r(spec, ",", &save) : NULL; f;
	     f = strtok_r(NULL, ",", &save))
		cJSON_AddItemToArray(fields, cJSON_CreateString(f));
	free(spec);
	char *s = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return s;
}

static void page_release(struct page *p)
{
	jira_issues_free(p->issues, p->n);
	for (size_t i = 0; i < p->npartial; i++)
		cJSON_Delete(p->partial[i]);
	free(p->partial);
	free(p->partial_at);
	memset(p, 0, sizeof(*p));
}

static unsigned uint_value(const cJSON *v)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		return 0;
	return v->valuedouble > 1e9 ? 1000000000u : (unsigned)v->valuedouble;
}

static unsigned uint_of(const cJSON *obj, const char *key)
{
	return uint_value(json_item(obj, key));
}

/* A number member of a walked answer ("maxResults", "total"). */
static unsigned uint_of_text(const char *v, size_t len)
{
	cJSON *num = cJSON_ParseWithLength(v, len);
	unsigned u = uint_value(num);
	cJSON_Delete(num);
	return u;
}

/* ---- comments beyond the first page ------------------------------------ */

/* The comment field of an IssueBean is itself a page (startAt, maxResults,
 * total: CommentsWithPaginationJsonBean), and Jira may cut it short: does
 * bean hold fewer comments than its ticket has? */
static bool comments_partial(const cJSON *bean)
{
	const cJSON *f = json_item(bean, "fields");
	const cJSON *cm = json_item(f, "comment");
	const cJSON *total = json_item(cm, "total");
	const cJSON *list = json_item(cm, "comments");
	return cJSON_IsNumber(total) &&
	       total->valuedouble > cJSON_GetArraySize(list);
}

/* Replace bean's comment page by every comment of the ticket, read from
 * GET /rest/api/2/issue/{key}/comment, oldest first, page by page. */
static enum jira_status complete_comments(struct jira_client *c, cJSON *bean,
					  deadline_t deadline,
					  struct jira_error *err)
{
	const cJSON *k = json_item(bean, "key");
	cJSON *f = cJSON_GetObjectItemCaseSensitive(bean, "fields");
	cJSON *all = cJSON_CreateArray();
	if (!all)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	enum jira_status st = JIRA_OK;
	for (unsigned start = 0, pages = 0; pages < 10000; pages++) {
		char path[512];
		cJSON *j = NULL;
		snprintf(path, sizeof(path),
			 "/rest/api/2/issue/%s/comment?startAt=%u&maxResults="
			 "1000&orderBy=created",
			 cJSON_IsString(k) ? k->valuestring : "", start);
		st = jira_get_json(c, path, deadline, &j, err);
		if (st != JIRA_OK)
			break;
		cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "comments");
		unsigned n = 0;
		while (cJSON_IsArray(list) && list->child) {
			cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(
							  list, list->child));
			n++;
		}
		unsigned total = uint_of(j, "total");
		cJSON_Delete(j);
		start += n;
		if (n == 0 || start >= total)
			break;
	}
	if (st != JIRA_OK) {
		cJSON_Delete(all);
		return st;
	}
	cJSON *cm = cJSON_CreateObject();
	unsigned n = (unsigned)cJSON_GetArraySize(all);
	cJSON_AddItemToObject(cm, "comments", all);
	cJSON_AddNumberToObject(cm, "maxResults", n);
	cJSON_AddNumberToObject(cm, "total", n);
	cJSON_AddNumberToObject(cm, "startAt", 0);
	if (!cJSON_ReplaceItemInObjectCaseSensitive(f, "comment", cm))
		cJSON_Delete(cm);
	jlog_debug("%s: %u comments, read beyond the search's page",
		   cJSON_IsString(k) ? k->valuestring : "?", n);
	return JIRA_OK;
}

/* Fill the places of p's partial beans, once their comments are read (out
 * of the parse slot: this is network). */
static enum jira_status page_complete(struct jira_client *c, struct page *p,
				      deadline_t deadline,
				      struct jira_error *err)
{
	enum jira_status st = JIRA_OK;
	for (size_t i = 0; i < p->npartial && st == JIRA_OK; i++) {
		char why[128];
		struct jira_issue *is = NULL;
		st = complete_comments(c, p->partial[i], deadline, err);
		if (st != JIRA_OK)
			break;
		int r = jira_issue_from_json(p->partial[i], &is, why,
					     sizeof(why));
		if (r == -ENOMEM)
			st = jira_error_set(err, JIRA_ERR_NOMEM,
					    "out of memory");
		else if (r)
			p->skipped++;
		p->issues[p->partial_at[i]] = is;
	}
	/* close the gaps of skipped beans */
	size_t o = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->issues[i])
			p->issues[o++] = p->issues[i];
	p->n = o;
	return st;
}

/* The ticket held for this bean's key and version, if the caller has it. */
static struct jira_issue *reused(const struct reuse *ru, const cJSON *bean)
{
	if (!ru || !ru->fn)
		return NULL;
	const cJSON *key = json_item(bean, "key");
	const cJSON *f = json_item(bean, "fields");
	const cJSON *upd = json_item(f, "updated");
	if (!cJSON_IsString(key) || !cJSON_IsString(upd) || !*upd->valuestring)
		return NULL;
	return ru->fn(ru->ctx, key->valuestring, upd->valuestring);
}

/* One element of the answer's "issues", parsed on its own: a ticket for p,
 * or skipped (logged).  0, -EINVAL when it is not JSON, or -ENOMEM. */
static int page_add(struct page *p, size_t *cap, const struct reuse *ru,
		    const char *v, size_t len)
{
	if (p->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct jira_issue **a = realloc(p->issues, ncap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		p->issues = a;
		*cap = ncap;
	}
	cJSON *bean = cJSON_ParseWithLength(v, len);
	if (!bean)
		return -EINVAL;
	char why[128];
	struct jira_issue *i = reused(ru, bean);
	int r = 0;
	if (i) {
		p->issues[p->n++] = i;
		p->reused++;
	} else if (comments_partial(bean)) {
		/* completed after the parse slot is left */
		if (p->npartial == p->partial_cap) {
			size_t ncap = p->partial_cap ? p->partial_cap * 2 : 8;
			cJSON **b = realloc(p->partial, ncap * sizeof(*b));
			if (b)
				p->partial = b;
			size_t *at = b ? realloc(p->partial_at,
						 ncap * sizeof(*at))
				       : NULL;
			if (at)
				p->partial_at = at;
			if (!b || !at) {
				cJSON_Delete(bean);
				return -ENOMEM;
			}
			p->partial_cap = ncap;
		}
		p->partial[p->npartial] = bean;
		p->partial_at[p->npartial++] = p->n;
		p->issues[p->n++] = NULL;
		return 0;
	} else if (!(r = jira_issue_from_json(bean, &i, why, sizeof(why)))) {
		p->issues[p->n++] = i;
	} else if (r != -ENOMEM) {
		p->skipped++;
		jlog_warn("search skipped %s", why);
		r = 0;
	}
	cJSON_Delete(bean);
	return r;
}

static bool member_is(const char *key, size_t klen, const char *name)
{
	return klen == strlen(name) && memcmp(key, name, klen) == 0;
}

/* The tickets of one search answer.  The answer is walked, not parsed as
 * a whole: one ticket's tree at a time, never the page's. */
static enum jira_status read_page(const char *text, size_t len,
				  const struct reuse *ru, struct page *p,
				  struct jira_error *err)
{
	struct json_walk top, arr;
	const char *key, *v, *e;
	size_t klen, vlen, elen, cap = 0;
	bool have_issues = false;
	int r = -EINVAL;
	if (text && json_walk_start(&top, text, len) == 0 && top.close == '}')
		while ((r = json_walk_next(&top, &key, &klen, &v, &vlen)) == 1) {
			if (member_is(key, klen, "maxResults")) {
				p->granted = uint_of_text(v, vlen);
			} else if (member_is(key, klen, "total")) {
				p->total = uint_of_text(v, vlen);
			} else if (member_is(key, klen, "issues")) {
				if (json_walk_start(&arr, v, vlen) ||
				    arr.close != ']') {
					r = -EINVAL;
					break;
				}
				have_issues = true;
				while ((r = json_walk_next(&arr, NULL, NULL, &e,
							   &elen)) == 1 &&
				       !(r = page_add(p, &cap, ru, e, elen)))
					;
				if (r < 0)
					break;
			}
		}
	if (r == -ENOMEM)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	if (r < 0)
		return jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				      "search answer is not valid JSON "
				      "(%zu bytes)",
				      len);
	if (!have_issues)
		return jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				      "search answer without issues");
	return JIRA_OK;
}

static enum jira_status fetch_page(struct jira_client *c, const char *jql,
				   bool lenient, const struct reuse *ru,
				   unsigned start, unsigned max,
				   deadline_t deadline, struct page *p,
				   struct jira_error *err)
{
	cJSON *unused = NULL;
	struct http_response raw;
	memset(p, 0, sizeof(*p));
	char *body = search_body(jql, start, max, lenient, JIRA_ISSUE_FIELDS);
	if (!body)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	enum jira_status st =
		request_json(c, "POST", "/rest/api/2/search", body, deadline,
			     true, true, &raw, &unused, err);
	free(body);
	if (st != JIRA_OK)
		return st;
	/* from here on this thread holds a parse slot */
	st = read_page(raw.body, raw.len, ru, p, err);
	http_response_release(&raw);
	gate_leave(c);
	if (st == JIRA_OK && p->npartial)
		st = page_complete(c, p, deadline, err);
	if (st != JIRA_OK)
		page_release(p);
	return st;
}

struct page_job {
	struct jira_client *c;
	const char *jql;
	bool lenient;
	const struct reuse *reuse;
	deadline_t deadline;
	unsigned page_size;
	unsigned npages;       /* pages[0] is done before workers start */
	struct page *pages;
	atomic_uint next;      /* next page index to take */
	atomic_bool failed;
	pthread_mutex_t lock;  /* guards err */
	struct jira_error err; /* the first failure */
};

static void *page_worker(void *arg)
{
	struct page_job *job = arg;
	for (;;) {
		unsigned idx = atomic_fetch_add(&job->next, 1);
		if (idx >= job->npages || atomic_load(&job->failed))
			break;
		struct jira_error e = { 0 };
		enum jira_status st =
			fetch_page(job->c, job->jql, job->lenient, job->reuse,
				   idx * job->page_size, job->page_size,
				   job->deadline, &job->pages[idx], &e);
		if (st != JIRA_OK) {
			pthread_mutex_lock(&job->lock);
			if (!atomic_exchange(&job->failed, true))
				job->err = e;
			pthread_mutex_unlock(&job->lock);
			break;
		}
	}
	return NULL;
}

/* Fetch pages 1..npages-1 with up to `threads` workers. */
static enum jira_status fetch_rest(struct page_job *job, unsigned threads,
				   struct jira_error *err)
{
	pthread_t tids[64];
	unsigned started = 0;
	if (threads > 64)
		threads = 64;
	for (; started < threads; started++)
		if (pthread_create(&tids[started], NULL, page_worker, job))
			break;
	if (started == 0)
		page_worker(job); /* no threads to be had: do it here */
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (atomic_load(&job->failed)) {
		if (err)
			*err = job->err;
		return job->err.status;
	}
	return JIRA_OK;
}

enum jira_status jira_search(struct jira_client *c, const char *jql,
			     bool lenient, deadline_t deadline,
			     struct jira_issue ***issues, size_t *n,
			     struct jira_search_stats *stats,
			     struct jira_error *err)
{
	return jira_search_reusing(c, jql, lenient, NULL, NULL, deadline,
				   issues, n, stats, err);
}

enum jira_status jira_search_reusing(struct jira_client *c, const char *jql,
				     bool lenient, jira_reuse_fn reuse_fn,
				     void *reuse_ctx, deadline_t deadline,
				     struct jira_issue ***issues, size_t *n,
				     struct jira_search_stats *stats,
				     struct jira_error *err)
{
	struct page first;
	struct jira_search_stats s = { 0 };
	struct reuse ru = { reuse_fn, reuse_ctx };
	*issues = NULL;
	*n = 0;

	enum jira_status st = fetch_page(c, jql, lenient, &ru, 0,
					 SEARCH_PAGE_REQUEST, deadline, &first,
					 err);
	if (st != JIRA_OK)
		return st;
	unsigned size = first.granted ? first.granted : (unsigned)first.n;
	unsigned total = first.total;
	/* a server that grants no page size cannot be paged through */
	unsigned npages = size && total > first.n ? (total + size - 1) / size
						   : 1;
	s.pages = 1;
	s.page_size = size;
	s.total = total;
	s.skipped = first.skipped;

	struct page_job job = {
		.c = c,
		.jql = jql,
		.lenient = lenient,
		.reuse = &ru,
		.deadline = deadline,
		.page_size = size,
		.npages = npages,
	};
	job.pages = calloc(npages, sizeof(*job.pages));
	if (!job.pages) {
		page_release(&first);
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	}
	job.pages[0] = first;
	atomic_init(&job.next, 1);
	atomic_init(&job.failed, false);
	pthread_mutex_init(&job.lock, NULL);
	if (npages > 1) {
		unsigned threads = npages - 1 < c->max_connections
					   ? npages - 1
					   : c->max_connections;
		st = fetch_rest(&job, threads, err);
		s.pages += npages - 1;
	}
	pthread_mutex_destroy(&job.lock);

	size_t count = 0;
	for (unsigned i = 0; i < npages; i++) {
		count += job.pages[i].n;
		s.skipped += i ? job.pages[i].skipped : 0;
		s.reused += job.pages[i].reused;
	}
	struct jira_issue **all = NULL;
	if (st == JIRA_OK) {
		all = malloc((count ? count : 1) * sizeof(*all));
		if (!all)
			st = jira_error_set(err, JIRA_ERR_NOMEM,
					    "out of memory");
	}
	size_t k = 0;
	for (unsigned i = 0; i < npages; i++) {
		if (all && job.pages[i].n) {
			memcpy(all + k, job.pages[i].issues,
			       job.pages[i].n * sizeof(*all));
			k += job.pages[i].n;
			job.pages[i].n = 0;
		}
		page_release(&job.pages[i]);
	}
	free(job.pages);
	if (st != JIRA_OK) {
		free(all);
		return st;
	}
	if (k + s.skipped < total)
		jlog_notice("search returned %zu of %u issues (the project "
			    "changed while it was read)",
			    k, total);
	*issues = all;
	*n = k;
	if (stats)
		*stats = s;
	return JIRA_OK;
}

enum jira_status jira_search_total(struct jira_client *c, const char *jql,
				   deadline_t deadline, unsigned *total,
				   struct jira_error *err)
{
	cJSON *j = NULL;
	*total = 0;
	char *body = search_body(jql, 0, 0, false, "id");
	if (!body)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	enum jira_status st = jira_request_json(c, "POST", "/rest/api/2/search",
					   body, deadline, true, &j, err);
	free(body);
	if (st != JIRA_OK)
		return st;
	const cJSON *t = json_item(j, "total");
	if (!cJSON_IsNumber(t) || t->valuedouble < 0)
		st = jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				    "search answer without a total");
	else
		*total = uint_of(j, "total");
	cJSON_Delete(j);
	return st;
}

void jira_issues_free(struct jira_issue **issues, size_t n)
{
	for (size_t i = 0; i < n; i++)
		jira_issue_unref(issues[i]);
	free(issues);
}

enum jira_status jira_issue_get(struct jira_client *c, const char *key,
				deadline_t deadline, struct jira_issue **out,
				struct jira_error *err)
{
	struct strbuf path = STRBUF_INIT;
	cJSON *j;
	*out = NULL;
	if (!jira_key_valid(key))
		return jira_error_set(err, JIRA_ERR_NOT_FOUND,
				      "'%s' is not an issue key", key);
	strbuf_addf(&path, "/rest/api/2/issue/%s?fields=", key);
	strbuf_add_urlencoded(&path, JIRA_ISSUE_FIELDS);
	if (path.failed)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	enum jira_status st =
		jira_get_json(c, strbuf_str(&path), deadline, &j, err);
	strbuf_release(&path);
	if (st != JIRA_OK)
		return st;
	if (comments_partial(j) &&
	    (st = complete_comments(c, j, deadline, err)) != JIRA_OK) {
		cJSON_Delete(j);
		return st;
	}
	char why[128];
	int r = jira_issue_from_json(j, out, why, sizeof(why));
	cJSON_Delete(j);
	if (r == -ENOMEM)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	if (r)
		return jira_error_set(err, JIRA_ERR_BAD_RESPONSE, "%s: %s",
				      key, why);
	if (strcmp((*out)->key, key) != 0) {
		/* moved to another project: the old key answers with the new
		 * issue; for this key's directory it is gone */
		jira_issue_unref(*out);
		*out = NULL;
		return jira_error_set(err, JIRA_ERR_NOT_FOUND,
				      "%s was moved", key);
	}
	return JIRA_OK;
}

/* ---- JQL -------------------------------------------------------------- */

char *jql_quote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addc(&sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addc(&sb, '\\');
		strbuf_addc(&sb, (unsigned char)*s < 0x20 ? ' ' : *s);
	}
	strbuf_addc(&sb, '"');
	return strbuf_detach(&sb, NULL);
}

char *jql_project_all(const char *project_key)
{
	char *q = jql_quote(project_key);
	if (!q)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "project = %s ORDER BY key ASC", q);
	free(q);
	return strbuf_detach(&sb, NULL);
}

char *jql_project_count(const char *project_key)
{
	char *q = jql_quote(project_key);
	if (!q)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "project = %s", q);
	free(q);
	return strbuf_detach(&sb, NULL);
}

char *jql_project_updated(const char *project_key, unsigned minutes)
{
	char *q = jql_quote(project_key);
	if (!q)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "project = %s AND updated >= \"-%um\" ORDER BY key ASC",
		    q, minutes);
	free(q);
	return strbuf_detach(&sb, NULL);
}

char *jql_keys(const char *const *keys, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "key in (");
	for (size_t i = 0; i < n; i++) {
		char *q = jql_quote(keys[i]);
		strbuf_addf(&sb, "%s%s", i ? ", " : "", q ? q : "\"\"");
		free(q);
	}
	strbuf_adds(&sb, ") ORDER BY key ASC");
	return strbuf_detach(&sb, NULL);
}
