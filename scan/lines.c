/*
 * lines.c - the one-finding-per-line format of home-made scripts; see
 * scan.h.
 *
 * The format: UTF-8 text, one JSON object per line ("JSON lines"), each
 * line one finding; blank lines are ignored.
 *
 *   {"id": "ssh-root-login", "title": "SSH allows root login",
 *    "severity": "high", "asset": "web-01.example.com",
 *    "description": "PermitRootLogin yes in /etc/ssh/sshd_config",
 *    "tool": "hostcheck", "rule": "ssh-config", "url": "https://...",
 *    "labels": ["ssh"], "fields": {"components": [{"name": "ops"}]}}
 *
 * (one line in the file).  Required:
 *   "id"        string: the finding's stable id within the tool and the
 *               asset (the same problem gets the same id on every run)
 *   "title"     string
 *   "severity"  "critical", "high", "medium", "low" or "info" (any case;
 *               also "error", "warning", "moderate", "note", "none",
 *               "unknown")
 *   "asset"     string: what was checked (a host, an image, a file)
 * Optional:
 *   "description" string, the ticket's text
 *   "tool"      string, default "script"
 *   "rule"      string, the check's name, default the id
 *   "url"       string, a help link
 *   "labels"    array of strings, added to the ticket
 *   "fields"    object: more Jira fields of the created ticket, as a
 *               ticket file writes them
 * Other members are ignored.  A line without "id" whose only member is
 * "tool", or the empty object {}, says that the tool (by default
 * "script") ran: a script that found nothing writes {} (or {"tool":
 * "NAME"}), and the findings of its earlier runs count as gone.
 *
 * Identity: scan_fp({"lines", scope, tool, asset, id}) (SCAN_LOC_ID); a
 * line repeating an earlier line's tool, asset and id is ignored (with a
 * warning).  Any bad line makes the whole file EINVAL, naming the line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/parse_priv.h"
#include "scan/scan.h"
#include "util/json.h"

bool scanp_lines_sniff(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && s[e] != '\n')
			e++;
		size_t b = i;
		while (b < e && isspace((unsigned char)s[b]))
			b++;
		if (b < e) {
			struct json_walk w;
			const char *v;
			size_t vlen;
			int rc;
			if (json_walk_start(&w, s + b, e - b) || w.close != '}')
				return false;
			while ((rc = json_walk_next(&w, NULL, NULL, &v, &vlen)) == 1)
				;
			return rc == 0;
		}
		i = e + 1;
	}
	return false;
}

/* The string member k of j: *out NULL when absent; -EINVAL when it is
 * not a string, or required and missing or blank. */
static int member(struct scanp_ctx *c, const cJSON *j, const char *k,
		  size_t line, bool required, const char **out)
{
	const cJSON *v = json_item(j, k);
	*out = NULL;
	if (!v && required)
		return scanp_fail(c, "line %zu: \"%s\" missing", line, k);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return scanp_fail(c, "line %zu: \"%s\" is not a string", line, k);
	if (required && !v->valuestring[strspn(v->valuestring, " \t\r\n")])
		return scanp_fail(c, "line %zu: \"%s\" is empty", line, k);
	*out = v->valuestring;
	return 0;
}

/* Every string (and key) of a "fields" value cleaned in place. */
static int clean_tree(cJSON *v)
{
	for (; v; v = v->next) {
		if (v->string) {
			char *k = scanp_clean(v->string, strlen(v->string),
					      SCANP_LINE);
			if (!k)
				return -ENOMEM;
			if (!(v->type & cJSON_StringIsConst))
				cJSON_free(v->string);
			v->string = k;
			v->type &= ~cJSON_StringIsConst;
		}
		if (cJSON_IsString(v)) {
			char *s = scanp_clean(v->valuestring,
					      strlen(v->valuestring), SCANP_BLOCK);
			if (!s)
				return -ENOMEM;
			cJSON_free(v->valuestring);
			v->valuestring = s;
		}
		if (clean_tree(v->child))
			return -ENOMEM;
	}
	return 0;
}

/* {} or {"tool": NAME}: the tool ran (1), else 0 */
static int declaration(struct scanp_ctx *c, const cJSON *j, size_t line)
{
	const char *tool;
	char *norm;
	int n = cJSON_GetArraySize(j), rc;
	if (n > 1 || (n == 1 && !json_item(j, "tool")))
		return 0;
	if ((rc = member(c, j, "tool", line, false, &tool)))
		return rc;
	if ((rc = scanp_tool(c, tool && *tool ? tool : "script", &norm)))
		return rc;
	free(norm);
	return 1;
}

static int labels_of(struct scanp_ctx *c, const cJSON *j, size_t line,
		     struct scan_finding *f)
{
	const cJSON *a = json_item(j, "labels"), *e;
	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return scanp_fail(c, "line %zu: \"labels\" is not an array", line);
	cJSON_ArrayForEach(e, a)
		if (!cJSON_IsString(e))
			return scanp_fail(c, "line %zu: \"labels\" holds a "
					  "non-string", line);
	size_t n = (size_t)cJSON_GetArraySize(a);
	if (n && !(f->labels = calloc(n, sizeof(*f->labels))))
		return -ENOMEM;
	cJSON_ArrayForEach(e, a) {
		int rc = scanp_textz(c, &f->labels[f->nlabels], e->valuestring,
				     SCANP_LINE);
		if (rc)
			return rc;
		if (!*f->labels[f->nlabels]) { /* a blank one: none */
			free(f->labels[f->nlabels]);
			f->labels[f->nlabels] = NULL;
			continue;
		}
		if (scanp_ids(f, f->labels[f->nlabels++]))
			return -ENOMEM;
	}
	return 0;
}

static int line_finding(struct scanp_ctx *c, cJSON *j, size_t line)
{
	const char *id, *title, *sev, *asset, *desc, *tool, *rule, *url;
	struct scan_finding *f;
	enum scan_severity s;
	int rc;
	if ((rc = declaration(c, j, line)))
		return rc < 0 ? rc : 0;
	c->r->results++;
	if ((rc = member(c, j, "id", line, true, &id)) ||
	    (rc = member(c, j, "title", line, true, &title)) ||
	    (rc = member(c, j, "severity", line, true, &sev)) ||
	    (rc = member(c, j, "asset", line, true, &asset)) ||
	    (rc = member(c, j, "description", line, false, &desc)) ||
	    (rc = member(c, j, "tool", line, false, &tool)) ||
	    (rc = member(c, j, "rule", line, false, &rule)) ||
	    (rc = member(c, j, "url", line, false, &url)))
		return rc;
	if (scan_severity_parse(sev, &s))
		return scanp_fail(c, "line %zu: \"severity\" \"%.20s\" is not "
				  "one of critical, high, medium, low, info",
				  line, sev);
	const cJSON *fields = json_item(j, "fields");
	if (fields && !cJSON_IsNull(fields) && !cJSON_IsObject(fields))
		return scanp_fail(c, "line %zu: \"fields\" is not an object",
				  line);
	if ((rc = scanp_finding(c, &f)))
		return rc;
	f->loc_kind = SCAN_LOC_ID;
	f->severity = s;
	if ((rc = scanp_tool(c, tool && *tool ? tool : "script", &f->tool)))
		return rc;
	f->rule = scanp_clean(rule && *rule ? rule : id,
			      strlen(rule && *rule ? rule : id), SCANP_LINE);
	f->target = scanp_clean(asset, strlen(asset), SCANP_LINE);
	char *cid = scanp_clean(id, strlen(id), SCANP_LINE);
	if (!f->rule || !f->target || !cid) {
		free(cid);
		return -ENOMEM;
	}
	const char *parts[] = { "lines", c->scope, f->tool, f->target, cid };
	scan_fp(f->fp, parts, 5);
	rc = scanp_ids(f, cid);
	free(cid);
	if (rc || (rc = scanp_ids(f, f->rule)) ||
	    (rc = scanp_textz(c, &f->title, title, SCANP_LINE)) ||
	    (rc = scanp_ids(f, f->title)) ||
	    (rc = scanp_textz(c, &f->message, desc, SCANP_BLOCK)) ||
	    (rc = scanp_textz(c, &f->help_uri, url, SCANP_LINE)) ||
	    (rc = labels_of(c, j, line, f)))
		return rc;
	if (cJSON_IsObject(fields)) {
		f->fields = cJSON_DetachItemFromObjectCaseSensitive(j, "fields");
		if (clean_tree(f->fields->child))
			return -ENOMEM;
	}
	return 0;
}

int scanp_lines(struct scanp_ctx *c, const char *s, size_t n)
{
	size_t i = 0, line = 0;
	char what[32];
	while (i < n) {
		size_t e = i;
		while (e < n && s[e] != '\n')
			e++;
		size_t b = i, end = e;
		line++;
		i = e + 1;
		while (b < end && isspace((unsigned char)s[b]))
			b++;
		while (end > b && isspace((unsigned char)s[end - 1]))
			end--;
		if (b == end)
			continue;
		struct scanp_span sp = { s + b, end - b };
		cJSON *j;
		int rc;
		snprintf(what, sizeof(what), "line %zu", line);
		if ((rc = scanp_json(c, sp, what, &j)))
			return rc;
		if (!cJSON_IsObject(j))
			rc = scanp_fail(c, "line %zu: not a JSON object", line);
		else
			rc = line_finding(c, j, line);
		cJSON_Delete(j);
		if (rc)
			return rc;
	}
	return 0;
}
