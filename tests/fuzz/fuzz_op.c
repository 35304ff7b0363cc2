/*
 * libFuzzer target: whatever a user writes into a ticket file, the checks
 * of jira/op.c answer JIRA_OK or a refusal (bad request, too large, out of
 * memory) with a reason and never crash; a record read back from the
 * outbox is either refused or complete.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jira/op.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] =
	"{\"key\": \"SEC-1\", \"project\": \"SEC\", \"issuetype\": \"Bug\", "
	"\"summary\": \"old\", \"description\": null, \"status\": \"Open\", "
	"\"resolution\": null, \"priority\": \"High\", \"labels\": [\"a\"], "
	"\"components\": [], \"assignee\": null, \"reporter\": \"r\", "
	"\"created\": \"c\", \"updated\": \"u\", \"fields\": {\"cf\": 1}, "
	"\"comments\": [{\"id\": \"10\", \"body\": \"first\"}]}";

/* A check's answer: JIRA_OK, or one of its refusals with a reason. */
static bool check_answer(enum jira_status st, const struct jira_error *err)
{
	if (st == JIRA_OK)
		return true;
	return (st == JIRA_ERR_BAD_REQUEST || st == JIRA_ERR_TOO_LARGE ||
		st == JIRA_ERR_NOMEM) &&
	       err->status == st && err->msg[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jira_error err = { 0 };
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct jira_create_plan cp;
	enum jira_status r = jira_create_plan(text, "SEC", "Task", &cp, &err);
	if (r == JIRA_OK && (!cp.fields || !cJSON_IsObject(cp.fields)))
		abort();
	if (!check_answer(r, &err))
		abort();
	jira_create_plan_release(&cp);

	struct jira_update_plan up;
	r = jira_update_plan(base, text, &up, &err);
	if (!check_answer(r, &err))
		abort();
	jira_update_plan_release(&up);

	cJSON *c = NULL;
	r = jira_comment_payload((const char *)data, size, &c, &err);
	if (r == JIRA_OK && c &&
	    !cJSON_IsString(cJSON_GetObjectItem(c, "body")))
		abort();
	if (!check_answer(r, &err))
		abort();
	cJSON_Delete(c);

	struct jira_op *op = jira_op_parse((const char *)data, size);
	if (op) {
		if (!op->project || strlen(op->id) != JIRA_OP_ID_LEN)
			abort();
		char *again = jira_op_serialize(op);
		struct jira_op *op2 =
			again ? jira_op_parse(again, strlen(again)) : NULL;
		if (again && (!op2 || strcmp(op2->id, op->id) != 0))
			abort();
		jira_op_free(op2);
		free(again);
		jira_op_free(op);
	}
	free(text);
	return 0;
}
