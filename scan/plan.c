/* plan.c - findings + tickets -> actions, counts and the safety rule; see
 * scan.h.  Units and tickets are matched through hash maps and one sort,
 * so a plan costs O(n log n) in findings and tickets. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/plan_priv.h"
#include "scan/scan.h"
#include "util/map.h"
#include "util/strbuf.h"

/* Caps of the texts a comment quotes, in UTF-16 units (a comment stays far
 * below SCAN_TEXT_MAX). */
#define CAP_SCOPE 500
#define CAP_SCAN_ID 200
#define CAP_EXCERPT 2000
#define CAP_LOCATIONS 12000
#define CAP_RESOLUTION 255
#define STATE_LINE_SIZE 192

const char *scan_outcome_name(enum scan_outcome o)
{
	static const char *const names[] = {
		[SCAN_NEW] = "new",
		[SCAN_UNCHANGED] = "unchanged",
		[SCAN_CHANGED] = "changed",
		[SCAN_REOPENED] = "reopened",
		[SCAN_ACCEPTED] = "accepted",
		[SCAN_GONE] = "gone",
		[SCAN_CLOSED] = "closed",
		[SCAN_STILL_GONE] = "still_gone",
		[SCAN_SKIPPED] = "skipped",
		[SCAN_DUPLICATE] = "duplicate",
		[SCAN_REFUSED] = "refused",
	};
	if ((unsigned)o < sizeof(names) / sizeof(*names) && names[o])
		return names[o];
	return "unknown";
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int scan_key_cmp(const char *a, const char *b)
{
	const char *da = strrchr(a, '-'), *db = strrchr(b, '-');
	if (!da || !db || !all_digits(da + 1) || !all_digits(db + 1))
		return strcmp(a, b);
	size_t pa = (size_t)(da - a), pb = (size_t)(db - b);
	int c = memcmp(a, b, pa < pb ? pa : pb);
	if (c || pa != pb)
		return c ? c : (pa < pb ? -1 : 1);
	da += 1 + strspn(da + 1, "0");
	db += 1 + strspn(db + 1, "0");
	size_t la = strlen(da), lb = strlen(db);
	if (la != lb)
		return la < lb ? -1 : 1;
	c = strcmp(da, db);
	return c ? c : strcmp(a, b);
}

/* ------------------------------------------------------------------ */

/* One finding, or one group: what gets a ticket. */
struct unit {
	char fp[SCAN_FP_SIZE];
	size_t first, n; /* its findings: members[first .. first + n) */
	enum scan_severity sev;
	char content[SCAN_CONTENT_SIZE];
};

/* The tickets of one fingerprint: sorted[first .. first + n), by key. */
struct tgroup {
	size_t first, n;
	const struct scan_ticket *primary;
	bool present; /* a unit of the report has its fingerprint */
};

struct ctx {
	const struct scan_report *r;
	const struct scan_options *o;
	struct scan_plan *p;
	bool grouped;
	struct unit *u;
	size_t nu;
	const struct scan_finding **members;
	const struct scan_ticket **sorted;
	size_t nsorted;
	struct tgroup *g;
	size_t ng;
	struct map *units, *groups, *tools;
};

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	size_t c = *cap ? *cap * 2 : 16;
	void *nv = realloc(v, c * size);
	if (nv)
		*cap = c;
	return nv;
}

/* Append an action; body is taken over (freed on failure). */
static int add_action(struct scan_plan *p, enum scan_action_kind kind,
		      const char *key, const char *fp, char *body,
		      const char *resolution)
{
	struct scan_action *a = grow(p->a, &p->cap, p->n, sizeof(*a));
	if (!a)
		goto oom;
	p->a = a;
	a += p->n;
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	memcpy(a->fp, fp, SCAN_FP_SIZE);
	a->body = body;
	if ((key && !(a->key = strdup(key))) ||
	    (resolution && !(a->resolution = strdup(resolution)))) {
		free(a->key);
		goto oom;
	}
	p->n++;
	return 0;
oom:
	free(body);
	return -ENOMEM;
}

/* Append an entry; summary is taken over (freed on failure). */
static int add_entry(struct scan_plan *p, const char *fp, const char *key,
		     char *summary, enum scan_outcome outcome)
{
	struct scan_entry *e = grow(p->e, &p->ecap, p->ne, sizeof(*e));
	if (!e) {
		free(summary);
		return -ENOMEM;
	}
	p->e = e;
	e += p->ne;
	memcpy(e->fp, fp, SCAN_FP_SIZE);
	e->summary = summary;
	e->outcome = outcome;
	e->key = NULL;
	if (key && !(e->key = strdup(key))) {
		free(summary);
		return -ENOMEM;
	}
	p->ne++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Units                                                                */

static void unit_fp(const struct ctx *c, const struct scan_finding *f,
		    char out[SCAN_FP_SIZE])
{
	if (c->o->group == SCAN_GROUP_RULE) {
		const char *parts[] = { "group-rule", c->o->scope, f->tool,
					f->rule };
		scan_fp(out, parts, 4);
	} else if (c->o->group == SCAN_GROUP_RULE_TARGET) {
		const char *parts[] = { "group-rule-target", c->o->scope,
					f->tool, f->rule, f->target };
		scan_fp(out, parts, 5);
	} else {
		memcpy(out, f->fp, SCAN_FP_SIZE);
	}
}

static int build_units(struct ctx *c)
{
	const struct scan_report *r = c->r;
	size_t n = r->n, total = 0;
	int ret = -ENOMEM;
	size_t *unit_of = malloc((n ? n : 1) * sizeof(*unit_of));
	struct map *seen = map_new();
	c->units = map_new();
	c->u = calloc(n ? n : 1, sizeof(*c->u));
	c->members = malloc((n ? n : 1) * sizeof(*c->members));
	if (!unit_of || !seen || !c->units || !c->u || !c->members)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct scan_finding *f = &r->f[i];
		unit_of[i] = SIZE_MAX;
		if (map_get(seen, f->fp))
			continue; /* the same result twice: one finding */
		if (map_put(seen, f->fp, (void *)f, NULL) < 0)
			goto out;
		char fp[SCAN_FP_SIZE];
		unit_fp(c, f, fp);
		uintptr_t v = (uintptr_t)map_get(c->units, fp);
		if (!v) {
			v = ++c->nu;
			memcpy(c->u[v - 1].fp, fp, SCAN_FP_SIZE);
			if (map_put(c->units, fp, (void *)v, NULL) < 0)
				goto out;
		}
		unit_of[i] = v - 1;
		c->u[v - 1].n++;
	}
	for (size_t i = 0; i < c->nu; i++) {
		c->u[i].first = total;
		total += c->u[i].n;
		c->u[i].n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (unit_of[i] == SIZE_MAX)
			continue;
		struct unit *u = &c->u[unit_of[i]];
		c->members[u->first + u->n++] = &r->f[i];
	}
	for (size_t i = 0; i < c->nu; i++) {
		struct unit *u = &c->u[i];
		const struct scan_finding *const *fs = c->members + u->first;
		u->sev = scan_unit_severity(fs, u->n);
		if (scan_unit_content(u->content, fs, u->n, c->grouped,
				      u->sev) < 0)
			goto out;
	}
	ret = 0;
out:
	free(unit_of);
	map_free(seen);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Tickets                                                              */

static int cmp_ticket(const void *a, const void *b)
{
	const struct scan_ticket *x = *(const struct scan_ticket *const *)a;
	const struct scan_ticket *y = *(const struct scan_ticket *const *)b;
	int c = strcmp(x->fp, y->fp);
	return c ? c : scan_key_cmp(x->key, y->key);
}

static bool is_dup_resolution(const struct scan_ticket *t)
{
	return t->resolution && strcasecmp(t->resolution, "Duplicate") == 0;
}

/* The ticket that stands for a fingerprint: the open one of lowest key,
 * else a done one not closed as a duplicate, else the lowest. */
static const struct scan_ticket *
pick_primary(const struct scan_ticket *const *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!t[i]->done)
			return t[i];
	for (size_t i = 0; i < n; i++)
		if (!is_dup_resolution(t[i]))
			return t[i];
	return t[0];
}

static int build_groups(struct ctx *c, const struct scan_ticket *tickets,
			size_t ntickets)
{
	c->sorted = malloc((ntickets ? ntickets : 1) * sizeof(*c->sorted));
	c->g = malloc((ntickets ? ntickets : 1) * sizeof(*c->g));
	c->groups = map_new();
	if (!c->sorted || !c->g || !c->groups)
		return -ENOMEM;
	for (size_t i = 0; i < ntickets; i++)
		if (tickets[i].key && scan_is_fp(tickets[i].fp))
			c->sorted[c->nsorted++] = &tickets[i];
	qsort(c->sorted, c->nsorted, sizeof(*c->sorted), cmp_ticket);
	for (size_t i = 0; i < c->nsorted;) {
		size_t j = i + 1;
		while (j < c->nsorted &&
		       strcmp(c->sorted[j]->fp, c->sorted[i]->fp) == 0)
			j++;
		struct tgroup *g = &c->g[c->ng++];
		g->first = i;
		g->n = j - i;
		g->primary = pick_primary(c->sorted + i, j - i);
		g->present = false;
		if (map_put(c->groups, c->sorted[i]->fp, g, NULL) < 0)
			return -ENOMEM;
		i = j;
	}
	return 0;
}

static int build_tools(struct ctx *c)
{
	char tok[SCAN_TOOL_TOKEN_SIZE];
	if (!(c->tools = map_new()))
		return -ENOMEM;
	for (size_t i = 0; i < c->r->ntools; i++) {
		scan_tool_token(tok, c->r->tools[i]);
		if (map_put(c->tools, tok, c->tools, NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Is t one whose disappearance this report can tell? */
static bool tool_reported(const struct ctx *c, const struct scan_ticket *t)
{
	char tok[SCAN_TOOL_TOKEN_SIZE];
	if (!t->state.known)
		return false;
	scan_tool_token(tok, t->state.tool);
	return map_get(c->tools, tok) != NULL;
}

/* ------------------------------------------------------------------ */
/* Comments                                                             */

/* "scan NAME (ID)" */
static void add_scan(struct strbuf *sb, const struct scan_options *o)
{
	strbuf_adds(sb, "scan ");
	scan_text_add(sb, o->scope, CAP_SCOPE, SCAN_TEXT_LINE);
	if (o->scan_id && *o->scan_id) {
		strbuf_adds(sb, " (");
		scan_text_add(sb, o->scan_id, CAP_SCAN_ID, SCAN_TEXT_LINE);
		strbuf_addc(sb, ')');
	}
}

/* A blank line and the state line end every comment but a duplicate's;
 * the body, malloc'd, or NULL when out of memory. */
static char *finish(struct strbuf *sb, const struct scan_state *st)
{
	char line[STATE_LINE_SIZE];
	if (scan_state_line(line, sizeof(line), st) < 0)
		sb->failed = true;
	strbuf_addf(sb, "\n\n%s", line);
	if (sb->failed) {
		strbuf_release(sb);
		return NULL;
	}
	return strbuf_detach(sb, NULL);
}

static struct scan_state unit_state(const struct ctx *c, const struct unit *u,
				    bool accepted)
{
	struct scan_state st = { .known = true, .sev = u->sev, .seen = true,
				 .accepted = accepted };
	scan_tool_token(st.tool, c->members[u->first]->tool);
	memcpy(st.content, u->content, SCAN_CONTENT_SIZE);
	return st;
}

/* The lines telling how the unit differs from the ticket's state; false
 * when it does not (or the state is unknown). */
static bool add_changes(struct strbuf *sb, const struct ctx *c,
			const struct unit *u, const struct scan_state *s)
{
	const struct scan_finding *const *fs = c->members + u->first;
	if (!s->known || strcmp(s->content, u->content) == 0)
		return false;
	bool sev = s->sev != u->sev, text = true;
	if (sev) {
		char old[SCAN_CONTENT_SIZE];
		if (scan_unit_content(old, fs, u->n, c->grouped, s->sev) < 0)
			sb->failed = true;
		else
			text = strcmp(old, s->content) != 0;
		strbuf_addf(sb, "\nSeverity: %s \xe2\x86\x92 %s", /* → */
			    scan_severity_name(s->sev),
			    scan_severity_name(u->sev));
	}
	if (text && c->grouped) {
		strbuf_addf(sb, "\nThe group's findings changed; now %zu "
				"location%s:\n", u->n, u->n == 1 ? "" : "s");
		scan_add_locations(sb, fs, u->n, c->o->group, CAP_LOCATIONS);
		if (sb->len && sb->buf[sb->len - 1] == '\n')
			sb->buf[--sb->len] = '\0';
	} else if (text) {
		const struct scan_finding *f = fs[0];
		strbuf_adds(sb, "\nThe finding's text changed; now: ");
		scan_text_add(sb, f->message && *f->message ? f->message :
							      f->title,
			      CAP_EXCERPT, SCAN_TEXT_BLOCK);
	}
	return true;
}

static bool is_accepted(const struct scan_options *o, const char *res)
{
	for (size_t i = 0; res && i < o->naccepted; i++)
		if (o->accepted[i] && strcasecmp(o->accepted[i], res) == 0)
			return true;
	return false;
}

/* A unit of the report whose fingerprint has an open ticket t. */
static int seen_open(struct ctx *c, const struct unit *u,
		     const struct scan_ticket *t, enum scan_outcome *out)
{
	struct strbuf sb = STRBUF_INIT;
	const struct scan_state *s = &t->state;
	*out = SCAN_UNCHANGED;
	if (!s->known)
		return 0;
	if (!s->seen) {
		strbuf_adds(&sb, "Reported again by ");
		add_scan(&sb, c->o);
		strbuf_addc(&sb, '.');
		add_changes(&sb, c, u, s);
	} else {
		strbuf_adds(&sb, "Changed in ");
		add_scan(&sb, c->o);
		strbuf_addc(&sb, ':');
		if (!add_changes(&sb, c, u, s)) {
			strbuf_release(&sb);
			return 0;
		}
	}
	struct scan_state st = unit_state(c, u, false);
	char *body = finish(&sb, &st);
	*out = SCAN_CHANGED;
	c->p->counts.changed++;
	return body ? add_action(c->p, SCAN_ACT_COMMENT, t->key, u->fp, body,
				 NULL) :
		      -ENOMEM;
}

/* A unit of the report whose fingerprint has only done tickets. */
static int seen_done(struct ctx *c, const struct unit *u,
		     const struct scan_ticket *t, enum scan_outcome *out)
{
	struct strbuf sb = STRBUF_INIT;
	if (is_accepted(c->o, t->resolution)) {
		*out = SCAN_ACCEPTED;
		c->p->counts.accepted++;
		if (t->state.known && t->state.accepted)
			return 0;
		strbuf_adds(&sb, "Still reported by ");
		add_scan(&sb, c->o);
		strbuf_adds(&sb, "; not reopened because its resolution is ");
		scan_text_add(&sb, t->resolution, CAP_RESOLUTION,
			      SCAN_TEXT_LINE);
		strbuf_addc(&sb, '.');
		struct scan_state st = unit_state(c, u, true);
		char *body = finish(&sb, &st);
		return body ? add_action(c->p, SCAN_ACT_COMMENT, t->key, u->fp,
					 body, NULL) :
			      -ENOMEM;
	}
	*out = SCAN_REOPENED;
	c->p->counts.reopened++;
	strbuf_adds(&sb, "Reported again by ");
	add_scan(&sb, c->o);
	strbuf_adds(&sb, "; reopened by jirafs.");
	add_changes(&sb, c, u, &t->state);
	struct scan_state st = unit_state(c, u, false);
	char *body = finish(&sb, &st);
	int ret = body ? add_action(c->p, SCAN_ACT_COMMENT, t->key, u->fp, body,
				    NULL) :
			 -ENOMEM;
	if (!ret) /* the comment first: it says why */
		ret = add_action(c->p, SCAN_ACT_REOPEN, t->key, u->fp, NULL,
				 NULL);
	return ret;
}

static int plan_unit(struct ctx *c, const struct unit *u)
{
	const struct scan_finding *const *fs = c->members + u->first;
	struct tgroup *g = map_get(c->groups, u->fp);
	const struct scan_ticket *t = g ? g->primary : NULL;
	enum scan_outcome out;
	int ret = 0;
	if (g)
		g->present = true;
	char *summary = scan_render_summary(fs, u->n, c->o->group);
	if (!summary)
		return -ENOMEM;
	if (u->sev < c->o->min_severity) {
		out = SCAN_SKIPPED;
		c->p->counts.skipped++;
	} else if (!t) {
		out = SCAN_NEW;
		c->p->counts.new_++;
		char *body = scan_render_create(fs, u->n, u->fp, c->o);
		ret = body ? add_action(c->p, SCAN_ACT_CREATE, NULL, u->fp,
					body, NULL) :
			     -ENOMEM;
	} else if (!t->done) {
		ret = seen_open(c, u, t, &out);
		if (out == SCAN_UNCHANGED)
			c->p->counts.unchanged++;
	} else {
		ret = seen_done(c, u, t, &out);
	}
	if (ret) {
		free(summary);
		return ret;
	}
	return add_entry(c->p, u->fp, t ? t->key : NULL, summary, out);
}

/* Every open ticket of a fingerprint but its open primary: closed as a
 * duplicate of it. */
static int plan_duplicates(struct ctx *c, const struct tgroup *g)
{
	if (g->primary->done)
		return 0;
	for (size_t i = g->first; i < g->first + g->n; i++) {
		const struct scan_ticket *t = c->sorted[i];
		struct strbuf sb = STRBUF_INIT;
		if (t == g->primary || t->done)
			continue;
		strbuf_addf(&sb, "Duplicate of %s (same finding, fingerprint "
				 "%s); closed by jirafs.", g->primary->key,
			    t->fp);
		if (sb.failed)
			return -ENOMEM;
		int ret = add_action(c->p, SCAN_ACT_COMMENT, t->key, t->fp,
				     strbuf_detach(&sb, NULL), NULL);
		if (!ret)
			ret = add_action(c->p, SCAN_ACT_CLOSE, t->key, t->fp,
					 NULL, "Duplicate");
		if (!ret)
			ret = add_entry(c->p, t->fp, t->key, NULL,
					SCAN_DUPLICATE);
		if (ret)
			return ret;
		c->p->counts.duplicates++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Absent tickets and the safety rule                                   */

/* An open primary of this report's tools that says it was seen. */
static bool open_seen(const struct ctx *c, const struct tgroup *g)
{
	const struct scan_ticket *t = g->primary;
	return !t->done && t->state.seen && tool_reported(c, t);
}

static void safety(struct ctx *c, size_t candidates, size_t open)
{
	const struct scan_report *r = c->r;
	const struct scan_options *o = c->o;
	char *why = c->p->close_refused;
	size_t size = sizeof(c->p->close_refused);
	int n = 0;
	if (!candidates)
		return;
	if (r->incomplete)
		n = snprintf(why, size, "the report is incomplete%s%.200s",
			     r->incomplete_why[0] ? ": " : "",
			     r->incomplete_why);
	else if (r->n == 0 && open > 0)
		n = snprintf(why, size, "empty scan while the previous one "
					"reported %zu findings", open);
	else if (o->autoclose &&
		 candidates * 100 > (size_t)(o->autoclose_max_pct < 0 ? 0 :
					     o->autoclose_max_pct) * open)
		n = snprintf(why, size, "would close %zu of %zu open tickets, "
					"more than %d%%", candidates, open,
			     o->autoclose_max_pct);
	if (n < 0)
		snprintf(why, size, "refused");
}

static int plan_absent(struct ctx *c, const struct scan_ticket *tickets,
		       size_t ntickets)
{
	size_t candidates = 0, open = 0;
	for (size_t i = 0; i < c->ng; i++) {
		if (!open_seen(c, &c->g[i]))
			continue;
		open++;
		if (!c->g[i].present)
			candidates++;
	}
	safety(c, candidates, open);
	bool refused = c->p->close_refused[0] != '\0';

	for (size_t i = 0; i < ntickets; i++) {
		const struct scan_ticket *t = &tickets[i];
		struct tgroup *g = t->key && scan_is_fp(t->fp) ?
					   map_get(c->groups, t->fp) : NULL;
		if (!g || g->primary != t || g->present || t->done ||
		    !tool_reported(c, t))
			continue;
		int ret;
		if (!t->state.seen) {
			ret = add_entry(c->p, t->fp, t->key, NULL,
					SCAN_STILL_GONE);
		} else if (refused) {
			c->p->counts.refused++;
			ret = add_entry(c->p, t->fp, t->key, NULL,
					SCAN_REFUSED);
		} else {
			struct strbuf sb = STRBUF_INIT;
			struct scan_state st = t->state;
			st.seen = false;
			st.accepted = false;
			strbuf_adds(&sb, "No longer reported by ");
			add_scan(&sb, c->o);
			strbuf_addc(&sb, '.');
			char *body = finish(&sb, &st);
			ret = body ? add_action(c->p, SCAN_ACT_COMMENT, t->key,
						t->fp, body, NULL) :
				     -ENOMEM;
			if (!ret && c->o->autoclose)
				ret = add_action(c->p, SCAN_ACT_CLOSE, t->key,
						 t->fp, NULL, NULL);
			if (c->o->autoclose)
				c->p->counts.closed++;
			else
				c->p->counts.gone++;
			if (!ret)
				ret = add_entry(c->p, t->fp, t->key, NULL,
						c->o->autoclose ? SCAN_CLOSED :
								  SCAN_GONE);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

int scan_plan_make(const struct scan_report *r,
		   const struct scan_ticket *tickets, size_t ntickets,
		   const struct scan_options *o, struct scan_plan *p)
{
	struct ctx c = { .r = r, .o = o, .p = p,
			 .grouped = o->group != SCAN_GROUP_FINDING };
	memset(p, 0, sizeof(*p));
	p->counts.findings = r->n;
	p->counts.suppressed = r->suppressed;
	int ret = build_units(&c);
	if (!ret)
		ret = build_groups(&c, tickets, ntickets);
	if (!ret)
		ret = build_tools(&c);
	for (size_t i = 0; !ret && i < c.ng; i++)
		ret = plan_duplicates(&c, &c.g[i]);
	for (size_t i = 0; !ret && i < c.nu; i++)
		ret = plan_unit(&c, &c.u[i]);
	if (!ret)
		ret = plan_absent(&c, tickets, ntickets);
	free(c.u);
	free(c.members);
	free(c.sorted);
	free(c.g);
	map_free(c.units);
	map_free(c.groups);
	map_free(c.tools);
	if (ret)
		scan_plan_release(p);
	return ret;
}

void scan_plan_release(struct scan_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->a[i].key);
		free(p->a[i].body);
		free(p->a[i].resolution);
	}
	for (size_t i = 0; i < p->ne; i++) {
		free(p->e[i].key);
		free(p->e[i].summary);
	}
	free(p->a);
	free(p->e);
	memset(p, 0, sizeof(*p));
}
