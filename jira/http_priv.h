/*
 * http_priv.h - what http.c and http_reply.c share: the answer as the
 * libcurl callbacks collect it, and what one curl_easy_perform() did with
 * the request.  Not for other files.
 */
#ifndef JIRAFS_JIRA_HTTP_PRIV_H
#define JIRAFS_JIRA_HTTP_PRIV_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

/* What the header callback collects. */
struct reply {
	CURL *curl;        /* the handle, for the answer's Content-Length */
	bool sized;        /* the body's buffer was sized from it */
	struct strbuf body;
	char content_type[128];
	char ausername[64];
	char login_reason[128];
	char denied_reason[256];
	int retry_after_s;
	struct http_sink *sink; /* the request's, or NULL */
	bool sinking;      /* the answer is a 2xx going to sink */
	bool sink_decided;
};

/* What one curl_easy_perform() did with the request.  libcurl sends a
 * request again on a new connection, on its own, when a kept connection
 * closes before a byte of the answer arrives; a write may have reached
 * Jira by then.  on_prereq (called before each sending) counts the
 * sendings and stops a write's second one: its outcome is then unknown,
 * which the outbox resolves by looking before it sends again. */
struct attempt {
	bool write;   /* not HTTP_IDEMPOTENT */
	int sends;    /* times the request was about to leave */
	bool resent;  /* a write's second sending was stopped */
};

/* libcurl callbacks: CURLOPT_HEADERFUNCTION, CURLOPT_WRITEFUNCTION (user:
 * a struct reply), CURLOPT_DEBUGFUNCTION (headers only, secrets
 * redacted), CURLOPT_PREREQFUNCTION (user: a struct attempt). */
size_t http_on_header(char *data, size_t size, size_t n, void *user);
size_t http_on_body(char *data, size_t size, size_t n, void *user);
int http_on_debug(CURL *c, curl_infotype type, char *data, size_t size,
		  void *user);
int http_on_prereq(void *user, char *conn_primary_ip, char *conn_local_ip,
		   int conn_primary_port, int conn_local_port);

/* Empty r for another try (keeps r->curl). */
void http_reply_reset(struct reply *r);

/* The thread's kept receive buffer (http_keep_buffer): buf (malloc'd, cap
 * bytes) kept when keeping is on and none is, else freed. */
void http_buffer_drop(char *buf, size_t cap);

#endif
