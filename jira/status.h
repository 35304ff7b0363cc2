/*
 * status.h - what became of a request to Jira, classified once.
 *
 * Every call into jira/ returns one of these.  jira_classify() is the one
 * place where a curl result, an HTTP status and a response body become a
 * status; fs/errmap.c is the one place where a status becomes an errno.
 *
 * struct jira_error carries the detail a user needs: Jira's own
 * errorMessages/errors verbatim for a refusal, curl's words for a transport
 * failure.  It is plain data, owned by the caller (usually on the stack).
 */
#ifndef JIRAFS_JIRA_STATUS_H
#define JIRAFS_JIRA_STATUS_H

#include <stdbool.h>
#include <stddef.h>

enum jira_status {
	JIRA_OK = 0,
	JIRA_ERR_BAD_REQUEST,  /* 400: Jira refused the content */
	JIRA_ERR_AUTH,         /* 401, or a request answered as anonymous */
	JIRA_ERR_FORBIDDEN,    /* 403 */
	JIRA_ERR_NOT_FOUND,    /* 404 */
	JIRA_ERR_CONFLICT,     /* 409 */
	JIRA_ERR_TOO_LARGE,    /* 413 */
	JIRA_ERR_RATE_LIMITED, /* 429 */
	JIRA_ERR_SERVER,       /* 5xx, other unexpected statuses */
	JIRA_ERR_BAD_RESPONSE, /* not the JSON expected (an HTML error page,
				  a truncated body): may pass */
	JIRA_ERR_PROTOCOL,     /* an answer no retry can fix: a redirect, a
				  body over the size limit */
	JIRA_ERR_TIMEOUT,      /* the deadline passed */
	JIRA_ERR_UNREACHABLE,  /* DNS, refused, reset, dropped connection */
	JIRA_ERR_TLS,          /* certificate or handshake failure */
	JIRA_ERR_CAPTCHA,      /* Jira demands a CAPTCHA (Basic auth locked) */
	JIRA_ERR_AUTH_DISABLED,/* the method is switched off by the admin */
	JIRA_ERR_NOMEM,
	JIRA_ERR_INTERNAL,     /* a bug or an impossible local condition */
	JIRA_ERR_LOOKUP,       /* looking for an earlier try's effect failed:
				  the operation is neither applied nor
				  refused (retried) */
};

#define JIRA_ERROR_MSG_MAX 1024

struct jira_error {
	enum jira_status status;
	long http_status;          /* 0 when no HTTP answer arrived */
	int retry_after_s;         /* Retry-After of a 429/503, else -1 */
	int curl_code;             /* CURLcode of a transport failure, else 0 */
	char msg[JIRA_ERROR_MSG_MAX]; /* one line, for logs and xattrs */
};

/* A short lowercase name ("timeout", "not found"), for logs and status. */
const char *jira_status_name(enum jira_status st);

/* True for failures worth retrying later: timeouts, unreachable, 429, 5xx,
 * HTML/garbled answers. */
bool jira_status_transient(enum jira_status st);

/* True for credential problems, which no retry fixes until the user acts:
 * not authenticated, forbidden, a CAPTCHA demanded, the method disabled. */
bool jira_status_auth(enum jira_status st);

/* Inputs of the classification, filled by the transport. */
struct jira_answer {
	int curl_code;          /* CURLcode; 0 = an HTTP answer arrived */
	const char *curl_msg;   /* curl's error text, may be NULL */
	long http_status;
	const char *content_type; /* may be NULL */
	const char *body;       /* may be NULL */
	size_t body_len;
	bool anonymous;         /* X-AUSERNAME: anonymous on a request that
				   carried credentials */
	const char *login_reason; /* X-Seraph-LoginReason, may be NULL */
	const char *denied_reason; /* X-Authentication-Denied-Reason */
	int retry_after_s;      /* parsed Retry-After, -1 if absent */
	bool deadline_passed;   /* curl stopped because our deadline hit */
};

/* Classify an answer and fill err (which may be NULL).  For an HTTP error
 * with a JSON body, err->msg holds Jira's errorMessages and errors joined
 * verbatim; for an HTML body, its <title> or first text. */
enum jira_status jira_classify(const struct jira_answer *a,
			       struct jira_error *err);

/* After a request that changes Jira failed: may it have been applied all
 * the same?  Only an answer that proves it was not says no: a connection
 * that could not be made (nothing was sent), a 4xx to the request itself,
 * a 429.  A timeout, a dropped connection, any 5xx (a proxy in front of
 * Jira answers 502/503/504 after Jira may have committed), an HTML page or
 * an unreadable answer say "maybe". */
bool jira_outcome_unknown(const struct jira_error *err);
/* A transport failure (CURLcode) that comes before a byte of a request
 * leaves: no name, no connection, or no TLS handshake. */
bool jira_curl_never_sent(int curl_code);

/* Set err to st with a printf-style message. */
enum jira_status jira_error_set(struct jira_error *err, enum jira_status st,
				const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill buf with Jira's messages from an ErrorCollection JSON body.  Returns
 * true if the body held any. */
bool jira_error_messages(const char *body, size_t len, char *buf,
			 size_t size);

#endif
