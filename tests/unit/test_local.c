/* Unit tests: fs/local.c - scratch files, drafts, overlays and aliases, and
 * the alias journal in the state directory. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fs/local.h"
#include "harness.h"
#include "tmpdir.h"
#include "util/clock.h"
#include "util/log.h"

#define SEC "SEC"
#define CLOSED "SEC/closed"

static struct local_stat stat_of(struct local *l, struct local_node *n)
{
	struct local_stat st;
	local_node_stat(l, n, &st);
	return st;
}

/* The kind of dir/name, or -1 when there is none. */
static int kind_at(struct local *l, const char *dir, const char *name)
{
	struct local_node *n = NULL;
	if (local_get(l, dir, name, &n))
		return -1;
	int kind = (int)stat_of(l, n).kind;
	local_node_unref(l, n);
	return kind;
}

/* The key of the alias dir/name (malloc'd), NULL when it is none. */
static char *alias_at(struct local *l, const char *dir, const char *name)
{
	struct local_node *n = NULL;
	if (local_get(l, dir, name, &n))
		return NULL;
	char *key = local_alias_key(l, n);
	local_node_unref(l, n);
	return key;
}

/* CHECK_STR on a malloc'd string, freed afterwards (NULL: expect none). */
#define CHECK_OWNED(expr, want)                                            \
	do {                                                               \
		char *got_ = (expr);                                       \
		const char *want_ = (want);                                \
		if (!want_) {                                              \
			free(got_);                                        \
			CHECK(got_ == NULL);                               \
		} else {                                                   \
			int same_ = got_ && strcmp(got_, want_) == 0;      \
			free(got_);                                        \
			CHECK(same_);                                      \
		}                                                          \
	} while (0)

static bool same_content(struct local *l, struct local_node *n,
			 const char *want, size_t want_len)
{
	size_t len = 0;
	char *c = local_content(l, n, &len);
	bool same = c && len == want_len && memcmp(c, want, len) == 0 &&
		    c[len] == '\0';
	free(c);
	return same;
}

/* Lines in the state directory's alias journal (-1: no journal). */
static int journal_lines(const char *dir)
{
	char *text = tmpdir_read(dir, "aliases", NULL);
	if (!text)
		return -1;
	int n = 0;
	for (const char *p = text; *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

/* ---- scratch files ------------------------------------------------------ */

TEST(local_scratch_write_read_truncate)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL, *again = NULL;
	char buf[64];
	CHECK(l != NULL);
	CHECK_INT(local_create(l, SEC, ".notes.swp", LOCAL_SCRATCH, 0640, &n),
		  0);
	CHECK(n != NULL);
	CHECK_INT(local_create(l, SEC, ".notes.swp", LOCAL_DRAFT, 0600, NULL),
		  -EEXIST);
	struct local_stat st = stat_of(l, n);
	CHECK_INT(st.kind, LOCAL_SCRATCH);
	CHECK_INT(st.mode, 0640);
	CHECK_INT(st.size, 0);
	CHECK(!st.has_error);
	CHECK(local_exists(l, SEC, ".notes.swp"));
	CHECK(!local_exists(l, CLOSED, ".notes.swp"));
	CHECK(local_node_linked(l, n));

	CHECK_INT(local_write(l, n, "hello", 5, 0, 0), 5);
	CHECK_INT(local_write(l, n, " world", 6, -1, 0), 6); /* append */
	CHECK_INT(local_read(l, n, buf, sizeof(buf), 0), 11);
	CHECK(memcmp(buf, "hello world", 11) == 0);
	CHECK_INT(local_read(l, n, buf, 4, 6), 4);
	CHECK(memcmp(buf, "worl", 4) == 0);
	CHECK_INT(local_read(l, n, buf, sizeof(buf), 11), 0);
	CHECK_INT(local_read(l, n, buf, sizeof(buf), 1000), 0);
	CHECK_INT(local_write(l, n, "J", 1, 0, 0), 1); /* in place */
	CHECK(same_content(l, n, "Jello world", 11));
	/* past the end: the hole reads as zeroes */
	CHECK_INT(local_write(l, n, "!", 1, 14, 0), 1);
	CHECK_INT(stat_of(l, n).size, 15);
	CHECK(same_content(l, n, "Jello world\0\0\0!", 15));

	CHECK_INT(local_truncate(l, n, 5, 0), 0);
	CHECK(same_content(l, n, "Jello", 5));
	CHECK_INT(local_truncate(l, n, 8, 0), 0);
	CHECK(same_content(l, n, "Jello\0\0\0", 8));
	CHECK_INT(local_truncate(l, n, -1, 0), -EINVAL);
	CHECK_INT(local_truncate(l, n, 0, 0), 0);
	CHECK(same_content(l, n, "", 0));

	CHECK_INT(local_get(l, SEC, ".notes.swp", &again), 0);
	CHECK(again == n);
	local_node_unref(l, again);
	again = (struct local_node *)1;
	CHECK_INT(local_get(l, SEC, "missing", &again), -ENOENT);
	CHECK(again == NULL);
	CHECK_INT(local_get(l, "OTHER", ".notes.swp", &again), -ENOENT);

	CHECK_INT(local_unlink(l, SEC, ".notes.swp"), 0);
	CHECK(!local_exists(l, SEC, ".notes.swp"));
	CHECK_INT(local_unlink(l, SEC, ".notes.swp"), -ENOENT);
	CHECK_INT(local_unlink(l, "OTHER", "x"), -ENOENT);
	local_node_unref(l, n);
	local_free(l);
}

TEST(local_size_limits)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL;
	CHECK_INT(local_create(l, SEC, "big.tmp", LOCAL_SCRATCH, 0644, &n), 0);
	/* past LOCAL_MAX_FILE: refused, nothing changes */
	CHECK_INT(local_truncate(l, n, (off_t)LOCAL_MAX_FILE + 1, 0), -EFBIG);
	CHECK_INT(local_write(l, n, "x", 1, (off_t)LOCAL_MAX_FILE, 0), -EFBIG);
	/* a per-call limit above LOCAL_MAX_FILE does not raise it */
	CHECK_INT(local_truncate(l, n, (off_t)LOCAL_MAX_FILE + 1,
				 2 * (size_t)LOCAL_MAX_FILE),
		  -EFBIG);
	CHECK_INT(stat_of(l, n).size, 0);

	/* a per-call limit (a draft is a ticket body) */
	CHECK_INT(local_write(l, n, "0123456789", 10, 0, 10), 10);
	CHECK_INT(local_write(l, n, "x", 1, -1, 10), -EFBIG);
	CHECK_INT(local_write(l, n, "xy", 2, 9, 10), -EFBIG);
	CHECK(same_content(l, n, "0123456789", 10));
	CHECK_INT(local_write(l, n, "abcdefghij", 10, 0, 10), 10);
	CHECK_INT(local_truncate(l, n, 11, 10), -EFBIG);
	CHECK_INT(stat_of(l, n).size, 10);
	CHECK_INT(local_truncate(l, n, 11, 0), 0); /* per call */
	CHECK_INT(stat_of(l, n).size, 11);

	/* exactly LOCAL_MAX_FILE is allowed, one byte more is not */
	CHECK_INT(local_truncate(l, n, (off_t)LOCAL_MAX_FILE, 0), 0);
	CHECK_INT(stat_of(l, n).size, (off_t)LOCAL_MAX_FILE);
	CHECK_INT(local_write(l, n, "z", 1, (off_t)LOCAL_MAX_FILE - 1, 0), 1);
	CHECK_INT(local_write(l, n, "z", 1, -1, 0), -EFBIG);
	char c = 0;
	CHECK_INT(local_read(l, n, &c, 1, (off_t)LOCAL_MAX_FILE - 1), 1);
	CHECK_INT(c, 'z');
	CHECK_INT(local_truncate(l, n, 0, 0), 0);

	/* set_content has the same limit (its buffer is never read) */
	char *huge = calloc(1, (size_t)LOCAL_MAX_FILE + 1);
	CHECK(huge != NULL);
	CHECK_INT(local_set_content(l, n, huge, (size_t)LOCAL_MAX_FILE + 1),
		  -EFBIG);
	free(huge);
	CHECK_INT(local_set_content(l, n, "ok", 2), 0);
	CHECK(same_content(l, n, "ok", 2));
	local_node_unref(l, n);
	local_free(l);
}

/* ---- drafts and overlays ---------------------------------------------- */

static void count_errors(void *ctx, const char *name,
			 const struct local_stat *st)
{
	(void)name;
	*(int *)ctx += st->has_error;
}

TEST(local_draft_keeps_bytes_and_error)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL;
	CHECK_INT(local_create(l, SEC, "new-finding.json", LOCAL_DRAFT, 0644,
			       &n),
		  0);
	CHECK_INT(stat_of(l, n).kind, LOCAL_DRAFT);
	CHECK_INT(local_write(l, n, "{\"summary\": 1}", 14, 0, 0), 14);
	CHECK(local_error(l, n) == NULL);
	local_set_error(l, n, "summary: Field 'summary' must be a string");
	CHECK(stat_of(l, n).has_error);
	CHECK_OWNED(local_error(l, n),
		    "summary: Field 'summary' must be a string");
	int errors = 0;
	local_list(l, SEC, count_errors, &errors);
	CHECK_INT(errors, 1);
	local_set_error(l, n, "another reason");
	CHECK_OWNED(local_error(l, n), "another reason");
	local_set_error(l, n, NULL);
	CHECK(!stat_of(l, n).has_error);
	CHECK(local_error(l, n) == NULL);
	/* the bytes written stay as they were */
	CHECK(same_content(l, n, "{\"summary\": 1}", 14));
	CHECK_INT(local_set_content(l, n, "{}", 2), 0);
	CHECK(same_content(l, n, "{}", 2));
	CHECK_INT(local_set_content(l, n, "", 0), 0);
	CHECK_INT(stat_of(l, n).size, 0);
	local_node_unref(l, n);
	local_free(l);
}

TEST(local_overlay_append_from)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL;
	CHECK_INT(local_create(l, SEC, "SEC-12.json", LOCAL_OVERLAY, 0644, &n),
		  0);
	CHECK_INT(stat_of(l, n).kind, LOCAL_OVERLAY);
	CHECK_INT(local_append_from(l, n), -1); /* an overwrite */
	CHECK_INT(local_write(l, n, "{ticket}\n", 9, 0, 0), 9);
	CHECK_INT(local_write(l, n, "comment", 7, -1, 0), 7);
	local_set_append_from(l, n, 9); /* a refused append */
	CHECK_INT(local_append_from(l, n), 9);
	CHECK_INT(local_truncate(l, n, 12, 0), 0);
	CHECK_INT(local_append_from(l, n), 9);
	CHECK_INT(local_truncate(l, n, 9, 0), 0);
	CHECK_INT(local_append_from(l, n), 9);
	/* below where the appended bytes start: an overwrite now */
	CHECK_INT(local_truncate(l, n, 8, 0), 0);
	CHECK_INT(local_append_from(l, n), -1);
	local_set_append_from(l, n, 3);
	local_set_append_from(l, n, -1);
	CHECK_INT(local_append_from(l, n), -1);
	local_node_unref(l, n);
	local_free(l);
}

TEST(local_ticket_errors)
{
	struct local *l = local_new(NULL);
	CHECK(local_ticket_error(l, "SEC-1") == NULL);
	local_ticket_error_set(l, "SEC-1", "comment refused: too long");
	local_ticket_error_set(l, "SEC-2", "other");
	CHECK_OWNED(local_ticket_error(l, "SEC-1"), "comment refused: too long");
	local_ticket_error_set(l, "SEC-1", "replaced");
	CHECK_OWNED(local_ticket_error(l, "SEC-1"), "replaced");
	local_ticket_error_set(l, "SEC-1", NULL);
	CHECK(local_ticket_error(l, "SEC-1") == NULL);
	local_ticket_error_set(l, "SEC-1", NULL); /* clearing none */
	CHECK_OWNED(local_ticket_error(l, "SEC-2"), "other");
	local_free(l); /* frees what is left */
}

/* ---- references --------------------------------------------------------- */

TEST(local_unlinked_while_open_keeps_working)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL, *m = NULL, *p = NULL;
	char dir[32], name[32];
	CHECK_INT(local_create(l, SEC, "a.tmp", LOCAL_SCRATCH, 0644, &n), 0);
	CHECK_INT(local_write(l, n, "data", 4, 0, 0), 4);
	CHECK_INT(local_get(l, SEC, "a.tmp", &m), 0); /* a second open */
	CHECK_INT(local_node_where(l, n, dir, sizeof(dir), name, sizeof(name)),
		  0);
	CHECK_STR(dir, SEC);
	CHECK_STR(name, "a.tmp");

	CHECK_INT(local_unlink(l, SEC, "a.tmp"), 0);
	CHECK(!local_node_linked(l, n));
	CHECK(!local_exists(l, SEC, "a.tmp"));
	CHECK_INT(local_node_where(l, n, dir, sizeof(dir), name, sizeof(name)),
		  -ENOENT);
	CHECK_INT(local_write(l, m, " more", 5, -1, 0), 5);
	CHECK(same_content(l, n, "data more", 9));
	CHECK_INT(local_truncate(l, n, 4, 0), 0);
	local_chmod(l, n, 0600);
	CHECK_INT(stat_of(l, m).mode, 0600);

	/* the name is free again: a new file, apart from the old one */
	CHECK_INT(local_create(l, SEC, "a.tmp", LOCAL_SCRATCH, 0644, &p), 0);
	CHECK(p != n);
	CHECK_INT(stat_of(l, p).size, 0);
	CHECK_INT(local_write(l, p, "new", 3, 0, 0), 3);
	CHECK(same_content(l, n, "data", 4));
	local_node_unref(l, m);
	CHECK(same_content(l, n, "data", 4)); /* one reference left */
	local_node_unref(l, n);               /* freed here */
	CHECK(same_content(l, p, "new", 3));
	local_node_unref(l, p);
	CHECK(local_exists(l, SEC, "a.tmp")); /* the directory's reference */

	/* a node replaced by a rename lives on while open */
	struct local_node *q = NULL;
	CHECK_INT(local_create(l, SEC, "b.tmp", LOCAL_SCRATCH, 0644, &q), 0);
	CHECK_INT(local_write(l, q, "old b", 5, 0, 0), 5);
	CHECK_INT(local_rename(l, SEC, "a.tmp", SEC, "b.tmp", LOCAL_SCRATCH),
		  0);
	CHECK(!local_node_linked(l, q));
	CHECK(same_content(l, q, "old b", 5));
	local_node_unref(l, q);
	local_node_unref(l, NULL); /* allowed */
	local_free(l);
}

/* ---- rename ------------------------------------------------------------- */

TEST(local_rename_between_names_and_kinds)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL;
	char dir[32], name[32];
	CHECK_INT(local_create(l, SEC, "x.swp", LOCAL_SCRATCH, 0644, &n), 0);
	CHECK_INT(local_write(l, n, "body", 4, 0, 0), 4);
	struct timespec before = stat_of(l, n).ctime;

	/* a scratch file renamed to a ticket name becomes a draft */
	CHECK_INT(local_rename(l, SEC, "x.swp", SEC, "new.json", LOCAL_DRAFT),
		  0);
	CHECK(!local_exists(l, SEC, "x.swp"));
	CHECK_INT(kind_at(l, SEC, "new.json"), LOCAL_DRAFT);
	CHECK(local_node_linked(l, n));
	CHECK(same_content(l, n, "body", 4));
	CHECK_INT(local_node_where(l, n, dir, sizeof(dir), name, sizeof(name)),
		  0);
	CHECK_STR(dir, SEC);
	CHECK_STR(name, "new.json");
	struct timespec after = stat_of(l, n).ctime;
	CHECK(after.tv_sec > before.tv_sec ||
	      (after.tv_sec == before.tv_sec && after.tv_nsec >= before.tv_nsec));

	/* onto itself: only the kind changes */
	CHECK_INT(local_rename(l, SEC, "new.json", SEC, "new.json",
			       LOCAL_OVERLAY),
		  0);
	CHECK_INT(kind_at(l, SEC, "new.json"), LOCAL_OVERLAY);
	CHECK(same_content(l, n, "body", 4));

	/* into closed/ */
	CHECK_INT(local_rename(l, SEC, "new.json", CLOSED, "new.json",
			       LOCAL_DRAFT),
		  0);
	CHECK(!local_exists(l, SEC, "new.json"));
	CHECK_INT(kind_at(l, CLOSED, "new.json"), LOCAL_DRAFT);
	CHECK_INT(local_node_where(l, n, dir, sizeof(dir), name, sizeof(name)),
		  0);
	CHECK_STR(dir, CLOSED);

	/* onto another node: it is replaced */
	CHECK_INT(local_create(l, SEC, "other.txt", LOCAL_SCRATCH, 0644, NULL),
		  0);
	CHECK_INT(local_rename(l, CLOSED, "new.json", SEC, "other.txt",
			       LOCAL_SCRATCH),
		  0);
	CHECK_INT(kind_at(l, SEC, "other.txt"), LOCAL_SCRATCH);
	CHECK(same_content(l, n, "body", 4));
	CHECK(!local_exists(l, CLOSED, "new.json"));

	CHECK_INT(local_rename(l, SEC, "missing", SEC, "x", LOCAL_SCRATCH),
		  -ENOENT);
	CHECK_INT(local_rename(l, "NOPE", "other.txt", SEC, "x",
			       LOCAL_SCRATCH),
		  -ENOENT);
	CHECK(local_exists(l, SEC, "other.txt"));

	/* an alias stays an alias whatever kind is asked for */
	CHECK_INT(local_alias_set(l, SEC, "link.json", "SEC-1"), 0);
	CHECK_INT(local_rename(l, SEC, "link.json", SEC, "link2.json",
			       LOCAL_SCRATCH),
		  0);
	CHECK_INT(kind_at(l, SEC, "link2.json"), LOCAL_ALIAS);
	CHECK_OWNED(alias_at(l, SEC, "link2.json"), "SEC-1");
	CHECK_INT(local_rename(l, SEC, "link2.json", SEC, "link2.json",
			       LOCAL_DRAFT),
		  0);
	CHECK_INT(kind_at(l, SEC, "link2.json"), LOCAL_ALIAS);
	local_node_unref(l, n);
	local_free(l);
}

/* ---- one commit at a time -------------------------------------------- */

struct waiter {
	struct local *l;
	struct local_node *n;
	int ret;
};

static void *begin_in_thread(void *arg)
{
	struct waiter *w = arg;
	w->ret = local_commit_begin(w->l, w->n, clock_mono_ms() + 5000);
	if (w->ret == 0)
		local_commit_end(w->l, w->n);
	return NULL;
}

TEST(local_commit_one_at_a_time)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL, *m = NULL;
	CHECK_INT(local_create(l, SEC, "a.json", LOCAL_DRAFT, 0644, &n), 0);
	CHECK_INT(local_create(l, SEC, "b.json", LOCAL_DRAFT, 0644, &m), 0);
	CHECK_INT(local_commit_begin(l, n, clock_mono_ms() + 1000), 0);
	CHECK_INT(local_commit_begin(l, n, clock_mono_ms() + 20), -ETIMEDOUT);
	CHECK_INT(local_commit_begin(l, n, clock_mono_ms() - 1), -ETIMEDOUT);
	/* another node does not wait */
	CHECK_INT(local_commit_begin(l, m, clock_mono_ms() + 1000), 0);
	local_commit_end(l, m);

	/* a waiter goes on once the commit ends (whenever it started) */
	struct waiter w = { l, n, 1 };
	pthread_t t;
	CHECK_INT(pthread_create(&t, NULL, begin_in_thread, &w), 0);
	local_commit_end(l, n);
	pthread_join(t, NULL);
	CHECK_INT(w.ret, 0);
	CHECK_INT(local_commit_begin(l, n, clock_mono_ms() + 1000), 0);
	local_commit_end(l, n);
	local_node_unref(l, n);
	local_node_unref(l, m);
	local_free(l);
}

/* ---- attributes and listing --------------------------------------------- */

struct listing {
	int count;
	int aliases;
	char names[512];
};

static void collect(void *ctx, const char *name, const struct local_stat *st)
{
	struct listing *ls = ctx;
	ls->count++;
	ls->aliases += st->kind == LOCAL_ALIAS;
	size_t len = strlen(ls->names);
	snprintf(ls->names + len, sizeof(ls->names) - len, "%s%s",
		 len ? " " : "", name);
}

TEST(local_chmod_utimens_and_list)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL;
	CHECK_INT(local_create(l, SEC, "a.tmp", LOCAL_SCRATCH, 0100644, &n), 0);
	CHECK_INT(stat_of(l, n).mode, 0644); /* permission bits only */
	CHECK_INT(local_chmod(l, n, 0104755), 0);
	CHECK_INT(stat_of(l, n).mode, 04755);

	struct timespec atime = stat_of(l, n).atime;
	struct timespec tv[2] = { { 0, UTIME_OMIT }, { 12345, 6789 } };
	local_utimens(l, n, tv);
	struct local_stat st = stat_of(l, n);
	CHECK_INT(st.mtime.tv_sec, 12345);
	CHECK_INT(st.mtime.tv_nsec, 6789);
	CHECK_INT(st.atime.tv_sec, atime.tv_sec);
	CHECK_INT(st.atime.tv_nsec, atime.tv_nsec);
	struct timespec tv2[2] = { { 777, 1 }, { 0, UTIME_NOW } };
	local_utimens(l, n, tv2);
	st = stat_of(l, n);
	CHECK_INT(st.atime.tv_sec, 777);
	CHECK(st.mtime.tv_sec > 12345);
	local_utimens(l, n, NULL);
	CHECK(stat_of(l, n).atime.tv_sec > 777);

	CHECK_INT(local_create(l, SEC, "b.json", LOCAL_DRAFT, 0644, NULL), 0);
	CHECK_INT(local_alias_set(l, SEC, "c.json", "SEC-3"), 0);
	CHECK_INT(local_create(l, CLOSED, "d.json", LOCAL_DRAFT, 0644, NULL), 0);
	struct listing ls = { 0 };
	local_list(l, SEC, collect, &ls);
	CHECK_INT(ls.count, 3);
	CHECK_INT(ls.aliases, 1);
	CHECK(strstr(ls.names, "a.tmp") && strstr(ls.names, "b.json") &&
	      strstr(ls.names, "c.json") && !strstr(ls.names, "d.json"));
	struct listing closed = { 0 }, none = { 0 };
	local_list(l, CLOSED, collect, &closed);
	CHECK_STR(closed.names, "d.json");
	local_list(l, "OTHER", collect, &none);
	CHECK_INT(none.count, 0);
	local_node_unref(l, n);
	local_free(l);
}

/* ---- aliases ------------------------------------------------------------ */

TEST(local_alias_set_hide_and_drop)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL, *s = NULL;
	CHECK_INT(local_alias_set(l, SEC, "new-finding.json", "SEC-7"), 0);
	CHECK_INT(local_get(l, SEC, "new-finding.json", &n), 0);
	struct local_stat st = stat_of(l, n);
	CHECK_INT(st.kind, LOCAL_ALIAS);
	CHECK_INT(st.size, 0);
	CHECK_INT(st.mode, 0777);
	CHECK_OWNED(local_alias_key(l, n), "SEC-7");
	local_node_unref(l, n);
	/* set again: the new key */
	CHECK_INT(local_alias_set(l, SEC, "new-finding.json", "SEC-8"), 0);
	CHECK_OWNED(alias_at(l, SEC, "new-finding.json"), "SEC-8");

	/* an alias replaces a file of its name (open, it lives on) */
	CHECK_INT(local_create(l, SEC, "f.json", LOCAL_DRAFT, 0644, &s), 0);
	CHECK(local_alias_key(l, s) == NULL); /* not an alias */
	CHECK_INT(local_write(l, s, "draft", 5, 0, 0), 5);
	CHECK_INT(local_alias_set(l, SEC, "f.json", "SEC-9"), 0);
	CHECK_INT(kind_at(l, SEC, "f.json"), LOCAL_ALIAS);
	CHECK(!local_node_linked(l, s));
	CHECK(same_content(l, s, "draft", 5));
	local_node_unref(l, s);

	/* removed: hidden, but its key is remembered */
	CHECK(local_hidden_alias(l, SEC, "new-finding.json") == NULL);
	CHECK_INT(local_unlink(l, SEC, "new-finding.json"), 0);
	CHECK(!local_exists(l, SEC, "new-finding.json"));
	CHECK_OWNED(local_hidden_alias(l, SEC, "new-finding.json"), "SEC-8");
	CHECK(local_hidden_alias(l, CLOSED, "new-finding.json") == NULL);
	CHECK(local_hidden_alias(l, SEC, "other.json") == NULL);
	/* set again: shown, no longer hidden */
	CHECK_INT(local_alias_set(l, SEC, "new-finding.json", "SEC-8"), 0);
	CHECK(local_hidden_alias(l, SEC, "new-finding.json") == NULL);

	/* dropped (the ticket is gone): neither shown nor hidden */
	CHECK_INT(local_unlink(l, SEC, "new-finding.json"), 0);
	CHECK_INT(local_alias_drop(l, SEC, "new-finding.json"), 0);
	CHECK(local_hidden_alias(l, SEC, "new-finding.json") == NULL);
	CHECK_INT(local_alias_drop(l, SEC, "new-finding.json"), -ENOENT);
	CHECK_INT(local_alias_drop(l, SEC, "f.json"), 0); /* shown */
	CHECK(!local_exists(l, SEC, "f.json"));
	CHECK(local_hidden_alias(l, SEC, "f.json") == NULL);

	/* dropping a name that is no alias changes nothing */
	CHECK_INT(local_create(l, SEC, "plain.txt", LOCAL_SCRATCH, 0644, NULL),
		  0);
	CHECK_INT(local_alias_drop(l, SEC, "plain.txt"), -ENOENT);
	CHECK_INT(kind_at(l, SEC, "plain.txt"), LOCAL_SCRATCH);
	CHECK_INT(local_unlink(l, SEC, "plain.txt"), 0);
	CHECK(local_hidden_alias(l, SEC, "plain.txt") == NULL);

	/* an alias moved onto a hidden name shows there again */
	CHECK_INT(local_alias_set(l, SEC, "old.json", "SEC-1"), 0);
	CHECK_INT(local_unlink(l, SEC, "old.json"), 0);
	CHECK_INT(local_alias_set(l, SEC, "tmp.json", "SEC-2"), 0);
	CHECK_INT(local_rename(l, SEC, "tmp.json", SEC, "old.json",
			       LOCAL_ALIAS),
		  0);
	CHECK(local_hidden_alias(l, SEC, "old.json") == NULL);
	CHECK_OWNED(alias_at(l, SEC, "old.json"), "SEC-2");
	local_free(l);
}

TEST(local_aliases_persist_across_mounts)
{
	char *dir = tmpdir_new("local");
	CHECK(dir != NULL);
	struct local *l = local_new(dir);
	CHECK(l != NULL);
	CHECK_INT(local_alias_set(l, SEC, "a.json", "SEC-1"), 0);
	CHECK_INT(local_alias_set(l, CLOSED, "b.json", "SEC-2"), 0);
	CHECK_INT(local_alias_set(l, SEC, "c.json", "SEC-3"), 0);
	CHECK_INT(local_unlink(l, SEC, "c.json"), 0); /* hidden */
	CHECK_INT(local_alias_set(l, SEC, "d.json", "SEC-4"), 0);
	CHECK_INT(local_alias_drop(l, SEC, "d.json"), 0); /* forgotten */
	CHECK_INT(local_alias_set(l, SEC, "e.json", "SEC-5"), 0);
	CHECK_INT(local_rename(l, SEC, "e.json", SEC, "f.json", LOCAL_ALIAS),
		  0);
	CHECK_INT(local_alias_set(l, SEC, "g.json", "SEC-6"), 0);
	CHECK_INT(local_create(l, SEC, "h.json", LOCAL_DRAFT, 0644, NULL), 0);
	/* a draft renamed over an alias ends it */
	CHECK_INT(local_rename(l, SEC, "h.json", SEC, "g.json", LOCAL_DRAFT),
		  0);
	CHECK_INT(local_create(l, SEC, "i.swp", LOCAL_SCRATCH, 0644, NULL), 0);
	local_free(l);
	CHECK(journal_lines(dir) > 4);

	l = local_new(dir);
	CHECK(l != NULL);
	CHECK_OWNED(alias_at(l, SEC, "a.json"), "SEC-1");
	CHECK_OWNED(alias_at(l, CLOSED, "b.json"), "SEC-2");
	CHECK(!local_exists(l, SEC, "b.json"));
	CHECK(!local_exists(l, SEC, "c.json"));
	CHECK_OWNED(local_hidden_alias(l, SEC, "c.json"), "SEC-3");
	CHECK(!local_exists(l, SEC, "d.json"));
	CHECK(local_hidden_alias(l, SEC, "d.json") == NULL);
	CHECK(!local_exists(l, SEC, "e.json"));
	CHECK_OWNED(alias_at(l, SEC, "f.json"), "SEC-5");
	CHECK(!local_exists(l, SEC, "g.json"));
	CHECK(local_hidden_alias(l, SEC, "g.json") == NULL);
	CHECK(!local_exists(l, SEC, "h.json")); /* memory only */
	CHECK(!local_exists(l, SEC, "i.swp"));
	local_free(l);
	/* compacted at load: a, b, f shown and c hidden */
	CHECK_INT(journal_lines(dir), 4);

	size_t len1 = 0, len2 = 0;
	char *before = tmpdir_read(dir, "aliases", &len1);
	l = local_new(dir); /* nothing to compact */
	CHECK_OWNED(alias_at(l, SEC, "f.json"), "SEC-5");
	CHECK_OWNED(local_hidden_alias(l, SEC, "c.json"), "SEC-3");
	local_free(l);
	char *after = tmpdir_read(dir, "aliases", &len2);
	CHECK(before && after && len1 == len2 && memcmp(before, after, len1) == 0);
	free(before);
	free(after);
	tmpdir_remove(dir);
}

TEST(local_alias_journal_skips_torn_and_garbage_lines)
{
	static const char journal[] =
		"{\"op\":\"+\",\"dir\":\"SEC\",\"name\":\"one.json\",\"key\":\"SEC-1\"}\n"
		"not json at all\n"
		"\n"
		"[1, 2, 3]\n"
		"\"a string\"\n"
		"{\"op\":\"+\",\"dir\":\"SEC\",\"name\":\"nokey.json\"}\n"
		"{\"op\":\"+\",\"dir\":5,\"name\":\"x.json\",\"key\":\"SEC-9\"}\n"
		"{\"op\":\"?\",\"dir\":\"SEC\",\"name\":\"odd.json\",\"key\":\"SEC-9\"}\n"
		"{\"op\":\"~\",\"dir\":\"SEC\",\"name\":\"gone.json\",\"key\":\"SEC-4\"}\n"
		"{\"op\":\"-\",\"dir\":\"SEC\",\"name\":\"never.json\"}\n"
		"\x01\xff\xfe binary\n"
		"{\"op\":\"+\",\"dir\":\"SEC\",\"name\":\"two.json\",\"key\":\"SEC-2\"}\n"
		"{\"op\":\"+\",\"dir\":\"SEC\",\"name\":\"torn.json\",\"ke";
	char *dir = tmpdir_new("local");
	CHECK(dir != NULL);
	CHECK_INT(tmpdir_write(dir, "aliases", journal, sizeof(journal) - 1), 0);
	struct local *l = local_new(dir);
	CHECK(l != NULL);
	CHECK_OWNED(alias_at(l, SEC, "one.json"), "SEC-1");
	CHECK_OWNED(alias_at(l, SEC, "two.json"), "SEC-2");
	CHECK_OWNED(local_hidden_alias(l, SEC, "gone.json"), "SEC-4");
	const char *skipped[] = { "nokey.json", "x.json", "odd.json",
				  "torn.json", "never.json", "gone.json" };
	for (size_t i = 0; i < sizeof(skipped) / sizeof(*skipped); i++)
		CHECK(!local_exists(l, SEC, skipped[i]));
	struct listing ls = { 0 };
	local_list(l, SEC, collect, &ls);
	CHECK_INT(ls.count, 2);
	/* what is appended now is on a line of its own */
	CHECK_INT(local_alias_set(l, SEC, "three.json", "SEC-3"), 0);
	local_free(l);
	CHECK_INT(journal_lines(dir), 4); /* compacted, then one more */

	l = local_new(dir);
	CHECK_OWNED(alias_at(l, SEC, "one.json"), "SEC-1");
	CHECK_OWNED(alias_at(l, SEC, "two.json"), "SEC-2");
	CHECK_OWNED(alias_at(l, SEC, "three.json"), "SEC-3");
	CHECK_OWNED(local_hidden_alias(l, SEC, "gone.json"), "SEC-4");
	local_free(l);
	tmpdir_remove(dir);
}

TEST(local_alias_journal_only_torn_line)
{
	char *dir = tmpdir_new("local");
	CHECK(dir != NULL);
	CHECK_INT(tmpdir_write(dir, "aliases", "{\"op\":\"+\",\"di", 13), 0);
	struct local *l = local_new(dir);
	CHECK(l != NULL);
	struct listing ls = { 0 };
	local_list(l, SEC, collect, &ls);
	CHECK_INT(ls.count, 0);
	local_free(l);
	CHECK_INT(journal_lines(dir), 0); /* compacted to nothing */
	tmpdir_remove(dir);
}

TEST(local_unusable_state_dir_keeps_aliases_in_memory)
{
	char *dir = tmpdir_new("local");
	CHECK(dir != NULL);
	char *missing = tmpdir_path(dir, "no/such/dir");
	log_ring_clear();
	struct local *l = local_new(missing);
	CHECK(l != NULL);
	CHECK_INT(local_alias_set(l, SEC, "a.json", "SEC-1"), 0);
	CHECK_OWNED(alias_at(l, SEC, "a.json"), "SEC-1");
	CHECK_INT(local_unlink(l, SEC, "a.json"), 0);
	CHECK_OWNED(local_hidden_alias(l, SEC, "a.json"), "SEC-1");
	local_free(l);
	size_t len = 0;
	char *log = log_ring_text(&len);
	CHECK(log && strstr(log, "cannot record an alias"));
	free(log);
	log_ring_clear();
	free(missing);
	tmpdir_remove(dir);
}

/* ---- hostile names ------------------------------------------------------- */

/* Every byte but NUL and '/', then a long tail. */
static char *odd_name(size_t tail)
{
	char *s = malloc(256 + tail + 1);
	size_t n = 0;
	if (!s)
		return NULL;
	for (int b = 1; b < 256; b++)
		if (b != '/')
			s[n++] = (char)b;
	memset(s + n, 'x', tail);
	s[n + tail] = '\0';
	return s;
}

TEST(local_hostile_names)
{
	char *odd = odd_name(0), *long_odd = odd_name(16384);
	const char *names[] = {
		odd,
		long_odd,
		"\"quoted\\name\"\n.json",
		"\xff\xfe\xc3(", /* not UTF-8 */
		"\xed\xa0\x80",  /* a UTF-16 surrogate, encoded */
		"caf\xc3\xa9 \xe2\x9c\x93.json",
		" ",
		"..",
		"-",
	};
	CHECK(odd && long_odd);
	char *dir = tmpdir_new("local");
	CHECK(dir != NULL);
	struct local *l = local_new(dir);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		const char *name = names[i];
		struct local_node *n = NULL;
		CHECK_INT(local_create(l, SEC, name, LOCAL_SCRATCH, 0644, &n), 0);
		CHECK_INT(local_write(l, n, name, strlen(name), 0, 0),
			  (long long)strlen(name));
		CHECK(local_exists(l, SEC, name));
		struct listing ls = { 0 };
		local_list(l, SEC, collect, &ls);
		CHECK_INT(ls.count, (int)i + 1); /* the aliases made before */
		/* a small buffer is cut, never overrun */
		char d[3], nm[8];
		CHECK_INT(local_node_where(l, n, d, sizeof(d), nm, sizeof(nm)), 0);
		CHECK_STR(d, "SE");
		CHECK(strlen(nm) == (strlen(name) < 7 ? strlen(name) : 7));
		size_t len = strlen(name) + 2;
		char *other = malloc(len);
		snprintf(other, len, "%s2", name);
		CHECK_INT(local_rename(l, SEC, name, CLOSED, other, LOCAL_DRAFT),
			  0);
		CHECK_INT(kind_at(l, CLOSED, other), LOCAL_DRAFT);
		CHECK(same_content(l, n, name, strlen(name)));
		CHECK_INT(local_unlink(l, CLOSED, other), 0);
		free(other);
		local_node_unref(l, n);

		/* as aliases (name and key), kept across mounts */
		CHECK_INT(local_alias_set(l, SEC, name, name), 0);
		CHECK_INT(local_alias_set(l, CLOSED, name, "SEC-1"), 0);
		CHECK_INT(local_unlink(l, CLOSED, name), 0);
		local_ticket_error_set(l, name, name);
		CHECK_OWNED(local_ticket_error(l, name), name);
	}
	local_free(l);
	l = local_new(dir);
	CHECK(l != NULL);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		CHECK_OWNED(alias_at(l, SEC, names[i]), names[i]);
		CHECK(!local_exists(l, CLOSED, names[i]));
		CHECK_OWNED(local_hidden_alias(l, CLOSED, names[i]), "SEC-1");
	}
	local_free(l);
	/* nothing was lost to compaction either */
	l = local_new(dir);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		CHECK_OWNED(alias_at(l, SEC, names[i]), names[i]);
		CHECK_OWNED(local_hidden_alias(l, CLOSED, names[i]), "SEC-1");
	}
	CHECK_INT(journal_lines(dir), 2 * (int)(sizeof(names) / sizeof(*names)));
	local_free(l);
	tmpdir_remove(dir);
	free(odd);
	free(long_odd);
}

TEST(local_refused_replacement_keeps_the_content)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL;
	CHECK_INT(local_create(l, SEC, "x.json", LOCAL_DRAFT, 0644, &n), 0);
	CHECK_INT(local_set_content(l, n, "keep me", 7), 0);
	char *big = malloc((size_t)LOCAL_MAX_FILE + 1);
	CHECK(big != NULL);
	memset(big, 'b', (size_t)LOCAL_MAX_FILE + 1);
	CHECK_INT(local_set_content(l, n, big, (size_t)LOCAL_MAX_FILE + 1),
		  -EFBIG);
	free(big);
	CHECK(same_content(l, n, "keep me", 7));
	local_node_unref(l, n);
	local_free(l);
}

TEST(local_zero_byte_write_changes_nothing)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL;
	CHECK_INT(local_create(l, SEC, "z.tmp", LOCAL_SCRATCH, 0644, &n), 0);
	CHECK_INT(local_write(l, n, "ab", 2, 0, 0), 2);
	CHECK_INT(local_write(l, n, "", 0, 100, 0), 0);
	CHECK_INT(stat_of(l, n).size, 2);
	CHECK_INT(local_write(l, n, "", 0, (off_t)LOCAL_MAX_FILE + 10, 0), 0);
	CHECK_INT(stat_of(l, n).size, 2);
	local_node_unref(l, n);
	local_free(l);
}

TEST(local_view_is_made_in_one_step)
{
	struct local *l = local_new(NULL);
	struct local_node *n = NULL;
	/* whatever was there is replaced by a whole overlay */
	CHECK_INT(local_create(l, SEC, "SEC-1.json", LOCAL_DRAFT, 0644, &n), 0);
	local_node_unref(l, n);
	CHECK_INT(local_create_view(l, SEC, "SEC-1.json", "{\"a\": 1}\n", 9, 9,
				    &n),
		  0);
	CHECK_INT(stat_of(l, n).kind, LOCAL_OVERLAY);
	CHECK(same_content(l, n, "{\"a\": 1}\n", 9));
	CHECK_INT(local_append_from(l, n), 9);
	local_set_error(l, n, "refused");
	/* a new view: content, append_from and no error, together */
	CHECK_INT(local_set_view(l, n, "{\"a\": 2}\n", 9, 9), 0);
	CHECK(same_content(l, n, "{\"a\": 2}\n", 9));
	CHECK(!stat_of(l, n).has_error);
	CHECK_INT(local_append_from(l, n), 9);
	/* too large: nothing changes */
	char *big = malloc((size_t)LOCAL_MAX_FILE + 1);
	CHECK(big != NULL);
	memset(big, 'b', (size_t)LOCAL_MAX_FILE + 1);
	CHECK_INT(local_set_view(l, n, big, (size_t)LOCAL_MAX_FILE + 1, -1),
		  -EFBIG);
	CHECK_INT(local_create_view(l, SEC, "SEC-2.json", big,
				    (size_t)LOCAL_MAX_FILE + 1, -1, NULL),
		  -EFBIG);
	free(big);
	CHECK(same_content(l, n, "{\"a\": 2}\n", 9));
	CHECK(!local_exists(l, SEC, "SEC-2.json"));
	local_node_unref(l, n);
	local_free(l);
}
