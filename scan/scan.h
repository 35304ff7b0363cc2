/*
 * scan.h - the scanner bridge's pure half (CONTRACT §10): a report's bytes
 * become findings, and findings against the tickets already carrying their
 * fingerprints become a plan of ordinary operations.
 *
 *   report.c   detects the format from the content and dispatches;
 *              the severity scale and its names
 *   sarif.c    SARIF 2.1.0 (every run, every result; rules of the driver
 *              and its extensions), walked one result at a time;
 *              sarif_result.c one result -> a finding
 *   trivy.c    Trivy's JSON report (vulnerabilities, misconfigurations,
 *              secrets)
 *   lines.c    the one-finding-per-line JSON of home-made scripts
 *   text.c     texts made safe and cut to Jira's limits; CVE/CWE ids
 *   fp.c       fingerprints and the scope label
 *   render.c   a finding as a ticket: summary, description, labels,
 *              priority, within Jira's field limits
 *   ticket.c   a ticket file read back: its fingerprint, scope and the
 *              state jirafs last wrote into it
 *   plan.c     findings + tickets -> actions, counts and the safety rule
 *
 * Nothing here makes a request, touches a file or takes a lock: fs/scans.c
 * feeds it bytes and the project listing, and journals what comes out.
 * Strings are malloc'd and owned by the struct holding them.
 */
#ifndef JIRAFS_SCAN_SCAN_H
#define JIRAFS_SCAN_SCAN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* "jfs-fp-" + 20 lower-case hex digits */
#define SCAN_FP_PREFIX "jfs-fp-"
#define SCAN_FP_HEX 20
#define SCAN_FP_SIZE (sizeof(SCAN_FP_PREFIX) - 1 + SCAN_FP_HEX + 1)
/* "jfs-scope-" + 12 hex digits: every ticket of one scan scope */
#define SCAN_SCOPE_PREFIX "jfs-scope-"
#define SCAN_SCOPE_HEX 12
#define SCAN_SCOPE_SIZE (sizeof(SCAN_SCOPE_PREFIX) - 1 + SCAN_SCOPE_HEX + 1)
/* a content hash: 16 hex digits */
#define SCAN_CONTENT_SIZE 17

/* Jira's limits (DC defaults): summary 255 characters, a text field or a
 * comment 32,767 characters, a label 255 characters without spaces. */
#define SCAN_SUMMARY_MAX 255
#define SCAN_TEXT_MAX 32767
#define SCAN_LABEL_MAX 255

enum scan_severity {
	SCAN_SEV_INFO,
	SCAN_SEV_LOW,
	SCAN_SEV_MEDIUM,
	SCAN_SEV_HIGH,
	SCAN_SEV_CRITICAL,
};
#define SCAN_SEV_COUNT 5

/* "info", "low", "medium", "high", "critical" */
const char *scan_severity_name(enum scan_severity s);
/* The severity of a name (case-insensitive; also "unknown"/"none"/"note" ->
 * info, "moderate" -> medium, "error" -> high, "warning" -> medium):
 * 0 with *out, or -EINVAL. */
int scan_severity_parse(const char *name, enum scan_severity *out);

enum scan_format { SCAN_FMT_SARIF, SCAN_FMT_TRIVY, SCAN_FMT_LINES };
/* "sarif", "trivy", "lines" */
const char *scan_format_name(enum scan_format f);

/* How a finding's identity was made (documented per format in README). */
enum scan_loc_kind {
	SCAN_LOC_TOOL_FP,   /* SARIF fingerprints */
	SCAN_LOC_PARTIAL,   /* SARIF partialFingerprints */
	SCAN_LOC_SNIPPET,   /* artifact + hash of the region's snippet */
	SCAN_LOC_MESSAGE,   /* artifact + hash of the message */
	SCAN_LOC_ID,        /* an id the format defines (Trivy, lines) */
};

/* One finding.  Every text is valid UTF-8, without NUL; lengths are cut
 * at parse time to what a ticket can show (SCAN_TEXT_MAX characters). */
struct scan_finding {
	char fp[SCAN_FP_SIZE];  /* identity within its scope */
	enum scan_loc_kind loc_kind;
	char *tool;         /* normalised: "flawfinder", "trivy", "semgrep" */
	char *tool_version; /* may be NULL */
	char *rule;         /* rule / check / vulnerability id: "FF1004",
			       "CVE-2023-0286", "py/sql-injection" */
	char *title;        /* the rule's short description, Trivy's Title,
			       the line's title; may be NULL */
	char *message;      /* the result's own text; may be NULL */
	char *help;         /* the rule's help / full description; may be NULL */
	char *help_uri;     /* may be NULL */
	char *target;       /* what was scanned: the artifact's relative URI,
			       Trivy's Target, the line's asset */
	char *location;     /* for people: "src/a.c:12", "openssl 3.0.7
			       (fixed in 3.0.8)"; may be NULL */
	char *snippet;      /* may be NULL; NULL for secrets (redacted) */
	char **ids;         /* CVE-/CWE-/GHSA- ids, upper case, deduplicated */
	size_t nids;
	char **labels;      /* extra labels (lines format), as given */
	size_t nlabels;
	cJSON *fields;      /* lines format: extra Jira fields, or NULL */
	enum scan_severity severity;
};

/* A whole report, parsed. */
struct scan_report {
	enum scan_format format;
	struct scan_finding *f;
	size_t n, cap;
	size_t results;     /* results read, before the exclusions below */
	size_t suppressed;  /* SARIF suppressions (accepted / under review) */
	size_t not_failures;/* SARIF kind pass / notApplicable / informational */
	/* The tool said it did not finish (SARIF executionSuccessful false,
	 * a run whose results are null or absent): nothing may be closed. */
	bool incomplete;
	char incomplete_why[256];
	char **tools;       /* normalised names of the tools seen (distinct) */
	size_t ntools;
	char **warnings;    /* for the result file: degenerate fingerprints
			       ignored, absolute URIs, truncated texts ... */
	size_t nwarnings;
};

/*
 * Parse a report: the format is told by the content (a SARIF log has
 * "version": "2.1.0" and "runs"; a Trivy report "SchemaVersion" and
 * "Results" or "ArtifactName"; anything whose every non-empty line is a
 * JSON object is the lines format).  scope is the report's name in scans/
 * and goes into every fingerprint.  0; -EINVAL with the reason (one line,
 * for user.jira.error) in why: not a known format, invalid JSON, truncated,
 * a required member missing; -ENOMEM.  On failure *r is empty.
 */
int scan_parse(const char *text, size_t len, const char *scope,
	       struct scan_report *r, char *why, size_t whysize);
void scan_report_release(struct scan_report *r);

/* Fingerprints: SCAN_FP_PREFIX + the first SCAN_FP_HEX hex digits of
 * sha256("jfs1" NUL part0 NUL part1 ...).  NULL parts count as "". */
void scan_fp(char out[SCAN_FP_SIZE], const char *const *parts, size_t n);
/* The label of a scope: SCAN_SCOPE_PREFIX + 12 hex of sha256(scope). */
void scan_scope_label(char out[SCAN_SCOPE_SIZE], const char *scope);
/* 16 hex digits of sha256 over the parts, as scan_fp (change detection) */
void scan_content_hash(char out[SCAN_CONTENT_SIZE], const char *const *parts,
		       size_t n);
/* Is s a fingerprint label (SCAN_FP_PREFIX + SCAN_FP_HEX lower hex)? */
bool scan_is_fp(const char *s);

/* ------------------------------------------------------------------ */
/* The tickets of a scope, as the listing holds them (ticket.c)        */

/* What jirafs last recorded in a ticket, in the state line it writes at
 * the end of the description and of each of its comments:
 *   [jirafs-scan tool=trivy sev=high content=0123456789abcdef seen=yes]
 * seen=no after a "no longer reported" comment; " accepted=yes" added
 * after the one comment a risk-accepted ticket gets. */
struct scan_state {
	bool known;         /* a state line was found */
	char tool[64];
	enum scan_severity sev;
	char content[SCAN_CONTENT_SIZE];
	bool seen;
	bool accepted;      /* accepted=yes: a ticket closed as risk accepted
			       was told once that the finding is still
			       reported */
};

struct scan_ticket {
	char *key;          /* "SEC-12" */
	char fp[SCAN_FP_SIZE];
	bool done;          /* status category done */
	char *resolution;   /* NULL when unresolved */
	struct scan_state state; /* the latest state line */
};

/*
 * Read a ticket file (CONTRACT §3 text) as a ticket of the scope whose
 * label is scope_label: 1 when it carries that label and a fingerprint
 * label (*t filled), 0 when it is not one of the scope's, -ENOMEM.
 * done comes from the listing (the status category), not the text.
 */
int scan_ticket_read(const char *text, size_t len, bool done,
		     const char *scope_label, struct scan_ticket *t);
void scan_ticket_release(struct scan_ticket *t);
/* The last state line of text (a comment still waiting to be sent) into
 * *st; *st is left as it was when there is none. */
void scan_state_find(const char *text, struct scan_state *st);

/* ------------------------------------------------------------------ */
/* The plan (plan.c, render.c)                                          */

enum scan_group { SCAN_GROUP_FINDING, SCAN_GROUP_RULE, SCAN_GROUP_RULE_TARGET };

struct scan_options {
	const char *project;        /* "SEC" */
	const char *scope;          /* "web-01.sarif" */
	enum scan_group group;
	enum scan_severity min_severity; /* below it: skipped */
	/* priority names by severity (index enum scan_severity) */
	const char *priority[SCAN_SEV_COUNT];
	bool autoclose;
	int autoclose_max_pct;      /* 0..100 */
	const char *const *accepted; /* resolutions meaning "risk accepted" */
	size_t naccepted;
	const char *issuetype;      /* NULL: the mount's default */
	const char *scan_id;        /* for texts: when/where, e.g. a time */
};

enum scan_action_kind {
	SCAN_ACT_CREATE,  /* body: a CONTRACT §3 ticket file to create */
	SCAN_ACT_COMMENT, /* body: plain text */
	SCAN_ACT_CLOSE,   /* resolution: NULL for the mount's default */
	SCAN_ACT_REOPEN,
};

struct scan_action {
	enum scan_action_kind kind;
	char *key;          /* NULL for a create */
	char fp[SCAN_FP_SIZE];
	char *body;         /* create, comment */
	char *resolution;   /* close: e.g. "Duplicate"; NULL: default */
};

/* What became of each finding (or group), for the result file. */
enum scan_outcome {
	SCAN_NEW,        /* a create is planned */
	SCAN_UNCHANGED,
	SCAN_CHANGED,    /* a comment */
	SCAN_REOPENED,
	SCAN_ACCEPTED,   /* closed with an accepted-risk resolution: commented once */
	SCAN_GONE,       /* absent: a comment (and a close when autoclose) */
	SCAN_CLOSED,     /* absent and closed by this plan */
	SCAN_STILL_GONE, /* absent before, and still: nothing */
	SCAN_SKIPPED,    /* below scan_min_severity */
	SCAN_DUPLICATE,  /* a second ticket of one fingerprint, closed */
	SCAN_REFUSED,    /* absent, but the safety rule refused closes:
			    nothing done */
};
const char *scan_outcome_name(enum scan_outcome o);

struct scan_entry {
	char fp[SCAN_FP_SIZE];
	char *key;          /* NULL for a new one */
	char *summary;
	enum scan_outcome outcome;
};

struct scan_counts {
	size_t findings, skipped, suppressed, new_, unchanged, changed,
	    reopened, accepted, gone, closed, refused, duplicates;
};

struct scan_plan {
	struct scan_action *a;
	size_t n, cap;
	struct scan_entry *e;
	size_t ne, ecap;
	struct scan_counts counts;
	/* why no close was planned although some were due, or "" */
	char close_refused[256];
};

/*
 * The plan of one import.  tickets: every ticket of the project carrying
 * this scope's label (scan_ticket_read), open and closed.  Per finding (or
 * group): no ticket -> create; an open one with the same state -> nothing;
 * another severity or content -> one comment; a done one -> reopen and a
 * comment, unless its resolution is one of `accepted` (a comment once);
 * tickets of the scope whose tool is in the report but whose fingerprint
 * is not -> a comment, and a close with autoclose, unless the safety rule
 * refuses closes (report incomplete, empty after non-empty, or more than
 * autoclose_max_pct of the scope's open tickets would close).  Several
 * open tickets with one fingerprint: the lowest key stays, the others are
 * closed as "Duplicate".  0 or -ENOMEM.
 */
int scan_plan_make(const struct scan_report *r,
		   const struct scan_ticket *tickets, size_t ntickets,
		   const struct scan_options *o, struct scan_plan *p);
void scan_plan_release(struct scan_plan *p);

/* The ticket file (CONTRACT §3 shape) that creates the ticket of f (or of
 * the group of findings fs[0..n)), malloc'd; NULL when out of memory. */
char *scan_render_create(const struct scan_finding *const *fs, size_t n,
			 const char *fp, const struct scan_options *o);
/* The state line of a finding or group, as scan_ticket_read finds it:
 * its length, -ENOSPC, or -EINVAL for an invalid severity or content. */
int scan_state_line(char *buf, size_t size, const struct scan_state *s);

#endif
