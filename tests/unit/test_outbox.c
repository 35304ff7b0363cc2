/* Unit tests: fs/outbox.c - replaying the journals an earlier mount left,
 * and what submit, cancel and replace_body do with the queue.
 *
 * The writer's client points at a loopback port nothing listens on, so a
 * request fails at once as unreachable and its record stays queued.  No
 * test waits on the backoff: records that must not be tried during a test
 * are made not due (accepted just now, or with many tries behind them), and
 * every wait for a worker is bounded. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/node.h"
#include "fs/outbox.h"
#include "harness.h"
#include "jira/client.h"
#include "jira/op.h"
#include "jira/write.h"
#include "tmpdir.h"
#include "util/clock.h"
#include "util/log.h"

/* The outbox's own request timeout: a replayed record accepted within it
 * is not tried before it has passed (it may still be landing in Jira). */
#define TIMEOUT_MS (60 * 1000)
/* How long a test waits for a worker at most. */
#define WAIT_MS 2000

struct fixture {
	char *state;  /* the state directory */
	char *outbox; /* state/outbox */
	struct jira_client *client;
	struct jira_writer *writer;
};

/* What the workers reported. */
struct seen {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int applied, made, refused;
	int refused_err;
	char applied_key[64];
	char refused_why[256];
};

static void on_applied(void *ctx, const struct jira_op *op,
		       struct jira_op_result *res)
{
	struct seen *s = ctx;
	(void)op;
	pthread_mutex_lock(&s->lock);
	s->applied++;
	snprintf(s->applied_key, sizeof(s->applied_key), "%s",
		 res->key ? res->key : "");
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
}

static void on_made(void *ctx, const struct jira_op *op,
		    const struct jira_op_result *res)
{
	struct seen *s = ctx;
	(void)op;
	(void)res;
	pthread_mutex_lock(&s->lock);
	s->made++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
}

static void on_refused(void *ctx, const struct jira_op *op,
		       struct jira_op_result *res, int err, const char *why)
{
	struct seen *s = ctx;
	(void)op;
	(void)res;
	pthread_mutex_lock(&s->lock);
	s->refused++;
	s->refused_err = err;
	snprintf(s->refused_why, sizeof(s->refused_why), "%s", why);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
}

static void seen_init(struct seen *s, struct outbox_callbacks *cb)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	cond_init_monotonic(&s->cv);
	*cb = (struct outbox_callbacks){ s, on_applied, on_made, on_refused };
}

static void seen_release(struct seen *s)
{
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->lock);
}

/* Wait (bounded) until the workers reported `applied` and `refused`. */
static bool seen_wait(struct seen *s, int applied, int refused)
{
	struct timespec ts = deadline_timespec(deadline_in(WAIT_MS));
	pthread_mutex_lock(&s->lock);
	while (s->applied < applied || s->refused < refused)
		if (pthread_cond_timedwait(&s->cv, &s->lock, &ts) == ETIMEDOUT)
			break;
	bool ok = s->applied >= applied && s->refused >= refused;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static int fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	/* nothing in the environment may send these requests elsewhere */
	setenv("no_proxy", "*", 1);
	setenv("NO_PROXY", "*", 1);
	f->state = tmpdir_new("outbox");
	f->outbox = f->state ? tmpdir_path(f->state, "outbox") : NULL;
	if (!f->outbox || mkdir(f->outbox, 0700) < 0)
		return -1;
	struct jira_config cfg = { .url = "http://127.0.0.1:1",
				   .timeout_s = 2,
				   .max_connections = 2 };
	if (jira_client_new(&cfg, NULL, &f->client))
		return -1;
	struct jira_write_config wc = { 0 };
	f->writer = jira_writer_new(f->client, &wc);
	log_ring_clear();
	return f->writer ? 0 : -1;
}

/* End the outbox as the mount does: in-flight requests cancelled first. */
static void fixture_release(struct fixture *f, struct outbox *ob)
{
	if (f->client)
		jira_client_cancel(f->client);
	outbox_free(ob);
	jira_writer_free(f->writer);
	jira_client_free(f->client);
	free(f->outbox);
	tmpdir_remove(f->state);
	log_ring_clear();
}

/* A record accepted `age_ms` ago. */
static struct jira_op *record(enum jira_op_kind kind, const char *key,
			      const char *body, int64_t age_ms)
{
	struct jira_op *op = jira_op_new(kind, "SEC", key, body,
					 body ? strlen(body) : 0);
	if (op)
		op->accepted_ms -= age_ms;
	return op;
}

/* Journal op as an earlier mount did, as record number seq; the file's
 * name (malloc'd).  op is freed. */
static char *put_record(struct fixture *f, unsigned seq, struct jira_op *op)
{
	char name[128];
	snprintf(name, sizeof(name), "%016u-%s.json", seq, op->id);
	char *text = jira_op_serialize(op);
	int r = text ? tmpdir_write(f->outbox, name, text, strlen(text)) : -1;
	free(text);
	jira_op_free(op);
	return r ? NULL : strdup(name);
}

struct names {
	int n;
	char *name[16];
};

static void collect(void *ctx, const char *name)
{
	struct names *ns = ctx;
	if (ns->n < 16)
		ns->name[ns->n] = strdup(name);
	ns->n++;
}

static void names_release(struct names *ns)
{
	for (int i = 0; i < ns->n && i < 16; i++)
		free(ns->name[i]);
	ns->n = 0;
}

/* The record outbox_text shows for name, parsed (NULL: none). */
static struct jira_op *shown(struct outbox *ob, const char *name)
{
	size_t len = 0;
	char *text = outbox_text(ob, name, &len);
	struct jira_op *op = text ? jira_op_parse(text, len) : NULL;
	free(text);
	return op;
}

/* The text outbox_text shows for name is the file's, byte for byte. */
static bool text_is_file(struct fixture *f, struct outbox *ob,
			 const char *name)
{
	size_t len = 0, flen = 0;
	char *text = outbox_text(ob, name, &len);
	char *file = tmpdir_read(f->outbox, name, &flen);
	bool same = text && file && len == flen && strlen(text) == len &&
		    memcmp(text, file, len) == 0;
	free(text);
	free(file);
	return same;
}

/* Requests the client made (each failed at once). */
static uint64_t requests_sent(struct fixture *f)
{
	struct http_counters hc;
	jira_client_counters(f->client, &hc);
	return hc.requests;
}

static bool file_is(struct fixture *f, const char *name, const char *want)
{
	char *text = tmpdir_read(f->outbox, name, NULL);
	bool same = text && strcmp(text, want) == 0;
	free(text);
	return same;
}

static int count_in_log(const char *needle)
{
	size_t len = 0;
	char *log = log_ring_text(&len);
	int n = 0;
	for (const char *p = log; p && (p = strstr(p, needle)); p++)
		n++;
	free(log);
	return n;
}

static bool log_has(const char *a, const char *b)
{
	size_t len = 0;
	char *log = log_ring_text(&len);
	bool found = false;
	for (char *line = log ? strtok(log, "\n") : NULL; line && !found;
	     line = strtok(NULL, "\n"))
		found = strstr(line, a) && strstr(line, b);
	free(log);
	return found;
}

/* ------------------------------------------------------------------------ */

/* A fixture with an outbox of `workers` workers reporting to seen: the
 * outbox, or NULL. */
static struct outbox *start(struct fixture *f, struct seen *seen,
			    struct outbox_callbacks *cb, unsigned workers)
{
	seen_init(seen, cb);
	if (fixture_init(f))
		return NULL;
	return outbox_new(f->state, f->writer, workers, TIMEOUT_MS, cb);
}

/* outbox_submit, with the reason as text. */
static int submit(struct outbox *ob, struct jira_op *op, deadline_t d,
		  struct jira_op_result *res, char *why, size_t size)
{
	struct jira_error err;
	int r = outbox_submit(ob, op, d, res, &err);
	snprintf(why, size, "%s", err.msg);
	return r;
}

TEST(outbox_subject_names_the_ticket_or_the_new_file)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	struct outbox *ob = start(&f, &seen, &cb, 1);
	CHECK(ob != NULL);
	struct jira_op_result res;
	char why[JIRA_ERROR_MSG_MAX], subject[SUBJECT_LEN];
	/* 30 earlier tries: not tried again by a worker during the test */
	struct jira_op *op = record(JIRA_OP_COMMENT, "SEC-1", "seen\n", 0);
	op->attempts = 30;
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  OUTBOX_QUEUED);
	CHECK_INT(outbox_pending(ob, "SEC-1"), 1);
	/* a create waits under the name it was written as, spelled as the
	 * name grammar spells it */
	op = record(JIRA_OP_CREATE, NULL, "{\"summary\": \"x\"}", 0);
	op->attempts = 30;
	op->alias = strdup("new-finding.json");
	op->alias_closed = true;
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  OUTBOX_QUEUED);
	fs_create_subject(subject, sizeof(subject), "SEC", true,
			  "new-finding.json");
	CHECK_STR(subject, "new:SEC/closed/new-finding.json");
	CHECK_INT(outbox_pending(ob, subject), 1);
	CHECK_INT(outbox_pending(ob, "new:SEC/new-finding.json"), 0);
	fixture_release(&f, ob);
}

TEST(outbox_replay_lists_every_kind_and_leaves_the_rest)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	struct outbox *ob = NULL;
	seen_init(&seen, &cb);
	CHECK_INT(fixture_init(&f), 0);

	/* what an earlier mount left: one record of every kind, accepted
	 * just now (so not tried during the test), written out of order */
	char *rec[7] = { NULL };
	struct jira_op *op = record(JIRA_OP_REOPEN, "SEC-3", NULL, 0);
	op->attempts = 2;
	op->last_error = strdup("unreachable: Couldn't connect to server");
	rec[6] = put_record(&f, 6, op);
	rec[5] = put_record(&f, 5, record(JIRA_OP_CLOSE, "SEC-2", NULL, 0));
	rec[4] = put_record(&f, 4,
			    record(JIRA_OP_COMMENT, "SEC-1", "more\n", 0));
	op = record(JIRA_OP_UPDATE, "SEC-1", "{\"summary\": \"new\"}\n", 0);
	op->base = strdup("{\"summary\": \"old\"}\n");
	char upd_id[JIRA_OP_ID_LEN + 1];
	memcpy(upd_id, op->id, sizeof(upd_id));
	rec[3] = put_record(&f, 3, op);
	op = record(JIRA_OP_CREATE, NULL, "{\"summary\": \"done\"}", 0);
	op->alias = strdup("done.json");
	op->alias_closed = op->then_close = true;
	rec[2] = put_record(&f, 2, op);
	op = record(JIRA_OP_CREATE, NULL, "{\"summary\": \"S\"}", 0);
	op->alias = strdup("new-finding.json");
	rec[1] = put_record(&f, 1, op);
	for (int i = 1; i <= 6; i++)
		CHECK(rec[i] != NULL);

	/* a torn record: the first half of one */
	op = record(JIRA_OP_COMMENT, "SEC-4", "lost\n", 0);
	char *text = jira_op_serialize(op);
	char torn[128];
	snprintf(torn, sizeof(torn), "%016u-%s.json", 7, op->id);
	CHECK_INT(tmpdir_write(f.outbox, torn, text, strlen(text) / 2), 0);
	/* a dot file holding a good record is not ours to load either */
	char dotfile[128];
	snprintf(dotfile, sizeof(dotfile), ".%s.json", op->id);
	CHECK_INT(tmpdir_write(f.outbox, dotfile, text, strlen(text)), 0);
	free(text);
	jira_op_free(op);
	/* foreign files */
	const char *settings = "{\"theme\": \"dark\"}\n";
	CHECK_INT(tmpdir_write(f.outbox, "settings.json", settings,
			       strlen(settings)),
		  0);
	CHECK_INT(tmpdir_write(f.outbox, "notes.txt", "remember\n", 9), 0);
	/* names that merely contain ".json.tmp" are not temporaries */
	CHECK_INT(tmpdir_write(f.outbox, "notes.json.tmpl", "t\n", 2), 0);
	CHECK_INT(tmpdir_write(f.outbox, "old.json.tmp.bak", "b\n", 2), 0);
	CHECK_INT(tmpdir_write(f.outbox, "x.json.tmp", "b\n", 2), 0);
	/* half-written by a daemon that died: one beside its record (the
	 * record stays as it was), one whose rename never happened */
	char tmp1[160], tmp2[160];
	snprintf(tmp1, sizeof(tmp1), "%016u-%s.json.tmp4242", 3, upd_id);
	CHECK_INT(tmpdir_write(f.outbox, tmp1, "{\"version\": 1, \"id", 18), 0);
	snprintf(tmp2, sizeof(tmp2),
		 "0000000000000009-0123456789abcdef0123456789abcdef.json.tmp77");
	CHECK_INT(tmpdir_write(f.outbox, tmp2, "{", 1), 0);

	ob = outbox_new(f.state, f.writer, 2, TIMEOUT_MS, &cb);
	CHECK(ob != NULL);

	/* the six records, in the order they were accepted */
	CHECK_INT(outbox_count(ob), 6);
	struct names ns = { 0 };
	outbox_list(ob, collect, &ns);
	CHECK_INT(ns.n, 6);
	for (int i = 0; i < 6; i++)
		CHECK_STR(ns.name[i], rec[i + 1]);
	names_release(&ns);
	for (int i = 1; i <= 6; i++)
		CHECK(text_is_file(&f, ob, rec[i]));
	struct jira_op *back = shown(ob, rec[6]);
	CHECK(back != NULL);
	CHECK_INT(back->kind, JIRA_OP_REOPEN);
	CHECK_INT(back->attempts, 2);
	CHECK_STR(back->last_error, "unreachable: Couldn't connect to server");
	jira_op_free(back);
	back = shown(ob, rec[2]);
	CHECK(back && back->kind == JIRA_OP_CREATE && back->alias_closed &&
	      back->then_close);
	CHECK_STR(back->alias, "done.json");
	jira_op_free(back);
	size_t len = 0;
	const char *unlisted[] = { torn, dotfile, "settings.json", "notes.txt",
				   tmp1, tmp2, "nothing.json" };
	for (size_t i = 0; i < sizeof(unlisted) / sizeof(*unlisted); i++)
		CHECK(outbox_text(ob, unlisted[i], &len) == NULL);

	CHECK_INT(outbox_pending(ob, "SEC-1"), 2);
	CHECK_INT(outbox_pending(ob, "SEC-2"), 1);
	CHECK_INT(outbox_pending(ob, "SEC-3"), 1);
	CHECK_INT(outbox_pending(ob, "SEC-4"), 0); /* torn: not loaded */
	CHECK_INT(outbox_pending(ob, "new:SEC/new-finding.json"), 1);
	CHECK_INT(outbox_pending(ob, "new:SEC/closed/done.json"), 1);
	CHECK_INT(outbox_pending(ob, "new:SEC/done.json"), 0);

	/* what is not a record is left where it is, and said so; the
	 * half-written files are gone */
	CHECK(tmpdir_exists(f.outbox, torn));
	CHECK(tmpdir_exists(f.outbox, dotfile));
	CHECK(file_is(&f, "settings.json", settings));
	CHECK(file_is(&f, "notes.txt", "remember\n"));
	CHECK(!tmpdir_exists(f.outbox, tmp1));
	CHECK(!tmpdir_exists(f.outbox, tmp2));
	CHECK(file_is(&f, "notes.json.tmpl", "t\n"));
	CHECK(file_is(&f, "old.json.tmp.bak", "b\n"));
	CHECK(file_is(&f, "x.json.tmp", "b\n"));
	CHECK_INT(tmpdir_count(f.outbox), 13);
	CHECK(log_has(torn, "left where it is"));
	CHECK(log_has("settings.json", "left where it is"));
	CHECK_INT(count_in_log("left where it is"), 2);
	CHECK(log_has("6 operations", "earlier mount"));

	/* a new record of SEC-1 waits behind the two replayed ones (no
	 * request is made), and is numbered after the last one replayed */
	struct jira_op_result res;
	char why[JIRA_ERROR_MSG_MAX];
	op = record(JIRA_OP_COMMENT, "SEC-1", "third\n", 0);
	char name8[128];
	snprintf(name8, sizeof(name8), "%016u-%s.json", 7, op->id);
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  OUTBOX_QUEUED);
	CHECK_STR(why, "behind an earlier operation on SEC-1");
	CHECK(res.key == NULL);
	CHECK_INT(outbox_pending(ob, "SEC-1"), 3);
	CHECK_INT(outbox_count(ob), 7);
	CHECK(tmpdir_exists(f.outbox, name8));
	CHECK(text_is_file(&f, ob, name8));
	outbox_list(ob, collect, &ns);
	CHECK_INT(ns.n, 7);
	CHECK_STR(ns.name[6], name8);
	names_release(&ns);

	/* nothing was tried: no request, no report */
	CHECK_INT(requests_sent(&f), 0);
	CHECK_INT(seen.applied + seen.made + seen.refused, 0);
	outbox_free(ob);

	/* and the next mount finds the same seven, the rest still there */
	ob = outbox_new(f.state, f.writer, 1, TIMEOUT_MS, &cb);
	CHECK(ob != NULL);
	CHECK_INT(outbox_count(ob), 7);
	CHECK_INT(tmpdir_count(f.outbox), 14);
	CHECK(tmpdir_exists(f.outbox, torn));
	for (int i = 1; i <= 6; i++)
		free(rec[i]);
	fixture_release(&f, ob);
	seen_release(&seen);
}

TEST(outbox_replayed_records_count_as_maybe_sent)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	seen_init(&seen, &cb);
	CHECK_INT(fixture_init(&f), 0);
	struct jira_op *op = record(JIRA_OP_CREATE, NULL, "{}", 0);
	op->alias = strdup("a.json");
	char *create = put_record(&f, 1, op);
	char *close = put_record(&f, 2, record(JIRA_OP_CLOSE, "SEC-2", NULL, 0));
	struct outbox *ob = outbox_new(f.state, f.writer, 1, TIMEOUT_MS, &cb);
	CHECK(ob != NULL);
	CHECK_INT(outbox_count(ob), 2);

	/* the daemon may have died after sending them: never dropped, never
	 * rewritten */
	char why[JIRA_ERROR_MSG_MAX];
	CHECK_INT(outbox_cancel(ob, "SEC-2", why, sizeof(why)), -EBUSY);
	CHECK(strstr(why, "may have reached Jira") != NULL);
	CHECK(strstr(why, "the daemon stopped") != NULL);
	CHECK_INT(outbox_replace_body(ob, "new:SEC/a.json", "{\"x\": 1}", 8),
		  -EBUSY);
	CHECK_INT(outbox_cancel(ob, "SEC-9", why, sizeof(why)), -ENOENT);
	CHECK_STR(why, "");
	CHECK_INT(outbox_replace_body(ob, "SEC-9", "x", 1), -ENOENT);
	CHECK_INT(outbox_count(ob), 2);
	CHECK(text_is_file(&f, ob, create));
	CHECK(text_is_file(&f, ob, close));
	struct jira_op *back = shown(ob, create);
	CHECK(back && strcmp(back->body, "{}") == 0);
	jira_op_free(back);

	char auth[256];
	outbox_auth_problem(ob, auth, sizeof(auth));
	CHECK_STR(auth, "");
	free(create);
	free(close);
	fixture_release(&f, ob);
	seen_release(&seen);
}

TEST(outbox_workers_apply_and_refuse_what_needs_no_request)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	seen_init(&seen, &cb);
	CHECK_INT(fixture_init(&f), 0);
	/* accepted long ago (due at once): a blank comment adds nothing
	 * (applied without a request), one too long is refused for good */
	char *blank = put_record(&f, 1, record(JIRA_OP_COMMENT, "SEC-7",
						" \n\t\n", 10 * 60 * 1000));
	char *huge = malloc(40001);
	memset(huge, 'x', 40000);
	huge[40000] = '\0';
	char *toolong = put_record(&f, 2, record(JIRA_OP_COMMENT, "SEC-8", huge,
						 10 * 60 * 1000));
	free(huge);
	/* accepted just now: waits */
	char *waits = put_record(&f, 3, record(JIRA_OP_CLOSE, "SEC-9", NULL, 0));
	CHECK(blank && toolong && waits);

	struct outbox *ob = outbox_new(f.state, f.writer, 2, TIMEOUT_MS, &cb);
	CHECK(ob != NULL);
	CHECK(seen_wait(&seen, 1, 1));
	CHECK_INT(seen.applied, 1);
	CHECK_STR(seen.applied_key, "SEC-7");
	CHECK_INT(seen.refused, 1);
	CHECK_INT(seen.refused_err, -EFBIG);
	CHECK(strstr(seen.refused_why, "32767") != NULL);
	CHECK_INT(seen.made, 0);
	/* both left the journal before they were reported */
	CHECK(!tmpdir_exists(f.outbox, blank));
	CHECK(!tmpdir_exists(f.outbox, toolong));
	CHECK_INT(outbox_count(ob), 1);
	CHECK_INT(outbox_pending(ob, "SEC-7"), 0);
	CHECK_INT(outbox_pending(ob, "SEC-9"), 1);
	CHECK(text_is_file(&f, ob, waits));
	CHECK(log_has("SEC-8", "refused"));
	free(blank);
	free(toolong);
	free(waits);
	fixture_release(&f, ob);
	seen_release(&seen);
}

/* Wait (bounded) until a worker has tried the record name at least once. */
static struct jira_op *tried(struct outbox *ob, const char *name)
{
	deadline_t d = deadline_in(WAIT_MS);
	for (;;) {
		struct jira_op *op = shown(ob, name);
		if (!op || op->attempts >= 1 || deadline_left(d) == 0)
			return op;
		jira_op_free(op);
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
}

TEST(outbox_submit_what_jira_cannot_take_now_stays_queued)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	struct outbox *ob = start(&f, &seen, &cb, 1);
	CHECK(ob != NULL);
	struct jira_op_result res;
	char why[JIRA_ERROR_MSG_MAX], a[128], b[128], c[128], d[128];

	/* tried at once, unreachable: journaled and queued.  Thirty tries
	 * behind it put its next one minutes away, out of this test. */
	struct jira_op *op = record(JIRA_OP_COMMENT, "SEC-5", "first\n", 0);
	op->attempts = 30;
	snprintf(a, sizeof(a), "%016u-%s.json", 1, op->id);
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  OUTBOX_QUEUED);
	CHECK(why[0] != '\0');
	CHECK(strstr(why, "behind") == NULL);
	CHECK(res.key == NULL);
	CHECK(tmpdir_exists(f.outbox, a));
	CHECK(text_is_file(&f, ob, a));
	struct jira_op *back = shown(ob, a);
	CHECK(back != NULL);
	CHECK_INT(back->attempts, 31);
	CHECK_STR(back->last_error, why);
	CHECK_STR(back->body, "first\n");
	jira_op_free(back);

	/* the same ticket: behind it, not tried */
	op = record(JIRA_OP_COMMENT, "SEC-5", "second\n", 0);
	snprintf(b, sizeof(b), "%016u-%s.json", 2, op->id);
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  OUTBOX_QUEUED);
	CHECK_STR(why, "behind an earlier operation on SEC-5");
	CHECK_INT(outbox_pending(ob, "SEC-5"), 2);
	back = shown(ob, b);
	CHECK(back && back->attempts == 0 && back->last_error == NULL);
	jira_op_free(back);

	/* another ticket is not held up by SEC-5 */
	op = record(JIRA_OP_COMMENT, "SEC-6", "other\n", 0);
	op->attempts = 30;
	snprintf(c, sizeof(c), "%016u-%s.json", 3, op->id);
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  OUTBOX_QUEUED);
	CHECK(strstr(why, "behind") == NULL);
	CHECK_INT(outbox_count(ob), 3);

	/* the first was never sent (the connection was refused): it can be
	 * cancelled, and leaves the journal */
	CHECK_INT(outbox_cancel(ob, "SEC-5", why, sizeof(why)), 0);
	CHECK(strstr(why, "never sent to Jira") != NULL);
	CHECK(!tmpdir_exists(f.outbox, a));
	CHECK_INT(outbox_pending(ob, "SEC-5"), 1);

	/* now the second is first in line: a worker tries it, fails the
	 * same way and keeps it */
	back = tried(ob, b);
	CHECK(back != NULL);
	CHECK(back->attempts >= 1);
	CHECK(back->last_error && *back->last_error);
	jira_op_free(back);
	CHECK_INT(outbox_pending(ob, "SEC-5"), 1);
	CHECK_INT(seen.applied + seen.refused + seen.made, 0);
	outbox_free(ob);

	/* the next mount: the same records, in the same order, now counted
	 * as maybe sent; numbering goes on after them */
	ob = outbox_new(f.state, f.writer, 1, TIMEOUT_MS, &cb);
	CHECK(ob != NULL);
	struct names ns = { 0 };
	outbox_list(ob, collect, &ns);
	CHECK_INT(ns.n, 2);
	CHECK_STR(ns.name[0], b);
	CHECK_STR(ns.name[1], c);
	names_release(&ns);
	back = shown(ob, b);
	CHECK(back && back->attempts >= 1);
	jira_op_free(back);
	CHECK_INT(outbox_cancel(ob, "SEC-5", why, sizeof(why)), -EBUSY);
	CHECK(strstr(why, "may have reached Jira") != NULL);
	op = record(JIRA_OP_COMMENT, "SEC-10", "later\n", 0);
	op->attempts = 30;
	snprintf(d, sizeof(d), "%016u-%s.json", 4, op->id);
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  OUTBOX_QUEUED);
	CHECK(tmpdir_exists(f.outbox, d));
	CHECK_INT(tmpdir_count(f.outbox), 3);
	fixture_release(&f, ob);
	seen_release(&seen);
}

TEST(outbox_replace_body_of_a_queued_create)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	struct outbox *ob = start(&f, &seen, &cb, 1);
	CHECK(ob != NULL);
	struct jira_op_result res;
	char why[JIRA_ERROR_MSG_MAX], name[128];

	/* a create that could not even read the create screen: nothing was
	 * sent, so the file written again replaces its body (many tries
	 * behind it keep the workers off it) */
	struct jira_op *op = record(JIRA_OP_CREATE, NULL, "{\"summary\": \"1\"}",
				    0);
	op->alias = strdup("n.json");
	op->attempts = 30;
	snprintf(name, sizeof(name), "%016u-%s.json", 1, op->id);
	CHECK_INT(submit(ob, op, deadline_in(300), &res, why, sizeof(why)),
		  OUTBOX_QUEUED);
	CHECK_INT(outbox_pending(ob, "new:SEC/n.json"), 1);
	CHECK_INT(outbox_replace_body(ob, "new:SEC/n.json",
				      "{\"summary\": \"2\"}", 16),
		  0);
	struct jira_op *back = shown(ob, name);
	CHECK(back != NULL);
	CHECK_STR(back->body, "{\"summary\": \"2\"}");
	CHECK_INT(back->body_len, 16);
	CHECK_STR(back->alias, "n.json");
	jira_op_free(back);
	CHECK(text_is_file(&f, ob, name)); /* journaled too */
	CHECK_INT(outbox_replace_body(ob, "new:SEC/other.json", "{}", 2),
		  -ENOENT);

	/* once it counts as maybe sent (the next mount), it is kept as is */
	outbox_free(ob);
	ob = outbox_new(f.state, f.writer, 1, TIMEOUT_MS, &cb);
	CHECK(ob != NULL);
	CHECK_INT(outbox_replace_body(ob, "new:SEC/n.json", "{}", 2), -EBUSY);
	back = shown(ob, name);
	CHECK(back && strcmp(back->body, "{\"summary\": \"2\"}") == 0);
	jira_op_free(back);
	fixture_release(&f, ob);
	seen_release(&seen);
}

TEST(outbox_submit_applied_or_refused_leaves_nothing)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	struct outbox *ob = start(&f, &seen, &cb, 1);
	CHECK(ob != NULL);
	struct jira_op_result res;
	char why[JIRA_ERROR_MSG_MAX];

	/* nothing to add: applied, no request needed */
	struct jira_op *op = record(JIRA_OP_COMMENT, "SEC-5", "\n \n", 0);
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  0);
	CHECK_STR(res.key, "SEC-5");
	CHECK_STR(why, "");
	jira_op_result_release(&res);
	CHECK_INT(outbox_count(ob), 0);
	CHECK_INT(tmpdir_count(f.outbox), 0);

	/* refused for good before any request */
	char *huge = malloc(40001);
	memset(huge, 'y', 40000);
	huge[40000] = '\0';
	op = record(JIRA_OP_COMMENT, "SEC-5", huge, 0);
	free(huge);
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  -EFBIG);
	CHECK(strstr(why, "32767") != NULL);
	jira_op_result_release(&res);
	CHECK_INT(outbox_count(ob), 0);
	CHECK_INT(outbox_pending(ob, "SEC-5"), 0);
	CHECK_INT(tmpdir_count(f.outbox), 0);
	/* the callbacks are the workers' */
	CHECK_INT(seen.applied + seen.refused + seen.made, 0);
	fixture_release(&f, ob);
	seen_release(&seen);
}

TEST(outbox_submit_that_cannot_be_stored_is_not_sent)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	struct outbox *ob = start(&f, &seen, &cb, 1);
	CHECK(ob != NULL);
	CHECK_INT(rmdir(f.outbox), 0); /* the journal's directory is gone */
	struct jira_op_result res;
	char why[JIRA_ERROR_MSG_MAX];
	struct jira_op *op = record(JIRA_OP_COMMENT, "SEC-5", "text\n", 0);
	CHECK_INT(submit(ob, op, deadline_in(WAIT_MS), &res, why, sizeof(why)),
		  -ENOENT);
	CHECK(strstr(why, "cannot store the operation") != NULL);
	CHECK_INT(outbox_count(ob), 0);
	CHECK_INT(requests_sent(&f), 0);
	fixture_release(&f, ob);
	seen_release(&seen);
}

TEST(outbox_new_refuses_an_unusable_state_dir)
{
	char *dir = tmpdir_new("outbox");
	CHECK(dir != NULL);
	CHECK_INT(tmpdir_write(dir, "file", "x", 1), 0);
	char *state = tmpdir_path(dir, "file"); /* not a directory */
	struct outbox_callbacks cb = { 0 };
	log_ring_clear();
	CHECK(outbox_new(state, NULL, 1, TIMEOUT_MS, &cb) == NULL);
	CHECK(log_has("cannot use the outbox", state));
	log_ring_clear();
	free(state);
	tmpdir_remove(dir);
}

/* A scan import's plan: journaled all at once, one subject per finding,
 * in order; nothing tried in the caller's thread. */
TEST(outbox_enqueue_journals_a_plan_at_once)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	struct outbox *ob = start(&f, &seen, &cb, 1);
	CHECK(ob != NULL);
	struct jira_op *ops[3];
	for (int i = 0; i < 2; i++) {
		ops[i] = record(JIRA_OP_CREATE, NULL, "{\"summary\": \"x\"}", 0);
		ops[i]->attempts = 30; /* not tried again during the test */
		ops[i]->scan = strdup("web-01.sarif");
		ops[i]->fp = strdup(i ? "jfs-fp-00000000000000000002"
				      : "jfs-fp-00000000000000000001");
	}
	ops[2] = record(JIRA_OP_CLOSE, "SEC-7", NULL, 0);
	ops[2]->attempts = 30;
	ops[2]->resolution = strdup("Duplicate");
	struct jira_error err;
	CHECK_INT(outbox_enqueue(ob, ops, 3, &err), 0);
	CHECK_INT(outbox_count(ob), 3);
	CHECK_INT(outbox_pending(ob, "scan:SEC/jfs-fp-00000000000000000001"), 1);
	CHECK_INT(outbox_pending(ob, "scan:SEC/jfs-fp-00000000000000000002"), 1);
	CHECK_INT(outbox_pending(ob, "SEC-7"), 1);
	struct names ns = { 0 };
	outbox_list(ob, collect, &ns);
	CHECK_INT(ns.n, 3);
	/* journaled in order, each whole, with what the import needs */
	struct jira_op *back = shown(ob, ns.name[2]);
	CHECK(back != NULL);
	CHECK_STR(back->resolution, "Duplicate");
	jira_op_free(back);
	back = shown(ob, ns.name[0]);
	CHECK(back != NULL && back->scan && back->fp);
	CHECK_STR(back->scan, "web-01.sarif");
	CHECK_STR(back->fp, "jfs-fp-00000000000000000001");
	jira_op_free(back);
	names_release(&ns);
	fixture_release(&f, ob);
	seen_release(&seen);
}

TEST(outbox_enqueue_that_cannot_be_stored_leaves_nothing)
{
	struct fixture f;
	struct seen seen;
	struct outbox_callbacks cb;
	struct outbox *ob = start(&f, &seen, &cb, 1);
	CHECK(ob != NULL);
	CHECK_INT(rmdir(f.outbox), 0); /* the journal's directory is gone */
	struct jira_op *ops[2] = {
		record(JIRA_OP_COMMENT, "SEC-5", "text\n", 0),
		record(JIRA_OP_COMMENT, "SEC-6", "text\n", 0),
	};
	struct jira_error err;
	CHECK_INT(outbox_enqueue(ob, ops, 2, &err), -ENOENT);
	CHECK(strstr(err.msg, "cannot store 2 operations") != NULL);
	CHECK_INT(outbox_count(ob), 0);
	CHECK_INT(outbox_pending(ob, "SEC-5"), 0);
	CHECK_INT(requests_sent(&f), 0);
	fixture_release(&f, ob);
	seen_release(&seen);
}
