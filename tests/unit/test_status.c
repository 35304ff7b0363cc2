/* Unit tests: jira/status.c classification and fs/errmap.c errno table. */
#include <curl/curl.h>
#include <errno.h>

#include "fs/errmap.h"
#include "harness.h"
#include "jira/status.h"

/* Classify an HTTP answer (curl_code 0) or a transport failure. */
static enum jira_status classify_curl(long status, const char *ctype,
				      const char *body, int curl_code,
				      struct jira_error *e)
{
	struct jira_answer a = {
		.http_status = status,
		.content_type = ctype,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.retry_after_s = -1,
		.curl_code = curl_code,
	};
	return jira_classify(&a, e);
}

static enum jira_status classify(long status, const char *ctype,
				 const char *body, struct jira_error *e)
{
	return classify_curl(status, ctype, body, 0, e);
}

TEST(classify_http_statuses)
{
	struct jira_error e;
	CHECK_INT(classify(200, "application/json", "{}", &e), JIRA_OK);
	CHECK_INT(classify(204, NULL, NULL, &e), JIRA_OK);
	CHECK_INT(classify(400, "application/json", "{}", &e),
		  JIRA_ERR_BAD_REQUEST);
	CHECK_INT(classify(401, "application/json", NULL, &e), JIRA_ERR_AUTH);
	CHECK_INT(classify(403, "text/html", "<html></html>", &e),
		  JIRA_ERR_FORBIDDEN);
	CHECK_INT(classify(404, "application/json", NULL, &e),
		  JIRA_ERR_NOT_FOUND);
	CHECK_INT(classify(409, NULL, NULL, &e), JIRA_ERR_CONFLICT);
	CHECK_INT(classify(429, NULL, NULL, &e), JIRA_ERR_RATE_LIMITED);
	CHECK_INT(classify(500, NULL, NULL, &e), JIRA_ERR_SERVER);
	CHECK_INT(classify(503, NULL, NULL, &e), JIRA_ERR_SERVER);
	CHECK_INT(e.http_status, 503);
	CHECK_INT(classify(302, NULL, NULL, &e), JIRA_ERR_PROTOCOL);
	CHECK(!jira_status_transient(JIRA_ERR_PROTOCOL));
}

TEST(classify_keeps_jira_messages_verbatim)
{
	struct jira_error e;
	classify(400, "application/json;charset=UTF-8",
		 "{\"errorMessages\":[\"Field 'x' cannot be set.\"],"
		 "\"errors\":{\"summary\":\"You must specify a summary of "
		 "the issue.\"}}",
		 &e);
	CHECK_STR(e.msg, "Field 'x' cannot be set.; summary: You must "
			 "specify a summary of the issue.");
}

TEST(classify_html_pages)
{
	struct jira_error e;
	CHECK_INT(classify(200, "text/html; charset=utf-8",
			   "<html><head><title>Log in - Jira</title></head>"
			   "<body>x</body></html>",
			   &e),
		  JIRA_ERR_BAD_RESPONSE);
	CHECK(strstr(e.msg, "Log in - Jira") != NULL);
	CHECK_INT(classify(502, "text/html",
			   "<html><body><h1>502 Bad\n Gateway</h1></body></html>",
			   &e),
		  JIRA_ERR_SERVER);
	CHECK(strstr(e.msg, "502 Bad Gateway") != NULL);
	CHECK(jira_status_transient(JIRA_ERR_BAD_RESPONSE));
}

TEST(classify_anonymous_and_captcha)
{
	struct jira_error e;
	struct jira_answer a = { .http_status = 200,
				 .content_type = "application/json",
				 .anonymous = true,
				 .retry_after_s = -1 };
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_AUTH);
	a.anonymous = false;
	a.login_reason = "AUTHENTICATED_FAILED";
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_AUTH);
	a.http_status = 403;
	a.login_reason = "AUTHENTICATION_DENIED";
	a.denied_reason = "CAPTCHA_CHALLENGE; login-url=http://j/login.jsp";
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_CAPTCHA);
	a.http_status = 401;
	a.denied_reason = "";
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_AUTH_DISABLED);
	/* Basic disabled: Jira also names the user anonymous on that 401 */
	a.anonymous = true;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_AUTH_DISABLED);
}

TEST(classify_anonymous_4xx_is_auth_not_absence)
{
	/* an expired token: Jira runs the request as anonymous, and then an
	 * issue "does not exist" and a project is "unknown" */
	struct jira_error e;
	struct jira_answer a = {
		.http_status = 404, .content_type = "application/json",
		.body = "{\"errorMessages\":[\"Issue Does Not Exist\"]}",
		.anonymous = true, .retry_after_s = -1 };
	a.body_len = strlen(a.body);
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_AUTH);
	CHECK(strstr(e.msg, "Issue Does Not Exist") != NULL);
	a.http_status = 400;
	a.anonymous = false;
	a.login_reason = "AUTHENTICATED_FAILED";
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_AUTH);
	a.http_status = 429;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_RATE_LIMITED);
	a.login_reason = NULL;
	a.http_status = 404;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_NOT_FOUND);
}

TEST(error_messages_skip_unnamed_errors)
{
	char buf[256];
	const char *body = "{\"errorMessages\":[\"a\"],\"errors\":[\"x\"]}";
	CHECK(jira_error_messages(body, strlen(body), buf, sizeof(buf)));
	CHECK_STR(buf, "a");
}

TEST(classify_transport_failures)
{
	struct jira_error e;
	struct jira_answer a = { .retry_after_s = -1 };
	a.curl_code = CURLE_OPERATION_TIMEDOUT;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_TIMEOUT);
	a.curl_code = CURLE_COULDNT_CONNECT;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_UNREACHABLE);
	a.curl_code = CURLE_GOT_NOTHING;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_UNREACHABLE);
	a.curl_code = CURLE_PARTIAL_FILE;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_UNREACHABLE);
	a.curl_code = CURLE_PEER_FAILED_VERIFICATION;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_TLS);
	a.curl_code = CURLE_SSL_CACERT_BADFILE;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_TLS);
	/* a handshake the peer broke off is the network's doing */
	a.curl_code = CURLE_SSL_CONNECT_ERROR;
	a.curl_msg = "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection "
		     "to jira:443";
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_UNREACHABLE);
	a.curl_msg = "OpenSSL/3.0.7: error:0A00010B:SSL routines::wrong "
		     "version number";
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_TLS);
	a.curl_msg = NULL;
	a.curl_code = 0;
	a.deadline_passed = true;
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_TIMEOUT);
}

TEST(auth_statuses_are_the_credential_problems)
{
	static const enum jira_status yes[] = { JIRA_ERR_AUTH,
						JIRA_ERR_FORBIDDEN,
						JIRA_ERR_CAPTCHA,
						JIRA_ERR_AUTH_DISABLED };
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		CHECK(jira_status_auth(yes[i]));
		CHECK(!jira_status_transient(yes[i]));
	}
	for (int st = JIRA_OK; st <= JIRA_ERR_LOOKUP; st++) {
		bool listed = false;
		for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
			listed |= st == (int)yes[i];
		CHECK(jira_status_auth((enum jira_status)st) == listed);
	}
}

TEST(retry_after_is_reported)
{
	struct jira_error e;
	struct jira_answer a = { .http_status = 429, .retry_after_s = 7 };
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_RATE_LIMITED);
	CHECK_INT(e.retry_after_s, 7);
}

TEST(errno_table_never_says_enoent_for_outages)
{
	for (int st = JIRA_OK; st <= JIRA_ERR_LOOKUP; st++) {
		int e = fs_errno((enum jira_status)st);
		if (st == JIRA_ERR_NOT_FOUND)
			CHECK_INT(e, ENOENT);
		else
			CHECK(e != ENOENT);
	}
	CHECK_INT(fs_errno(JIRA_OK), 0);
	CHECK_INT(fs_errno(JIRA_ERR_TIMEOUT), ETIMEDOUT);
	CHECK_INT(fs_errno(JIRA_ERR_UNREACHABLE), EIO);
	CHECK_INT(fs_errno(JIRA_ERR_SERVER), EIO);
	CHECK_INT(fs_errno(JIRA_ERR_AUTH), EACCES);
	CHECK_INT(fs_errno(JIRA_ERR_FORBIDDEN), EACCES);
	CHECK_INT(fs_errno(JIRA_ERR_BAD_REQUEST), EINVAL);
}

/* Which failed writes may have been applied all the same (CONTRACT §4.6):
 * only an answer that proves otherwise says no. */
static bool unknown_after(long status, const char *ctype, const char *body,
			  int curl_code)
{
	struct jira_error e = { 0 };
	classify_curl(status, ctype, body, curl_code, &e);
	return jira_outcome_unknown(&e);
}

TEST(outcome_unknown_unless_proven_not_applied)
{
	const char *json = "application/json";
	const char *jira400 = "{\"errorMessages\":[],\"errors\":{\"summary\":"
			      "\"Summary must be less than 255 characters.\"}}";
	/* proven not applied */
	CHECK(!unknown_after(400, json, jira400, 0));
	CHECK(!unknown_after(404, json, "{\"errorMessages\":[\"x\"]}", 0));
	CHECK(!unknown_after(401, json, NULL, 0));
	CHECK(!unknown_after(403, json, NULL, 0));
	CHECK(!unknown_after(429, json, NULL, 0));
	CHECK(!unknown_after(0, NULL, NULL, CURLE_COULDNT_CONNECT));
	CHECK(!unknown_after(0, NULL, NULL, CURLE_COULDNT_RESOLVE_HOST));
	CHECK(!unknown_after(0, NULL, NULL, CURLE_PEER_FAILED_VERIFICATION));
	/* maybe applied: every 5xx (a proxy answers after Jira committed) */
	for (long s = 500; s <= 504; s++) {
		CHECK(unknown_after(s, json, NULL, 0));
		CHECK(unknown_after(s, "text/html",
				    "<html><title>502 Bad Gateway</title></html>",
				    0));
	}
	CHECK(unknown_after(200, "text/html", "<html>Log in</html>", 0));
	CHECK(unknown_after(0, NULL, NULL, CURLE_GOT_NOTHING));
	CHECK(unknown_after(0, NULL, NULL, CURLE_RECV_ERROR));
	CHECK(unknown_after(0, NULL, NULL, CURLE_SEND_ERROR));
	CHECK(unknown_after(0, NULL, NULL, CURLE_PARTIAL_FILE));
	CHECK(unknown_after(0, NULL, NULL, CURLE_OPERATION_TIMEDOUT));
	/* a 2xx as anonymous may have done it */
	struct jira_error e = { 0 };
	struct jira_answer a = { .http_status = 201,
				 .content_type = json,
				 .anonymous = true,
				 .retry_after_s = -1 };
	CHECK_INT(jira_classify(&a, &e), JIRA_ERR_AUTH);
	CHECK(jira_outcome_unknown(&e));
	/* a failed lookup is retried, never a refusal */
	CHECK(jira_status_transient(JIRA_ERR_LOOKUP));
}
