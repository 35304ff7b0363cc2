/*
 * attach.h - a ticket's attachments in Jira (CONTRACT §11): what the
 * server allows, the metadata a ticket file carries, a download into a
 * file, an upload from one, and the look an upload whose outcome is
 * unknown takes before it is sent again.
 *
 *   GET  /rest/api/2/attachment/meta            enabled, uploadLimit
 *   GET  /rest/api/2/mypermissions?issueKey=K&permissions=CREATE_ATTACHMENTS
 *   GET  the attachment's content URL           /secure/attachment/ID/NAME
 *   POST /rest/api/2/issue/K/attachments        multipart/form-data, part
 *        "file", with X-Atlassian-Token: no-check (Jira's XSRF check)
 *
 * Downloads and uploads stream between the connection and a file: neither
 * is ever whole in memory.  Thread-safe; bounded by the deadline given.
 */
#ifndef JIRAFS_JIRA_ATTACH_H
#define JIRAFS_JIRA_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "jira/client.h"

/* One attachment as a ticket file's fields.attachment shows it. */
struct jira_attachment {
	char *id;          /* "10003" */
	char *filename;    /* as Jira has it (anything, "../x" included) */
	int64_t size;      /* bytes, -1 when Jira gave none */
	struct timespec created;
};

/* The attachments of a ticket file (its text, CONTRACT §3), in id order
 * (the order they were made).  0 (n may be 0), -ENOMEM, or -EINVAL when
 * the text is no ticket file. */
int jira_attachments_of(const char *text, size_t len,
			struct jira_attachment **out, size_t *n);
void jira_attachments_free(struct jira_attachment *a, size_t n);

/* Whether attachments are on, and the largest file Jira takes (bytes, 0:
 * none said). */
enum jira_status jira_attach_meta(struct jira_client *c, deadline_t d,
				  bool *enabled, int64_t *limit,
				  struct jira_error *err);

/* May the account attach files to key? */
enum jira_status jira_attach_allowed(struct jira_client *c, const char *key,
				     deadline_t d, bool *allowed,
				     struct jira_error *err);

/* Download attachment a into fd (from offset 0, truncated first),
 * retried while transient.  A body of another length than a->size is
 * JIRA_ERR_BAD_RESPONSE; a write to fd that fails, JIRA_ERR_INTERNAL with
 * the errno's text. */
enum jira_status jira_attach_download(struct jira_client *c,
				      const struct jira_attachment *a, int fd,
				      deadline_t d, struct jira_error *err);

/* Attach len bytes of fd (from offset 0) to key under name, sent once
 * (no retry: the caller looks first, jira_attach_find).  `salt` (hex)
 * makes the multipart boundary.  The name goes RFC 2047-encoded when it
 * holds anything a multipart header would change (Jira decodes it). */
enum jira_status jira_attach_upload(struct jira_client *c, const char *key,
				    const char *name, int fd, off_t len,
				    const char *salt, deadline_t d,
				    struct jira_error *err);

/* Is there on key an attachment of this name and size created since
 * since_ms (wall clock)?  A lookup's failure is returned as it is. */
enum jira_status jira_attach_find(struct jira_client *c, const char *key,
				  const char *name, int64_t size,
				  int64_t since_ms, deadline_t d, bool *found,
				  struct jira_error *err);

/* The Content-Disposition file name of name, as jira_attach_upload sends
 * it (exposed for unit tests): name itself, or "=?UTF-8?B?...?=".
 * malloc'd, NULL when out of memory. */
char *jira_attach_wire_name(const char *name);

#endif
