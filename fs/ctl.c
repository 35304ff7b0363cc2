/* ctl.c - the files of /.jirafs/; see ctl.h. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fs/ctl.h"
#include "fs/attach.h"
#include "fs/queries.h"
#include "jira/issue.h"
#include "jira/tunnel.h"
#include "util/json.h"
#include "util/log.h"

static void add_time(cJSON *o, const char *key, int64_t wall_ms)
{
	if (!wall_ms) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	char buf[32];
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, key, buf);
}

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

/* A proxy URL with its credentials hidden (user:secret@ -> ***@) */
static void add_proxy(cJSON *o, const char *url)
{
	const char *scheme = url ? strstr(url, "://") : NULL;
	const char *at = scheme ? strrchr(scheme, '@') : NULL;
	if (!at) {
		add_str_or_null(o, "proxy", url);
		return;
	}
	char buf[512];
	snprintf(buf, sizeof(buf), "%.*s***%s", (int)(scheme + 3 - url), url,
		 at);
	cJSON_AddStringToObject(o, "proxy", buf);
}

/* The text of /.jirafs/status (malloc'd). */
static char *status_text(struct jirafs *fs, size_t *len)
{
	struct http_counters hc = { 0 };
	struct tree_stats ts = { 0 };
	char last[1024];

	if (fs->client)
		jira_client_counters(fs->client, &hc);
	if (fs->tree)
		tree_stats(fs->tree, &ts);
	log_last_error(last, sizeof(last));

	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "jirafs", JIRAFS_VERSION);
	cJSON_AddStringToObject(o, "server", fs->jira->url);
	add_str_or_null(o, "jira_version", fs->server_version);
	add_str_or_null(o, "deployment", fs->deployment);
	add_str_or_null(o, "user", fs->user);
	add_str_or_null(o, "auth",
			fs->client ? jira_client_auth_name(fs->client) : NULL);
	add_time(o, "mounted_at", (int64_t)fs->mounted_at.tv_sec * 1000);

	cJSON *tr = cJSON_AddObjectToObject(o, "transport");
	const char *state = "unknown";
	if (hc.last_ok_ms && hc.last_ok_ms >= hc.last_failure_ms)
		state = "up";
	else if (hc.last_failure_ms)
		state = "down";
	struct tunnel_state tun;
	bool tunneled = fs->client && jira_client_tunnel(fs->client, &tun);
	if (tunneled && strcmp(tun.state, "down") == 0)
		state = "down"; /* whatever the last answer was */
	cJSON_AddStringToObject(tr, "state", state);
	cJSON_AddBoolToObject(tr, "tls_verify", !fs->jira->insecure);
	add_str_or_null(tr, "cacert", fs->jira->cacert);
	cJSON_AddNumberToObject(tr, "max_connections",
				fs->jira->max_connections);
	add_proxy(tr, fs->jira->proxy);
	add_str_or_null(tr, "connect_to", fs->jira->connect_to);
	if (tunneled) {
		cJSON *tu = cJSON_AddObjectToObject(tr, "tunnel");
		cJSON_AddStringToObject(tu, "to", fs->jira->tunnel);
		cJSON_AddStringToObject(tu, "state", tun.state);
		cJSON_AddNumberToObject(tu, "socks_port", tun.port);
		cJSON_AddNumberToObject(tu, "restarts", tun.restarts);
		add_str_or_null(tu, "last_error", tun.last_error);
	} else {
		cJSON_AddNullToObject(tr, "tunnel");
	}
	add_time(tr, "last_answer", hc.last_ok_ms);
	add_time(tr, "last_failure", hc.last_failure_ms);

	cJSON_AddNumberToObject(o, "outbox",
				fs->outbox ? (double)outbox_count(fs->outbox) : 0);
	char auth[JIRA_ERROR_MSG_MAX] = "";
	if (fs->outbox)
		outbox_auth_problem(fs->outbox, auth, sizeof(auth));
	add_str_or_null(o, "auth_problem", auth);
	add_str_or_null(o, "last_error", last);

	cJSON *c = cJSON_AddObjectToObject(o, "counters");
	cJSON_AddNumberToObject(c, "requests", (double)hc.requests);
	cJSON_AddNumberToObject(c, "retries", (double)hc.retries);
	cJSON_AddNumberToObject(c, "failures", (double)hc.failures);
	cJSON_AddNumberToObject(c, "writes_resent_stopped",
				(double)hc.resends);
	cJSON_AddNumberToObject(c, "bytes_received", (double)hc.bytes_in);
	cJSON_AddNumberToObject(c, "listings", (double)ts.listings);
	cJSON_AddNumberToObject(c, "listing_failures",
				(double)ts.listing_failures);
	cJSON_AddNumberToObject(c, "names_parsed", (double)fs_node_parsed());

	cJSON *cache = cJSON_AddObjectToObject(o, "cache");
	cJSON_AddNumberToObject(cache, "projects", (double)ts.projects);
	cJSON_AddNumberToObject(cache, "tickets", (double)ts.tickets);
	cJSON_AddNumberToObject(cache, "ttl_seconds", fs->cfg.cache_ttl_s);
	struct jira_text_stats tx;
	jira_text_stats(&tx);
	cJSON *t = cJSON_AddObjectToObject(cache, "texts");
	cJSON_AddNumberToObject(t, "bytes", (double)tx.bytes);
	cJSON_AddNumberToObject(t, "memory_bytes", (double)tx.memory);
	cJSON_AddNumberToObject(t, "memory_max", (double)tx.memory_max);
	cJSON_AddNumberToObject(t, "spilled", (double)tx.spilled);
	cJSON_AddNumberToObject(t, "spilled_bytes", (double)tx.spilled_bytes);
	struct queries_stats qs;
	queries_stats(fs->queries, &qs);
	cJSON *q = cJSON_AddObjectToObject(o, "queries");
	cJSON_AddNumberToObject(q, "defined", (double)qs.defined);
	cJSON_AddNumberToObject(q, "refused", (double)qs.refused);
	cJSON_AddNumberToObject(q, "results_held", (double)qs.held);
	cJSON_AddNumberToObject(q, "searches", (double)qs.searches);
	if (fs->attach) {
		struct attach_stats as;
		attach_stats(fs->attach, &as);
		cJSON *a = cJSON_AddObjectToObject(o, "attachments");
		cJSON_AddNumberToObject(a, "cached", (double)as.cached);
		cJSON_AddNumberToObject(a, "cached_bytes",
					(double)as.cached_bytes);
		cJSON_AddNumberToObject(a, "cache_max", (double)as.cache_max);
		cJSON_AddNumberToObject(a, "downloads", (double)as.downloads);
		cJSON_AddNumberToObject(a, "uploads", (double)as.uploads);
	}
	cJSON_AddNumberToObject(o, "timeout_seconds", fs->jira->timeout_s);
	cJSON_AddStringToObject(o, "state_dir", fs->state_dir);

	char *text = json_file_text(o, len);
	cJSON_Delete(o);
	return text;
}

char *ctl_text(struct jirafs *fs, const struct fs_node *n, size_t *len)
{
	if (n->kind == N_CTL_OUTBOX_FILE)
		return fs->outbox ? outbox_text(fs->outbox, n->name, len)
				  : NULL;
	if (strcmp(n->name, "status") == 0)
		return status_text(fs, len);
	return log_ring_text(len);
}
