/* Unit tests: scan_parse of SARIF (scan/sarif.c, sarif_result.c): the
 * fixtures of Trivy, Semgrep and CodeQL, exclusions, incomplete runs,
 * identities (line drift, degenerate fingerprints, absolute URIs),
 * severities, messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "scan/scan.h"
#include "scan_parse_help.h"


TEST(scan_parse_trivy_sarif)
{
	struct scan_report r;
	char why[256];
	size_t len;
	char *t = sp_fixture("trivy-image.sarif", &len);
	CHECK(t && scan_parse(t, len, "web-image", &r, why, sizeof(why)) == 0);
	free(t);
	const struct scan_finding *crypto = sp_find(&r, "CVE-2023-5363", NULL);
	const struct scan_finding *ssl = &r.f[1], *zlib = &r.f[2];
	CHECK(crypto && crypto == &r.f[0]);
	CHECK_STR(ssl->rule, "CVE-2023-5363");
	CHECK(strcmp(crypto->fp, ssl->fp) != 0); /* one CVE, two packages */
	CHECK_INT(crypto->loc_kind, SCAN_LOC_MESSAGE);
	CHECK_STR(crypto->target, "shop/web");
	CHECK_STR(crypto->tool_version, "0.50.1");
	CHECK_INT(crypto->severity, SCAN_SEV_HIGH);
	CHECK_INT(zlib->severity, SCAN_SEV_CRITICAL);
	CHECK(sp_has_id(crypto, "CVE-2023-5363"));
	CHECK_STR(crypto->title,
		  "openssl: Incorrect cipher key and IV length processing");
	CHECK_STR(crypto->help_uri, "https://avd.aquasec.com/nvd/cve-2023-5363");
	CHECK(strstr(crypto->message, "Package: libcrypto3"));
	char fp[SCAN_FP_SIZE];
	memcpy(fp, crypto->fp, sizeof(fp));
	scan_report_release(&r);
	/* libcrypto3 upgraded but still vulnerable: the same finding */
	t = sp_edited("trivy-image.sarif", "libcrypto3@3.1.2-r0", "libcrypto3@3.1.3-r0");
	CHECK(t && sp_parse(t, "web-image", &r, why) == 0);
	free(t);
	CHECK_STR(r.f[0].fp, fp);
	scan_report_release(&r);
}

TEST(scan_parse_semgrep_placeholder_fingerprint)
{
	struct scan_report r;
	char why[256];
	size_t len;
	char *t = sp_fixture("semgrep.sarif", &len);
	CHECK(t && scan_parse(t, len, "src", &r, why, sizeof(why)) == 0);
	free(t);
	CHECK_INT(r.results, 4);
	CHECK_INT(r.suppressed, 1); /* nosemgrep */
	CHECK_INT(r.n, 3);
	CHECK(sp_warned(&r, "\"matchBasedId/v1\" is not an identity"));
	for (size_t i = 0; i < r.n; i++)
		CHECK_INT(r.f[i].loc_kind, SCAN_LOC_SNIPPET);
	CHECK(strcmp(r.f[0].fp, r.f[1].fp) != 0);
	const struct scan_finding *f = sp_find(&r, "python.lang.security.audit."
					    "subprocess-shell-true.subprocess-"
					    "shell-true", "app/views.py");
	CHECK(f && sp_has_id(f, "CWE-78") && f->nids == 1);
	CHECK_STR(f->tool, "semgrep");
	CHECK_STR(f->tool_version, "1.56.0");
	CHECK_STR(f->location, "app/views.py:42");
	CHECK_INT(f->severity, SCAN_SEV_HIGH); /* rule level error */
	CHECK_STR(f->title, "Found 'subprocess' function 'run' with 'shell=True'.");
	CHECK(f->snippet && strstr(f->snippet, "shell=True"));
	CHECK(!r.incomplete);
	scan_report_release(&r);
	/* a single result: the placeholder alone is enough to tell */
	t = sp_sarif("Semgrep PRO", "", "", "{\"ruleId\": \"r\", \"message\": "
		  "{\"text\": \"m\"}, \"fingerprints\": {\"matchBasedId/v1\": "
		  "\"requires login\"}}");
	CHECK(sp_parse(t, "src", &r, why) == 0);
	free(t);
	CHECK(r.n == 1 && r.f[0].loc_kind == SCAN_LOC_MESSAGE);
	CHECK_STR(r.tools[0], "semgrep");
	scan_report_release(&r);
}

TEST(scan_parse_codeql_rules_in_extensions)
{
	struct scan_report r;
	char why[256];
	size_t len;
	char *t = sp_fixture("codeql.sarif", &len);
	CHECK(t && scan_parse(t, len, "web", &r, why, sizeof(why)) == 0);
	free(t);
	const struct scan_finding *sql = sp_find(&r, "js/sql-injection", NULL);
	const struct scan_finding *x1 = sp_find(&r, "js/xss", ":112");
	const struct scan_finding *x2 = sp_find(&r, "js/xss", ":140");
	CHECK(sql && x1 && x2);
	CHECK_INT(sql->loc_kind, SCAN_LOC_PARTIAL);
	CHECK_STR(sql->title, "Database query built from user-controlled sources");
	CHECK_INT(sql->severity, SCAN_SEV_HIGH);   /* 8.8 */
	CHECK_INT(x1->severity, SCAN_SEV_MEDIUM);  /* 6.1 */
	CHECK(sp_has_id(sql, "CWE-89") && sp_has_id(sql, "CWE-943"));
	CHECK(sp_has_id(x1, "CWE-79") && sp_has_id(x1, "CWE-116") && x1->nids == 2);
	CHECK_STR(x2->target, "src/public/app.js"); /* artifacts[1] */
	CHECK(strcmp(x1->fp, x2->fp) != 0);
	CHECK(sql->help && strstr(sql->help, "# Database query"));
	CHECK_STR(sql->tool, "codeql");
	CHECK_STR(sql->tool_version, "2.16.1");
	CHECK_INT(r.nwarnings, 0);
	char fp[SCAN_FP_SIZE];
	memcpy(fp, sql->fp, sizeof(fp));
	scan_report_release(&r);
	/* the category is part of the identity; the line is not */
	t = sp_edited("codeql.sarif", "/language:javascript/", "/language:python/");
	CHECK(t && sp_parse(t, "web", &r, why) == 0);
	free(t);
	CHECK(strcmp(sp_find(&r, "js/sql-injection", NULL)->fp, fp) != 0);
	scan_report_release(&r);
	t = sp_edited("codeql.sarif", "\"startLine\": 27", "\"startLine\": 270");
	CHECK(t && sp_parse(t, "web", &r, why) == 0);
	free(t);
	CHECK_STR(sp_find(&r, "js/sql-injection", NULL)->fp, fp);
	scan_report_release(&r);
	t = sp_edited("codeql.sarif", "\"startLine\": 27", "\"startLine\": 270");
	CHECK(t && sp_parse(t, "web-staging", &r, why) == 0);
	free(t);
	CHECK(strcmp(sp_find(&r, "js/sql-injection", NULL)->fp, fp) != 0);
	scan_report_release(&r);
}

/* results of one rule "r", at one place each, built by the caller */
static int parse_results(const char *results, struct scan_report *r)
{
	char why[256];
	char *t = sp_sarif("tool", "{\"id\": \"r\"}", "", results);
	int rc = sp_parse(t, "x", r, why);
	free(t);
	return rc;
}

#define AT(uri, line) \
	"\"locations\": [{\"physicalLocation\": {\"artifactLocation\": " \
	"{\"uri\": \"" uri "\"}, \"region\": {\"startLine\": " #line "}}}]"

TEST(scan_parse_exclusions)
{
	struct scan_report r;
	const char *res =
		"{\"ruleId\": \"r\", \"kind\": \"pass\", \"message\": {\"text\": \"1\"}},"
		"{\"ruleId\": \"r\", \"kind\": \"notApplicable\", \"message\": {\"text\": \"2\"}},"
		"{\"ruleId\": \"r\", \"kind\": \"informational\", \"message\": {\"text\": \"3\"}},"
		"{\"ruleId\": \"r\", \"kind\": \"open\", \"message\": {\"text\": \"4\"}},"
		"{\"ruleId\": \"r\", \"kind\": \"review\", \"message\": {\"text\": \"5\"}},"
		"{\"ruleId\": \"r\", \"baselineState\": \"absent\", \"message\": {\"text\": \"6\"}},"
		"{\"ruleId\": \"r\", \"baselineState\": \"new\", \"message\": {\"text\": \"7\"}},"
		"{\"ruleId\": \"r\", \"suppressions\": [{\"kind\": \"external\", \"status\": "
		"\"rejected\"}], \"message\": {\"text\": \"8\"}},"
		"{\"ruleId\": \"r\", \"suppressions\": [{\"kind\": \"external\", \"status\": "
		"\"accepted\"}], \"message\": {\"text\": \"9\"}},"
		"{\"ruleId\": \"r\", \"suppressions\": [{\"kind\": \"inSource\", \"status\": "
		"\"underReview\"}], \"message\": {\"text\": \"10\"}},"
		"{\"ruleId\": \"r\", \"suppressions\": [{\"kind\": \"inSource\"}], "
		"\"message\": {\"text\": \"11\"}},"
		"{\"ruleId\": \"r\", \"suppressions\": [], \"message\": {\"text\": \"12\"}}";
	CHECK(parse_results(res, &r) == 0);
	CHECK_INT(r.results, 12);
	CHECK_INT(r.not_failures, 3);
	CHECK_INT(r.suppressed, 3);
	CHECK_INT(r.n, 5); /* open, review, new, rejected, [] */
	const char *kept[] = { "4", "5", "7", "8", "12" };
	for (size_t i = 0; i < 5; i++)
		CHECK_STR(r.f[i].message, kept[i]);
	CHECK(!r.incomplete);
	scan_report_release(&r);
}

TEST(scan_parse_incomplete_runs)
{
	struct scan_report r;
	char why[256];
	char *t = sp_sarif("tool", "", "\"invocations\": [{\"executionSuccessful\": "
			"false, \"toolExecutionNotifications\": [{\"level\": \"error\", "
			"\"message\": {\"text\": \"out of memory\"}}]}],",
			"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}}");
	CHECK(sp_parse(t, "x", &r, why) == 0);
	free(t);
	CHECK(r.incomplete && r.n == 1);
	CHECK(strstr(r.incomplete_why, "executionSuccessful is false: out of memory"));
	scan_report_release(&r);
	const char *runs[] = {
		"{\"tool\": {\"driver\": {\"name\": \"a\"}}, \"results\": null}",
		"{\"tool\": {\"driver\": {\"name\": \"a\"}}}",
	};
	for (size_t i = 0; i < 2; i++) {
		t = sp_fmt("{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": "
			"{\"name\": \"b\"}}, \"results\": []}, %s]}", runs[i]);
		CHECK(sp_parse(t, "x", &r, why) == 0);
		free(t);
		CHECK(r.incomplete && strstr(r.incomplete_why, "run 2 (a): no results"));
		CHECK(r.ntools == 2);
		scan_report_release(&r);
	}
	/* [] ran and found nothing */
	CHECK(parse_results("", &r) == 0);
	CHECK(!r.incomplete && r.n == 0 && r.ntools == 1);
	scan_report_release(&r);
	/* every result suppressed (old Grype): neither create nor close */
	CHECK(parse_results("{\"ruleId\": \"r\", \"suppressions\": [{\"kind\": "
			    "\"external\"}], \"message\": {\"text\": \"a\"}},"
			    "{\"ruleId\": \"r\", \"suppressions\": [{\"kind\": "
			    "\"external\"}], \"message\": {\"text\": \"b\"}}", &r) == 0);
	CHECK(r.incomplete && r.n == 0 && r.suppressed == 2);
	CHECK(sp_warned(&r, "every result is suppressed"));
	scan_report_release(&r);
}

#define FMT_RES \
	"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, " \
	"\"fingerprints\": {\"x/v1\": \"aa\", \"x/v2\": \"bb\", \"y/v1\": \"cc\"}, " \
	"\"locations\": [{\"physicalLocation\": {\"artifactLocation\": " \
	"{\"uri\": \"a.c\"}, \"region\": {\"startLine\": %d}}}]}," \
	"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, " \
	"\"partialFingerprints\": {\"k\": \"v\", \"commitSha\": \"%d\"}, " \
	"\"locations\": [{\"physicalLocation\": {\"artifactLocation\": " \
	"{\"uri\": \"a.c\"}, \"region\": {\"startLine\": %d}}}]}," \
	"{\"ruleId\": \"r\", \"message\": {\"text\": \"m at %d\"}, " \
	"\"locations\": [{\"physicalLocation\": {\"artifactLocation\": " \
	"{\"uri\": \"a.c\"}, \"region\": {\"startLine\": %d, \"snippet\": " \
	"{\"text\": \"  strcpy(buf,\\n   src);\"}}}}]}," \
	"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, " \
	"\"locations\": [{\"physicalLocation\": {\"artifactLocation\": " \
	"{\"uri\": \"a.c\"}, \"region\": {\"startLine\": %d}}}]}"

TEST(scan_parse_identity_ignores_the_line)
{
	/* one result of each identity kind, then the same at other lines */
	struct scan_report a, b;
	char *ra = sp_fmt(FMT_RES, 1, 1, 2, 3, 3, 4);
	char *rb = sp_fmt(FMT_RES, 90, 2, 91, 92, 92, 93);
	CHECK(parse_results(ra, &a) == 0 && parse_results(rb, &b) == 0);
	free(ra);
	free(rb);
	CHECK(a.n == 4 && b.n == 4);
	enum scan_loc_kind kinds[] = { SCAN_LOC_TOOL_FP, SCAN_LOC_PARTIAL,
				       SCAN_LOC_SNIPPET, SCAN_LOC_MESSAGE };
	for (size_t i = 0; i < 4; i++) {
		CHECK_INT(a.f[i].loc_kind, kinds[i]);
		CHECK_STR(a.f[i].fp, b.f[i].fp);
	}
	/* fingerprints: method "x" at its highest version */
	const char *parts[] = { "sarif", "x", "", "tool", "r", "fingerprint",
				"x/v2=bb" };
	char fp[SCAN_FP_SIZE];
	scan_fp(fp, parts, 7);
	CHECK_STR(a.f[0].fp, fp);
	CHECK_STR(a.f[0].location, "a.c:1");
	scan_report_release(&a);
	scan_report_release(&b);
	/* one message twice in one file: told apart by occurrence */
	CHECK(parse_results("{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, "
			    AT("a.c", 1) "}, {\"ruleId\": \"r\", \"message\": "
			    "{\"text\": \"m\"}, " AT("a.c", 9) "}", &a) == 0);
	CHECK(a.n == 2 && strcmp(a.f[0].fp, a.f[1].fp) != 0);
	scan_report_release(&a);
}

TEST(scan_parse_colliding_context_hash)
{
	/* flawfinder hashes the line's text: one line in two files */
	struct scan_report r;
	char why[256];
	char *t = sp_sarif("Flawfinder", "{\"id\": \"FF1004\", \"name\": \"buffer/strcpy\", "
		"\"shortDescription\": {\"text\": \"Does not check for buffer "
		"overflows (CWE-120)\"}, \"properties\": {\"tags\": [\"CWE-120\"]}}",
		"",
		"{\"ruleId\": \"FF1004\", \"message\": {\"text\": \"buffer/strcpy\"}, "
		"\"fingerprints\": {\"contextHash/v1\": \"3a4b\"}, \"locations\": "
		"[{\"physicalLocation\": {\"artifactLocation\": {\"uri\": \"a.c\"}, "
		"\"region\": {\"startLine\": 4, \"snippet\": {\"text\": \"strcpy(d, s);\"}}}}]},"
		"{\"ruleId\": \"FF1004\", \"message\": {\"text\": \"buffer/strcpy\"}, "
		"\"fingerprints\": {\"contextHash/v1\": \"3a4b\"}, \"locations\": "
		"[{\"physicalLocation\": {\"artifactLocation\": {\"uri\": \"b.c\"}, "
		"\"region\": {\"startLine\": 8, \"snippet\": {\"text\": \"strcpy(d, s);\"}}}}]}");
	CHECK(sp_parse(t, "c", &r, why) == 0);
	free(t);
	CHECK_INT(r.n, 2);
	CHECK(sp_warned(&r, "\"contextHash/v1\" is not an identity"));
	CHECK(r.f[0].loc_kind == SCAN_LOC_SNIPPET && r.f[1].loc_kind == SCAN_LOC_SNIPPET);
	CHECK(strcmp(r.f[0].fp, r.f[1].fp) != 0);
	CHECK(sp_has_id(&r.f[0], "CWE-120"));
	CHECK_STR(r.f[0].tool, "flawfinder");
	scan_report_release(&r);
}

#define TMPL \
	"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, \"locations\": " \
	"[{\"physicalLocation\": {\"artifactLocation\": {\"uri\": " \
	"\"file://%s/src/a%%20b.js\"}, \"region\": {\"startLine\": 1}}}]}," \
	"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, \"locations\": " \
	"[{\"physicalLocation\": {\"artifactLocation\": {\"uri\": " \
	"\"file://%s/lib/b.js\"}, \"region\": {\"startLine\": 2}}}]}"

TEST(scan_parse_absolute_uris_of_two_machines)
{
	struct scan_report a, b;
	char *ra = sp_fmt(TMPL, "/home/alice/proj", "/home/alice/proj");
	char *rb = sp_fmt(TMPL, "/builds/ci/42/checkout", "/builds/ci/42/checkout");
	CHECK(parse_results(ra, &a) == 0 && parse_results(rb, &b) == 0);
	free(ra);
	free(rb);
	CHECK(a.n == 2 && b.n == 2);
	CHECK_STR(a.f[0].target, "src/a b.js");
	CHECK_STR(a.f[1].target, "lib/b.js");
	CHECK_STR(a.f[0].fp, b.f[0].fp);
	CHECK_STR(a.f[1].fp, b.f[1].fp);
	CHECK(sp_warned(&a, "absolute file URIs made relative"));
	scan_report_release(&a);
	scan_report_release(&b);
}

/* ESLint lists every file it linted in run.artifacts: the common
 * directory stays when one file's last finding goes. */
TEST(scan_parse_absolute_uris_rooted_by_the_listed_files)
{
	const char *arts =
		"\"artifacts\": [{\"location\": {\"uri\": "
		"\"file:///w/p/app.js\"}}, {\"location\": {\"uri\": "
		"\"file:///w/p/sub/lib.js\"}}],";
	const char *both =
		"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, "
		AT("file:///w/p/app.js", 3) "},"
		"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, "
		AT("file:///w/p/sub/lib.js", 4) "}";
	const char *one =
		"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, "
		AT("file:///w/p/sub/lib.js", 4) "}";
	struct scan_report a, b;
	char why[256];
	char *ta = sp_sarif("eslint", "{\"id\": \"r\"}", arts, both);
	char *tb = sp_sarif("eslint", "{\"id\": \"r\"}", arts, one);
	CHECK(sp_parse(ta, "x", &a, why) == 0 && sp_parse(tb, "x", &b, why) == 0);
	free(ta);
	free(tb);
	CHECK(a.n == 2 && b.n == 1);
	const struct scan_finding *fa = sp_find(&a, "r", "lib.js");
	CHECK(fa != NULL);
	CHECK_STR(fa->target, "sub/lib.js");
	CHECK_STR(b.f[0].target, "sub/lib.js");
	CHECK_STR(fa->fp, b.f[0].fp);
	scan_report_release(&a);
	scan_report_release(&b);
}

TEST(scan_parse_severities)
{
	static const struct {
		const char *result, *rule;
		enum scan_severity want;
	} c[] = {
		{ "\"properties\": {\"security-severity\": \"9.0\"}", "", SCAN_SEV_CRITICAL },
		{ "\"properties\": {\"security-severity\": \"8.9\"}", "", SCAN_SEV_HIGH },
		{ "\"properties\": {\"security-severity\": 5}", "", SCAN_SEV_MEDIUM },
		{ "\"properties\": {\"security-severity\": \"0.1\"}", "", SCAN_SEV_LOW },
		{ "\"properties\": {\"security-severity\": \"0.0\"}", "", SCAN_SEV_INFO },
		{ "\"properties\": {\"security-severity\": \"high\"}, \"level\": \"note\"",
		  "", SCAN_SEV_LOW },
		{ "\"level\": \"error\"", "", SCAN_SEV_HIGH },
		{ "\"level\": \"none\"", "", SCAN_SEV_INFO },
		{ "\"kind\": \"fail\"", "", SCAN_SEV_MEDIUM },
		{ "\"kind\": \"fail\"", ", \"defaultConfiguration\": {\"level\": \"note\"}",
		  SCAN_SEV_LOW },
		{ "\"level\": \"warning\"", ", \"properties\": {\"security-severity\": "
		  "\"10.0\"}", SCAN_SEV_CRITICAL },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct scan_report r;
		char why[256];
		char *rule = sp_fmt("{\"id\": \"r\"%s}", c[i].rule);
		char *res = sp_fmt("{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, %s}",
				c[i].result);
		char *t = sp_sarif("tool", rule, "", res);
		CHECK(sp_parse(t, "x", &r, why) == 0);
		free(t);
		free(rule);
		free(res);
		if (r.n != 1 || r.f[0].severity != c[i].want)
			FAIL_("case %zu: severity %d", i, r.n ? (int)r.f[0].severity : -1);
		scan_report_release(&r);
	}
}

TEST(scan_parse_messages_and_rule_lookup)
{
	struct scan_report r;
	char why[256];
	char *t = sp_sarif("tool",
		"{\"id\": \"a\", \"shortDescription\": {\"text\": \"Rule A\"}},"
		"{\"id\": \"b\", \"name\": \"Rule B\", \"helpUri\": \"https://h/b\", "
		"\"messageStrings\": {\"default\": {\"text\": \"{0} calls {1}; {{kept}} {7}\"}}}",
		"",
		"{\"ruleIndex\": 1, \"message\": {\"id\": \"default\", \"arguments\": "
		"[\"main\", \"gets\"]}},"
		"{\"rule\": {\"id\": \"a\"}, \"message\": {\"markdown\": \"**md** text\"}},"
		"{\"ruleId\": \"zzz\", \"message\": {\"text\": \"First sentence. Second one.\"}}");
	CHECK(sp_parse(t, "x", &r, why) == 0);
	free(t);
	CHECK_INT(r.n, 3);
	CHECK_STR(r.f[0].rule, "b");
	CHECK_STR(r.f[0].message, "main calls gets; {kept} {7}");
	CHECK_STR(r.f[0].title, "Rule B");
	CHECK_STR(r.f[0].help_uri, "https://h/b");
	CHECK_STR(r.f[1].rule, "a");
	CHECK_STR(r.f[1].title, "Rule A");
	CHECK_STR(r.f[1].message, "**md** text");
	CHECK_STR(r.f[2].title, "First sentence.");
	scan_report_release(&r);
}

TEST(scan_parse_partial_fingerprint_collisions_and_tool_names)
{
	struct scan_report r;
	char why[256];
	/* one partial value on two results of one rule and file: no identity;
	 * the same value in two files is (the file is joined to it) */
	char *t = sp_sarif("CodeQL command-line toolchain", "", "",
		"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, " AT("a.c", 1)
		", \"partialFingerprints\": {\"h\": \"1\", \"g\": \"x\"}},"
		"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, " AT("a.c", 2)
		", \"partialFingerprints\": {\"h\": \"2\", \"g\": \"x\"}},"
		"{\"ruleId\": \"r\", \"message\": {\"text\": \"m\"}, " AT("b.c", 2)
		", \"partialFingerprints\": {\"h\": \"2\", \"g\": \"\"}}");
	CHECK(sp_parse(t, "x", &r, why) == 0);
	free(t);
	CHECK(sp_warned(&r, "partial fingerprint \"g\" is not an identity"));
	CHECK(!sp_warned(&r, "\"h\""));
	CHECK_INT(r.n, 3);
	const char *parts[] = { "sarif", "x", "", "codeql", "r", "partial",
				"b.c", "h=2" };
	char fp[SCAN_FP_SIZE];
	scan_fp(fp, parts, 8);
	CHECK_STR(r.f[2].fp, fp);
	CHECK(strcmp(r.f[1].fp, r.f[2].fp) != 0);
	CHECK_STR(r.tools[0], "codeql");
	scan_report_release(&r);
	/* old Grype's name; two runs, two tools */
	t = sp_fmt("{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": "
		   "{\"name\": \"Anchore Container Vulnerability Report (T0)\"}}, "
		   "\"results\": []}, {\"tool\": {\"driver\": {\"name\": \"ESLint\", "
		   "\"version\": \"8.57.0\"}}, \"results\": [{\"ruleId\": \"no-eval\", "
		   "\"message\": {\"text\": \"eval can be harmful.\"}}]}]}");
	CHECK(sp_parse(t, "x", &r, why) == 0);
	free(t);
	CHECK(r.ntools == 2 && !strcmp(r.tools[0], "grype") &&
	      !strcmp(r.tools[1], "eslint"));
	CHECK(r.n == 1 && !strcmp(r.f[0].tool_version, "8.57.0"));
	scan_report_release(&r);
}
