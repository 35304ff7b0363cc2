/* Unit tests: jira/op.c and jira/plan.c (records and their checks) and the
 * pure parts of jira/apply.c (choosing a transition and filling its
 * screen). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jira/op.h"
#include "jira/write.h"

static struct jira_error err;

TEST(op_serialize_round_trip)
{
	struct jira_op *op = jira_op_new(JIRA_OP_UPDATE, "SEC", "SEC-12",
					 "{\"summary\": \"é\\n\"}", 19);
	op->base = strdup("{\"key\": \"SEC-12\"}");
	op->alias = strdup("new.json");
	op->alias_closed = true;
	op->then_close = true;
	op->scan = strdup("web-01.sarif");
	op->fp = strdup("jfs-fp-0123456789abcdef0123");
	op->resolution = strdup("Won't Fix");
	CHECK_INT(strlen(op->id), JIRA_OP_ID_LEN);
	char *text = jira_op_serialize(op);
	struct jira_op *back = jira_op_parse(text, strlen(text));
	CHECK(back != NULL);
	CHECK_STR(back->id, op->id);
	CHECK_INT(back->kind, JIRA_OP_UPDATE);
	CHECK_STR(back->project, "SEC");
	CHECK_STR(back->key, "SEC-12");
	CHECK_STR(back->body, op->body);
	CHECK_STR(back->base, op->base);
	CHECK_STR(back->alias, "new.json");
	CHECK(back->alias_closed && back->then_close);
	CHECK_STR(back->scan, "web-01.sarif");
	CHECK_STR(back->fp, "jfs-fp-0123456789abcdef0123");
	CHECK_STR(back->resolution, "Won't Fix");
	CHECK_INT(back->accepted_ms, op->accepted_ms);
	struct jira_op *other = jira_op_new(JIRA_OP_CREATE, "SEC", NULL, "", 0);
	CHECK(strcmp(other->id, op->id) != 0);
	jira_op_free(other);
	jira_op_free(back);
	jira_op_free(op);
	free(text);
}

TEST(op_parse_refuses_what_it_did_not_write)
{
	const char *bad[] = {
		"", "[]", "{\"version\": 2, \"id\": \"0123456789abcdef0123456789abcdef\", \"kind\": \"create\", \"project\": \"A\"}",
		"{\"version\": 1, \"id\": \"short\", \"kind\": \"create\", \"project\": \"A\"}",
		/* 32 bytes, but not hex (found by fuzzing) */
		("{\"version\": 1, \"id\": \"0\xd0\xcd\xcc\xcb\xca\xc9\xc8\xc7"
		 "9abcdef0123456789abcdef\", \"kind\": \"create\", \"project\": \"A\"}"),
		"{\"version\": 1, \"id\": \"0123456789abcdef0123456789abcdef\", \"kind\": \"delete\", \"project\": \"A\"}",
		"{\"version\": 1, \"id\": \"0123456789abcdef0123456789abcdef\", \"kind\": \"comment\", \"project\": \"A\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(jira_op_parse(bad[i], strlen(bad[i])) == NULL);
}

static char *fields_of(const struct jira_create_plan *p)
{
	return cJSON_PrintUnformatted(p->fields);
}

TEST(create_plan_contract_shape)
{
	struct jira_create_plan p;
	const char *body =
		"{\"key\": \"SEC-3\", \"project\": \"SEC\", \"summary\": \"S\", "
		"\"description\": \"D\", \"status\": \"Closed\", "
		"\"resolution\": \"Done\", \"priority\": \"High\", "
		"\"labels\": [\"a\"], \"components\": [\"web\", \"db\"], "
		"\"assignee\": \"jdoe\", \"reporter\": \"x\", \"created\": \"c\", "
		"\"updated\": \"u\", \"issuetype\": \"Bug\", "
		"\"fields\": {\"customfield_1\": 7.5, \"creator\": {\"name\": \"x\"}, "
		"\"duedate\": null}, \"comments\": [{\"id\": \"1\"}]}";
	CHECK_INT(jira_create_plan(body, "OPS", "Task", &p, &err), 0);
	char *f = fields_of(&p);
	CHECK_STR(f, "{\"project\":{\"key\":\"OPS\"},\"issuetype\":{\"name\":\"Bug\"},"
		     "\"summary\":\"S\",\"description\":\"D\",\"priority\":{\"name\":\"High\"},"
		     "\"assignee\":{\"name\":\"jdoe\"},\"labels\":[\"a\"],"
		     "\"components\":[{\"name\":\"web\"},{\"name\":\"db\"}],"
		     "\"customfield_1\":7.5,\"creator\":{\"name\":\"x\"}}");
	CHECK(!p.native);
	CHECK_STR(p.issuetype, "Bug");
	CHECK_INT(cJSON_GetArraySize(p.custom), 2);
	free(f);
	jira_create_plan_release(&p);

	CHECK_INT(jira_create_plan("{\"summary\": \"S\"}", "OPS", "Story", &p,
				   &err),
		  0);
	CHECK_STR(p.issuetype, "Story");
	jira_create_plan_release(&p);
}

TEST(create_plan_native_shape)
{
	struct jira_create_plan p;
	CHECK_INT(jira_create_plan("{\"fields\": {\"summary\": \"S\", "
				   "\"project\": {\"key\": \"X\"}, "
				   "\"issuetype\": {\"id\": \"3\"}}}",
				   "SEC", "Task", &p, &err),
		  0);
	CHECK(p.native);
	char *f = fields_of(&p);
	CHECK_STR(f, "{\"summary\":\"S\",\"issuetype\":{\"id\":\"3\"},"
		     "\"project\":{\"key\":\"SEC\"}}");
	free(f);
	jira_create_plan_release(&p);
}

TEST(create_plan_rejections)
{
	struct jira_create_plan p;
	struct {
		const char *body;
		enum jira_status st;
		const char *word;
	} cases[] = {
		{ "{\"summary\": \"x\"", JIRA_ERR_BAD_REQUEST,
		  "not valid JSON" },
		{ "{\"summary\": \"x\"} trailing", JIRA_ERR_BAD_REQUEST,
		  "extra text" },
		{ "[1]", JIRA_ERR_BAD_REQUEST, "object" },
		{ "{\"summary\": \"bad \xff\"}", JIRA_ERR_BAD_REQUEST,
		  "UTF-8" },
		{ "{\"description\": \"d\"}", JIRA_ERR_BAD_REQUEST, "summary" },
		{ "{\"summary\": \"\"}", JIRA_ERR_BAD_REQUEST, "summary" },
		{ "{\"summary\": 3}", JIRA_ERR_BAD_REQUEST, "summary" },
		{ "{\"summary\": \"x\", \"labels\": \"a\"}",
		  JIRA_ERR_BAD_REQUEST, "labels" },
		{ "{\"summary\": \"x\", \"priority\": 1}", JIRA_ERR_BAD_REQUEST,
		  "priority" },
		{ "{\"summary\": \"x\", \"sumary\": \"y\"}",
		  JIRA_ERR_BAD_REQUEST, "sumary" },
		{ "{\"fields\": {\"description\": \"x\"}}",
		  JIRA_ERR_BAD_REQUEST, "summary" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK_INT(jira_create_plan(cases[i].body, "SEC", "Task", &p,
					   &err),
			  cases[i].st);
		CHECK(strstr(err.msg, cases[i].word) != NULL);
		CHECK(p.fields == NULL);
	}
}

TEST(ticket_file_over_the_limit_is_too_large)
{
	CHECK_INT(JIRA_MAX_BODY, 1 << 20);
	CHECK_STR(JIRA_MAX_BODY_TEXT, "1 MiB");
	size_t n = JIRA_MAX_BODY + 1;
	char *body = malloc(n + 1);
	CHECK(body != NULL);
	static const char tail[] = "\"summary\": \"x\"}";
	memset(body, ' ', n);
	body[0] = '{';
	memcpy(body + n - strlen(tail), tail, strlen(tail));
	body[n] = '\0';
	CHECK_INT(strlen(body), n);
	struct jira_create_plan cp;
	CHECK_INT(jira_create_plan(body, "SEC", "Task", &cp, &err),
		  JIRA_ERR_TOO_LARGE);
	CHECK(strstr(err.msg, "1 MiB") != NULL);
	struct jira_update_plan up;
	CHECK_INT(jira_update_plan("{}", body, &up, &err), JIRA_ERR_TOO_LARGE);
	CHECK(strstr(err.msg, "1 MiB") != NULL);
	free(body);
}

static const char base[] =
	"{\"key\": \"SEC-1\", \"project\": \"SEC\", \"issuetype\": \"Bug\", "
	"\"summary\": \"old\", \"description\": null, \"status\": \"Open\", "
	"\"resolution\": null, \"priority\": \"High\", \"labels\": [\"a\"], "
	"\"components\": [], \"assignee\": null, \"reporter\": \"r\", "
	"\"created\": \"c\", \"updated\": \"u\", "
	"\"fields\": {\"customfield_1\": 1, \"watches\": {\"watchCount\": 1}}, "
	"\"comments\": [{\"id\": \"10\", \"author\": \"a\", \"created\": \"c\", "
	"\"body\": \"first\"}]}";

TEST(update_plan_sends_only_what_changed)
{
	struct jira_update_plan p;
	/* the same file, summary and a custom field changed, a label added,
	 * assignee set, a new comment, one custom field left out */
	const char *body =
		"{\"key\": \"SEC-1\", \"project\": \"SEC\", \"issuetype\": \"Bug\", "
		"\"summary\": \"new\", \"description\": null, \"status\": \"Open\", "
		"\"resolution\": null, \"priority\": \"High\", \"labels\": [\"a\", \"b\"], "
		"\"components\": [], \"assignee\": \"jdoe\", \"reporter\": \"r\", "
		"\"created\": \"c\", \"updated\": \"u\", "
		"\"fields\": {\"customfield_1\": 2}, "
		"\"comments\": [{\"id\": \"10\", \"author\": \"a\", \"created\": \"c\", "
		"\"body\": \"first\"}, {\"body\": \"second\"}, \"third\"]}";
	CHECK_INT(jira_update_plan(base, body, &p, &err), 0);
	char *f = cJSON_PrintUnformatted(p.fields);
	CHECK_STR(f, "{\"summary\":\"new\",\"assignee\":{\"name\":\"jdoe\"},"
		     "\"labels\":[\"a\",\"b\"],\"customfield_1\":2}");
	free(f);
	char *c = cJSON_PrintUnformatted(p.comments);
	CHECK_STR(c, "[{\"body\":\"second\"},{\"body\":\"third\"}]");
	free(c);
	CHECK(p.status == NULL);
	jira_update_plan_release(&p);

	/* a file with only some keys changes only those */
	CHECK_INT(jira_update_plan(base, "{\"priority\": \"Low\"}", &p, &err),
		  0);
	f = cJSON_PrintUnformatted(p.fields);
	CHECK_STR(f, "{\"priority\":{\"name\":\"Low\"}}");
	free(f);
	jira_update_plan_release(&p);

	/* nothing changed: nothing to send */
	CHECK_INT(jira_update_plan(base, base, &p, &err), 0);
	CHECK(!p.fields && !p.status && !p.comments);
	jira_update_plan_release(&p);
}

TEST(update_plan_status_and_resolution)
{
	struct jira_update_plan p;
	CHECK_INT(jira_update_plan(base,
				   "{\"status\": \"Resolved\", "
				   "\"resolution\": \"Won't Fix\"}",
				   &p, &err),
		  0);
	CHECK_STR(p.status, "Resolved");
	CHECK_STR(p.resolution, "Won't Fix");
	CHECK(p.fields == NULL);
	jira_update_plan_release(&p);
	CHECK_INT(
		jira_update_plan(base, "{\"resolution\": \"Done\"}", &p, &err),
		JIRA_ERR_BAD_REQUEST);
	CHECK(strstr(err.msg, "status") != NULL);
}

TEST(update_plan_refuses_read_only_and_comment_edits)
{
	struct jira_update_plan p;
	const char *bad[] = {
		"{\"key\": \"SEC-2\"}", "{\"reporter\": \"mallory\"}",
		"{\"created\": \"x\"}", "{\"project\": \"OPS\"}",
		("{\"comments\": [{\"id\": \"10\", \"author\": \"a\", "
		 "\"created\": \"c\", \"body\": \"edited\"}]}"),
		"{\"comments\": [{\"id\": \"99\", \"body\": \"x\"}]}",
		"{\"comments\": [{\"author\": \"x\"}]}",
		"{\"summary\": null}", "{\"status\": \"\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CHECK_INT(jira_update_plan(base, bad[i], &p, &err),
			  JIRA_ERR_BAD_REQUEST);
		CHECK(p.fields == NULL && p.comments == NULL);
	}
}

TEST(comment_payloads)
{
	cJSON *j = NULL;
	CHECK_INT(jira_comment_payload("text\n", 5, &j, &err), 0);
	char *s = cJSON_PrintUnformatted(j);
	CHECK_STR(s, "{\"body\":\"text\"}");
	free(s);
	cJSON_Delete(j);
	CHECK_INT(jira_comment_payload("two\nlines\n\n", 11, &j, &err), 0);
	CHECK_STR(cJSON_GetObjectItem(j, "body")->valuestring, "two\nlines\n");
	cJSON_Delete(j);
	const char *js = "{\"body\": \"b\", \"visibility\": {\"type\": \"role\", "
			 "\"value\": \"Dev\"}}\n";
	CHECK_INT(jira_comment_payload(js, strlen(js), &j, &err), 0);
	CHECK(cJSON_GetObjectItem(j, "visibility") != NULL);
	cJSON_Delete(j);
	/* JSON that is not a comment object is text */
	const char *other = "{\"summary\": \"x\"}";
	CHECK_INT(jira_comment_payload(other, strlen(other), &j, &err), 0);
	CHECK_STR(cJSON_GetObjectItem(j, "body")->valuestring, other);
	cJSON_Delete(j);
	CHECK_INT(jira_comment_payload(" \n\t\n", 4, &j, &err), 0);
	CHECK(j == NULL);
	CHECK_INT(jira_comment_payload("", 0, &j, &err), 0);
	CHECK(j == NULL);
	CHECK_INT(jira_comment_payload("bad \xc3", 5, &j, &err),
		  JIRA_ERR_BAD_REQUEST);
	CHECK_INT(jira_comment_payload("a\0b", 3, &j, &err),
		  JIRA_ERR_BAD_REQUEST);
}

TEST(comment_limit_counts_characters)
{
	cJSON *j = NULL;
	size_t n = JIRA_MAX_COMMENT_CHARS;
	char *s = malloc(2 * n + 3);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2); /* é: 2 bytes, 1 char */
	CHECK_INT(jira_comment_payload(s, 2 * n, &j, &err), 0);
	cJSON_Delete(j);
	memcpy(s + 2 * n, "\xc3\xa9", 2);
	CHECK_INT(jira_comment_payload(s, 2 * n + 2, &j, &err),
		  JIRA_ERR_TOO_LARGE);
	CHECK(j == NULL);
	free(s);
}

static const char transitions[] =
	"[{\"id\": \"4\", \"name\": \"Start Progress\", \"to\": {\"name\": "
	"\"In Progress\", \"statusCategory\": {\"key\": \"indeterminate\"}}},"
	" {\"id\": \"5\", \"name\": \"Resolve Issue\", \"to\": {\"name\": "
	"\"Resolved\", \"statusCategory\": {\"key\": \"done\"}}, \"fields\": "
	"{\"resolution\": {\"required\": true, \"allowedValues\": [{\"id\": "
	"\"1\", \"name\": \"Fixed\"}, {\"id\": \"10000\", \"name\": "
	"\"Done\"}]}}},"
	" {\"id\": \"2\", \"name\": \"Close Issue\", \"to\": {\"name\": "
	"\"Closed\", \"statusCategory\": {\"key\": \"done\"}}, \"fields\": "
	"{\"resolution\": {\"required\": true, \"allowedValues\": [{\"id\": "
	"\"1\", \"name\": \"Fixed\"}]}, \"customfield_9\": {\"required\": true, "
	"\"schema\": {\"type\": \"array\"}, \"allowedValues\": [{\"id\": "
	"\"7\"}]}}},"
	" {\"id\": \"3\", \"name\": \"Reopen Issue\", \"to\": {\"name\": "
	"\"Reopened\", \"statusCategory\": {\"key\": \"new\"}}}]";

TEST(pick_transition)
{
	cJSON *t = cJSON_Parse(transitions);
	CHECK_STR(cJSON_GetObjectItem(jira_pick_transition(t, true, NULL),
				      "id")->valuestring,
		  "2"); /* "Close" before "Resolve" */
	CHECK_STR(cJSON_GetObjectItem(jira_pick_transition(t, true,
							   "resolve issue"),
				      "id")->valuestring,
		  "5");
	CHECK_STR(cJSON_GetObjectItem(jira_pick_transition(t, true, "nope"),
				      "id")->valuestring,
		  "2");
	CHECK_STR(cJSON_GetObjectItem(jira_pick_transition(t, false, NULL),
				      "id")->valuestring,
		  "3");
	cJSON *none = cJSON_Parse("[{\"id\": \"4\", \"to\": {\"statusCategory\": "
				  "{\"key\": \"new\"}}}]");
	CHECK(jira_pick_transition(none, true, NULL) == NULL);
	cJSON_Delete(none);
	cJSON_Delete(t);
}

TEST(transition_fields_fill_resolution_and_required)
{
	cJSON *t = cJSON_Parse(transitions);
	const cJSON *resolve = cJSON_GetArrayItem(t, 1);
	const cJSON *close = cJSON_GetArrayItem(t, 2);
	cJSON *f = NULL;
	CHECK_INT(jira_transition_fields(resolve, NULL, &f, &err), JIRA_OK);
	char *s = cJSON_PrintUnformatted(f);
	CHECK_STR(s, "{\"resolution\":{\"id\":\"10000\"}}"); /* Done */
	free(s);
	cJSON_Delete(f);
	CHECK_INT(jira_transition_fields(resolve, "fixed", &f, &err), JIRA_OK);
	s = cJSON_PrintUnformatted(f);
	CHECK_STR(s, "{\"resolution\":{\"id\":\"1\"}}");
	free(s);
	cJSON_Delete(f);
	CHECK_INT(jira_transition_fields(close, NULL, &f, &err), JIRA_OK);
	s = cJSON_PrintUnformatted(f);
	CHECK_STR(s, "{\"resolution\":{\"id\":\"1\"},"
		     "\"customfield_9\":[{\"id\":\"7\"}]}");
	free(s);
	cJSON_Delete(f);
	cJSON *hard = cJSON_Parse("{\"name\": \"Sign\", \"fields\": {\"customfield_1\":"
				  " {\"required\": true}}}");
	CHECK_INT(jira_transition_fields(hard, NULL, &f, &err),
		  JIRA_ERR_BAD_REQUEST);
	CHECK(f == NULL);
	CHECK(strstr(err.msg, "customfield_1") != NULL);
	cJSON_Delete(hard);
	cJSON_Delete(t);
}

TEST(op_check_kinds)
{
	bool empty;
	struct jira_op *op = jira_op_new(JIRA_OP_COMMENT, "SEC", "SEC-1", "\n", 1);
	CHECK_INT(jira_op_check(op, &empty, &err), 0);
	CHECK(empty);
	jira_op_free(op);
	op = jira_op_new(JIRA_OP_UPDATE, "SEC", "SEC-1", base, strlen(base));
	op->base = strdup(base);
	CHECK_INT(jira_op_check(op, &empty, &err), 0);
	CHECK(empty);
	jira_op_free(op);
	op = jira_op_new(JIRA_OP_CREATE, "SEC", NULL, "{}", 2);
	CHECK_INT(jira_op_check(op, &empty, &err), JIRA_ERR_BAD_REQUEST);
	jira_op_free(op);
	op = jira_op_new(JIRA_OP_CLOSE, "SEC", "SEC-1", NULL, 0);
	CHECK_INT(jira_op_check(op, &empty, &err), 0);
	CHECK(!empty);
	jira_op_free(op);
}
