/* http.c - see http.h */
#include "jira/http.h"
#include "jira/http_priv.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/strbuf.h"

#define USER_AGENT "jirafs/" JIRAFS_VERSION
#define CONNECT_TIMEOUT_MAX_MS 15000
#define LOW_SPEED_TIME_S 60L
/* libcurl's receive buffer (16 KiB by default): a 5 MB search page in
 * fewer reads and write callbacks */
#define RECV_BUFFER_BYTES (128L << 10)

struct slot {
	CURL *curl;
	bool busy;
};

struct http {
	char *base_url;  /* without trailing '/' */
	char *cacert;
	char *proxy;     /* or NULL */
	struct curl_slist *connect_to; /* or NULL */
	struct tunnel *tunnel; /* borrowed, or NULL */
	bool insecure;
	bool debug;
	struct auth *auth; /* borrowed */
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

	pthread_mutex_t lock;  /* guards slots[].busy, nslots, nfree */
	pthread_cond_t freed;  /* a slot was returned (CLOCK_MONOTONIC) */
	struct slot *slots;
	unsigned nslots;       /* allocated so far, <= max */
	unsigned max;

	_Atomic bool cancelled;
	pthread_cond_t cancel_cv; /* signalled by http_cancel (with lock) */
	_Atomic uint64_t requests, failures, retries, bytes_in, resends;
	_Atomic int64_t last_ok_ms, last_failure_ms;
};

static long post_form(void *ctx, const char *path, const char *form,
		      int64_t deadline_ms, char **answer, char *why,
		      size_t whysize);

static void share_lock(CURL *c, curl_lock_data d, curl_lock_access a, void *u)
{
	(void)c;
	(void)a;
	struct http *h = u;
	pthread_mutex_lock(&h->share_locks[d]);
}

static void share_unlock(CURL *c, curl_lock_data d, void *u)
{
	(void)c;
	struct http *h = u;
	pthread_mutex_unlock(&h->share_locks[d]);
}

int http_new(const struct http_config *cfg, struct auth *auth,
	     struct http **out)
{
	struct http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->base_url = strdup(cfg->base_url);
	h->cacert = cfg->cacert ? strdup(cfg->cacert) : NULL;
	h->max = cfg->max_connections ? cfg->max_connections : 1;
	h->slots = calloc(h->max, sizeof(*h->slots));
	if (!h->base_url || (cfg->cacert && !h->cacert) || !h->slots) {
		free(h->base_url);
		free(h->cacert);
		free(h->slots);
		free(h);
		return -ENOMEM;
	}
	size_t n = strlen(h->base_url);
	while (n > 0 && h->base_url[n - 1] == '/')
		h->base_url[--n] = '\0';
	h->insecure = cfg->insecure;
	h->debug = cfg->debug;
	h->auth = auth;
	h->tunnel = cfg->tunnel;
	if (cfg->proxy)
		h->proxy = strdup(cfg->proxy);
	if (cfg->connect_to) {
		char *list = strdup(cfg->connect_to), *save = NULL;
		for (char *e = list ? strtok_r(list, ";", &save) : NULL; e;
		     e = strtok_r(NULL, ";", &save))
			h->connect_to = curl_slist_append(h->connect_to, e);
		free(list);
	}
	if (auth) {
		auth->transport.post_form = post_form;
		auth->transport.ctx = h;
	}

	pthread_mutex_init(&h->lock, NULL);
	cond_init_monotonic(&h->freed);
	cond_init_monotonic(&h->cancel_cv);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_locks[i], NULL);

	h->share = curl_share_init();
	if (h->share) {
		curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
		curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
		curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
		curl_share_setopt(h->share, CURLSHOPT_SHARE,
				  CURL_LOCK_DATA_DNS);
		curl_share_setopt(h->share, CURLSHOPT_SHARE,
				  CURL_LOCK_DATA_SSL_SESSION);
	}
	*out = h;
	return 0;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	for (unsigned i = 0; i < h->nslots; i++)
		curl_easy_cleanup(h->slots[i].curl);
	if (h->share)
		curl_share_cleanup(h->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_locks[i]);
	pthread_cond_destroy(&h->freed);
	pthread_cond_destroy(&h->cancel_cv);
	pthread_mutex_destroy(&h->lock);
	free(h->slots);
	free(h->base_url);
	free(h->cacert);
	free(h->proxy);
	curl_slist_free_all(h->connect_to);
	free(h);
}

const char *http_base_url(const struct http *h)
{
	return h->base_url;
}

void http_counters(const struct http *h, struct http_counters *out)
{
	out->requests = atomic_load(&h->requests);
	out->failures = atomic_load(&h->failures);
	out->retries = atomic_load(&h->retries);
	out->bytes_in = atomic_load(&h->bytes_in);
	out->resends = atomic_load(&h->resends);
	out->last_ok_ms = atomic_load(&h->last_ok_ms);
	out->last_failure_ms = atomic_load(&h->last_failure_ms);
}

void http_cancel(struct http *h)
{
	pthread_mutex_lock(&h->lock);
	atomic_store(&h->cancelled, true);
	pthread_cond_broadcast(&h->freed);
	pthread_cond_broadcast(&h->cancel_cv);
	pthread_mutex_unlock(&h->lock);
}

bool http_sleep(struct http *h, int64_t ms, deadline_t deadline)
{
	deadline_t until = deadline_in(ms);
	if (until > deadline)
		until = deadline;
	struct timespec ts = deadline_timespec(until);
	pthread_mutex_lock(&h->lock);
	while (!atomic_load(&h->cancelled) &&
	       pthread_cond_timedwait(&h->cancel_cv, &h->lock, &ts) !=
		       ETIMEDOUT)
		;
	pthread_mutex_unlock(&h->lock);
	return !atomic_load(&h->cancelled);
}

void http_count_retry(struct http *h)
{
	atomic_fetch_add(&h->retries, 1);
}

/* Borrow a handle, creating one if the pool is not full; NULL when the
 * deadline passed or out of memory (*timed_out tells which). */
static struct slot *slot_get(struct http *h, deadline_t deadline,
			     bool *timed_out)
{
	struct slot *s = NULL;
	*timed_out = false;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		if (atomic_load(&h->cancelled)) {
			*timed_out = true;
			break;
		}
		for (unsigned i = 0; i < h->nslots; i++) {
			if (!h->slots[i].busy) {
				s = &h->slots[i];
				break;
			}
		}
		if (!s && h->nslots < h->max) {
			CURL *c = curl_easy_init();
			if (c) {
				s = &h->slots[h->nslots++];
				s->curl = c;
			}
		}
		if (s) {
			s->busy = true;
			break;
		}
		struct timespec ts = deadline_timespec(deadline);
		if (pthread_cond_timedwait(&h->freed, &h->lock, &ts) ==
		    ETIMEDOUT) {
			*timed_out = true;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return s;
}

static void slot_put(struct http *h, struct slot *s)
{
	pthread_mutex_lock(&h->lock);
	s->busy = false;
	pthread_cond_signal(&h->freed);
	pthread_mutex_unlock(&h->lock);
}

/* Ends a transfer once the pool is cancelled. */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	struct http *h = user;
	return atomic_load(&h->cancelled) ? 1 : 0;
}

/* A body of three pieces (http_file_body): head, the file, tail, read
 * as libcurl sends them and from the start again when it rewinds. */
struct upload {
	const char *head;
	size_t head_len;
	const struct http_file_body *f;
	curl_off_t pos;
};

static curl_off_t upload_len(const struct upload *u)
{
	return (curl_off_t)u->head_len + u->f->len + (curl_off_t)u->f->tail_len;
}

static size_t on_upload_read(char *buf, size_t size, size_t n, void *user)
{
	struct upload *u = user;
	size_t want = size * n, out = 0;
	curl_off_t flen = u->f->len, head = (curl_off_t)u->head_len;
	while (out < want && u->pos < upload_len(u)) {
		size_t room = want - out, k;
		if (u->pos < head) {
			k = (size_t)(head - u->pos) < room ? (size_t)(head - u->pos)
							   : room;
			memcpy(buf + out, u->head + u->pos, k);
		} else if (u->pos < head + flen) {
			curl_off_t left = head + flen - u->pos;
			k = left < (curl_off_t)room ? (size_t)left : room;
			ssize_t r = pread(u->f->fd, buf + out, k, u->pos - head);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return CURL_READFUNC_ABORT; /* shrunk, or EIO */
			k = (size_t)r;
		} else {
			curl_off_t at = u->pos - head - flen;
			size_t left = u->f->tail_len - (size_t)at;
			k = left < room ? left : room;
			memcpy(buf + out, u->f->tail + at, k);
		}
		out += k;
		u->pos += (curl_off_t)k;
	}
	return out;
}

static int on_upload_seek(void *user, curl_off_t off, int origin)
{
	struct upload *u = user;
	if (origin != SEEK_SET || off < 0 || off > upload_len(u))
		return CURL_SEEKFUNC_CANTSEEK;
	u->pos = off;
	return CURL_SEEKFUNC_OK;
}

/* One exchange on one handle.  Fills *a from what arrived. */
static void perform(struct http *h, struct auth *auth, CURL *c,
		    const struct http_req *req, const char *url,
		    const char *proxy, deadline_t deadline, struct reply *r,
		    long *status, int *curl_code, char *curl_msg,
		    bool *auth_failed)
{
	const char *method = req->method, *body = req->body;
	size_t body_len = req->body_len;
	bool idempotent = req->flags & HTTP_IDEMPOTENT;
	const char *ctype = req->content_type ? req->content_type
					      : "application/json";
	struct curl_slist *headers = NULL;
	*auth_failed = false;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
	if (h->share)
		curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	if (h->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
	if (h->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* proxy= or the tunnel; without either, curl's environment
	 * variables (https_proxy, no_proxy, ...) apply as they do for curl.
	 * A given proxy is used for every host: no_proxy must not let a
	 * request bypass the tunnel. */
	curl_easy_setopt(c, CURLOPT_PROXY, proxy);
	curl_easy_setopt(c, CURLOPT_NOPROXY, proxy ? "" : NULL);
	if (h->connect_to)
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, h->connect_to);
	int64_t left = deadline_left(deadline);
	if (left < 1)
		left = 1;
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(left < CONNECT_TIMEOUT_MAX_MS
					? left
					: CONNECT_TIMEOUT_MAX_MS));
	/* a connection that stalls is given up before the deadline says so */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, RECV_BUFFER_BYTES);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
	if (h->debug) {
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, http_on_debug);
	}

	headers = curl_slist_append(headers, "Accept: application/json");
	struct upload up = { body, body_len, req->file, 0 };
	if (req->file) {
		char ct[160];
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		headers = curl_slist_append(headers, ct);
		/* the body at once: an Expect: 100-continue costs a round
		 * trip (or a second of waiting) for nothing */
		headers = curl_slist_append(headers, "Expect:");
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_upload_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &up);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 upload_len(&up));
	} else if (body) {
		char ct[160];
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		headers = curl_slist_append(headers, ct);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)body_len);
	}
	/* every request, writes too, goes out on a kept connection when
	 * there is one (one round trip); see struct attempt */
	struct attempt at = { .write = !idempotent };
	curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, http_on_prereq);
	curl_easy_setopt(c, CURLOPT_PREREQDATA, &at);
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	else if (strcmp(method, "POST") == 0 && !body && !req->file) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	/* Jira refuses state changes without this unless the request is
	 * clearly not from a browser form (XSRF check). */
	if (strcmp(method, "GET") != 0)
		headers = curl_slist_append(headers,
					    "X-Atlassian-Token: no-check");

	if (req->header)
		headers = curl_slist_append(headers, req->header);
	if (auth) {
		struct auth_request ar = {
			.method = method,
			.url = url,
			.content_type = body || req->file ? ctype : NULL,
			/* a file body is multipart, which no method signs */
			.body = req->file ? NULL : body,
			.body_len = req->file ? 0 : body_len,
		};
		if (auth_decorate(auth, &ar, &headers) < 0) {
			*auth_failed = true;
			*curl_code = 0;
			*status = 0;
			curl_slist_free_all(headers);
			return;
		}
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

	atomic_fetch_add(&h->requests, 1);
	*curl_code = (int)curl_easy_perform(c);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (at.write && (at.resent || (at.sends > 0 &&
				       jira_curl_never_sent(*curl_code)))) {
		/* the request left once on a connection that then closed
		 * without an answer: it may have been applied */
		*curl_code = CURLE_SEND_ERROR;
		*status = 0;
		snprintf(curl_msg, CURL_ERROR_SIZE,
			 "the connection closed before Jira answered; the "
			 "request may have reached Jira");
		atomic_fetch_add(&h->resends, 1);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(headers);
}

void http_response_release(struct http_response *r)
{
	http_buffer_drop(r->body, r->cap);
	memset(r, 0, sizeof(*r));
}

enum jira_status http_request(struct http *h, const struct http_req *req,
			      deadline_t deadline, struct http_response *resp,
			      struct jira_error *err)
{
	struct reply r = { .body = STRBUF_INIT, .retry_after_s = -1,
			   .sink = req->sink };
	struct strbuf url = STRBUF_INIT;
	enum jira_status st = JIRA_OK;
	struct auth *auth = (req->flags & HTTP_NO_AUTH) ? NULL : h->auth;
	bool timed_out;

	memset(resp, 0, sizeof(*resp));
	if (strbuf_adds(&url, h->base_url) || strbuf_adds(&url, req->path))
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");

	for (bool refreshed = false;;) {
		char curl_msg[CURL_ERROR_SIZE] = "";
		long status = 0;
		int code = 0;
		bool auth_failed;

		http_reply_reset(&r);
		if (deadline_left(deadline) <= 0) {
			st = jira_error_set(err, JIRA_ERR_TIMEOUT,
					    "no time left to send %s %s",
					    req->method, req->path);
			break;
		}
		/* renew credentials about to expire, holding no connection
		 * (a renewal needs one of its own) */
		int pr = auth ? auth_prepare(auth, deadline) : 0;
		if (pr) {
			st = jira_error_set(err, pr == -ETIMEDOUT
							 ? JIRA_ERR_TIMEOUT
							 : JIRA_ERR_AUTH,
					    "cannot renew the %s credentials: %s",
					    auth_name(auth), strerror(-pr));
			break;
		}
		char proxy[128] = "", why[400];
		if (h->tunnel &&
		    tunnel_proxy(h->tunnel, deadline, proxy, sizeof(proxy), why,
				 sizeof(why))) {
			st = jira_error_set(err, JIRA_ERR_UNREACHABLE, "%s",
					    why);
			break;
		}
		struct slot *s = slot_get(h, deadline, &timed_out);
		if (!s) {
			st = timed_out ? jira_error_set(err, JIRA_ERR_TIMEOUT,
							"all %u connections "
							"busy until the "
							"deadline",
							h->max)
				       : jira_error_set(err, JIRA_ERR_NOMEM,
							"out of memory");
			break;
		}
		jlog_debug("http %s %s", req->method, req->path);
		r.curl = s->curl;
		perform(h, auth, s->curl, req, strbuf_str(&url),
			proxy[0] ? proxy : h->proxy, deadline, &r, &status,
			&code, curl_msg, &auth_failed);
		slot_put(h, s);
		if (auth_failed) {
			st = jira_error_set(err, JIRA_ERR_AUTH,
					    "the %s method could not sign the "
					    "request",
					    auth_name(auth));
			break;
		}
		struct jira_answer a = {
			.curl_code = code,
			.curl_msg = curl_msg,
			.http_status = status,
			/* a download's type is the file's (text/html is no
			 * login page there) */
			.content_type = req->sink && status >= 200 &&
						status < 300
					? NULL
					: r.content_type,
			.body = r.body.buf,
			.body_len = r.body.len,
			.anonymous = auth &&
				     strcasecmp(r.ausername, "anonymous") == 0,
			.login_reason = r.login_reason,
			.denied_reason = r.denied_reason,
			.retry_after_s = r.retry_after_s,
			.deadline_passed = false,
		};
		st = jira_classify(&a, err);
		atomic_fetch_add(&h->bytes_in, r.sinking ? (uint64_t)r.sink->written
							  : r.body.len);
		if (code == 0)
			atomic_store(&h->last_ok_ms, clock_wall_ms());
		if (code != 0 || status >= 500) {
			atomic_fetch_add(&h->failures, 1);
			atomic_store(&h->last_failure_ms, clock_wall_ms());
		}
		/* a 401: the method may renew its credentials, once */
		if (st == JIRA_ERR_AUTH && status == 401 && !refreshed &&
		    auth && auth->ops->refresh) {
			refreshed = true;
			if (auth_refresh(auth, deadline) == 0)
				continue;
		}
		resp->status = status;
		snprintf(resp->content_type, sizeof(resp->content_type), "%s",
			 r.content_type);
		break;
	}
	strbuf_release(&url);
	if (r.body.failed) {
		strbuf_release(&r.body);
		if (st == JIRA_OK)
			st = jira_error_set(err, JIRA_ERR_PROTOCOL,
					    "answer larger than %u bytes",
					    HTTP_MAX_BODY);
	}
	resp->cap = r.body.cap;
	resp->body = strbuf_detach(&r.body, &resp->len);
	if (st != JIRA_OK)
		jlog_debug("http %s %s: %s", req->method, req->path,
			   err ? err->msg : jira_status_name(st));
	return st;
}

long http_post_form(struct http *h, const char *path, const char *form,
		    deadline_t deadline, char **answer,
		    struct jira_error *err)
{
	struct http_req req = {
		.method = "POST",
		.path = path,
		.content_type = "application/x-www-form-urlencoded",
		.body = form,
		.body_len = strlen(form),
		.flags = HTTP_NO_AUTH,
	};
	struct http_response resp;
	http_request(h, &req, deadline, &resp, err);
	long status = resp.status;
	*answer = status ? resp.body : NULL;
	if (status)
		resp.body = NULL;
	http_response_release(&resp);
	return status;
}

/* The auth methods' way to the token endpoint (struct auth_transport). */
static long post_form(void *ctx, const char *path, const char *form,
		      int64_t deadline_ms, char **answer, char *why,
		      size_t whysize)
{
	struct jira_error err = { 0 };
	long status = http_post_form(ctx, path, form, deadline_ms, answer,
				     &err);
	if (!status)
		snprintf(why, whysize, "%s", err.msg);
	return status;
}
