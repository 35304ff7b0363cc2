/*
 * parse_priv.h - what report.c shares with the format parsers (sarif.c,
 * trivy.c, lines.c): the parse context, text cleaning, ids, warnings and
 * the findings array.
 *
 * A report is never one cJSON tree: report.c walks the top-level object
 * (json_walk) and hands each parser the raw bytes of the members that
 * tell its format; the parsers walk further and parse one small value at
 * a time (scanp_json).  Pure functions of their arguments, thread-safe.
 */
#ifndef JIRAFS_SCAN_PARSE_PRIV_H
#define JIRAFS_SCAN_PARSE_PRIV_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "scan/scan.h"
#include "util/map.h"
#include "util/strbuf.h"

/* More findings than this in one report: -EINVAL (split the report). */
#define SCANP_FINDINGS_MAX 100000
/* Most ids (CVE/CWE/GHSA) kept per finding. */
#define SCANP_IDS_MAX 64
/* Most warnings kept; the rest are counted in one last warning. */
#define SCANP_WARNINGS_MAX 32

/* The raw bytes of one JSON value inside the report (p NULL: absent). */
struct scanp_span {
	const char *p;
	size_t n;
};

/* The members of the top-level object that tell the format. */
struct scanp_top {
	struct scanp_span version, schema, runs;          /* SARIF */
	struct scanp_span schema_version, results, artifact_name,
	    artifact_type, trivy;                         /* Trivy */
};

struct scanp_ctx {
	struct scan_report *r;
	const char *text;      /* the whole report, for byte offsets */
	size_t len;
	const char *scope;
	char *why;
	size_t whysize;
	struct strbuf scratch; /* one value's bytes, NUL-terminated */
	/* Bytes of stored text left before every further text is cut to
	 * SCAN_SUMMARY_MAX: rule texts are copied into each finding, so
	 * 100,000 results of a rule with a 32 KB help would otherwise need
	 * 3 GB. */
	size_t budget;
	size_t ncut;           /* texts cut to SCAN_TEXT_MAX */
	size_t nsqueezed;      /* texts cut short by the budget */
	size_t nwarn_dropped;  /* warnings past SCANP_WARNINGS_MAX */
};

/* How a text is cleaned (every text stored in a finding is): valid UTF-8
 * (invalid bytes become U+FFFD), no NUL, ANSI colour sequences dropped,
 * other control characters U+FFFD, cut on a character boundary to
 * SCAN_TEXT_MAX UTF-16 units (Jira's count). */
enum scanp_mode {
	SCANP_LINE,  /* white space runs (new lines too) are one space,
			trimmed */
	SCANP_BLOCK, /* CR LF and CR become LF; LF and tab kept */
};

/* Set why (one line) and return -EINVAL. */
int scanp_fail(struct scanp_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A warning for the result file (identical ones once).  0 or -ENOMEM. */
int scanp_warn(struct scanp_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse the value at v alone (copied into the scratch buffer, \u0000
 * neutralised).  0 with *out (the caller's to delete); -EINVAL with why
 * naming `what` and the byte offset in the report; -ENOMEM. */
int scanp_json(struct scanp_ctx *c, struct scanp_span v, const char *what,
	       cJSON **out);
/* Why for a failed json_walk_next over a value starting at `at`. */
int scanp_walk_fail(struct scanp_ctx *c, const char *what, const char *at);

/* *dst = s (n bytes; s NULL: *dst NULL) cleaned by mode.  0 or -ENOMEM. */
int scanp_text(struct scanp_ctx *c, char **dst, const char *s, size_t n,
	       enum scanp_mode mode);
/* The same for a NUL-terminated s (may be NULL). */
int scanp_textz(struct scanp_ctx *c, char **dst, const char *s,
		enum scanp_mode mode);
/* s (n bytes; NULL: "") cleaned by mode, outside the budget (parts of an
 * identity, parser-internal copies); malloc'd, NULL when out of memory. */
char *scanp_clean(const char *s, size_t n, enum scanp_mode mode);
/* The same, cut to at most max UTF-16 units. */
char *scanp_cut(const char *s, size_t n, enum scanp_mode mode, size_t max);

/* A new zeroed finding at the end of r->f.  0; -EINVAL past
 * SCANP_FINDINGS_MAX; -ENOMEM. */
int scanp_finding(struct scanp_ctx *c, struct scan_finding **f);
void scanp_finding_release(struct scan_finding *f);

/* The normalised name of a tool (lower case, spaces '-', known aliases:
 * "Semgrep OSS" -> "semgrep", "CodeQL command-line toolchain" -> "codeql"
 * ...), malloc'd and recorded in r->tools; 0 or -ENOMEM. */
int scanp_tool(struct scanp_ctx *c, const char *raw, char **out);

/* Add the CVE-/GHSA-/CWE- ids found in s (NULL: none) to f: upper case,
 * "cwe-079" -> "CWE-79", each once.  0 or -ENOMEM. */
int scanp_ids(struct scan_finding *f, const char *s);

/* The occurrence index of the parts among the calls so far with the same
 * parts on m (0 for the first).  0 or -ENOMEM. */
int scanp_occurrence(struct map *m, const char *const *parts, size_t n,
		     size_t *idx);
/* map_free(m) after free() of every value. */
void scanp_map_free(struct map *m);

/* The format parsers.  0, -EINVAL (why set), -ENOMEM. */
int scanp_sarif(struct scanp_ctx *c, const struct scanp_top *t);
int scanp_trivy(struct scanp_ctx *c, const struct scanp_top *t);
/* Lines format over text[0..len) (a BOM already skipped at the start). */
int scanp_lines(struct scanp_ctx *c, const char *text, size_t len);
/* Is the first non-blank line of text[0..len) one whole JSON object? */
bool scanp_lines_sniff(const char *text, size_t len);

#endif
