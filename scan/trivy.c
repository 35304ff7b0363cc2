/*
 * trivy.c - Trivy's JSON report (SchemaVersion 2): the vulnerabilities,
 * misconfigurations and secrets of every Result, each parsed alone (a
 * Result's Packages, Metadata and Licenses are walked past, never
 * parsed); see scan.h.
 *
 * Identity, scan_fp parts (SCAN_LOC_ID), never a version or a line:
 *   {"trivy", scope, repo, target, class, "vuln", VulnerabilityID,
 *    PkgName, PkgPath}
 *   {"trivy", scope, repo, target, class, "misconf", AVDID (else ID),
 *    CauseMetadata.Resource}
 *   {"trivy", scope, repo, target, class, "secret", RuleID,
 *    hash of Match, occurrence index among the same four}
 * repo: a container image's ArtifactName without tag and digest; "" for
 * filesystem, rootfs and vm scans (ArtifactName is a local path); else
 * ArtifactName.  target: Target; for os-pkgs without its distro suffix
 * " (alpine 3.18.4)" and, in an image, without tag and digest.
 * Misconfigurations: FAIL is a finding, PASS not a failure, EXCEPTION
 * suppressed.  No Results, or null: a clean scan, complete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/parse_priv.h"
#include "scan/scan.h"
#include "util/json.h"
#include "util/map.h"

struct trivy {
	char *repo, *version, *tool;
	bool image;
	struct map *occ;
	/* the Result being read */
	size_t ri;
	char *target, *tid, *class, *type;
};

static bool span_is(struct scanp_span v, const char *k)
{
	return v.n == strlen(k) && memcmp(v.p, k, v.n) == 0;
}

/* The string at v (parsed alone), cleaned as one line; NULL when v is
 * absent or not a string. */
static int str_at(struct scanp_ctx *c, struct scanp_span v, const char *what,
		  char **out)
{
	cJSON *j;
	int rc;
	*out = NULL;
	if (!v.p)
		return 0;
	if ((rc = scanp_json(c, v, what, &j)))
		return rc;
	if (cJSON_IsString(j) && !(*out = scanp_clean(j->valuestring,
						     strlen(j->valuestring),
						     SCANP_LINE)))
		rc = -ENOMEM;
	cJSON_Delete(j);
	return rc;
}

/* "web:1.4 (alpine 3.18.4)" -> "web:1.4" */
static void drop_suffix(char *t)
{
	size_t n = strlen(t);
	if (n && t[n - 1] == ')') {
		char *open = strrchr(t, '(');
		if (open && open > t && open[-1] == ' ')
			open[-1] = '\0';
	}
}

static char *repository(const char *ref)
{
	char *s = strndup(ref, strcspn(ref, "@"));
	if (!s)
		return NULL;
	char *slash = strrchr(s, '/');
	char *colon = strrchr(slash ? slash : s, ':');
	if (colon && colon > s)
		*colon = '\0';
	return s;
}

static int common(struct scanp_ctx *c, struct trivy *t, struct scan_finding **fp,
		  const char *rule, const char *title, const char *sev)
{
	struct scan_finding *f;
	int rc;
	if ((rc = scanp_finding(c, fp)))
		return rc;
	f = *fp;
	f->loc_kind = SCAN_LOC_ID;
	if (scan_severity_parse(sev, &f->severity))
		f->severity = SCAN_SEV_INFO;
	f->rule = scanp_clean(rule, rule ? strlen(rule) : 0, SCANP_LINE);
	f->target = strdup(t->tid);
	if (!f->rule || !f->target)
		return -ENOMEM;
	if ((rc = scanp_textz(c, &f->tool, t->tool, SCANP_LINE)) ||
	    (rc = scanp_textz(c, &f->tool_version, t->version, SCANP_LINE)) ||
	    (rc = scanp_textz(c, &f->title, title, SCANP_LINE)))
		return rc;
	return scanp_ids(f, f->rule);
}

static void fp_of(struct scanp_ctx *c, struct trivy *t, struct scan_finding *f,
		  const char *kind, const char *a, const char *b, const char *d)
{
	const char *parts[] = { "trivy", c->scope, t->repo, t->tid,
				t->class, kind, f->rule, a, b, d };
	scan_fp(f->fp, parts, d ? 10 : b ? 9 : 8);
}

static int vuln(struct scanp_ctx *c, struct trivy *t, const cJSON *v)
{
	const char *name = json_str(v, "PkgName");
	const char *ver = json_str(v, "InstalledVersion");
	const char *fixed = json_str(v, "FixedVersion");
	const char *status = json_str(v, "Status");
	const char *path = json_str(v, "PkgPath");
	const char *id = json_str(v, "VulnerabilityID");
	const cJSON *cwe;
	struct scan_finding *f;
	char *pkg = NULL, *pkgpath = NULL;
	int rc;
	if ((rc = common(c, t, &f, id ? id : "(no id)", json_str(v, "Title"),
			 json_str(v, "Severity"))))
		return rc;
	pkg = scanp_clean(name, name ? strlen(name) : 0, SCANP_LINE);
	pkgpath = scanp_clean(path, path ? strlen(path) : 0, SCANP_LINE);
	if (!pkg || !pkgpath) {
		rc = -ENOMEM;
		goto out;
	}
	fp_of(c, t, f, "vuln", pkg, pkgpath, NULL);
	struct strbuf m = STRBUF_INIT, l = STRBUF_INIT;
	strbuf_addf(&m, "%s %s", name ? name : "", ver ? ver : "");
	if (fixed && *fixed)
		strbuf_addf(&m, " (fixed in %s)", fixed);
	else
		strbuf_addf(&m, " (no fixed version%s%s)", status ? ": " : "",
			    status ? status : "");
	strbuf_addf(&l, "%s@%s in %s", name ? name : "", ver ? ver : "",
		    t->target);
	if (path && *path)
		strbuf_addf(&l, " (%s)", path);
	rc = m.failed || l.failed ? -ENOMEM : 0;
	if (!rc && !(rc = scanp_text(c, &f->message, m.buf, m.len, SCANP_LINE)))
		rc = scanp_text(c, &f->location, l.buf, l.len, SCANP_LINE);
	strbuf_release(&m);
	strbuf_release(&l);
	if (rc ||
	    (rc = scanp_textz(c, &f->help, json_str(v, "Description"),
			      SCANP_BLOCK)) ||
	    (rc = scanp_textz(c, &f->help_uri, json_str(v, "PrimaryURL"),
			      SCANP_LINE)))
		goto out;
	cJSON_ArrayForEach(cwe, json_item(v, "CweIDs"))
		if (cJSON_IsString(cwe) && (rc = scanp_ids(f, cwe->valuestring)))
			goto out;
out:
	free(pkg);
	free(pkgpath);
	return rc;
}

static int misconf(struct scanp_ctx *c, struct trivy *t, const cJSON *m)
{
	const char *status = json_str(m, "Status");
	const char *rule = json_str(m, "AVDID");
	const cJSON *cause = json_item(m, "CauseMetadata"), *line;
	const cJSON *start = json_item(cause, "StartLine");
	const char *res = json_str(cause, "Resource");
	struct scan_finding *f;
	char *resource;
	int rc;
	if (status && strcmp(status, "PASS") == 0) {
		c->r->not_failures++;
		return 0;
	}
	if (status && strcmp(status, "EXCEPTION") == 0) {
		c->r->suppressed++;
		return 0;
	}
	if (!rule || !*rule)
		rule = json_str(m, "ID");
	if ((rc = common(c, t, &f, rule ? rule : "(no id)",
			 json_str(m, "Title"), json_str(m, "Severity"))))
		return rc;
	if (!(resource = scanp_clean(res, res ? strlen(res) : 0, SCANP_LINE)))
		return -ENOMEM;
	fp_of(c, t, f, "misconf", resource, NULL, NULL);
	free(resource);
	struct strbuf h = STRBUF_INIT, l = STRBUF_INIT, s = STRBUF_INIT;
	const char *desc = json_str(m, "Description");
	const char *fix = json_str(m, "Resolution");
	strbuf_adds(&h, desc ? desc : "");
	if (fix && *fix)
		strbuf_addf(&h, "%sResolution: %s", desc ? "\n\n" : "", fix);
	strbuf_adds(&l, t->target);
	if (cJSON_IsNumber(start) && start->valuedouble >= 1)
		strbuf_addf(&l, ":%ld", (long)start->valuedouble);
	cJSON_ArrayForEach(line, json_item(json_item(cause, "Code"), "Lines")) {
		const char *text = json_str(line, "Content");
		if (text && s.len < 4 * SCAN_TEXT_MAX)
			strbuf_addf(&s, "%s%s", s.len ? "\n" : "", text);
	}
	rc = h.failed || l.failed || s.failed ? -ENOMEM : 0;
	if (!rc && h.len)
		rc = scanp_text(c, &f->help, h.buf, h.len, SCANP_BLOCK);
	if (!rc)
		rc = scanp_text(c, &f->location, l.buf, l.len, SCANP_LINE);
	if (!rc && s.len)
		rc = scanp_text(c, &f->snippet, s.buf, s.len, SCANP_BLOCK);
	strbuf_release(&h);
	strbuf_release(&l);
	strbuf_release(&s);
	if (rc || (rc = scanp_textz(c, &f->message, json_str(m, "Message"),
				    SCANP_BLOCK)))
		return rc;
	return scanp_textz(c, &f->help_uri, json_str(m, "PrimaryURL"),
			   SCANP_LINE);
}

static int secret(struct scanp_ctx *c, struct trivy *t, const cJSON *s)
{
	const char *rule = json_str(s, "RuleID"), *match = json_str(s, "Match");
	const char *cat = json_str(s, "Category");
	const cJSON *start = json_item(s, "StartLine");
	struct scan_finding *f;
	char h[SCAN_CONTENT_SIZE], idx[24];
	size_t occ;
	int rc;
	if ((rc = common(c, t, &f, rule ? rule : "(no id)",
			 json_str(s, "Title"), json_str(s, "Severity"))))
		return rc;
	const char *mp[] = { match };
	scan_content_hash(h, mp, 1);
	const char *key[] = { t->tid, t->class, f->rule, h };
	if (scanp_occurrence(t->occ, key, 4, &occ))
		return -ENOMEM;
	snprintf(idx, sizeof(idx), "%zu", occ);
	fp_of(c, t, f, "secret", h, idx, NULL);
	struct strbuf m = STRBUF_INIT, l = STRBUF_INIT;
	strbuf_addf(&m, "%s secret in %s (the match is not shown)",
		    cat && *cat ? cat : "A", t->target);
	strbuf_adds(&l, t->target);
	if (cJSON_IsNumber(start) && start->valuedouble >= 1)
		strbuf_addf(&l, ":%ld", (long)start->valuedouble);
	rc = m.failed || l.failed ? -ENOMEM : 0;
	if (!rc)
		rc = scanp_text(c, &f->message, m.buf, m.len, SCANP_LINE);
	if (!rc)
		rc = scanp_text(c, &f->location, l.buf, l.len, SCANP_LINE);
	strbuf_release(&m);
	strbuf_release(&l);
	return rc;
}

/* Each element of the array at v, parsed alone, through fn. */
static int each(struct scanp_ctx *c, struct trivy *t, struct scanp_span v,
		const char *name,
		int (*fn)(struct scanp_ctx *, struct trivy *, const cJSON *))
{
	struct json_walk w;
	const char *e;
	char what[80];
	size_t elen, i = 0;
	int rc;
	snprintf(what, sizeof(what), "Results[%zu].%s", t->ri, name);
	if (v.n == 4 && !memcmp(v.p, "null", 4))
		return 0;
	if (json_walk_start(&w, v.p, v.n) || w.close != ']')
		return scanp_fail(c, "%s: not an array", what);
	while ((rc = json_walk_next(&w, NULL, NULL, &e, &elen)) == 1) {
		struct scanp_span sp = { e, elen };
		cJSON *j;
		snprintf(what, sizeof(what), "Results[%zu].%s[%zu]", t->ri, name,
			 i++);
		if ((rc = scanp_json(c, sp, what, &j)))
			return rc;
		c->r->results++;
		rc = cJSON_IsObject(j) ? fn(c, t, j) :
		     scanp_fail(c, "%s: not an object", what);
		cJSON_Delete(j);
		if (rc)
			return rc;
	}
	return rc ? scanp_walk_fail(c, what, w.s + w.pos) : 0;
}

/* A Result: its Target, Class and Type first, wherever they stand, then
 * its findings. */
static int result(struct scanp_ctx *c, struct trivy *t, struct scanp_span v)
{
	struct json_walk w;
	const char *k, *val;
	size_t klen, vlen;
	char what[48];
	int rc;
	snprintf(what, sizeof(what), "Results[%zu]", t->ri);
	for (int pass = 0; pass < 2; pass++) {
		if (json_walk_start(&w, v.p, v.n) || w.close != '}')
			return scanp_fail(c, "%s: not an object", what);
		while ((rc = json_walk_next(&w, &k, &klen, &val, &vlen)) == 1) {
			struct scanp_span sp = { val, vlen }, key = { k, klen };
			char **dst = NULL;
			rc = 0;
			if (pass == 0 && span_is(key, "Target"))
				dst = &t->target;
			else if (pass == 0 && span_is(key, "Class"))
				dst = &t->class;
			else if (pass == 0 && span_is(key, "Type"))
				dst = &t->type;
			if (dst) {
				free(*dst);
				rc = str_at(c, sp, what, dst);
			} else if (pass && span_is(key, "Vulnerabilities")) {
				rc = each(c, t, sp, "Vulnerabilities", vuln);
			} else if (pass && span_is(key, "Misconfigurations")) {
				rc = each(c, t, sp, "Misconfigurations", misconf);
			} else if (pass && span_is(key, "Secrets")) {
				rc = each(c, t, sp, "Secrets", secret);
			}
			if (rc)
				return rc;
		}
		if (rc)
			return scanp_walk_fail(c, what, w.s + w.pos);
		if (pass)
			break;
		if ((!t->target && !(t->target = strdup(""))) ||
		    (!t->class && !(t->class = strdup(""))))
			return -ENOMEM;
		if (!(t->tid = strdup(t->target)))
			return -ENOMEM;
		if (strcmp(t->class, "os-pkgs") == 0) {
			drop_suffix(t->tid);
			char *repo = t->image ? repository(t->tid) : NULL;
			if (t->image && !repo)
				return -ENOMEM;
			if (repo)
				free(t->tid), t->tid = repo;
		}
	}
	return 0;
}

int scanp_trivy(struct scanp_ctx *c, const struct scanp_top *top)
{
	struct trivy t = { .ri = 0 };
	char *name = NULL, *type = NULL;
	cJSON *tv = NULL;
	int rc;
	if ((rc = str_at(c, top->artifact_name, "ArtifactName", &name)) ||
	    (rc = str_at(c, top->artifact_type, "ArtifactType", &type)))
		goto out;
	if (top->trivy.p && (rc = scanp_json(c, top->trivy, "Trivy", &tv)))
		goto out;
	const char *ver = json_str(tv, "Version");
	if (ver && !(t.version = scanp_clean(ver, strlen(ver), SCANP_LINE)))
		goto oom;
	t.image = type && strcmp(type, "container_image") == 0;
	if (t.image)
		t.repo = repository(name ? name : "");
	else if (type && (!strcmp(type, "filesystem") || !strcmp(type, "rootfs") ||
			  !strcmp(type, "vm")))
		t.repo = strdup("");
	else
		t.repo = strdup(name ? name : "");
	if (!t.repo || !(t.occ = map_new()) ||
	    (rc = scanp_tool(c, "trivy", &t.tool)))
		goto oom;
	struct scanp_span res = top->results;
	if (!res.p || span_is(res, "null"))
		goto out;
	struct json_walk w;
	const char *e;
	size_t elen;
	if (json_walk_start(&w, res.p, res.n) || w.close != ']') {
		rc = scanp_fail(c, "Trivy report: \"Results\" is not an array");
		goto out;
	}
	while ((rc = json_walk_next(&w, NULL, NULL, &e, &elen)) == 1) {
		struct scanp_span sp = { e, elen };
		rc = result(c, &t, sp);
		free(t.target), free(t.tid), free(t.class), free(t.type);
		t.target = t.tid = t.class = t.type = NULL;
		t.ri++;
		if (rc)
			goto out;
	}
	if (rc)
		rc = scanp_walk_fail(c, "Results", w.s + w.pos);
	goto out;
oom:
	rc = rc ? rc : -ENOMEM;
out:
	cJSON_Delete(tv);
	free(name), free(type), free(t.repo), free(t.version), free(t.tool);
	map_free(t.occ);
	return rc;
}
