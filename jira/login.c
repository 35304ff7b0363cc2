/* login.c - `jirafs auth oauth1-login` and `oauth2-login`; see login.h. */
#include "jira/login.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/oauth1.h"
#include "auth/oauth2.h"
#include "jira/http.h"
#include "util/path.h"
#include "util/strbuf.h"

#define OAUTH1_REQUEST_TOKEN "/plugins/servlet/oauth/request-token"
#define OAUTH1_AUTHORIZE "/plugins/servlet/oauth/authorize"
#define OAUTH1_ACCESS_TOKEN "/plugins/servlet/oauth/access-token"
/* how long oauth2-login waits for the redirect */
#define REDIRECT_WAIT_MS (10 * 60 * 1000)

static int fail(char *errbuf, size_t errsize, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *errbuf, size_t errsize, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errsize, fmt, ap);
	va_end(ap);
	return err;
}

char *login_query_value(const char *s, const char *name)
{
	const char *q = strchr(s, '?');
	q = q ? q + 1 : s;
	size_t nl = strlen(name);
	while (q && *q) {
		const char *end = strpbrk(q, "&#");
		size_t len = end ? (size_t)(end - q) : strlen(q);
		if (len > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
			struct strbuf sb = STRBUF_INIT;
			strbuf_add_urldecoded(&sb, q + nl + 1, len - nl - 1);
			return strbuf_detach(&sb, NULL);
		}
		q = end && *end == '&' ? end + 1 : NULL;
	}
	return NULL;
}

/* A transport for the login's own requests (no auth method). */
static int transport(const struct jira_config *jc, struct http **h)
{
	struct http_config hc = {
		.base_url = jc->url,
		.cacert = jc->cacert,
		.insecure = jc->insecure,
		.max_connections = 1,
		.debug = jc->debug,
	};
	return http_new(&hc, NULL, h);
}

/* ---- OAuth 1.0a ---------------------------------------------------------- */

/* POST one of the OAuth 1.0a endpoints, signed; the form answer in *out. */
static int oauth1_post(struct http *h, const struct jira_config *jc,
		       EVP_PKEY *key, const char *consumer, const char *token,
		       const char *path, const struct oauth1_param *extra,
		       size_t nextra, char **out, char *errbuf,
		       size_t errsize)
{
	struct strbuf url = STRBUF_INIT;
	strbuf_addf(&url, "%s%s", http_base_url(h), path);
	struct auth_request ar = { "POST", strbuf_str(&url), NULL, NULL, 0 };
	char *hdr = oauth1_authorization(key, consumer, token, &ar, extra,
					 nextra);
	strbuf_release(&url);
	if (!hdr)
		return fail(errbuf, errsize, -EIO, "cannot sign the request");
	struct http_req req = { .method = "POST", .path = path,
				.flags = HTTP_NO_AUTH, .header = hdr };
	struct http_response resp;
	struct jira_error err = { 0 };
	enum jira_status st = http_request(
		h, &req, deadline_in((int64_t)jc->timeout_s * 1000), &resp,
		&err);
	auth_secret_free(hdr);
	int ret = 0;
	if (st != JIRA_OK || resp.status != 200) {
		char *problem = resp.body ? login_query_value(resp.body,
							      "oauth_problem")
					  : NULL;
		ret = fail(errbuf, errsize, -EACCES, "%s refused %s: %s", jc->url,
			   path,
			   problem ? problem
				   : err.msg[0] ? err.msg : "no reason given");
		free(problem);
		http_response_release(&resp);
		return ret;
	}
	*out = resp.body;
	resp.body = NULL;
	http_response_release(&resp);
	return 0;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	size_t lead = strspn(s, " \t");
	memmove(s, s + lead, n - lead + 1);
}

int jira_oauth1_login(const struct jira_config *jc,
		      const struct auth_config *ac, const char *state_dir,
		      FILE *in, FILE *out, char *errbuf, size_t errsize)
{
	struct http *h = NULL;
	EVP_PKEY *key = NULL;
	char *key_path = NULL, *answer = NULL, *rtoken = NULL;
	char *atoken = NULL, *asecret = NULL, *cred = NULL, *path = NULL;
	char line[1024];
	int ret;

	if (!ac->consumer_key)
		return fail(errbuf, errsize, -EINVAL,
			    "give the application link's consumer key: -o "
			    "consumer_key=KEY");
	key_path = ac->private_key ? path_absolute(ac->private_key)
				   : oauth1_default_key_path(state_dir);
	if (!key_path)
		return -ENOMEM;
	key = oauth1_load_key(key_path, errbuf, errsize);
	if (!key) {
		ret = -EINVAL;
		goto out;
	}
	if ((ret = transport(jc, &h)))
		goto out;

	const struct oauth1_param cb = { "oauth_callback", "oob" };
	ret = oauth1_post(h, jc, key, ac->consumer_key, NULL,
			  OAUTH1_REQUEST_TOKEN, &cb, 1, &answer, errbuf,
			  errsize);
	if (ret)
		goto out;
	rtoken = login_query_value(answer, "oauth_token");
	if (!rtoken) {
		ret = fail(errbuf, errsize, -EPROTO,
			   "no request token in Jira's answer");
		goto out;
	}
	char *enc = oauth1_encode(rtoken);
	fprintf(out, "Open this URL, allow jirafs access, then type the "
		     "verification code shown:\n%s%s?oauth_token=%s\n",
		jc->url, OAUTH1_AUTHORIZE, enc ? enc : "");
	free(enc);
	fprintf(out, "verification code: ");
	fflush(out);
	if (!fgets(line, sizeof(line), in)) {
		ret = fail(errbuf, errsize, -EINVAL,
			   "no verification code was given");
		goto out;
	}
	trim(line);

	const struct oauth1_param ver = { "oauth_verifier", line };
	auth_secret_free(answer);
	answer = NULL;
	ret = oauth1_post(h, jc, key, ac->consumer_key, rtoken,
			  OAUTH1_ACCESS_TOKEN, &ver, 1, &answer, errbuf,
			  errsize);
	if (ret)
		goto out;
	atoken = login_query_value(answer, "oauth_token");
	asecret = login_query_value(answer, "oauth_token_secret");
	if (!atoken) {
		ret = fail(errbuf, errsize, -EPROTO,
			   "no access token in Jira's answer");
		goto out;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "consumer_key", ac->consumer_key);
	cJSON_AddStringToObject(o, "token", atoken);
	cJSON_AddStringToObject(o, "token_secret", asecret ? asecret : "");
	cJSON_AddNumberToObject(o, "obtained_at", (double)time(NULL));
	cred = cJSON_Print(o);
	cJSON_Delete(o);
	path = oauth1_credentials_path(state_dir);
	if (!cred || !path) {
		ret = -ENOMEM;
		goto out;
	}
	if ((ret = path_write_atomic(path, cred, strlen(cred), 0600))) {
		fail(errbuf, errsize, ret, "cannot write %s: %s", path,
		     strerror(-ret));
		goto out;
	}
	fprintf(out, "\nThe access token is in %s.\nMount with -o "
		     "auth=oauth1,consumer_key=%s%s%s and the same "
		     "state_dir.\n",
		path, ac->consumer_key, ac->private_key ? ",private_key=" : "",
		ac->private_key ? key_path : "");
out:
	http_free(h);
	EVP_PKEY_free(key);
	free(key_path);
	auth_secret_free(answer);
	auth_secret_free(rtoken);
	auth_secret_free(atoken);
	auth_secret_free(asecret);
	auth_secret_free(cred);
	free(path);
	return ret;
}

/* ---- OAuth 2.0 ----------------------------------------------------------- */

/* A listener for redirect_uri when it is a loopback address: -1 when it is
 * not one (the redirected URL is pasted instead). */
static int loopback_listener(const char *redirect_uri, char *errbuf,
			     size_t errsize, int *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int fd = -1;
	*err = 0;
	if (!u || curl_url_set(u, CURLUPART_URL, redirect_uri, 0) != CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	if (!scheme || strcmp(scheme, "http") || !host || !port)
		goto out;
	bool v6 = strcmp(host, "[::1]") == 0;
	if (!v6 && strcmp(host, "127.0.0.1") && strcasecmp(host, "localhost"))
		goto out;
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons((uint16_t)atoi(port));
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons((uint16_t)atoi(port));
		len = sizeof(*a);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, 4) < 0) {
		*err = fail(errbuf, errsize, -errno,
			    "cannot listen on %s for the redirect: %s",
			    redirect_uri, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return fd;
}

/* Take one request off the listener: its request target, or NULL for one
 * that is not the redirect (answered 404). */
static char *accept_redirect(int lfd)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return NULL;
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[8192];
	ssize_t n = recv(c, buf, sizeof(buf) - 1, 0);
	char *target = NULL;
	if (n > 0) {
		buf[n] = '\0';
		char *sp = strchr(buf, ' ');
		char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
		if (strncmp(buf, "GET ", 4) == 0 && sp2)
			target = strndup(sp + 1, (size_t)(sp2 - sp - 1));
	}
	char *code = target ? login_query_value(target, "code") : NULL;
	char *error = target ? login_query_value(target, "error") : NULL;
	const char *page = code || error
				   ? "HTTP/1.1 200 OK\r\nContent-Type: text/html"
				     "\r\nConnection: close\r\n\r\n<html><body>"
				     "<p>jirafs: done, you can close this "
				     "window.</p></body></html>\n"
				   : "HTTP/1.1 404 Not Found\r\nConnection: "
				     "close\r\n\r\n";
	if (send(c, page, strlen(page), MSG_NOSIGNAL) < 0) {
		/* the browser went away; the code still counts */
	}
	close(c);
	if (!code && !error) {
		free(target);
		target = NULL;
	}
	free(code);
	free(error);
	return target;
}

/* Wait for the redirect: on the listener, or pasted on `in`. */
static char *wait_redirect(int lfd, FILE *in)
{
	int64_t until = (int64_t)time(NULL) * 1000 + REDIRECT_WAIT_MS;
	for (;;) {
		struct pollfd p[2] = { { fileno(in), POLLIN, 0 },
				       { lfd, POLLIN, 0 } };
		int64_t left = until - (int64_t)time(NULL) * 1000;
		if (left <= 0)
			return NULL;
		int n = poll(p, lfd >= 0 ? 2 : 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		if (lfd >= 0 && (p[1].revents & POLLIN)) {
			char *t = accept_redirect(lfd);
			if (t)
				return t;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			char line[8192];
			if (!fgets(line, sizeof(line), in))
				return NULL; /* end of input */
			trim(line);
			if (strstr(line, "code=") || strstr(line, "error="))
				return strdup(line);
		}
	}
}

static char *random_state(void)
{
	unsigned char raw[16];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return NULL;
	return oauth2_base64url(raw, sizeof(raw));
}

int jira_oauth2_login(const struct jira_config *jc,
		      const struct auth_config *ac, const char *state_dir,
		      FILE *in, FILE *out, char *errbuf, size_t errsize)
{
	char *secret = NULL, *verifier = NULL, *challenge = NULL, *state = NULL;
	char *redirect = NULL, *code = NULL, *got_state = NULL, *form = NULL;
	char *path = NULL;
	struct http *h = NULL;
	struct oauth2_tokens t = { 0 };
	int lfd = -1, ret;

	if (!ac->client_id || !ac->redirect_uri)
		return fail(errbuf, errsize, -EINVAL,
			    "give the application link's -o client_id=ID and "
			    "-o redirect_uri=URI");
	if ((ret = oauth2_client_secret(ac, &secret, errbuf, errsize)))
		return ret;
	verifier = oauth2_pkce_verifier();
	challenge = verifier ? oauth2_pkce_challenge(verifier) : NULL;
	state = random_state();
	if (!challenge || !state) {
		ret = -ENOMEM;
		goto out;
	}
	lfd = loopback_listener(ac->redirect_uri, errbuf, errsize, &ret);
	if (ret)
		goto out;

	struct strbuf url = STRBUF_INIT;
	strbuf_addf(&url, "%s%s?client_id=", jc->url, OAUTH2_AUTHORIZE_PATH);
	strbuf_add_urlencoded(&url, ac->client_id);
	strbuf_adds(&url, "&redirect_uri=");
	strbuf_add_urlencoded(&url, ac->redirect_uri);
	strbuf_addf(&url, "&response_type=code&scope=WRITE&state=%s"
			  "&code_challenge=%s&code_challenge_method=S256",
		    state, challenge);
	fprintf(out, "Open this URL in a browser and allow jirafs access:\n%s\n",
		strbuf_str(&url));
	strbuf_release(&url);
	if (lfd >= 0)
		fprintf(out, "Waiting for the redirect to %s (or paste the "
			     "URL the browser was sent to):\n",
			ac->redirect_uri);
	else
		fprintf(out, "Then paste the URL the browser was sent to:\n");
	fflush(out);

	redirect = wait_redirect(lfd, in);
	if (!redirect) {
		ret = fail(errbuf, errsize, -ETIMEDOUT,
			   "no redirect arrived and no URL was pasted");
		goto out;
	}
	char *error = login_query_value(redirect, "error");
	if (error) {
		char *desc = login_query_value(redirect, "error_description");
		ret = fail(errbuf, errsize, -EACCES, "Jira refused: %s%s%s",
			   error, desc ? ": " : "", desc ? desc : "");
		free(desc);
		free(error);
		goto out;
	}
	code = login_query_value(redirect, "code");
	got_state = login_query_value(redirect, "state");
	if (!code || !got_state || strcmp(got_state, state) != 0) {
		ret = fail(errbuf, errsize, -EACCES,
			   "the redirect does not answer this login (state "
			   "mismatch or no code)");
		goto out;
	}

	const char *pairs[] = { "grant_type", "authorization_code",
				"code", code,
				"redirect_uri", ac->redirect_uri,
				"client_id", ac->client_id,
				"client_secret", secret,
				"code_verifier", verifier };
	form = oauth2_form(pairs, sizeof(pairs) / sizeof(*pairs));
	if (!form || (ret = transport(jc, &h)))
		goto out;
	struct jira_error err = { 0 };
	char *answer = NULL;
	long status = http_post_form(
		h, OAUTH2_TOKEN_PATH, form,
		deadline_in((int64_t)jc->timeout_s * 1000), &answer, &err);
	char why[512];
	if (!status) {
		ret = fail(errbuf, errsize, -EIO, "cannot reach %s: %s",
			   jc->url, err.msg);
	} else if (oauth2_tokens_parse(answer, &t, why, sizeof(why)) ||
		   status != 200) {
		ret = fail(errbuf, errsize, -EACCES,
			   "Jira refused the authorization code (HTTP %ld): %s",
			   status, t.access ? "no reason given" : why);
	}
	free(answer);
	if (ret)
		goto out;
	path = oauth2_tokens_path(state_dir);
	if (!path) {
		ret = -ENOMEM;
		goto out;
	}
	if ((ret = oauth2_tokens_save(path, ac->client_id, &t))) {
		fail(errbuf, errsize, ret, "cannot write %s: %s", path,
		     strerror(-ret));
		goto out;
	}
	fprintf(out, "The tokens are in %s.\nMount with -o auth=oauth2,"
		     "client_id=%s and the same client_secret_file= and "
		     "state_dir.\n",
		path, ac->client_id);
out:
	if (lfd >= 0)
		close(lfd);
	http_free(h);
	oauth2_tokens_release(&t);
	auth_secret_free(secret);
	auth_secret_free(verifier);
	free(challenge);
	free(state);
	auth_secret_free(redirect);
	auth_secret_free(code);
	free(got_state);
	auth_secret_free(form);
	free(path);
	return ret;
}
