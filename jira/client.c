/*
 * client.c - the Jira client (see client.h): its options and --help, the
 * URL check, the client's life cycle, requests with retries and backoff,
 * the parse gate that bounds how many answers are parsed at once, and the
 * small endpoints (myself, serverInfo, projects).  Search paging is in
 * search.c, JQL building in jql.c; what they share is client_priv.h.
 */
#include "jira/client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fuse_opt.h>
#include <stdio.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "jira/client_priv.h"
#include "jira/tunnel.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#define RETRY_ATTEMPTS 4 /* so an outage fails a read in ~1.5 s, not at the deadline */
#define RETRY_BASE_MS 200
#define RETRY_CAP_MS 5000
#define RETRY_JITTER_PCT 50 /* waits of [d/2, d] */
#define PARSE_SLOTS_MAX 4
#define JSON_MEDIA_TYPE "application/json" /* and "...; charset=" */

struct jira_client {
	struct http *http;
	const struct auth *auth; /* borrowed, or NULL */
	struct tunnel *tunnel; /* or NULL */
	unsigned max_connections;
	/* Search pages are downloaded max_connections at a time but read
	 * and rendered only this many at a time (one per CPU, at most 4),
	 * each by the thread that fetched it: more would not be faster.
	 * What a page's reading holds besides the answer is small (one
	 * bean's tree at a time, in its thread's arena); the answers that
	 * wait for a slot are whole pages, at most max_connections. */
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
	if (cfg->timeout_s == 0 || cfg->timeout_s > JIRA_TIMEOUT_MAX_S) {
		jlog_err("timeout must be between 1 and %d seconds",
			 JIRA_TIMEOUT_MAX_S);
		return -1;
	}
	if (cfg->max_connections == 0 ||
	    cfg->max_connections > JIRA_MAX_CONNECTIONS_MAX) {
		jlog_err("max_connections must be between 1 and %d",
			 JIRA_MAX_CONNECTIONS_MAX);
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
	char *user = NULL;
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
	curl_url_get(u, CURLUPART_USER, &user, 0);
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
	/* the URL is shown (ps, /proc/mounts, .jirafs/status): no secret in
	 * it; the methods read theirs from files */
	if (user) {
		snprintf(errbuf, errsize,
			 "the URL carries a user name (and maybe a password), "
			 "which ps and /proc/mounts would show: give the bare "
			 "URL, with user= and password_file=");
		goto out;
	}
	ret = 0;
out:
	curl_free(user);
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
	return strncasecmp(r->content_type, JSON_MEDIA_TYPE,
			   sizeof(JSON_MEDIA_TYPE) - 1) == 0;
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

void client_gate_leave(struct jira_client *c)
{
	sem_post(&c->parse_slots);
}

/* jira_request_json; with `gated`, the answer is parsed holding a parse
 * slot, which the caller leaves (client_gate_leave) after freeing *out,
 * when this returns JIRA_OK.  With `raw`, a JSON answer is not parsed but
 * handed over as it came (*out stays NULL; release raw). */
static enum jira_status request_json(struct jira_client *c, const char *method,
				     const char *path, const char *body,
				     deadline_t deadline, unsigned flags,
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
			.flags = flags,
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
				/* its reader reads \u0000 as U+FFFD itself
				 * (json_parse_arena) */
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
						client_gate_leave(c);
				}
			}
			err->retry_after_s = -1;
		} else if (st == JIRA_OK && gated && gate_enter(c, deadline)) {
			st = jira_error_set(err, JIRA_ERR_TIMEOUT,
					    "%s %s: no time left", method, path);
		}
		http_response_release(&r);
		if (st == JIRA_OK || !(flags & HTTP_IDEMPOTENT) ||
		    !jira_status_transient(st) ||
		    attempt + 1 >= RETRY_ATTEMPTS ||
		    !backoff(c, err, attempt, deadline))
			break;
		http_count_retry(c->http);
		jlog_debug("retrying %s %s after: %s", method, path, err->msg);
	}
	return st;
}

enum jira_status client_request_gated(struct jira_client *c,
				      const char *method, const char *path,
				      const char *body, deadline_t deadline,
				      struct http_response *raw,
				      struct jira_error *err)
{
	cJSON *unused = NULL;
	return request_json(c, method, path, body, deadline, HTTP_IDEMPOTENT,
			    true, raw,
			    &unused, err);
}

struct http *client_http(struct jira_client *c)
{
	return c->http;
}

bool client_retry(struct jira_client *c, const struct jira_error *e,
		  int attempt, deadline_t deadline)
{
	if (attempt + 1 >= RETRY_ATTEMPTS || !backoff(c, e, attempt, deadline))
		return false;
	http_count_retry(c->http);
	return true;
}

unsigned client_max_connections(const struct jira_client *c)
{
	return c->max_connections;
}

enum jira_status jira_request_json(struct jira_client *c, const char *method,
				   const char *path, const char *body,
				   deadline_t deadline, bool idempotent,
				   cJSON **out, struct jira_error *err)
{
	return request_json(c, method, path, body, deadline,
			    idempotent ? HTTP_IDEMPOTENT : 0, false, NULL, out,
			    err);
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
	/* anonymous: Jira answers it to anyone, and checks credentials sent
	 * with it (a wrong password would count as a failed login, and
	 * bring the CAPTCHA closer, twice per mount) */
	enum jira_status st = request_json(c, "GET", "/rest/api/2/serverInfo",
					   NULL, deadline,
					   HTTP_IDEMPOTENT | HTTP_NO_AUTH,
					   false, NULL, &j, err);
	if (st == JIRA_OK && !j)
		st = jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				    "GET /rest/api/2/serverInfo: empty answer");
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

enum jira_status jira_get_values(struct jira_client *c, const char *path,
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
		enum jira_status st = jira_get_json(c, p, d, &j, err);
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
