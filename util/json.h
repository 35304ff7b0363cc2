/*
 * json.h - deterministic JSON text for jirafs's files.
 *
 * json_pretty() writes a cJSON value with a two-space indent, the way every
 * ticket file and control file is shown:
 *   - objects and arrays are expanded one member per line, except that a
 *     container holding only scalars is written on one line when that line
 *     fits in JSON_INLINE_WIDTH columns (`"labels": ["a", "b"]`);
 *   - object members keep the order they have in the cJSON tree (callers
 *     that need a canonical order sort first, see json_sort_object());
 *   - strings are always valid UTF-8 on output: invalid byte sequences are
 *     replaced by U+FFFD, control characters are escaped;
 *   - integers print without exponent or fraction, other numbers with the
 *     shortest of %.15g/%.17g that reads back exactly.
 *
 * Functions return 0 or -ENOMEM (the strbuf's failure).  Thread-safe: no
 * shared state.
 */
#ifndef JIRAFS_UTIL_JSON_H
#define JIRAFS_UTIL_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

#define JSON_INLINE_WIDTH 100

/* Append v, starting at indentation level `level` (2 spaces each); the first
 * line is not indented (the caller has written the key). */
int json_pretty(struct strbuf *sb, const cJSON *v, int level);

/* The file text of v: json_pretty() from level 0 and a newline, malloc'd
 * (*len, may be NULL, its length); NULL when out of memory. */
char *json_file_text(const cJSON *v, size_t *len);

/* Append s as a JSON string literal (quotes included). */
int json_add_string(struct strbuf *sb, const char *s);

/* Append a JSON number. */
int json_add_number(struct strbuf *sb, double d);

/* Sort an object's members by key (bytewise), recursively when deep. */
void json_sort_object(cJSON *obj, bool deep);

/*
 * Replace every \u0000 escape inside the JSON strings of text (in place,
 * same length) by \ufffd.  cJSON keeps strings NUL-terminated, so a NUL
 * would silently cut the rest of a value off; this keeps the rest.
 * Returns how many were replaced.
 */
size_t json_neutralize_nul(char *text, size_t len);

/*
 * Walking a large answer without building its whole tree: the members of
 * the object (or the elements of the array) that is the whole text, one at
 * a time, each handed out as the bytes of its value for the caller to
 * parse on its own (cJSON_ParseWithLength).  A 1,000-ticket search page is
 * 5 MB of text and 23 MB as one cJSON tree; walked, it never is a tree.
 * The walk checks the structure it crosses (quotes, brackets, commas,
 * colons, nothing after the end); the values are checked by whoever parses
 * them.  Keys are the raw bytes between the quotes (escapes not decoded).
 */
struct json_walk {
	const char *s;
	size_t n, pos;
	char close; /* '}' or ']' */
	bool started, done;
};

/* 0, or -EINVAL when the text does not start with '{' or '['. */
int json_walk_start(struct json_walk *w, const char *s, size_t n);
/* 1 with the next member (*key and *klen only for an object; key may be
 * NULL for arrays), 0 at the end, -EINVAL when the text is malformed. */
int json_walk_next(struct json_walk *w, const char **key, size_t *klen,
		   const char **val, size_t *vlen);

/*
 * Reading members.  o may be NULL or not an object: every getter then
 * finds nothing.  Keys are compared case-sensitively.
 */
/* The member k of o, or NULL. */
const cJSON *json_item(const cJSON *o, const char *k);
/* The string member k of o (owned by o), or NULL when absent or not a
 * string. */
const char *json_str(const cJSON *o, const char *k);
/* A malloc'd copy of the string member k of o, or NULL (absent, not a
 * string, or out of memory). */
char *json_strdup(const cJSON *o, const char *k);

/* True if the len bytes at s are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

#endif
