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
#include "fs/outbox.h"
#include "jira/op.h"
#include "jira/write.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

/* "SEC/new.json", for messages. */
static void node_path(const struct node *n, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", n->dir, n->name);
}

/*
 * Check one record and hand it to the outbox, which journals it and tries
 * it at once (op is taken over).  0 (applied: res filled; nothing is sent
 * for a record that changes nothing), OUTBOX_QUEUED (stored, applied
 * later), or -errno with the reason (Jira's words for a refusal) in why and
 * in the log.  res may be filled on failure too (a partial create names
 * its ticket): the caller releases it.
 */
static int run(struct jirafs *fs, struct jira_op *op, const char *path,
	       struct jira_op_result *res, char *why, size_t whysize)
{
	bool empty = false;
	const char *kind = jira_op_kind_name(op->kind);
	memset(res, 0, sizeof(*res));
	struct jira_error err = { 0 };
	int ret = -jira_errno(jira_op_check(op, &empty, &err));
	if (ret || empty) {
		if (ret) {
			snprintf(why, whysize, "%s", err.msg);
			jlog_notice("refused %s of %s: %s", kind, path, why);
		}
		jira_op_free(op);
		return ret;
	}
	ret = outbox_submit(fs->outbox, op, fs_deadline(fs), res, why, whysize);
	if (ret == OUTBOX_QUEUED)
		jlog_notice("%s of %s waits in the outbox: %s", kind, path, why);
	else if (ret == -EINVAL || ret == -EFBIG)
		jlog_notice("Jira refused %s of %s: %s", kind, path, why);
	else if (ret)
		jlog_err("%s of %s failed: %s", kind, path, why);
	else
		jlog_info("%s of %s: done (%s)", kind, path,
			  res->key ? res->key : "-");
	return ret;
}

/* After a change to key: install what was read back, or let the next
 * reader read it back. */
static void written(struct jirafs *fs, const char *key, bool done,
		    struct jira_op_result *res)
{
	if (res && res->issue)
		tree_put(fs->tree, res->issue);
	else
		tree_written(fs->tree, key, done);
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

/* The node of ticket `key` of n's project, where the tree last saw it. */
static void ticket_node(struct jirafs *fs, const struct node *n,
			const char *key, struct node *tn)
{
	bool done = n->closed;
	tree_where(fs->tree, key, &done);
	*tn = *n;
	tn->closed = done;
	snprintf(tn->dir, sizeof(tn->dir), "%s%s", n->project,
		 done ? "/" CLOSED_DIR : "");
	snprintf(tn->name, sizeof(tn->name), "%s%s", key, TICKET_SUFFIX);
	snprintf(tn->key, sizeof(tn->key), "%s", key);
}

/* The ticket n names (skipping local files), as last read. */
static int ticket_of(struct jirafs *fs, const struct node *n,
		     struct jira_issue **out)
{
	struct project *p;
	deadline_t d = fs_deadline(fs);
	int ret = tree_project(fs->tree, n->project, d, &p);
	if (!ret)
		ret = tree_ticket(fs->tree, p, n->key, n->closed, false, d,
				  out);
	return ret;
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
	struct strbuf sb = STRBUF_INIT;
	json_pretty(&sb, t, 0);
	strbuf_addc(&sb, '\n');
	cJSON_Delete(t);
	return strbuf_detach(&sb, outlen);
}

/* Show a write that waits in the outbox under the ticket's name: the new
 * file of an update, or (base given) the ticket with the comment appended
 * as a pending entry of "comments".  It is a view, without error: for an
 * append, append_from is set to its end, so that only bytes appended later
 * are new. */
static void keep_pending_overlay(struct jirafs *fs, const struct node *n,
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
	if (!ln) {
		local_unlink(fs->local, n->dir, n->name);
		if (local_create(fs->local, n->dir, n->name, LOCAL_OVERLAY,
				 0644, &ln))
			return;
	}
	if (base) {
		/* onto what waits already, or onto the ticket */
		size_t have = 0, vlen = 0;
		char *cur = local_content(fs->local, ln, &have);
		bool fresh = !cur || have == 0;
		char *view = fresh ? with_pending_comment(base->text,
							  base->text_len, body,
							  len, &vlen)
				   : with_pending_comment(cur, have, body, len,
							  &vlen);
		if (view) {
			local_set_content(fs->local, ln, view, vlen);
		} else { /* not JSON after all: as written */
			if (fresh)
				local_write(fs->local, ln, base->text,
					    base->text_len, 0, 0);
			local_write(fs->local, ln, body, len, -1, 0);
		}
		free(view);
		free(cur);
	} else {
		local_set_content(fs->local, ln, body, len);
	}
	local_node_stat(fs->local, ln, &st);
	local_set_append_from(fs->local, ln, base ? st.size : (off_t)-1);
	local_set_error(fs->local, ln, NULL);
	local_node_unref(fs->local, ln);
}

/* Update key (as last read: base) with the new file body.  *partial (may
 * be NULL) tells a failure that changed Jira all the same. */
static int update(struct jirafs *fs, const struct node *n, const char *key,
		  const struct jira_issue *base, const char *body, size_t len,
		  char *why, size_t whysize, bool *partial)
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
	if (ret == OUTBOX_QUEUED) {
		/* shown as written until it is applied */
		keep_pending_overlay(fs, n, NULL, body, len);
		return ret;
	}
	if (!ret || res.partial)
		written(fs, key, base->done, &res);
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
static int update_hidden(struct jirafs *fs, const struct node *n,
			 const char *key, const char *body, size_t len,
			 char *why, size_t whysize)
{
	struct node tn;
	struct jira_issue *t = NULL;
	ticket_node(fs, n, key, &tn);
	int ret = ticket_of(fs, &tn, &t);
	if (ret) {
		snprintf(why, whysize, "cannot read %s: %s", key,
			 strerror(-ret));
		return ret;
	}
	ret = update(fs, &tn, key, t, body, len, why, whysize, NULL);
	jira_issue_unref(t);
	if (!ret || ret == OUTBOX_QUEUED)
		local_alias_set(fs->local, n->dir, n->name, key);
	return ret;
}

/* Create a ticket in n's project from body; n's name becomes an alias of
 * it, also when a step after the create failed (a create in closed/ whose
 * close was refused), so that writing the name again updates that ticket.
 * A name whose alias was removed updates its ticket instead. */
static int create(struct jirafs *fs, const struct node *n, const char *body,
		  size_t len, char *why, size_t whysize)
{
	char path[DIR_LEN + NAME_LEN];
	struct jira_op_result res;
	node_path(n, path, sizeof(path));
	char *hidden = local_hidden_alias(fs->local, n->dir, n->name);
	if (hidden) {
		int ret = update_hidden(fs, n, hidden, body, len, why, whysize);
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
	int ret = run(fs, op, path, &res, why, whysize);
	if (ret == OUTBOX_QUEUED)
		return ret; /* the draft stays until the ticket exists */
	if (res.key && *res.key) {
		local_alias_set(fs->local, n->dir, n->name, res.key);
		written(fs, res.key, n->closed && !ret, &res);
		local_ticket_error_set(fs->local, res.key, ret ? why : NULL);
		jlog_info("%s is now an alias of %s", path, res.key);
	}
	jira_op_result_release(&res);
	return ret;
}

/* Post bytes appended to key as one comment. */
static int comment(struct jirafs *fs, const struct node *n, const char *body,
		   size_t len, char *why, size_t whysize)
{
	char path[DIR_LEN + NAME_LEN];
	struct jira_op_result res;
	node_path(n, path, sizeof(path));
	struct jira_op *op =
		jira_op_new(JIRA_OP_COMMENT, n->project, n->key, body, len);
	if (!op)
		return -ENOMEM;
	int ret = run(fs, op, path, &res, why, whysize);
	if (ret == OUTBOX_QUEUED)
		return ret;
	if (!ret && res.key)
		written(fs, n->key, n->closed, &res);
	local_ticket_error_set(fs->local, n->key, ret ? why : NULL);
	jira_op_result_release(&res);
	return ret;
}

/* Keep a refused write of a ticket under the ticket's name: the bytes of
 * an overwrite, or the ticket followed by the bytes appended. */
static void keep_overlay(struct jirafs *fs, const struct node *n,
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
	if (base) {
		local_write(fs->local, ln, base->text, base->text_len, 0, 0);
		local_write(fs->local, ln, body, len, -1, 0);
		local_set_append_from(fs->local, ln, (off_t)base->text_len);
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
static int where(struct jirafs *fs, struct local_node *ln, struct node *n)
{
	char dir[DIR_LEN], name[NAME_LEN], path[DIR_LEN + NAME_LEN + 2];
	if (local_node_where(fs->local, ln, dir, sizeof(dir), name,
			     sizeof(name)))
		return -ENOENT;
	snprintf(path, sizeof(path), "/%s/%s", dir, name);
	int ret = fs_parse_path(path, n);
	return ret ? ret : n->kind == N_ENTRY ? 0 : -ENOENT;
}

static int commit_local(struct jirafs *fs, struct local_node *ln)
{
	char why[JIRA_ERROR_MSG_MAX] = "";
	struct local_stat st;
	struct node n;
	int ret;

	/* one commit of a file at a time: a second writer of the same new
	 * name, or a rename, waits for the create under way */
	if ((ret = local_commit_begin(fs->local, ln, fs_deadline(fs))))
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
		char subject[DIR_LEN + NAME_LEN + 8];
		snprintf(subject, sizeof(subject), "new:%s/%s", n.dir, n.name);
		ret = outbox_pending(fs->outbox, subject)
			      ? outbox_replace_body(fs->outbox, subject, body,
						    len)
			      : create(fs, &n, body, len, why, sizeof(why));
		if (ret == -EBUSY)
			snprintf(why, sizeof(why),
				 "the previous version is being sent to Jira, "
				 "or may have reached it already; write it "
				 "again once it is a ticket");
	} else if (append_from >= 0 && (size_t)append_from <= len) {
		/* appended to a refused or waiting comment: post what is new
		 * (or, after a refusal, all of it again) */
		ret = comment(fs, &n, body + append_from,
			      len - (size_t)append_from, why, sizeof(why));
		if (ret == OUTBOX_QUEUED || !ret)
			local_set_append_from(fs->local, ln, (off_t)len);
		if (!ret && !outbox_pending(fs->outbox, n.key))
			unlink_if(fs, n.dir, n.name, ln);
	} else { /* a refused overwrite written again: retry the update */
		struct jira_issue *t = NULL;
		ret = ticket_of(fs, &n, &t);
		if (ret)
			snprintf(why, sizeof(why), "cannot read %s: %s", n.key,
				 strerror(-ret));
		else
			ret = update(fs, &n, n.key, t, body, len, why,
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

static int commit_ticket(struct jirafs *fs, struct open_file *of)
{
	char why[JIRA_ERROR_MSG_MAX] = "";
	const struct node *n = &of->node;

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
		ret = comment(fs, n, body, len, why, sizeof(why));
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
	ret = update(fs, n, n->key, of->issue, body, len, why, sizeof(why),
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

int fs_commit(struct jirafs *fs, struct open_file *of)
{
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
						  "may be (1 MiB)"
						: strerror(-werr));
		return werr;
	}
	if (!dirty)
		return 0;
	if (of->kind == OF_LOCAL)
		return commit_local(fs, of->ln);
	return commit_ticket(fs, of);
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
		if (ret == OUTBOX_QUEUED) {
			/* shown where it is going until it gets there */
			tree_pending(fs->tree, a->key, b->closed);
			return 0;
		}
		if (!ret)
			written(fs, a->key, b->closed, &res);
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
	int ret;

	if (!b_exists && b->key[0])
		return fs_refuse(-EPERM, "rename", to,
				 "ticket keys are given by Jira; use a new "
				 "name to create a ticket");
	/* not while a close() of the same file applies it */
	if ((ret = local_commit_begin(fs->local, ra->ln, fs_deadline(fs))))
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
		ret = rb->what == R_TICKET ? 0 : ticket_of(fs, b, &t);
		if (!ret)
			ret = update(fs, b, b->key, t ? t : rb->issue, body,
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
		struct node tn;
		struct jira_issue *t = NULL;
		ret = key ? 0 : -ENOMEM;
		if (key)
			ticket_node(fs, b, key, &tn);
		if (!ret)
			ret = ticket_of(fs, &tn, &t);
		if (!ret)
			ret = update(fs, &tn, key, t, body, len, why,
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
		ret = create(fs, b, body, len, why, sizeof(why));
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
		ret = ticket_of(fs, a, &rt.issue);
		if (!ret)
			ret = rename_ticket(fs, a, b, &rt);
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
		char subject[DIR_LEN + NAME_LEN + 8];
		snprintf(subject, sizeof(subject), "new:%s/%s", a->dir,
			 a->name);
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
	ret = rename_to_ticket(fs, a, b, &ra, &rb, b_exists);
out:
	fs_resolved_release(fs, &ra);
	fs_resolved_release(fs, &rb);
	return ret;
}

/* ---- the outbox's reports -------------------------------------------------- */

/* Drop the waiting (not refused) overlay of key, once nothing waits. */
static void drop_pending_overlays(struct jirafs *fs, const char *project,
				  const char *key)
{
	if (outbox_pending(fs->outbox, key))
		return;
	for (int closed = 0; closed < 2; closed++) {
		struct node n = { 0 };
		snprintf(n.project, sizeof(n.project), "%s", project);
		snprintf(n.dir, sizeof(n.dir), "%s%s", project,
			 closed ? "/" CLOSED_DIR : "");
		snprintf(n.name, sizeof(n.name), "%s%s", key, TICKET_SUFFIX);
		struct local_node *ln = NULL;
		if (local_get(fs->local, n.dir, n.name, &ln))
			continue;
		struct local_stat st;
		local_node_stat(fs->local, ln, &st);
		if (st.kind == LOCAL_OVERLAY && !st.has_error)
			unlink_if(fs, n.dir, n.name, ln);
		local_node_unref(fs->local, ln);
	}
}

void fs_outbox_applied(void *ctx, const struct jira_op *op,
		       struct jira_op_result *res)
{
	struct jirafs *fs = ctx;
	char dir[DIR_LEN];
	switch (op->kind) {
	case JIRA_OP_CREATE:
		if (!res->key || !op->alias)
			return;
		snprintf(dir, sizeof(dir), "%s%s", op->project,
			 op->alias_closed ? "/" CLOSED_DIR : "");
		/* the draft (if it is still there) becomes the alias */
		local_alias_set(fs->local, dir, op->alias, res->key);
		written(fs, res->key, op->then_close, res);
		local_ticket_error_set(fs->local, res->key, NULL);
		return;
	case JIRA_OP_UPDATE:
	case JIRA_OP_COMMENT:
	case JIRA_OP_CLOSE:
	case JIRA_OP_REOPEN: {
		bool done = op->kind == JIRA_OP_CLOSE;
		if (op->kind != JIRA_OP_CLOSE && op->kind != JIRA_OP_REOPEN)
			tree_where(fs->tree, op->key, &done);
		written(fs, op->key, done, res);
		local_ticket_error_set(fs->local, op->key, NULL);
		drop_pending_overlays(fs, op->project, op->key);
		return;
	}
	}
}

void fs_outbox_made(void *ctx, const struct jira_op *op,
		    const struct jira_op_result *res)
{
	struct jirafs *fs = ctx;
	char dir[DIR_LEN];
	if (!op->alias)
		return;
	snprintf(dir, sizeof(dir), "%s%s", op->project,
		 op->alias_closed ? "/" CLOSED_DIR : "");
	local_alias_set(fs->local, dir, op->alias, res->key);
}

void fs_outbox_refused(void *ctx, const struct jira_op *op,
		       struct jira_op_result *res, int err, const char *why)
{
	struct jirafs *fs = ctx;
	(void)err;
	char dir[DIR_LEN];
	struct local_node *ln = NULL;
	switch (op->kind) {
	case JIRA_OP_CREATE:
		snprintf(dir, sizeof(dir), "%s%s", op->project,
			 op->alias_closed ? "/" CLOSED_DIR : "");
		if (res->key && *res->key && op->alias) {
			/* made, then its close was refused: the name is the
			 * ticket's now, so that writing it again updates it */
			local_alias_set(fs->local, dir, op->alias, res->key);
			written(fs, res->key, false, res);
			local_ticket_error_set(fs->local, res->key, why);
			return;
		}
		if (op->alias &&
		    local_get(fs->local, dir, op->alias, &ln) == 0) {
			local_set_error(fs->local, ln, why);
			local_node_unref(fs->local, ln);
		}
		return;
	case JIRA_OP_CLOSE:
	case JIRA_OP_REOPEN:
		/* back where Jira has it */
		tree_written(fs->tree, op->key, op->kind != JIRA_OP_CLOSE);
		local_ticket_error_set(fs->local, op->key, why);
		return;
	case JIRA_OP_UPDATE:
	case JIRA_OP_COMMENT:
		/* the waiting overlay keeps the bytes and now the reason */
		for (int closed = 0; closed < 2; closed++) {
			char name[NAME_LEN];
			snprintf(dir, sizeof(dir), "%s%s", op->project,
				 closed ? "/" CLOSED_DIR : "");
			snprintf(name, sizeof(name), "%s%s", op->key,
				 TICKET_SUFFIX);
			if (local_get(fs->local, dir, name, &ln) == 0) {
				local_set_error(fs->local, ln, why);
				local_node_unref(fs->local, ln);
			}
		}
		local_ticket_error_set(fs->local, op->key, why);
		return;
	}
}
