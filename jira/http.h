/*
 * http.h - the transport: a pool of keep-alive connections to one Jira.
 *
 * struct http owns up to max_connections curl easy handles, created lazily
 * and lent to one request at a time; each keeps its connection open between
 * requests.  DNS results and TLS sessions are shared among them (CURLSH).
 * Any number of threads may call http_request() at once; a caller waits for
 * a free handle no longer than its deadline.
 *
 * Every request is bounded by its deadline (connect, transfer and waiting
 * for a handle), authenticated by the struct auth given at creation (which
 * the pool borrows, not owns, and lends itself to as its auth_transport),
 * and classified by jira_classify().  With
 * debug on, request and response headers are logged with Authorization,
 * Cookie and Set-Cookie values redacted; bodies are never logged.
 */
#ifndef JIRAFS_JIRA_HTTP_H
#define JIRAFS_JIRA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth/auth.h"
#include "jira/tunnel.h"
#include "jira/status.h"
#include "util/clock.h"

/* Largest answer accepted; a longer one fails as JIRA_ERR_BAD_RESPONSE. */
#define HTTP_MAX_BODY (256u << 20)

struct http_config {
	const char *base_url;     /* "https://jira.example.com[/context]" */
	const char *cacert;       /* CA bundle file, NULL = system store */
	bool insecure;            /* no certificate verification */
	unsigned max_connections; /* >= 1 */
	bool debug;               /* header traces through the log */
	const char *proxy;        /* proxy URL, or NULL */
	const char *connect_to;   /* "H:P:H2:P2[;...]", or NULL */
	struct tunnel *tunnel;    /* borrowed: its SOCKS proxy, or NULL */
};

struct http;

/* 0, or -errno (bad URL, out of memory). */
int http_new(const struct http_config *cfg, struct auth *auth,
	     struct http **out);
void http_free(struct http *h);

struct http_response {
	long status;
	char *body;          /* NUL-terminated, malloc'd; NULL if empty */
	size_t len;
	size_t cap;          /* bytes allocated at body (0: unknown) */
	char content_type[128];
};

void http_response_release(struct http_response *r);

/*
 * Keep this thread's receive buffer from one answer to the next: while
 * keep is on, http_response_release() keeps the buffer of a large answer
 * (at least HTTP_KEEP_MIN bytes) for the thread's next answer, which is
 * read into it rather than into a new allocation whose pages would all be
 * faulted in again (a search page is 5 MB).  For a thread that fetches
 * many pages one after another; off frees what is kept, and must be said
 * before the thread ends.  Per thread.
 */
#define HTTP_KEEP_MIN (256u << 10)
void http_keep_buffer(bool keep);

/* One request. */
enum {
	HTTP_IDEMPOTENT = 1, /* may be retried; may use a kept connection */
	HTTP_NO_AUTH = 2,    /* not decorated by the auth method */
};
struct http_req {
	const char *method;       /* "GET", "POST", "PUT", "DELETE" */
	const char *path;         /* relative to the base URL, query included */
	const char *content_type; /* of body; NULL: application/json */
	const char *body;         /* NULL: none */
	size_t body_len;
	int flags;
	const char *header;       /* one more header line, or NULL */
	/* the body continues with the bytes of a file, then a tail (an
	 * upload: a multipart head in body, the file, the closing
	 * boundary), read as they are sent, never whole in memory */
	const struct http_file_body *file;
	/* a 2xx answer's body goes to a file rather than to memory (a
	 * download); any other answer is read as usual */
	struct http_sink *sink;
};
struct http_file_body {
	int fd;
	off_t len;         /* bytes of fd from offset 0 */
	const char *tail;
	size_t tail_len;
};
struct http_sink {
	int fd;            /* written from offset 0, truncated on a retry */
	off_t written;     /* out: the bytes written */
	int error;         /* out: errno of a failed write, else 0 */
};

/*
 * Send one request.  Credentials about to expire are renewed first, and on
 * a 401 the auth method may renew them once and the request is sent again;
 * neither holds a connection while it renews.  Every request goes out on a
 * kept connection when there is one.  libcurl would send a request again
 * on its own when such a connection closes before answering; for one that
 * is not HTTP_IDEMPOTENT that second sending is stopped and the request
 * fails as JIRA_ERR_UNREACHABLE whose outcome is unknown
 * (jira_outcome_unknown), so it is never sent twice without a look first.
 *
 * Returns the classification; *resp holds whatever arrived (release it in
 * every case).  err (may be NULL) receives the detail.
 */
enum jira_status http_request(struct http *h, const struct http_req *req,
			      deadline_t deadline, struct http_response *resp,
			      struct jira_error *err);

/* POST an application/x-www-form-urlencoded body to path, without the
 * auth method (an OAuth 2.0 token endpoint).  Returns the HTTP status with
 * the answer's body in *answer (malloc'd, may be NULL), or 0 when no
 * answer came, with the reason in err. */
long http_post_form(struct http *h, const char *path, const char *form,
		    deadline_t deadline, char **answer,
		    struct jira_error *err);

/* Counters since creation; read without locking (approximate). */
struct http_counters {
	uint64_t requests;   /* sent */
	uint64_t failures;   /* transport failures and 5xx */
	uint64_t retries;    /* incremented by callers via http_count_retry */
	uint64_t bytes_in;
	uint64_t resends;    /* writes whose second sending was stopped */
	int64_t last_ok_ms;      /* wall clock of the last answer, 0 = never */
	int64_t last_failure_ms; /* wall clock of the last transport failure */
};
void http_counters(const struct http *h, struct http_counters *out);
void http_count_retry(struct http *h);

const char *http_base_url(const struct http *h);

/* Cancel every transfer and wait, now and from now on: they fail at once
 * as timeouts.  For the end of the mount.  Thread-safe. */
void http_cancel(struct http *h);

/* Sleep ms, but no later than deadline and no longer than until
 * http_cancel().  False when cancelled. */
bool http_sleep(struct http *h, int64_t ms, deadline_t deadline);

#endif
