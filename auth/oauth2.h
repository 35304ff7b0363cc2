/*
 * oauth2.h - OAuth 2.0 for Jira DC 9+ incoming application links.
 *
 * `jirafs auth oauth2-login` runs the authorization-code flow with PKCE
 * (S256, RFC 7636) and stores the tokens in the state directory
 * (oauth2.json, mode 0600).  The mounted method sends the access token as
 * "Authorization: Bearer", renews it shortly before it expires and once
 * after a 401, one renewal at a time however many threads need it.  Jira
 * invalidates a refresh token when it is used, so the rotated one is
 * written to disk (write, fsync, rename) before the new access token is
 * used.  Token requests go through the mount's transport (the same TLS
 * settings, proxy and tunnel) via struct auth_transport.
 *
 * Thread-safety: one mutex guards the tokens; a renewal happens without it
 * held, others wait on a condition variable, bounded by their deadline.
 */
#ifndef JIRAFS_AUTH_OAUTH2_H
#define JIRAFS_AUTH_OAUTH2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"

#define OAUTH2_TOKEN_PATH "/rest/oauth2/latest/token"
#define OAUTH2_AUTHORIZE_PATH "/rest/oauth2/latest/authorize"

/* base64url without padding. malloc'd. */
char *oauth2_base64url(const unsigned char *data, size_t len);

/* PKCE S256: the challenge of a verifier, BASE64URL(SHA256(verifier)).
 * malloc'd. */
char *oauth2_pkce_challenge(const char *verifier);
/* A new random verifier of 43 characters. malloc'd. */
char *oauth2_pkce_verifier(void);

struct oauth2_tokens {
	char *access;
	char *refresh;
	char *scope;
	int64_t expires_at_ms; /* wall clock; 0 = unknown */
	int64_t lifetime_ms;   /* as granted (expires_in); 0 = unknown */
};
void oauth2_tokens_release(struct oauth2_tokens *t);

/* A token endpoint's JSON answer.  0, or -EINVAL with Jira's error in
 * why. */
int oauth2_tokens_parse(const char *json, struct oauth2_tokens *t, char *why,
			size_t whysize);
/* The tokens file of a state directory. malloc'd. */
char *oauth2_tokens_path(const char *state_dir);
/* Store (atomically, 0600) and load the tokens of client_id. */
int oauth2_tokens_save(const char *path, const char *client_id,
		       const struct oauth2_tokens *t);
int oauth2_tokens_load(const char *path, const char *client_id,
		       struct oauth2_tokens *t, char *errbuf, size_t errsize);

/* The client secret: client_secret_file= (0600), else
 * $JIRAFS_CLIENT_SECRET.  malloc'd (auth_secret_free). */
int oauth2_client_secret(const struct auth_config *cfg, char **out,
			 char *errbuf, size_t errsize);

/* A form body for the token endpoint: pairs of name, value (NULL values
 * are left out), percent-encoded.  malloc'd. */
char *oauth2_form(const char *const *pairs, size_t npairs);

#endif
