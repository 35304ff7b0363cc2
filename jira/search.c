/*
 * search.c - reading tickets: JQL search paging (the first page, then the
 * others in parallel, each read under client.c's parse gate in one pass:
 * one ticket bean at a time, parsed into the reading thread's arena and
 * rendered from there, by the thread that fetched it).  Declared in
 * client.h.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jira/client.h"
#include "jira/client_priv.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#define SEARCH_PAGE_REQUEST 1000 /* what we ask for; Jira grants less */
/* Page-fetching threads of one search: never more than connections. */
#define FETCH_THREADS_MAX JIRA_MAX_CONNECTIONS_MAX
/* Numbers of an answer (maxResults, total) are clamped to this. */
#define ANSWER_UINT_MAX 1000000000u

/* ---- search pages ------------------------------------------------------ */

struct page {
	struct jira_issue **issues; /* NULL where a bean waits in `partial` */
	size_t n;
	cJSON **partial;  /* beans whose comments are not all there */
	size_t *partial_at; /* their places in issues */
	size_t npartial, partial_cap;
	unsigned granted; /* maxResults of the answer */
	unsigned total;
	unsigned skipped;
	unsigned reused;
};

char *client_search_body(const char *jql, unsigned start, unsigned max,
			bool lenient, const char *field_spec)
{
	cJSON *b = cJSON_CreateObject();
	if (!b)
		return NULL;
	cJSON_AddStringToObject(b, "jql", jql);
	/* a key that no longer exists is not an error; a Boolean, as
	 * Server/DC's SearchRequestBean has it ("warn" is Cloud's and a 400
	 * there) */
	if (lenient)
		cJSON_AddFalseToObject(b, "validateQuery");
	cJSON_AddNumberToObject(b, "startAt", start);
	cJSON_AddNumberToObject(b, "maxResults", max);
	cJSON *fields = cJSON_AddArrayToObject(b, "fields");
	char *spec = strdup(field_spec);
	char *save = NULL;
	for (char *f = spec ? strtok_r(spec, ",", &save) : NULL; f;
	     f = strtok_r(NULL, ",", &save))
		cJSON_AddItemToArray(fields, cJSON_CreateString(f));
	free(spec);
	char *s = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return s;
}

static void page_release(struct page *p)
{
	jira_issues_free(p->issues, p->n);
	for (size_t i = 0; i < p->npartial; i++)
		cJSON_Delete(p->partial[i]);
	free(p->partial);
	free(p->partial_at);
	memset(p, 0, sizeof(*p));
}

static unsigned uint_value(const cJSON *v)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		return 0;
	return v->valuedouble > ANSWER_UINT_MAX ? ANSWER_UINT_MAX
						: (unsigned)v->valuedouble;
}

/* A number member of a walked answer ("maxResults", "total"). */
static unsigned uint_of_text(const char *v, size_t len)
{
	cJSON *num = cJSON_ParseWithLength(v, len);
	unsigned u = uint_value(num);
	cJSON_Delete(num);
	return u;
}

/* Fill the places of p's partial beans, once their comments are read (out
 * of the parse slot: this is network). */
static enum jira_status page_complete(struct jira_client *c, struct page *p,
				      deadline_t deadline,
				      struct jira_error *err)
{
	enum jira_status st = JIRA_OK;
	for (size_t i = 0; i < p->npartial && st == JIRA_OK; i++) {
		char why[128];
		struct jira_issue *is = NULL;
		st = client_complete_comments(c, p->partial[i], deadline,
					      err);
		if (st != JIRA_OK)
			break;
		int r = jira_issue_from_json(p->partial[i], &is, why,
					     sizeof(why));
		if (r == -ENOMEM)
			st = jira_error_set(err, JIRA_ERR_NOMEM,
					    "out of memory");
		else if (r)
			p->skipped++;
		p->issues[p->partial_at[i]] = is;
	}
	/* close the gaps of skipped beans */
	size_t o = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->issues[i])
			p->issues[o++] = p->issues[i];
	p->n = o;
	return st;
}

/* The ticket held for this bean's key and version, if the caller has it. */
static struct jira_issue *reused(const struct jira_search_hooks *ru, const cJSON *bean)
{
	if (!ru || !ru->reuse)
		return NULL;
	const cJSON *key = json_item(bean, "key");
	const cJSON *f = json_item(bean, "fields");
	const cJSON *upd = json_item(f, "updated");
	if (!cJSON_IsString(key) || !cJSON_IsString(upd) || !*upd->valuestring)
		return NULL;
	return ru->reuse(ru->ctx, key->valuestring, upd->valuestring);
}

/* One element of the answer's "issues": a ticket for p, or skipped
 * (logged), or kept to be completed (its comments).  0 or -ENOMEM. */
static int page_add(struct page *p, size_t *cap, const struct jira_search_hooks *ru,
		    struct jira_issue_scratch *is, const cJSON *bean)
{
	if (p->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct jira_issue **a = realloc(p->issues, ncap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		p->issues = a;
		*cap = ncap;
	}
	char why[128];
	struct jira_issue *i = reused(ru, bean);
	int r = 0;
	if (i) {
		p->issues[p->n++] = i;
		p->reused++;
	} else if (client_comments_partial(bean)) {
		/* completed after the parse slot is left, in a tree of its
		 * own */
		if (p->npartial == p->partial_cap) {
			size_t ncap = p->partial_cap ? p->partial_cap * 2 : 8;
			cJSON **b = realloc(p->partial, ncap * sizeof(*b));
			if (b)
				p->partial = b;
			size_t *at = b ? realloc(p->partial_at,
						 ncap * sizeof(*at))
				       : NULL;
			if (at)
				p->partial_at = at;
			if (!b || !at)
				return -ENOMEM;
			p->partial_cap = ncap;
		}
		cJSON *own = cJSON_Duplicate(bean, true);
		if (!own)
			return -ENOMEM;
		p->partial[p->npartial] = own;
		p->partial_at[p->npartial++] = p->n;
		p->issues[p->n++] = NULL;
	} else if (!(r = jira_issue_build(is, bean, &i, why, sizeof(why)))) {
		p->issues[p->n++] = i;
	} else if (r != -ENOMEM) {
		p->skipped++;
		jlog_warn("search skipped %s", why);
		r = 0;
	}
	return r;
}

static bool member_is(const char *key, size_t klen, const char *name)
{
	return klen == strlen(name) && memcmp(key, name, klen) == 0;
}

/* The answer's "issues", whose value starts at `at` (`left` bytes of the
 * answer from there): each ticket bean is parsed where it lies, in the
 * same pass that finds its end (its strings decoded in place: the answer
 * is read once), and the walk goes on past the array.  0, -EINVAL, -ENOMEM. */
static int read_issues(struct json_walk *top, const char *at, size_t left,
		       const struct jira_search_hooks *ru, struct jira_issue_scratch *ps,
		       struct page *p)
{
	struct json_walk arr;
	const char *e;
	size_t eleft, cap = 0;
	int r;
	if (json_walk_start_inner(&arr, at, left) || arr.close != ']')
		return -EINVAL;
	while ((r = json_walk_peek(&arr, NULL, NULL, &e, &eleft)) == 1) {
		cJSON *bean = NULL, *own = NULL;
		if (*e == '{') {
			size_t used;
			json_arena_reset(&ps->bean);
			if ((r = json_parse_inplace(&ps->bean, (char *)e,
						    eleft, &bean, &used)))
				break;
			json_walk_past(&arr, e + used);
		} else {
			/* not a ticket: read as it was always read, to be
			 * skipped */
			const char *v;
			size_t vlen;
			if ((r = json_walk_skip(&arr, &v, &vlen)) < 0)
				break;
			if (!(bean = own = cJSON_ParseWithLength(v, vlen))) {
				r = -EINVAL;
				break;
			}
		}
		r = page_add(p, &cap, ru, ps, bean);
		cJSON_Delete(own);
		if (r)
			break;
	}
	if (r == 0)
		json_walk_past(top, arr.s + arr.pos);
	return r;
}

struct page_job;
static void rest_early(struct page_job *job, unsigned granted, unsigned total);

/* The tickets of one search answer (read in place: a \u0000 in it reads as
 * U+FFFD), walked, never parsed as a whole: one ticket's tree at a time.
 * With `early` (the first page), the other pages are started as soon as
 * the answer has said how many there are, before its tickets are read. */
static enum jira_status read_page(char *text, size_t len,
				  const struct jira_search_hooks *ru,
				  struct jira_issue_scratch *ps, struct page_job *early,
				  struct page *p, struct jira_error *err)
{
	struct json_walk top;
	const char *key, *v;
	size_t klen, vlen;
	bool have_issues = false, have_total = false;
	int r = -EINVAL;
	if (text && json_walk_start(&top, text, len) == 0 && top.close == '}')
		while ((r = json_walk_peek(&top, &key, &klen, &v, &vlen)) == 1) {
			if (member_is(key, klen, "issues")) {
				have_issues = true;
				if (early && p->granted && have_total)
					rest_early(early, p->granted, p->total);
				early = NULL;
				if ((r = read_issues(&top, v, vlen, ru, ps,
						     p)) < 0)
					break;
				continue;
			}
			if ((r = json_walk_skip(&top, &v, &vlen)) < 0)
				break;
			if (member_is(key, klen, "maxResults"))
				p->granted = uint_of_text(v, vlen);
			else if (member_is(key, klen, "total"))
				p->total = uint_of_text(v, vlen),
				have_total = true;
		}
	if (r == -ENOMEM)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	if (r < 0)
		return jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				      "search answer is not valid JSON "
				      "(%zu bytes)",
				      len);
	if (!have_issues)
		return jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				      "search answer without issues");
	return JIRA_OK;
}

static enum jira_status fetch_page(struct jira_client *c, const char *jql,
				   bool lenient, const struct jira_search_hooks *ru,
				   struct jira_issue_scratch *ps,
				   struct page_job *early, unsigned start,
				   unsigned max, deadline_t deadline,
				   struct page *p, struct jira_error *err)
{
	struct http_response raw;
	memset(p, 0, sizeof(*p));
	char *body = client_search_body(jql, start, max, lenient, JIRA_ISSUE_FIELDS);
	if (!body)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	enum jira_status st = client_request_gated(
		c, "POST", "/rest/api/2/search", body, deadline, &raw, err);
	free(body);
	if (st != JIRA_OK)
		return st;
	/* from here on this thread holds a parse slot */
	st = read_page(raw.body, raw.len, ru, ps, early, p, err);
	http_response_release(&raw);
	client_gate_leave(c);
	if (st == JIRA_OK && p->npartial)
		st = page_complete(c, p, deadline, err);
	if (st != JIRA_OK)
		page_release(p);
	else if (ru && ru->page && p->n)
		ru->page(ru->ctx, p->issues, p->n);
	return st;
}

struct page_job {
	struct jira_client *c;
	const char *jql;
	bool lenient;
	const struct jira_search_hooks *reuse;
	deadline_t deadline;
	unsigned page_size;
	unsigned npages;       /* pages[0] is the first page's */
	struct page *pages;
	atomic_uint next;      /* next page index to take */
	atomic_bool failed;
	pthread_mutex_t lock;  /* guards err */
	struct jira_error err; /* the first failure */
	bool launched;         /* pages and workers are there */
	unsigned started;      /* workers */
	pthread_t tids[FETCH_THREADS_MAX];
};

static void *page_worker(void *arg)
{
	struct page_job *job = arg;
	struct jira_issue_scratch ps = JIRA_ISSUE_SCRATCH_INIT;
	pthread_setname_np(pthread_self(), "jirafs-pages"); /* for top, perf */
	http_keep_buffer(true); /* one receive buffer for its pages (*) */
	for (;;) {
		unsigned idx = atomic_fetch_add(&job->next, 1);
		if (idx >= job->npages || atomic_load(&job->failed))
			break;
		/* (*) but the last round's: memory peaks as they are read */
		if (idx + client_max_connections(job->c) >= job->npages)
			http_keep_buffer(false);
		struct jira_error e = { 0 };
		enum jira_status st =
			fetch_page(job->c, job->jql, job->lenient, job->reuse,
				   &ps, NULL, idx * job->page_size,
				   job->page_size, job->deadline,
				   &job->pages[idx], &e);
		if (st != JIRA_OK) {
			pthread_mutex_lock(&job->lock);
			if (!atomic_exchange(&job->failed, true))
				job->err = e;
			pthread_mutex_unlock(&job->lock);
			break;
		}
	}
	jira_issue_scratch_release(&ps);
	http_keep_buffer(false);
	return NULL;
}

/* Start fetching pages 1..npages-1 of job (page_size and npages set), with
 * up to max_connections workers; false when there is no memory for them. */
static bool rest_start(struct page_job *job)
{
	unsigned most = client_max_connections(job->c);
	unsigned threads = job->npages - 1 < most ? job->npages - 1 : most;
	if (!(job->pages = calloc(job->npages, sizeof(*job->pages))))
		return false;
	if (threads > FETCH_THREADS_MAX)
		threads = FETCH_THREADS_MAX;
	for (job->started = 0; job->started < threads; job->started++)
		if (pthread_create(&job->tids[job->started], NULL, page_worker,
				   job))
			break;
	job->launched = true;
	return true;
}

/* Called by the first page's reading when it knows Jira's page size and
 * total: the other pages need not wait for its tickets. */
static void rest_early(struct page_job *job, unsigned granted, unsigned total)
{
	if (total <= granted)
		return;
	job->page_size = granted;
	job->npages = (total + granted - 1) / granted;
	rest_start(job);
}

/* Wait for the workers (or fetch the pages here when no thread could be
 * had): the first failure, or JIRA_OK. */
static enum jira_status rest_join(struct page_job *job, struct jira_error *err)
{
	if (job->launched && !job->started)
		page_worker(job);
	for (unsigned i = 0; i < job->started; i++)
		pthread_join(job->tids[i], NULL);
	job->started = 0;
	if (atomic_load(&job->failed)) {
		if (err)
			*err = job->err;
		return job->err.status;
	}
	return JIRA_OK;
}

/* Stop what rest_early started and forget its pages (the first page failed,
 * or turned out not to be what its header said). */
static void rest_drop(struct page_job *job)
{
	if (!job->launched)
		return;
	atomic_store(&job->next, job->npages); /* no more pages taken */
	job->launched = job->started != 0;     /* no fetching here */
	rest_join(job, NULL);
	for (unsigned i = 1; i < job->npages; i++)
		page_release(&job->pages[i]);
	free(job->pages);
	job->pages = NULL;
	job->launched = false;
	atomic_store(&job->next, 1);
	atomic_store(&job->failed, false);
}

enum jira_status jira_search(struct jira_client *c, const char *jql,
			     bool lenient, deadline_t deadline,
			     struct jira_issue ***issues, size_t *n,
			     struct jira_search_stats *stats,
			     struct jira_error *err)
{
	return jira_search_with(c, jql, lenient, NULL, deadline, issues, n,
				stats, err);
}

enum jira_status jira_search_with(struct jira_client *c, const char *jql,
				  bool lenient,
				  const struct jira_search_hooks *hooks,
				  deadline_t deadline,
				  struct jira_issue ***issues, size_t *n,
				  struct jira_search_stats *stats,
				  struct jira_error *err)
{
	struct page first;
	struct jira_search_stats s = { 0 };
	*issues = NULL;
	*n = 0;

	struct page_job job = {
		.c = c,
		.jql = jql,
		.lenient = lenient,
		.reuse = hooks,
		.deadline = deadline,
	};
	atomic_init(&job.next, 1);
	atomic_init(&job.failed, false);
	pthread_mutex_init(&job.lock, NULL);

	struct jira_issue_scratch ps = JIRA_ISSUE_SCRATCH_INIT;
	enum jira_status st = fetch_page(c, jql, lenient, hooks, &ps, &job, 0,
					 SEARCH_PAGE_REQUEST, deadline, &first,
					 err);
	jira_issue_scratch_release(&ps);
	unsigned size = first.granted ? first.granted : (unsigned)first.n;
	unsigned total = first.total;
	/* a server that grants no page size cannot be paged through */
	unsigned npages = size && total > first.n ? (total + size - 1) / size
						   : 1;
	if (st != JIRA_OK || (job.launched && (npages != job.npages ||
					       size != job.page_size)))
		rest_drop(&job);
	if (st != JIRA_OK) {
		pthread_mutex_destroy(&job.lock);
		return st;
	}
	s.pages = npages;
	s.page_size = size;
	s.total = total;
	s.skipped = first.skipped;

	if (!job.launched) {
		job.page_size = size;
		job.npages = npages;
		if (npages > 1 ? !rest_start(&job)
			       : !(job.pages = calloc(1, sizeof(*job.pages)))) {
			page_release(&first);
			pthread_mutex_destroy(&job.lock);
			return jira_error_set(err, JIRA_ERR_NOMEM,
					      "out of memory");
		}
	}
	job.pages[0] = first;
	st = rest_join(&job, err);
	pthread_mutex_destroy(&job.lock);

	size_t count = 0;
	for (unsigned i = 0; i < npages; i++) {
		count += job.pages[i].n;
		s.skipped += i ? job.pages[i].skipped : 0;
		s.reused += job.pages[i].reused;
	}
	struct jira_issue **all = NULL;
	if (st == JIRA_OK) {
		all = malloc((count ? count : 1) * sizeof(*all));
		if (!all)
			st = jira_error_set(err, JIRA_ERR_NOMEM,
					    "out of memory");
	}
	size_t k = 0;
	for (unsigned i = 0; i < npages; i++) {
		if (all && job.pages[i].n) {
			memcpy(all + k, job.pages[i].issues,
			       job.pages[i].n * sizeof(*all));
			k += job.pages[i].n;
			job.pages[i].n = 0;
		}
		page_release(&job.pages[i]);
	}
	free(job.pages);
	if (st != JIRA_OK) {
		free(all);
		return st;
	}
	if (k + s.skipped < total)
		jlog_notice("search returned %zu of %u issues (the project "
			    "changed while it was read)",
			    k, total);
	*issues = all;
	*n = k;
	if (stats)
		*stats = s;
	return JIRA_OK;
}

void jira_issues_free(struct jira_issue **issues, size_t n)
{
	for (size_t i = 0; i < n; i++)
		jira_issue_unref(issues[i]);
	free(issues);
}
