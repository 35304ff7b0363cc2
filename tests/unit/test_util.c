/* Unit tests: util/ - map, strbuf, path, log ring. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/map.h"
#include "util/path.h"
#include "util/strbuf.h"

TEST(map_put_get_delete_and_grow)
{
	struct map *m = map_new();
	char key[32];
	for (intptr_t i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "K-%ld", (long)i);
		CHECK_INT(map_put(m, key, (void *)(i + 1), NULL), 0);
	}
	CHECK_INT(map_count(m), 5000);
	CHECK(map_get(m, "K-4321") == (void *)4322);
	void *old = NULL;
	map_put(m, "K-1", (void *)99, &old);
	CHECK(old == (void *)2);
	CHECK(map_del(m, "K-1") == (void *)99);
	CHECK(map_get(m, "K-1") == NULL);
	size_t seen = 0;
	for (struct map_iter it = map_iter_start(m); map_iter_next(&it);)
		seen++;
	CHECK_INT(seen, 4999);
	map_free(m);
}

TEST(strbuf_appends_and_urlencodes)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "a");
	strbuf_addf(&sb, "%d-%s", 42, "x");
	strbuf_add_urlencoded(&sb, "*all,-x y/é");
	CHECK_STR(strbuf_str(&sb), "a42-x%2Aall%2C-x%20y%2F%C3%A9");
	size_t len;
	char *s = strbuf_detach(&sb, &len);
	CHECK_INT(len, strlen(s));
	free(s);
	CHECK_STR(strbuf_str(&sb), "");
}

TEST(strbuf_urldecodes_plus_escapes_and_keeps_malformed_ones)
{
	struct strbuf sb = STRBUF_INIT;
	const char *in = "a+b%2Bc%c3%A9%zz%4";
	CHECK_INT(strbuf_add_urldecoded(&sb, in, strlen(in)), 0);
	CHECK_STR(strbuf_str(&sb), "a b+c\xc3\xa9%zz%4");
	strbuf_release(&sb);
	/* only the n bytes given are read */
	strbuf_add_urldecoded(&sb, "%41%42", 3);
	CHECK_STR(strbuf_str(&sb), "A");
	strbuf_release(&sb);
}

TEST(strbuf_detach_of_nothing_is_an_empty_string)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add_urlencoded(&sb, "");
	char *s = strbuf_detach(&sb, NULL);
	CHECK_STR(s, "");
	free(s);
}

TEST(strbuf_limit_fails_sticky)
{
	struct strbuf sb = STRBUF_INIT;
	sb.limit = 4;
	CHECK_INT(strbuf_adds(&sb, "abc"), 0);
	CHECK(strbuf_adds(&sb, "de") < 0);
	CHECK(strbuf_adds(&sb, "") < 0);
	CHECK(strbuf_detach(&sb, NULL) == NULL);
}

TEST(path_expand_home_uses_HOME)
{
	setenv("HOME", "/home/tester", 1);
	char *p = path_expand_home("~/.config/jirafs/token");
	CHECK_STR(p, "/home/tester/.config/jirafs/token");
	free(p);
	p = path_expand_home("/abs/~/x");
	CHECK_STR(p, "/abs/~/x");
	free(p);
}

TEST(path_absolute_resolves_relative_paths)
{
	char *cwd = getcwd(NULL, 0);
	char *p = path_absolute("ca.pem");
	char want[4096];
	snprintf(want, sizeof(want), "%s/ca.pem", cwd);
	CHECK_STR(p, want);
	free(p);
	free(cwd);
	p = path_absolute("/etc/ssl/ca.pem");
	CHECK_STR(p, "/etc/ssl/ca.pem");
	free(p);
}

static int sunk;
static void count_sink(enum jlog_level l, const char *line)
{
	(void)l;
	(void)line;
	sunk++;
}

TEST(log_ring_keeps_last_200_single_lines)
{
	log_set_sink(count_sink);
	log_ring_clear();
	for (int i = 0; i < 250; i++)
		jlog_warn("event %d\nwith a newline", i);
	jlog_info("not kept in the ring");
	size_t len;
	char *t = log_ring_text(&len);
	int lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += t[i] == '\n';
	CHECK_INT(lines, LOG_RING_LINES);
	CHECK(strstr(t, "event 50 with a newline\n") != NULL);
	CHECK(strstr(t, "event 49 ") == NULL);
	CHECK(strstr(t, "event 249 with a newline\n") != NULL);
	CHECK(strstr(t, "not kept") == NULL);
	char last[256];
	log_last_error(last, sizeof(last));
	CHECK_STR(last, "event 249 with a newline");
	CHECK_INT(sunk, 251);
	free(t);
	log_set_sink(NULL);
	log_ring_clear();
}

TEST(backoff_doubles_caps_and_jitters_below)
{
	struct backoff plain = { .base_ms = 100, .cap_ms = 1000 };
	CHECK_INT(backoff_ms(&plain, 0), 100);
	CHECK_INT(backoff_ms(&plain, 1), 200);
	CHECK_INT(backoff_ms(&plain, 3), 800);
	CHECK_INT(backoff_ms(&plain, 4), 1000);
	CHECK_INT(backoff_ms(&plain, 200), 1000); /* no overflow */
	struct backoff j = { .base_ms = 1000, .cap_ms = 8000, .jitter_pct = 50 };
	bool varied = false;
	int64_t first = backoff_ms(&j, 2);
	for (int i = 0; i < 200; i++) {
		int64_t w = backoff_ms(&j, 2);
		CHECK(w >= 2000 && w <= 4000);
		varied |= w != first;
	}
	CHECK(varied);
}

TEST(cond_init_monotonic_bounds_a_wait)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c;
	CHECK_INT(cond_init_monotonic(&c), 0);
	struct timespec ts = deadline_timespec(deadline_in(20));
	pthread_mutex_lock(&m);
	int r = pthread_cond_timedwait(&c, &m, &ts);
	pthread_mutex_unlock(&m);
	CHECK_INT(r, ETIMEDOUT);
	pthread_cond_destroy(&c);
}
