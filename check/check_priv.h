/*
 * check_priv.h - what the parts of `jirafs check` share: the checklist
 * being written and what its checks read.  Single-threaded.
 */
#ifndef JIRAFS_CHECK_CHECK_PRIV_H
#define JIRAFS_CHECK_CHECK_PRIV_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/clock.h"

struct auth_config;
struct fs_config;
struct jira_client;
struct jira_config;
struct jira_write_config;

enum check_mark { CHECK_OK, CHECK_FAIL, CHECK_WARN };

struct check {
	cJSON *list;  /* the checks, for --json */
	bool json;
	unsigned failed, warned;

	const struct jira_config *jcfg;
	const struct fs_config *fcfg;
	const struct jira_write_config *wcfg;
	const struct auth_config *acfg;
	struct jira_client *c;
	const char *method;    /* auth_name() */
	bool cleartext;        /* the method's secret would cross http://
				  (without allow_http): not sent */
	const char *state_dir;
	char *user;            /* who Jira says the account is, malloc'd */
	int64_t oauth2_before; /* the OAuth 2.0 access token's expiry before
				  the first request (which renews it) */
};

/* One line of the checklist: ✓ / ✗ / ! what: detail, and for ✗ and ! the
 * fix in one sentence (may be NULL for ✓). */
void check_say(struct check *ck, enum check_mark m, const char *what,
	       const char *detail, const char *fix);

/* A deadline of timeout= from now. */
deadline_t check_deadline(const struct check *ck);

/* net.c: the way to the site before any HTTP: name resolution and TCP to
 * the first hop (the host, its connect_to= target or the proxy); with
 * tunnel= the tunnel instead.  False when the site cannot be reached. */
bool check_network(struct check *ck);
/* net.c: the server's certificate (subject, issuer, expiry) and, when
 * the TLS connection failed with e (NULL: it did not), whether cacert=
 * would help.  Reports the TLS line. */
struct jira_error;
void check_tls(struct check *ck, const struct jira_error *e);
/* net.c: the tunnel's state after a first request went through it. */
void check_tunnel(struct check *ck);

/* site.c: serverInfo (reachability, the version and deployment, the auth
 * method against the version), then who the account is and its tokens'
 * expiry.  False when nothing further can be asked. */
bool check_site(struct check *ck);
bool check_account(struct check *ck);

/* project.c: per project (projects= or every browsable one) the
 * permissions, the create screen, the done transition, and the named
 * close_transition= / resolution= / default_issuetype=. */
void check_projects(struct check *ck);

#endif
