/*
 * scan_fixture.h - what the scanner-bridge tests share: reports built by
 * hand (no parser involved), options, and a little Jira of ticket files
 * (CONTRACT §3) that a plan can be applied to and planned against again.
 * Memory: fx_free and fx_world_free release what fx_add and fx_put made.
 */
#ifndef JIRAFS_TESTS_SCAN_FIXTURE_H
#define JIRAFS_TESTS_SCAN_FIXTURE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "scan/scan.h"

/* Add a finding (texts copied) whose fp is made of tool, rule, target and
 * loc; a new tool joins r->tools.  The pointer lasts until the next add. */
struct scan_finding *fx_add(struct scan_report *r, const char *tool,
			    const char *rule, const char *target,
			    const char *loc, enum scan_severity sev,
			    const char *msg);
/* Free what fx_add made (r->n findings: restore it first). */
void fx_free(struct scan_report *r);
/* SEC, scope web-01.sarif, one ticket a finding, priorities Lowest ..
 * Highest, accepted "Won't Fix" and "Risk Accepted", at most 50%. */
struct scan_options fx_opts(void);

/* Jira: ticket files and their status category (done or not). */
#define FX_WORLD_MAX 64
struct fx_world {
	cJSON *t[FX_WORLD_MAX];
	bool done[FX_WORLD_MAX];
	size_t n;
	int next; /* the last key number a create used */
};

/* A ticket by hand carrying fp and scope's label; desc may hold a state
 * line; res is its resolution or NULL. */
cJSON *fx_put(struct fx_world *w, const char *key, const char *fp,
	      const char *scope, bool done, const char *res, const char *desc);
void fx_comment(cJSON *t, const char *body);
/* Apply a plan as Jira would: creates get the next key, comments append
 * to "comments", close and reopen move the ticket and set "resolution". */
void fx_apply(struct fx_world *w, const struct scan_plan *p);
/* Read every ticket file with scan_ticket_read and plan against them. */
int fx_plan(struct fx_world *w, const struct scan_report *r,
	    const struct scan_options *o, struct scan_plan *p);
/* Plan, apply, plan again: the second plan's number of actions (999 when
 * a plan failed). */
size_t fx_settle(struct fx_world *w, const struct scan_report *r,
		 const struct scan_options *o);
void fx_world_free(struct fx_world *w);

/* Entries of the plan with that outcome. */
size_t fx_outcomes(const struct scan_plan *p, enum scan_outcome o);
/* A state line (in one of four static buffers) for a hand-made ticket:
 * f's content as if it had severity sev, or a fixed content when f is
 * NULL. */
const char *fx_state(const char *tool, enum scan_severity sev,
		     const struct scan_finding *f, bool seen);
bool fx_starts(const char *s, const char *prefix);

#endif
