/* status.c - see status.h: the one classification of Jira's answers. */
#include "jira/status.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *jira_status_name(enum jira_status st)
{
	switch (st) {
	case JIRA_OK: return "ok";
	case JIRA_ERR_BAD_REQUEST: return "refused by Jira";
	case JIRA_ERR_AUTH: return "not authenticated";
	case JIRA_ERR_FORBIDDEN: return "forbidden";
	case JIRA_ERR_NOT_FOUND: return "not found";
	case JIRA_ERR_CONFLICT: return "conflict";
	case JIRA_ERR_TOO_LARGE: return "too large";
	case JIRA_ERR_RATE_LIMITED: return "rate limited";
	case JIRA_ERR_SERVER: return "server error";
	case JIRA_ERR_BAD_RESPONSE: return "unexpected answer";
	case JIRA_ERR_PROTOCOL: return "unusable answer";
	case JIRA_ERR_TIMEOUT: return "timeout";
	case JIRA_ERR_UNREACHABLE: return "unreachable";
	case JIRA_ERR_TLS: return "TLS failure";
	case JIRA_ERR_CAPTCHA: return "CAPTCHA required";
	case JIRA_ERR_AUTH_DISABLED: return "authentication method disabled";
	case JIRA_ERR_NOMEM: return "out of memory";
	case JIRA_ERR_INTERNAL: return "internal error";
	case JIRA_ERR_LOOKUP: return "lookup failed";
	}
	return "unknown";
}

bool jira_status_transient(enum jira_status st)
{
	switch (st) {
	case JIRA_ERR_RATE_LIMITED:
	case JIRA_ERR_SERVER:
	case JIRA_ERR_BAD_RESPONSE: /* HTML error pages of proxies */
	case JIRA_ERR_TIMEOUT:
	case JIRA_ERR_UNREACHABLE:
	case JIRA_ERR_LOOKUP:
		return true;
	default:
		return false;
	}
}

bool jira_status_auth(enum jira_status st)
{
	switch (st) {
	case JIRA_ERR_AUTH:
	case JIRA_ERR_FORBIDDEN:
	case JIRA_ERR_CAPTCHA:
	case JIRA_ERR_AUTH_DISABLED:
		return true;
	default:
		return false;
	}
}

/* Transport failures that happen before a byte of the request leaves:
 * the connection could not be made, or its TLS handshake failed.  (When a
 * write left once on a kept connection and libcurl's new connection for
 * its second sending fails so, http.c reports CURLE_SEND_ERROR instead.) */
bool jira_curl_never_sent(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

bool jira_outcome_unknown(const struct jira_error *err)
{
	switch (err->status) {
	case JIRA_OK:
		return false;
	case JIRA_ERR_BAD_REQUEST:
	case JIRA_ERR_FORBIDDEN:
	case JIRA_ERR_NOT_FOUND:
	case JIRA_ERR_CONFLICT:
	case JIRA_ERR_TOO_LARGE:
	case JIRA_ERR_RATE_LIMITED:
	case JIRA_ERR_CAPTCHA:
	case JIRA_ERR_AUTH_DISABLED:
		/* answered 4xx: Jira (or its proxy) turned it away */
		return !(err->http_status >= 400 && err->http_status < 500);
	case JIRA_ERR_AUTH:
		/* a 401, or a 2xx as anonymous (which may have done it) */
		return err->http_status != 401;
	case JIRA_ERR_TLS: /* a certificate or handshake refused */
		return false;
	case JIRA_ERR_UNREACHABLE:
		return !jira_curl_never_sent(err->curl_code);
	default:
		return true;
	}
}

enum jira_status jira_error_set(struct jira_error *err, enum jira_status st,
				const char *fmt, ...)
{
	if (!err)
		return st;
	err->status = st;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	for (char *p = err->msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return st;
}

static void append(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);
	if (len + 1 >= size)
		return;
	snprintf(buf + len, size - len, "%s%s", len ? "; " : "", s);
}

bool jira_error_messages(const char *body, size_t len, char *buf, size_t size)
{
	buf[0] = '\0';
	if (!body || !len)
		return false;
	cJSON *root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return false;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "errorMessages");
	const cJSON *c;
	cJSON_ArrayForEach(c, m)
		if (cJSON_IsString(c))
			append(buf, size, c->valuestring);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "errors");
	cJSON_ArrayForEach(c, e) {
		if (!cJSON_IsString(c) || !c->string)
			continue;
		char line[JIRA_ERROR_MSG_MAX];
		snprintf(line, sizeof(line), "%s: %s", c->string, c->valuestring);
		append(buf, size, line);
	}
	/* OAuth and some proxies answer {"message": ...} or {"error": ...} */
	const char *alt[] = { "message", "error_description", "error" };
	for (size_t i = 0; !buf[0] && i < sizeof(alt) / sizeof(alt[0]); i++) {
		c = cJSON_GetObjectItemCaseSensitive(root, alt[i]);
		if (cJSON_IsString(c))
			append(buf, size, c->valuestring);
	}
	cJSON_Delete(root);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return buf[0] != '\0';
}

/* The text of an HTML page's <title>, or its first words. */
static void html_summary(const char *body, size_t len, char *buf, size_t size)
{
	size_t o = 0;
	const char *t = memmem(body, len, "<title>", 7);
	if (!t)
		t = memmem(body, len, "<TITLE>", 7);
	const char *p = t ? t + 7 : body;
	const char *end = body + len;
	bool in_tag = false, space = false;
	for (; p < end && o + 1 < size && o < 160; p++) {
		if (*p == '<') {
			if (t)
				break;
			in_tag = true;
			continue;
		}
		if (in_tag) {
			in_tag = *p != '>';
			continue;
		}
		if ((unsigned char)*p <= ' ') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < size)
			buf[o++] = ' ';
		space = false;
		buf[o++] = *p;
	}
	buf[o] = '\0';
}

static bool content_is(const char *ct, const char *what)
{
	return ct && strncasecmp(ct, what, strlen(what)) == 0;
}

static enum jira_status classify_curl(const struct jira_answer *a,
				      struct jira_error *err)
{
	const char *m = a->curl_msg && *a->curl_msg
				? a->curl_msg
				: curl_easy_strerror((CURLcode)a->curl_code);
	switch ((CURLcode)a->curl_code) {
	case CURLE_OPERATION_TIMEDOUT:
		return jira_error_set(err, JIRA_ERR_TIMEOUT, "timed out: %s", m);
	case CURLE_ABORTED_BY_CALLBACK:
		return jira_error_set(err, JIRA_ERR_TIMEOUT,
				      "cancelled: the mount is ending");
	case CURLE_SSL_CONNECT_ERROR:
		/* the connection dropped during the handshake: the network,
		 * not the certificate (retried like any dropped connection) */
		if (strstr(m, "SSL_ERROR_SYSCALL") || strcasestr(m, "reset") ||
		    strcasestr(m, "unexpected eof"))
			return jira_error_set(err, JIRA_ERR_UNREACHABLE,
					      "connection lost during the TLS "
					      "handshake: %s",
					      m);
		return jira_error_set(err, JIRA_ERR_TLS, "TLS: %s", m);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
		return jira_error_set(err, JIRA_ERR_TLS, "TLS: %s", m);
	case CURLE_OUT_OF_MEMORY:
		return jira_error_set(err, JIRA_ERR_NOMEM, "%s", m);
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WRITE_ERROR:
		return jira_error_set(err, JIRA_ERR_PROTOCOL,
				      "answer too large or unreadable: %s", m);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		return jira_error_set(err, JIRA_ERR_INTERNAL, "%s", m);
	default:
		return jira_error_set(err, JIRA_ERR_UNREACHABLE, "%s", m);
	}
}

enum jira_status jira_classify(const struct jira_answer *a,
			       struct jira_error *err)
{
	if (err) {
		err->http_status = a->http_status;
		err->retry_after_s = a->retry_after_s;
		err->curl_code = a->curl_code;
		err->msg[0] = '\0';
	}
	if (a->deadline_passed)
		return jira_error_set(err, JIRA_ERR_TIMEOUT,
				      "no answer before the deadline");
	if (a->curl_code != 0)
		return classify_curl(a, err);

	long s = a->http_status;
	char detail[JIRA_ERROR_MSG_MAX] = "";
	bool html = content_is(a->content_type, "text/html");
	bool ok = s >= 200 && s < 300;
	if (a->body && a->body_len) {
		/* a success's JSON is the caller's to read (a search page is
		 * megabytes): only a failure's is searched for messages */
		if (html)
			html_summary(a->body, a->body_len, detail,
				     sizeof(detail));
		else if (!ok &&
			 !jira_error_messages(a->body, a->body_len, detail,
					      sizeof(detail)) &&
			 !content_is(a->content_type, "application/json"))
			html_summary(a->body, a->body_len, detail,
				     sizeof(detail));
	}
	bool captcha = a->login_reason &&
		       strstr(a->login_reason, "AUTHENTICATION_DENIED") &&
		       (!a->denied_reason ||
			strstr(a->denied_reason, "CAPTCHA"));
	bool failed_login = a->login_reason &&
			    strstr(a->login_reason, "AUTHENTICATED_FAILED");

	if (captcha && (s == 401 || s == 403))
		return jira_error_set(err, JIRA_ERR_CAPTCHA,
				      "Jira requires a CAPTCHA: log in once "
				      "through the web interface (HTTP %ld)",
				      s);
	/* AUTHENTICATION_DENIED without a CAPTCHA: the method is turned off
	 * (Basic disabled); Jira names the user anonymous on that 401 too,
	 * so this comes before the anonymous rule */
	if (s == 401 && !captcha && a->login_reason &&
	    strstr(a->login_reason, "AUTHENTICATION_DENIED"))
		return jira_error_set(err, JIRA_ERR_AUTH_DISABLED,
				      "HTTP 401 (authentication denied)%s%s",
				      detail[0] ? ": " : "", detail);
	/* Jira runs a request with bad or expired credentials as anonymous:
	 * whatever it answers then (200 with less data, 404 for an issue,
	 * 400 for a project it "does not know") says nothing about the
	 * resource, only that the credentials were not taken. */
	if ((a->anonymous || failed_login) && s >= 400 && s < 500 &&
	    s != 429)
		return jira_error_set(err, JIRA_ERR_AUTH,
				      "the credentials were not accepted "
				      "(Jira answered as anonymous, HTTP %ld)%s%s",
				      s, detail[0] ? ": " : "", detail);
	if (ok) {
		if (a->anonymous || failed_login)
			return jira_error_set(err, JIRA_ERR_AUTH,
					      "the credentials were not "
					      "accepted (Jira answered as "
					      "anonymous)");
		if (html)
			return jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
					      "Jira answered with an HTML page "
					      "instead of JSON: %s",
					      detail[0] ? detail : "(untitled)");
		if (err)
			err->status = JIRA_OK;
		return JIRA_OK;
	}
	const char *sep = detail[0] ? ": " : "";
	switch (s) {
	case 400:
		return jira_error_set(err, JIRA_ERR_BAD_REQUEST, "%s",
				      detail[0] ? detail : "HTTP 400");
	case 401:
		return jira_error_set(err, JIRA_ERR_AUTH, "HTTP 401%s%s", sep,
				      detail);
	case 403:
		return jira_error_set(err, JIRA_ERR_FORBIDDEN, "HTTP 403%s%s",
				      sep, detail);
	case 404:
		return jira_error_set(err, JIRA_ERR_NOT_FOUND, "HTTP 404%s%s",
				      sep, detail);
	case 409:
		return jira_error_set(err, JIRA_ERR_CONFLICT, "HTTP 409%s%s",
				      sep, detail);
	case 413:
		return jira_error_set(err, JIRA_ERR_TOO_LARGE, "HTTP 413%s%s",
				      sep, detail);
	case 429:
		return jira_error_set(err, JIRA_ERR_RATE_LIMITED,
				      "HTTP 429 (rate limited)%s%s", sep,
				      detail);
	default:
		break;
	}
	if (s >= 300 && s < 400)
		return jira_error_set(err, JIRA_ERR_PROTOCOL,
				      "unexpected redirect (HTTP %ld): is the "
				      "URL the Jira base URL?",
				      s);
	return jira_error_set(err, JIRA_ERR_SERVER, "HTTP %ld%s%s", s, sep,
			      detail);
}
