/*
 * client_priv.h - what client.c (requests, the parse gate), search.c
 * (search paging) and issue_get.c (one ticket, its comments) share.
 * Private to jira/; nothing outside it includes this.  Thread-safety as
 * for client.h.
 */
#ifndef JIRAFS_JIRA_CLIENT_PRIV_H
#define JIRAFS_JIRA_CLIENT_PRIV_H

#include "jira/client.h"
#include "jira/http.h"
#include "jira/status.h"
#include "util/clock.h"

/*
 * An idempotent request (retried as jira_request_json is) whose JSON answer
 * is not parsed but handed over in *raw exactly as it came (\u0000
 * escapes included: json_parse_arena() reads them as U+FFFD; empty for an
 * empty answer; release with http_response_release), for the caller to
 * walk.  On JIRA_OK
 * the calling thread holds a parse slot, and leaves it with
 * client_gate_leave() once it is done with the answer; on failure it holds
 * none.  Waiting for the slot is bounded by the deadline.
 */
enum jira_status client_request_gated(struct jira_client *c,
				      const char *method, const char *path,
				      const char *body, deadline_t deadline,
				      struct http_response *raw,
				      struct jira_error *err);
void client_gate_leave(struct jira_client *c);

/* The body of POST /rest/api/2/search: jql, the page, the fields (a comma
 * list); lenient: keys that no longer exist are no error.  malloc'd. */
char *client_search_body(const char *jql, unsigned start, unsigned max,
			bool lenient, const char *field_spec);
/* Does bean (an IssueBean) hold fewer comments than its ticket has?  Its
 * comment field is a page of them (CommentsWithPaginationJsonBean). */
bool client_comments_partial(const cJSON *bean);
/* Replace bean's comment page by every comment of the ticket, read from
 * GET /rest/api/2/issue/{key}/comment, oldest first, page by page. */
enum jira_status client_complete_comments(struct jira_client *c, cJSON *bean,
					  deadline_t deadline,
					  struct jira_error *err);

/* The transport, for requests that are not JSON (jira/attach.c). */
struct http *client_http(struct jira_client *c);
/* Before retry number `attempt` (0-based) of a transient failure: wait
 * as jira_request_json does (Retry-After, or backoff with jitter); false
 * when the wait would pass the deadline or the retries are used up (then
 * stop), else counted as a retry. */
bool client_retry(struct jira_client *c, const struct jira_error *e,
		  int attempt, deadline_t deadline);

/* max_connections as the transport took it: how many pages to fetch at
 * once. */
unsigned client_max_connections(const struct jira_client *c);

#endif
