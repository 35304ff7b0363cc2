/*
 * sarif_priv.h - what sarif.c (runs, tools, rules) shares with
 * sarif_result.c (one result: its rule, target, identity, finding).
 *
 * A run's rules and small members are read once into struct run; each
 * result is then handed over alone, as its own cJSON tree, twice: first
 * to scanp_sarif_survey(), then to scanp_sarif_result().  Not
 * thread-safe per run (one parse owns it); no shared state.
 */
#ifndef JIRAFS_SCAN_SARIF_PRIV_H
#define JIRAFS_SCAN_SARIF_PRIV_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "scan/parse_priv.h"
#include "scan/scan.h"
#include "util/map.h"

/* One reportingDescriptor, its texts cleaned. */
struct scanp_rule {
	char *key;               /* the id as written, for lookups */
	char *id, *title, *help, *help_uri;
	bool has_level, has_score, secret;
	enum scan_severity level, score;
	struct scan_finding ids; /* only .ids and .nids are used */
	cJSON *msgs;             /* messageStrings, or NULL */
};

/* A tool component: the driver is comps[0], extension k is comps[k+1]. */
struct scanp_comp {
	char *name;       /* an extension's (the driver's is the run's tool) */
	struct scanp_rule *rules;
	size_t n;
	struct map *byid; /* rule id -> struct scanp_rule * (borrowed) */
};

struct scanp_run {
	size_t no;                  /* 1-based, for messages */
	char *tool, *version;       /* tool: normalised */
	char *category;             /* automationDetails.id before its last
				       '/', or NULL */
	struct scanp_comp *comps;
	size_t ncomps;
	char **arts;                /* artifacts[i].location.uri, or NULL */
	size_t narts;
	struct scanp_span results;  /* p NULL: absent */
	bool failed;                /* executionSuccessful false */
	bool secret_tool;           /* snippets are secrets */
	char failwhy[128];
	struct map *seen;           /* survey: fingerprint value -> the
				       (rule, target) hash first seen with */
	struct map *degen;          /* fingerprint keys that are not
				       identities ('F'/'P' + key) */
	struct map *occ;            /* occurrence counts */
	char *absdir;               /* the common directory of absolute file
				       URIs */
	size_t nabs, nfound, nsupp;
};

/* A multiformatMessageString's text (else its markdown), or NULL. */
const char *scanp_sarif_text(const cJSON *mms);

/* A security-severity score (number or numeric string) as a severity:
 * >= 9 critical, >= 7 high, >= 4 medium, > 0 low, 0 info; false when v is
 * none of these. */
bool scanp_sarif_score(const cJSON *v, enum scan_severity *out);
/* A SARIF level: error high, warning medium, note low, none info. */
bool scanp_sarif_level(const char *level, enum scan_severity *out);

/* Pass 1 over one result.  0 or -ENOMEM. */
/* The absolute file URIs of run->arts into the run's common directory
 * (before the results are surveyed).  0 or -ENOMEM. */
int scanp_sarif_arts_root(struct scanp_run *run);
int scanp_sarif_survey(struct scanp_ctx *c, struct scanp_run *run,
		       const cJSON *res);
/* Pass 2: the finding of one result, or its exclusion counted.  0,
 * -EINVAL, -ENOMEM. */
int scanp_sarif_result(struct scanp_ctx *c, struct scanp_run *run,
		       const cJSON *res);

#endif
