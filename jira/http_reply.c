/*
 * http_reply.c - the libcurl callbacks of http.c: the answer's headers
 * (Content-Type, the user, login reasons, Retry-After) and body, debug
 * traces without secrets, and the count of a request's sendings.  See
 * http_priv.h.
 */
#include "jira/http_priv.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "jira/http.h"
#include "util/log.h"

/* A Retry-After longer than a day is taken as a day. */
#define RETRY_AFTER_MAX_S 86400
/* Debug traces show a header line up to this many bytes. */
#define DEBUG_LINE_MAX 400

static void header_value(const char *line, size_t len, const char *name,
			 char *dst, size_t dstsize)
{
	size_t nl = strlen(name);
	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 ||
	    line[nl] != ':')
		return;
	const char *v = line + nl + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
			   end[-1] == ' '))
		end--;
	size_t n = (size_t)(end - v);
	if (n >= dstsize)
		n = dstsize - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* Seconds to wait, within [0, RETRY_AFTER_MAX_S]. */
static int retry_after_clamp(long s)
{
	return s < 0 ? 0 : (s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)s);
}

static int parse_retry_after(const char *v)
{
	if (!*v)
		return -1;
	char *end;
	long s = strtol(v, &end, 10);
	if (end != v && *end == '\0')
		return retry_after_clamp(s);
	time_t when = curl_getdate(v, NULL);
	if (when < 0)
		return -1;
	long d = (long)(when - time(NULL));
	return retry_after_clamp(d);
}

size_t http_on_header(char *data, size_t size, size_t n, void *user)
{
	struct reply *r = user;
	size_t len = size * n;
	char ra[64] = "";
	/* a new response (after a 100 Continue or redirect) starts over */
	if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
		r->content_type[0] = r->ausername[0] = '\0';
		r->login_reason[0] = r->denied_reason[0] = '\0';
		r->retry_after_s = -1;
	}
	header_value(data, len, "Content-Type", r->content_type,
		     sizeof(r->content_type));
	header_value(data, len, "X-AUSERNAME", r->ausername,
		     sizeof(r->ausername));
	header_value(data, len, "X-Seraph-LoginReason", r->login_reason,
		     sizeof(r->login_reason));
	header_value(data, len, "X-Authentication-Denied-Reason",
		     r->denied_reason, sizeof(r->denied_reason));
	header_value(data, len, "Retry-After", ra, sizeof(ra));
	if (ra[0])
		r->retry_after_s = parse_retry_after(ra);
	return len;
}

/* The receive buffer a thread keeps between answers (http_keep_buffer):
 * its pages are already there, where a new one of 5 MB costs a fault
 * (and a page cleared) every 4 KiB on first touch. */
static __thread bool keeping;
static __thread char *kept;
static __thread size_t kept_cap;

void http_keep_buffer(bool keep)
{
	keeping = keep;
	if (!keep) {
		free(kept);
		kept = NULL;
		kept_cap = 0;
	}
}

void http_buffer_drop(char *buf, size_t cap)
{
	if (buf && keeping && !kept && cap >= HTTP_KEEP_MIN &&
	    cap <= (size_t)HTTP_MAX_BODY + 1) {
		kept = buf;
		kept_cap = cap;
	} else {
		free(buf);
	}
}

/* A 2xx answer's body into the request's sink: 0 or -1 (errno kept). */
static int sink_write(struct http_sink *k, const char *data, size_t len)
{
	while (len) {
		ssize_t w = pwrite(k->fd, data, len, k->written);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			k->error = w < 0 ? errno : EIO;
			return -1;
		}
		k->written += w;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The untouched part of a large receive buffer, backed by huge pages where
 * the kernel offers them (transparent huge pages, "madvise" or "always"):
 * filled 4 KiB at a time, a 5 MB page of search results costs 1,300 page
 * faults, each a page cleared and mapped, which in a virtual machine took
 * 15 times as long as filling a buffer of huge pages (bench/README.md,
 * Profiling).  Only whole 2 MiB blocks inside it are advised; the memory
 * stays malloc's. */
static void prefer_huge_pages(char *buf, size_t from, size_t cap)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t a = ((uintptr_t)buf + from + huge - 1) & ~(huge - 1);
	uintptr_t b = ((uintptr_t)buf + cap) & ~(huge - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_HUGEPAGE);
}

size_t http_on_body(char *data, size_t size, size_t n, void *user)
{
	struct reply *r = user;
	size_t len = size * n;
	if (r->sink && !r->sink_decided) {
		long status = 0;
		r->sink_decided = true;
		if (r->curl)
			curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE,
					  &status);
		r->sinking = status >= 200 && status < 300;
	}
	if (r->sinking)
		return sink_write(r->sink, data, len) ? 0 : len;
	if (!r->sized) {
		/* one buffer of the announced size (the thread's kept one when
		 * it is large enough), rather than one grown (and copied) by
		 * doubling; a compressed answer grows from there */
		r->sized = true;
		if (kept && !r->body.buf) {
			r->body.buf = kept;
			r->body.cap = kept_cap;
			kept = NULL;
			kept_cap = 0;
		}
		curl_off_t cl = -1;
		char *had = r->body.buf;
		if (r->curl &&
		    curl_easy_getinfo(r->curl,
				      CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
				      &cl) == CURLE_OK &&
		    cl > 0 && cl <= HTTP_MAX_BODY &&
		    strbuf_grow(&r->body, (size_t)cl) == 0 &&
		    r->body.buf != had)
			prefer_huge_pages(r->body.buf, r->body.len,
					  r->body.cap);
	}
	if (r->body.len + len > HTTP_MAX_BODY)
		return 0; /* curl fails with CURLE_WRITE_ERROR */
	if (strbuf_add(&r->body, data, len))
		return 0;
	return len;
}

/* Header lines whose values never reach a log. */
static bool sensitive(const char *line, size_t len)
{
	static const char *names[] = { "authorization:", "proxy-authorization:",
				       "cookie:", "set-cookie:" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (len >= n && strncasecmp(line, names[i], n) == 0)
			return true;
	}
	return false;
}

int http_on_debug(CURL *c, curl_infotype type, char *data, size_t size,
		    void *user)
{
	(void)c;
	(void)user;
	const char *dir;
	switch (type) {
	case CURLINFO_TEXT: dir = "*"; break;
	case CURLINFO_HEADER_IN: dir = "<"; break;
	case CURLINFO_HEADER_OUT: dir = ">"; break;
	default: return 0; /* bodies and TLS data are never logged */
	}
	/* header blocks may hold several lines */
	const char *p = data, *end = data + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t shown = len;
		while (shown && (p[shown - 1] == '\r'))
			shown--;
		if (shown) {
			if (sensitive(p, shown)) {
				const char *colon = memchr(p, ':', shown);
				jlog_debug("http %s %.*s: <redacted>", dir,
					   (int)(colon - p), p);
			} else {
				size_t cut = shown;
				if (cut > DEBUG_LINE_MAX)
					cut = DEBUG_LINE_MAX;
				jlog_debug("http %s %.*s", dir, (int)cut, p);
			}
		}
		p += len + 1;
	}
	return 0;
}


int http_on_prereq(void *user, char *conn_primary_ip, char *conn_local_ip,
		     int conn_primary_port, int conn_local_port)
{
	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	struct attempt *at = user;
	if (++at->sends > 1 && at->write) {
		at->resent = true;
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

void http_reply_reset(struct reply *r)
{
	http_buffer_drop(r->body.buf, r->body.cap);
	r->body = (struct strbuf)STRBUF_INIT;
	r->sized = false;
	r->content_type[0] = r->ausername[0] = '\0';
	r->login_reason[0] = r->denied_reason[0] = '\0';
	r->retry_after_s = -1;
	r->sinking = r->sink_decided = false;
	if (r->sink) {
		r->sink->written = 0;
		r->sink->error = 0;
		if (ftruncate(r->sink->fd, 0))
			r->sink->error = errno;
	}
}

