/*
 * plan_priv.h - what render.c, ticket.c and plan.c share beyond scan.h:
 * a unit's content hash and summary, and the text cleaning every text
 * jirafs writes into a ticket goes through.
 *
 * Lengths are Jira's: a field's limit counts UTF-16 code units (Java
 * characters), so a character above U+FFFF counts two.  Pure functions,
 * thread-safe.
 */
#ifndef JIRAFS_SCAN_PLAN_PRIV_H
#define JIRAFS_SCAN_PLAN_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/scan.h"
#include "util/strbuf.h"

/* The most labels a created ticket gets (a group of many CVEs). */
#define SCAN_LABELS_MAX 100
/* A tool name as the state line writes it: see scan_tool_token(). */
#define SCAN_TOOL_TOKEN_SIZE 64

/* The highest severity of the findings fs[0..n) (info when n is 0). */
enum scan_severity scan_unit_severity(const struct scan_finding *const *fs,
				      size_t n);

/*
 * The content hash of a unit, computed as if its severity were sev (the
 * plan also asks "would the old severity give the old hash", to tell a
 * changed text from a changed severity):
 *   a finding (group false): scan_content_hash({sev, title, message});
 *   a group:   scan_content_hash({sev, the members' fps sorted, joined
 *              by ","}), each distinct fp once.
 * 0 or -ENOMEM.
 */
int scan_unit_content(char out[SCAN_CONTENT_SIZE],
		      const struct scan_finding *const *fs, size_t n,
		      bool group, enum scan_severity sev);

/* The summary of a unit (see scan_render_create), malloc'd; NULL when out
 * of memory. */
char *scan_render_summary(const struct scan_finding *const *fs, size_t n,
			  enum scan_group g);

/* How scan_text_add cleans a text. */
enum scan_text_mode {
	/* one line: every run of white space (new lines included) is one
	 * space, control, bidi-control and BOM characters are dropped,
	 * leading and trailing space trimmed */
	SCAN_TEXT_LINE,
	/* a block: CR LF and CR become LF, tabs and new lines stay, other
	 * control characters and BOMs are dropped, bidi controls shown as
	 * "<U+202E>" (a trojan-source finding must stay visible), trailing
	 * white space trimmed */
	SCAN_TEXT_BLOCK,
};

/* Append s (may be NULL) cleaned by mode and cut to at most max UTF-16
 * units, a cut ending in "…" on a character boundary.  Invalid UTF-8
 * becomes U+FFFD.  0 or -ENOMEM. */
int scan_text_add(struct strbuf *sb, const char *s, size_t max,
		  enum scan_text_mode mode);
/* UTF-16 units of the len bytes of UTF-8 at s. */
size_t scan_text_units(const char *s, size_t len);

/* The locations of a group as "- LOC" lines (each ending in a new line),
 * at most max units in all, the rest as "… and N more". */
int scan_add_locations(struct strbuf *sb, const struct scan_finding *const *fs,
		       size_t n, enum scan_group g, size_t max);

/* tool as the state line writes it: printable ASCII without ']' (others
 * become '-'), at most SCAN_TOOL_TOKEN_SIZE - 1 bytes, "-" when empty. */
void scan_tool_token(char out[SCAN_TOOL_TOKEN_SIZE], const char *tool);

/* Compare ticket keys: the project part bytewise, then the number
 * numerically ("SEC-9" before "SEC-10"). */
int scan_key_cmp(const char *a, const char *b);

#endif
