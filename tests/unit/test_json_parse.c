/* Unit tests: util/json_parse.c - an arena, and JSON parsed into it exactly
 * as cJSON parses it (after json_neutralize_nul). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* 1 when json_parse_arena reads the n bytes at s as cJSON does (the same
 * tree, ending at the same byte, or both refusing), else 0. */
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
