/*
 * libFuzzer target: whatever Jira sends as an issue, jirafs renders valid,
 * deterministic JSON (or refuses the bean), and error bodies are read
 * without crashing.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jira/issue.h"
#include "jira/status.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[JIRA_ERROR_MSG_MAX];
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
		if (!utf8_valid(i->text, i->text_len) ||
		    strlen(i->text) != i->text_len)
			abort();
		cJSON *back = cJSON_ParseWithLength(i->text, i->text_len);
		if (!back)
			abort();
		cJSON_Delete(back);
		size_t len;
		char *again = jira_issue_render(bean, &len);
		if (!again || len != i->text_len ||
		    memcmp(again, i->text, len) != 0)
			abort();
		free(again);
		jira_issue_unref(i);
	}
	cJSON_Delete(bean);
	return 0;
}
