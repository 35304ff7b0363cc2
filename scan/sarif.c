/*
 * sarif.c - SARIF 2.1.0 (every run, every result; the rules of the driver
 * and of its extensions), walked one result at a time; see scan.h.
 *
 * Per run: one walk over its members parses the small ones (tool,
 * invocations, automationDetails, artifacts one by one) wherever they
 * stand; then two walks over "results", each result parsed alone: the
 * first finds the fingerprint keys that are not identities and the common
 * directory of absolute file URIs, the second makes the findings.
 *
 * A finding's identity, NEVER its line: scan_fp({"sarif", scope,
 * category, tool, rule, kind, ...}) where category is automationDetails.id
 * up to its last '/', and by the first that applies:
 *   "fingerprint", "KEY=VALUE": result.fingerprints, the first method by
 *       name ("/vN" aside) at its highest version        SCAN_LOC_TOOL_FP
 *   "partial", target, "KEY=VALUE"...: partialFingerprints; only
 *       primaryLocationLineHash when there is one, else every key sorted;
 *       revision keys (commitSha, date, author, email, commitMessage) and
 *       empty values left out                             SCAN_LOC_PARTIAL
 *   "snippet", target, hash of the white-space-collapsed region snippet,
 *       occurrence index among (rule, target, snippet)    SCAN_LOC_SNIPPET
 *   "message", target, the first location's message (else the result's)
 *       with "pkg@1.2.3" reduced to "pkg", occurrence index SCAN_LOC_MESSAGE
 * A fingerprint key is ignored for the whole run (warning) when a value is
 * a placeholder ("requires login") or, for fingerprints, one value is on
 * results of different (rule, target); for partial fingerprints (which
 * are joined with the target) when one value is on two results of the
 * same (rule, target).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/parse_priv.h"
#include "scan/sarif_priv.h"
#include "scan/scan.h"
#include "util/json.h"
#include "util/map.h"

bool scanp_sarif_score(const cJSON *v, enum scan_severity *out)
{
	double d;
	if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
	} else if (cJSON_IsString(v) && v->valuestring[0]) {
		char *end;
		d = strtod(v->valuestring, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (*end || end == v->valuestring)
			return false;
	} else {
		return false;
	}
	if (!(d >= 0 && d <= 10)) /* NaN, negative, nonsense */
		return false;
	*out = d >= 9.0 ? SCAN_SEV_CRITICAL : d >= 7.0 ? SCAN_SEV_HIGH :
	       d >= 4.0 ? SCAN_SEV_MEDIUM : d > 0 ? SCAN_SEV_LOW :
	       SCAN_SEV_INFO;
	return true;
}

bool scanp_sarif_level(const char *s, enum scan_severity *out)
{
	static const char *const names[] = { "none", "note", "warning",
					     "error" };
	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum scan_severity)i; /* info low medium high */
			return true;
		}
	return false;
}

const char *scanp_sarif_text(const cJSON *mms)
{
	const char *t = json_str(mms, "text");
	return t ? t : json_str(mms, "markdown");
}

/* ------------------------------------------------------------------ */
/* Rules and the run's small members                                    */

static void comp_release(struct scanp_comp *k)
{
	for (size_t i = 0; i < k->n; i++) {
		struct scanp_rule *u = &k->rules[i];
		free(u->key), free(u->id), free(u->title), free(u->help);
		free(u->help_uri);
		scanp_finding_release(&u->ids);
		cJSON_Delete(u->msgs);
	}
	free(k->rules);
	free(k->name);
	map_free(k->byid);
}

static int rule_read(struct scanp_rule *u, cJSON *j)
{
	const cJSON *props = json_item(j, "properties");
	const char *name = json_str(j, "name"), *t;
	const char *title = scanp_sarif_text(json_item(j, "shortDescription"));
	const char *help = scanp_sarif_text(json_item(j, "help"));
	if (!help)
		help = scanp_sarif_text(json_item(j, "fullDescription"));
	const char *id = json_str(j, "id");
	u->id = scanp_clean(id, id ? strlen(id) : 0, SCANP_LINE);
	u->key = strdup(id ? id : "");
	if (!title || !title[strspn(title, " \t\r\n")])
		title = name;
	u->title = title ? scanp_clean(title, strlen(title), SCANP_LINE) : NULL;
	u->help = help ? scanp_clean(help, strlen(help), SCANP_BLOCK) : NULL;
	if ((t = json_str(j, "helpUri")))
		u->help_uri = scanp_clean(t, strlen(t), SCANP_LINE);
	if (!u->id || !u->key || (title && !u->title) || (help && !u->help) ||
	    (t && !u->help_uri))
		return -ENOMEM;
	u->has_level = scanp_sarif_level(json_str(json_item(j, "defaultConfiguration"),
					 "level"), &u->level);
	u->has_score = scanp_sarif_score(json_item(props, "security-severity"),
				&u->score);
	if (scanp_ids(&u->ids, u->id) || scanp_ids(&u->ids, name))
		return -ENOMEM;
	const cJSON *tag, *cwe = json_item(props, "cwe");
	cJSON_ArrayForEach(tag, json_item(props, "tags")) {
		if (!cJSON_IsString(tag))
			continue;
		if (strcasestr(tag->valuestring, "secret"))
			u->secret = true;
		if (scanp_ids(&u->ids, tag->valuestring))
			return -ENOMEM;
	}
	if (cJSON_IsString(cwe) && scanp_ids(&u->ids, cwe->valuestring))
		return -ENOMEM;
	const cJSON *cwes = cJSON_IsArray(cwe) ? cwe : NULL;
	cJSON_ArrayForEach(tag, cwes)
		if (cJSON_IsString(tag) && scanp_ids(&u->ids, tag->valuestring))
			return -ENOMEM;
	u->msgs = cJSON_DetachItemFromObjectCaseSensitive(j, "messageStrings");
	return 0;
}

/* The members of a toolComponent: name and version (the driver's), and
 * its rules, each parsed alone. */
static int comp_read(struct scanp_ctx *c, struct scanp_run *run,
		     struct scanp_span v, struct scanp_comp *k, bool driver)
{
	struct json_walk w, wr;
	const char *key, *val;
	size_t klen, vlen;
	int rc;
	if (!k->byid && !(k->byid = map_new()))
		return -ENOMEM;
	if (json_walk_start(&w, v.p, v.n) || w.close != '}')
		return scanp_fail(c, "runs[%zu].tool: not an object", run->no - 1);
	while ((rc = json_walk_next(&w, &key, &klen, &val, &vlen)) == 1) {
		bool rules = klen == 5 && !memcmp(key, "rules", 5);
		char **dst = NULL;
		if (klen == 4 && !memcmp(key, "name", 4))
			dst = driver ? &run->tool : &k->name;
		else if (driver && ((klen == 7 && !memcmp(key, "version", 7)) ||
				    (klen == 15 && !run->version &&
				     !memcmp(key, "semanticVersion", 15))))
			dst = &run->version;
		if (dst) {
			cJSON *s;
			struct scanp_span sp = { val, vlen };
			if ((rc = scanp_json(c, sp, "tool", &s)))
				return rc;
			if (cJSON_IsString(s)) {
				free(*dst);
				*dst = scanp_clean(s->valuestring,
						   strlen(s->valuestring), SCANP_LINE);
			}
			cJSON_Delete(s);
			if (cJSON_IsString(s) && !*dst)
				return -ENOMEM;
		}
		if (!rules || json_walk_start(&wr, val, vlen) || wr.close != ']')
			continue;
		while ((rc = json_walk_next(&wr, NULL, NULL, &val, &vlen)) == 1) {
			struct scanp_span sp = { val, vlen };
			cJSON *j;
			struct scanp_rule *nr = realloc(k->rules, (k->n + 1) * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			k->rules = nr;
			memset(&nr[k->n], 0, sizeof(*nr));
			if ((rc = scanp_json(c, sp, "rules[]", &j)))
				return rc;
			rc = rule_read(&nr[k->n++], j);
			cJSON_Delete(j);
			if (rc)
				return rc;
		}
		if (rc)
			return scanp_walk_fail(c, "rules", wr.s + wr.pos);
	}
	for (size_t i = 0; i < k->n; i++) /* the first of an id wins */
		if (!map_get(k->byid, k->rules[i].key) &&
		    map_put(k->byid, k->rules[i].key, &k->rules[i], NULL))
			return -ENOMEM;
	return rc ? scanp_walk_fail(c, "tool", w.s + w.pos) : 0;
}

static int tool_read(struct scanp_ctx *c, struct scanp_run *run, struct scanp_span v)
{
	struct json_walk w, we;
	const char *key, *val;
	size_t klen, vlen;
	int rc;
	if (run->comps) /* a second "tool" */
		return 0;
	if (!(run->comps = calloc(1, sizeof(*run->comps))))
		return -ENOMEM;
	run->ncomps = 1;
	if (json_walk_start(&w, v.p, v.n) || w.close != '}')
		return scanp_fail(c, "runs[%zu].tool: not an object", run->no - 1);
	while ((rc = json_walk_next(&w, &key, &klen, &val, &vlen)) == 1) {
		struct scanp_span sp = { val, vlen };
		if (klen == 6 && !memcmp(key, "driver", 6)) {
			if ((rc = comp_read(c, run, sp, &run->comps[0], true)))
				return rc;
			continue;
		}
		if (klen != 10 || memcmp(key, "extensions", 10) ||
		    json_walk_start(&we, val, vlen) || we.close != ']')
			continue;
		while ((rc = json_walk_next(&we, NULL, NULL, &val, &vlen)) == 1) {
			struct scanp_comp *nk = realloc(run->comps, (run->ncomps + 1) *
						  sizeof(*nk));
			if (!nk)
				return -ENOMEM;
			run->comps = nk;
			memset(&nk[run->ncomps], 0, sizeof(*nk));
			sp = (struct scanp_span){ val, vlen };
			if ((rc = comp_read(c, run, sp, &nk[run->ncomps++], false)))
				return rc;
		}
		if (rc)
			return scanp_walk_fail(c, "tool.extensions", val);
	}
	return rc ? scanp_walk_fail(c, "tool", w.s + w.pos) : 0;
}

/* invocations, automationDetails, artifacts: parsed alone */
static int small_read(struct scanp_ctx *c, struct scanp_run *run, const char *key,
		      size_t klen, struct scanp_span v)
{
	cJSON *j = NULL, *e;
	int rc = 0;
	if (klen == 11 && !memcmp(key, "invocations", 11)) {
		if ((rc = scanp_json(c, v, "invocations", &j)))
			return rc;
		cJSON_ArrayForEach(e, j) {
			if (!cJSON_IsFalse(json_item(e, "executionSuccessful")))
				continue;
			const cJSON *n, *notes = json_item(e,
				"toolExecutionNotifications");
			const char *t = NULL;
			cJSON_ArrayForEach(n, notes)
				if (!t && (t = scanp_sarif_text(json_item(n, "message"))))
					break;
			char *clean = t ? scanp_clean(t, strlen(t), SCANP_LINE) : NULL;
			snprintf(run->failwhy, sizeof(run->failwhy), "%s%.100s",
				 clean ? ": " : "", clean ? clean : "");
			free(clean);
			run->failed = true;
		}
	} else if (klen == 17 && !memcmp(key, "automationDetails", 17)) {
		if ((rc = scanp_json(c, v, "automationDetails", &j)))
			return rc;
		const char *id = json_str(j, "id"), *slash;
		free(run->category);
		run->category = NULL;
		if (id && (slash = strrchr(id, '/')) &&
		    !(run->category = scanp_clean(id, (size_t)(slash - id),
						  SCANP_LINE)))
			rc = -ENOMEM;
	} else if (klen == 9 && !memcmp(key, "artifacts", 9)) {
		struct json_walk w;
		const char *val;
		size_t vlen;
		if (json_walk_start(&w, v.p, v.n) || w.close != ']')
			return 0;
		while ((rc = json_walk_next(&w, NULL, NULL, &val, &vlen)) == 1) {
			char **na = realloc(run->arts, (run->narts + 1) *
					    sizeof(*na));
			if (!na)
				return -ENOMEM;
			run->arts = na;
			na[run->narts] = NULL;
			struct scanp_span sp = { val, vlen };
			if ((rc = scanp_json(c, sp, "artifacts[]", &j)))
				return rc;
			const char *u = json_str(json_item(j, "location"), "uri");
			if (u && !(na[run->narts] = strdup(u)))
				rc = -ENOMEM;
			run->narts++;
			cJSON_Delete(j);
			j = NULL;
			if (rc)
				return rc;
		}
		if (rc)
			return scanp_walk_fail(c, "artifacts", w.s + w.pos);
	}
	cJSON_Delete(j);
	return rc;
}

/* ------------------------------------------------------------------ */
/* One result                                                           */


/* ------------------------------------------------------------------ */
/* Runs                                                                 */

static void incomplete(struct scan_report *r, const struct scanp_run *run,
		       const char *what, const char *more)
{
	if (!r->incomplete)
		snprintf(r->incomplete_why, sizeof(r->incomplete_why),
			 "run %zu (%s): %s%s", run->no, run->tool, what, more);
	r->incomplete = true;
}

static void run_release(struct scanp_run *run)
{
	free(run->tool), free(run->version), free(run->category);
	for (size_t i = 0; i < run->ncomps; i++)
		comp_release(&run->comps[i]);
	free(run->comps);
	for (size_t i = 0; i < run->narts; i++)
		free(run->arts[i]);
	free(run->arts);
	scanp_map_free(run->seen);
	map_free(run->degen);
	map_free(run->occ);
	free(run->absdir);
}

/* One walk over the results, each parsed alone: the survey (first) or
 * the findings. */
static int results_walk(struct scanp_ctx *c, struct scanp_run *run,
			bool first)
{
	struct json_walk w;
	const char *v;
	char what[64] = "results";
	size_t vlen, i = 0;
	int rc;
	json_walk_start(&w, run->results.p, run->results.n);
	while ((rc = json_walk_next(&w, NULL, NULL, &v, &vlen)) == 1) {
		struct scanp_span sp = { v, vlen };
		cJSON *res;
		snprintf(what, sizeof(what), "runs[%zu].results[%zu]",
			 run->no - 1, i++);
		if ((rc = scanp_json(c, sp, what, &res)))
			return rc;
		if (!cJSON_IsObject(res))
			rc = scanp_fail(c, "%s: not an object", what);
		else if (first)
			rc = scanp_sarif_survey(c, run, res);
		else
			rc = scanp_sarif_result(c, run, res);
		cJSON_Delete(res);
		if (rc)
			return rc;
	}
	return rc ? scanp_walk_fail(c, what, w.s + w.pos) : 0;
}

static int run_members(struct scanp_ctx *c, struct scanp_run *run,
		       struct scanp_span v)
{
	struct json_walk w;
	const char *key, *val;
	size_t klen, vlen;
	int rc;
	if (json_walk_start(&w, v.p, v.n) || w.close != '}')
		return scanp_fail(c, "runs[%zu]: not an object", run->no - 1);
	while ((rc = json_walk_next(&w, &key, &klen, &val, &vlen)) == 1) {
		struct scanp_span sp = { val, vlen };
		rc = 0;
		if (klen == 4 && !memcmp(key, "tool", 4))
			rc = tool_read(c, run, sp);
		else if (klen == 7 && !memcmp(key, "results", 7))
			run->results = sp;
		else
			rc = small_read(c, run, key, klen, sp);
		if (rc)
			return rc;
	}
	return rc ? scanp_walk_fail(c, "runs[]", w.s + w.pos) : 0;
}

static int run_read(struct scanp_ctx *c, struct scanp_run *run,
		    struct scanp_span v)
{
	static const char *const secret_tools[] = { "gitleaks", "trufflehog",
						    "detect-secrets" };
	char *raw;
	int rc;
	if ((rc = run_members(c, run, v)))
		return rc;
	raw = run->tool;
	rc = scanp_tool(c, raw, &run->tool);
	free(raw);
	if (rc)
		return rc;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(run->tool, secret_tools[i]) == 0)
			run->secret_tool = true;
	if (!run->comps && !(run->comps = calloc(1, sizeof(*run->comps))))
		return -ENOMEM;
	run->ncomps += run->ncomps ? 0 : 1;
	if (!(run->seen = map_new()) || !(run->degen = map_new()) ||
	    !(run->occ = map_new()) || (!run->comps[0].byid &&
					!(run->comps[0].byid = map_new())))
		return -ENOMEM;
	if (run->failed)
		incomplete(c->r, run, "executionSuccessful is false",
			   run->failwhy);
	if (!run->results.p || (run->results.n == 4 &&
				!memcmp(run->results.p, "null", 4))) {
		incomplete(c->r, run, "no results (the tool did not run to "
			   "its end)", "");
		return 0;
	}
	if (run->results.p[0] != '[')
		return scanp_fail(c, "runs[%zu].results: not an array",
				  run->no - 1);
	/* the files a run lists (ESLint lists every file it linted) make
	 * the common directory of absolute URIs stable when a file's last
	 * finding goes */
	if ((rc = scanp_sarif_arts_root(run)) ||
	    (rc = results_walk(c, run, true)) ||
	    (rc = results_walk(c, run, false)))
		return rc;
	if (run->nabs && (rc = scanp_warn(c, "run %zu (%s): absolute file "
					  "URIs made relative to %.200s",
					  run->no, run->tool, run->absdir)))
		return rc;
	if (!run->nfound && run->nsupp) {
		incomplete(c->r, run, "every result is suppressed", "");
		return scanp_warn(c, "run %zu (%s): every result is suppressed: "
				  "nothing is created or closed from it",
				  run->no, run->tool);
	}
	return 0;
}

int scanp_sarif(struct scanp_ctx *c, const struct scanp_top *t)
{
	struct json_walk w;
	const char *v;
	size_t vlen, no = 0;
	int rc;
	json_walk_start(&w, t->runs.p, t->runs.n);
	while ((rc = json_walk_next(&w, NULL, NULL, &v, &vlen)) == 1) {
		struct scanp_run run = { .no = ++no };
		struct scanp_span sp = { v, vlen };
		rc = run_read(c, &run, sp);
		run_release(&run);
		if (rc)
			return rc;
	}
	return rc ? scanp_walk_fail(c, "runs", w.s + w.pos) : 0;
}
