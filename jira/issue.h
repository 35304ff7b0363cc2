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

struct blob_chunk;

struct jira_issue {
	atomic_int refs;
	bool done;      /* status category is "done" */
	char *key;      /* "SEC-12"; always matches jira_key_valid() */
	char *id;       /* Jira's numeric id as text, may be "" */
	char *project;  /* "SEC" */
	char *status;   /* status name, "" if Jira gave none */
	struct timespec created, updated; /* zero when unparseable */
	char *updated_raw; /* Jira's "updated" string, "" if none */
	char *text;     /* the ticket file, NUL-terminated */
	size_t text_len;
	struct blob_chunk *chunk; /* the struct and its strings live there */
};

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
