/*
 * write.c - turning what users write into operation records and applying
 * them (CONTRACT §4).
 *
 *   close() of a new *.json file  -> create (the name becomes an alias)
 *   close() after O_APPEND        -> comment
 *   close() after an overwrite    -> update (only what changed)
 *   rename between KEY/ and closed/ -> close / reopen
 *   rename of a scratch file onto a ticket name -> create or update
 *
 * Each record is checked first (no network); a refusal leaves the bytes
 * written under the name as a draft or overlay, with the reason in
 * user.jira.error and .jirafs/log.  After each change the tree is told, so
 * that the next read shows it (read-your-writes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/errmap.h"
#include "fs/internal.h"
#include "jira/op.h"
#include "jira/write.h"
#include "util/log.h"

/* "SEC/new.json", for messages. */
static void node_path(const struct node *n, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", n->dir, n->name);
}

/*
 * Check and apply one record.  0 (res filled; nothing sent when the record
 * changes nothing), or -errno with the reason (Jira's words for a refusal)
 * in why and in the log.
 */
static int run(struct jirafs *fs, struct jira_op *op, const char *path,
	       struct jira_op_result *res, char *why, size_t whysize)
{
	bool empty = false;
	memset(res, 0, sizeof(*res));
	int ret = jira_op_check(op, &empty, why, whysize);
	if (ret) {
		jlog_notice("refused %s of %s: %s", jira_op_kind_name(op->kind),
			    path, why);
		return ret;
	}
	if (empty) {
		jlog_debug("%s of %s changes nothing", jira_op_kind_name(op->kind),
			   path);
		return 0;
	}
	struct jira_error err = { 0 };
	enum jira_status st =
		jira_writer_apply(fs->writer, op, fs_deadline(fs), res, &err);
	if (st != JIRA_OK) {
		snprintf(why, whysize, "%s", err.msg);
		if (st == JIRA_ERR_BAD_REQUEST || st == JIRA_ERR_TOO_LARGE)
			jlog_notice("Jira refused %s of %s: %s",
				    jira_op_kind_name(op->kind), path, err.msg);
		else
			jlog_err("%s of %s failed: %s",
				 jira_op_kind_name(op->kind), path, err.msg);
		jira_op_result_release(res);
		return -jira_errno(st);
	}
	jlog_info("%s of %s: done (%s)", jira_op_kind_name(op->kind), path,
		  res->key ? res->key : "-");
	return 0;
}

/* After a change to key: install what was read back, or let the next
 * reader read it back. */
static void written(struct jirafs *fs, const char *key, bool done,
		    struct jira_op_result *res)
{
	if (res->issue)
		tree_put(fs->tree, res->issue);
	else
		tree_written(fs->tree, key, done);
	local_ticket_error_set(fs->local, key, NULL);
}

/* Remove `name` from dir if it is still node ln. */
static void unlink_if(struct jirafs *fs, const char *dir, const char *name,
		      struct local_node *ln)
{
	struct local_node *cur = NULL;
	if (local_get(fs->local, dir, name, &cur) == 0) {
		if (cur == ln)
			local_unlink(fs->local, dir, name);
		local_node_unref(fs->local, cur);
	}
}

int fs_alias_target(struct jirafs *fs, const struct node *n,
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

/* ---- the records -------------------------------------------------------- */

/* Create a ticket in n's project from body; on success n's name becomes an
 * alias of it. */
static int create(struct jirafs *fs, const struct node *n, const char *body,
		  size_t len, char *why, size_t whysize)
{
	char path[DIR_LEN + NAME_LEN];
	struct jira_op_result res;
	node_path(n, path, sizeof(path));
	struct jira_op *op =
		jira_op_new(JIRA_OP_CREATE, n->project, NULL, body, len);
	if (!op || !(op->alias = strdup(n->name))) {
		jira_op_free(op);
		return -ENOMEM;
	}
	op->alias_closed = n->closed;
	op->then_close = n->closed;
	int ret = run(fs, op, path, &res, why, whysize);
	jira_op_free(op);
	if (ret)
		return ret;
	if (!res.key) { /* an empty create cannot happen; be safe */
		jira_op_result_release(&res);
		return -EIO;
	}
	local_alias_set(fs->local, n->dir, n->name, res.key);
	written(fs, res.key, n->closed, &res);
	jlog_info("%s is now an alias of %s", path, res.key);
	jira_op_result_release(&res);
	return 0;
}

/* A refused overwrite shown under n's name is obsolete once an update of
 * the ticket went through. */
static void drop_overlay(struct jirafs *fs, const struct node *n)
{
	struct local_node *ln = NULL;
	struct local_stat st;
	if (local_get(fs->local, n->dir, n->name, &ln))
		return;
	local_node_stat(fs->local, ln, &st);
	if (st.kind == LOCAL_OVERLAY)
		unlink_if(fs, n->dir, n->name, ln);
	local_node_unref(fs->local, ln);
}

/* Update key (as last read: base) with the new file body. */
static int update(struct jirafs *fs, const struct node *n, const char *key,
		  const struct jira_issue *base, const char *body, size_t len,
		  char *why, size_t whysize)
{
	char path[DIR_LEN + NAME_LEN];
	struct jira_op_result res;
	node_path(n, path, sizeof(path));
	struct jira_op *op =
		jira_op_new(JIRA_OP_UPDATE, n->project, key, body, len);
	if (!op || !(op->base = strdup(base->text))) {
		jira_op_free(op);
		return -ENOMEM;
	}
	int ret = run(fs, op, path, &res, why, whysize);
	jira_op_free(op);
	if (!ret && res.key)
		written(fs, key, base->done, &res);
	jira_op_result_release(&res);
	if (!ret)
		drop_overlay(fs, n);
	return ret;
}

/* Keep a refused overwrite of a ticket under the ticket's name. */
static void keep_overlay(struct jirafs *fs, const struct node *n,
			 const char *body, size_t len, const char *why)
{
	struct local_node *ln = NULL;
	local_unlink(fs->local, n->dir, n->name);
	if (local_create(fs->local, n->dir, n->name, LOCAL_OVERLAY, 0644,
			 &ln) == 0) {
		local_set_content(fs->local, ln, body, len);
		local_set_error(fs->local, ln, why);
		local_node_unref(fs->local, ln);
	}
}

/* The ticket n names (skipping local files), as last read. */
static int ticket_of(struct jirafs *fs, const struct node *n,
		     struct jira_issue **out)
{
	struct project *p;
	deadline_t d = fs_deadline(fs);
	int ret = tree_project(fs->tree, n->project, d, &p);
	if (!ret)
		ret = tree_ticket(fs->tree, p, n->key, n->closed, d, out);
	return ret;
}

/* ---- close() ------------------------------------------------------------ */

static int commit_local(struct jirafs *fs, struct open_file *of)
{
	struct local_stat st;
	char why[JIRA_ERROR_MSG_MAX] = "";
	int ret = 0;

	local_node_stat(fs->local, of->ln, &st);
	if (st.kind == LOCAL_SCRATCH || st.kind == LOCAL_ALIAS ||
	    !local_node_linked(fs->local, of->ln))
		return 0;
	size_t len;
	char *body = local_content(fs->local, of->ln, &len);
	if (!body)
		return -ENOMEM;
	if (st.kind == LOCAL_DRAFT) {
		ret = create(fs, &of->node, body, len, why, sizeof(why));
		if (!ret)
			unlink_if(fs, of->node.dir, of->node.name, of->ln);
	} else { /* an overlay written again: retry the update */
		struct jira_issue *t = NULL;
		ret = ticket_of(fs, &of->node, &t);
		if (ret)
			snprintf(why, sizeof(why), "cannot read %s: %s",
				 of->node.key, strerror(-ret));
		else
			ret = update(fs, &of->node, of->node.key, t, body, len,
				     why, sizeof(why));
		jira_issue_unref(t);
		if (!ret)
			unlink_if(fs, of->node.dir, of->node.name, of->ln);
	}
	if (ret)
		local_set_error(fs->local, of->ln, why);
	else
		local_set_error(fs->local, of->ln, NULL);
	free(body);
	return ret;
}

static int commit_ticket(struct jirafs *fs, struct open_file *of, char *body,
			 size_t len)
{
	char why[JIRA_ERROR_MSG_MAX] = "";
	char path[DIR_LEN + NAME_LEN];
	const struct node *n = &of->node;
	node_path(n, path, sizeof(path));

	if (of->append) {
		struct jira_op_result res;
		struct jira_op *op = jira_op_new(JIRA_OP_COMMENT, n->project,
						 n->key, body, len);
		if (!op)
			return -ENOMEM;
		int ret = run(fs, op, path, &res, why, sizeof(why));
		jira_op_free(op);
		if (!ret && res.key)
			written(fs, n->key, n->closed, &res);
		else if (ret)
			local_ticket_error_set(fs->local, n->key, why);
		jira_op_result_release(&res);
		return ret;
	}
	int ret = update(fs, n, n->key, of->issue, body, len, why,
			 sizeof(why));
	if (ret)
		keep_overlay(fs, n, body, len, why);
	return ret;
}

int fs_commit(struct jirafs *fs, struct open_file *of)
{
	if (of->kind != OF_LOCAL && of->kind != OF_TICKET_WRITE)
		return 0;
	pthread_mutex_lock(&of->lock);
	bool dirty = of->dirty;
	int werr = of->write_error;
	of->dirty = false;
	of->write_error = 0;
	if (werr) {
		/* what was written is incomplete: apply nothing */
		pthread_mutex_unlock(&of->lock);
		if (of->kind == OF_LOCAL)
			local_set_error(fs->local, of->ln,
					werr == -EFBIG
						? "larger than a ticket file "
						  "may be (1 MiB)"
						: strerror(-werr));
		return werr;
	}
	size_t len = of->buf.len;
	char *body = NULL;
	if (dirty && of->kind == OF_TICKET_WRITE) {
		body = malloc(len + 1);
		if (body) {
			if (len)
				memcpy(body, of->buf.buf, len);
			body[len] = '\0';
		}
	}
	pthread_mutex_unlock(&of->lock);
	if (!dirty)
		return 0;
	if (of->kind == OF_LOCAL)
		return commit_local(fs, of);
	if (!body)
		return -ENOMEM;
	int ret = commit_ticket(fs, of, body, len);
	free(body);
	return ret;
}

/* ---- rename() ----------------------------------------------------------- */

/* rename of a ticket: between KEY/ and KEY/closed/ it closes or reopens;
 * to a scratch name in its directory it leaves a copy (editors' backups);
 * anything else is refused. */
static int rename_ticket(struct jirafs *fs, const struct node *a,
			 const struct node *b, struct resolved *ra)
{
	char from[DIR_LEN + NAME_LEN];
	node_path(a, from, sizeof(from));
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
		int ret = run(fs, op, from, &res, why, sizeof(why));
		jira_op_free(op);
		if (!ret)
			written(fs, a->key, b->closed, &res);
		else
			local_ticket_error_set(fs->local, a->key, why);
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
		ret = local_set_content(fs->local, ln, ra->issue->text,
					ra->issue->text_len);
		local_node_unref(fs->local, ln);
	}
	return ret;
}

/* rename of a local file onto a ticket name: create or update. */
static int rename_to_ticket(struct jirafs *fs, const struct node *a,
			    const struct node *b, struct resolved *ra,
			    struct resolved *rb, bool b_exists)
{
	char why[JIRA_ERROR_MSG_MAX] = "";
	char to[DIR_LEN + NAME_LEN];
	node_path(b, to, sizeof(to));
	size_t len;
	char *body = local_content(fs->local, ra->ln, &len);
	int ret;
	if (!body)
		return -ENOMEM;

	if (b_exists && (rb->what == R_TICKET ||
			 (rb->what == R_LOCAL && rb->lst.kind == LOCAL_OVERLAY))) {
		/* onto a ticket (or its refused overwrite): an update */
		struct jira_issue *t = NULL;
		ret = rb->what == R_TICKET ? 0 : ticket_of(fs, b, &t);
		if (!ret)
			ret = update(fs, b, b->key, t ? t : rb->issue, body,
				     len, why, sizeof(why));
		jira_issue_unref(t);
		if (!ret) {
			local_unlink(fs->local, a->dir, a->name);
			if (rb->what == R_LOCAL)
				local_unlink(fs->local, b->dir, b->name);
		} else if (local_rename(fs->local, a->dir, a->name, b->dir,
					b->name, LOCAL_OVERLAY) == 0) {
			local_set_error(fs->local, ra->ln, why);
		}
		free(body);
		return ret;
	}
	if (b_exists && rb->what == R_LOCAL && rb->lst.kind == LOCAL_ALIAS) {
		/* onto an alias: an update of the ticket it names */
		char *key = local_alias_key(fs->local, rb->ln);
		struct node tn = *b;
		bool done = b->closed;
		ret = key ? 0 : -ENOMEM;
		if (key) {
			tree_where(fs->tree, key, &done);
			tn.closed = done;
			snprintf(tn.dir, sizeof(tn.dir), "%s%s", b->project,
				 done ? "/" CLOSED_DIR : "");
			snprintf(tn.name, sizeof(tn.name), "%s%s", key,
				 TICKET_SUFFIX);
			snprintf(tn.key, sizeof(tn.key), "%s", key);
		}
		struct jira_issue *t = NULL;
		if (!ret)
			ret = ticket_of(fs, &tn, &t);
		if (!ret)
			ret = update(fs, &tn, key, t, body, len, why,
				     sizeof(why));
		jira_issue_unref(t);
		if (!ret)
			local_unlink(fs->local, a->dir, a->name);
		else
			local_set_error(fs->local, ra->ln, why);
		free(key);
		free(body);
		return ret;
	}
	if (b->key[0]) {
		free(body);
		return fs_refuse(-EPERM, "rename", to,
				 "ticket keys are given by Jira; use a new "
				 "name to create a ticket");
	}
	/* a new name: a create */
	ret = create(fs, b, body, len, why, sizeof(why));
	free(body);
	if (!ret) {
		local_unlink(fs->local, a->dir, a->name);
		return 0;
	}
	if (local_rename(fs->local, a->dir, a->name, b->dir, b->name,
			 LOCAL_DRAFT) == 0)
		local_set_error(fs->local, ra->ln, why);
	return ret;
}

int fs_rename(struct jirafs *fs, const struct node *a, const struct node *b,
	      unsigned flags)
{
	struct resolved ra, rb = { 0 };
	deadline_t d = fs_deadline(fs);
	char from[DIR_LEN + NAME_LEN];
	node_path(a, from, sizeof(from));
	int ret;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	if ((ret = fs_resolve(fs, a, d, &ra)))
		return ret;
	int rbret = fs_resolve(fs, b, d, &rb);
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
		ret = rename_ticket(fs, a, b, &ra);
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
	ret = rename_to_ticket(fs, a, b, &ra, &rb, b_exists);
out:
	fs_resolved_release(fs, &ra);
	fs_resolved_release(fs, &rb);
	return ret;
}
