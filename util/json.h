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
 * Also, in json_parse.c: walking a large answer member by member
 * (json_walk), and reading a value into an arena as cJSON would
 * (json_arena, json_parse_arena()), for search pages read in one pass.
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

/* Sort an object's members by key (bytewise; members of one key keep their
 * order), recursively when deep.  Allocates nothing. */
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
 * parse on its own (cJSON_ParseWithLength, json_parse_arena).  A
 * 1,000-ticket search page is 5 MB of text and 23 MB as one cJSON tree;
 * walked, it never is a tree.
 * The walk checks the structure it crosses (quotes, brackets, commas,
 * colons, nothing after the end); the values are checked by whoever parses
 * them.  Keys are the raw bytes between the quotes (escapes not decoded).
 */
struct json_walk {
	const char *s;
	size_t n, pos;
	char close; /* '}' or ']' */
	bool started, done;
	bool inner; /* ends at its closing bracket, more text may follow */
};

/* 0, or -EINVAL when the text does not start with '{' or '['. */
int json_walk_start(struct json_walk *w, const char *s, size_t n);
/* The same for a container followed by more text (the value of an outer
 * walk's member, s at its first byte and n what is left of the text): the
 * walk ends at its closing bracket, and w->pos is then just past it. */
int json_walk_start_inner(struct json_walk *w, const char *s, size_t n);
/* 1 with the next member (*key and *klen only for an object; key may be
 * NULL for arrays), 0 at the end, -EINVAL when the text is malformed. */
int json_walk_next(struct json_walk *w, const char **key, size_t *klen,
		   const char **val, size_t *vlen);
/* json_walk_next in two steps, so that a caller may read a value in the
 * same pass that finds its end: json_walk_peek() gives the next member's
 * key and the first byte of its value (*at, with the *left bytes of text
 * from there on), which it has not crossed; then either json_walk_skip()
 * crosses it as json_walk_next would, or the caller, having read it up to
 * `end`, says so with json_walk_past().  Same returns as json_walk_next. */
int json_walk_peek(struct json_walk *w, const char **key, size_t *klen,
		   const char **at, size_t *left);
int json_walk_skip(struct json_walk *w, const char **val, size_t *vlen);
void json_walk_past(struct json_walk *w, const char *end);

/*
 * An arena: many small blocks carved in order out of a few large ones and
 * freed all at once, for trees that live as long as one ticket is being
 * read.  All zeroes is an empty arena (JSON_ARENA_INIT).  After a reset
 * the arena keeps one block as large as what it held (up to a cap), so a
 * thread that reuses it allocates nothing once warm.  One thread at a
 * time.
 */
struct json_arena_block;
struct json_arena {
	struct json_arena_block *block; /* the current one; older ones chain */
	size_t held;                    /* bytes in all blocks */
};
#define JSON_ARENA_INIT { NULL, 0 }
/* n bytes aligned for any cJSON member, or NULL when out of memory. */
void *json_arena_alloc(struct json_arena *a, size_t n);
/* Forget every allocation (the memory stays for the next ones). */
void json_arena_reset(struct json_arena *a);
void json_arena_release(struct json_arena *a);

/*
 * Parse the JSON value at the start of the n bytes at s into a tree whose
 * nodes and strings live in arena a: the tree cJSON_ParseWithLength()
 * would build from the same bytes, made in one pass and without a malloc
 * per node, except that a \u0000 escape reads as U+FFFD (as after
 * json_neutralize_nul()).  *used receives the length of the value; what
 * follows it is not looked at.  0, -EINVAL when the bytes are not a JSON
 * value (or nest deeper than cJSON's CJSON_NESTING_LIMIT), -ENOMEM.  The
 * tree is valid until the arena is reset; never cJSON_Delete() it
 * (cJSON_Duplicate() makes a tree of one's own).
 */
int json_parse_arena(struct json_arena *a, const char *s, size_t n,
		     cJSON **out, size_t *used);
/* The same tree, its nodes in arena a but its strings (keys and values)
 * decoded in place in the n bytes at s, which it overwrites up to *used
 * (never beyond: each string is written over its own text, its NUL where
 * its closing quote was); the tree is valid while both the arena and s
 * are.  For a buffer read once, a search page: no string is copied.
 * After a failure the bytes of s up to the fault may have been changed. */
int json_parse_inplace(struct json_arena *a, char *s, size_t n, cJSON **out,
		       size_t *used);

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
