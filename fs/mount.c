/* mount.c - set-up and tear-down of a mount; see mount.h. */
#include "fs/mount.h"

#include <string.h>

#include "fs/attach.h"
#include "fs/commit.h"
#include "fs/inval.h"
#include "fs/queries.h"
#include "fs/scans.h"
#include "jira/issue.h"
#include "util/log.h"
#include "util/map.h"

/* The spooled file of an upload record, as "KEY/NAME" (a state
 * directory may be spelt otherwise from one mount to the next). */
static void upload_of(void *ctx, const struct jira_op *op)
{
	const char *t = op->kind == JIRA_OP_ATTACH && op->body
				? strstr(op->body, ATTACH_SPOOL_TAIL)
				: NULL;
	if (t)
		map_put(ctx, t + strlen(ATTACH_SPOOL_TAIL), (void *)1, NULL);
}

static bool upload_kept(void *ctx, const char *path)
{
	return map_get(ctx, path) != NULL;
}

/* The uploads the outbox holds stay; any other spooled one goes. */
static void sweep_uploads(struct jirafs *fs)
{
	struct map *bodies = map_new();
	if (!bodies)
		return;
	outbox_each(fs->outbox, upload_of, bodies);
	attach_spool_sweep(fs->attach, upload_kept, bodies);
	map_free(bodies);
}

void fs_mount_start(struct jirafs *fs, struct fuse_conn_info *conn)
{
	/* open(O_TRUNC) arrives as such: an overwrite, not a truncate */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;

	if (inval_start(fs->inval, fs->se))
		jlog_err("cannot start the kernel cache notifier");
	if (jira_client_new(fs->jira, fs->auth, &fs->client)) {
		jlog_err("cannot set up the Jira client: out of memory");
		return;
	}
	struct tree_config tc = {
		.cache_ttl_ms = (int64_t)fs->cfg.cache_ttl_s * 1000,
		.timeout_ms = (int64_t)fs->jira->timeout_s * 1000,
		.only = fs->cfg.projects,
		.nonly = fs->cfg.nprojects,
		.changed = inval_ticket_changed,
		.ctx = fs->inval,
	};
	fs->tree = tree_new(fs->client, &tc);
	fs->writer = jira_writer_new(fs->client, fs->wcfg);
	char why[512];
	if (jira_text_store_setup(fs->state_dir, fs->cfg.memory_max_bytes, why,
				  sizeof(why)))
		jlog_err("%s; ticket files are all kept in memory", why);
	fs->local = local_new(fs->state_dir);
	fs->scans = scans_new(fs->state_dir);
	/* a query's results refresh in the background as a listing does */
	fs->queries = queries_new(fs->state_dir, fs->client, fs->tree,
				  tc.cache_ttl_ms, tc.timeout_ms * 4,
				  fs->cfg.query_names, fs->cfg.query_jqls,
				  fs->cfg.nqueries);
	fs->attach = attach_new(fs->state_dir, fs->client,
				fs->cfg.attachment_cache_bytes,
				tc.cache_ttl_ms);
	struct outbox_callbacks cb = { fs, fs_outbox_applied, fs_outbox_made,
				       fs_outbox_refused };
	if (fs->writer)
		fs->outbox = outbox_new(fs->state_dir, fs->writer,
					fs->jira->max_connections,
					(int64_t)fs->jira->timeout_s * 1000,
					&cb);
	if (fs->attach && fs->outbox)
		sweep_uploads(fs);
	if (!fs->tree || !fs->writer || !fs->local || !fs->outbox ||
	    !fs->scans || !fs->queries || !fs->attach)
		jlog_err("cannot set up the mount (out of memory, or the "
			 "state directory is unusable)");
	jlog_notice("mounted %s as %s", fs->jira->url,
		    fs->user ? fs->user : "?");
}

/*
 * The order: the kernel is told nothing more; every transfer is cancelled
 * (the tree's background refreshes and the outbox's workers then finish at
 * once); the tree goes (joining its refreshes, which report to nobody
 * now); the outbox's workers are joined, and what waits stays journaled
 * for the next mount; then the local files, the writer and the client.
 */
void fs_mount_stop(struct jirafs *fs)
{
	inval_stop(fs->inval);
	if (fs->client)
		jira_client_cancel(fs->client);
	queries_free(fs->queries); /* its refreshes look at the tree */
	fs->queries = NULL;
	tree_free(fs->tree);
	fs->tree = NULL;
	outbox_free(fs->outbox);
	fs->outbox = NULL;
	scans_free(fs->scans);
	fs->scans = NULL;
	attach_free(fs->attach);
	fs->attach = NULL;
	local_free(fs->local);
	fs->local = NULL;
	jira_writer_free(fs->writer);
	fs->writer = NULL;
	jira_client_free(fs->client);
	fs->client = NULL;
}
