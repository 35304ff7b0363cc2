/* Unit tests: util/json_parse.c - an arena, and JSON parsed into it exactly
 * as cJSON parses it (after json_neutralize_nul). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "util/json.h"

/* Do two lists of members hold the same: types, names, strings as C
 * strings, numbers to the bit, members in order?  Checks cJSON's links of
 * a too (in a list of members, the head's prev is the tail). */
static bool same(const cJSON *a, const cJSON *b, bool members)
{
	const cJSON *head = a;
	for (; a && b; a = a->next, b = b->next) {
		if ((a->type & 0xff) != (b->type & 0xff) ||
		    !a->string != !b->string ||
		    (a->string && strcmp(a->string, b->string) != 0) ||
		    a->valueint != b->valueint ||
		    memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)))
			return false;
		if (cJSON_IsString(a) &&
		    strcmp(a->valuestring, b->valuestring) != 0)
			return false;
		if (a->next && a->next->prev != a)
			return false;
		if (!same(a->child, b->child, true))
			return false;
		if (members && !a->next && head->prev != a)
			return false;
	}
	return !a && !b;
}

/* 1 when json_parse_arena, and json_parse_inplace on a copy, read the n
 * bytes at s as cJSON does (the same tree, ending at the same byte, or
 * both refusing; in place, nothing written past the value, nor past n),
 * else 0. */
static int agrees(struct json_arena *a, const char *s, size_t n)
{
	char *copy = malloc(n + 1);
	memcpy(copy, s, n);
	copy[n] = '\0';
	json_neutralize_nul(copy, n);
	const char *end = NULL;
	cJSON *want = n ? cJSON_ParseWithLengthOpts(copy, n, &end, 0) : NULL;
	cJSON *got = NULL;
	size_t used = 0;
	json_arena_reset(a);
	int r = json_parse_arena(a, s, n, &got, &used);
	int ok = want ? r == 0 && used == (size_t)(end - copy) &&
				same(got, want, false)
		      : r == -EINVAL;
	/* in place: the bytes, then a guard that must stay as it is */
	char *text = malloc(n + 8);
	memcpy(text, s, n);
	memcpy(text + n, "GUARD!!", 8);
	json_arena_reset(a);
	got = NULL;
	size_t iused = 0;
	r = json_parse_inplace(a, text, n, &got, &iused);
	ok = ok && memcmp(text + n, "GUARD!!", 8) == 0 &&
	     (want ? r == 0 && iused == used && same(got, want, false) &&
			     memcmp(text + iused, s + iused, n - iused) == 0
		   : r == -EINVAL);
	free(text);
	cJSON_Delete(want);
	free(copy);
	return ok;
}

#define T(lit) { lit, sizeof(lit) - 1 }
static const struct {
	const char *s;
	size_t n;
} cases[] = {
	T("{}"), T("[]"), T(" \t\r\n{ } x"), T("null"), T("nul"), T("nullx"),
	T("true"), T("tru"), T("false"), T("fals"), T("\"\""), T("\"a"),
	T("\"\\\""), T("\"\\"), T("\"a\\nb\\tc\\/d\\\\e\\\"f\\bg\\fh\\ri\""),
	T("\"\\x\""), T("\"\\u00e9\\u20AC\""), T("\"\\ud83d\\ude00\""),
	T("\"\\ud83d\""), T("\"\\ud83dx\""), T("\"\\ude00\""),
	T("\"\\ud83d\\u0041\""), T("\"\\ud83d\\u0000\""), T("\"\\u0000x\""),
	T("\"a\\u0000b\\\\u0000c\""), T("\"\\uZZZZtail\""), T("\"\\u12\""),
	T("\"\\u12Gz\""), T("\"\\u0\"1\""), T("\"raw\x01\x1f\x7f\xff\xfe\""),
	T("\"nul\0byte\""), T("{\"k\0x\":1}"), T("{\"a\\u0000\":\"v\"}"),
	T("0"), T("-0"), T("-"), T("+1"), T("007"), T("1.5"), T("1.5.5"),
	T("1e5"), T("1E+2"), T("1e"), T("-1e-3"), T("1e400"), T("-1e400"),
	T("123456789012345"), T("1234567890123456"), T("12345678901234567890"),
	T("9007199254740993"), T("-9007199254740993"), T("2147483648"),
	T("-2147483649"), T("0.1"), T("1-2"), T("0x10"), T(".5"),
	T("1111111111111111111111111111111111111111111111111111111111111111111"),
	T("[1,2,3]"), T("[1,]"), T("[,1]"), T("[1 2]"), T("[1"), T("[ "),
	T("{\"a\":1,}"), T("{\"a\" 1}"), T("{\"a\":}"), T("{a:1}"),
	T("{\"a\":1,\"a\":2}"), T("{\"a\":{\"b\":[{},[],\"c\",null]}}"),
	T("{\"a\":1 ,\n \"b\" : [ true , false ] }"), T("{\"a\":1,"),
	T("{\"a\":1, "), T("\xef\xbb\xbf{\"bom\":1}"), T("\xef\xbb\xbf{}"),
	T("\xef\xbb\xbf"), T("<html>"), T(""), T("   "),
	T("{\"summary\":\"a [b] {c} \\\"d\\\"\",\"n\":-0.0}"),
};

TEST(json_parse_arena_reads_as_cjson_does)
{
	struct json_arena a = JSON_ARENA_INIT;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		if (!agrees(&a, cases[i].s, cases[i].n))
			FAIL_("case %zu (%.*s) read otherwise than cJSON", i,
			      (int)cases[i].n, cases[i].s);
	json_arena_release(&a);
}

TEST(json_parse_arena_nests_as_deep_as_cjson)
{
	struct json_arena a = JSON_ARENA_INIT;
	char text[2100];
	for (size_t depth = 998; depth <= 1002; depth++) {
		for (size_t i = 0; i < depth; i++) {
			text[i] = '[';
			text[2 * depth - 1 - i] = ']';
		}
		if (!agrees(&a, text, 2 * depth))
			FAIL_("nesting %zu read otherwise than cJSON", depth);
	}
	json_arena_release(&a);
}

static const char bean[] =
	"{\"id\":\"10012\",\"key\":\"SEC-12\",\"fields\":{"
	"\"summary\":\"OpenSSL 3.0.7 on web-01 (CVE-2023-0286) \\u00e9\","
	"\"description\":\"line1\\nline2 \\\"q\\\" \\ud83d\\ude00 \\u0000\","
	"\"status\":{\"name\":\"In Progress\",\"statusCategory\":"
	"{\"key\":\"indeterminate\",\"id\":4}},\"resolution\":null,"
	"\"labels\":[\"security\",\"cve\"],\"customfield_1\":-7.25e2,"
	"\"watches\":{\"watchCount\":1,\"isWatching\":false},"
	"\"comment\":{\"comments\":[{\"id\":\"1\",\"body\":\"ok\"}],"
	"\"total\":1}}}";

TEST(json_parse_arena_reads_mutated_beans_as_cjson_does)
{
	/* bytes that matter to a JSON reader, and some that must not */
	static const char alphabet[] = "\"\\u0dD8{}[],: \t0123456789eE.-+"
				       "ntrfal\x01\x7f\xff\xc3\xa9";
	struct json_arena a = JSON_ARENA_INIT;
	char text[sizeof(bean) + 8];
	uint32_t seed = 12345;
#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 8) & 0xffffff)
	for (int iter = 0; iter < 40000; iter++) {
		size_t n = sizeof(bean) - 1;
		memcpy(text, bean, n);
		for (int k = 0, edits = 1 + (int)(RND() % 3); k < edits; k++) {
			size_t at = RND() % n;
			char c = alphabet[RND() % (sizeof(alphabet) - 1)];
			switch (RND() % 3) {
			case 0:
				text[at] = c;
				break;
			case 1:
				memmove(text + at + 1, text + at, n - at);
				text[at] = c;
				n++;
				break;
			default:
				memmove(text + at, text + at + 1, n - at - 1);
				n--;
			}
		}
		if (!agrees(&a, text, n))
			FAIL_("iteration %d: %.*s read otherwise than cJSON",
			      iter, (int)n, text);
	}
#undef RND
	json_arena_release(&a);
}

TEST(json_parse_arena_says_where_the_value_ends)
{
	struct json_arena a = JSON_ARENA_INIT;
	const char text[] = "  {\"a\":[1,2]} ,{\"b\":2}]";
	cJSON *v = NULL;
	size_t used = 0;
	CHECK_INT(json_parse_arena(&a, text, strlen(text), &v, &used), 0);
	CHECK_INT(used, 13);
	CHECK_INT(cJSON_GetArraySize(json_item(v, "a")), 2);
	/* what a tree of one's own is made from */
	cJSON *own = cJSON_Duplicate(v, true);
	json_arena_reset(&a);
	CHECK(own && cJSON_GetArraySize(json_item(own, "a")) == 2);
	cJSON_Delete(own);
	json_arena_release(&a);
}

TEST(json_arena_grows_and_keeps_one_block)
{
	struct json_arena a = JSON_ARENA_INIT;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 5000; i++) {
			char *p = json_arena_alloc(&a, 100 + (size_t)i % 7);
			CHECK(p != NULL && ((uintptr_t)p & 15) == 0);
			memset(p, 'x', 100);
		}
		char *big = json_arena_alloc(&a, (size_t)3 << 20);
		CHECK(big != NULL);
		big[((size_t)3 << 20) - 1] = 'y';
		json_arena_reset(&a);
		/* one block, no larger than what is kept */
		CHECK(a.block != NULL && a.held <= ((size_t)1 << 20));
	}
	json_arena_release(&a);
	CHECK(a.block == NULL && a.held == 0);
}

TEST(json_parse_inplace_leaves_what_follows_the_value)
{
	struct json_arena a = JSON_ARENA_INIT;
	char text[] = "{\"a\":\"x\\ny\",\"b\":[\"\\u00e9\"]},{\"c\":\"d\"}]";
	cJSON *v = NULL;
	size_t used = 0;
	CHECK_INT(json_parse_inplace(&a, text, strlen(text), &v, &used), 0);
	CHECK_INT(used, 27);
	CHECK_STR(json_str(v, "a"), "x\ny");
	CHECK_STR(json_item(v, "b")->child->valuestring, "\xc3\xa9");
	/* its strings are the text's own bytes */
	CHECK(json_str(v, "a") > text && json_str(v, "a") < text + used);
	CHECK_STR(text + used, ",{\"c\":\"d\"}]");
	json_arena_release(&a);
}

TEST(json_item_finds_what_cjson_finds)
{
	cJSON *o = cJSON_Parse("{\"ab\":1,\"a\":2,\"b\":3,\"\":4,\"ab\":5,"
			       "\"customfield_1\":6,\"customfield_10\":7}");
	CHECK(o != NULL);
	static const char *const keys[] = { "ab", "a", "b", "", "abc",
					    "customfield_10", "customfield_1",
					    "customfield_", "x" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		CHECK(json_item(o, keys[i]) ==
		      cJSON_GetObjectItemCaseSensitive(o, keys[i]));
	CHECK(json_item(o, NULL) == NULL && json_item(NULL, "a") == NULL);
	/* a member without a name ends the search, as in cJSON */
	cJSON *arr = cJSON_Parse("[1,2]");
	CHECK(json_item(arr, "a") == NULL);
	char *name = o->child->next->string;
	o->child->next->string = NULL;
	CHECK(json_item(o, "b") == NULL &&
	      cJSON_GetObjectItemCaseSensitive(o, "b") == NULL);
	CHECK(json_item(o, "ab") == o->child);
	o->child->next->string = name;
	cJSON_Delete(arr);
	cJSON_Delete(o);
}

/* json_add_string reads a string 16 bytes at a time: one that ends just
 * before an unmapped page is written as one anywhere else is, whatever
 * its length and bytes, into a buffer with a limit too. */
TEST(json_add_string_of_a_string_at_the_end_of_a_page)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(map != MAP_FAILED);
	CHECK(mprotect(map + pg, (size_t)pg, PROT_NONE) == 0);
	static const char alphabet[] = "abcdefghij\"\\\n\x01\x7f\xc3\xa9\xff";
	uint32_t seed = 7;
	for (size_t len = 0; len <= 70; len++) {
		for (int round = 0; round < 20; round++) {
			char *at = map + pg - len - 1;
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245u + 12345u;
				at[i] = round == 0 ? 'x'
					: alphabet[(seed >> 8) %
						   (sizeof(alphabet) - 1)];
			}
			at[len] = '\0';
			char *own = strdup(at);
			struct strbuf x = STRBUF_INIT, y = STRBUF_INIT,
				      z = STRBUF_INIT;
			z.limit = 1000;
			CHECK_INT(json_add_string(&x, at), 0);
			CHECK_INT(json_add_string(&y, own), 0);
			CHECK_INT(json_add_string(&z, own), 0);
			CHECK(x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0);
			CHECK(z.len == y.len && memcmp(z.buf, y.buf, z.len) == 0);
			CHECK(x.buf[x.len] == '\0' && x.buf[0] == '"' &&
			      x.buf[x.len - 1] == '"');
			strbuf_release(&x);
			strbuf_release(&y);
			strbuf_release(&z);
			free(own);
		}
	}
	munmap(map, 2 * (size_t)pg);
}
