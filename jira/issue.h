/*
 * issue.h - one Jira ticket as jirafs shows it.
 *
 * jira_issue_from_json() turns an IssueBean (as /search and /issue return
 * it) into a struct jira_issue: a few fields the tree needs (key, status
 * category, times) plus `text`, the ticket file of CONTRACT §3: pretty JSON
 * with a two-space indent, fixed key order, `fields` sorted by id, and a
 * trailing newline.  The rendering is deterministic: the same IssueBean
 * always gives the same bytes, and it is always valid JSON and UTF-8 even
 * when Jira's data is not.
 *
 * A struct jira_issue is immutable once built and reference-counted, so a
 * reader may keep one (an open file does) while the tree replaces it.
 * jira_issue_ref/unref are thread-safe.
 */
#ifndef JIRAFS_JIRA_ISSUE_H
#define JIRAFS_JIRA_ISSUE_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/json.h"
#include "util/strbuf.h"

struct blob_chunk;

struct jira_issue {
	atomic_int refs;
	bool done;      /* status category is "done" */
	unsigned attachments; /* how many its fields.attachment lists */
	char *key;      /* "SEC-12"; always matches jira_key_valid() */
	char *id;       /* Jira's numeric id as text, may be "" */
	char *project;  /* "SEC" */
	char *status;   /* status name, "" if Jira gave none */
	struct timespec created, updated; /* zero when unparseable */
	char *updated_raw; /* Jira's "updated" string, "" if none */
	size_t text_len;   /* the ticket file's length */
	/* the ticket file, packed (jira_issue_text() gives it back): in
	 * memory after the strings, or at zoff in the spill file */
	const char *ztext; /* NULL when spilled */
	long long zoff;
	unsigned zlen;
	unsigned char zform;
	struct blob_chunk *chunk; /* the struct and its strings live there */
};

/* The ticket file of i, unpacked: malloc'd and NUL-terminated, its length
 * in *len (may be NULL).  NULL when out of memory or when the spill file
 * cannot be read back (logged). */
char *jira_issue_text(const struct jira_issue *i, size_t *len);
/* The same into sb, whose content it replaces: 0, -ENOMEM or -EIO. */
int jira_issue_text_to(const struct jira_issue *i, struct strbuf *sb);

/*
 * The store of ticket files (jira/issue_text.c): compressed, within
 * memory_max bytes of memory, and beyond it in a file in dir (made with
 * O_TMPFILE, so it goes with the process).  SIZE_MAX: no limit, no file.
 * Called once before any ticket is built (the defaults are SIZE_MAX).
 * 0, or -errno with the reason in err (then there is no limit).
 */
int jira_text_store_setup(const char *dir, size_t memory_max, char *err,
			  size_t errsize);
struct jira_text_stats {
	size_t tickets;       /* texts held */
	size_t bytes;         /* their length as files */
	size_t memory;        /* what they take in memory, packed */
	size_t spilled;       /* texts in the file */
	size_t spilled_bytes; /* what they take there */
	size_t memory_max;
};
void jira_text_stats(struct jira_text_stats *st);

/* Build from one element of a search's "issues" (or GET issue's answer).
 * Returns 0, -EINVAL with a reason in errbuf when the bean has no usable
 * key, or -ENOMEM.  The new issue holds one reference.  bean is only read
 * (a tree of cJSON's or of json_parse_arena()). */
int jira_issue_from_json(const cJSON *bean, struct jira_issue **out,
			 char *errbuf, size_t errsize);

/*
 * What a thread reuses from one ticket to the next: the ticket's tree and
 * its text are made in it, so that a ticket costs one allocation (its
 * blob) rather than one per JSON node; `bean` is the caller's, for the
 * bean's own tree (json_parse_arena()), and jira_issue_build() leaves it
 * alone.  All zeroes (JIRA_ISSUE_SCRATCH_INIT) is an empty one;
 * jira_issue_scratch_release() frees what it holds.  One thread at a time.
 */
struct jira_issue_scratch {
	struct json_arena bean;
	struct json_arena tree;
	struct strbuf text;
};
#define JIRA_ISSUE_SCRATCH_INIT { JSON_ARENA_INIT, JSON_ARENA_INIT, STRBUF_INIT }
/* jira_issue_from_json(), in s's space. */
int jira_issue_build(struct jira_issue_scratch *s, const cJSON *bean,
		     struct jira_issue **out, char *errbuf, size_t errsize);
void jira_issue_scratch_release(struct jira_issue_scratch *s);

/* Render the §3 ticket file of an IssueBean into a malloc'd string. */
char *jira_issue_render(const cJSON *bean, size_t *len);

struct jira_issue *jira_issue_ref(struct jira_issue *i);
void jira_issue_unref(struct jira_issue *i);

/* "SEC-12": a project key ([A-Z][A-Z0-9_]*), '-', a number without leading
 * zero. */
bool jira_key_valid(const char *key);
/* A project key: [A-Z][A-Z0-9_]{0,254}. */
bool jira_project_key_valid(const char *key);
/* The project of a ticket key ("SEC" of "SEC-12": what comes before the
 * last '-'), written into buf.  Returns buf, or NULL when key has no
 * project part or it does not fit in size bytes (buf is then "").  Checks
 * nothing else: see jira_key_valid(). */
const char *jira_key_project(const char *key, char *buf, size_t size);

/* Parse Jira's time format "2026-11-02T09:14:03.000+0000" (also "Z",
 * "+05:30", no fraction).  0 or -EINVAL. */
int jira_time_parse(const char *s, struct timespec *out);

#endif
