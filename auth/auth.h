/*
 * auth.h - the authentication methods, behind one interface.
 *
 * A method decorates each outgoing request with the headers that
 * authenticate it, and may refresh its credentials once after a 401.  The
 * transport (jira/http.c) calls it; nothing here knows about tickets,
 * projects or FUSE.
 *
 * Methods: "pat" (Personal Access Token, Authorization: Bearer), "basic"
 * (user and password), "oauth1" (OAuth 1.0a, RSA-SHA1 signatures, see
 * oauth1.h) and "oauth2" (bearer tokens renewed with rotating refresh
 * tokens, see oauth2.h).
 *
 * Secrets come only from files (owned by the user, not readable by group
 * or others, as ssh demands of keys) or environment variables; they never
 * go to logs.  A struct auth owns its secrets and wipes them when freed.
 *
 * Thread-safety: decorate() may be called from many threads at once;
 * refresh() serializes itself.
 */
#ifndef JIRAFS_AUTH_AUTH_H
#define JIRAFS_AUTH_AUTH_H

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a method may look at to sign a request (OAuth 1.0a signs the method,
 * the URL with its query, and form bodies). */
struct auth_request {
	const char *method;       /* "GET", "POST", ... */
	const char *url;          /* absolute, query included */
	const char *content_type; /* of the body, NULL when none */
	const char *body;
	size_t body_len;
};

struct auth;

/* How a method reaches Jira itself (OAuth 2.0 renewals): the transport
 * lends itself, so that the mount's TLS settings, proxy and tunnel apply.
 * post_form POSTs an application/x-www-form-urlencoded body to path
 * (relative to the base URL), undecorated, and returns the HTTP status;
 * *answer receives the body (malloc'd).  It returns 0 when no answer
 * arrived, with the transport's one-line reason in why. */
struct auth_transport {
	long (*post_form)(void *ctx, const char *path, const char *form,
			  int64_t deadline_ms, char **answer, char *why,
			  size_t whysize);
	void *ctx;
};

struct auth_ops {
	const char *name;
	/* Append the authenticating headers to *headers.  0 or -errno. */
	int (*decorate)(struct auth *a, const struct auth_request *req,
			struct curl_slist **headers);
	/* Before a request is sent: renew credentials about to expire.
	 * NULL when there is nothing to renew.  0 or -errno. */
	int (*prepare)(struct auth *a, int64_t deadline_ms);
	/* Called once after a 401.  Return 0 when new credentials are in
	 * place and the request should be sent again, or -EACCES.  May use
	 * the network, bounded by deadline_ms (CLOCK_MONOTONIC ms).  NULL for
	 * methods that cannot refresh. */
	int (*refresh)(struct auth *a, int64_t deadline_ms);
	void (*free)(struct auth *a);
};

struct auth {
	const struct auth_ops *ops;
	/* true when the method's secret would travel readable over plain
	 * http:// (Basic); the caller refuses such a mount unless allowed. */
	bool needs_tls;
	/* set by the transport that uses the method */
	struct auth_transport transport;
};

/* Options of the auth module, filled from the shared fuse_args by
 * auth_opt_parse(); strings are malloc'd, freed by auth_config_release(). */
struct auth_config {
	char *method;     /* auth=, default "pat" */
	char *token_file; /* token_file= */
	char *user;       /* user= (basic) */
	char *password_file; /* password_file= (basic) */
	int allow_http;   /* allow_http (basic over http://) */
	char *consumer_key;  /* consumer_key= (oauth1) */
	char *private_key;   /* private_key= (oauth1), default in state_dir */
	char *client_id;     /* client_id= (oauth2) */
	char *client_secret_file; /* client_secret_file= (oauth2) */
	char *redirect_uri;  /* redirect_uri= (oauth2-login) */
};

/* Take this module's options out of args.  0, or -1 on a malformed option
 * (a message was logged). */
struct fuse_args; /* <fuse_opt.h> */
int auth_opt_parse(struct fuse_args *args, struct auth_config *cfg);
void auth_config_release(struct auth_config *cfg);
/* One help paragraph per option, for --help. */
void auth_opt_help(void);

/*
 * Build the configured method; OAuth credentials are read from state_dir.
 * On failure returns -errno and writes one line saying what to fix into
 * errbuf (e.g. "token file ~/.t is readable by others; run chmod 600
 * ~/.t").
 */
int auth_new(const struct auth_config *cfg, const char *state_dir,
	     struct auth **out, char *errbuf, size_t errsize);

static inline int auth_prepare(struct auth *a, int64_t deadline_ms)
{
	return a->ops->prepare ? a->ops->prepare(a, deadline_ms) : 0;
}

static inline int auth_decorate(struct auth *a, const struct auth_request *r,
				struct curl_slist **headers)
{
	return a->ops->decorate(a, r, headers);
}

static inline int auth_refresh(struct auth *a, int64_t deadline_ms)
{
	return a->ops->refresh ? a->ops->refresh(a, deadline_ms) : -EACCES;
}

static inline const char *auth_name(const struct auth *a)
{
	return a->ops->name;
}

void auth_free(struct auth *a);

/*
 * Read a secret from a file, refusing files that group or others can read
 * or that another user owns (errbuf says how to fix it).  Trailing
 * whitespace is removed.  On success *out is a malloc'd string to be wiped
 * with auth_secret_free().
 */
int auth_read_secret_file(const char *path, char **out, char *errbuf,
			  size_t errsize);
void auth_secret_free(char *secret);

#endif
