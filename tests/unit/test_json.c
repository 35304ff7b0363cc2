/* Unit tests: util/json.c - the deterministic JSON text of every file. */
#include <cjson/cJSON.h>
#include <stdlib.h>

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
