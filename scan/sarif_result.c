/*
 * sarif_result.c - one SARIF result: its rule, target, message, identity
 * and finding (see sarif.c for the rules of identity, sarif_priv.h).
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

#define PARTS_MAX 24 /* parts of one fingerprint */
#define ITEMS_MAX 16 /* fingerprint keys of one result looked at */

/* The rule at index idx of k (if its id agrees), else the rule of id. */
static const struct scanp_rule *rule_at(const struct scanp_comp *k,
					const cJSON *idx, const char *id)
{
	if (cJSON_IsNumber(idx) && idx->valuedouble >= 0 &&
	    idx->valuedouble < (double)k->n) {
		const struct scanp_rule *u = &k->rules[(size_t)idx->valuedouble];
		if (!id || strcmp(u->key, id) == 0)
			return u;
	}
	return id ? map_get(k->byid, id) : NULL;
}

/* The rule of a result and its id (NULL when it has none). */
static const struct scanp_rule *result_rule(const struct scanp_run *run,
					    const cJSON *res, const char **id)
{
	const cJSON *rr = json_item(res, "rule");
	const cJSON *idx = json_item(res, "ruleIndex");
	const cJSON *tc = json_item(rr, "toolComponent");
	const cJSON *tci = json_item(tc, "index");
	const char *tcn = json_str(tc, "name");
	const struct scanp_rule *u = NULL;
	*id = json_str(res, "ruleId");
	if (!*id)
		*id = json_str(rr, "id");
	if (!idx)
		idx = json_item(rr, "index");
	for (size_t i = 1; tcn && !cJSON_IsNumber(tci) && i < run->ncomps; i++)
		if (run->comps[i].name && !strcmp(run->comps[i].name, tcn))
			u = rule_at(&run->comps[i], idx, *id);
	if (cJSON_IsNumber(tci) && tci->valuedouble >= 0 &&
	    tci->valuedouble + 1 < (double)run->ncomps)
		u = rule_at(&run->comps[(size_t)tci->valuedouble + 1], idx, *id);
	for (size_t i = 0; !u && i < run->ncomps; i++)
		u = rule_at(&run->comps[i], i || tc ? NULL : idx, *id);
	if (!*id && u)
		*id = u->key;
	return u;
}

/* The first location's artifact URI as written (NULL: none). */
static const char *result_uri(const struct scanp_run *run, const cJSON *res,
			      const cJSON **phys)
{
	const cJSON *loc = cJSON_GetArrayItem(json_item(res, "locations"), 0);
	const cJSON *al;
	*phys = json_item(loc, "physicalLocation");
	al = json_item(*phys, "artifactLocation");
	const char *u = json_str(al, "uri");
	const cJSON *i = json_item(al, "index");
	if (!u && cJSON_IsNumber(i) && i->valuedouble >= 0 &&
	    i->valuedouble < (double)run->narts)
		u = run->arts[(size_t)i->valuedouble];
	return u;
}

/* The path of an absolute file URI or path ("file:///a/b" -> "/a/b",
 * "file://host/a" -> "/a"), NULL for a relative one or another scheme. */
static const char *abs_path(const char *u)
{
	if (!u)
		return NULL;
	if (strncasecmp(u, "file:", 5) == 0) {
		u += 5;
		if (u[0] == '/' && u[1] == '/')
			u = strchr(u + 2, '/');
		return u && *u == '/' ? u : NULL;
	}
	if (u[0] == '/' || (isalpha((unsigned char)u[0]) && u[1] == ':' &&
			    (u[2] == '/' || u[2] == '\\')))
		return u;
	return NULL;
}

/* Extend run->absdir to cover the directory of path. */
static int absdir_add(struct scanp_run *run, const char *path)
{
	size_t n = (size_t)(strrchr(path, '/') ? strrchr(path, '/') - path + 1 : 0);
	if (!run->absdir)
		return (run->absdir = strndup(path, n)) ? 0 : -ENOMEM;
	size_t i = 0;
	while (i < n && run->absdir[i] && run->absdir[i] == path[i])
		i++;
	while (i && run->absdir[i - 1] != '/')
		i--;
	run->absdir[i] = '\0';
	return 0;
}

/* The target of a URI: relative ones as they are, absolute file URIs
 * without the run's common directory; percent-decoded, "./" dropped.
 * Outside the text budget: it is part of the identity. */
static int make_target(const struct scanp_run *run, const char *u, char **out)
{
	const char *p = abs_path(u);
	struct strbuf sb = STRBUF_INIT;
	if (!u)
		u = "";
	if (p) {
		size_t d = run->absdir ? strlen(run->absdir) : 0;
		u = d && strncmp(p, run->absdir, d) == 0 && p[d] ? p + d : p;
	}
	while (u[0] == '.' && u[1] == '/')
		u += 2;
	for (size_t i = 0; u[i]; i++) {
		unsigned v;
		if (u[i] == '%' && isxdigit((unsigned char)u[i + 1]) &&
		    isxdigit((unsigned char)u[i + 2]) &&
		    sscanf(u + i + 1, "%2x", &v) == 1) {
			strbuf_addc(&sb, (char)v);
			i += 2;
		} else {
			strbuf_addc(&sb, u[i]);
		}
	}
	*out = sb.failed ? NULL : scanp_clean(strbuf_str(&sb), sb.len,
					      SCANP_LINE);
	strbuf_release(&sb);
	return *out ? 0 : -ENOMEM;
}

/* Append at most the room left of s. */
static void add_capped(struct strbuf *sb, const char *s, size_t n, size_t cap)
{
	if (sb->len < cap)
		strbuf_add(sb, s, n < cap - sb->len ? n : cap - sb->len);
}

/* The message (text, markdown, or the rule's messageStrings[id]) with
 * {N} placeholders filled from arguments, raw, malloc'd; NULL: none. */
static char *message_of(const cJSON *res, const struct scanp_rule *u, bool *oom)
{
	const cJSON *m = json_item(res, "message");
	const cJSON *args = json_item(m, "arguments");
	const char *t = scanp_sarif_text(m), *id = json_str(m, "id");
	struct strbuf sb = STRBUF_INIT;
	const size_t cap = (size_t)4 * SCAN_TEXT_MAX;
	if (!t && id && u)
		t = scanp_sarif_text(json_item(u->msgs, id));
	if (!t)
		return NULL;
	for (size_t i = 0; t[i] && sb.len < cap && !sb.failed; i++) {
		size_t k = i + 1;
		while (t[i] == '{' && isdigit((unsigned char)t[k]) && k - i < 6)
			k++;
		const cJSON *a = NULL;
		if (t[i] == '{' && k > i + 1 && t[k] == '}')
			a = cJSON_GetArrayItem(args, atoi(t + i + 1));
		if (cJSON_IsString(a)) {
			add_capped(&sb, a->valuestring, strlen(a->valuestring),
				   cap);
			i = k;
		} else if ((t[i] == '{' || t[i] == '}') && t[i + 1] == t[i]) {
			strbuf_addc(&sb, t[i++]);
		} else {
			strbuf_addc(&sb, t[i]);
		}
	}
	*oom = sb.failed;
	return sb.failed ? (strbuf_release(&sb), NULL) :
	       strbuf_detach(&sb, NULL);
}

/* "path: pkg@1.2.3" -> "path: pkg" (an installed version is not an
 * identity), cleaned as one line; malloc'd or NULL. */
static char *versionless(const char *s)
{
	char *t = scanp_clean(s, strlen(s), SCANP_LINE), *o = t;
	for (const char *p = t; t && *p;) {
		const char *at = p;
		while (*at && *at != ' ' && *at != '@')
			at++;
		bool ver = *at == '@' && at > p && at[-1] != ' ' &&
			   (isdigit((unsigned char)at[1]) ||
			    (at[1] == 'v' && isdigit((unsigned char)at[2])));
		size_t keep = (size_t)(at - p) + (*at && !ver ? 1 : 0);
		memmove(o, p, keep);
		o += keep;
		p = at + (*at ? 1 : 0);
		if (ver)
			while (*p && *p != ' ')
				p++;
	}
	if (t)
		*o = '\0';
	return t;
}

static bool placeholder(const char *v)
{
	static const char *const fake[] = { "requires login", "null", "none",
					     "n/a", "undefined" };
	for (size_t i = 0; i < sizeof(fake) / sizeof(*fake); i++)
		if (strcasecmp(v, fake[i]) == 0)
			return true;
	return false;
}

static bool revision_key(const char *k)
{
	static const char *const keys[] = { "commitSha", "date", "author",
					    "email", "commitMessage" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

/* degen keys: 'F' or 'P' + the key */
static bool degenerate(const struct scanp_run *run, char kind, const char *key)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%c%s", kind, key);
	return map_get(run->degen, buf) != NULL;
}

static int mark_degenerate(struct scanp_ctx *c, struct scanp_run *run, char kind,
			   const char *key, const char *why)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%c%s", kind, key);
	if (map_get(run->degen, buf))
		return 0;
	if (map_put(run->degen, buf, run, NULL))
		return -ENOMEM;
	return scanp_warn(c, "run %zu (%s): %s \"%.60s\" is not an identity "
			  "(%s): ignored", run->no, run->tool,
			  kind == 'F' ? "fingerprint" : "partial fingerprint",
			  key, why);
}

/* Pass 1 for one result: remember which (rule, target) each fingerprint
 * value is on, and the directory of an absolute URI. */
int scanp_sarif_arts_root(struct scanp_run *run)
{
	for (size_t i = 0; i < run->narts; i++) {
		const char *path = abs_path(run->arts[i]);
		int rc = path ? absdir_add(run, path) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

int scanp_sarif_survey(struct scanp_ctx *c, struct scanp_run *run,
		       const cJSON *res)
{
	const char *id, *val;
	const cJSON *phys, *e;
	result_rule(run, res, &id);
	const char *uri = result_uri(run, res, &phys), *path = abs_path(uri);
	char rt[SCAN_CONTENT_SIZE], kv[SCAN_CONTENT_SIZE + 1];
	const char *rtp[] = { id, uri };
	int rc;
	if (path) {
		run->nabs++;
		if ((rc = absdir_add(run, path)))
			return rc;
	}
	scan_content_hash(rt, rtp, 2);
	const cJSON *plh = json_item(json_item(res, "partialFingerprints"),
				     "primaryLocationLineHash");
	for (int pass = 0; pass < 2; pass++) {
		char kind = pass ? 'P' : 'F';
		cJSON_ArrayForEach(e, json_item(res, pass ? "partialFingerprints" :
						"fingerprints")) {
			if (pass && cJSON_IsString(plh) && e != plh)
				continue; /* the one identity() takes */
			val = cJSON_IsString(e) ? e->valuestring : NULL;
			if (!val || !e->string || !val[strspn(val, " ")] ||
			    (pass && revision_key(e->string)))
				continue;
			if (placeholder(val)) {
				if ((rc = mark_degenerate(c, run, kind, e->string,
							  "a placeholder")))
					return rc;
				continue;
			}
			/* fingerprints: the value's first (rule, target);
			 * partial ones: the value on this (rule, target) */
			const char *kvp[] = { e->string, val, pass ? rt : "" };
			kv[0] = kind;
			scan_content_hash(kv + 1, kvp, 3);
			const char *first = map_get(run->seen, kv);
			if (!first) {
				char *d = strdup(rt);
				if (!d || map_put(run->seen, kv, d, NULL))
					return free(d), -ENOMEM;
			} else if (pass || strcmp(first, rt)) {
				rc = mark_degenerate(c, run, kind, e->string, pass ?
					"one value on two results of one rule and file" :
					"one value on different rules or files");
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

static int cmp_items(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string,
		      (*(const cJSON *const *)b)->string);
}

/* The usable (key, value) items of a fingerprint object, sorted by key. */
static size_t usable(const struct scanp_run *run, const cJSON *o, char kind,
		     const cJSON **out, size_t max)
{
	const cJSON *e;
	size_t n = 0;
	cJSON_ArrayForEach(e, o) {
		const char *v = cJSON_IsString(e) ? e->valuestring : NULL;
		if (n < max && v && e->string && v[strspn(v, " ")] &&
		    !placeholder(v) && !degenerate(run, kind, e->string) &&
		    !(kind == 'P' && revision_key(e->string)))
			out[n++] = e;
	}
	qsort(out, n, sizeof(*out), cmp_items);
	return n;
}

/* The method of a fingerprint key and its version: "a/v2" -> 2, len 1 */
static long method_of(const char *k, size_t *len)
{
	const char *s = strrchr(k, '/');
	*len = strlen(k);
	if (!s || s[1] != 'v' || !isdigit((unsigned char)s[2]) ||
	    s[2 + strspn(s + 2, "0123456789")])
		return 0;
	*len = (size_t)(s - k);
	return strtol(s + 2, NULL, 10);
}

/* Compare the methods of two fingerprint keys ("a/v1" and "a/v2" tie). */
static int method_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int d = memcmp(a, b, alen < blen ? alen : blen);
	return d ? d : alen < blen ? -1 : alen > blen;
}

/* The identity of a result (see sarif.c).  0 or -ENOMEM. */
static int identity(struct scanp_run *run, const cJSON *res, const char **parts,
		    size_t n, const char *snip, const char *msg,
		    struct scan_finding *f)
{
	const cJSON *it[ITEMS_MAX];
	char *own[ITEMS_MAX + 1] = { NULL }, h[SCAN_CONTENT_SIZE], idx[24];
	size_t nown = 0, k, occ;
	const char *target = parts[n];
	int rc = 0;
	if ((k = usable(run, json_item(res, "fingerprints"), 'F', it,
			ITEMS_MAX))) {
		size_t best = 0, blen, len;
		long bver = method_of(it[0]->string, &blen), ver;
		for (size_t i = 1; i < k; i++) {
			ver = method_of(it[i]->string, &len);
			int d = method_cmp(it[i]->string, len, it[best]->string,
					   blen);
			if (d < 0 || (d == 0 && ver > bver))
				best = i, blen = len, bver = ver;
		}
		f->loc_kind = SCAN_LOC_TOOL_FP;
		parts[n++] = "fingerprint";
		it[0] = it[best];
		k = 1;
	} else if ((k = usable(run, json_item(res, "partialFingerprints"), 'P',
			       it, ITEMS_MAX))) {
		f->loc_kind = SCAN_LOC_PARTIAL;
		parts[n++] = "partial";
		parts[n++] = target;
		for (size_t i = 0; i < k; i++)
			if (strcmp(it[i]->string, "primaryLocationLineHash") == 0)
				it[0] = it[i], k = 1;
	}
	for (size_t i = 0; i < k; i++) { /* "KEY=VALUE" */
		size_t kl = strlen(it[i]->string);
		size_t vl = strlen(it[i]->valuestring);
		if (!(own[nown] = malloc(kl + vl + 2)))
			goto oom;
		memcpy(own[nown], it[i]->string, kl);
		own[nown][kl] = '=';
		memcpy(own[nown] + kl + 1, it[i]->valuestring, vl + 1);
		parts[n++] = own[nown++];
	}
	if (!k) {
		char *t = snip ? scanp_clean(snip, strlen(snip), SCANP_LINE) : NULL;
		if (snip && !t)
			goto oom;
		if (t && *t) {
			const char *hp[] = { t };
			scan_content_hash(h, hp, 1);
			f->loc_kind = SCAN_LOC_SNIPPET;
			parts[n++] = "snippet";
			parts[n++] = target;
			parts[n++] = h;
			free(t);
		} else {
			free(t);
			if (!(own[nown] = versionless(msg ? msg : "")))
				goto oom;
			f->loc_kind = SCAN_LOC_MESSAGE;
			parts[n++] = "message";
			parts[n++] = target;
			parts[n++] = own[nown++];
		}
		if (scanp_occurrence(run->occ, parts, n, &occ))
			goto oom;
		snprintf(idx, sizeof(idx), "%zu", occ);
		parts[n++] = idx;
	}
	scan_fp(f->fp, parts, n);
	goto out;
oom:
	rc = -ENOMEM;
out:
	for (size_t i = 0; i < nown; i++)
		free(own[i]);
	return rc;
}

/* 0 a finding, 1 not a failure (kind), 2 absent from the baseline,
 * 3 suppressed */
static int exclusion(const cJSON *res)
{
	static const char *const skip[] = { "pass", "notApplicable",
					    "informational" };
	const char *kind = json_str(res, "kind");
	const cJSON *s;
	for (size_t i = 0; kind && i < 3; i++)
		if (strcmp(kind, skip[i]) == 0)
			return 1;
	const char *base = json_str(res, "baselineState");
	if (base && strcmp(base, "absent") == 0)
		return 2;
	cJSON_ArrayForEach(s, json_item(res, "suppressions")) {
		const char *st = json_str(s, "status");
		if (!st || !strcmp(st, "accepted") || !strcmp(st, "underReview"))
			return 3;
	}
	return 0;
}

/* The first sentence (or line) of a cleaned message, as one line. */
static char *first_sentence(const char *m)
{
	size_t n = 0;
	while (m[n] && m[n] != '\n' && !(m[n] == '.' && (m[n + 1] == ' ' ||
							 m[n + 1] == '\n')))
		n++;
	return scanp_cut(m, n + (m[n] == '.'), SCANP_LINE, SCAN_SUMMARY_MAX);
}

static enum scan_severity severity_of(const cJSON *res,
				      const struct scanp_rule *u)
{
	enum scan_severity s;
	if (scanp_sarif_score(json_item(json_item(res, "properties"),
					"security-severity"), &s))
		return s;
	if (u && u->has_score)
		return u->score;
	if (scanp_sarif_level(json_str(res, "level"), &s))
		return s;
	return u && u->has_level ? u->level : SCAN_SEV_MEDIUM;
}

static int fill(struct scanp_ctx *c, struct scanp_run *run, const cJSON *res,
		const struct scanp_rule *u, const cJSON *phys, const char *msg,
		struct scan_finding *f)
{
	const cJSON *region = json_item(phys, "region");
	const cJSON *line = json_item(region, "startLine");
	const char *snip = scanp_sarif_text(json_item(region, "snippet"));
	int rc;
	if ((rc = scanp_textz(c, &f->tool, run->tool, SCANP_LINE)) ||
	    (rc = scanp_textz(c, &f->tool_version, run->version, SCANP_LINE)) ||
	    (rc = scanp_textz(c, &f->message, msg, SCANP_BLOCK)))
		return rc;
	/* a title that only repeats the rule id ("Semgrep Finding: ID") says
	 * less than the message */
	bool idle = u && u->title && strlen(f->rule) > 3 &&
		    strstr(u->title, f->rule) && f->message && *f->message;
	if (u && u->title && !idle) {
		rc = scanp_textz(c, &f->title, u->title, SCANP_LINE);
	} else if (f->message) {
		char *t = first_sentence(f->message);
		rc = t ? scanp_textz(c, &f->title, t, SCANP_LINE) : -ENOMEM;
		free(t);
	}
	if (rc || (u && ((rc = scanp_textz(c, &f->help, u->help, SCANP_BLOCK)) ||
			 (rc = scanp_textz(c, &f->help_uri, u->help_uri,
					   SCANP_LINE)))))
		return rc;
	if (cJSON_IsNumber(line) && line->valuedouble >= 1 &&
	    line->valuedouble < 1e9) {
		char buf[32];
		snprintf(buf, sizeof(buf), ":%ld", (long)line->valuedouble);
		size_t tl = strlen(f->target);
		if (!(f->location = malloc(tl + strlen(buf) + 1)))
			return -ENOMEM;
		memcpy(f->location, f->target, tl);
		strcpy(f->location + tl, buf);
	}
	if (!run->secret_tool && !(u && u->secret) &&
	    (rc = scanp_textz(c, &f->snippet, snip, SCANP_BLOCK)))
		return rc;
	for (size_t i = 0; u && i < u->ids.nids; i++)
		if (scanp_ids(f, u->ids.ids[i]))
			return -ENOMEM;
	f->severity = severity_of(res, u);
	return scanp_ids(f, f->rule);
}

int scanp_sarif_result(struct scanp_ctx *c, struct scanp_run *run,
		       const cJSON *res)
{
	const char *id, *lmsg;
	const cJSON *phys;
	const struct scanp_rule *u = result_rule(run, res, &id);
	const char *uri = result_uri(run, res, &phys);
	const cJSON *loc = cJSON_GetArrayItem(json_item(res, "locations"), 0);
	const char *snip = scanp_sarif_text(json_item(json_item(phys, "region"),
						      "snippet"));
	struct scan_finding tmp = { .fp = "" }, *f;
	bool oom = false;
	char *msg = message_of(res, u, &oom);
	int rc = oom ? -ENOMEM : 0, ex = 0;
	c->r->results++;
	tmp.rule = scanp_clean(id ? id : "(no rule id)", strlen(id ? id :
					"(no rule id)"), SCANP_LINE);
	if (!rc && (!tmp.rule || (rc = make_target(run, uri, &tmp.target))))
		rc = -ENOMEM;
	lmsg = scanp_sarif_text(json_item(loc, "message"));
	const char *parts[PARTS_MAX] = {
		"sarif", c->scope, run->category ? run->category : "",
		run->tool, tmp.rule, tmp.target,
	};
	if (!rc)
		rc = identity(run, res, parts, 5, snip, lmsg ? lmsg : msg, &tmp);
	if (rc || (ex = exclusion(res)) == 2) {
		goto out;
	} else if (ex == 1) {
		c->r->not_failures++;
		goto out;
	} else if (ex == 3) {
		c->r->suppressed++;
		run->nsupp++;
		goto out;
	}
	if ((rc = scanp_finding(c, &f)))
		goto out;
	*f = tmp;
	memset(&tmp, 0, sizeof(tmp));
	run->nfound++;
	rc = fill(c, run, res, u, phys, msg, f);
out:
	scanp_finding_release(&tmp);
	free(msg);
	return rc;
}
