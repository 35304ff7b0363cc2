/*
 * resolve.h - what a name in a project directory is now: a file of jirafs
 * alone (scratch, draft, overlay or alias: fs/local.h), else a ticket of
 * the tree.  A local file of a ticket's name (an overlay) is shown instead
 * of the ticket.
 */
#ifndef JIRAFS_FS_RESOLVE_H
#define JIRAFS_FS_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "fs/local.h"
#include "fs/node.h"
#include "fs/req.h"
#include "jira/issue.h"

struct resolved {
	enum { R_LOCAL, R_TICKET } what;
	struct local_node *ln;    /* R_LOCAL: a reference */
	struct local_stat lst;
	struct jira_issue *issue; /* R_TICKET: a reference */
};

/* 0 when the mount was set up, else -EIO. */
int fs_ready(const struct jirafs *fs);

/* The project n is in (or is), as the tree knows it: 0 or -errno. */
int fs_project(const struct fs_req *rq, const struct fs_node *n,
	       struct project **p);

/* Resolve an N_ENTRY: 0 or -errno (-ENOENT when nothing is there).  With
 * `appending` (O_WRONLY|O_APPEND) the ticket is taken as held (an append
 * reads nothing) and a comment waiting in the outbox is passed over.  An
 * alias whose ticket Jira says is gone is dropped (and -ENOENT).  Release
 * with fs_resolved_release. */
int fs_resolve(const struct fs_req *rq, const struct fs_node *n,
	       bool appending, struct resolved *r);
void fs_resolved_release(struct jirafs *fs, struct resolved *r);

/* The ticket n names, skipping local files, as last read. */
int fs_ticket_of(const struct fs_req *rq, const struct fs_node *n,
		 struct jira_issue **out);

/* The node of ticket key of n's project, where the tree last saw it. */
void fs_ticket_node(struct jirafs *fs, const struct fs_node *n,
		    const char *key, struct fs_node *tn);

/* The target of an alias in n's directory to key ("SEC-1.json",
 * "closed/SEC-1.json" or "../SEC-1.json"): 0 or -ENAMETOOLONG. */
int fs_alias_target(struct jirafs *fs, const struct fs_node *n,
		    const char *key, char *buf, size_t size);

#endif
