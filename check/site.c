/*
 * site.c - the site and the account: serverInfo (anonymous allowed) for
 * reachability, the version and the deployment, then /myself for who the
 * account is, and the OAuth 2.0 tokens' expiry.  See check_priv.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "auth/oauth2.h"
#include "check/check_priv.h"
#include "jira/client.h"
#include "util/clock.h"

/* "10.3.4" -> 10003004 */
static long version_number(const char *v)
{
	unsigned a = 0, b = 0, c = 0;
	if (!v || sscanf(v, "%u.%u.%u", &a, &b, &c) < 1)
		return -1;
	return (long)a * 1000000 + (long)b * 1000 + c;
}

static void version_lines(struct check *ck, const char *version,
			  const char *deployment, bool *cloud)
{
	char buf[600];
	snprintf(buf, sizeof(buf), "Jira %s %s", version ? version : "?",
		 deployment ? deployment : "");
	*cloud = deployment && strcmp(deployment, "Cloud") == 0;
	/* the per-project createmeta jirafs creates with came with 8.4
	 * (pycontribs/jira#840, quoting Atlassian's "createmeta REST endpoint
	 * to be removed") */
	long have = version_number(version);
	bool old = have >= 0 && have < 8004000;
	check_say(ck, *cloud || old ? CHECK_FAIL : CHECK_OK, "version", buf,
		  *cloud ? "jirafs works with Jira Server and Data Center, "
			   "not Jira Cloud"
		  : old ? "jirafs needs Jira 8.4 or later (it creates tickets "
			  "through the per-project createmeta of 8.4): upgrade "
			  "Jira"
			: NULL);

	/* Personal Access Tokens came with Jira 8.14 (Atlassian, "Using
	 * personal access tokens"; pycontribs/jira#993), incoming OAuth 2.0
	 * application links with 8.22 (the Jira 8.22 release notes, as
	 * matrix-org/matrix-hookshot#225 cites them) */
	const char *m = ck->method;
	long n = have;
	long need = strcmp(m, "pat") == 0      ? 8014000
		    : strcmp(m, "oauth2") == 0 ? 8022000
					       : 0;
	if (need && n >= 0 && n < need) {
		snprintf(buf, sizeof(buf), "auth=%s needs Jira %s or later, "
					   "this is %s",
			 m, need == 8014000 ? "8.14" : "8.22", version);
		check_say(ck, CHECK_FAIL, "auth method", buf,
			  "use auth=basic or auth=oauth1 (an application "
			  "link), or upgrade Jira");
		return;
	}
	if (ck->cleartext)
		return; /* refused all the same: check.c says why */
	snprintf(buf, sizeof(buf), "auth=%s is offered by this version", m);
	check_say(ck, CHECK_OK, "auth method", buf, NULL);
}

static int64_t oauth2_expiry(const struct check *ck);

bool check_site(struct check *ck)
{
	const struct jira_config *j = ck->jcfg;
	char *version = NULL, *deployment = NULL, buf[1400];
	struct jira_error err = { 0 };
	/* before the first request: it renews an expired access token */
	ck->oauth2_before =
		strcmp(ck->method, "oauth2") == 0 ? oauth2_expiry(ck) : -1;
	enum jira_status st = jira_server_info(ck->c, check_deadline(ck),
					       &version, &deployment, &err);
	bool https = strncmp(j->url, "https://", 8) == 0;
	bool go_on = true;

	check_tunnel(ck);
	switch (st) {
	case JIRA_OK:
		break;
	case JIRA_ERR_AUTH:
	case JIRA_ERR_AUTH_DISABLED:
	case JIRA_ERR_CAPTCHA:
	case JIRA_ERR_FORBIDDEN:
		/* serverInfo is asked anonymously; a site (or a gateway in
		 * front of it) that refuses that still answered */
		if (https)
			check_tls(ck, NULL);
		snprintf(buf, sizeof(buf), "%s answers (the version is not "
					   "shown anonymously: %s)",
			 j->url, err.msg);
		check_say(ck, CHECK_OK, "Jira", buf, NULL);
		return true;
	case JIRA_ERR_SERVER:
	case JIRA_ERR_RATE_LIMITED:
		snprintf(buf, sizeof(buf), "%s answers, but with an error: %s",
			 j->url, err.msg);
		check_say(ck, CHECK_FAIL, "Jira", buf,
			  "Jira is down, starting or in maintenance (or limits "
			  "this client's rate): check again later");
		return false;
	case JIRA_ERR_TLS:
		check_tls(ck, &err);
		return false;
	case JIRA_ERR_TIMEOUT:
		snprintf(buf, sizeof(buf), "no answer within %u s", j->timeout_s);
		check_say(ck, CHECK_FAIL, "Jira", buf,
			  "check the URL, the network path (proxy=, tunnel=, "
			  "connect_to=) and that Jira is up");
		return false;
	case JIRA_ERR_UNREACHABLE:
		check_say(ck, CHECK_FAIL, "Jira", err.msg,
			  j->tunnel ? "the jump host could not open the way to "
				      "the URL's host: check that its sshd "
				      "allows forwarding (AllowTcpForwarding) "
				      "and that it reaches that host and port"
				    : "check the host name and port in the URL "
				      "and the network path (proxy=, tunnel=, "
				      "connect_to=)");
		return false;
	default:
		snprintf(buf, sizeof(buf), "%s does not answer like Jira "
					   "(%s): %s",
			 j->url, jira_status_name(st), err.msg);
		check_say(ck, CHECK_FAIL, "Jira", buf,
			  "give the base URL of the Jira site (the address its "
			  "web interface has, without /secure or /browse)");
		return false;
	}
	if (https)
		check_tls(ck, NULL);
	snprintf(buf, sizeof(buf), "%s answers%s", j->url,
		 !https	       ? " (http://, unencrypted)"
		 : j->insecure ? " over TLS (not verified: insecure)"
			       : " over verified TLS");
	check_say(ck, https ? CHECK_OK : CHECK_WARN, "Jira", buf,
		  https ? NULL : "use https:// where the site offers it");
	bool cloud;
	version_lines(ck, version, deployment, &cloud);
	go_on = !cloud;
	free(version);
	free(deployment);
	return go_on;
}

static void when(int64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!localtime_r(&t, &tm) ||
	    !strftime(out, size, "%Y-%m-%d %H:%M %Z", &tm))
		snprintf(out, size, "?");
}

/* The OAuth 2.0 tokens the state directory holds: -1 when there are none
 * (the account check then fails), else the access token's expiry (0 for
 * unknown). */
static int64_t oauth2_expiry(const struct check *ck)
{
	char *path = oauth2_tokens_path(ck->state_dir), why[300];
	struct oauth2_tokens t = { 0 };
	int64_t at = -1;
	if (path && oauth2_tokens_load(path, ck->acfg->client_id, &t, why,
				       sizeof(why)) == 0)
		at = t.expires_at_ms;
	oauth2_tokens_release(&t);
	free(path);
	return at;
}

/* The tokens line of auth=oauth2; `before` is the expiry seen before the
 * account check (which renews an expired access token). */
static void oauth2_lines(struct check *ck, int64_t before, bool accepted)
{
	char buf[600], at[64];
	int64_t now = clock_wall_ms(), after = oauth2_expiry(ck);
	if (after < 0)
		return; /* no tokens: the credentials line said so */
	if (!accepted) {
		check_say(ck, CHECK_FAIL, "OAuth 2.0 tokens",
			  before > 0 && before <= now
				  ? "the access token had expired and the "
				    "refresh token was refused (expired or "
				    "revoked)"
				  : "Jira refused the tokens (revoked, or the "
				    "application link changed)",
			  "run jirafs auth oauth2-login again with this "
			  "state directory");
		return;
	}
	if (after == 0) {
		check_say(ck, CHECK_OK, "OAuth 2.0 tokens",
			  "accepted; Jira gave no expiry", NULL);
		return;
	}
	when(after, at, sizeof(at));
	bool renewed = before > 0 && before <= now;
	snprintf(buf, sizeof(buf), "the access token %s %s (%lld min); %s",
		 after > now ? "expires" : "expired", at,
		 (long long)((after - now) / 60000),
		 renewed ? "the refresh token renewed it just now"
			 : "then the refresh token renews it (not tried "
			   "until then)");
	check_say(ck, CHECK_OK, "OAuth 2.0 tokens", buf, NULL);
}

bool check_account(struct check *ck)
{
	struct jira_error err = { 0 };
	char buf[1400], fix[400];
	const char *m = ck->method, *what = "credentials";
	bool oauth2 = strcmp(m, "oauth2") == 0;
	int64_t before = ck->oauth2_before;
	enum jira_status st =
		jira_myself(ck->c, check_deadline(ck), &ck->user, &err);

	switch (st) {
	case JIRA_OK:
		snprintf(buf, sizeof(buf), "logged in as %s (auth=%s)",
			 ck->user, m);
		check_say(ck, CHECK_OK, what, buf, NULL);
		if (oauth2)
			oauth2_lines(ck, before, true);
		return true;
	case JIRA_ERR_CAPTCHA:
		check_say(ck, CHECK_FAIL, what,
			  "Jira demands a CAPTCHA after failed logins",
			  "log in once through the web interface (answering "
			  "the CAPTCHA), then check again");
		return false;
	case JIRA_ERR_AUTH_DISABLED:
		snprintf(buf, sizeof(buf), "auth=%s is disabled on this site: "
					   "%s",
			 m, err.msg);
		check_say(ck, CHECK_FAIL, what, buf,
			  strcmp(m, "basic") == 0
				  ? "use auth=pat (a Personal Access Token) or "
				    "ask the Jira admin to allow Basic "
				    "authentication"
				  : "use another auth= method or ask the Jira "
				    "admin to enable this one");
		return false;
	case JIRA_ERR_AUTH:
	case JIRA_ERR_FORBIDDEN:
		snprintf(buf, sizeof(buf), "not accepted (auth=%s): %s", m,
			 err.msg);
		snprintf(fix, sizeof(fix), "%s",
			 strcmp(m, "pat") == 0
				 ? "the token is wrong, revoked or expired: "
				   "make a new one (Profile > Personal Access "
				   "Tokens) and put it in token_file="
			 : strcmp(m, "basic") == 0
				 ? "check user= and the password in "
				   "password_file="
			 : oauth2 ? "run jirafs auth oauth2-login again"
				  : "run jirafs auth oauth1-login again");
		check_say(ck, CHECK_FAIL, what, buf, fix);
		if (oauth2)
			oauth2_lines(ck, before, false);
		return false;
	default:
		snprintf(buf, sizeof(buf), "cannot ask who the account is "
					   "(%s): %s",
			 jira_status_name(st), err.msg);
		check_say(ck, CHECK_FAIL, what, buf,
			  "check again once Jira answers");
		return false;
	}
}
