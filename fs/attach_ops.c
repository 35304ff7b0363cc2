/*
 * attach_ops.c - the requests on PROJECT/attachments/ and below (CONTRACT
 * §11, fs/attach.h): what attr.c and ops.c hand over for the
 * N_ATTACHMENTS, N_ATTACH_DIR and N_ATTACH_FILE nodes.
 *
 * A ticket's directory shows its attachments as Jira lists them in the
 * ticket (fields.attachment: no request beyond the ticket's), and the
 * uploads written there that wait.  Reading downloads on the first read
 * (handle.c calls attach_fetch); a new name written is spooled and, when
 * the writer closes it, an attach record goes through the outbox.
 * Nothing of Jira's is changed or removed here: EPERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/attach.h"
#include "fs/commit.h"
#include "fs/errmap.h"
#include "fs/fs.h"
#include "fs/ops.h"
#include "fs/resolve.h"
#include "util/log.h"
#include "util/map.h"

static int refuse(const struct fs_node *n, int err, const char *what,
		  const char *why)
{
	char path[DIR_LEN + NAME_LEN + 16];
	if (n->kind == N_ATTACH_FILE)
		fs_node_path(n, path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s", n->dir);
	return fs_refuse(err, what, path, why);
}

/* The ticket n is of (its directory's key), wherever it lives. */
static int ticket_of(const struct fs_req *rq, const struct fs_node *n,
		     struct jira_issue **out)
{
	struct jirafs *fs = rq->fs;
	struct project *p;
	bool done = false;
	int ret = fs_project(rq, n, &p);
	if (ret)
		return ret;
	tree_where(fs->tree, n->key, &done);
	ret = tree_ticket(fs->tree, p, n->key, done, false, rq->deadline, out);
	if (ret == -ENOENT)
		ret = tree_ticket(fs->tree, p, n->key, !done, false,
				  rq->deadline, out);
	return ret;
}

static void stat_dir(const struct jirafs *fs, struct stat *st,
		     struct timespec t)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | (0755 & ~fs->umask);
	st->st_nlink = 2;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtim = st->st_ctim = st->st_atim = t;
}

static void stat_attachment(const struct jirafs *fs, struct stat *st,
			    const struct jira_attachment *a)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | (0444 & ~fs->umask);
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = a->size > 0 ? (off_t)a->size : 0;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim = st->st_ctim = st->st_atim = a->created;
}

/* An upload on disk as shown. */
static void stat_upload(const struct jirafs *fs, struct stat *st)
{
	st->st_mode = S_IFREG | (0644 & ~fs->umask);
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_ino = 0;
	st->st_dev = 0;
}

int fs_attach_getattr(const struct fs_req *rq, const struct fs_node *n,
		      struct stat *st)
{
	struct jirafs *fs = rq->fs;
	struct jira_issue *i = NULL;
	struct project *p;
	int ret;
	if (!fs->attach)
		return -ENOENT;
	if (n->kind == N_ATTACHMENTS) {
		if ((ret = fs_project(rq, n, &p)))
			return ret;
		stat_dir(fs, st, fs->mounted_at);
		return 0;
	}
	if (n->kind == N_ATTACH_FILE &&
	    attach_spool_stat(fs->attach, n->key, n->name, st) == 0) {
		stat_upload(fs, st);
		return 0;
	}
	if ((ret = ticket_of(rq, n, &i)))
		return ret;
	if (n->kind == N_ATTACH_DIR) {
		stat_dir(fs, st, i->updated);
	} else {
		struct attach_dir d;
		long k = -1;
		if (!(ret = attach_dir_of(i, &d))) {
			k = attach_dir_find(&d, n->name);
			if (k >= 0)
				stat_attachment(fs, st, &d.a[k]);
			attach_dir_release(&d);
		}
		if (!ret && k < 0)
			ret = -ENOENT;
	}
	jira_issue_unref(i);
	return ret;
}

/* ---- listings ----------------------------------------------------------- */

struct fill {
	struct jirafs *fs;
	fs_fill_fn fill;
	void *ctx;
	bool plus;
	struct map *seen; /* names given */
};

static void fill_once(struct fill *f, const char *name, const struct stat *st)
{
	if (map_get(f->seen, name))
		return;
	map_put(f->seen, name, (void *)1, NULL);
	f->fill(f->ctx, name, f->plus ? st : NULL);
}

static void fill_key(void *arg, const char *key, struct jira_issue *i)
{
	struct fill *f = arg;
	if (i && i->attachments)
		fill_once(f, key, NULL);
}

static void fill_spool_key(void *arg, const char *key)
{
	fill_once(arg, key, NULL);
}

static void fill_upload(void *arg, const char *name, const struct stat *st)
{
	struct fill *f = arg;
	struct stat shown = *st;
	if (!S_ISREG(st->st_mode))
		return;
	stat_upload(f->fs, &shown);
	fill_once(f, name, &shown);
}

int fs_attach_readdir(const struct fs_req *rq, const struct fs_node *n,
		      bool plus, fs_fill_fn fill, void *ctx)
{
	struct jirafs *fs = rq->fs;
	struct fill f = { fs, fill, ctx, plus, map_new() };
	struct project *p;
	int ret;
	if (!f.seen)
		return -ENOMEM;
	if (n->kind == N_ATTACH_FILE) {
		ret = -ENOTDIR;
	} else if (!fs->attach) {
		ret = -ENOENT;
	} else if (n->kind == N_ATTACHMENTS) {
		if (!(ret = fs_project(rq, n, &p)) && project_outside(p))
			ret = refuse(n, -EACCES, "list",
				     "the project is outside projects=");
		if (!ret) {
			fill(ctx, ".", NULL);
			fill(ctx, "..", NULL);
			/* the tickets the listing says have attachments */
			for (int closed = 0; closed < 2 && !ret; closed++)
				ret = tree_tickets(fs->tree, p, closed,
						   rq->deadline, fill_key, &f);
			if (!ret)
				attach_spool_keys(fs->attach, n->project,
						  fill_spool_key, &f);
		}
	} else {
		struct jira_issue *i = NULL;
		struct attach_dir d;
		if (!(ret = ticket_of(rq, n, &i)) &&
		    !(ret = attach_dir_of(i, &d))) {
			fill(ctx, ".", NULL);
			fill(ctx, "..", NULL);
			for (size_t k = 0; k < d.n; k++) {
				struct stat st;
				stat_attachment(fs, &st, &d.a[k]);
				fill_once(&f, d.names[k], &st);
			}
			attach_dir_release(&d);
			attach_spool_list(fs->attach, n->key, fill_upload, &f);
		}
		jira_issue_unref(i);
	}
	map_free(f.seen);
	return ret;
}

/* ---- files -------------------------------------------------------------- */

static int open_upload(struct jirafs *fs, const struct fs_node *n, int flags,
		       struct open_file *of)
{
	char path[PATH_MAX];
	int ret = attach_spool_path(fs->attach, n->key, n->name, path,
				    sizeof(path));
	if (ret)
		return ret;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
		return refuse(n, -EPERM, "write to",
			      "it is being attached; write a new name");
	of->fd = open(path, O_RDONLY | O_CLOEXEC);
	return of->fd < 0 ? -errno : 0;
}

int fs_attach_open(const struct fs_req *rq, const struct fs_node *n,
		   int flags, struct open_file **out)
{
	struct jirafs *fs = rq->fs;
	struct jira_issue *i = NULL;
	struct stat st;
	int ret;
	if (n->kind != N_ATTACH_FILE)
		return -EISDIR;
	if (!fs->attach)
		return -ENOENT;
	struct open_file *of = handle_new(OF_ATTACH, n, rq->pid);
	if (!of)
		return -ENOMEM;
	if (attach_spool_stat(fs->attach, n->key, n->name, &st) == 0) {
		ret = open_upload(fs, n, flags, of);
	} else if (!(ret = ticket_of(rq, n, &i))) {
		struct attach_dir d;
		if (!(ret = attach_dir_of(i, &d))) {
			long k = attach_dir_find(&d, n->name);
			if (k < 0) {
				ret = -ENOENT;
			} else if ((flags & O_ACCMODE) != O_RDONLY ||
				   (flags & (O_TRUNC | O_APPEND))) {
				ret = refuse(n, -EPERM, "write to",
					     "an attachment is not changed "
					     "through the filesystem; attach "
					     "a new file");
			} else if (!(of->att = calloc(1, sizeof(*of->att)))) {
				ret = -ENOMEM;
			} else {
				/* taken whole: the handle owns it */
				*of->att = d.a[k];
				memmove(&d.a[k], &d.a[k + 1],
					(d.n - (size_t)k - 1) * sizeof(*d.a));
				d.n--;
			}
			attach_dir_release(&d);
		}
		jira_issue_unref(i);
	}
	if (ret) {
		handle_free(fs, of);
		return ret;
	}
	*out = of;
	return 0;
}

int fs_attach_create(const struct fs_req *rq, const struct fs_node *n,
		     struct open_file **out)
{
	struct jirafs *fs = rq->fs;
	struct jira_issue *i = NULL;
	char why[512];
	int64_t limit;
	int ret;
	if (n->kind != N_ATTACH_FILE)
		return refuse(n, -EPERM, "create",
			      "attachments/ holds one directory per ticket");
	if (!fs->attach)
		return -ENOENT;
	if ((ret = ticket_of(rq, n, &i)))
		return ret;
	jira_issue_unref(i);
	ret = attach_may_create(fs->attach, n->key, rq->deadline, &limit, why,
				sizeof(why));
	if (ret)
		return refuse(n, ret, "attach", why);
	struct open_file *of = handle_new(OF_ATTACH, n, rq->pid);
	if (!of)
		return -ENOMEM;
	of->emptied = true;
	of->limit = limit;
	ret = attach_spool_create(fs->attach, n->key, n->name, &of->fd);
	if (ret) {
		handle_free(fs, of);
		return ret == -EEXIST ? refuse(n, -EPERM, "create",
					       "it is being attached")
				      : ret;
	}
	*out = of;
	return 0;
}

/* Journal the upload written to of and try it at once; the spooled file
 * goes once it is done or refused (the outbox's callbacks do it for one
 * that waits), or when it cannot be journaled.  Once per handle: the
 * record owns the file from then on. */
static int submit(const struct fs_req *rq, struct open_file *of)
{
	struct jirafs *fs = rq->fs;
	const struct fs_node *n = &of->node;
	char spool[PATH_MAX], path[DIR_LEN + NAME_LEN], why[JIRA_ERROR_MSG_MAX];
	struct stat st;
	struct jira_op_result res;
	struct jira_op *op = NULL;
	int ret = attach_spool_path(fs->attach, n->key, n->name, spool,
				    sizeof(spool));
	of->sent = true;
	if (!ret && fstat(of->fd, &st))
		ret = -errno;
	if (!ret) /* the record may outlive the mount, and a power cut */
		ret = attach_spool_sync(fs->attach, n->key, of->fd);
	if (!ret && (!(op = jira_op_new(JIRA_OP_ATTACH, n->project, n->key,
					spool, strlen(spool))) ||
		     !(op->name = strdup(n->name)))) {
		jira_op_free(op);
		ret = -ENOMEM;
	}
	if (ret) {
		attach_spool_remove(fs->attach, n->key, n->name);
		return ret;
	}
	op->size = st.st_size;
	fs_node_path(n, path, sizeof(path));
	ret = commit_run(rq, op, path, &res, why, sizeof(why));
	if (ret == OUTBOX_QUEUED)
		return 0; /* waits, listed as written */
	if (!ret) {
		bool done = false;
		tree_where(fs->tree, n->key, &done);
		commit_written(fs, n->key, done, &res);
		attach_uploaded(fs->attach);
	}
	/* a refusal: on the ticket too, as a later one would be */
	local_ticket_error_set(fs->local, n->key, ret ? why : NULL);
	jira_op_result_release(&res);
	attach_spool_remove(fs->attach, n->key, n->name);
	return ret;
}

int fs_attach_flush(const struct fs_req *rq, struct open_file *of, bool last)
{
	int werr;
	if (of->att || !rq->fs->attach || of->sent)
		return 0; /* a reader, or handed to the outbox already */
	bool dirty = handle_take_written(of, last, &werr);
	if (werr) {
		/* incomplete (over the limit): nothing is sent */
		of->sent = true;
		attach_spool_remove(rq->fs->attach, of->node.key,
				    of->node.name);
		return werr;
	}
	return dirty ? submit(rq, of) : 0;
}

int fs_attach_unlink(const struct fs_req *rq, const struct fs_node *n)
{
	(void)rq;
	if (n->kind != N_ATTACH_FILE)
		return -EISDIR;
	return refuse(n, -EPERM, "rm",
		      "evidence is not deleted through the filesystem");
}

int fs_attach_rename(const struct fs_node *a)
{
	return refuse(a, -EPERM, "rename",
		      "attachments keep their names and tickets");
}

int fs_attach_truncate(const struct fs_node *n)
{
	if (n->kind != N_ATTACH_FILE)
		return -EISDIR;
	return refuse(n, -EPERM, "truncate",
		      "an attachment is not changed through the filesystem");
}
