/* scan_fixture.c - see scan_fixture.h */
#include "scan_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/plan_priv.h"
#include "util/json.h"

static char *dup_(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct scan_finding *fx_add(struct scan_report *r, const char *tool,
			    const char *rule, const char *target,
			    const char *loc, enum scan_severity sev,
			    const char *msg)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->f = realloc(r->f, r->cap * sizeof(*r->f));
	}
	struct scan_finding *f = &r->f[r->n++];
	const char *parts[] = { tool, rule, target, loc };
	memset(f, 0, sizeof(*f));
	scan_fp(f->fp, parts, 4);
	f->loc_kind = SCAN_LOC_ID;
	f->tool = dup_(tool);
	f->rule = dup_(rule);
	f->target = dup_(target);
	f->location = dup_(loc);
	f->message = dup_(msg);
	f->severity = sev;
	for (size_t i = 0; i < r->ntools; i++)
		if (strcmp(r->tools[i], tool) == 0)
			return f;
	r->tools = realloc(r->tools, (r->ntools + 1) * sizeof(*r->tools));
	r->tools[r->ntools++] = dup_(tool);
	return f;
}

void fx_free(struct scan_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct scan_finding *f = &r->f[i];
		free(f->tool), free(f->tool_version), free(f->rule);
		free(f->title), free(f->message), free(f->help);
		free(f->help_uri), free(f->target), free(f->location);
		free(f->snippet);
		for (size_t j = 0; j < f->nids; j++)
			free(f->ids[j]);
		for (size_t j = 0; j < f->nlabels; j++)
			free(f->labels[j]);
		free(f->ids), free(f->labels);
		cJSON_Delete(f->fields);
	}
	for (size_t i = 0; i < r->ntools; i++)
		free(r->tools[i]);
	free(r->tools);
	free(r->f);
	memset(r, 0, sizeof(*r));
}

static const char *const accepted[] = { "Won't Fix", "Risk Accepted" };

struct scan_options fx_opts(void)
{
	struct scan_options o = {
		.project = "SEC", .scope = "web-01.sarif",
		.group = SCAN_GROUP_FINDING, .min_severity = SCAN_SEV_INFO,
		.priority = { "Lowest", "Low", "Medium", "High", "Highest" },
		.autoclose_max_pct = 50, .accepted = accepted, .naccepted = 2,
		.scan_id = "2026-11-27T10:00:00Z",
	};
	return o;
}

static cJSON *ticket_file(struct fx_world *w, const char *key)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(json_str(w->t[i], "key"), key) == 0)
			return w->t[i];
	return NULL;
}

cJSON *fx_put(struct fx_world *w, const char *key, const char *fp,
	      const char *scope, bool done, const char *res, const char *desc)
{
	char sl[SCAN_SCOPE_SIZE];
	cJSON *t = cJSON_CreateObject();
	scan_scope_label(sl, scope);
	cJSON_AddStringToObject(t, "key", key);
	cJSON_AddStringToObject(t, "summary", "by hand");
	cJSON_AddStringToObject(t, "description", desc ? desc : "");
	if (res)
		cJSON_AddStringToObject(t, "resolution", res);
	else
		cJSON_AddNullToObject(t, "resolution");
	cJSON *l = cJSON_AddArrayToObject(t, "labels");
	cJSON_AddItemToArray(l, cJSON_CreateString("jirafs"));
	cJSON_AddItemToArray(l, cJSON_CreateString(fp));
	cJSON_AddItemToArray(l, cJSON_CreateString(sl));
	cJSON_AddArrayToObject(t, "comments");
	w->done[w->n] = done;
	w->t[w->n++] = t;
	return t;
}

void fx_comment(cJSON *t, const char *body)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "body", body);
	cJSON_AddItemToArray(cJSON_GetObjectItem(t, "comments"), c);
}

void fx_apply(struct fx_world *w, const struct scan_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct scan_action *a = &p->a[i];
		char key[32];
		if (a->kind == SCAN_ACT_CREATE) {
			cJSON *t = cJSON_Parse(a->body);
			snprintf(key, sizeof(key), "SEC-%d", ++w->next);
			cJSON_AddStringToObject(t, "key", key);
			cJSON_AddNullToObject(t, "resolution");
			cJSON_AddArrayToObject(t, "comments");
			w->done[w->n] = false;
			w->t[w->n++] = t;
			continue;
		}
		cJSON *t = ticket_file(w, a->key);
		size_t at = 0;
		while (w->t[at] != t)
			at++;
		if (a->kind == SCAN_ACT_COMMENT) {
			fx_comment(t, a->body);
			continue;
		}
		cJSON_DeleteItemFromObject(t, "resolution");
		w->done[at] = a->kind == SCAN_ACT_CLOSE;
		if (w->done[at])
			cJSON_AddStringToObject(t, "resolution",
						a->resolution ? a->resolution :
								"Done");
		else
			cJSON_AddNullToObject(t, "resolution");
	}
}

int fx_plan(struct fx_world *w, const struct scan_report *r,
	    const struct scan_options *o, struct scan_plan *p)
{
	struct scan_ticket t[FX_WORLD_MAX];
	char sl[SCAN_SCOPE_SIZE];
	size_t n = 0;
	scan_scope_label(sl, o->scope);
	for (size_t i = 0; i < w->n; i++) {
		char *text = cJSON_Print(w->t[i]);
		if (scan_ticket_read(text, strlen(text), w->done[i], sl,
				     &t[n]) == 1)
			n++;
		free(text);
	}
	int ret = scan_plan_make(r, t, n, o, p);
	for (size_t i = 0; i < n; i++)
		scan_ticket_release(&t[i]);
	return ret;
}

size_t fx_settle(struct fx_world *w, const struct scan_report *r,
		 const struct scan_options *o)
{
	struct scan_plan p;
	if (fx_plan(w, r, o, &p))
		return 999;
	fx_apply(w, &p);
	scan_plan_release(&p);
	if (fx_plan(w, r, o, &p))
		return 999;
	size_t n = p.n;
	scan_plan_release(&p);
	return n;
}

void fx_world_free(struct fx_world *w)
{
	for (size_t i = 0; i < w->n; i++)
		cJSON_Delete(w->t[i]);
	w->n = 0;
}

size_t fx_outcomes(const struct scan_plan *p, enum scan_outcome o)
{
	size_t n = 0;
	for (size_t i = 0; i < p->ne; i++)
		n += p->e[i].outcome == o;
	return n;
}

const char *fx_state(const char *tool, enum scan_severity sev,
		     const struct scan_finding *f, bool seen)
{
	static char buf[4][200];
	static int k;
	struct scan_state s = { .known = true, .sev = sev, .seen = seen };
	snprintf(s.tool, sizeof(s.tool), "%s", tool);
	memcpy(s.content, "0123456789abcdef", SCAN_CONTENT_SIZE);
	if (f)
		scan_unit_content(s.content, &f, 1, false, sev);
	k = (k + 1) % 4;
	scan_state_line(buf[k], sizeof(buf[k]), &s);
	return buf[k];
}

bool fx_starts(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}
