/* Unit tests: scan/plan.c - the plan of an import against the tickets of
 * its scope, applied to a little Jira of ticket files and planned again
 * (fixtures in scan_fixture.c). */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "scan/plan_priv.h"
#include "scan/scan.h"
#include "scan_fixture.h"
#include "util/json.h"

/* ------------------------------------------------------------------ */
/* plan.c                                                               */

TEST(scan_plan_new_then_unchanged)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	for (int i = 0; i < 2; i++) /* the same result twice: one finding */
		fx_add(&r, "trivy", "CVE-1", "img", "openssl", SCAN_SEV_HIGH,
		       "m");
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 1);
	CHECK_INT(p.a[0].kind, SCAN_ACT_CREATE);
	CHECK(!p.a[0].key);
	CHECK_STR(p.a[0].fp, r.f[0].fp);
	CHECK_INT(p.ne, 1);
	CHECK_INT(p.e[0].outcome, SCAN_NEW);
	CHECK_STR(p.e[0].summary, "[trivy] CVE-1: m \xe2\x80\x94 img");
	CHECK_INT(p.counts.new_, 1);
	CHECK_INT(p.counts.findings, 2);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.e[0].outcome, SCAN_UNCHANGED);
	CHECK_STR(p.e[0].key, "SEC-1");
	CHECK_INT(p.counts.unchanged, 1);
	scan_plan_release(&p);
	fx_world_free(&w);
	fx_free(&r);
}

TEST(scan_plan_changed_one_comment)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	struct scan_finding *f = fx_add(&r, "trivy", "CVE-1", "img", "openssl",
				     SCAN_SEV_MEDIUM, "m");
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	f->severity = SCAN_SEV_HIGH;
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 1);
	CHECK_INT(p.a[0].kind, SCAN_ACT_COMMENT);
	CHECK_STR(p.a[0].key, "SEC-1");
	CHECK(strstr(p.a[0].body, "Severity: medium \xe2\x86\x92 high"));
	CHECK(!strstr(p.a[0].body, "text changed"));
	CHECK_INT(p.e[0].outcome, SCAN_CHANGED);
	CHECK_INT(p.counts.changed, 1);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	free(f->message);
	f->message = strdup("new text");
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 1);
	CHECK(strstr(p.a[0].body, "Changed in scan web-01.sarif "
				  "(2026-11-27T10:00:00Z):\nThe finding's text "
				  "changed; now: new text\n\n[jirafs-scan "));
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	fx_world_free(&w);
	fx_free(&r);
}

TEST(scan_plan_gone_comment_then_still_gone_then_back)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	for (int i = 0; i < 4; i++) {
		char loc[16];
		snprintf(loc, sizeof(loc), "p%d", i);
		fx_add(&r, "trivy", "CVE-1", "img", loc, SCAN_SEV_HIGH, "m");
	}
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	r.n = 3; /* p3 is gone (r.f[3] freed by rep_free later) */
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 1);
	CHECK_INT(p.a[0].kind, SCAN_ACT_COMMENT);
	CHECK_STR(p.a[0].key, "SEC-4");
	CHECK(fx_starts(p.a[0].body, "No longer reported by scan web-01.sarif "
		      "(2026-11-27T10:00:00Z).\n\n[jirafs-scan tool=trivy "
		      "sev=high content="));
	CHECK(strstr(p.a[0].body, " seen=no]"));
	CHECK_INT(fx_outcomes(&p, SCAN_GONE), 1);
	CHECK_INT(p.counts.gone, 1);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(fx_outcomes(&p, SCAN_STILL_GONE), 1);
	scan_plan_release(&p);
	r.n = 4;
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 1);
	CHECK(fx_starts(p.a[0].body, "Reported again by scan web-01.sarif "
		      "(2026-11-27T10:00:00Z).\n\n[jirafs-scan"));
	CHECK_INT(fx_outcomes(&p, SCAN_CHANGED), 1);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	/* with autoclose: a comment and the close */
	o.autoclose = true;
	r.n = 3;
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 2);
	CHECK_INT(p.a[0].kind, SCAN_ACT_COMMENT);
	CHECK_INT(p.a[1].kind, SCAN_ACT_CLOSE);
	CHECK_STR(p.a[1].key, "SEC-4");
	CHECK(!p.a[1].resolution);
	CHECK_INT(p.counts.closed, 1);
	CHECK_INT(fx_outcomes(&p, SCAN_CLOSED), 1);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.ne, 3); /* a done ticket absent: not listed */
	scan_plan_release(&p);
	/* back in the done ticket: a comment, then the reopen */
	r.n = 4;
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 2);
	CHECK_INT(p.a[0].kind, SCAN_ACT_COMMENT);
	CHECK_STR(p.a[0].key, "SEC-4");
	CHECK(strstr(p.a[0].body, "; reopened by jirafs.\n\n[jirafs-scan "));
	CHECK(strstr(p.a[0].body, " seen=yes]"));
	CHECK_INT(p.a[1].kind, SCAN_ACT_REOPEN);
	CHECK_STR(p.a[1].key, "SEC-4");
	CHECK_INT(p.counts.reopened, 1);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	fx_world_free(&w);
	fx_free(&r);
}

TEST(scan_plan_accepted_commented_once)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	fx_add(&r, "trivy", "CVE-1", "img", "openssl", SCAN_SEV_HIGH, "m");
	fx_put(&w, "SEC-7", r.f[0].fp, o.scope, true, "risk accepted",
	    fx_state("trivy", SCAN_SEV_HIGH, &r.f[0], true));
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 1);
	CHECK_INT(p.a[0].kind, SCAN_ACT_COMMENT);
	CHECK(strstr(p.a[0].body, "Still reported by scan web-01.sarif "
		     "(2026-11-27T10:00:00Z); not reopened because its "
		     "resolution is risk accepted.\n\n[jirafs-scan "));
	CHECK(strstr(p.a[0].body, " seen=yes accepted=yes]"));
	CHECK_INT(p.e[0].outcome, SCAN_ACCEPTED);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.e[0].outcome, SCAN_ACCEPTED);
	scan_plan_release(&p);
	fx_world_free(&w);
	fx_free(&r);
}

/* n tickets of trivy, seen, for findings p0..p(n-1); the report keeps
 * `keep` of them. */
static void many(struct fx_world *w, struct scan_report *r,
		 const struct scan_options *o, int n, int keep)
{
	for (int i = 0; i < n; i++) {
		char loc[16], key[16];
		snprintf(loc, sizeof(loc), "p%d", i);
		snprintf(key, sizeof(key), "SEC-%d", i + 1);
		fx_add(r, "trivy", "CVE-1", "img", loc, SCAN_SEV_HIGH, "m");
		fx_put(w, key, r->f[i].fp, o->scope, false, NULL,
		    fx_state("trivy", SCAN_SEV_HIGH, &r->f[i], true));
	}
	w->next = n;
	r->n = (size_t)keep;
}

TEST(scan_plan_safety_rule)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	o.autoclose = true;
	many(&w, &r, &o, 10, 1); /* 90% vanish, max 50% */
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 0);
	CHECK_STR(p.close_refused, "would close 9 of 10 open tickets, more "
				   "than 50%");
	CHECK_INT(p.counts.refused, 9);
	CHECK_INT(fx_outcomes(&p, SCAN_REFUSED), 9);
	scan_plan_release(&p);
	r.n = 6; /* 40% */
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_STR(p.close_refused, "");
	CHECK_INT(p.n, 8);
	CHECK_INT(p.counts.closed, 4);
	scan_plan_release(&p);
	/* an incomplete report */
	r.incomplete = true;
	snprintf(r.incomplete_why, sizeof(r.incomplete_why),
		 "run 1: executionSuccessful is false");
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 0);
	CHECK_STR(p.close_refused, "the report is incomplete: run 1: "
				   "executionSuccessful is false");
	scan_plan_release(&p);
	r.incomplete = false;
	/* an empty report after a full one, even without autoclose */
	o.autoclose = false;
	size_t n = r.n;
	r.n = 0;
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 0);
	CHECK_STR(p.close_refused, "empty scan while the previous one "
				   "reported 10 findings");
	scan_plan_release(&p);
	/* without autoclose, a mostly vanished scan comments */
	r.n = 1;
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 9);
	CHECK_INT(p.counts.gone, 9);
	scan_plan_release(&p);
	r.n = n;
	fx_world_free(&w);
	r.n = 10;
	fx_free(&r);
}

TEST(scan_plan_skipped_other_tools_no_state)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	o.autoclose = true;
	o.autoclose_max_pct = 100;
	many(&w, &r, &o, 2, 2);
	r.f[1].severity = SCAN_SEV_LOW;
	o.min_severity = SCAN_SEV_MEDIUM;
	/* below the floor, without a ticket: not created */
	fx_add(&r, "trivy", "CVE-2", "img", "x", SCAN_SEV_INFO, "low");
	/* another tool's, one without a state line, another scope's */
	fx_put(&w, "SEC-20", "jfs-fp-00000000000000000001", o.scope, false,
	       NULL, fx_state("grype", SCAN_SEV_HIGH, NULL, true));
	fx_put(&w, "SEC-21", "jfs-fp-00000000000000000002", o.scope, false,
	       NULL, "no state line");
	fx_put(&w, "SEC-22", "jfs-fp-00000000000000000003", "other-scope",
	       false, NULL, fx_state("trivy", SCAN_SEV_HIGH, NULL, true));
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 0);
	CHECK_INT(p.ne, 3);
	CHECK_INT(p.counts.skipped, 2);
	CHECK_INT(fx_outcomes(&p, SCAN_SKIPPED), 2);
	CHECK_STR(p.e[1].key, "SEC-2");
	CHECK(!p.e[2].key);
	scan_plan_release(&p);
	fx_world_free(&w);
	fx_free(&r);
}

TEST(scan_plan_duplicates_closed)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	fx_add(&r, "trivy", "CVE-1", "img", "openssl", SCAN_SEV_HIGH, "m");
	const char *st = fx_state("trivy", SCAN_SEV_HIGH, &r.f[0], true);
	fx_put(&w, "SEC-10", r.f[0].fp, o.scope, false, NULL, st);
	fx_put(&w, "SEC-9", r.f[0].fp, o.scope, false, NULL, st);
	fx_put(&w, "SEC-3", r.f[0].fp, o.scope, true, "Duplicate", st);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 2);
	CHECK_INT(p.a[0].kind, SCAN_ACT_COMMENT);
	CHECK_STR(p.a[0].key, "SEC-10");
	char want[160];
	snprintf(want, sizeof(want), "Duplicate of SEC-9 (same finding, "
		 "fingerprint %s); closed by jirafs.", r.f[0].fp);
	CHECK_STR(p.a[0].body, want);
	CHECK_INT(p.a[1].kind, SCAN_ACT_CLOSE);
	CHECK_STR(p.a[1].resolution, "Duplicate");
	CHECK_INT(p.counts.duplicates, 1);
	CHECK_INT(p.counts.unchanged, 1);
	CHECK_INT(fx_outcomes(&p, SCAN_DUPLICATE), 1);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	CHECK_INT(scan_key_cmp("SEC-9", "SEC-10") < 0, 1);
	CHECK_INT(scan_key_cmp("AB-10", "SEC-2") < 0, 1);
	fx_world_free(&w);
	fx_free(&r);
}

/* A ticket of ours without a state line (made by hand, or its state
 * lines edited away): never touched; counts pass through. */
TEST(scan_plan_present_without_state)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	fx_add(&r, "trivy", "CVE-1", "img", "openssl", SCAN_SEV_HIGH, "m");
	r.suppressed = 3;
	fx_put(&w, "SEC-5", r.f[0].fp, o.scope, false, NULL, "by hand");
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 0);
	CHECK_INT(p.ne, 1);
	CHECK_INT(p.e[0].outcome, SCAN_UNCHANGED);
	CHECK_STR(p.e[0].key, "SEC-5");
	CHECK_INT(p.counts.findings, 1);
	CHECK_INT(p.counts.suppressed, 3);
	CHECK_INT(p.counts.unchanged, 1);
	scan_plan_release(&p);
	fx_world_free(&w);
	fx_free(&r);
}

/* The report of a group test: the findings of mask (bit i: finding i). */
static void group_report(struct scan_report *r, unsigned mask)
{
	static const struct {
		const char *rule, *target, *loc;
		enum scan_severity sev;
	} all[] = {
		{ "FF1004", "src/a.c", "src/a.c:12", SCAN_SEV_LOW },
		{ "FF1004", "src/b.c", "src/b.c:40", SCAN_SEV_HIGH },
		{ "FF1004", "lib/c.c", "lib/c.c:7", SCAN_SEV_LOW },
		{ "FF2000", "src/a.c", "src/a.c:1", SCAN_SEV_LOW },
		{ "FF1004", "src/a.c", "src/a.c:30", SCAN_SEV_LOW },
	};
	fx_free(r);
	for (unsigned i = 0; i < sizeof(all) / sizeof(*all); i++)
		if (mask & (1u << i))
			fx_add(r, "flawfinder", all[i].rule, all[i].target,
			    all[i].loc, all[i].sev, all[i].loc);
}

TEST(scan_plan_group_by_rule)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	o.group = SCAN_GROUP_RULE;
	o.autoclose = true;
	o.autoclose_max_pct = 100;
	group_report(&r, 0xf);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 2);
	CHECK_INT(p.ne, 2);
	cJSON *t = cJSON_Parse(p.a[0].body);
	CHECK_STR(json_str(t, "summary"), "[flawfinder] FF1004: src/a.c:12");
	CHECK_STR(p.e[0].summary, "[flawfinder] FF1004: src/a.c:12");
	CHECK_STR(json_str(t, "priority"), "High");
	CHECK(strstr(json_str(t, "description"), "Severity: high\n"
		     "Locations (3):\n- src/a.c:12\n- src/b.c:40\n"
		     "- lib/c.c:7\n"));
	cJSON_Delete(t);
	const char *parts[] = { "group-rule", o.scope, "flawfinder", "FF1004" };
	char gfp[SCAN_FP_SIZE];
	scan_fp(gfp, parts, 4);
	CHECK_STR(p.a[0].fp, gfp);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	/* two of three gone: one comment, no close */
	group_report(&r, 0x9);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 1);
	CHECK_STR(p.a[0].key, "SEC-1");
	CHECK(strstr(p.a[0].body, "Severity: high \xe2\x86\x92 low\n"
				  "The group's findings changed; now 1 "
				  "location:\n- src/a.c:12\n\n[jirafs-scan"));
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	/* every member gone: the group closes */
	group_report(&r, 0x8);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 2);
	CHECK_INT(p.a[1].kind, SCAN_ACT_CLOSE);
	CHECK_STR(p.a[1].key, "SEC-1");
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	/* a new member comes: the group is reopened */
	group_report(&r, 0x18);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 2);
	CHECK_INT(p.a[0].kind, SCAN_ACT_COMMENT);
	CHECK(strstr(p.a[0].body, "; reopened by jirafs.\nThe group's findings "
				  "changed; now 1 location:\n- src/a.c:30\n"));
	CHECK_INT(p.a[1].kind, SCAN_ACT_REOPEN);
	CHECK_STR(p.a[1].key, "SEC-1");
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	fx_world_free(&w);
	fx_free(&r);
}

TEST(scan_plan_group_by_rule_and_target)
{
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct fx_world w = { 0 };
	struct scan_plan p;
	o.group = SCAN_GROUP_RULE_TARGET;
	group_report(&r, 0x1f);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 4); /* a.c, b.c, c.c of FF1004; a.c of FF2000 */
	cJSON *t = cJSON_Parse(p.a[0].body);
	CHECK_STR(json_str(t, "summary"),
		  "[flawfinder] FF1004: src/a.c:12 \xe2\x80\x94 src/a.c");
	const char *d = json_str(t, "description");
	CHECK(strstr(d, "Target: src/a.c\nLocations (2):\n- src/a.c:12\n"
			"- src/a.c:30\n"));
	cJSON_Delete(t);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	/* one of a.c's two members gone: a comment, nothing closed */
	o.autoclose = true;
	o.autoclose_max_pct = 100;
	group_report(&r, 0x0f);
	CHECK_INT(fx_plan(&w, &r, &o, &p), 0);
	CHECK_INT(p.n, 1);
	CHECK_INT(p.a[0].kind, SCAN_ACT_COMMENT);
	scan_plan_release(&p);
	CHECK_INT(fx_settle(&w, &r, &o), 0);
	fx_world_free(&w);
	fx_free(&r);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 20,000 findings against 20,000 tickets: 15,000 match (5,000 of them
 * with another severity), 5,000 are new, 5,000 tickets are gone. */
TEST(scan_plan_scale)
{
	enum { N = 20000, GONE = 5000 };
	struct scan_report r = { 0 };
	struct scan_options o = fx_opts();
	struct scan_ticket *t = calloc(N, sizeof(*t));
	o.autoclose = true;
	for (int i = 0; i < N + GONE; i++) {
		char loc[16];
		snprintf(loc, sizeof(loc), "pkg%d", i);
		fx_add(&r, "trivy", "CVE-1", "img", loc, SCAN_SEV_HIGH, "m");
	}
	for (int i = 0; i < N; i++) { /* findings 0..N-1 have tickets */
		const struct scan_finding *f = &r.f[i];
		char key[16];
		snprintf(key, sizeof(key), "SEC-%d", N - i);
		t[i].key = strdup(key);
		memcpy(t[i].fp, f->fp, SCAN_FP_SIZE);
		t[i].state = (struct scan_state){ .known = true, .seen = true,
						  .tool = "trivy",
						  .sev = i % 3 ? SCAN_SEV_HIGH :
								 SCAN_SEV_LOW };
		scan_unit_content(t[i].state.content, &f, 1, false,
				  t[i].state.sev);
	}
	/* the report: findings GONE..N+GONE-1 */
	struct scan_report view = r;
	view.f = r.f + GONE;
	view.n = N;
	struct scan_plan p;
	double t0 = now();
	CHECK_INT(scan_plan_make(&view, t, N, &o, &p), 0);
	double dt = now() - t0;
	fprintf(stderr, "  # 20,000 x 20,000 planned in %.3f s\n", dt);
	CHECK(dt < 5.0);
	CHECK_INT(p.counts.new_, GONE);
	CHECK_INT(p.counts.closed, GONE);
	CHECK_INT(p.counts.changed + p.counts.unchanged, N - GONE);
	CHECK_INT(p.counts.changed, (N - GONE) / 3);
	CHECK_INT(p.n, GONE + 2 * GONE + (N - GONE) / 3);
	scan_plan_release(&p);
	for (int i = 0; i < N; i++)
		scan_ticket_release(&t[i]);
	free(t);
	fx_free(&r);
}
