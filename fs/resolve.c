/* resolve.c - a name -> a local file or a ticket; see resolve.h. */
#include "fs/resolve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

int fs_ready(const struct jirafs *fs)
{
	return fs->tree && fs->local && fs->writer && fs->outbox ? 0 : -EIO;
}

int fs_project(const struct fs_req *rq, const struct fs_node *n,
	       struct project **p)
{
	int ret = fs_ready(rq->fs);
	return ret ? ret
		   : tree_project(rq->fs->tree, n->project, rq->deadline, p);
}

/* Is r the overlay of a comment waiting in the outbox (not refused)? */
static bool comment_waits(struct jirafs *fs, const struct resolved *r)
{
	return r->lst.kind == LOCAL_OVERLAY && !r->lst.has_error &&
	       local_append_from(fs->local, r->ln) >= 0;
}

/* Is the ticket of alias ln gone from Jira (deleted, or moved to another
 * project)?  Then the alias is dropped, with a line in the log, rather than
 * followed into a name that cannot be written (Jira gives keys).  Only
 * Jira's word counts: an outage keeps the alias. */
static bool alias_gone(const struct fs_req *rq, const struct fs_node *n,
		       struct local_node *ln, struct project *p)
{
	struct jirafs *fs = rq->fs;
	char *key = local_alias_key(fs->local, ln);
	bool done, gone = false;
	if (key && tree_where(fs->tree, key, &done) == -ENOENT) {
		struct jira_issue *i = NULL;
		int r = tree_ticket(fs->tree, p, key, false, true,
				    rq->deadline, &i);
		if (r == -ENOENT)
			r = tree_ticket(fs->tree, p, key, true, true,
					rq->deadline, &i);
		jira_issue_unref(i);
		gone = r == -ENOENT;
	}
	if (gone && local_alias_drop(fs->local, n->dir, n->name) == 0)
		jlog_notice("%s/%s: its ticket %s is gone from Jira (deleted "
			    "or moved): the alias is dropped, and writing the "
			    "name creates a new ticket",
			    n->dir, n->name, key);
	free(key);
	return gone;
}

int fs_resolve(const struct fs_req *rq, const struct fs_node *n,
	       bool appending, struct resolved *r)
{
	struct jirafs *fs = rq->fs;
	struct project *p;
	int ret;
	memset(r, 0, sizeof(*r));
	if ((ret = fs_project(rq, n, &p)))
		return ret;
	if (local_get(fs->local, n->dir, n->name, &r->ln) == 0) {
		local_node_stat(fs->local, r->ln, &r->lst);
		if (r->lst.kind == LOCAL_ALIAS && alias_gone(rq, n, r->ln, p)) {
			local_node_unref(fs->local, r->ln);
			memset(r, 0, sizeof(*r));
			return -ENOENT;
		}
		if (!appending || !n->key[0] || !comment_waits(fs, r)) {
			r->what = R_LOCAL;
			return 0;
		}
		local_node_unref(fs->local, r->ln);
		memset(r, 0, sizeof(*r));
	}
	if (!n->key[0])
		return -ENOENT;
	ret = tree_ticket(fs->tree, p, n->key, n->closed, appending,
			  rq->deadline, &r->issue);
	if (!ret)
		r->what = R_TICKET;
	return ret;
}

void fs_resolved_release(struct jirafs *fs, struct resolved *r)
{
	if (r->ln)
		local_node_unref(fs->local, r->ln);
	jira_issue_unref(r->issue);
	memset(r, 0, sizeof(*r));
}

int fs_ticket_of(const struct fs_req *rq, const struct fs_node *n,
		 struct jira_issue **out)
{
	struct project *p;
	int ret = fs_project(rq, n, &p);
	if (!ret)
		ret = tree_ticket(rq->fs->tree, p, n->key, n->closed, false,
				  rq->deadline, out);
	return ret;
}

void fs_ticket_node(struct jirafs *fs, const struct fs_node *n,
		    const char *key, struct fs_node *tn)
{
	bool done = n->closed;
	tree_where(fs->tree, key, &done);
	fs_node_ticket(n->project, key, done, tn);
}

int fs_alias_target(struct jirafs *fs, const struct fs_node *n,
		    const char *key, char *buf, size_t size)
{
	bool done = n->closed;
	tree_where(fs->tree, key, &done);
	const char *prefix = "";
	if (!n->closed && done)
		prefix = CLOSED_DIR "/";
	else if (n->closed && !done)
		prefix = "../";
	int len = snprintf(buf, size, "%s%s%s", prefix, key, TICKET_SUFFIX);
	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}
