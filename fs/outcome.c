/*
 * outcome.c - what the outbox reports of records applied, made or refused
 * by its workers, after the close() that wrote them returned: aliases
 * recorded, the tree told, waiting overlays dropped or given the reason.
 */
#include <stdio.h>
#include <string.h>

#include "fs/attach.h"
#include "fs/commit.h"
#include "fs/scan_import.h"

/* Drop the waiting (not refused) overlay of key, once nothing waits. */
static void drop_pending_overlays(struct jirafs *fs, const char *project,
				  const char *key)
{
	if (outbox_pending(fs->outbox, key))
		return;
	for (int closed = 0; closed < 2; closed++) {
		struct fs_node n;
		fs_node_ticket(project, key, closed, &n);
		struct local_node *ln = NULL;
		if (local_get(fs->local, n.dir, n.name, &ln))
			continue;
		struct local_stat st;
		local_node_stat(fs->local, ln, &st);
		if (st.kind == LOCAL_OVERLAY && !st.has_error)
			commit_unlink_if(fs, n.dir, n.name, ln);
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
		if (res->key && op->scan) {
			commit_written(fs, res->key, false, res);
			scan_import_applied(fs, op, res);
			return;
		}
		if (!res->key || !op->alias)
			return;
		fs_dir_name(dir, sizeof(dir), op->project, op->alias_closed);
		/* the draft (if it is still there) becomes the alias */
		local_alias_set(fs->local, dir, op->alias, res->key);
		commit_written(fs, res->key, op->then_close, res);
		local_ticket_error_set(fs->local, res->key, NULL);
		return;
	case JIRA_OP_UPDATE:
	case JIRA_OP_COMMENT:
	case JIRA_OP_CLOSE:
	case JIRA_OP_REOPEN: {
		bool done = op->kind == JIRA_OP_CLOSE;
		if (op->kind != JIRA_OP_CLOSE && op->kind != JIRA_OP_REOPEN)
			tree_where(fs->tree, op->key, &done);
		commit_written(fs, op->key, done, res);
		local_ticket_error_set(fs->local, op->key, NULL);
		drop_pending_overlays(fs, op->project, op->key);
		return;
	}
	case JIRA_OP_ATTACH: {
		bool done = false;
		tree_where(fs->tree, op->key, &done);
		commit_written(fs, op->key, done, res);
		if (fs->attach) {
			attach_spool_remove(fs->attach, op->key, op->name);
			attach_uploaded(fs->attach);
		}
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
	fs_dir_name(dir, sizeof(dir), op->project, op->alias_closed);
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
		if (op->scan) {
			scan_import_refused(fs, op, why);
			return;
		}
		fs_dir_name(dir, sizeof(dir), op->project, op->alias_closed);
		if (res->key && *res->key && op->alias) {
			/* made, then its close was refused: the name is the
			 * ticket's now, so that writing it again updates it */
			local_alias_set(fs->local, dir, op->alias, res->key);
			commit_written(fs, res->key, false, res);
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
			struct fs_node tn;
			fs_node_ticket(op->project, op->key, closed, &tn);
			if (local_get(fs->local, tn.dir, tn.name, &ln) == 0) {
				local_set_error(fs->local, ln, why);
				local_node_unref(fs->local, ln);
			}
		}
		local_ticket_error_set(fs->local, op->key, why);
		return;
	case JIRA_OP_ATTACH:
		/* the reason is in the log and on the ticket */
		if (fs->attach)
			attach_spool_remove(fs->attach, op->key, op->name);
		local_ticket_error_set(fs->local, op->key, why);
		drop_pending_overlays(fs, op->project, op->key);
		return;
	}
}
