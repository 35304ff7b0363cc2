/*
 * login.h - the interactive logins of `jirafs auth` (CONTRACT §5).
 *
 *   oauth1-login  request token (signed by the consumer) -> the authorize
 *                 URL, printed alone on a line -> the verifier, read from
 *                 `in` -> access token and secret, stored in
 *                 STATE_DIR/oauth1.json (0600).
 *   oauth2-login  the authorization-code flow with PKCE S256: the
 *                 authorize URL, printed alone on a line -> the redirect,
 *                 caught on a loopback listener when redirect_uri is a
 *                 loopback address, or the redirected URL pasted on `in`
 *                 -> the tokens, stored in STATE_DIR/oauth2.json (0600).
 *
 * Both talk to Jira through the transport (jira/http.h), so cacert=,
 * insecure and the timeout apply.  They return 0, or -errno with one line
 * in errbuf saying what went wrong.
 */
#ifndef JIRAFS_JIRA_LOGIN_H
#define JIRAFS_JIRA_LOGIN_H

#include <stdio.h>

#include "auth/auth.h"
#include "jira/client.h"

int jira_oauth1_login(const struct jira_config *jc,
		      const struct auth_config *ac, const char *state_dir,
		      FILE *in, FILE *out, char *errbuf, size_t errsize);

int jira_oauth2_login(const struct jira_config *jc,
		      const struct auth_config *ac, const char *state_dir,
		      FILE *in, FILE *out, char *errbuf, size_t errsize);

/* The value of `name` in a query string or a URL with one ("a=1&b=2",
 * "https://x/cb?code=..&state=.."), decoded; malloc'd or NULL. */
char *login_query_value(const char *query_or_url, const char *name);

#endif
