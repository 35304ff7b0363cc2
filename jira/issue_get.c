/*
 * issue_get.c - one ticket by key, the comments of a ticket beyond the
 * page of them that its bean holds (for a search page's beans too), and
 * the count of a query.
 * Declared in client.h and client_priv.h.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jira/client.h"
#include "jira/client_priv.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#define COMMENT_PAGE_REQUEST 1000 /* comments asked for per request */
#define COMMENT_PAGES_MAX 10000   /* a bound on one ticket's comment pages */

/* ---- comments beyond the first page ------------------------------------ */

/* The comment field of an IssueBean is itself a page (startAt, maxResults,
 * total: CommentsWithPaginationJsonBean), and Jira may cut it short: does
 * bean hold fewer comments than its ticket has? */
bool client_comments_partial(const cJSON *bean)
{
	const cJSON *f = json_item(bean, "fields");
	const cJSON *cm = json_item(f, "comment");
	const cJSON *total = json_item(cm, "total");
	const cJSON *list = json_item(cm, "comments");
	return cJSON_IsNumber(total) &&
	       total->valuedouble > cJSON_GetArraySize(list);
}

/* Replace bean's comment page by every comment of the ticket, read from
 * GET /rest/api/2/issue/{key}/comment, oldest first, page by page. */
enum jira_status client_complete_comments(struct jira_client *c, cJSON *bean,
					  deadline_t deadline,
					  struct jira_error *err)
{
	const cJSON *k = json_item(bean, "key");
	cJSON *f = cJSON_GetObjectItemCaseSensitive(bean, "fields");
	cJSON *all = cJSON_CreateArray();
	if (!all)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	enum jira_status st = JIRA_OK;
	for (unsigned start = 0, pages = 0; pages < COMMENT_PAGES_MAX;
	     pages++) {
		char path[512];
		cJSON *j = NULL;
		snprintf(path, sizeof(path),
			 "/rest/api/2/issue/%s/comment?startAt=%u&maxResults="
			 "%u&orderBy=created",
			 cJSON_IsString(k) ? k->valuestring : "", start,
			 COMMENT_PAGE_REQUEST);
		st = jira_get_json(c, path, deadline, &j, err);
		if (st != JIRA_OK)
			break;
		cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "comments");
		unsigned n = 0;
		while (cJSON_IsArray(list) && list->child) {
			cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(
							  list, list->child));
			n++;
		}
		const cJSON *t = json_item(j, "total");
		unsigned total = !cJSON_IsNumber(t) || t->valuedouble <= 0 ? 0
				 : t->valuedouble > UINT_MAX	  ? UINT_MAX
								  : (unsigned)t->valuedouble;
		cJSON_Delete(j);
		start += n;
		if (n == 0 || start >= total)
			break;
	}
	if (st != JIRA_OK) {
		cJSON_Delete(all);
		return st;
	}
	cJSON *cm = cJSON_CreateObject();
	unsigned n = (unsigned)cJSON_GetArraySize(all);
	cJSON_AddItemToObject(cm, "comments", all);
	cJSON_AddNumberToObject(cm, "maxResults", n);
	cJSON_AddNumberToObject(cm, "total", n);
	cJSON_AddNumberToObject(cm, "startAt", 0);
	if (!cJSON_ReplaceItemInObjectCaseSensitive(f, "comment", cm))
		cJSON_Delete(cm);
	jlog_debug("%s: %u comments, read beyond the search's page",
		   cJSON_IsString(k) ? k->valuestring : "?", n);
	return JIRA_OK;
}

/* ---- the count of a query ---------------------------------------------- */

enum jira_status jira_search_total(struct jira_client *c, const char *jql,
				   deadline_t deadline, unsigned *total,
				   struct jira_error *err)
{
	cJSON *j = NULL;
	*total = 0;
	char *body = client_search_body(jql, 0, 0, false, "id");
	if (!body)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	enum jira_status st = jira_request_json(c, "POST", "/rest/api/2/search",
					   body, deadline, true, &j, err);
	free(body);
	if (st != JIRA_OK)
		return st;
	const cJSON *t = json_item(j, "total");
	if (!cJSON_IsNumber(t) || t->valuedouble < 0)
		st = jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
				    "search answer without a total");
	else
		*total = t->valuedouble > UINT_MAX ? UINT_MAX
						  : (unsigned)t->valuedouble;
	cJSON_Delete(j);
	return st;
}

/* ---- one ticket -------------------------------------------------------- */

enum jira_status jira_issue_get(struct jira_client *c, const char *key,
				deadline_t deadline, struct jira_issue **out,
				struct jira_error *err)
{
	struct strbuf path = STRBUF_INIT;
	cJSON *j;
	*out = NULL;
	if (!jira_key_valid(key))
		return jira_error_set(err, JIRA_ERR_NOT_FOUND,
				      "'%s' is not an issue key", key);
	strbuf_addf(&path, "/rest/api/2/issue/%s?fields=", key);
	strbuf_add_urlencoded(&path, JIRA_ISSUE_FIELDS);
	if (path.failed)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	enum jira_status st =
		jira_get_json(c, strbuf_str(&path), deadline, &j, err);
	strbuf_release(&path);
	if (st != JIRA_OK)
		return st;
	if (client_comments_partial(j) &&
	    (st = client_complete_comments(c, j, deadline, err)) != JIRA_OK) {
		cJSON_Delete(j);
		return st;
	}
	char why[128];
	int r = jira_issue_from_json(j, out, why, sizeof(why));
	cJSON_Delete(j);
	if (r == -ENOMEM)
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	if (r)
		return jira_error_set(err, JIRA_ERR_BAD_RESPONSE, "%s: %s",
				      key, why);
	if (strcmp((*out)->key, key) != 0) {
		/* moved to another project: the old key answers with the new
		 * issue; for this key's directory it is gone */
		jira_issue_unref(*out);
		*out = NULL;
		return jira_error_set(err, JIRA_ERR_NOT_FOUND,
				      "%s was moved", key);
	}
	return JIRA_OK;
}
