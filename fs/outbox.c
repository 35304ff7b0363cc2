/* outbox.c - see outbox.h */
#include "fs/outbox.h"
#include "fs/outbox_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/errmap.h"
#include "fs/journal.h"
#include "fs/node.h"
#include "util/log.h"

#include "util/path.h"
#include "util/strbuf.h"

#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS (5 * 60 * 1000)
#define RETRY_AFTER_CAP_MS (10 * 60 * 1000)

/* The subject of a record: its key, or the create's "new:DIR/NAME". */
char *outbox_subject_of(const struct jira_op *op)
{
	char buf[SUBJECT_LEN];
	if (op->key)
		return strdup(op->key);
	if (op->fp) { /* a create of a scan import: one per finding */
		snprintf(buf, sizeof(buf), "scan:%s/%s",
			 op->project ? op->project : "", op->fp);
		return strdup(buf);
	}
	fs_create_subject(buf, sizeof(buf), op->project ? op->project : "",
			  op->alias_closed, op->alias ? op->alias : "");
	return strdup(buf);
}

/* Write e's record to its journal file (durably). */
static int save(const struct outbox *ob, const struct entry *e)
{
	char *text = jira_op_serialize(e->op);
	int ret = text ? journal_write(ob->dir, e->file, text) : -ENOMEM;
	free(text);
	return ret;
}

void outbox_entry_free(struct entry *e)
{
	if (!e)
		return;
	jira_op_free(e->op);
	free(e->subject);
	free(e->file);
	free(e);
}

/* Rewrite e's journal file: called with the lock held, which is dropped
 * while the file is written and flushed, so that nothing on the request
 * path (outbox_pending) waits behind the disk.  0 or -errno. */
static int store(struct outbox *ob, struct entry *e)
{
	e->storing = true;
	pthread_mutex_unlock(&ob->lock);
	int r = save(ob, e);
	pthread_mutex_lock(&ob->lock);
	e->storing = false;
	pthread_cond_broadcast(&ob->wake);
	if (r)
		jlog_err("cannot update %s in the outbox: %s", e->file,
			 strerror(-r));
	return r;
}

/* Wait until no record of subject is being rewritten; lock held. */
static void wait_stored(struct outbox *ob, const char *subject)
{
	for (;;) {
		const struct entry *e = ob->head;
		while (e && !(e->storing && strcmp(e->subject, subject) == 0))
			e = e->next;
		if (!e)
			return;
		pthread_cond_wait(&ob->wake, &ob->lock);
	}
}

/* Take e out of the list (the caller then owns it); lock held. */
void outbox_detach(struct outbox *ob, struct entry *e)
{
	struct entry **pp = &ob->head;
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = e->next;
	if (ob->tail == &e->next)
		ob->tail = pp;
	e->next = NULL;
	ob->count--;
}

/* Is an entry of the same subject before e still waiting?  lock held. */
static bool blocked(const struct outbox *ob, const struct entry *e)
{
	for (const struct entry *x = ob->head; x && x != e; x = x->next)
		if (strcmp(x->subject, e->subject) == 0)
			return true;
	return false;
}

/* The wait before the next try: capped doubling with jitter, and never
 * sooner than a Retry-After (itself capped). */
static int64_t retry_wait_ms(int attempts, int retry_after_s)
{
	static const struct backoff policy = { BACKOFF_BASE_MS, BACKOFF_CAP_MS,
					       25 };
	int64_t ms = backoff_ms(&policy, attempts > 1 ? (unsigned)attempts - 1
						      : 0);
	if (retry_after_s >= 0) {
		int64_t ra = (int64_t)retry_after_s * 1000;
		if (ra > RETRY_AFTER_CAP_MS)
			ra = RETRY_AFTER_CAP_MS;
		if (ra > ms)
			ms = ra;
	}
	return ms;
}

/*
 * How long after a try whose outcome is unknown the next one (which looks
 * for its effect first) waits: a create until Jira's search can show the
 * ticket; and when the answer was given up on while Jira may still be at
 * it (our deadline, a proxy's 504, a daemon that died: err NULL), a whole
 * timeout more first, so that the lookup does not run before the first try
 * lands.
 */
static int64_t look_wait_ms(const struct outbox *ob, const struct jira_op *op,
			    const struct jira_error *err)
{
	int64_t ms = op->kind == JIRA_OP_CREATE && !op->made
			     ? JIRA_SEARCH_LAG_MS
			     : 0;
	bool abandoned = !err || err->status == JIRA_ERR_TIMEOUT ||
			 (err->status == JIRA_ERR_SERVER &&
			  err->http_status == 504);
	if (abandoned)
		ms += ob->timeout_ms;
	return ms;
}

/* Before a record that applied (or was refused after changing Jira) leaves
 * the journal, what it made is recorded (a create's alias): a crash in
 * between must not leave a ticket no name leads to. */
static void settle(struct outbox *ob, struct entry *e,
		   struct jira_op_result *res)
{
	if (ob->cb.made && e->op->kind == JIRA_OP_CREATE && res->key &&
	    *res->key)
		ob->cb.made(ob->cb.ctx, e->op, res);
}

/* What became of one try of e, outside the lock: 0 applied, 1 keep and
 * retry, -errno refused for good.  Only Jira's own 4xx to the operation's
 * request (not a 401 or 403, which are the credentials', but for an
 * upload's 403) refuses it; everything else (outages, 5xx, a failed lookup, a
 * local failure) keeps it. */
static int attempt(struct outbox *ob, struct entry *e, deadline_t d,
		   struct jira_op_result *res, struct jira_error *err)
{
	enum jira_status st = jira_writer_apply(ob->w, e->op, d, res, err);
	if (st == JIRA_OK)
		return 0;
	if (st == JIRA_ERR_BAD_REQUEST || st == JIRA_ERR_NOT_FOUND ||
	    st == JIRA_ERR_CONFLICT || st == JIRA_ERR_TOO_LARGE)
		return -fs_errno(st);
	/* an upload's 403 is the permission (or attachments off), not the
	 * credentials: no retry gives it */
	if (st == JIRA_ERR_FORBIDDEN && e->op->kind == JIRA_OP_ATTACH)
		return -fs_errno(st);
	return 1;
}

/* After a failed try that is kept: count it, remember why and what the try
 * may have done, plan the next, and journal that (the lock is held, and
 * dropped while the file is written: store()). */
static void keep(struct outbox *ob, struct entry *e,
		 const struct jira_error *err, const struct jira_op_result *res)
{
	e->op->attempts++;
	if (res->maybe_sent)
		e->op->maybe_sent = true;
	if (e->op->kind == JIRA_OP_CREATE && res->key && !e->op->made)
		e->op->made = strdup(res->key); /* made; a later step failed */
	free(e->op->last_error);
	e->op->last_error = strdup(err->msg);
	e->next_try_ms = clock_mono_ms() +
			 retry_wait_ms(e->op->attempts, err->retry_after_s);
	int64_t wait = res->maybe_sent ? look_wait_ms(ob, e->op, err) : 0;
	if (e->next_try_ms < clock_mono_ms() + wait)
		e->next_try_ms = clock_mono_ms() + wait;
	if (jira_status_auth(err->status))
		snprintf(ob->auth_problem, sizeof(ob->auth_problem), "%s",
			 err->msg);
	store(ob, e);
}

static void *worker(void *arg)
{
	struct outbox *ob = arg;
	pthread_mutex_lock(&ob->lock);
	while (!ob->stopping) {
		int64_t now = clock_mono_ms(), soonest = INT64_MAX;
		struct entry *pick = NULL;
		for (struct entry *e = ob->head; e; e = e->next) {
			if (e->busy || e->storing || blocked(ob, e))
				continue;
			if (e->next_try_ms <= now) {
				pick = e;
				break;
			}
			if (e->next_try_ms < soonest)
				soonest = e->next_try_ms;
		}
		if (!pick) {
			if (soonest == INT64_MAX) {
				pthread_cond_wait(&ob->wake, &ob->lock);
			} else {
				struct timespec ts = deadline_timespec(soonest);
				pthread_cond_timedwait(&ob->wake, &ob->lock, &ts);
			}
			continue;
		}
		pick->busy = true;
		/* when this try starts, journaled: a daemon that dies during
		 * it leaves the next mount the time to wait before looking */
		pick->op->sent_ms = clock_wall_ms();
		pthread_mutex_unlock(&ob->lock);

		int jr = save(ob, pick);
		if (jr)
			jlog_err("cannot update %s in the outbox: %s",
				 pick->file, strerror(-jr));
		struct jira_op_result res;
		struct jira_error err = { 0 };
		int r = attempt(ob, pick, deadline_in(ob->timeout_ms), &res,
				&err);
		if (r != 1)
			settle(ob, pick, &res);

		pthread_mutex_lock(&ob->lock);
		pick->busy = false;
		if (r == 1 && !ob->stopping) {
			/* a lookup that fails is worth the user's eye: the
			 * operation can neither go on nor be given up.  Said
			 * before the record shows it (keep() lets go of the
			 * lock while it journals): whoever reads the reason
			 * in .jirafs/outbox finds it in the log too */
			log_msg(err.status == JIRA_ERR_LOOKUP ? JLOG_NOTICE
							       : JLOG_INFO,
				__FILE__, __LINE__,
				"outbox: %s of %s waits (try %d): %s",
				jira_op_kind_name(pick->op->kind), pick->subject,
				pick->op->attempts + 1, err.msg);
			keep(ob, pick, &err, &res);
			jira_op_result_release(&res);
			continue;
		}
		if (r == 1) { /* stopping: keep it for the next mount */
			keep(ob, pick, &err, &res);
			jira_op_result_release(&res);
			break;
		}
		journal_remove(ob->dir, pick->file);
		outbox_detach(ob, pick); /* this worker owns it now */
		if (r == 0)
			ob->auth_problem[0] = '\0';
		pthread_cond_broadcast(&ob->wake);
		pthread_mutex_unlock(&ob->lock);
		if (r == 0) {
			/* a scan import's thousand creates would push every
			 * other line out of the log: its summary says it */
			log_msg(pick->op->scan ? JLOG_INFO : JLOG_NOTICE,
				__FILE__, __LINE__,
				"outbox: %s of %s applied (try %d)",
				jira_op_kind_name(pick->op->kind),
				pick->subject, pick->op->attempts + 1);
			if (ob->cb.applied)
				ob->cb.applied(ob->cb.ctx, pick->op, &res);
		} else {
			jlog_notice("outbox: Jira refused %s of %s: %s",
				    jira_op_kind_name(pick->op->kind),
				    pick->subject, err.msg);
			if (ob->cb.refused)
				ob->cb.refused(ob->cb.ctx, pick->op, &res, r,
					       err.msg);
		}
		jira_op_result_release(&res);
		outbox_entry_free(pick);
		pthread_mutex_lock(&ob->lock);
	}
	pthread_mutex_unlock(&ob->lock);
	return NULL;
}

/* One record left by an earlier mount (journal_scan). */
static void replay_one(void *ctx, const char *file, const char *text,
		       size_t len)
{
	struct outbox *ob = ctx;
	struct jira_op *op = text ? jira_op_parse(text, len) : NULL;
	struct entry *e = op ? calloc(1, sizeof(*e)) : NULL;
	if (e && !(e->file = strdup(file))) {
		free(e);
		e = NULL;
	}
	if (!e) {
		jlog_warn("outbox: %s/%s is not a record jirafs can apply; "
			  "left where it is",
			  ob->dir, file);
		jira_op_free(op);
		return;
	}
	e->seq = strtoull(file, NULL, 10);
	e->op = op;
	/* the daemon may have died during a try that Jira is still at: look
	 * once it must have landed (and shows in search) */
	int64_t at = op->sent_ms ? op->sent_ms : op->accepted_ms;
	int64_t wait = look_wait_ms(ob, op, NULL);
	int64_t left = at + wait - clock_wall_ms();
	if (left > 0)
		e->next_try_ms = clock_mono_ms() + (left < wait ? left : wait);
	e->subject = outbox_subject_of(op);
	*ob->tail = e;
	ob->tail = &e->next;
	ob->count++;
	if (e->seq >= ob->next_seq)
		ob->next_seq = e->seq + 1;
}

struct outbox *outbox_new(const char *state_dir, struct jira_writer *w,
			  unsigned workers, int64_t timeout_ms,
			  const struct outbox_callbacks *cb)
{
	struct outbox *ob = calloc(1, sizeof(*ob));
	if (!ob)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/outbox", state_dir);
	ob->dir = strbuf_detach(&sb, NULL);
	int r = ob->dir ? path_mkdirs(ob->dir, 0700) : -ENOMEM;
	if (r) {
		jlog_err("cannot use the outbox %s: %s",
			 ob->dir ? ob->dir : state_dir, strerror(-r));
		free(ob->dir);
		free(ob);
		return NULL;
	}
	ob->w = w;
	ob->timeout_ms = timeout_ms;
	ob->cb = *cb;
	ob->tail = &ob->head;
	ob->next_seq = 1;
	pthread_mutex_init(&ob->lock, NULL);
	cond_init_monotonic(&ob->wake);
	journal_scan(ob->dir, replay_one, ob);
	if (ob->count)
		jlog_notice("outbox: %zu operations left by an earlier mount "
			    "will be applied",
			    ob->count);
	if (workers > MAX_WORKERS)
		workers = MAX_WORKERS;
	for (unsigned i = 0; i < (workers ? workers : 1); i++)
		if (pthread_create(&ob->threads[ob->nthreads], NULL, worker,
				   ob) == 0)
			ob->nthreads++;
	return ob;
}

void outbox_free(struct outbox *ob)
{
	if (!ob)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->stopping = true;
	pthread_cond_broadcast(&ob->wake);
	pthread_mutex_unlock(&ob->lock);
	for (unsigned i = 0; i < ob->nthreads; i++)
		pthread_join(ob->threads[i], NULL);
	if (ob->count)
		jlog_notice("outbox: %zu operations are still waiting in %s; "
			    "they will be applied at the next mount",
			    ob->count, ob->dir);
	for (struct entry *e = ob->head, *next; e; e = next) {
		next = e->next;
		outbox_entry_free(e);
	}
	pthread_cond_destroy(&ob->wake);
	pthread_mutex_destroy(&ob->lock);
	free(ob->dir);
	free(ob);
}

int outbox_submit(struct outbox *ob, struct jira_op *op, deadline_t d,
		  struct jira_op_result *res, struct jira_error *err)
{
	memset(res, 0, sizeof(*res));
	memset(err, 0, sizeof(*err));
	struct entry *e = calloc(1, sizeof(*e));
	char file[64];
	if (!e) {
		jira_op_free(op);
		return -ENOMEM;
	}
	e->op = op;
	e->subject = outbox_subject_of(op);

	pthread_mutex_lock(&ob->lock);
	e->seq = ob->next_seq++;
	snprintf(file, sizeof(file), "%016llu-%s.json",
		 (unsigned long long)e->seq, op->id);
	e->file = strdup(file);
	if (!e->subject || !e->file) {
		pthread_mutex_unlock(&ob->lock);
		outbox_entry_free(e);
		return -ENOMEM;
	}
	/* In line at once, so that the subject's order is the order of
	 * submission; busy while it is stored, which is done (fsync and
	 * all) without the lock: independent writers do not wait on each
	 * other's disk. */
	*ob->tail = e;
	ob->tail = &e->next;
	ob->count++;
	e->busy = true;
	pthread_mutex_unlock(&ob->lock);
	int r = save(ob, e); /* stored before anything is claimed */
	pthread_mutex_lock(&ob->lock);
	if (r) {
		outbox_detach(ob, e);
		pthread_cond_broadcast(&ob->wake);
		pthread_mutex_unlock(&ob->lock);
		jira_error_set(err, JIRA_ERR_INTERNAL,
			       "cannot store the operation in %s: %s", ob->dir,
			       strerror(-r));
		jlog_err("%s", err->msg);
		outbox_entry_free(e);
		return r;
	}
	bool now = !blocked(ob, e);
	e->busy = now;
	if (!now) {
		pthread_cond_broadcast(&ob->wake);
		pthread_mutex_unlock(&ob->lock);
		jira_error_set(err, JIRA_OK, "behind an earlier operation on %s",
			       e->subject);
		return OUTBOX_QUEUED;
	}
	pthread_mutex_unlock(&ob->lock);

	int ret = attempt(ob, e, d, res, err);
	if (ret != 1)
		settle(ob, e, res);

	pthread_mutex_lock(&ob->lock);
	e->busy = false;
	if (ret == 1) {
		keep(ob, e, err, res);
		jira_op_result_release(res);
		ret = OUTBOX_QUEUED;
	} else {
		journal_remove(ob->dir, e->file);
		outbox_detach(ob, e);
	}
	pthread_cond_broadcast(&ob->wake);
	pthread_mutex_unlock(&ob->lock);
	if (ret != OUTBOX_QUEUED)
		outbox_entry_free(e);
	return ret;
}

int outbox_replace_body(struct outbox *ob, const char *subject,
			const char *body, size_t len)
{
	int ret = -ENOENT;
	pthread_mutex_lock(&ob->lock);
	wait_stored(ob, subject);
	for (struct entry *e = ob->head; e; e = e->next) {
		if (strcmp(e->subject, subject) != 0)
			continue;
		if (e->busy || e->op->maybe_sent) {
			/* an earlier try may have made the ticket with the
			 * body it had: never a second one */
			ret = -EBUSY;
			continue;
		}
		char *copy = malloc(len + 1);
		if (!copy) {
			ret = -ENOMEM;
			break;
		}
		memcpy(copy, body, len);
		copy[len] = '\0';
		free(e->op->body);
		e->op->body = copy;
		e->op->body_len = len;
		ret = store(ob, e);
		break;
	}
	pthread_mutex_unlock(&ob->lock);
	return ret;
}

int outbox_cancel(struct outbox *ob, const char *subject, char *why,
		  size_t whysize)
{
	int ret = -ENOENT;
	struct entry *gone = NULL;
	why[0] = '\0';
	pthread_mutex_lock(&ob->lock);
	wait_stored(ob, subject);
	for (struct entry *e = ob->head; e; e = e->next) {
		if (strcmp(e->subject, subject) != 0)
			continue;
		if (e->busy) {
			snprintf(why, whysize, "it is being sent to Jira right "
					       "now");
			ret = -EBUSY;
		} else if (e->op->maybe_sent) {
			snprintf(why, whysize,
				 "an earlier try may have reached Jira (%s); "
				 "it stays queued, so that it is applied once",
				 e->op->last_error ? e->op->last_error
						   : "the daemon stopped");
			ret = -EBUSY;
		} else {
			journal_remove(ob->dir, e->file);
			outbox_detach(ob, e);
			gone = e;
			ret = 0;
			snprintf(why, whysize, "never sent to Jira (%d tries "
					       "failed before sending)",
				 e->op->attempts);
		}
		break;
	}
	if (gone)
		pthread_cond_broadcast(&ob->wake);
	pthread_mutex_unlock(&ob->lock);
	outbox_entry_free(gone);
	return ret;
}

size_t outbox_pending(struct outbox *ob, const char *subject)
{
	size_t n = 0;
	pthread_mutex_lock(&ob->lock);
	for (struct entry *e = ob->head; e; e = e->next)
		if (strcmp(e->subject, subject) == 0)
			n++;
	pthread_mutex_unlock(&ob->lock);
	return n;
}

size_t outbox_count(struct outbox *ob)
{
	pthread_mutex_lock(&ob->lock);
	size_t n = ob->count;
	pthread_mutex_unlock(&ob->lock);
	return n;
}

void outbox_list(struct outbox *ob, void (*fn)(void *ctx, const char *name),
		 void *ctx)
{
	pthread_mutex_lock(&ob->lock);
	for (struct entry *e = ob->head; e; e = e->next)
		fn(ctx, e->file);
	pthread_mutex_unlock(&ob->lock);
}

char *outbox_text(struct outbox *ob, const char *name, size_t *len)
{
	char *text = NULL;
	pthread_mutex_lock(&ob->lock);
	for (struct entry *e = ob->head; e; e = e->next) {
		if (strcmp(e->file, name) == 0) {
			text = jira_op_serialize(e->op);
			break;
		}
	}
	pthread_mutex_unlock(&ob->lock);
	if (text)
		*len = strlen(text);
	return text;
}

void outbox_auth_problem(struct outbox *ob, char *buf, size_t size)
{
	pthread_mutex_lock(&ob->lock);
	snprintf(buf, size, "%s", ob->auth_problem);
	pthread_mutex_unlock(&ob->lock);
}
