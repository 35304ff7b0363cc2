/*
 * client.h - the Jira REST client: the calls jirafs makes, over http.h.
 *
 * A struct jira_client owns its transport (struct http) and borrows the
 * auth method.  All functions are thread-safe and bounded by the deadline
 * they are given; idempotent reads are retried on transient failures
 * (timeouts, dropped connections, 429, 5xx, HTML pages) with exponential
 * backoff and jitter, honouring Retry-After, but never past the deadline.
 *
 * Returned memory belongs to the caller (free functions named beside each
 * call).  struct jira_error (may be NULL) receives the detail of a failure.
 *
 * client.c holds the client, its options and requests; search.c the search
 * paging and jira_issue_get; jql.c the JQL builders.
 */
#ifndef JIRAFS_JIRA_CLIENT_H
#define JIRAFS_JIRA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "jira/http.h"
#include "jira/issue.h"
#include "jira/status.h"
#include "util/clock.h"

/* Options of the jira module (-o timeout=, cacert=, insecure,
 * max_connections=, debug, proxy=, connect_to=, tunnel=, ssh_command=),
 * filled by jira_opt_parse(). */
struct jira_config {
	char *url;            /* the positional URL, set by main */
	unsigned timeout_s;   /* timeout=, default 30 */
	char *cacert;         /* cacert= */
	int insecure;         /* insecure */
	unsigned max_connections; /* max_connections=, default 8 */
	int debug;            /* debug / -d (also kept for libfuse) */
	char *proxy;          /* proxy= (http://, https://, socks5h://) */
	char *connect_to;     /* connect_to=HOST:PORT:HOST2:PORT2[;...] */
	char *tunnel;         /* tunnel=ssh://[user@]host[:port] */
	char *ssh_command;    /* ssh_command= */
};

#define JIRA_DEFAULT_TIMEOUT_S 30
#define JIRA_DEFAULT_MAX_CONNECTIONS 8
#define JIRA_TIMEOUT_MAX_S 3600         /* timeout= accepts 1..this */
#define JIRA_MAX_CONNECTIONS_MAX 64     /* max_connections= accepts 1..this */

/* Take this module's options out of args (debug stays for libfuse too).
 * Defaults are filled in.  0 or -1. */
struct fuse_args; /* <fuse_opt.h> */
int jira_opt_parse(struct fuse_args *args, struct jira_config *cfg);
void jira_config_release(struct jira_config *cfg);
void jira_opt_help(void);

/* Check the URL: http:// or https://, a host, no query or fragment.  0, or
 * -EINVAL with the reason in errbuf. */
int jira_url_check(const char *url, char *errbuf, size_t errsize);

struct jira_client;

/* A client; with tunnel= it starts the ssh tunnel (requests wait for it
 * while it starts, bounded by their deadlines), stopped by
 * jira_client_free.  0 or -errno (the reason is logged). */
int jira_client_new(const struct jira_config *cfg, struct auth *auth,
		    struct jira_client **out);
void jira_client_free(struct jira_client *c);

/* The name of the auth method requests are signed with ("pat", "basic",
 * "oauth1", "oauth2"), or "none"; a string literal.  For .jirafs/status,
 * without reaching into auth/. */
const char *jira_client_auth_name(const struct jira_client *c);
/* Browse URL of a ticket ("https://jira/browse/SEC-12"), malloc'd. */
char *jira_browse_url(const struct jira_client *c, const char *key);
void jira_client_counters(const struct jira_client *c,
			  struct http_counters *out);
/* The ssh tunnel's state, false when there is none. */
struct tunnel_state;
bool jira_client_tunnel(const struct jira_client *c, struct tunnel_state *out);
/* Cancel every request, now and later (the mount is ending). */
void jira_client_cancel(struct jira_client *c);

/*
 * Send a request whose answer should be JSON (body: JSON text or NULL);
 * retry transient failures when `idempotent`.  *out receives the parsed
 * answer, NULL for an empty one (a 204).
 */
enum jira_status jira_request_json(struct jira_client *c, const char *method,
				   const char *path, const char *body,
				   deadline_t deadline, bool idempotent,
				   cJSON **out, struct jira_error *err);

/* GET path and parse a JSON answer (retried when transient).  *out is a
 * cJSON tree to free with cJSON_Delete. */
enum jira_status jira_get_json(struct jira_client *c, const char *path,
			       deadline_t deadline, cJSON **out,
			       struct jira_error *err);

/* Every "values" of a paged resource (createmeta's: startAt, maxResults,
 * isLast), GETting page after page of `path` (no query of its own), as
 * one array to free with cJSON_Delete. */
enum jira_status jira_get_values(struct jira_client *c, const char *path,
				 deadline_t deadline, cJSON **out,
				 struct jira_error *err);

/* Who am I: /rest/api/2/myself.  *name is malloc'd. */
enum jira_status jira_myself(struct jira_client *c, deadline_t deadline,
			     char **name, struct jira_error *err);

/* /rest/api/2/serverInfo: version ("10.3.0") and deploymentType, asked
 * without credentials (Jira answers it to anyone). */
enum jira_status jira_server_info(struct jira_client *c, deadline_t deadline,
				  char **version, char **deployment,
				  struct jira_error *err);

struct jira_project {
	char *key;
	char *name;
};
/* Every project the account can browse, sorted by key. */
enum jira_status jira_projects(struct jira_client *c, deadline_t deadline,
			       struct jira_project **out, size_t *n,
			       struct jira_error *err);
void jira_projects_free(struct jira_project *p, size_t n);

/* Statistics of one search, for logs and tests. */
struct jira_search_stats {
	unsigned pages;      /* requests that succeeded */
	unsigned page_size;  /* granted by the server */
	unsigned total;      /* Jira's total */
	unsigned skipped;    /* beans without a usable key */
	unsigned reused;     /* tickets the caller held in that version */
};

/* A ticket the caller already holds for this key in this version (Jira's
 * "updated" string), with a new reference, or NULL.  Called from several
 * threads at once. */
typedef struct jira_issue *(*jira_reuse_fn)(void *ctx, const char *key,
					    const char *updated);

/*
 * Run a JQL search and fetch every page: the first page tells the page size
 * the server grants and the total; the other pages are fetched in parallel
 * (up to max_connections at once).  Each bean becomes a struct jira_issue
 * (ticket file rendered), in the search's order.  *issues is a malloc'd
 * array of references (free with jira_issues_free).  `lenient` asks Jira to
 * warn rather than fail about values that do not exist (validateQuery
 * "warn"), for key lists that may name deleted tickets.
 */
enum jira_status jira_search(struct jira_client *c, const char *jql,
			     bool lenient, deadline_t deadline,
			     struct jira_issue ***issues, size_t *n,
			     struct jira_search_stats *stats,
			     struct jira_error *err);
/* What a caller of jira_search_with() hooks into the search (each may be
 * NULL): `reuse` gives a ticket held in the version found instead of one
 * rendered again; `page` is given each page's tickets as soon as that page
 * is read, in whatever order the pages come, for a caller that shows them
 * while the others download (the references are lent: take one to keep a
 * ticket).  Both are called from several threads at once. */
struct jira_search_hooks {
	jira_reuse_fn reuse;
	void (*page)(void *ctx, struct jira_issue *const *issues, size_t n);
	void *ctx;
};
/* jira_search() with hooks. */
enum jira_status jira_search_with(struct jira_client *c, const char *jql,
				  bool lenient,
				  const struct jira_search_hooks *hooks,
				  deadline_t deadline,
				  struct jira_issue ***issues, size_t *n,
				  struct jira_search_stats *stats,
				  struct jira_error *err);
void jira_issues_free(struct jira_issue **issues, size_t n);

/* How many issues a JQL query matches (one request, no issues). */
enum jira_status jira_search_total(struct jira_client *c, const char *jql,
				   deadline_t deadline, unsigned *total,
				   struct jira_error *err);

/* One ticket by key, with every field the ticket file shows. */
enum jira_status jira_issue_get(struct jira_client *c, const char *key,
				deadline_t deadline, struct jira_issue **out,
				struct jira_error *err);

/* The fields requested for ticket files (search and GET). */
#define JIRA_ISSUE_FIELDS "*all,-lastViewed"

/*
 * JQL building.  jql_quote() appends s as a JQL string literal;
 * jql_project_all() is the query that lists a project, oldest key first.
 * Return malloc'd strings (NULL when out of memory).
 */
char *jql_quote(const char *s);
char *jql_project_all(const char *project_key);
/* project = "KEY" (for jira_search_total) */
char *jql_project_count(const char *project_key);
/* the tickets of a project updated in the last `minutes` minutes, as the
 * server's clock counts them (a relative date: no time zone to agree on) */
char *jql_project_updated(const char *project_key, unsigned minutes);
/* key in ("A-1", "A-2") ORDER BY key ASC */
char *jql_keys(const char *const *keys, size_t n);

#endif
