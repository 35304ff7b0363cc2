/* Unit tests: jira/issue.c - IssueBean -> ticket file (CONTRACT §3). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "jira/issue.h"
#include "util/json.h"
#include "util/strbuf.h"

/* The ticket file of i, unpacked (kept until the next call). */
static const char *txt(const struct jira_issue *i)
{
	static struct strbuf sb = STRBUF_INIT;
	if (jira_issue_text_to(i, &sb))
		return "";
	return sb.buf;
}

static const char bean_sec12[] =
	"{\"expand\":\"renderedFields\",\"id\":\"10012\","
	"\"self\":\"http://j/rest/api/2/issue/10012\",\"key\":\"SEC-12\","
	"\"fields\":{"
	"\"summary\":\"OpenSSL 3.0.7 on web-01 (CVE-2023-0286)\","
	"\"description\":\"line1\\nline2 \\\"quoted\\\"\","
	"\"project\":{\"key\":\"SEC\",\"name\":\"Security\"},"
	"\"issuetype\":{\"name\":\"Bug\",\"id\":\"1\"},"
	"\"status\":{\"name\":\"In Progress\","
	"\"statusCategory\":{\"key\":\"indeterminate\"}},"
	"\"resolution\":null,"
	"\"priority\":{\"name\":\"High\"},"
	"\"labels\":[\"security\",\"cve-2023-0286\"],"
	"\"components\":[{\"name\":\"web\",\"id\":\"10000\"}],"
	"\"assignee\":{\"name\":\"jdoe\",\"displayName\":\"J Doe\"},"
	"\"reporter\":{\"name\":\"nucleus-bot\"},"
	"\"created\":\"2026-11-02T09:14:03.000+0000\","
	"\"updated\":\"2026-11-27T16:40:55.000+0000\","
	"\"watches\":{\"watchCount\":1,\"isWatching\":false},"
	"\"customfield_10021\":\"web-01\","
	"\"customfield_10020\":7.5,"
	"\"environment\":null,"
	"\"fixVersions\":[],"
	"\"comment\":{\"comments\":[{\"id\":\"10100\","
	"\"author\":{\"name\":\"jdoe\"},"
	"\"created\":\"2026-11-03T10:00:00.000+0000\","
	"\"updated\":\"2026-11-03T10:00:00.000+0000\","
	"\"body\":\"Patched on staging\"},"
	"{\"id\":\"10101\",\"author\":{\"name\":\"bob\"},"
	"\"created\":\"2026-11-04T10:00:00.000+0000\","
	"\"updated\":\"2026-11-05T11:00:00.000+0000\","
	"\"body\":\"ok\",\"visibility\":{\"type\":\"role\","
	"\"value\":\"Developers\"}}],"
	"\"maxResults\":2,\"total\":2,\"startAt\":0}}}";

static const char text_sec12[] =
	"{\n"
	"  \"key\": \"SEC-12\",\n"
	"  \"project\": \"SEC\",\n"
	"  \"issuetype\": \"Bug\",\n"
	"  \"summary\": \"OpenSSL 3.0.7 on web-01 (CVE-2023-0286)\",\n"
	"  \"description\": \"line1\\nline2 \\\"quoted\\\"\",\n"
	"  \"status\": \"In Progress\",\n"
	"  \"resolution\": null,\n"
	"  \"priority\": \"High\",\n"
	"  \"labels\": [\"security\", \"cve-2023-0286\"],\n"
	"  \"components\": [\"web\"],\n"
	"  \"assignee\": \"jdoe\",\n"
	"  \"reporter\": \"nucleus-bot\",\n"
	"  \"created\": \"2026-11-02T09:14:03.000+0000\",\n"
	"  \"updated\": \"2026-11-27T16:40:55.000+0000\",\n"
	"  \"fields\": {\n"
	"    \"customfield_10020\": 7.5,\n"
	"    \"customfield_10021\": \"web-01\",\n"
	"    \"fixVersions\": [],\n"
	"    \"watches\": { \"watchCount\": 1, \"isWatching\": false }\n"
	"  },\n"
	"  \"comments\": [\n"
	"    {\n"
	"      \"id\": \"10100\",\n"
	"      \"author\": \"jdoe\",\n"
	"      \"created\": \"2026-11-03T10:00:00.000+0000\",\n"
	"      \"body\": \"Patched on staging\"\n"
	"    },\n"
	"    {\n"
	"      \"id\": \"10101\",\n"
	"      \"author\": \"bob\",\n"
	"      \"created\": \"2026-11-04T10:00:00.000+0000\",\n"
	"      \"updated\": \"2026-11-05T11:00:00.000+0000\",\n"
	"      \"body\": \"ok\",\n"
	"      \"visibility\": { \"type\": \"role\", \"value\": \"Developers\" }\n"
	"    }\n"
	"  ]\n"
	"}\n";

TEST(issue_render_matches_contract_shape)
{
	cJSON *bean = cJSON_Parse(bean_sec12);
	struct jira_issue *i = NULL;
	char why[128];
	CHECK_INT(jira_issue_from_json(bean, &i, why, sizeof(why)), 0);
	CHECK_STR(txt(i), text_sec12);
	CHECK_INT(i->text_len, strlen(text_sec12));
	CHECK_STR(i->key, "SEC-12");
	CHECK_STR(i->project, "SEC");
	CHECK_STR(i->status, "In Progress");
	CHECK_STR(i->id, "10012");
	CHECK(!i->done);
	CHECK_INT(i->updated.tv_sec, 1795797655); /* 2026-11-27T16:40:55Z */
	CHECK_INT(i->created.tv_sec, 1793610843); /* 2026-11-02T09:14:03Z */
	jira_issue_unref(i);
	cJSON_Delete(bean);
}

TEST(issue_render_is_deterministic_whatever_field_order)
{
	/* the same issue with "fields" members in another order */
	cJSON *a = cJSON_Parse(bean_sec12);
	cJSON *b = cJSON_Parse(bean_sec12);
	json_sort_object(cJSON_GetObjectItem(b, "fields"), false);
	size_t la, lb;
	char *ta = jira_issue_render(a, &la), *tb = jira_issue_render(b, &lb);
	CHECK_STR(ta, tb);
	free(ta);
	free(tb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

TEST(issue_done_category_and_minimal_bean)
{
	cJSON *bean = cJSON_Parse(
		"{\"key\":\"OPS-7\",\"fields\":{\"status\":{\"name\":"
		"\"Closed\",\"statusCategory\":{\"key\":\"done\"}}}}");
	struct jira_issue *i = NULL;
	char why[128];
	CHECK_INT(jira_issue_from_json(bean, &i, why, sizeof(why)), 0);
	CHECK(i->done);
	CHECK_STR(txt(i), "{\n"
			   "  \"key\": \"OPS-7\",\n"
			   "  \"project\": \"OPS\",\n"
			   "  \"issuetype\": null,\n"
			   "  \"summary\": null,\n"
			   "  \"description\": null,\n"
			   "  \"status\": \"Closed\",\n"
			   "  \"resolution\": null,\n"
			   "  \"priority\": null,\n"
			   "  \"labels\": [],\n"
			   "  \"components\": [],\n"
			   "  \"assignee\": null,\n"
			   "  \"reporter\": null,\n"
			   "  \"created\": null,\n"
			   "  \"updated\": null,\n"
			   "  \"fields\": {},\n"
			   "  \"comments\": []\n"
			   "}\n");
	jira_issue_unref(i);
	cJSON_Delete(bean);
}

TEST(issue_hostile_values_still_render_valid_json)
{
	/* wrong types everywhere, invalid UTF-8, control characters */
	cJSON *bean = cJSON_Parse(
		"{\"key\":\"SEC-3\",\"fields\":{\"summary\":42,"
		"\"description\":\"\\u0000x\\u001b[31m\\r\\n\","
		"\"status\":\"Open\",\"labels\":\"notalist\","
		"\"components\":[1,null,{\"name\":\"db\"}],"
		"\"assignee\":[],\"comment\":{\"comments\":[7,{\"body\":1}]},"
		"\"customfield_1\":{\"deep\":[[[]]]}}}");
	CHECK(bean != NULL);
	cJSON *f = cJSON_GetObjectItem(bean, "fields");
	cJSON_AddStringToObject(f, "customfield_2", "bad\xff\xfe utf8");
	struct jira_issue *i = NULL;
	char why[128];
	CHECK_INT(jira_issue_from_json(bean, &i, why, sizeof(why)), 0);
	CHECK(utf8_valid(txt(i), i->text_len));
	cJSON *back = cJSON_Parse(txt(i));
	CHECK(back != NULL);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(back, "summary")));
	CHECK_STR(cJSON_GetObjectItem(back, "description")->valuestring,
		  "");
	cJSON_Delete(back);
	jira_issue_unref(i);
	cJSON_Delete(bean);
}

TEST(issue_rejects_unusable_keys)
{
	const char *bad[] = { "{\"key\":\"../../etc/passwd-1\"}",
			      "{\"key\":\"SEC-01\"}", "{\"key\":\"sec-1\"}",
			      "{\"key\":\"SEC-1/x\"}", "{\"key\":7}", "{}",
			      "[]" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++) {
		cJSON *bean = cJSON_Parse(bad[k]);
		struct jira_issue *i = NULL;
		char why[128];
		CHECK_INT(jira_issue_from_json(bean, &i, why, sizeof(why)),
			  -EINVAL);
		CHECK(i == NULL);
		cJSON_Delete(bean);
	}
}

TEST(key_project_is_what_comes_before_the_last_dash)
{
	char buf[8];
	CHECK_STR(jira_key_project("SEC-12", buf, sizeof(buf)), "SEC");
	CHECK_STR(jira_key_project("A_B2-1", buf, sizeof(buf)), "A_B2");
	CHECK_STR(jira_key_project("A-B-3", buf, sizeof(buf)), "A-B");
	CHECK(jira_key_project("SEC", buf, sizeof(buf)) == NULL);
	CHECK_STR(buf, "");
	CHECK(jira_key_project("-1", buf, sizeof(buf)) == NULL);
	CHECK(jira_key_project("ABCDEFGH-1", buf, sizeof(buf)) == NULL);
	CHECK_STR(jira_key_project("ABCDEFG-1", buf, sizeof(buf)), "ABCDEFG");
}

TEST(key_validation)
{
	CHECK(jira_key_valid("SEC-1"));
	CHECK(jira_key_valid("A_B2-123456"));
	CHECK(!jira_key_valid("SEC-"));
	CHECK(!jira_key_valid("-1"));
	CHECK(!jira_key_valid("SEC-1a"));
	CHECK(!jira_key_valid("2SEC-1"));
	CHECK(!jira_key_valid("SEC-0"));
	CHECK(jira_project_key_valid("OPS"));
	CHECK(!jira_project_key_valid("closed"));
	CHECK(!jira_project_key_valid(".jirafs"));
}

TEST(time_parse_formats)
{
	struct timespec ts;
	CHECK_INT(jira_time_parse("2026-11-02T09:14:03.000+0000", &ts), 0);
	CHECK_INT(ts.tv_sec, 1793610843);
	CHECK_INT(jira_time_parse("2026-11-02T10:14:03.250+0100", &ts), 0);
	CHECK_INT(ts.tv_sec, 1793610843);
	CHECK_INT(ts.tv_nsec, 250000000);
	CHECK_INT(jira_time_parse("2026-11-02T04:44:03-04:30", &ts), 0);
	CHECK_INT(ts.tv_sec, 1793610843);
	CHECK_INT(jira_time_parse("2026-11-02T09:14:03Z", &ts), 0);
	CHECK_INT(ts.tv_sec, 1793610843);
	CHECK(jira_time_parse("2026-11-02", &ts) < 0);
	CHECK(jira_time_parse("2026-13-02T09:14:03Z", &ts) < 0);
	CHECK(jira_time_parse("2026-11-02T09:14:03.000+0000x", &ts) < 0);
}

/* jira_time_parse() counts days itself: as timegm() does, for every date
 * it accepts (years 0000 to 9999, a 31st of any month, second 60). */
TEST(time_parse_agrees_with_timegm)
{
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int y = i % 3 ? 1970 + (int)(x % 100) : (int)(x % 10000);
		int mo = 1 + (int)((x >> 20) % 12), d = 1 + (int)((x >> 28) % 31);
		int h = (int)((x >> 34) % 24), mi = (int)((x >> 40) % 60);
		int sec = (int)((x >> 46) % 61), oh = (int)((x >> 52) % 15);
		char s[64];
		snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.123%c%02d30",
			 y, mo, d, h, mi, sec, x >> 63 ? '-' : '+', oh);
		struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1,
				 .tm_mday = d, .tm_hour = h, .tm_min = mi,
				 .tm_sec = sec };
		long off = (x >> 63 ? -1 : 1) * (oh * 3600L + 30 * 60L);
		struct timespec ts;
		CHECK_INT(jira_time_parse(s, &ts), 0);
		if (ts.tv_sec != timegm(&tm) - off)
			FAIL_("%s: %lld, timegm %lld", s, (long long)ts.tv_sec,
			      (long long)(timegm(&tm) - off));
	}
}

/* A bean as a search page holds it: parsed into an arena. */
static struct jira_issue *built(struct jira_issue_scratch *s,
				struct json_arena *a, const char *text)
{
	cJSON *bean = NULL;
	size_t used;
	struct jira_issue *i = NULL;
	char why[128];
	json_arena_reset(a);
	if (json_parse_arena(a, text, strlen(text), &bean, &used) ||
	    jira_issue_build(s, bean, &i, why, sizeof(why)))
		return NULL;
	return i;
}

TEST(issue_built_from_an_arena_tree_is_the_same_ticket)
{
	struct jira_issue_scratch s = JIRA_ISSUE_SCRATCH_INIT;
	struct json_arena a = JSON_ARENA_INIT;
	/* the scratch is reused: a long ticket, a short one, the long one */
	for (int round = 0; round < 2; round++) {
		struct jira_issue *i = built(&s, &a, bean_sec12);
		CHECK(i != NULL);
		CHECK_STR(txt(i), text_sec12);
		CHECK_INT(i->text_len, strlen(text_sec12));
		CHECK_STR(i->key, "SEC-12");
		CHECK_STR(i->status, "In Progress");
		CHECK_STR(i->updated_raw, "2026-11-27T16:40:55.000+0000");
		CHECK_INT(i->created.tv_sec, 1793610843);
		jira_issue_unref(i);
		i = built(&s, &a, "{\"key\":\"OPS-7\",\"fields\":{\"status\":"
				  "{\"name\":\"Closed\",\"statusCategory\":"
				  "{\"key\":\"done\"}}}}");
		CHECK(i != NULL && i->done);
		CHECK_INT(i->text_len, strlen(txt(i)));
		CHECK(strstr(txt(i), "\"fields\": {},\n") != NULL);
		jira_issue_unref(i);
	}
	jira_issue_scratch_release(&s);
	json_arena_release(&a);
}

TEST(issue_nul_escapes_read_as_replacement_characters)
{
	/* a search page is read as it came: \u0000 is U+FFFD there, and the
	 * rest of the value stays (issue.h: valid JSON and UTF-8 always) */
	struct jira_issue_scratch s = JIRA_ISSUE_SCRATCH_INIT;
	struct json_arena a = JSON_ARENA_INIT;
	struct jira_issue *i = built(
		&s, &a,
		"{\"key\":\"SEC-3\",\"fields\":{\"summary\":\"a\\u0000b\","
		"\"labels\":[\"x\\u0000y\"],\"customfield_1\":\"\\\\u0000\"}}");
	CHECK(i != NULL);
	CHECK(utf8_valid(txt(i), i->text_len));
	CHECK(strstr(txt(i), "\"summary\": \"a\xef\xbf\xbd" "b\",") != NULL);
	CHECK(strstr(txt(i), "[\"x\xef\xbf\xbdy\"]") != NULL);
	CHECK(strstr(txt(i), "\"customfield_1\": \"\\\\u0000\"") != NULL);
	jira_issue_unref(i);
	jira_issue_scratch_release(&s);
	json_arena_release(&a);
}

TEST(issue_fields_keep_the_first_of_a_name_and_sort_the_rest_stably)
{
	/* duplicate names, as cJSON keeps them: the ticket shows the first
	 * summary; under "fields" both zz stay, in the order Jira gave */
	cJSON *bean = cJSON_Parse(
		"{\"key\":\"SEC-4\",\"fields\":{\"summary\":\"one\","
		"\"zz\":2,\"summary\":\"two\",\"aa\":null,\"zz\":1,\"mm\":[]}}");
	size_t len;
	char *t = jira_issue_render(bean, &len);
	CHECK(t != NULL);
	CHECK(strstr(t, "\"summary\": \"one\",") != NULL);
	CHECK(strstr(t, "\"fields\": { \"mm\": [], \"zz\": 2, \"zz\": 1 },")
	      == NULL); /* mm holds a container: not one line */
	CHECK(strstr(t, "  \"fields\": {\n    \"mm\": [],\n    \"zz\": 2,\n"
			"    \"zz\": 1\n  },\n") != NULL);
	free(t);
	cJSON_Delete(bean);
}

/* Texts are kept packed: within memory_max in memory, beyond it in a file
 * of the directory given; every one reads back as rendered, whichever way
 * it was kept, and what a text takes is given back when it goes. */
TEST(issue_texts_packed_and_spilled_read_back_as_rendered)
{
	char dir[] = "/tmp/jirafs-unit-texts.XXXXXX", why[128];
	CHECK(mkdtemp(dir) != NULL);
	cJSON *bean = cJSON_Parse(bean_sec12);
	struct jira_issue *first = NULL, *many[40] = { NULL };
	CHECK_INT(jira_issue_from_json(bean, &first, why, sizeof(why)), 0);
	CHECK(first->zlen < first->text_len); /* packed */
	struct jira_text_stats st0;
	jira_text_stats(&st0);
	CHECK_INT(jira_text_store_setup(dir, st0.memory + 4 * first->zlen, why,
					sizeof(why)),
		  0);
	for (int k = 0; k < 40; k++) {
		char key[32], summary[64];
		snprintf(key, sizeof(key), "SEC-%d", 100 + k);
		snprintf(summary, sizeof(summary), "finding number %d", k);
		cJSON_ReplaceItemInObject(bean, "key", cJSON_CreateString(key));
		cJSON *f = cJSON_GetObjectItem(bean, "fields");
		cJSON_ReplaceItemInObject(f, "summary",
					  cJSON_CreateString(summary));
		CHECK_INT(jira_issue_from_json(bean, &many[k], why,
					       sizeof(why)),
			  0);
		size_t len = 0;
		char *want = jira_issue_render(bean, &len);
		CHECK(want && strstr(want, summary));
		CHECK_STR(txt(many[k]), want);
		CHECK_INT(many[k]->text_len, len);
		free(want);
	}
	struct jira_text_stats st;
	jira_text_stats(&st);
	CHECK(st.memory <= st.memory_max);
	/* the first few fit in memory, the rest went to the file */
	CHECK(st.spilled >= 30 && st.spilled < 40);
	CHECK(many[0]->ztext && !many[39]->ztext);
	CHECK_INT(st.tickets, st0.tickets + 40);
	for (int k = 0; k < 40; k++)
		jira_issue_unref(many[k]);
	jira_text_stats(&st);
	CHECK_INT(st.spilled, 0);
	CHECK_INT(st.spilled_bytes, 0);
	CHECK_INT(st.memory, st0.memory);
	CHECK_STR(txt(first), text_sec12);
	CHECK_INT(jira_text_store_setup(NULL, SIZE_MAX, why, sizeof(why)), 0);
	jira_issue_unref(first);
	cJSON_Delete(bean);
	rmdir(dir);
}
