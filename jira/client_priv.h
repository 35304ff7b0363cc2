/*
 * client_priv.h - what client.c (requests, the parse gate) shares with
 * search.c (search paging).  Private to jira/; nothing outside it includes
 * this.  Thread-safety as for client.h.
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

/* max_connections as the transport took it: how many pages to fetch at
 * once. */
unsigned client_max_connections(const struct jira_client *c);

#endif
