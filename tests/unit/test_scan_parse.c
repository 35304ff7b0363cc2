/* Unit tests: scan_parse (scan/report.c, text.c, trivy.c, lines.c):
 * format detection, refusals, Trivy's JSON report, the lines format,
 * hostile texts, a big report's memory.  SARIF: test_scan_sarif.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "scan/scan.h"
#include "scan_parse_help.h"
#include "util/json.h"
#include "util/strbuf.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifndef ASAN
#define ASAN 0
#endif

TEST(scan_parse_names)
{
	enum scan_severity s;
	CHECK_STR(scan_severity_name(SCAN_SEV_CRITICAL), "critical");
	CHECK_STR(scan_severity_name(SCAN_SEV_INFO), "info");
	CHECK_STR(scan_format_name(SCAN_FMT_TRIVY), "trivy");
	CHECK_STR(scan_format_name(SCAN_FMT_LINES), "lines");
	CHECK(scan_severity_parse("HIGH", &s) == 0 && s == SCAN_SEV_HIGH);
	CHECK(scan_severity_parse("Moderate", &s) == 0 && s == SCAN_SEV_MEDIUM);
	CHECK(scan_severity_parse("UNKNOWN", &s) == 0 && s == SCAN_SEV_INFO);
	CHECK(scan_severity_parse("error", &s) == 0 && s == SCAN_SEV_HIGH);
	CHECK(scan_severity_parse("urgent", &s) == -EINVAL);
}

TEST(scan_parse_detects_each_fixture)
{
	static const struct {
		const char *name;
		enum scan_format f;
		size_t n;
		const char *tool;
	} fx[] = {
		{ "trivy-image.sarif", SCAN_FMT_SARIF, 4, "trivy" },
		{ "semgrep.sarif", SCAN_FMT_SARIF, 3, "semgrep" },
		{ "codeql.sarif", SCAN_FMT_SARIF, 3, "codeql" },
		{ "trivy-report.json", SCAN_FMT_TRIVY, 7, "trivy" },
		{ "script.jsonl", SCAN_FMT_LINES, 4, "hostcheck" },
	};
	for (size_t i = 0; i < sizeof(fx) / sizeof(*fx); i++) {
		struct scan_report r;
		char why[256];
		size_t len;
		char *t = sp_fixture(fx[i].name, &len);
		CHECK(t != NULL);
		int rc = scan_parse(t, len, "web", &r, why, sizeof(why));
		free(t);
		if (rc)
			FAIL_("%s: %s", fx[i].name, why);
		CHECK_INT(r.format, fx[i].f);
		CHECK_INT(r.n, fx[i].n);
		CHECK_INT(r.ntools, 1);
		CHECK_STR(r.tools[0], fx[i].tool);
		CHECK(!r.incomplete);
		CHECK(sp_texts_ok(&r));
		scan_report_release(&r);
	}
	/* a BOM and white space first; $schema instead of version */
	struct scan_report r;
	char why[256];
	CHECK(sp_parse("\xef\xbb\xbf \n {\"$schema\": \"https://json.schemastore.org/"
		    "sarif-2.1.0.json\", \"runs\": []}", "x", &r, why) == 0);
	CHECK_INT(r.format, SCAN_FMT_SARIF);
	CHECK_INT(r.n, 0);
	scan_report_release(&r);
	CHECK(sp_parse("\xef\xbb\xbf\n\n{}\n", "x", &r, why) == 0);
	CHECK_INT(r.format, SCAN_FMT_LINES);
	CHECK_INT(r.n, 0);
	CHECK(r.ntools == 1 && !strcmp(r.tools[0], "script"));
	scan_report_release(&r);
	CHECK(sp_parse("{\"SchemaVersion\": 2, \"ArtifactName\": \".\", "
		    "\"ArtifactType\": \"filesystem\"}", "x", &r, why) == 0);
	CHECK_INT(r.format, SCAN_FMT_TRIVY);
	CHECK(r.n == 0 && !r.incomplete && !strcmp(r.tools[0], "trivy"));
	scan_report_release(&r);
}

TEST(scan_parse_rejects_with_a_reason)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "empty report" },
		{ " \n\t\n", "empty report" },
		{ "[1, 2]", "not SARIF 2.1.0" },
		{ "hello", "not SARIF 2.1.0" },
		{ "{\n  \"name\": \"not a report\"\n}\n", "not SARIF 2.1.0" },
		{ "{\"version\": \"2.0.0\", \"runs\": []}", "SARIF version \"2.0.0\"" },
		{ "{\"version\": \"2.1.0\", \"runs\": {}}", "not an array" },
		{ "{\"version\": \"2.1.0\", \"runs\": [{\"results\": [1]}]}",
		  "runs[0].results[0]: not an object" },
		{ "{\"version\": \"2.1.0\", \"runs\": [{\"results\": [{\"a\": tru}]}]}",
		  "runs[0].results[0]: invalid JSON at byte" },
		{ "{\"id\": \"a\", \"title\": \"t\", \"severity\": \"high\"}",
		  "line 1: \"asset\" missing" },
		{ "{}\n{\"id\": \"a\", \"title\": \"\", \"severity\": \"high\", "
		  "\"asset\": \"h\"}", "line 2: \"title\" is empty" },
		{ "\n\n{\"id\": \"a\", \"title\": \"t\", \"severity\": \"urgent\", "
		  "\"asset\": \"h\"}", "line 3: \"severity\" \"urgent\"" },
		{ "{}\n[1]\n", "line 2: not a JSON object" },
		{ "{}\n{\"id\": 7}\n", "line 2: \"id\" is not a string" },
		{ "{}\n{\"id\": \"a\", \"title\": \"t\", \"severity\": \"low\", "
		  "\"asset\": \"h\", \"labels\": \"x\"}", "\"labels\" is not an array" },
		{ "{}\n{\"id\": \"a\", \"title\": \"t\", \"severity\": \"low\", "
		  "\"asset\": \"h\", \"fields\": []}", "\"fields\" is not an object" },
		{ "{\"SchemaVersion\": 2, \"Results\": {}}", "\"Results\" is not an array" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct scan_report r;
		char why[256];
		memset(&r, 0x5a, sizeof(r));
		int rc = sp_parse(bad[i].text, "x", &r, why);
		if (rc != -EINVAL || !strstr(why, bad[i].why))
			FAIL_("case %zu: rc %d, why \"%s\"", i, rc, why);
		CHECK(r.n == 0 && r.f == NULL && r.tools == NULL &&
		      r.warnings == NULL);
		CHECK(!strchr(why, '\n'));
	}
}

TEST(scan_parse_truncated_reports_are_refused)
{
	const char *names[] = { "trivy-image.sarif", "semgrep.sarif",
				"codeql.sarif", "trivy-report.json",
				"script.jsonl" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		size_t len;
		char *t = sp_fixture(names[i], &len);
		CHECK(t != NULL);
		size_t cuts[] = { len / 3, len / 2, len - 8 };
		for (size_t k = 0; k < 3; k++) {
			while (t[cuts[k] - 1] == '\n' || t[cuts[k]] == '\n')
				cuts[k]--; /* inside a line */
			struct scan_report r;
			char why[256];
			int rc = scan_parse(t, cuts[k], "x", &r, why, sizeof(why));
			if (rc != -EINVAL || !strstr(why, "invalid JSON"))
				FAIL_("%s cut at %zu: rc %d, why \"%s\"", names[i],
				      cuts[k], rc, why);
			CHECK(r.n == 0);
		}
		free(t);
	}
}

TEST(scan_parse_trivy_json)
{
	struct scan_report r;
	char why[256];
	size_t len;
	char *t = sp_fixture("trivy-report.json", &len);
	CHECK(t && scan_parse(t, len, "web", &r, why, sizeof(why)) == 0);
	free(t);
	CHECK_INT(r.results, 8);
	CHECK_INT(r.not_failures, 1); /* DS026 PASS */
	const struct scan_finding *crypto = sp_find(&r, "CVE-2023-5363", "libcrypto3");
	const struct scan_finding *ssl = sp_find(&r, "CVE-2023-5363", "libssl3");
	const struct scan_finding *lodash = sp_find(&r, "CVE-2021-23337", NULL);
	const struct scan_finding *ds = sp_find(&r, "AVD-DS-0002", NULL);
	const struct scan_finding *key = sp_find(&r, "aws-access-key-id", NULL);
	CHECK(crypto && ssl && lodash && ds && key);
	CHECK(strcmp(crypto->fp, ssl->fp) != 0);
	CHECK_INT(crypto->loc_kind, SCAN_LOC_ID);
	CHECK_STR(crypto->target, "registry.example.com/shop/web");
	CHECK_STR(crypto->message, "libcrypto3 3.1.2-r0 (fixed in 3.1.4-r0)");
	CHECK_STR(crypto->location, "libcrypto3@3.1.2-r0 in registry.example.com/"
		  "shop/web:1.4.2 (alpine 3.18.4)");
	CHECK(sp_has_id(crypto, "CVE-2023-5363") && sp_has_id(crypto, "CWE-326"));
	CHECK_STR(crypto->tool_version, "0.50.1");
	CHECK_INT(lodash->severity, SCAN_SEV_HIGH);
	CHECK(sp_has_id(sp_find(&r, "GHSA-jf85-cpcp-j695", NULL), "GHSA-JF85-CPCP-J695"));
	CHECK_STR(sp_find(&r, "CVE-2023-42363", NULL)->message,
		  "busybox 1.36.1-r2 (no fixed version: affected)");
	CHECK_STR(ds->title, "Image user should not be 'root'");
	CHECK(strstr(ds->help, "Resolution: Add 'USER"));
	CHECK(key->snippet == NULL && !strstr(key->message, "****"));
	CHECK_STR(key->location, "app/config/.env:3");
	CHECK_INT(key->severity, SCAN_SEV_CRITICAL);
	char fps[3][SCAN_FP_SIZE];
	memcpy(fps[0], crypto->fp, SCAN_FP_SIZE);
	memcpy(fps[1], lodash->fp, SCAN_FP_SIZE);
	memcpy(fps[2], key->fp, SCAN_FP_SIZE);
	scan_report_release(&r);
	/* a new build (tag), an upgrade that is still vulnerable, a new
	 * distro point release: the same findings */
	char *b = sp_edited("trivy-report.json", "1.4.2", "1.5.0");
	CHECK(b);
	t = sp_edited("trivy-report.json", "\"InstalledVersion\": \"3.1.2-r0\"",
		   "\"InstalledVersion\": \"3.1.3-r0\"");
	CHECK(t && sp_parse(t, "web", &r, why) == 0);
	CHECK_STR(sp_find(&r, "CVE-2023-5363", "libcrypto3")->fp, fps[0]);
	scan_report_release(&r);
	free(t);
	CHECK(sp_parse(b, "web", &r, why) == 0);
	CHECK_STR(sp_find(&r, "CVE-2023-5363", "libcrypto3")->fp, fps[0]);
	CHECK_STR(sp_find(&r, "CVE-2021-23337", NULL)->fp, fps[1]);
	CHECK_STR(sp_find(&r, "aws-access-key-id", NULL)->fp, fps[2]);
	scan_report_release(&r);
	free(b);
	t = sp_edited("trivy-report.json", "(alpine 3.18.4)", "(alpine 3.18.5)");
	CHECK(t && sp_parse(t, "web", &r, why) == 0);
	free(t);
	CHECK_STR(sp_find(&r, "CVE-2023-5363", "libcrypto3")->fp, fps[0]);
	scan_report_release(&r);
	/* null Results: a clean, complete scan */
	CHECK(sp_parse("{\"SchemaVersion\": 2, \"ArtifactName\": \"a:1\", "
		    "\"ArtifactType\": \"container_image\", \"Results\": null}",
		    "web", &r, why) == 0);
	CHECK(r.n == 0 && !r.incomplete && r.ntools == 1);
	scan_report_release(&r);
}

TEST(scan_parse_lines)
{
	struct scan_report r;
	char why[256];
	size_t len;
	char *t = sp_fixture("script.jsonl", &len);
	CHECK(t && scan_parse(t, len, "hosts", &r, why, sizeof(why)) == 0);
	free(t);
	const struct scan_finding *ssh = sp_find(&r, "ssh-config", NULL);
	const struct scan_finding *ossl = sp_find(&r, "package-version", NULL);
	const struct scan_finding *ntp = sp_find(&r, "ntp-unsynced", NULL);
	CHECK(ssh && ossl && ntp);
	CHECK_INT(ssh->severity, SCAN_SEV_HIGH);
	CHECK_STR(ssh->target, "web-01.example.com");
	CHECK_STR(ssh->message, "PermitRootLogin is yes in /etc/ssh/sshd_config.");
	CHECK(ssh->nlabels == 2 && !strcmp(ssh->labels[1], "hardening"));
	CHECK_INT(ssh->loc_kind, SCAN_LOC_ID);
	CHECK(sp_has_id(ossl, "CVE-2023-0286"));
	CHECK(cJSON_IsArray(json_item(ossl->fields, "components")));
	CHECK_STR(ntp->rule, "ntp-unsynced"); /* rule defaults to the id */
	const char *parts[] = { "lines", "hosts", "hostcheck",
				"web-01.example.com", "ssh-root-login" };
	char fp[SCAN_FP_SIZE];
	scan_fp(fp, parts, 5);
	CHECK_STR(ssh->fp, fp);
	scan_report_release(&r);
	/* a repeated line is one finding; a tool declared by its own line */
	CHECK(sp_parse("{\"tool\": \"Disk Check\"}\n"
		    "{\"id\": \"a\", \"title\": \"t\", \"severity\": \"INFO\", "
		    "\"asset\": \"h\"}\r\n"
		    "{\"id\": \"a\", \"title\": \"t\", \"severity\": \"info\", "
		    "\"asset\": \"h\"}\n", "x", &r, why) == 0);
	CHECK_INT(r.n, 1);
	CHECK(sp_warned(&r, "repeat"));
	CHECK(r.ntools == 2 && !strcmp(r.tools[0], "disk-check") &&
	      !strcmp(r.tools[1], "script"));
	scan_report_release(&r);
}

TEST(scan_parse_hostile_texts)
{
	struct scan_report r;
	char why[256];
	struct strbuf big = STRBUF_INIT;
	for (int i = 0; i < 100000 / 10; i++)
		strbuf_adds(&big, "0123456789");
	char *t = sp_sarif("t\\u0001ool\\u0000x",
		"{\"id\": \"r\\u0000\\u001b[31mred\\u001b[0m\", \"shortDescription\": "
		"{\"text\": \"\\u202eevil\\u202c title\\r\\nnext \\ud800 lone\"}}",
		"",
		"{\"ruleId\": \"r\\u0000\\u001b[31mred\\u001b[0m\", \"message\": "
		"{\"text\": \"bad \xff\xfe bytes \xc3\x28 \xed\xa0\x80 tab\\there\\r\\nline\\u0085\\u007f\"}, "
		"\"locations\": [{\"physicalLocation\": {\"artifactLocation\": "
		"{\"uri\": \"a\\u0000b\"}, \"region\": {\"startLine\": 1e999, "
		"\"snippet\": {\"text\": \"x\"}}}}]}");
	CHECK(sp_parse(t, "x", &r, why) == 0);
	free(t);
	CHECK(sp_texts_ok(&r) && r.n == 1);
	CHECK_STR(r.f[0].rule, "r\xef\xbf\xbdred");
	CHECK(strstr(r.f[0].title, "\xe2\x80\xae" "evil")); /* RTL kept, valid */
	CHECK(strstr(r.f[0].title, "next \xef\xbf\xbd lone"));
	CHECK(strstr(r.f[0].message, "tab\there\nline"));
	CHECK(r.f[0].location == NULL); /* 1e999 is no line */
	scan_report_release(&r);
	/* a 100 KB message and snippet: cut */
	char *res = sp_fmt("{\"ruleId\": \"r\", \"message\": {\"text\": \"%s\"}, "
			"\"locations\": [{\"physicalLocation\": {\"artifactLocation\":"
			" {\"uri\": \"a\"}, \"region\": {\"snippet\": {\"text\": "
			"\"\xf0\x9f\x98\x80%s\"}}}}]}", big.buf, big.buf);
	t = sp_sarif("tool", "", "", res);
	free(res);
	CHECK(sp_parse(t, "x", &r, why) == 0);
	free(t);
	CHECK(sp_texts_ok(&r));
	CHECK_INT(strlen(r.f[0].message), SCAN_TEXT_MAX);
	CHECK_INT(strlen(r.f[0].snippet), 4 + SCAN_TEXT_MAX - 2);
	CHECK(sp_warned(&r, "cut to 32767"));
	scan_report_release(&r);
	/* placeholders cannot blow up: a 100 KB argument 1,000 times */
	struct strbuf m = STRBUF_INIT;
	for (int i = 0; i < 1000; i++)
		strbuf_adds(&m, "{0}");
	res = sp_fmt("{\"ruleId\": \"r\", \"message\": {\"text\": \"%s\", "
		  "\"arguments\": [\"%s\"]}}", m.buf, big.buf);
	t = sp_sarif("tool", "", "", res);
	free(res);
	CHECK(sp_parse(t, "x", &r, why) == 0);
	free(t);
	CHECK(sp_texts_ok(&r) && strlen(r.f[0].message) == SCAN_TEXT_MAX);
	scan_report_release(&r);
	/* deeply nested junk in a result: refused, not a crash */
	strbuf_release(&m);
	for (int i = 0; i < 5000; i++)
		strbuf_addc(&m, '[');
	for (int i = 0; i < 5000; i++)
		strbuf_addc(&m, ']');
	res = sp_fmt("{\"ruleId\": \"r\", \"properties\": {\"junk\": %s}}", m.buf);
	t = sp_sarif("tool", "", "", res);
	free(res);
	CHECK(sp_parse(t, "x", &r, why) == -EINVAL && strstr(why, "results[0]"));
	free(t);
	strbuf_release(&m);
	strbuf_release(&big);
	/* lines: control characters, invalid UTF-8, fields cleaned */
	CHECK(sp_parse("{\"id\": \"a\\u0007\", \"title\": \"t\\u0000\xff\", \"severity\": "
		    "\"low\", \"asset\": \"h\\nost\", \"fields\": {\"k\\u0001\": "
		    "[\"v\\u0002\xc0\"]}}", "x", &r, why) == 0);
	CHECK(sp_texts_ok(&r));
	CHECK_STR(r.f[0].target, "h ost");
	char *fj = cJSON_PrintUnformatted(r.f[0].fields);
	CHECK(fj && utf8_valid(fj, strlen(fj)) && !strstr(fj, "\\u0001"));
	free(fj);
	scan_report_release(&r);
}

TEST(scan_parse_too_many_findings)
{
	struct strbuf sb = STRBUF_INIT;
	struct scan_report r;
	char why[256];
	for (int i = 0; i <= 100000; i++)
		strbuf_addf(&sb, "{\"id\": \"i%d\", \"title\": \"t\", "
			    "\"severity\": \"low\", \"asset\": \"a\"}\n", i);
	CHECK(scan_parse(sb.buf, sb.len, "x", &r, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "more than 100000 findings"));
	CHECK(r.n == 0 && r.f == NULL);
	strbuf_release(&sb);
}

/* VmHWM/VmRSS of this process in KiB (0 when unknown) */
static long vm_kib(const char *what)
{
	char line[256];
	long kib = 0;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, what, strlen(what)))
			kib = atol(line + strlen(what) + 1);
	if (f)
		fclose(f);
	return kib;
}

TEST(scan_parse_big_report_bounded_memory)
{
	/* JIRAFS_SCAN_BIG_MB (default 16) of SARIF in 20,000 results */
	const char *env = getenv("JIRAFS_SCAN_BIG_MB");
	size_t mb = env ? (size_t)atol(env) : 16, n = 20000;
	size_t pad = mb * 1024 * 1024 / n > 400 ? mb * 1024 * 1024 / n - 400 : 1;
	struct strbuf sb = STRBUF_INIT;
	char *filler = malloc(pad + 1);
	CHECK(filler);
	memset(filler, 'x', pad);
	filler[pad] = '\0';
	strbuf_adds(&sb, "{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": "
		    "{\"name\": \"gen\", \"rules\": [{\"id\": \"R1\", \"help\": "
		    "{\"text\": \"help text of the rule\"}}]}}, \"results\": [");
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s{\"ruleId\": \"R1\", \"message\": {\"text\": "
			    "\"finding %zu: %s\"}, \"locations\": [{\"physicalLocation\":"
			    " {\"artifactLocation\": {\"uri\": \"src/f%zu.c\"}, "
			    "\"region\": {\"startLine\": %zu, \"snippet\": {\"text\": "
			    "\"call(%zu);\"}}}}], \"partialFingerprints\": "
			    "{\"primaryLocationLineHash\": \"%016zx:1\"}}",
			    i ? ",\n" : "", i, filler, i % 500, i + 1, i, i * 7919);
	strbuf_adds(&sb, "]}]}");
	free(filler);
	CHECK(!sb.failed);
	FILE *f = fopen("/proc/self/clear_refs", "w"); /* reset VmHWM */
	bool reset = f && fputs("5", f) >= 0;
	if (f)
		reset = fclose(f) == 0 && reset;
	long base = vm_kib("VmRSS:");
	struct scan_report r;
	char why[256];
	clock_t t0 = clock();
	CHECK(scan_parse(sb.buf, sb.len, "big", &r, why, sizeof(why)) == 0);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	long peak = vm_kib("VmHWM:") - base;
	CHECK_INT(r.n, n);
	CHECK_INT(r.results, n);
	CHECK(r.f[n - 1].loc_kind == SCAN_LOC_PARTIAL);
	fprintf(stderr, "  %zu MiB, %zu results: %.2f s, peak RSS +%ld KiB%s\n",
		sb.len >> 20, n, secs, peak, reset ? "" : " (peak not reset)");
#if !ASAN
	/* the findings keep their texts (~the report's size); the walk adds
	 * one result's tree at a time, never the whole report's */
	if (reset && base)
		CHECK(peak < (long)(sb.len / 1024) * 2 + 64 * 1024);
#endif
	scan_report_release(&r);
	strbuf_release(&sb);
}
