/*
 * scan_parse_help.h - what the scan_parse tests (test_scan_parse.c,
 * test_scan_sarif.c) share: the fixtures of tests/fixtures/scans/, a
 * one-run SARIF builder, and checks over a parsed report.
 *
 * The fixtures are found from the path of scan_parse_help.c as the
 * compiler saw it (absolute, or relative to the build directory three
 * levels above the test binary), or under $JIRAFS_SOURCE_DIR.  Strings
 * returned are malloc'd, the caller's.
 */
#ifndef JIRAFS_TESTS_SCAN_PARSE_HELP_H
#define JIRAFS_TESTS_SCAN_PARSE_HELP_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/scan.h"

/* The bytes of tests/fixtures/scans/NAME (NUL-terminated), or NULL. */
char *sp_fixture(const char *name, size_t *len);
/* scan_parse of a NUL-terminated text; why has 256 bytes. */
int sp_parse(const char *text, const char *scope, struct scan_report *r,
	     char *why);
/* printf into a malloc'd string */
char *sp_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* A one-run SARIF log: the driver's name and rules (JSON text of the
 * array's elements), more run members (each followed by a comma), and
 * the results (the array's elements). */
char *sp_sarif(const char *tool, const char *rules, const char *members,
	       const char *results);
/* Every text of every finding valid UTF-8, without NUL or control
 * characters but \n and \t, at most SCAN_TEXT_MAX UTF-16 units; tool,
 * rule and target set; fp a fingerprint. */
bool sp_texts_ok(const struct scan_report *r);
/* The first finding of rule whose location or target contains `in`
 * (NULL: any), or NULL. */
const struct scan_finding *sp_find(const struct scan_report *r,
				   const char *rule, const char *in);
bool sp_warned(const struct scan_report *r, const char *part);
bool sp_has_id(const struct scan_finding *f, const char *id);
/* The fixture NAME with every `from` replaced by `to` */
char *sp_edited(const char *name, const char *from, const char *to);

#endif
