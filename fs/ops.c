/* ops.c - directories, opening, reading and writing, names; see ops.h.
 * What a close() or a rename applies is fs/commit.h's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/commit.h"
#include "fs/ctl.h"
#include "fs/errmap.h"
#include "fs/ops.h"
#include "fs/queries.h"
#include "fs/resolve.h"
#include "fs/scan_import.h"
#include "fs/scans.h"
#include "jira/op.h"
#include "util/log.h"

int fs_refuse_name(const struct fs_node *n, const char *what,
		   const char *why)
{
	char path[DIR_LEN + NAME_LEN];
	fs_node_path(n, path, sizeof(path));
	return fs_refuse(-EPERM, what, path, why);
}

int fs_readlink(const struct fs_req *rq, const struct fs_node *n, char *buf,
		size_t size)
{
	struct jirafs *fs = rq->fs;
	struct resolved r;
	int ret;

	if (fs_node_is_query(n))
		return fs_query_readlink(rq, n, buf, size);
	if (n->kind != N_ENTRY)
		return -EINVAL;
	if ((ret = fs_resolve(rq, n, false, &r)))
		return ret;
	char *key = r.what == R_LOCAL ? local_alias_key(fs->local, r.ln)
				      : NULL;
	ret = key ? fs_alias_target(fs, n, key, buf, size) : -EINVAL;
	free(key);
	fs_resolved_release(fs, &r);
	return ret;
}

/* ---- directories -------------------------------------------------------- */

struct fill_ctx {
	struct jirafs *fs;
	const struct fs_node *dir;
	fs_fill_fn fill;
	void *ctx;
	bool plus;
};

static void fill_name(void *arg, const char *name)
{
	struct fill_ctx *c = arg;
	c->fill(c->ctx, name, NULL);
}

static void fill_ticket_entry(void *arg, const char *key,
			      struct jira_issue *i)
{
	struct fill_ctx *c = arg;
	char name[NAME_LEN];
	fs_ticket_name(name, sizeof(name), key);
	/* a local file of the same name (an overlay) is listed instead */
	if (local_exists(c->fs->local, c->dir->dir, name))
		return;
	if (c->plus && i) {
		struct stat st;
		fs_stat_ticket(c->fs, &st, i);
		c->fill(c->ctx, name, &st);
	} else {
		c->fill(c->ctx, name, NULL);
	}
}

static void fill_local_entry(void *arg, const char *name,
			     const struct local_stat *l)
{
	struct fill_ctx *c = arg;
	if (c->plus && l->kind != LOCAL_ALIAS) {
		struct stat st;
		fs_stat_local(c->fs, &st, l, 0);
		c->fill(c->ctx, name, &st);
	} else {
		c->fill(c->ctx, name, NULL);
	}
}

static void fill_scan_entry(void *arg, const char *name,
			    const struct stat *st)
{
	struct fill_ctx *c = arg;
	struct stat shown = *st;
	fs_stat_scan(c->fs, &shown);
	c->fill(c->ctx, name, c->plus ? &shown : NULL);
}

int fs_readdir(const struct fs_req *rq, const struct fs_node *n, bool plus,
	       struct tree_cursor *cur, fs_fill_fn fill, void *ctx)
{
	struct jirafs *fs = rq->fs;
	struct project *p;
	int ret;
	struct fill_ctx c = { fs, n, fill, ctx, plus };

	switch (n->kind) {
	case N_ROOT:
		fill(ctx, ".", NULL);
		fill(ctx, "..", NULL);
		fill(ctx, CTL_DIR, NULL);
		fill(ctx, QUERIES_DIR, NULL);
		if ((ret = fs_ready(fs)))
			return ret;
		return tree_projects(fs->tree, rq->deadline, fill_name, &c);
	case N_CTL_DIR:
		fill(ctx, ".", NULL);
		fill(ctx, "..", NULL);
		fill(ctx, "status", NULL);
		fill(ctx, "log", NULL);
		fill(ctx, "outbox", NULL);
		return 0;
	case N_CTL_OUTBOX:
		fill(ctx, ".", NULL);
		fill(ctx, "..", NULL);
		if (fs->outbox)
			outbox_list(fs->outbox, fill_name, &c);
		return 0;
	case N_PROJECT:
	case N_CLOSED:
		if ((ret = fs_project(rq, n, &p)))
			return ret;
		if (project_outside(p))
			return fs_refuse(-EACCES, "list", n->dir,
					 "the project is outside projects=; "
					 "only tickets a search links to are "
					 "shown");
		if (!cur || !cur->streaming) { /* not more of a stream */
			fill(ctx, ".", NULL);
			fill(ctx, "..", NULL);
			if (n->kind == N_PROJECT) {
				fill(ctx, CLOSED_DIR, NULL);
				fill(ctx, SCANS_DIR, NULL);
				fill(ctx, ATTACH_DIR, NULL);
			}
		}
		ret = cur ? tree_tickets_stream(fs->tree, p, n->closed,
						rq->deadline, cur,
						fill_ticket_entry, &c)
			  : tree_tickets(fs->tree, p, n->closed, rq->deadline,
					 fill_ticket_entry, &c);
		if (!ret)
			local_list(fs->local, n->dir, fill_local_entry, &c);
		return ret;
	case N_SCANS:
		if ((ret = fs_project(rq, n, &p)))
			return ret;
		fill(ctx, ".", NULL);
		fill(ctx, "..", NULL);
		return scans_list(fs->scans, n->project, fill_scan_entry, &c);
	case N_QUERIES:
	case N_QUERY_DIR:
		return fs_query_readdir(rq, n, fill, ctx);
	case N_ATTACHMENTS:
	case N_ATTACH_DIR:
	case N_ATTACH_FILE:
		return fs_attach_readdir(rq, n, plus, fill, ctx);
	case N_ENTRY:
	case N_CTL_FILE:
	case N_CTL_OUTBOX_FILE:
	case N_SCAN_FILE:
	case N_QUERY_FILE:
	case N_QUERY_LINK:
		return -ENOTDIR;
	case N_CTL_INNER:
	case N_TOP_ENTRY:
	case N_NONE:
		break;
	}
	return -ENOENT;
}

/* ---- files -------------------------------------------------------------- */

static int open_local(struct jirafs *fs, struct resolved *r, int flags,
		      struct open_file *of)
{
	if (r->lst.kind == LOCAL_ALIAS)
		return -ELOOP; /* the kernel follows symlinks itself */
	of->kind = OF_LOCAL;
	of->ln = r->ln;
	r->ln = NULL;
	if (flags & O_TRUNC)
		return local_truncate(fs->local, of->ln, 0,
				      handle_local_limit(r->lst.kind));
	return 0;
}

static int open_ticket_write(struct resolved *r, int flags,
			     struct open_file *of)
{
	of->kind = OF_TICKET_WRITE;
	of->issue = r->issue;
	r->issue = NULL;
	of->append = (flags & O_APPEND) != 0;
	if (of->append)
		return 0;
	/* O_TRUNC starts from nothing; a shell opens, dup2()s and closes
	 * before writing, so only what is written makes an update */
	if (flags & O_TRUNC)
		return 0;
	/* written in place: start from the ticket as it is */
	return jira_issue_text_to(of->issue, &of->buf);
}

/* Hand of out, or free it when ret says the open failed.  Returns ret. */
static int opened(struct jirafs *fs, struct open_file *of, int ret,
		  struct open_file **out)
{
	if (ret) {
		handle_free(fs, of);
		return ret;
	}
	*out = of;
	return 0;
}

int fs_open(const struct fs_req *rq, const struct fs_node *n, int flags,
	    struct open_file **out)
{
	struct jirafs *fs = rq->fs;
	struct resolved r = { 0 };
	int ret;

	if (fs_node_is_query(n))
		return fs_query_open(rq, n, flags, false, out);
	if (fs_node_is_attach(n))
		return fs_attach_open(rq, n, flags, out);
	bool writing = (flags & O_ACCMODE) != O_RDONLY ||
		       (flags & (O_TRUNC | O_APPEND));
	struct open_file *of = handle_new(OF_CTL, n, rq->pid);
	if (!of)
		return -ENOMEM;
	switch (n->kind) {
	case N_CTL_FILE:
	case N_CTL_OUTBOX_FILE:
		if (writing) {
			ret = -EROFS;
			break;
		}
		of->data = ctl_text(fs, n, &of->len);
		ret = of->data ? 0 : n->kind == N_CTL_FILE ? -ENOMEM : -ENOENT;
		break;
	case N_ENTRY:
		if ((ret = fs_resolve(rq, n,
				      (flags & O_ACCMODE) == O_WRONLY &&
					      (flags & O_APPEND),
				      &r)))
			break;
		if (r.what == R_LOCAL) {
			ret = open_local(fs, &r, flags, of);
		} else if (writing) {
			ret = open_ticket_write(&r, flags, of);
		} else {
			of->kind = OF_TICKET_READ;
			of->issue = r.issue;
			r.issue = NULL;
			/* kept packed: unpacked once for this open */
			of->data = jira_issue_text(of->issue, &of->len);
			if (!of->data)
				ret = -EIO;
		}
		fs_resolved_release(fs, &r);
		break;
	case N_SCAN_FILE:
		of->kind = OF_SCAN;
		of->emptied = (flags & O_TRUNC) != 0;
		ret = scans_open(fs->scans, n->project, n->name, flags,
				 &of->fd);
		break;
	case N_NONE:
	case N_CTL_INNER:
	case N_TOP_ENTRY:
		ret = -ENOENT;
		break;
	default:
		ret = -EISDIR;
		break;
	}
	return opened(fs, of, ret, out);
}

static int create_scan(const struct fs_req *rq, const struct fs_node *n,
		       struct open_file **out)
{
	struct jirafs *fs = rq->fs;
	struct project *p;
	char path[DIR_LEN + NAME_LEN];
	int ret = fs_project(rq, n, &p);
	if (ret)
		return ret;
	fs_node_path(n, path, sizeof(path));
	if (project_outside(p))
		return fs_refuse(-EACCES, "create", path,
				 "the project is outside projects=");
	if (scans_is_result(n->name))
		return fs_refuse(-EACCES, "create", path,
				 "results are written by jirafs");
	struct open_file *of = handle_new(OF_SCAN, n, rq->pid);
	if (!of)
		return -ENOMEM;
	of->emptied = true;
	ret = scans_open(fs->scans, n->project, n->name,
			 O_RDWR | O_CREAT | O_TRUNC, &of->fd);
	return opened(fs, of, ret, out);
}

int fs_create(const struct fs_req *rq, const struct fs_node *n, mode_t mode,
	      struct open_file **out)
{
	struct jirafs *fs = rq->fs;
	struct project *p;
	char path[DIR_LEN + NAME_LEN];
	int ret;

	fs_node_path(n, path, sizeof(path));
	if (fs_node_is_ctl(n))
		return fs_refuse(-EROFS, "create", path,
				 ".jirafs/ is read-only");
	if (n->kind == N_TOP_ENTRY)
		return fs_refuse(-EPERM, "create", n->name,
				 "only projects live at the top");
	if (n->kind == N_SCAN_FILE)
		return create_scan(rq, n, out);
	if (fs_node_is_query(n))
		return fs_query_open(rq, n, O_RDWR, true, out);
	if (fs_node_is_attach(n))
		return fs_attach_create(rq, n, out);
	if (n->kind != N_ENTRY)
		return -ENOENT;
	if ((ret = fs_project(rq, n, &p)))
		return ret;
	if (project_outside(p))
		return fs_refuse(-EACCES, "create", path,
				 "the project is outside projects=; only "
				 "tickets a search links to are reached there");
	if (n->key[0]) {
		/* its own key: Jira hands out keys, they cannot be chosen */
		bool done;
		return fs_refuse(-EPERM, "create", path,
				 tree_where(fs->tree, n->key, &done) == 0
					 ? "the ticket is in the other "
					   "directory"
					 : "ticket keys are given by Jira; "
					   "write a new name to create one");
	}
	struct open_file *of = handle_new(OF_LOCAL, n, rq->pid);
	if (!of)
		return -ENOMEM;
	/* only what is written makes a ticket: an empty new file stays a
	 * draft (shells open, dup2() and close before writing); a draft is a
	 * ticket to be, so its mode is a ticket's, whoever made it */
	ret = local_create(fs->local, n->dir, n->name,
			   n->ticket_name ? LOCAL_DRAFT : LOCAL_SCRATCH,
			   n->ticket_name ? 0666 & ~fs->umask : mode, &of->ln);
	return opened(fs, of, ret, out);
}

ssize_t fs_read(struct jirafs *fs, struct open_file *of, char *buf,
		size_t size, off_t off)
{
	return handle_read(fs, of, buf, size, off);
}

ssize_t fs_write(struct jirafs *fs, struct open_file *of, const char *buf,
		 size_t size, off_t off, int flags)
{
	ssize_t w = handle_write(fs, of, buf, size, off,
				 (flags & O_APPEND) != 0);
	if (w == -EFBIG) {
		char path[DIR_LEN + NAME_LEN], why[128];
		fs_node_path(&of->node, path, sizeof(path));
		if (of->kind == OF_ATTACH)
			snprintf(why, sizeof(why),
				 "Jira takes files of at most %lld bytes; "
				 "nothing will be sent",
				 (long long)of->limit);
		else
			snprintf(why, sizeof(why),
				 "a ticket file is limited to "
				 JIRA_MAX_BODY_TEXT);
		fs_refuse((int)w, "write to", path, why);
	}
	return w;
}

/* A report written: import it (once per writing).  A shell opens, dup2()s
 * and closes before the program writes, so a flush of nothing imports
 * nothing; but a report created or truncated and let go empty (a scanner
 * that died before writing) is refused, for the log and the attribute. */
static int import_scan(const struct fs_req *rq, struct open_file *of,
		       bool last)
{
	int werr;
	bool dirty = handle_take_written(of, last, &werr);
	if (!dirty && !werr)
		return 0;
	if (scans_is_scratch(of->node.name) || scans_is_result(of->node.name))
		return 0;
	char path[DIR_LEN + NAME_LEN];
	fs_node_path(&of->node, path, sizeof(path));
	if (werr == -EFBIG) {
		char why[128];
		snprintf(why, sizeof(why),
			 "a report is limited to %lld MiB; nothing was "
			 "imported",
			 (long long)(SCANS_MAX_REPORT >> 20));
		scans_set_error(rq->fs->scans, of->node.project, of->node.name,
				why);
		return fs_refuse(werr, "import", path, why);
	}
	if (werr)
		return werr;
	return scan_import(rq, &of->node, of->fd);
}

/*
 * close().  What was written is applied when the process that opened the
 * file closes it, so that its close() reports a refusal; a child that
 * inherited the descriptor (`script >> file` running commands) closing its
 * copy applies nothing yet.  Whatever is left is applied when the last
 * descriptor goes (release).
 */
int fs_flush(const struct fs_req *rq, struct open_file *of)
{
	if (!handle_opener(of, rq->pid))
		return 0;
	if (of->node.kind == N_QUERY_FILE)
		return fs_query_flush(rq, of, false);
	if (of->kind == OF_ATTACH)
		return fs_attach_flush(rq, of, false);
	if (of->kind == OF_SCAN)
		return import_scan(rq, of, false);
	return fs_commit(rq, of);
}

void fs_release(const struct fs_req *rq, struct open_file *of)
{
	if (!of) /* let go already, at the end of the mount */
		return;
	/* nobody hears this result: fs_commit logs and keeps refusals */
	if (of->node.kind == N_QUERY_FILE)
		fs_query_flush(rq, of, true);
	else if (of->kind == OF_ATTACH)
		fs_attach_flush(rq, of, true);
	else if (of->kind == OF_SCAN)
		import_scan(rq, of, true);
	else
		fs_commit(rq, of);
	handle_free(rq->fs, of);
}

/* ---- names -------------------------------------------------------------- */

/* rm of a draft whose create waits: cancel it if it never left, else
 * refuse (it may exist in Jira already, and will be applied once). */
static int cancel_create(struct jirafs *fs, const struct fs_node *n,
			 const char *path)
{
	char subject[SUBJECT_LEN], why[JIRA_ERROR_MSG_MAX];
	fs_create_subject(subject, sizeof(subject), n->project, n->closed,
			  n->name);
	int ret = outbox_cancel(fs->outbox, subject, why, sizeof(why));
	if (ret == -ENOENT)
		return 0;
	if (ret == 0) {
		jlog_notice("rm %s: its create was cancelled: %s", path, why);
		return 0;
	}
	return fs_refuse(ret, "rm", path, why);
}

int fs_unlink(const struct fs_req *rq, const struct fs_node *n)
{
	struct jirafs *fs = rq->fs;
	struct resolved r;
	char path[DIR_LEN + NAME_LEN];
	int ret;

	if (fs_node_is_ctl(n))
		return -EROFS;
	if (fs_node_is_query(n))
		return fs_query_unlink(rq, n);
	if (fs_node_is_attach(n))
		return fs_attach_unlink(rq, n);
	if (n->kind == N_SCAN_FILE) {
		fs_node_path(n, path, sizeof(path));
		ret = scans_unlink(fs->scans, n->project, n->name);
		return ret == -EPERM ? fs_refuse(ret, "rm", path,
						 "results are jirafs's; the "
						 "next import replaces it")
				     : ret;
	}
	if (n->kind != N_ENTRY)
		return n->kind == N_NONE || n->kind == N_TOP_ENTRY ? -ENOENT
								   : -EISDIR;
	if ((ret = fs_resolve(rq, n, false, &r)))
		return ret;
	fs_node_path(n, path, sizeof(path));
	if (r.what == R_LOCAL && r.lst.kind == LOCAL_DRAFT && fs->outbox)
		ret = cancel_create(fs, n, path);
	if (ret)
		; /* the create stays queued */
	else if (r.what == R_LOCAL)
		ret = local_unlink(fs->local, n->dir, n->name);
	else
		ret = fs_refuse(-EPERM, "rm", path,
				"Jira tickets are not deleted through the "
				"filesystem");
	fs_resolved_release(fs, &r);
	return ret;
}

/* Within one scans/: a temporary renamed to a report's name (rsync,
 * atomic writers) is imported under its new name. */
static int rename_scan(const struct fs_req *rq, const struct fs_node *a,
		       const struct fs_node *b, unsigned flags)
{
	struct jirafs *fs = rq->fs;
	char from[DIR_LEN + NAME_LEN];
	fs_node_path(a, from, sizeof(from));
	if (a->kind != N_SCAN_FILE || b->kind != N_SCAN_FILE ||
	    strcmp(a->project, b->project) != 0)
		return fs_refuse(-EPERM, "rename", from,
				 "reports move only within their scans/");
	if (flags)
		return -EINVAL;
	int ret = scans_rename(fs->scans, a->project, a->name, b->name);
	if (ret == -EPERM)
		return fs_refuse(ret, "rename", from,
				 "results are written by jirafs");
	if (ret || scans_is_scratch(b->name) || !scans_is_scratch(a->name))
		return ret;
	int fd;
	if ((ret = scans_open(fs->scans, b->project, b->name, O_RDONLY, &fd)))
		return ret;
	ret = scan_import(rq, b, fd);
	close(fd);
	return ret;
}

int fs_rename_node(const struct fs_req *rq, const struct fs_node *a,
		   const struct fs_node *b, unsigned flags)
{
	char from[DIR_LEN + NAME_LEN];
	int ret;

	fs_node_path(a, from, sizeof(from));
	if (fs_node_is_ctl(a) || fs_node_is_ctl(b))
		return fs_refuse(-EROFS, "rename", from,
				 ".jirafs/ is read-only");
	if (a->kind == N_SCAN_FILE || b->kind == N_SCAN_FILE)
		return rename_scan(rq, a, b, flags);
	if (fs_node_is_attach(a) || fs_node_is_attach(b))
		return fs_attach_rename(fs_node_is_attach(a) ? a : b);
	struct fs_node real;
	if (a->kind == N_QUERY_LINK && b->kind == N_ENTRY) {
		/* mv queries/NAME/SEC-12.json SEC/closed/: the ticket moves */
		if ((ret = fs_query_link_node(rq, a, &real)))
			return ret;
		a = &real;
		fs_node_path(a, from, sizeof(from));
	} else if (fs_node_is_query(a) || fs_node_is_query(b)) {
		return fs_query_rename(rq, a, b, flags);
	}
	if (a->kind != N_ENTRY || b->kind != N_ENTRY)
		return fs_refuse(-EPERM, "rename",
				 a->kind == N_ENTRY ? from : a->name,
				 "only files in project directories move");
	if ((ret = fs_ready(rq->fs)))
		return ret;
	return fs_rename(rq, a, b, flags);
}
