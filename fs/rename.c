/*
 * rename.c - rename(2) in project directories (CONTRACT §4): between KEY/
 * and KEY/closed/ a ticket closes or reopens; a local file renamed onto a
 * ticket name creates or updates (editors and rsync write a temporary and
 * rename it); scratch files, drafts and aliases move as files do.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/commit.h"
#include "fs/errmap.h"
#include "util/log.h"

/* rename of a ticket: between KEY/ and KEY/closed/ it closes or reopens;
 * to a scratch name in its directory it leaves a copy (editors' backups);
 * anything else is refused. */
static int rename_ticket(const struct fs_req *rq, const struct fs_node *a,
			 const struct fs_node *b, struct resolved *ra)
{
	struct jirafs *fs = rq->fs;
	char from[DIR_LEN + NAME_LEN];
	fs_node_path(a, from, sizeof(from));
	if (strcmp(a->project, b->project) != 0)
		return fs_refuse(-EPERM, "rename", from,
				 "a ticket cannot move to another project");
	if (a->closed != b->closed) {
		if (strcmp(a->name, b->name) != 0)
			return fs_refuse(-EPERM, "rename", from,
					 "a ticket keeps its name");
		struct jira_op_result res;
		char why[JIRA_ERROR_MSG_MAX];
		struct jira_op *op = jira_op_new(b->closed ? JIRA_OP_CLOSE
							   : JIRA_OP_REOPEN,
						 a->project, a->key, NULL, 0);
		if (!op)
			return -ENOMEM;
		int ret = commit_run(rq, op, from, &res, why, sizeof(why));
		if (ret == OUTBOX_QUEUED) {
			/* shown where it is going until it gets there */
			tree_pending(fs->tree, a->key, b->closed);
			return 0;
		}
		if (!ret)
			commit_written(fs, a->key, b->closed, &res);
		local_ticket_error_set(fs->local, a->key, ret ? why : NULL);
		jira_op_result_release(&res);
		return ret;
	}
	if (strcmp(a->name, b->name) == 0)
		return 0;
	if (b->ticket_name)
		return fs_refuse(-EPERM, "rename", from,
				 "a ticket keeps its key");
	/* a backup copy by an editor: the ticket stays, the copy is a
	 * scratch file */
	struct local_node *ln = NULL;
	local_unlink(fs->local, b->dir, b->name);
	int ret = local_create(fs->local, b->dir, b->name, LOCAL_SCRATCH, 0644,
			       &ln);
	if (!ret) {
		size_t len = 0;
		char *text = jira_issue_text(ra->issue, &len);
		ret = text ? local_set_content(fs->local, ln, text, len) : -EIO;
		free(text);
		local_node_unref(fs->local, ln);
	}
	return ret;
}

/* rename of a local file onto a ticket name: create or update. */
static int rename_to_ticket(const struct fs_req *rq, const struct fs_node *a,
			    const struct fs_node *b, struct resolved *ra,
			    struct resolved *rb, bool b_exists)
{
	struct jirafs *fs = rq->fs;
	char why[JIRA_ERROR_MSG_MAX] = "";
	char to[DIR_LEN + NAME_LEN];
	fs_node_path(b, to, sizeof(to));
	size_t len;
	int ret;

	if (!b_exists && b->key[0])
		return fs_refuse(-EPERM, "rename", to,
				 "ticket keys are given by Jira; use a new "
				 "name to create a ticket");
	/* not while a close() of the same file applies it */
	if ((ret = local_commit_begin(fs->local, ra->ln, rq->deadline)))
		return ret;
	if (!local_node_linked(fs->local, ra->ln)) {
		local_commit_end(fs->local, ra->ln);
		return -ENOENT;
	}
	char *body = local_content(fs->local, ra->ln, &len);
	if (!body) {
		local_commit_end(fs->local, ra->ln);
		return -ENOMEM;
	}

	if (b_exists && (rb->what == R_TICKET ||
			 (rb->what == R_LOCAL && rb->lst.kind == LOCAL_OVERLAY))) {
		/* onto a ticket (or its refused overwrite): an update */
		struct jira_issue *t = NULL;
		ret = rb->what == R_TICKET ? 0 : fs_ticket_of(rq, b, &t);
		if (!ret)
			ret = commit_update(rq, b, b->key, t ? t : rb->issue, body,
				     len, why, sizeof(why), NULL);
		jira_issue_unref(t);
		if (ret == OUTBOX_QUEUED)
			ret = 0; /* update() shows it in an overlay meanwhile */
		if (!ret) {
			local_unlink(fs->local, a->dir, a->name);
		} else if (local_rename(fs->local, a->dir, a->name, b->dir,
					b->name, LOCAL_OVERLAY) == 0) {
			local_set_error(fs->local, ra->ln, why);
		}
	} else if (b_exists && rb->what == R_LOCAL &&
		   rb->lst.kind == LOCAL_ALIAS) {
		/* onto an alias: an update of the ticket it names */
		char *key = local_alias_key(fs->local, rb->ln);
		struct fs_node tn;
		struct jira_issue *t = NULL;
		ret = key ? 0 : -ENOMEM;
		if (key)
			fs_ticket_node(fs, b, key, &tn);
		if (!ret)
			ret = fs_ticket_of(rq, &tn, &t);
		if (!ret)
			ret = commit_update(rq, &tn, key, t, body, len, why,
				     sizeof(why), NULL);
		jira_issue_unref(t);
		if (ret == OUTBOX_QUEUED)
			ret = 0;
		if (!ret)
			local_unlink(fs->local, a->dir, a->name);
		else
			local_set_error(fs->local, ra->ln, why);
		free(key);
	} else {
		/* a new name (or a draft's): a create */
		ret = commit_create(rq, b, body, len, why, sizeof(why));
		struct local_node *now = NULL;
		struct local_stat nst = { .kind = LOCAL_SCRATCH };
		if (local_get(fs->local, b->dir, b->name, &now) == 0) {
			local_node_stat(fs->local, now, &nst);
			local_node_unref(fs->local, now);
		}
		if (nst.kind == LOCAL_ALIAS) {
			/* the ticket exists (maybe not closed as asked) */
			local_unlink(fs->local, a->dir, a->name);
		} else if (local_rename(fs->local, a->dir, a->name, b->dir,
					b->name, LOCAL_DRAFT) == 0) {
			/* refused, or waiting: the bytes stay under the new
			 * name */
			local_set_error(fs->local, ra->ln,
					ret == OUTBOX_QUEUED ? NULL : why);
		}
		if (ret == OUTBOX_QUEUED)
			ret = 0;
	}
	local_commit_end(fs->local, ra->ln);
	free(body);
	return ret;
}

int fs_rename(const struct fs_req *rq, const struct fs_node *a,
	      const struct fs_node *b, unsigned flags)
{
	struct jirafs *fs = rq->fs;
	struct resolved ra, rb = { 0 };
	char from[DIR_LEN + NAME_LEN];
	fs_node_path(a, from, sizeof(from));
	int ret;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	if ((ret = fs_resolve(rq, a, false, &ra)))
		return ret;
	int rbret = fs_resolve(rq, b, false, &rb);
	if (rbret && rbret != -ENOENT) {
		fs_resolved_release(fs, &ra);
		return rbret;
	}
	bool b_exists = rbret == 0;
	if (b_exists && (flags & RENAME_NOREPLACE)) {
		ret = -EEXIST;
		goto out;
	}
	if (ra.what == R_TICKET) {
		ret = rename_ticket(rq, a, b, &ra);
		goto out;
	}
	if (ra.lst.kind == LOCAL_OVERLAY && a->key[0] &&
	    (b->ticket_name || strcmp(a->project, b->project) != 0)) {
		/* a ticket shown with a write that waits (or was refused) is
		 * renamed as the ticket is: closing or reopening moves the
		 * ticket, and the view with it; another project or key is
		 * refused (never a create of the view's content) */
		bool move = a->closed != b->closed &&
			    strcmp(a->name, b->name) == 0 &&
			    strcmp(a->project, b->project) == 0;
		struct resolved rt = { .what = R_TICKET };
		ret = fs_ticket_of(rq, a, &rt.issue);
		if (!ret)
			ret = rename_ticket(rq, a, b, &rt);
		jira_issue_unref(rt.issue);
		if (!ret && move)
			local_rename(fs->local, a->dir, a->name, b->dir,
				     b->name, LOCAL_OVERLAY);
		goto out;
	}
	if (ra.lst.kind == LOCAL_ALIAS) {
		if (strcmp(a->project, b->project) != 0 ||
		    (b_exists && rb.what == R_TICKET))
			ret = fs_refuse(-EPERM, "rename", from,
					"an alias stays in its project");
		else
			ret = local_rename(fs->local, a->dir, a->name, b->dir,
					   b->name, LOCAL_ALIAS);
		goto out;
	}
	if (!b->ticket_name) {
		ret = local_rename(fs->local, a->dir, a->name, b->dir, b->name,
				   LOCAL_SCRATCH);
		goto out;
	}
	if (ra.lst.kind == LOCAL_DRAFT) {
		char subject[SUBJECT_LEN];
		fs_create_subject(subject, sizeof(subject), a->project,
				  a->closed, a->name);
		if (outbox_pending(fs->outbox, subject)) {
			ret = fs_refuse(-EBUSY, "rename", from,
					"its create waits in the outbox");
			goto out;
		}
	}
	/* a draft renamed to a new name stays a draft: it is created when
	 * it is closed (it may still be open and being written) */
	if (ra.lst.kind == LOCAL_DRAFT && !b->key[0] &&
	    (!b_exists || (rb.what == R_LOCAL && rb.lst.kind == LOCAL_DRAFT))) {
		ret = local_rename(fs->local, a->dir, a->name, b->dir, b->name,
				   LOCAL_DRAFT);
		goto out;
	}
	ret = rename_to_ticket(rq, a, b, &ra, &rb, b_exists);
out:
	fs_resolved_release(fs, &ra);
	fs_resolved_release(fs, &rb);
	return ret;
}

