/*
 * libFuzzer target: whatever Jira sends as an issue, jirafs renders valid,
 * deterministic JSON (or refuses the bean), and error bodies are read
 * without crashing.  A search answer walked member by member (json_walk)
 * gives the values the whole tree has.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jira/issue.h"
#include "jira/status.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk the input; when cJSON reads all of it as one object or array, the
 * walk must succeed and each value must parse to the tree's member. */
static void walk(const char *text, size_t size)
{
	const char *end = NULL;
	cJSON *whole = cJSON_ParseWithLengthOpts(text, size, &end, 0);
	bool all = whole && (cJSON_IsObject(whole) || cJSON_IsArray(whole));
	for (const char *p = end; all && p < text + size; p++)
		all = (unsigned char)*p <= 32;
	struct json_walk w;
	const char *k, *v;
	size_t kl, vl;
	int r = json_walk_start(&w, text, size);
	const cJSON *member = whole ? whole->child : NULL;
	while (r == 0 && (r = json_walk_next(&w, &k, &kl, &v, &vl)) == 1) {
		if (!all)
			continue;
		/* printed, not cJSON_Compare'd: that one is lost by
		 * duplicate keys */
		cJSON *part = cJSON_ParseWithLength(v, vl);
		char *a = part ? cJSON_PrintUnformatted(part) : NULL;
		char *b = member ? cJSON_PrintUnformatted(member) : NULL;
		if (!a || !b || strcmp(a, b) != 0)
			abort();
		free(a);
		free(b);
		cJSON_Delete(part);
		member = member->next;
		r = 0;
	}
	if (all && (r != 0 || member))
		abort();
	cJSON_Delete(whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[JIRA_ERROR_MSG_MAX];
	walk((const char *)data, size);
	jira_error_messages((const char *)data, size, msg, sizeof(msg));

	struct jira_answer a = { .http_status = 502,
				 .content_type = "text/html",
				 .body = (const char *)data,
				 .body_len = size,
				 .retry_after_s = -1 };
	struct jira_error e;
	jira_classify(&a, &e);

	cJSON *bean = cJSON_ParseWithLength((const char *)data, size);
	if (!bean)
		return 0;
	struct jira_issue *i = NULL;
	char why[128];
	if (jira_issue_from_json(bean, &i, why, sizeof(why)) == 0) {
		if (!utf8_valid(txt(i), i->text_len) ||
		    strlen(txt(i)) != i->text_len)
			abort();
		cJSON *back = cJSON_ParseWithLength(txt(i), i->text_len);
		if (!back)
			abort();
		cJSON_Delete(back);
		size_t len;
		char *again = jira_issue_render(bean, &len);
		if (!again || len != i->text_len ||
		    memcmp(again, txt(i), len) != 0)
			abort();
		free(again);
		jira_issue_unref(i);
	}
	cJSON_Delete(bean);
	return 0;
}
