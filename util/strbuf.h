/*
 * strbuf.h - a growable byte buffer, always NUL-terminated.
 *
 * An empty strbuf is all zeroes (STRBUF_INIT).  Appending functions return
 * 0 or -ENOMEM; after a failure the buffer keeps its previous content and
 * every later append fails too (sb->failed), so a caller may append many
 * pieces and check once at the end.  Not thread-safe: one owner at a time.
 */
#ifndef JIRAFS_UTIL_STRBUF_H
#define JIRAFS_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;     /* NULL until the first append */
	size_t len;    /* bytes used, not counting the NUL */
	size_t cap;    /* bytes allocated */
	size_t limit;  /* 0 = unlimited, else appends past this fail */
	bool failed;
};

#define STRBUF_INIT { NULL, 0, 0, 0, false }

int strbuf_grow(struct strbuf *sb, size_t extra);
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_adds(struct strbuf *sb, const char *s);
int strbuf_addc(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s percent-encoded for a URL query component (RFC 3986 unreserved
 * characters are kept). */
int strbuf_add_urlencoded(struct strbuf *sb, const char *s);
/* Append the n bytes at s decoded from a URL query or form component: '+'
 * is a space, %XX the byte XX; anything else, a malformed escape included,
 * is kept as it is. */
int strbuf_add_urldecoded(struct strbuf *sb, const char *s, size_t n);
/* The content as a malloc'd string owned by the caller (never NULL unless
 * out of memory); the strbuf is left empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_release(struct strbuf *sb);
/* The content, or "" for an empty buffer. */
static inline const char *strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

#endif
