/* Unit tests: util/json.c - the deterministic JSON text of every file. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/json.h"

static char *pretty(const char *json)
{
	cJSON *v = cJSON_Parse(json);
	struct strbuf sb = STRBUF_INIT;
	if (!v)
		return NULL;
	json_pretty(&sb, v, 0);
	cJSON_Delete(v);
	return strbuf_detach(&sb, NULL);
}

TEST(json_pretty_two_space_indent_inline_scalars)
{
	char *s = pretty("{\"a\":1,\"b\":[\"x\",\"y\"],\"c\":{\"d\":\"e\"},"
			 "\"f\":[],\"g\":{},\"h\":[{\"i\":null}],"
			 "\"t\":true,\"n\":null}");
	CHECK_STR(s, "{\n"
		     "  \"a\": 1,\n"
		     "  \"b\": [\"x\", \"y\"],\n"
		     "  \"c\": { \"d\": \"e\" },\n"
		     "  \"f\": [],\n"
		     "  \"g\": {},\n"
		     "  \"h\": [\n"
		     "    { \"i\": null }\n"
		     "  ],\n"
		     "  \"t\": true,\n"
		     "  \"n\": null\n"
		     "}");
	free(s);
}

TEST(json_pretty_long_scalar_containers_expand)
{
	char *s = pretty("{\"labels\":[\"aaaaaaaaaaaaaaaaaaaa\","
			 "\"bbbbbbbbbbbbbbbbbbbb\",\"cccccccccccccccccccc\","
			 "\"dddddddddddddddddddd\"]}");
	CHECK_STR(s, "{\n"
		     "  \"labels\": [\n"
		     "    \"aaaaaaaaaaaaaaaaaaaa\",\n"
		     "    \"bbbbbbbbbbbbbbbbbbbb\",\n"
		     "    \"cccccccccccccccccccc\",\n"
		     "    \"dddddddddddddddddddd\"\n"
		     "  ]\n"
		     "}");
	free(s);
}

TEST(json_string_escapes_controls_and_keeps_utf8)
{
	struct strbuf sb = STRBUF_INIT;
	json_add_string(&sb, "q\"b\\n\nt\tc\x01\x7f \xc3\xa9\xe2\x82\xac");
	CHECK_STR(strbuf_str(&sb),
		  "\"q\\\"b\\\\n\\nt\\tc\\u0001\\u007f \xc3\xa9\xe2\x82\xac\"");
	strbuf_release(&sb);
}

TEST(json_string_replaces_invalid_utf8)
{
	struct strbuf sb = STRBUF_INIT;
	/* a lone continuation byte, a truncated sequence, an overlong '/',
	 * a UTF-16 surrogate encoded in UTF-8 */
	json_add_string(&sb, "a\x80" "b\xe2\x82" "c\xc0\xaf" "d\xed\xa0\x80");
	const char *s = strbuf_str(&sb);
	CHECK(utf8_valid(s, strlen(s)));
	CHECK_STR(s, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
		     "c\xef\xbf\xbd\xef\xbf\xbd"
		     "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	strbuf_release(&sb);
}

TEST(json_numbers_round_trip)
{
	struct strbuf sb = STRBUF_INIT;
	double v[] = { 0, -0.0, 3, -17, 7.5, 0.1, 1e21, 123456789012345.0,
		       2.5e-7 };
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		json_add_number(&sb, v[i]);
		strbuf_addc(&sb, ' ');
	}
	CHECK_STR(strbuf_str(&sb),
		  "0 0 3 -17 7.5 0.1 1e+21 123456789012345 2.5e-07 ");
	strbuf_release(&sb);
}

TEST(json_sort_object_orders_members)
{
	cJSON *v = cJSON_Parse("{\"b\":1,\"a\":{\"z\":1,\"y\":2},\"c\":3}");
	json_sort_object(v, true);
	char *s = cJSON_PrintUnformatted(v);
	CHECK_STR(s, "{\"a\":{\"y\":2,\"z\":1},\"b\":1,\"c\":3}");
	cJSON_free(s);
	cJSON_Delete(v);
}

TEST(json_getters_find_members_of_objects_only)
{
	cJSON *o = cJSON_Parse("{\"s\": \"v\", \"n\": 1, \"S\": \"w\"}");
	CHECK(json_item(o, "n") != NULL);
	CHECK(json_item(o, "x") == NULL);
	CHECK(json_item(NULL, "n") == NULL);
	CHECK_STR(json_str(o, "s"), "v");
	CHECK_STR(json_str(o, "S"), "w"); /* case-sensitive */
	CHECK(json_str(o, "n") == NULL);
	CHECK(json_str(json_item(o, "s"), "s") == NULL);
	char *d = json_strdup(o, "s");
	CHECK_STR(d, "v");
	free(d);
	CHECK(json_strdup(o, "n") == NULL);
	cJSON_Delete(o);
}

TEST(utf8_valid_accepts_and_rejects)
{
	CHECK(utf8_valid("plain", 5));
	CHECK(utf8_valid("\xf0\x9f\x94\x92", 4)); /* U+1F512 */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	CHECK(!utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
	CHECK(!utf8_valid("\xc3", 1));             /* truncated */
}

TEST(json_neutralize_nul_only_inside_strings)
{
	char text[] = "{\"a\\u0000\":\"x\\u0000y\\\\u0000z\",\"b\":1}";
	/* {"a\u0000":"x\u0000y\\u0000z","b":1} */
	CHECK_INT(json_neutralize_nul(text, strlen(text)), 2);
	CHECK_STR(text, "{\"a\\ufffd\":\"x\\ufffdy\\\\u0000z\",\"b\":1}");
	cJSON *v = cJSON_Parse(text);
	CHECK(v != NULL);
	CHECK_STR(cJSON_GetObjectItem(v, "a\xef\xbf\xbd")->valuestring,
		  "x\xef\xbf\xbdy\\u0000z");
	cJSON_Delete(v);
}

/* Walk text; the members as "key=value|" (arrays: "value|"), or "ERR". */
static char *walked(const char *text)
{
	struct json_walk w;
	struct strbuf sb = STRBUF_INIT;
	const char *k = NULL, *v;
	size_t kl = 0, vl;
	int r;
	if (json_walk_start(&w, text, strlen(text)))
		return strdup("ERR");
	while ((r = json_walk_next(&w, &k, &kl, &v, &vl)) == 1) {
		if (w.close == '}') {
			strbuf_add(&sb, k, kl);
			strbuf_addc(&sb, '=');
		}
		strbuf_add(&sb, v, vl);
		strbuf_addc(&sb, '|');
	}
	if (r < 0) {
		strbuf_release(&sb);
		return strdup("ERR");
	}
	return strbuf_detach(&sb, NULL);
}

TEST(json_walk_hands_out_members_without_parsing_them)
{
	char *s = walked(" {\"startAt\": 0, \"issues\": [{\"a\": \"}]\\\"\"}, "
			 "[1, {}]], \"e\":\"x\\\\\",\"n\" :null}\n");
	CHECK_STR(s, "startAt=0|issues=[{\"a\": \"}]\\\"\"}, [1, {}]]|"
		     "e=\"x\\\\\"|n=null|");
	free(s);
	s = walked("[{\"k\":1} , \"s\",-1.5e3,true ,[]]");
	CHECK_STR(s, "{\"k\":1}|\"s\"|-1.5e3|true|[]|");
	free(s);
	s = walked("{}");
	CHECK_STR(s, "");
	free(s);
	s = walked("[ ]");
	CHECK_STR(s, "");
	free(s);
}

TEST(json_walk_rejects_what_is_not_one_container)
{
	static const char *bad[] = {
		"", "  ", "42", "\"s\"", "<html>", "{", "[1,", "[1,]", "[,1]",
		"{\"a\" 1}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "[1 2]",
		"{\"a\":\"unterminated}", "[[1]", "[1]]", "{\"a\":1} x",
		"{\"a\":1}{}", "[1]\n,", "{\"a\":1 \"b\":2}", "[:]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *s = walked(bad[i]);
		if (strcmp(s, "ERR") != 0)
			FAIL_("walked \"%s\" as %s", bad[i], s);
		free(s);
	}
}

TEST(json_walk_values_parse_as_the_whole_tree_does)
{
	const char *text = "{\"expand\":\"names\",\"maxResults\":1000,"
			   "\"total\":2,\"issues\":[{\"key\":\"SEC-1\","
			   "\"fields\":{\"summary\":\"a [b] {c} \\\"d\\\"\"}},"
			   "{\"key\":\"SEC-2\",\"fields\":{\"labels\":[]}}]}";
	cJSON *whole = cJSON_Parse(text);
	struct json_walk w;
	const char *k, *v;
	size_t kl, vl;
	int n = 0;
	CHECK_INT(json_walk_start(&w, text, strlen(text)), 0);
	while (json_walk_next(&w, &k, &kl, &v, &vl) == 1) {
		char key[32];
		snprintf(key, sizeof(key), "%.*s", (int)kl, k);
		cJSON *part = cJSON_ParseWithLength(v, vl);
		CHECK(part != NULL);
		CHECK(cJSON_Compare(part, cJSON_GetObjectItem(whole, key), 1));
		cJSON_Delete(part);
		n++;
	}
	CHECK_INT(n, 4);
	cJSON_Delete(whole);
}
