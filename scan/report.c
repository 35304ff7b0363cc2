/* report.c - format detection, the severity scale, and what the parsers
 * share (parse_priv.h); see scan.h */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/parse_priv.h"
#include "scan/scan.h"
#include "util/json.h"

/* ------------------------------------------------------------------ */
/* Names                                                                */

static const char *const sev_names[SCAN_SEV_COUNT] = {
	"info", "low", "medium", "high", "critical",
};

const char *scan_severity_name(enum scan_severity s)
{
	return (unsigned)s < SCAN_SEV_COUNT ? sev_names[s] : "info";
}

int scan_severity_parse(const char *name, enum scan_severity *out)
{
	static const struct {
		const char *name;
		enum scan_severity sev;
	} alias[] = {
		{ "unknown", SCAN_SEV_INFO },    { "none", SCAN_SEV_INFO },
		{ "note", SCAN_SEV_INFO },       { "moderate", SCAN_SEV_MEDIUM },
		{ "error", SCAN_SEV_HIGH },      { "warning", SCAN_SEV_MEDIUM },
	};
	if (!name)
		return -EINVAL;
	for (int i = 0; i < SCAN_SEV_COUNT; i++)
		if (strcasecmp(name, sev_names[i]) == 0) {
			*out = (enum scan_severity)i;
			return 0;
		}
	for (size_t i = 0; i < sizeof(alias) / sizeof(*alias); i++)
		if (strcasecmp(name, alias[i].name) == 0) {
			*out = alias[i].sev;
			return 0;
		}
	return -EINVAL;
}

const char *scan_format_name(enum scan_format f)
{
	switch (f) {
	case SCAN_FMT_SARIF: return "sarif";
	case SCAN_FMT_TRIVY: return "trivy";
	case SCAN_FMT_LINES: return "lines";
	}
	return "sarif";
}

/* ------------------------------------------------------------------ */
/* Reasons and warnings                                                 */

int scanp_fail(struct scanp_ctx *c, const char *fmt, ...)
{
	if (c->why && c->whysize && !c->why[0]) { /* the first reason wins */
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->why, c->whysize, fmt, ap);
		va_end(ap);
		for (char *p = c->why; *p; p++) /* one line */
			if ((unsigned char)*p < 0x20)
				*p = ' ';
	}
	return -EINVAL;
}

int scanp_warn(struct scanp_ctx *c, const char *fmt, ...)
{
	struct scan_report *r = c->r;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < r->nwarnings; i++)
		if (strcmp(r->warnings[i], buf) == 0)
			return 0;
	if (r->nwarnings >= SCANP_WARNINGS_MAX) {
		c->nwarn_dropped++;
		return 0;
	}
	char **w = realloc(r->warnings, (r->nwarnings + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	r->warnings = w;
	if (!(w[r->nwarnings] = scanp_clean(buf, strlen(buf), SCANP_LINE)))
		return -ENOMEM;
	r->nwarnings++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* One value, parsed alone                                              */

/* \uD800..\uDFFF escapes without their pair make cJSON refuse the whole
 * value (JavaScript tools write them): each becomes \ufffd, same length. */
static void neutralize_surrogates(char *s, size_t n)
{
	bool in = false;
	for (size_t i = 0; i < n; i++) {
		if (!in) {
			in = s[i] == '"';
			continue;
		}
		if (s[i] == '"') {
			in = false;
			continue;
		}
		if (s[i] != '\\' || i + 1 >= n)
			continue;
		if (s[i + 1] != 'u' || i + 5 >= n) {
			i++;
			continue;
		}
		unsigned v = 0;
		if (sscanf(s + i + 2, "%4x", &v) != 1 || v < 0xd800 ||
		    v > 0xdfff) {
			i++;
			continue;
		}
		unsigned lo = 0;
		bool paired = v <= 0xdbff && i + 11 < n && s[i + 6] == '\\' &&
			      s[i + 7] == 'u' &&
			      sscanf(s + i + 8, "%4x", &lo) == 1 &&
			      lo >= 0xdc00 && lo <= 0xdfff;
		if (paired) {
			i += 11;
		} else {
			memcpy(s + i + 2, "fffd", 4);
			i += 5;
		}
	}
}

int scanp_json(struct scanp_ctx *c, struct scanp_span v, const char *what,
	       cJSON **out)
{
	struct strbuf *sb = &c->scratch;
	*out = NULL;
	sb->len = 0;
	if (strbuf_add(sb, v.p, v.n))
		return -ENOMEM;
	for (size_t i = 0; i < v.n; i++)
		if (!sb->buf[i])
			sb->buf[i] = 0x1a; /* a raw NUL: U+FFFD in a string */
	json_neutralize_nul(sb->buf, v.n);
	neutralize_surrogates(sb->buf, v.n);
	const char *end = NULL;
	*out = cJSON_ParseWithLengthOpts(sb->buf, v.n + 1, &end, true);
	if (*out)
		return 0;
	size_t at = (size_t)(v.p - c->text);
	if (end && end >= sb->buf && end <= sb->buf + v.n)
		at += (size_t)(end - sb->buf);
	return scanp_fail(c, "%s: invalid JSON at byte %zu%s", what, at,
			  at + 1 >= c->len ? " (truncated?)" : "");
}

int scanp_walk_fail(struct scanp_ctx *c, const char *what, const char *at)
{
	size_t end = c->len;
	while (end && isspace((unsigned char)c->text[end - 1]))
		end--;
	if (!end || (c->text[end - 1] != '}' && c->text[end - 1] != ']'))
		return scanp_fail(c, "%s: invalid JSON: the text ends at byte "
				  "%zu inside a value (truncated?)", what, end);
	return scanp_fail(c, "%s: invalid JSON near byte %zu", what,
			  (size_t)(at - c->text));
}

/* ------------------------------------------------------------------ */
/* Findings and the report                                              */

int scanp_finding(struct scanp_ctx *c, struct scan_finding **f)
{
	struct scan_report *r = c->r;
	if (r->n >= SCANP_FINDINGS_MAX)
		return scanp_fail(c, "more than %d findings: split the report",
				  SCANP_FINDINGS_MAX);
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct scan_finding *nf = realloc(r->f, cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		r->f = nf;
		r->cap = cap;
	}
	*f = &r->f[r->n++];
	memset(*f, 0, sizeof(**f));
	return 0;
}

void scanp_finding_release(struct scan_finding *f)
{
	char **strs[] = { &f->tool, &f->tool_version, &f->rule, &f->title,
			  &f->message, &f->help, &f->help_uri, &f->target,
			  &f->location, &f->snippet };
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	for (size_t i = 0; i < f->nids; i++)
		free(f->ids[i]);
	free(f->ids);
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->labels);
	cJSON_Delete(f->fields);
	memset(f, 0, sizeof(*f));
}

void scan_report_release(struct scan_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		scanp_finding_release(&r->f[i]);
	free(r->f);
	for (size_t i = 0; i < r->ntools; i++)
		free(r->tools[i]);
	free(r->tools);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	memset(r, 0, sizeof(*r));
}

int scanp_tool(struct scanp_ctx *c, const char *raw, char **out)
{
	static const char *const table[][2] = {
		{ "semgrep-oss", "semgrep" }, { "semgrep-pro", "semgrep" },
		{ "codeql-command-line-toolchain", "codeql" },
		{ "anchore-container-vulnerability-report-(t0)", "grype" },
	};
	struct scan_report *r = c->r;
	char *t = scanp_cut(raw, raw ? strlen(raw) : 0, SCANP_LINE, 100);
	if (!t)
		return -ENOMEM;
	for (char *p = t; *p; p++)
		*p = *p == ' ' ? '-' : (char)tolower((unsigned char)*p);
	const char *name = *t ? t : "unknown";
	for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++)
		if (strcmp(t, table[i][0]) == 0)
			name = table[i][1];
	*out = strdup(name);
	free(t);
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < r->ntools; i++)
		if (strcmp(r->tools[i], *out) == 0)
			return 0;
	char **nt = realloc(r->tools, (r->ntools + 1) * sizeof(*nt));
	if (nt)
		r->tools = nt;
	if (!nt || !(nt[r->ntools] = strdup(*out))) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	r->ntools++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Occurrences                                                          */

int scanp_occurrence(struct map *m, const char *const *parts, size_t n,
		     size_t *idx)
{
	char key[SCAN_CONTENT_SIZE];
	scan_content_hash(key, parts, n);
	uintptr_t seen = (uintptr_t)map_get(m, key);
	*idx = seen;
	return map_put(m, key, (void *)(seen + 1), NULL);
}

void scanp_map_free(struct map *m)
{
	if (!m)
		return;
	for (struct map_iter it = map_iter_start(m); map_iter_next(&it);)
		free(it.value);
	map_free(m);
}

/* ------------------------------------------------------------------ */
/* Detection and dispatch                                               */

static bool key_is(const char *k, size_t klen, const char *name)
{
	return klen == strlen(name) && memcmp(k, name, klen) == 0;
}

/* The members of the object s[0..n) that tell a format; 0 or -EINVAL
 * (*errat where the walk stopped). */
static int top_members(const char *s, size_t n, struct scanp_top *t,
		       const char **errat)
{
	struct json_walk w;
	const char *k, *v;
	size_t klen, vlen;
	int rc;
	memset(t, 0, sizeof(*t));
	if (json_walk_start(&w, s, n) || w.close != '}') {
		*errat = s;
		return -EINVAL;
	}
	while ((rc = json_walk_next(&w, &k, &klen, &v, &vlen)) == 1) {
		struct scanp_span sp = { v, vlen }, *dst = NULL;
		if (key_is(k, klen, "version")) dst = &t->version;
		else if (key_is(k, klen, "$schema")) dst = &t->schema;
		else if (key_is(k, klen, "runs")) dst = &t->runs;
		else if (key_is(k, klen, "SchemaVersion")) dst = &t->schema_version;
		else if (key_is(k, klen, "Results")) dst = &t->results;
		else if (key_is(k, klen, "ArtifactName")) dst = &t->artifact_name;
		else if (key_is(k, klen, "ArtifactType")) dst = &t->artifact_type;
		else if (key_is(k, klen, "Trivy")) dst = &t->trivy;
		if (dst)
			*dst = sp;
	}
	*errat = s + w.pos;
	return rc ? -EINVAL : 0;
}

static bool span_has(struct scanp_span v, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; v.p && i + k <= v.n; i++)
		if (strncasecmp(v.p + i, needle, k) == 0)
			return true;
	return false;
}

/* Findings sharing a fingerprint: the lines format keeps the first (the
 * script wrote one id twice); the others are told apart by their order. */
static int dedupe(struct scanp_ctx *c)
{
	struct scan_report *r = c->r;
	struct map *m = map_new();
	size_t ndup = 0, out = 0;
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		struct scan_finding *f = &r->f[i];
		uintptr_t seen = (uintptr_t)map_get(m, f->fp);
		if (map_put(m, f->fp, (void *)(seen + 1), NULL)) {
			map_free(m);
			return -ENOMEM;
		}
		if (seen && r->format == SCAN_FMT_LINES) {
			scanp_finding_release(f);
			ndup++;
			continue;
		}
		if (seen) {
			char idx[32];
			snprintf(idx, sizeof(idx), "%zu", (size_t)seen);
			const char *parts[] = { "dup", f->fp, idx };
			scan_fp(f->fp, parts, 3);
			ndup++;
		}
		if (out != i)
			r->f[out] = *f;
		out++;
	}
	r->n = out;
	map_free(m);
	if (ndup && r->format == SCAN_FMT_LINES)
		return scanp_warn(c, "%zu lines repeat an earlier line's tool, "
				  "asset and id: ignored", ndup);
	if (ndup)
		return scanp_warn(c, "%zu findings have the identity of an "
				  "earlier one: told apart by their order in "
				  "the report", ndup);
	return 0;
}

/* s[0..n): the text from its first non-blank byte; all[0..alln): from
 * after the BOM (the lines format counts lines from there). */
static int detect_and_parse(struct scanp_ctx *c, const char *s, size_t n,
			    const char *all, size_t alln)
{
	struct scanp_top t;
	const char *errat = s;
	bool obj = n && s[0] == '{', walked = false;
	if (obj)
		walked = top_members(s, n, &t, &errat) == 0;
	if (walked && t.runs.p) {
		bool v21 = t.version.p && key_is(t.version.p, t.version.n,
						 "\"2.1.0\"");
		if (t.version.p && !v21)
			return scanp_fail(c, "SARIF version %.*s: only 2.1.0 "
					  "is read", t.version.n > 20 ? 20 :
					  (int)t.version.n, t.version.p);
		if (!v21 && !(span_has(t.schema, "sarif") &&
			      span_has(t.schema, "2.1.0")))
			return scanp_fail(c, "\"runs\" but no SARIF \"version\" "
					  "2.1.0");
		if (t.runs.p[0] != '[')
			return scanp_fail(c, "SARIF: \"runs\" is not an array");
		c->r->format = SCAN_FMT_SARIF;
		return scanp_sarif(c, &t);
	}
	if (walked && t.schema_version.p && (t.results.p || t.artifact_name.p)) {
		c->r->format = SCAN_FMT_TRIVY;
		return scanp_trivy(c, &t);
	}
	if (scanp_lines_sniff(s, n)) {
		c->r->format = SCAN_FMT_LINES;
		return scanp_lines(c, all, alln);
	}
	if (!obj && s[0] == '[') { /* well-formed? */
		struct json_walk w;
		const char *v;
		size_t vlen;
		int rc;
		json_walk_start(&w, s, n);
		while ((rc = json_walk_next(&w, NULL, NULL, &v, &vlen)) == 1)
			;
		walked = rc == 0;
		errat = s + w.pos;
	}
	if (walked || (s[0] != '{' && s[0] != '['))
		return scanp_fail(c, "not SARIF 2.1.0, a Trivy JSON report or "
				  "JSON lines");
	return scanp_walk_fail(c, "report", errat);
}

int scan_parse(const char *text, size_t len, const char *scope,
	       struct scan_report *r, char *why, size_t whysize)
{
	struct scanp_ctx c = {
		.r = r, .text = text, .len = len, .scope = scope ? scope : "",
		.why = why, .whysize = whysize,
	};
	size_t at = 0;
	int rc;
	memset(r, 0, sizeof(*r));
	if (why && whysize)
		why[0] = '\0';
	c.budget = ((size_t)64 << 20) + (len < SIZE_MAX / 4 ? 2 * len : 0);
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		at = 3;
	size_t bom = at;
	while (at < len && isspace((unsigned char)text[at]))
		at++;
	if (at == len)
		rc = scanp_fail(&c, "empty report");
	else
		rc = detect_and_parse(&c, text + at, len - at, text + bom,
				      len - bom);
	if (!rc)
		rc = dedupe(&c);
	if (!rc && c.ncut)
		rc = scanp_warn(&c, "%zu texts cut to %d characters", c.ncut,
				SCAN_TEXT_MAX);
	if (!rc && c.nsqueezed)
		rc = scanp_warn(&c, "%zu texts cut to %d characters: the "
				"report's texts exceed the memory budget",
				c.nsqueezed, SCAN_SUMMARY_MAX);
	if (!rc && c.nwarn_dropped) {
		c.r->nwarnings--; /* room for the count */
		free(c.r->warnings[c.r->nwarnings]);
		rc = scanp_warn(&c, "and %zu more warnings", c.nwarn_dropped + 1);
	}
	strbuf_release(&c.scratch);
	if (!rc && why && whysize)
		why[0] = '\0';
	if (rc) {
		if (rc == -ENOMEM && why && whysize && !why[0])
			snprintf(why, whysize, "out of memory");
		scan_report_release(r);
	}
	return rc;
}
