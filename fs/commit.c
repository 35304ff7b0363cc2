/* commit.c - close() into operation records; see commit.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/commit.h"
#include "fs/errmap.h"
#include "jira/write.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

int commit_run(const struct fs_req *rq, struct jira_op *op,
	       const char *path, struct jira_op_result *res, char *why,
	       size_t whysize)
{
	bool empty = false;
	const char *kind = jira_op_kind_name(op->kind);
	struct jira_error err = { 0 };
	memset(res, 0, sizeof(*res));
	int ret = -fs_errno(jira_op_check(op, &empty, &err));
	if (ret || empty) {
		if (ret) {
			snprintf(why, whysize, "%s", err.msg);
			jlog_notice("refused %s of %s (checked, not sent): %s",
				    kind, path, why);
		}
		jira_op_free(op);
		return ret;
	}
	ret = outbox_submit(rq->fs->outbox, op, rq->deadline, res, &err);
	snprintf(why, whysize, "%s", err.msg);
	if (ret == OUTBOX_QUEUED)
		jlog_notice("%s of %s waits in the outbox: %s", kind, path, why);
	else if (ret && err.http_status >= 400 && err.http_status < 500)
		jlog_notice("Jira refused %s of %s (HTTP %ld): %s", kind, path,
			    err.http_status, why);
	else if (ret)
		jlog_err("%s of %s failed: %s", kind, path, why);
	else
		jlog_info("%s of %s: done (%s)", kind, path,
			  res->key ? res->key : "-");
	return ret;
}

void commit_written(struct jirafs *fs, const char *key, bool done,
		    struct jira_op_result *res)
{
	if (res && res->issue)
		tree_put(fs->tree, res->issue);
	else
		tree_written(fs->tree, key, done);
}

void commit_unlink_if(struct jirafs *fs, const char *dir, const char *name,
		      struct local_node *ln)
{
	struct local_node *cur = NULL;
	if (local_get(fs->local, dir, name, &cur) == 0) {
		if (cur == ln)
			local_unlink(fs->local, dir, name);
		local_node_unref(fs->local, cur);
	}
}

/* ---- the records -------------------------------------------------------- */

/* A refused overwrite shown under n's name is obsolete once an update of
 * the ticket went through. */
static void drop_overlay(struct jirafs *fs, const struct fs_node *n)
{
	struct local_node *ln = NULL;
	struct local_stat st;
	if (local_get(fs->local, n->dir, n->name, &ln))
		return;
	local_node_stat(fs->local, ln, &st);
	if (st.kind == LOCAL_OVERLAY)
		commit_unlink_if(fs, n->dir, n->name, ln);
	local_node_unref(fs->local, ln);
}

/* The ticket file `ticket` with the comment `bytes` (as appended) added as
 * an entry of "comments" without an id, marked "pending": true, so that the
 * file stays one JSON object (jq works on it) while the comment waits.
 * NULL when either does not parse. */
static char *with_pending_comment(const char *ticket, size_t len,
				  const char *bytes, size_t blen,
				  size_t *outlen)
{
	cJSON *payload = NULL;
	cJSON *t = cJSON_ParseWithLength(ticket, len);
	if (!cJSON_IsObject(t) ||
	    jira_comment_payload(bytes, blen, &payload, NULL) ||
	    !payload) {
		cJSON_Delete(t);
		cJSON_Delete(payload);
		return NULL;
	}
	cJSON *list = cJSON_GetObjectItemCaseSensitive(t, "comments");
	if (!cJSON_IsArray(list)) {
		cJSON_DeleteItemFromObjectCaseSensitive(t, "comments");
		list = cJSON_AddArrayToObject(t, "comments");
	}
	cJSON_AddTrueToObject(payload, "pending");
	cJSON_AddItemToArray(list, payload);
	char *text = json_file_text(t, outlen);
	cJSON_Delete(t);
	return text;
}

/* Show a write that waits in the outbox under the ticket's name: the new
 * file of an update, or (base given) the ticket with the comment appended
 * as a pending entry of "comments".  It is a view, without error: for an
 * append, append_from is set to its end, so that only bytes appended later
 * are new. */
static void keep_pending_overlay(struct jirafs *fs, const struct fs_node *n,
				 const struct jira_issue *base,
				 const char *body, size_t len)
{
	struct local_node *ln = NULL;
	struct local_stat st;
	if (base && local_get(fs->local, n->dir, n->name, &ln) == 0) {
		local_node_stat(fs->local, ln, &st);
		if (st.kind != LOCAL_OVERLAY ||
		    local_append_from(fs->local, ln) < 0) {
			local_node_unref(fs->local, ln);
			ln = NULL;
		}
	}
	/* the view, onto what waits already or onto the ticket */
	size_t have = 0, vlen = 0;
	char *cur = ln ? local_content(fs->local, ln, &have) : NULL;
	char *view = NULL;
	if (!base) {
		vlen = len;
		view = malloc(len + 1);
		if (view)
			memcpy(view, body, len);
	} else if (cur && have) {
		view = with_pending_comment(cur, have, body, len, &vlen);
	} else {
		size_t blen = 0;
		free(cur);
		if ((cur = jira_issue_text(base, &blen)))
			view = with_pending_comment(cur, blen, body, len, &vlen);
		have = blen;
	}
	if (!view && base && cur) { /* not JSON after all: as written */
		struct strbuf sb = STRBUF_INIT;
		strbuf_add(&sb, cur, have);
		strbuf_add(&sb, body, len);
		view = strbuf_detach(&sb, &vlen);
	}
	free(cur);
	if (!view) {
		if (ln)
			local_node_unref(fs->local, ln);
		return;
	}
	/* an append's view ends where the next new bytes would start */
	off_t append_from = base ? (off_t)vlen : (off_t)-1;
	if (ln) {
		local_set_view(fs->local, ln, view, vlen, append_from);
		local_node_unref(fs->local, ln);
	} else {
		local_unlink(fs->local, n->dir, n->name);
		local_create_view(fs->local, n->dir, n->name, view, vlen,
				  append_from, NULL);
	}
	free(view);
}

/* Update key (as last read: base) with the new file body.  *partial (may
 * be NULL) tells a failure that changed Jira all the same. */
int commit_update(const struct fs_req *rq, const struct fs_node *n,
		  const char *key, const struct jira_issue *base,
		  const char *body, size_t len, char *why, size_t whysize,
		  bool *partial)
{
	struct jirafs *fs = rq->fs;
	char path[DIR_LEN + NAME_LEN];
	struct jira_op_result res;
	fs_node_path(n, path, sizeof(path));
	struct jira_op *op =
		jira_op_new(JIRA_OP_UPDATE, n->project, key, body, len);
	if (!op || !(op->base = jira_issue_text(base, NULL))) {
		jira_op_free(op);
		return -ENOMEM;
	}
	int ret = commit_run(rq, op, path, &res, why, whysize);
	if (ret == OUTBOX_QUEUED) {
		/* shown as written until it is applied */
		keep_pending_overlay(fs, n, NULL, body, len);
		return ret;
	}
	if (!ret || res.partial)
		commit_written(fs, key, base->done, &res);
	if (partial)
		*partial = ret && res.partial;
	local_ticket_error_set(fs->local, key, ret ? why : NULL);
	jira_op_result_release(&res);
	if (!ret)
		drop_overlay(fs, n);
	return ret;
}

/* Update the ticket behind the removed alias n (tools like rsync -a and
 * install replace a symlink) and put the alias back. */
static int update_hidden(const struct fs_req *rq, const struct fs_node *n,
			 const char *key, const char *body, size_t len,
			 char *why, size_t whysize)
{
	struct jirafs *fs = rq->fs;
	struct fs_node tn;
	struct jira_issue *t = NULL;
	fs_ticket_node(fs, n, key, &tn);
	int ret = fs_ticket_of(rq, &tn, &t);
	if (ret) {
		snprintf(why, whysize, "cannot read %s: %s", key,
			 strerror(-ret));
		return ret;
	}
	ret = commit_update(rq, &tn, key, t, body, len, why, whysize, NULL);
	jira_issue_unref(t);
	if (!ret || ret == OUTBOX_QUEUED)
		local_alias_set(fs->local, n->dir, n->name, key);
	return ret;
}

/* Create a ticket in n's project from body; n's name becomes an alias of
 * it, also when a step after the create failed (a create in closed/ whose
 * close was refused), so that writing the name again updates that ticket.
 * A name whose alias was removed updates its ticket instead. */
int commit_create(const struct fs_req *rq, const struct fs_node *n,
		  const char *body, size_t len, char *why, size_t whysize)
{
	struct jirafs *fs = rq->fs;
	char path[DIR_LEN + NAME_LEN];
	struct jira_op_result res;
	fs_node_path(n, path, sizeof(path));
	char *hidden = local_hidden_alias(fs->local, n->dir, n->name);
	if (hidden) {
		int ret = update_hidden(rq, n, hidden, body, len, why, whysize);
		if (ret != -ENOENT) {
			free(hidden);
			return ret;
		}
		/* its ticket is gone from Jira: a new one */
		local_alias_drop(fs->local, n->dir, n->name);
		jlog_notice("%s: the ticket of its removed alias, %s, is gone "
			    "from Jira: the alias is dropped, a new ticket "
			    "is created",
			    path, hidden);
		free(hidden);
	}
	struct jira_op *op =
		jira_op_new(JIRA_OP_CREATE, n->project, NULL, body, len);
	if (!op || !(op->alias = strdup(n->name))) {
		jira_op_free(op);
		return -ENOMEM;
	}
	op->alias_closed = n->closed;
	op->then_close = n->closed;
	int ret = commit_run(rq, op, path, &res, why, whysize);
	if (ret == OUTBOX_QUEUED)
		return ret; /* the draft stays until the ticket exists */
	if (res.key && *res.key) {
		local_alias_set(fs->local, n->dir, n->name, res.key);
		commit_written(fs, res.key, n->closed && !ret, &res);
		local_ticket_error_set(fs->local, res.key, ret ? why : NULL);
		jlog_info("%s is now an alias of %s", path, res.key);
	}
	jira_op_result_release(&res);
	return ret;
}

/* Post bytes appended to key as one comment. */
static int comment(const struct fs_req *rq, const struct fs_node *n,
		   const char *body, size_t len, char *why, size_t whysize)
{
	struct jirafs *fs = rq->fs;
	char path[DIR_LEN + NAME_LEN];
	struct jira_op_result res;
	fs_node_path(n, path, sizeof(path));
	struct jira_op *op =
		jira_op_new(JIRA_OP_COMMENT, n->project, n->key, body, len);
	if (!op)
		return -ENOMEM;
	int ret = commit_run(rq, op, path, &res, why, whysize);
	if (ret == OUTBOX_QUEUED)
		return ret;
	if (!ret && res.key)
		commit_written(fs, n->key, n->closed, &res);
	local_ticket_error_set(fs->local, n->key, ret ? why : NULL);
	jira_op_result_release(&res);
	return ret;
}

/* Keep a refused write of a ticket under the ticket's name: the bytes of
 * an overwrite, or the ticket followed by the bytes appended. */
static void keep_overlay(struct jirafs *fs, const struct fs_node *n,
			 const struct jira_issue *base, const char *body,
			 size_t len, const char *why)
{
	struct local_node *ln = NULL;
	off_t append_from = -1;
	if (local_get(fs->local, n->dir, n->name, &ln) == 0) {
		/* a refused append after another: keep appending */
		append_from = base ? local_append_from(fs->local, ln) : -1;
		if (append_from >= 0)
			local_write(fs->local, ln, body, len, -1, 0);
		local_node_unref(fs->local, ln);
		ln = NULL;
		if (append_from >= 0)
			goto error;
		local_unlink(fs->local, n->dir, n->name);
	}
	if (local_create(fs->local, n->dir, n->name, LOCAL_OVERLAY, 0644, &ln))
		return;
	size_t blen = 0;
	char *btext = base ? jira_issue_text(base, &blen) : NULL;
	if (btext) {
		local_write(fs->local, ln, btext, blen, 0, 0);
		local_write(fs->local, ln, body, len, -1, 0);
		local_set_append_from(fs->local, ln, (off_t)blen);
		free(btext);
	} else {
		local_set_content(fs->local, ln, body, len);
	}
	local_node_unref(fs->local, ln);
error:
	if (local_get(fs->local, n->dir, n->name, &ln) == 0) {
		local_set_error(fs->local, ln, why);
		local_node_unref(fs->local, ln);
	}
}

/* ---- close() ------------------------------------------------------------ */

/* The node of a local file as it is named now. */
static int where(struct jirafs *fs, struct local_node *ln, struct fs_node *n)
{
	char dir[DIR_LEN], name[NAME_LEN];
	if (local_node_where(fs->local, ln, dir, sizeof(dir), name,
			     sizeof(name)))
		return -ENOENT;
	return fs_node_at(dir, name, n);
}

static int commit_local(const struct fs_req *rq, struct local_node *ln)
{
	struct jirafs *fs = rq->fs;
	char why[JIRA_ERROR_MSG_MAX] = "";
	struct local_stat st;
	struct fs_node n;
	int ret;

	/* one commit of a file at a time: a second writer of the same new
	 * name, or a rename, waits for the create under way */
	if ((ret = local_commit_begin(fs->local, ln, rq->deadline)))
		return ret;
	local_node_stat(fs->local, ln, &st);
	if (st.kind == LOCAL_SCRATCH || st.kind == LOCAL_ALIAS ||
	    where(fs, ln, &n)) {
		local_commit_end(fs->local, ln); /* nothing (left) to apply */
		return 0;
	}
	size_t len;
	char *body = local_content(fs->local, ln, &len);
	if (!body) {
		local_commit_end(fs->local, ln);
		return -ENOMEM;
	}
	off_t append_from = local_append_from(fs->local, ln);
	if (st.kind == LOCAL_DRAFT) {
		/* written again while its create waits: the create takes the
		 * new content */
		char subject[SUBJECT_LEN];
		fs_create_subject(subject, sizeof(subject), n.project,
				  n.closed, n.name);
		ret = outbox_pending(fs->outbox, subject)
			      ? outbox_replace_body(fs->outbox, subject, body,
						    len)
			      : commit_create(rq, &n, body, len, why, sizeof(why));
		if (ret == -EBUSY)
			snprintf(why, sizeof(why),
				 "the previous version is being sent to Jira, "
				 "or may have reached it already; write it "
				 "again once it is a ticket");
	} else if (append_from >= 0 && (size_t)append_from <= len) {
		/* appended to a refused or waiting comment: post what is new
		 * (or, after a refusal, all of it again) */
		ret = comment(rq, &n, body + append_from,
			      len - (size_t)append_from, why, sizeof(why));
		if (ret == OUTBOX_QUEUED || !ret)
			local_set_append_from(fs->local, ln, (off_t)len);
		if (!ret && !outbox_pending(fs->outbox, n.key))
			commit_unlink_if(fs, n.dir, n.name, ln);
	} else { /* a refused overwrite written again: retry the update */
		struct jira_issue *t = NULL;
		ret = fs_ticket_of(rq, &n, &t);
		if (ret)
			snprintf(why, sizeof(why), "cannot read %s: %s", n.key,
				 strerror(-ret));
		else
			ret = commit_update(rq, &n, n.key, t, body, len, why,
				     sizeof(why), NULL);
		jira_issue_unref(t);
	}
	if (ret == OUTBOX_QUEUED)
		ret = 0;
	local_set_error(fs->local, ln, ret ? why : NULL);
	local_commit_end(fs->local, ln);
	free(body);
	return ret;
}

static int commit_ticket(const struct fs_req *rq, struct open_file *of)
{
	struct jirafs *fs = rq->fs;
	char why[JIRA_ERROR_MSG_MAX] = "";
	const struct fs_node *n = &of->node;

	pthread_mutex_lock(&of->lock);
	size_t len = of->buf.len;
	char *body = malloc(len + 1);
	if (body) {
		if (len)
			memcpy(body, of->buf.buf, len);
		body[len] = '\0';
		/* the bytes appended are taken: sent, or kept in an overlay */
		if (of->append && len) {
			memmove(of->buf.buf, of->buf.buf + len,
				of->buf.len - len);
			of->buf.len -= len;
			of->buf.buf[of->buf.len] = '\0';
		}
	}
	bool same = !of->append && of->committed && body &&
		    strcmp(of->committed, body) == 0;
	pthread_mutex_unlock(&of->lock);
	if (!body)
		return -ENOMEM;
	if (same) {
		free(body);
		return 0;
	}
	int ret;
	if (of->append) {
		ret = comment(rq, n, body, len, why, sizeof(why));
		if (ret == OUTBOX_QUEUED) {
			keep_pending_overlay(fs, n, of->issue, body, len);
			ret = 0;
		} else if (ret) {
			keep_overlay(fs, n, of->issue, body, len, why);
		}
		free(body);
		return ret;
	}
	bool partial = false;
	ret = commit_update(rq, n, n->key, of->issue, body, len, why, sizeof(why),
		     &partial);
	if (ret == OUTBOX_QUEUED)
		ret = 0; /* update() shows it in an overlay meanwhile */
	if (ret) {
		/* refused: the bytes stay; partly applied: the ticket shows
		 * what Jira has, and the reason is in user.jira.error */
		if (!partial)
			keep_overlay(fs, n, NULL, body, len, why);
		free(body);
	} else {
		pthread_mutex_lock(&of->lock);
		free(of->committed);
		of->committed = body;
		pthread_mutex_unlock(&of->lock);
	}
	return ret;
}

int fs_commit(const struct fs_req *rq, struct open_file *of)
{
	struct jirafs *fs = rq->fs;
	if (of->kind != OF_LOCAL && of->kind != OF_TICKET_WRITE)
		return 0;
	pthread_mutex_lock(&of->lock);
	bool dirty = of->dirty;
	int werr = of->write_error;
	of->dirty = false;
	of->write_error = 0;
	pthread_mutex_unlock(&of->lock);
	if (werr) {
		/* what was written is incomplete: apply nothing */
		if (of->kind == OF_LOCAL)
			local_set_error(fs->local, of->ln,
					werr == -EFBIG
						? "larger than a ticket file "
						  "may be (" JIRA_MAX_BODY_TEXT
						  ")"
						: strerror(-werr));
		return werr;
	}
	if (!dirty)
		return 0;
	if (of->kind == OF_LOCAL)
		return commit_local(rq, of->ln);
	return commit_ticket(rq, of);
}

