/*
 * issue_text.h - where ticket files are kept: between issue.c, which
 * builds and frees struct jira_issue, and issue_text.c, which packs their
 * texts.  The public half (jira_issue_text(), the store's set-up and
 * figures) is in issue.h.
 */
#ifndef JIRAFS_JIRA_ISSUE_TEXT_H
#define JIRAFS_JIRA_ISSUE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "jira/issue.h"

/* How a text is kept (struct jira_issue's zform). */
enum { ZF_RAW, ZF_ZSTD, ZF_ZSTD_DICT };

/* A text packed by text_pack(): the bytes to keep (in the calling
 * thread's buffer, valid until its next text_pack()), their form, and
 * whether they belong in memory (else text_spill() must place them). */
struct packed {
	const char *bytes;
	size_t len;
	unsigned char form;
	bool memory;
};

/* Pack the ticket file text (len bytes) of a ticket about to be built:
 * compressed when that saves space, and counted against memory_max.
 * 0 or -ENOMEM. */
int text_pack(const char *text, size_t len, struct packed *out);
/* Write p (not p->memory) to the spill file: its offset, or -1 when that
 * failed (the text must then be kept in memory, over the limit). */
long long text_spill(const struct packed *p);
/* i is being freed: give back what its text took. */
void text_release(const struct jira_issue *i);

#endif
