/* scan_import.c - a report closed in PROJECT/scans/ -> the outbox; see
 * scan_import.h. */
#include "fs/scan_import.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "fs/errmap.h"
#include "fs/outbox.h"
#include "fs/scans.h"
#include "fs/tree.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/map.h"
#include "util/strbuf.h"

/* The key shown for a finding whose create waits in the outbox. */
#define WAITING_KEY "pending"

/* ---- the tickets of a scope --------------------------------------------- */

struct tickets {
	const char *label;
	struct scan_ticket *t;
	size_t n, cap;
	bool nomem;
	struct strbuf text; /* the ticket being looked at, unpacked */
};

/* The next ticket of c, zeroed (counted by the caller), or NULL. */
static struct scan_ticket *next_slot(struct tickets *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct scan_ticket *g = realloc(c->t, cap * sizeof(*g));
		if (!g)
			return NULL;
		c->t = g;
		c->cap = cap;
	}
	memset(&c->t[c->n], 0, sizeof(c->t[c->n]));
	return &c->t[c->n];
}

static void collect(void *ctx, const char *key, struct jira_issue *i,
		    bool done)
{
	struct tickets *c = ctx;
	(void)key;
	if (!i || c->nomem)
		return;
	if (jira_issue_text_to(i, &c->text)) {
		c->nomem = true;
		return;
	}
	if (!memmem(c->text.buf, c->text.len, c->label, strlen(c->label)))
		return;
	struct scan_ticket *t = next_slot(c);
	if (!t) {
		c->nomem = true;
		return;
	}
	int r = scan_ticket_read(c->text.buf, c->text.len, done, c->label,
				 t);
	if (r == 1)
		c->n++;
	else if (r < 0)
		c->nomem = true;
}

static void tickets_release(struct tickets *c)
{
	for (size_t i = 0; i < c->n; i++)
		scan_ticket_release(&c->t[i]);
	free(c->t);
}

/* What earlier imports of a scope left waiting in the outbox (Jira was
 * away): the findings of its creates have tickets to be, and its
 * comments, closes and reopens are what the tickets will be once they are
 * applied.  The plan is made against that, so that the next import does
 * not create, comment or close the same again. */
struct later {
	char *key;
	enum jira_op_kind kind;
	char *body;          /* a comment's text */
	char *resolution;    /* a close's */
};

struct waiting {
	const char *project, *scope;
	char (*fp)[SCAN_FP_SIZE];
	size_t n, cap;
	struct later *l;
	size_t nl, capl;
	bool nomem;
};

static void note_later(struct waiting *w, const struct jira_op *op)
{
	if (w->nl == w->capl) {
		size_t cap = w->capl ? w->capl * 2 : 16;
		void *g = realloc(w->l, cap * sizeof(*w->l));
		if (!g) {
			w->nomem = true;
			return;
		}
		w->l = g;
		w->capl = cap;
	}
	struct later *l = &w->l[w->nl];
	l->kind = op->kind;
	l->key = strdup(op->key);
	l->body = op->body ? strdup(op->body) : NULL;
	l->resolution = op->resolution ? strdup(op->resolution) : NULL;
	if (!l->key || (op->body && !l->body) ||
	    (op->resolution && !l->resolution)) {
		free(l->key);
		free(l->body);
		free(l->resolution);
		w->nomem = true;
		return;
	}
	w->nl++;
}

static void waiting_release(struct waiting *w)
{
	for (size_t i = 0; i < w->nl; i++) {
		free(w->l[i].key);
		free(w->l[i].body);
		free(w->l[i].resolution);
	}
	free(w->l);
	free(w->fp);
}

static void note_waiting(void *ctx, const struct jira_op *op)
{
	struct waiting *w = ctx;
	if (!op->scan || !op->project || strcmp(op->scan, w->scope) != 0 ||
	    strcmp(op->project, w->project) != 0)
		return;
	if (op->key) {
		note_later(w, op);
		return;
	}
	if (op->kind != JIRA_OP_CREATE || !op->fp || !scan_is_fp(op->fp))
		return;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		void *g = realloc(w->fp, cap * sizeof(*w->fp));
		if (!g) {
			w->nomem = true;
			return;
		}
		w->fp = g;
		w->cap = cap;
	}
	memcpy(w->fp[w->n++], op->fp, SCAN_FP_SIZE);
}

/* A ticket to be, for a waiting create the listing does not show yet:
 * the plan neither creates it again nor touches it (no state). */
static int add_ticket_to_be(struct tickets *c, const char *fp)
{
	struct scan_ticket *t = next_slot(c);
	if (!t || !(t->key = strdup(WAITING_KEY)))
		return -ENOMEM;
	memcpy(t->fp, fp, SCAN_FP_SIZE);
	c->n++;
	return 0;
}

/* A ticket as the records waiting for it will leave it, in order. */
static int apply_later(struct scan_ticket *t, const struct later *l)
{
	switch (l->kind) {
	case JIRA_OP_COMMENT:
		scan_state_find(l->body, &t->state);
		return 0;
	case JIRA_OP_CLOSE:
		t->done = true;
		free(t->resolution);
		t->resolution = strdup(l->resolution ? l->resolution : "Done");
		return t->resolution ? 0 : -ENOMEM;
	case JIRA_OP_REOPEN:
		t->done = false;
		free(t->resolution);
		t->resolution = NULL;
		return 0;
	default:
		return 0;
	}
}

/* Every waiting create the listing does not show, and what waits for the
 * tickets it shows. */
static int add_waiting(struct tickets *c, const struct waiting *w)
{
	if (w->nomem)
		return -ENOMEM;
	if (!w->n && !w->nl)
		return 0;
	struct map *listed = map_new(), *by_key = map_new();
	int ret = listed && by_key ? 0 : -ENOMEM;
	for (size_t k = 0; !ret && k < c->n; k++)
		if (!(ret = map_put(listed, c->t[k].fp, &c->t[k], NULL)))
			ret = map_put(by_key, c->t[k].key, &c->t[k], NULL);
	for (size_t i = 0; !ret && i < w->nl; i++) {
		struct scan_ticket *t = map_get(by_key, w->l[i].key);
		if (t)
			ret = apply_later(t, &w->l[i]);
	}
	for (size_t i = 0; !ret && i < w->n; i++)
		if (!map_get(listed, w->fp[i]))
			ret = add_ticket_to_be(c, w->fp[i]);
	map_free(listed);
	map_free(by_key);
	return ret;
}

/* The tickets of project carrying label, from a listing refreshed now. */
static int scope_tickets(struct jirafs *fs, const char *project,
			 deadline_t d, struct tickets *c)
{
	struct project *p;
	int ret = tree_project(fs->tree, project, d, &p);
	if (!ret)
		ret = tree_tickets_now(fs->tree, p, d, collect, c);
	strbuf_release(&c->text);
	return ret ? ret : c->nomem ? -ENOMEM : 0;
}

/* ---- the plan, as operation records --------------------------------------- */

static enum jira_op_kind kind_of(enum scan_action_kind k)
{
	switch (k) {
	case SCAN_ACT_CREATE:
		return JIRA_OP_CREATE;
	case SCAN_ACT_COMMENT:
		return JIRA_OP_COMMENT;
	case SCAN_ACT_CLOSE:
		return JIRA_OP_CLOSE;
	case SCAN_ACT_REOPEN:
		break;
	}
	return JIRA_OP_REOPEN;
}

/* A record of the report `name` of project: op (malloc'd) or NULL. */
static struct jira_op *record(const char *project, const char *name,
			      enum jira_op_kind kind, const char *key,
			      const char *fp, const char *body,
			      const char *resolution)
{
	struct jira_op *op = jira_op_new(kind, project, key, body,
					 body ? strlen(body) : 0);
	if (op && (!(op->scan = strdup(name)) ||
		   (fp && !(op->fp = strdup(fp))) ||
		   (resolution && !(op->resolution = strdup(resolution))))) {
		jira_op_free(op);
		op = NULL;
	}
	return op;
}

/* Journal ops[0..n) (freed): 0 or -errno with err. */
static int journal(struct jirafs *fs, struct jira_op **ops, size_t n,
		   struct jira_error *err)
{
	if (!n)
		return 0;
	if (!fs->outbox) {
		for (size_t i = 0; i < n; i++)
			jira_op_free(ops[i]);
		jira_error_set(err, JIRA_ERR_INTERNAL, "no outbox");
		return -EIO;
	}
	return outbox_enqueue(fs->outbox, ops, n, err);
}

/* ---- the result file ---------------------------------------------------- */

static void add_count(cJSON *o, const char *k, size_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

static cJSON *result_of(const char *project, const char *name,
			const char *scope, bool dry, const char *when,
			const struct scan_report *r, const struct scan_plan *p,
			const char *label)
{
	cJSON *o = cJSON_CreateObject(), *a;
	cJSON_AddStringToObject(o, "report", name);
	cJSON_AddStringToObject(o, "scope", scope);
	cJSON_AddStringToObject(o, "project", project);
	cJSON_AddStringToObject(o, "label", label);
	cJSON_AddBoolToObject(o, "dry_run", dry);
	cJSON_AddStringToObject(o, "imported", when);
	cJSON_AddStringToObject(o, "format", scan_format_name(r->format));
	cJSON_AddItemToObject(o, "tools", a = cJSON_CreateArray());
	for (size_t i = 0; i < r->ntools; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(r->tools[i]));
	cJSON *c = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "counts", c);
	add_count(c, "results", r->results);
	add_count(c, "findings", p->counts.findings);
	add_count(c, "suppressed", r->suppressed);
	add_count(c, "not_failures", r->not_failures);
	add_count(c, "skipped", p->counts.skipped);
	add_count(c, "new", p->counts.new_);
	add_count(c, "unchanged", p->counts.unchanged);
	add_count(c, "changed", p->counts.changed);
	add_count(c, "reopened", p->counts.reopened);
	add_count(c, "accepted", p->counts.accepted);
	add_count(c, "gone", p->counts.gone);
	add_count(c, "closed", p->counts.closed);
	add_count(c, "refused", p->counts.refused);
	add_count(c, "duplicates", p->counts.duplicates);
	add_count(c, "operations", p->n);
	if (p->close_refused[0])
		cJSON_AddStringToObject(o, "close_refused", p->close_refused);
	else
		cJSON_AddNullToObject(o, "close_refused");
	if (r->incomplete)
		cJSON_AddStringToObject(o, "incomplete", r->incomplete_why);
	cJSON_AddItemToObject(o, "warnings", a = cJSON_CreateArray());
	for (size_t i = 0; i < r->nwarnings; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(r->warnings[i]));
	cJSON_AddItemToObject(o, "findings", a = cJSON_CreateArray());
	for (size_t i = 0; i < p->ne; i++) {
		const struct scan_entry *e = &p->e[i];
		cJSON *f = cJSON_CreateObject();
		/* a create of an earlier import still waits */
		bool waits = e->key && strcmp(e->key, WAITING_KEY) == 0;
		cJSON_AddStringToObject(f, "fingerprint", e->fp);
		if (e->key && !waits)
			cJSON_AddStringToObject(f, "key", e->key);
		else
			cJSON_AddNullToObject(f, "key");
		cJSON_AddStringToObject(f, "outcome",
					scan_outcome_name(e->outcome));
		if (waits || (!e->key && e->outcome == SCAN_NEW && !dry))
			cJSON_AddTrueToObject(f, "pending");
		if (e->summary)
			cJSON_AddStringToObject(f, "summary", e->summary);
		cJSON_AddItemToArray(a, f);
	}
	return o;
}

/* ---- the import --------------------------------------------------------- */

/* The result of an import whose plan could not be journaled: nothing of
 * it happens. */
static void failed_result(struct jirafs *fs, const struct fs_node *n,
			  const char *scope, const char *when, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "report", n->name);
	cJSON_AddStringToObject(o, "scope", scope);
	cJSON_AddStringToObject(o, "project", n->project);
	cJSON_AddStringToObject(o, "imported", when);
	cJSON_AddStringToObject(o, "error", why);
	cJSON_AddItemToObject(o, "findings", cJSON_CreateArray());
	if (scans_result_put(fs->scans, n->project, n->name, o, 0))
		jlog_warn("%s/%s: cannot keep the result of the import",
			  n->dir, n->name);
}

static int refuse(struct jirafs *fs, const struct fs_node *n, int err,
		  const char *why)
{
	char path[DIR_LEN + NAME_LEN];
	fs_node_path(n, path, sizeof(path));
	scans_set_error(fs->scans, n->project, n->name, why);
	return fs_refuse(err, "import", path, why);
}

/* Parse the bytes of fd into r: 0 or -errno with why. */
static int parse_fd(int fd, const char *scope, struct scan_report *r,
		    char *why, size_t whysize)
{
	struct stat st;
	if (fstat(fd, &st)) {
		snprintf(why, whysize, "cannot read the report: %s",
			 strerror(errno));
		return -EIO;
	}
	if (st.st_size > SCANS_MAX_REPORT) {
		snprintf(why, whysize,
			 "a report is limited to %lld MiB; nothing was imported",
			 (long long)(SCANS_MAX_REPORT >> 20));
		return -EFBIG;
	}
	size_t len = (size_t)st.st_size;
	const char *text = "";
	void *map = NULL;
	if (len) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			snprintf(why, whysize, "cannot read the report: %s",
				 strerror(errno));
			return -EIO;
		}
		madvise(map, len, MADV_SEQUENTIAL);
		text = map;
	}
	int ret = scan_parse(text, len, scope, r, why, whysize);
	if (map)
		munmap(map, len);
	return ret;
}

int scan_import(const struct fs_req *rq, const struct fs_node *n, int fd)
{
	struct jirafs *fs = rq->fs;
	char scope[NAME_LEN], why[512], when[32], label[SCAN_SCOPE_SIZE];
	bool dry = scans_scope(n->name, scope, sizeof(scope));
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	scan_scope_label(label, scope);

	struct scan_report r = { 0 };
	int ret = parse_fd(fd, scope, &r, why, sizeof(why));
	if (ret > 0) /* never a positive errno for FUSE */
		ret = -EIO;
	if (ret)
		return refuse(fs, n, ret, why);
	/* what waits is looked at before the listing is refreshed: a create
	 * applied in between is then in the listing */
	struct waiting w = { .project = n->project, .scope = scope };
	if (fs->outbox)
		outbox_each(fs->outbox, note_waiting, &w);
	struct tickets tk = { .label = label };
	if (!(ret = scope_tickets(fs, n->project, rq->deadline, &tk)))
		ret = add_waiting(&tk, &w);
	waiting_release(&w);
	if (ret) {
		snprintf(why, sizeof(why),
			 "cannot read the tickets of %s to plan against: %s; "
			 "nothing was imported, write the report again",
			 n->project, strerror(-ret));
		tickets_release(&tk);
		scan_report_release(&r);
		return refuse(fs, n, ret, why);
	}
	const struct scan_config *c = fs->cfg.scan;
	struct scan_options o = {
		.project = n->project,
		.scope = scope,
		.group = c->group,
		.min_severity = c->min_severity,
		.autoclose = c->autoclose,
		.autoclose_max_pct = c->autoclose_max_pct,
		.accepted = (const char *const *)c->accepted,
		.naccepted = c->naccepted,
		.scan_id = when,
	};
	for (int s = 0; s < SCAN_SEV_COUNT; s++)
		o.priority[s] = c->priority[s];
	struct scan_plan p = { 0 };
	ret = scan_plan_make(&r, tk.t, tk.n, &o, &p);
	tickets_release(&tk);

	struct jira_op **ops = ret ? NULL : calloc(p.n + 1, sizeof(*ops));
	size_t creates = 0, nops = 0;
	if (!ret && !ops)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && !dry && i < p.n; i++) {
		const struct scan_action *a = &p.a[i];
		if (!(ops[nops] = record(n->project, n->name, kind_of(a->kind),
					 a->key, a->fp, a->body,
					 a->resolution)))
			ret = -ENOMEM;
		else
			nops++;
		creates += a->kind == SCAN_ACT_CREATE;
	}
	/* the result is in place before the workers can apply a create
	 * and give its fingerprint a key */
	cJSON *res = ret ? NULL
			 : result_of(n->project, n->name, scope, dry, when, &r,
				     &p, label);
	if (!ret && (!res || scans_result_put(fs->scans, n->project, n->name,
					      res, creates)))
		jlog_warn("%s/%s: cannot keep the result of the import",
			  n->dir, n->name);
	struct jira_error err = { 0 };
	if (ret) {
		for (size_t i = 0; i < nops; i++)
			jira_op_free(ops[i]);
	} else {
		ret = journal(fs, ops, nops, &err);
	}
	free(ops);
	if (ret) {
		snprintf(why, sizeof(why), "%.400s",
			 err.msg[0] ? err.msg : strerror(-ret));
		failed_result(fs, n, scope, when, why);
		scan_plan_release(&p);
		scan_report_release(&r);
		return refuse(fs, n, ret == -ENOENT ? -EIO : ret, why);
	}
	scans_set_error(fs->scans, n->project, n->name, NULL);
	jlog_notice("%s %s/%s: %zu findings: %zu new, %zu unchanged, %zu "
		    "changed, %zu reopened, %zu gone, %zu closed%s%s; %zu "
		    "operations queued",
		    dry ? "planned (dry run)" : "imported", n->dir, n->name,
		    p.counts.findings, p.counts.new_, p.counts.unchanged,
		    p.counts.changed, p.counts.reopened, p.counts.gone,
		    p.counts.closed, p.close_refused[0] ? "; closes refused: " : "",
		    p.close_refused, nops);
	scan_plan_release(&p);
	scan_report_release(&r);
	return 0;
}

/* ---- after the creates ---------------------------------------------------- */

static long long key_number(const char *key)
{
	const char *dash = strrchr(key, '-');
	return dash ? atoll(dash + 1) : 0;
}

static int by_fp_then_key(const void *a, const void *b)
{
	const struct scan_ticket *x = a, *y = b;
	int c = strcmp(x->fp, y->fp);
	if (c)
		return c;
	long long kx = key_number(x->key), ky = key_number(y->key);
	return kx < ky ? -1 : kx > ky;
}

/* Two open tickets with one fingerprint of the scope of `name` (two
 * imports raced): the lowest key stays, the others close as Duplicate. */
static void close_duplicates(struct jirafs *fs, const char *project,
			     const char *name)
{
	char scope[NAME_LEN], label[SCAN_SCOPE_SIZE];
	scans_scope(name, scope, sizeof(scope));
	scan_scope_label(label, scope);
	struct tickets tk = { .label = label };
	deadline_t d = deadline_in((int64_t)fs->jira->timeout_s * 1000);
	if (scope_tickets(fs, project, d, &tk)) {
		tickets_release(&tk);
		return; /* the next import looks again */
	}
	qsort(tk.t, tk.n, sizeof(*tk.t), by_fp_then_key);
	struct jira_op **ops = calloc(tk.n * 2 + 1, sizeof(*ops));
	size_t nops = 0;
	const struct scan_ticket *keep = NULL;
	for (size_t i = 0; ops && i < tk.n; i++) {
		const struct scan_ticket *t = &tk.t[i];
		if (t->done)
			continue;
		if (!keep || strcmp(keep->fp, t->fp) != 0) {
			keep = t;
			continue;
		}
		/* only the import that made the higher key closes it: the
		 * other machine's import, which made the lower, leaves it
		 * (keys grow with time, so the later one sees both) */
		char *mine = scans_result_key(fs->scans, project, name, t->fp);
		bool own = mine && strcmp(mine, t->key) == 0;
		free(mine);
		if (!own)
			continue;
		char body[512];
		snprintf(body, sizeof(body),
			 "Duplicate of %s: the same finding (%s) was imported "
			 "twice at once. Closed by jirafs.",
			 keep->key, t->fp);
		if ((ops[nops] = record(project, name, JIRA_OP_COMMENT, t->key,
					t->fp, body, NULL)))
			nops++;
		if ((ops[nops] = record(project, name, JIRA_OP_CLOSE, t->key,
					t->fp, NULL, "Duplicate")))
			nops++;
		jlog_notice("%s/scans/%s: %s and %s carry one finding; %s is "
			    "closed as a duplicate",
			    project, name, keep->key, t->key, t->key);
	}
	struct jira_error err;
	if (ops && nops)
		journal(fs, ops, nops, &err);
	free(ops);
	tickets_release(&tk);
}

void scan_import_applied(struct jirafs *fs, const struct jira_op *op,
			 const struct jira_op_result *res)
{
	if (!op->scan || op->kind != JIRA_OP_CREATE || !op->fp || !res->key ||
	    !fs->scans)
		return;
	if (scans_result_made(fs->scans, op->project, op->scan, op->fp,
			      res->key) != 1)
		return;
	jlog_notice("%s/" SCANS_DIR "/%s: the last ticket of the import is "
		    "created (%s)",
		    op->project, op->scan, res->key);
	close_duplicates(fs, op->project, op->scan);
}

void scan_import_refused(struct jirafs *fs, const struct jira_op *op,
			 const char *why)
{
	if (!op->scan || op->kind != JIRA_OP_CREATE || !op->fp || !fs->scans)
		return;
	if (scans_result_refused(fs->scans, op->project, op->scan, op->fp,
				 why) == 1)
		close_duplicates(fs, op->project, op->scan);
}
