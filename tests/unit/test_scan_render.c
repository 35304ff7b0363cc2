/* Unit tests: scan/ticket.c and scan/render.c - the state line, ticket
 * files read back, and findings rendered as ticket files (fixtures in
 * scan_fixture.c). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "scan/plan_priv.h"
#include "scan/scan.h"
#include "scan_fixture.h"
#include "util/json.h"

/* ------------------------------------------------------------------ */
/* ticket.c                                                             */

TEST(scan_plan_state_line_format)
{
	struct scan_state s = { .known = true, .sev = SCAN_SEV_HIGH,
				.seen = true, .tool = "trivy",
				.content = "0123456789abcdef" };
	char buf[128];
	CHECK_INT(scan_state_line(buf, sizeof(buf), &s), strlen(buf));
	CHECK_STR(buf, "[jirafs-scan tool=trivy sev=high content="
		       "0123456789abcdef seen=yes]");
	s.seen = false, s.accepted = true;
	snprintf(s.tool, sizeof(s.tool), "my tool]x");
	scan_state_line(buf, sizeof(buf), &s);
	CHECK_STR(buf, "[jirafs-scan tool=my-tool-x sev=high content="
		       "0123456789abcdef seen=no accepted=yes]");
	CHECK_INT(scan_state_line(buf, 20, &s), -ENOSPC);
	s.content[3] = 'X';
	CHECK_INT(scan_state_line(buf, sizeof(buf), &s), -EINVAL);
	CHECK_STR(scan_outcome_name(SCAN_STILL_GONE), "still_gone");
	CHECK_STR(scan_outcome_name(SCAN_REFUSED), "refused");
}

static int read_text(const char *text, bool done, struct scan_ticket *t)
{
	char sl[SCAN_SCOPE_SIZE];
	scan_scope_label(sl, "web-01.sarif");
	return scan_ticket_read(text, strlen(text), done, sl, t);
}

#define FP1 "jfs-fp-0123456789abcdef0123"

TEST(scan_plan_ticket_read_labels_and_resolution)
{
	char sl[SCAN_SCOPE_SIZE], text[1024];
	struct scan_ticket t;
	scan_scope_label(sl, "web-01.sarif");
	/* the first fingerprint label counts ("...bad" is too short) */
	snprintf(text, sizeof(text),
		 "{\"key\":\"SEC-4\",\"labels\":[\"x\",\"jfs-fp-"
		 "000000000000000bad\",\"" FP1 "\",\"%s\",\"jfs-fp-"
		 "ffffffffffffffffffff\"],\"resolution\":\"Won't Fix\"}", sl);
	CHECK_INT(read_text(text, true, &t), 1);
	CHECK_STR(t.key, "SEC-4");
	CHECK_STR(t.fp, FP1);
	CHECK_STR(t.resolution, "Won't Fix");
	CHECK(t.done);
	CHECK(!t.state.known);
	scan_ticket_release(&t);
	/* another scope, no fingerprint, not JSON: not one of ours */
	CHECK_INT(read_text("{\"key\":\"SEC-1\",\"labels\":[\"jfs-scope-"
			    "000000000000\",\"" FP1 "\"]}", false, &t), 0);
	snprintf(text, sizeof(text),
		 "{\"key\":\"SEC-1\",\"labels\":[\"%s\"]}", sl);
	CHECK_INT(read_text(text, false, &t), 0);
	CHECK_INT(read_text("{\"key\":", false, &t), 0);
	CHECK(!t.key);
	snprintf(text, sizeof(text), "{\"key\":\"SEC-2\",\"resolution\":null,"
		 "\"labels\":[\"%s\",\"" FP1 "\"]}", sl);
	CHECK_INT(read_text(text, false, &t), 1);
	CHECK(!t.resolution);
	CHECK(!t.done);
	scan_ticket_release(&t);
}

#define ST "[jirafs-scan tool=trivy sev="
#define C16 " content=0123456789abcdef"

TEST(scan_plan_ticket_read_state_lines)
{
	struct fx_world w = { 0 };
	struct scan_ticket t;
	cJSON *f = fx_put(&w, "SEC-1", FP1, "web-01.sarif", false, NULL,
			  "text\n" ST "low" C16 " seen=yes]\n");
	char *s = cJSON_Print(f);
	CHECK_INT(read_text(s, false, &t), 1);
	free(s);
	CHECK(t.state.known && t.state.seen && !t.state.accepted);
	CHECK_STR(t.state.tool, "trivy");
	CHECK_INT(t.state.sev, SCAN_SEV_LOW);
	scan_ticket_release(&t);
	/* a later comment wins; unknown fields are ignored */
	fx_comment(f, "Gone.\n\n" ST "high extra=1 content=00000000000000ff "
		      "seen=no accepted=yes]");
	/* junk after it is not a state line */
	const char *junk[] = {
		ST "bogus" C16 " seen=yes]",
		ST "low content=0123 seen=yes]",
		ST "low" C16 "]",
		ST "low" C16 " seen=maybe]",
		ST "low\n" C16 " seen=yes]",
		ST "low" C16 " seen=yes",
		ST "low" C16 " [seen=yes]",
		"[jirafs-scantool=trivy sev=low" C16 " seen=yes]",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++)
		fx_comment(f, junk[i]);
	s = cJSON_Print(f);
	CHECK_INT(read_text(s, false, &t), 1);
	free(s);
	CHECK(t.state.known && !t.state.seen && t.state.accepted);
	CHECK_INT(t.state.sev, SCAN_SEV_HIGH);
	CHECK_STR(t.state.content, "00000000000000ff");
	scan_ticket_release(&t);
	fx_world_free(&w);
}

/* ------------------------------------------------------------------ */
/* render.c                                                             */

static cJSON *render(const struct scan_finding *const *fs, size_t n,
		     const struct scan_options *o, char **text)
{
	*text = scan_render_create(fs, n, fs[0]->fp, o);
	return *text ? cJSON_Parse(*text) : NULL;
}

#define EM " \xe2\x80\x94 "   /* " — " */
#define ELL "\xe2\x80\xa6"      /* "…" */
#define FS(f) ((const struct scan_finding *const *)&(f))

TEST(scan_plan_render_summary_limits)
{
	struct scan_report r = { 0 };
	struct scan_finding *f = fx_add(&r, "semgrep", "py/sql-injection",
					"api/db.py", "api/db.py:12",
					SCAN_SEV_HIGH, "Line one\nline two");
	char *s = scan_render_summary(FS(f), 1, SCAN_GROUP_FINDING);
	CHECK_STR(s, "[semgrep] py/sql-injection: Line one" EM "api/db.py");
	free(s);
	f->title = malloc(100001);
	for (int i = 0; i < 100000; i++) /* "é" and spaces, tabs, new lines */
		f->title[i] = i % 7 == 6 ? "\t\n "[i % 3] :
			      i % 2 ? (char)0xa9 : (char)0xc3;
	memcpy(f->title, "A\x01\xe2\x80\xae" "B\xe2\x81\xa6 \r\n C\x7f", 15);
	f->title[100000] = '\0';
	s = scan_render_summary(FS(f), 1, SCAN_GROUP_FINDING);
	CHECK(s && utf8_valid(s, strlen(s)));
	CHECK(scan_text_units(s, strlen(s)) <= SCAN_SUMMARY_MAX);
	CHECK(scan_text_units(s, strlen(s)) >= SCAN_SUMMARY_MAX - 1);
	CHECK(fx_starts(s, "[semgrep] py/sql-injection: AB C"));
	CHECK(!strpbrk(s, "\t\n\r\x01\x7f") && !strstr(s, "  "));
	CHECK(!strstr(s, "\xe2\x80\xae") && !strstr(s, "\xe2\x81\xa6"));
	CHECK(!strstr(s, ":12"));
	const char *end = ELL EM "api/db.py";
	CHECK_STR(s + strlen(s) - strlen(end), end);
	free(s);
	/* a group by rule names no target */
	s = scan_render_summary(FS(f), 1, SCAN_GROUP_RULE);
	CHECK(!strstr(s, "api/db.py"));
	free(s);
	/* no title, no message, no target */
	free(f->title), free(f->message), free(f->target), free(f->location);
	f->title = f->message = f->target = f->location = NULL;
	s = scan_render_summary(FS(f), 1, SCAN_GROUP_FINDING);
	CHECK_STR(s, "[semgrep] py/sql-injection");
	free(s);
	fx_free(&r);
}

TEST(scan_plan_render_text_blocks)
{
	struct strbuf sb = STRBUF_INIT;
	/* bidi controls stay visible in a block; CR LF become LF; C0 go */
	scan_text_add(&sb, "a\xe2\x80\xae" "b\r\nc\x1b[1m\td "
			   "\xf0\x9f\x98\x80\n\n", 100, SCAN_TEXT_BLOCK);
	CHECK_STR(strbuf_str(&sb), "a<U+202E>b\nc[1m\td \xf0\x9f\x98\x80");
	strbuf_release(&sb);
	/* a cut counts UTF-16 units: the emoji is two */
	scan_text_add(&sb, "ab\xf0\x9f\x98\x80" "cd", 4, SCAN_TEXT_LINE);
	CHECK_STR(strbuf_str(&sb), "ab" ELL);
	strbuf_release(&sb);
	scan_text_add(&sb, "\xff" "x", 10, SCAN_TEXT_LINE); /* invalid UTF-8 */
	CHECK_STR(strbuf_str(&sb), "\xef\xbf\xbdx");
	strbuf_release(&sb);
}

TEST(scan_plan_render_ticket_file)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct scan_finding *f = fx_add(&r, "my tool", "py/sql injection",
					"api/db.py", "api/db.py:12",
					SCAN_SEV_CRITICAL, NULL);
	o.issuetype = "Bug";
	f->title = strdup("SQL built from input");
	f->tool_version = strdup("1.2.3");
	f->message = malloc(60001);
	memset(f->message, 'm', 60000);
	f->message[60000] = '\0';
	f->help = malloc(40001);
	memset(f->help, 'h', 40000);
	f->help[40000] = '\0';
	f->help_uri = strdup("https://example.com/rule");
	f->snippet = strdup("query(\"SELECT \" + x)");
	f->nids = 2;
	f->ids = malloc(2 * sizeof(char *));
	f->ids[0] = strdup("CVE-2023-0286"), f->ids[1] = strdup("CWE-89");
	f->nlabels = 4;
	f->labels = malloc(4 * sizeof(char *));
	f->labels[0] = strdup("team web"), f->labels[1] = strdup("ÉTÉ");
	f->labels[2] = strdup("jfs-fp-ffffffffffffffffffff");
	f->labels[3] = strdup("CWE-89");
	f->fields = cJSON_Parse("{\"customfield_1\":\"x\"}");
	char *text;
	cJSON *t = render(FS(f), 1, &o, &text);
	CHECK(t);
	CHECK_STR(t->child->string, "issuetype");
	CHECK_STR(json_str(t, "issuetype"), "Bug");
	CHECK_STR(json_str(t, "priority"), "Highest");
	CHECK_STR(json_str(json_item(t, "fields"), "customfield_1"), "x");
	CHECK_STR(json_str(t, "summary"), "[my tool] py/sql injection: SQL "
					  "built from input" EM "api/db.py");
	/* labels: sanitised, deduplicated, in order, no managed ones brought */
	char sl[SCAN_SCOPE_SIZE];
	const char *want[9] = { "jirafs", f->fp, sl, "my-tool",
				"py-sql-injection", "CVE-2023-0286", "CWE-89",
				"team-web", "-T-" };
	scan_scope_label(sl, o.scope);
	cJSON *l = cJSON_GetObjectItem(t, "labels");
	CHECK_INT(cJSON_GetArraySize(l), 9);
	for (int i = 0; i < 9; i++)
		CHECK_STR(cJSON_GetArrayItem(l, i)->valuestring, want[i]);
	/* the description: within the limit, the texts cut, not the footer */
	const char *d = json_str(t, "description");
	CHECK(utf8_valid(d, strlen(d)));
	CHECK(scan_text_units(d, strlen(d)) <= SCAN_TEXT_MAX);
	CHECK(scan_text_units(d, strlen(d)) > SCAN_TEXT_MAX - 100);
	CHECK(fx_starts(d, "Tool: my tool 1.2.3\nRule: py/sql injection\n"
			   "Title: SQL built from input\nSeverity: critical\n"
			   "Target: api/db.py\nLocation: api/db.py:12\n\nmmm"));
	CHECK(strstr(d, "mmm" ELL "\n"));
	CHECK(strstr(d, "hhh" ELL "\n"));
	CHECK(strstr(d, "\nSnippet:\n{noformat}\nquery(\"SELECT \" + x)\n"
			"{noformat}\n"));
	CHECK(strstr(d, "\nReferences: CVE-2023-0286, CWE-89\n"));
	CHECK(strstr(d, "\nMore information: https://example.com/rule\n"));
	char foot[512], content[SCAN_CONTENT_SIZE];
	scan_unit_content(content, FS(f), 1, false, SCAN_SEV_CRITICAL);
	snprintf(foot, sizeof(foot), "\n----\nManaged by jirafs: scan "
		 "web-01.sarif of project SEC, fingerprint %s.\n[jirafs-scan "
		 "tool=my-tool sev=critical content=%s seen=yes]", f->fp,
		 content);
	CHECK(strlen(d) > strlen(foot));
	CHECK_STR(d + strlen(d) - strlen(foot), foot);
	/* the text is the JSON it parses to */
	char *again = json_file_text(t, NULL);
	CHECK_STR(again, text);
	free(again);
	free(text);
	cJSON_Delete(t);
	/* no priority mapped: none sent; no issue type: none either */
	o.priority[SCAN_SEV_CRITICAL] = NULL;
	o.issuetype = NULL;
	t = render(FS(f), 1, &o, &text);
	CHECK(t && !json_item(t, "priority") && !json_item(t, "issuetype"));
	cJSON_Delete(t);
	free(text);
	fx_free(&r);
}

/* A group of 3,000 members: the location list is cut, the footer not. */
TEST(scan_plan_render_big_group)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	o.group = SCAN_GROUP_RULE;
	char loc[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(loc, sizeof(loc), "src/some/long/path/f%04d.c:1", i);
		fx_add(&r, "semgrep", "rule", "src", loc, SCAN_SEV_LOW, "m");
	}
	const struct scan_finding **fs = malloc(r.n * sizeof(*fs));
	for (size_t i = 0; i < r.n; i++)
		fs[i] = &r.f[i];
	char *text = scan_render_create(fs, r.n, r.f[0].fp, &o);
	cJSON *t = cJSON_Parse(text);
	const char *d = json_str(t, "description");
	CHECK(d && scan_text_units(d, strlen(d)) <= SCAN_TEXT_MAX);
	CHECK(strstr(d, "Locations (3000):\n- src/some/long/path/f0000.c"));
	CHECK(strstr(d, " more\n\nm\n"));
	CHECK(strstr(d, "seen=yes]"));
	CHECK_STR(json_str(t, "summary"), "[semgrep] rule: m");
	cJSON_Delete(t);
	free(text);
	free(fs);
	fx_free(&r);
}
