/*
 * query_ops.c - the requests on /queries/ and below (fs/queries.h): what
 * attr.c and ops.c hand over for the N_QUERIES, N_QUERY_FILE, N_QUERY_DIR
 * and N_QUERY_LINK nodes.  A text is a file on disk, opened as a scan
 * report is (OF_SCAN: its descriptor); closing it after a write has Jira
 * validate it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "fs/fs.h"
#include "fs/ops.h"
#include "fs/queries.h"

static void path_of(const struct fs_node *n, char *buf, size_t size)
{
	if (n->kind == N_QUERY_LINK)
		snprintf(buf, size, QUERIES_DIR "/%s/%s", n->dir, n->name);
	else if (n->kind == N_QUERIES)
		snprintf(buf, size, QUERIES_DIR);
	else
		snprintf(buf, size, QUERIES_DIR "/%s", n->name);
}

static void stat_link(const struct jirafs *fs, struct stat *st, size_t len,
		      const struct timespec *mtime)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFLNK | 0777;
	st->st_size = (off_t)len;
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtim = st->st_ctim = st->st_atim = *mtime;
}

/* A text on disk as shown: the mount's owner, its umask (attr.c does the
 * same for scans/, but attr.c calls here). */
static void stat_text(const struct jirafs *fs, struct stat *st)
{
	st->st_mode = S_IFREG | (st->st_mode & 0777 & ~fs->umask);
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_nlink = 1;
	st->st_blocks = (st->st_size + 511) / 512;
}

static void stat_dir(const struct jirafs *fs, struct stat *st,
		     bool writable)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | ((writable ? 0777 : 0555) & ~fs->umask);
	st->st_nlink = 2;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtim = st->st_ctim = st->st_atim = fs->mounted_at;
}

int fs_query_getattr(const struct fs_req *rq, const struct fs_node *n,
		     struct stat *st)
{
	struct jirafs *fs = rq->fs;
	char target[DIR_LEN + NAME_LEN];
	struct timespec mtime;
	int ret;
	switch (n->kind) {
	case N_QUERIES:
		stat_dir(fs, st, true);
		return 0;
	case N_QUERY_DIR:
		if (!queries_has(fs->queries, n->name))
			return -ENOENT;
		stat_dir(fs, st, false);
		return 0;
	case N_QUERY_FILE:
		if ((ret = queries_stat(fs->queries, n->name, st)))
			return ret;
		stat_text(fs, st);
		return 0;
	case N_QUERY_LINK:
		if ((ret = queries_link(fs->queries, n->dir, n->name,
					rq->deadline, target, sizeof(target),
					&mtime)))
			return ret;
		stat_link(fs, st, strlen(target), &mtime);
		return 0;
	default:
		return -ENOENT;
	}
}

int fs_query_readlink(const struct fs_req *rq, const struct fs_node *n,
		      char *buf, size_t size)
{
	struct timespec mtime;
	if (n->kind != N_QUERY_LINK)
		return -EINVAL;
	return queries_link(rq->fs->queries, n->dir, n->name, rq->deadline,
			    buf, size, &mtime);
}

struct fill {
	struct jirafs *fs;
	fs_fill_fn fill;
	void *ctx;
};

static void fill_file(void *arg, const char *name, const struct stat *st)
{
	struct fill *f = arg;
	struct stat shown;
	if (st) {
		shown = *st;
		stat_text(f->fs, &shown);
	}
	f->fill(f->ctx, name, st ? &shown : NULL);
}

static void fill_link(void *arg, const char *entry, const char *target,
		      const struct timespec *mtime)
{
	struct fill *f = arg;
	struct stat st;
	stat_link(f->fs, &st, strlen(target), mtime);
	f->fill(f->ctx, entry, &st);
}

int fs_query_readdir(const struct fs_req *rq, const struct fs_node *n,
		     fs_fill_fn fill, void *ctx)
{
	struct fill f = { rq->fs, fill, ctx };
	if (n->kind == N_QUERY_DIR && !queries_has(rq->fs->queries, n->name))
		return -ENOENT;
	fill(ctx, ".", NULL);
	fill(ctx, "..", NULL);
	if (n->kind == N_QUERIES)
		return queries_list(rq->fs->queries, fill_file, &f);
	/* in the JQL's order (ls -U) */
	return queries_results(rq->fs->queries, n->name, rq->deadline,
			       fill_link, &f);
}

static int refuse(const struct fs_node *n, int err, const char *what,
		  const char *why)
{
	char path[DIR_LEN + NAME_LEN + 16];
	path_of(n, path, sizeof(path));
	return fs_refuse(err, what, path, why);
}

int fs_query_open(const struct fs_req *rq, const struct fs_node *n,
		  int flags, bool create, struct open_file **out)
{
	if (n->kind != N_QUERY_FILE)
		return n->kind == N_QUERY_LINK || !create
			       ? -ENOENT
			       : refuse(n, -EPERM, "create",
					"a query is defined by writing "
					"queries/NAME.jql");
	struct open_file *of = handle_new(OF_SCAN, n, rq->pid);
	if (!of)
		return -ENOMEM;
	of->emptied = create || (flags & O_TRUNC);
	int ret = queries_open(rq->fs->queries, n->name,
			       create ? O_RDWR | O_CREAT | O_TRUNC : flags,
			       &of->fd);
	if (ret) {
		handle_free(rq->fs, of);
		return ret;
	}
	*out = of;
	return 0;
}

int fs_query_flush(const struct fs_req *rq, struct open_file *of, bool last)
{
	/* a text emptied and let go empty is refused (an empty query) */
	int werr;
	bool dirty = handle_take_written(of, last, &werr);
	if (werr)
		return werr;
	if (!dirty)
		return 0;
	return queries_define(rq->fs->queries, of->node.name, rq->deadline);
}

int fs_query_unlink(const struct fs_req *rq, const struct fs_node *n)
{
	if (n->kind == N_QUERY_LINK)
		return refuse(n, -EPERM, "rm",
			      "results are Jira's; rm the query's .jql to "
			      "remove the search");
	if (n->kind != N_QUERY_FILE)
		return -EISDIR;
	return queries_unlink(rq->fs->queries, n->name);
}

int fs_query_rename(const struct fs_req *rq, const struct fs_node *a,
		    const struct fs_node *b, unsigned flags)
{
	if (a->kind != N_QUERY_FILE || b->kind != N_QUERY_FILE)
		return refuse(a, -EPERM, "rename",
			      "query texts move only within queries/");
	if (flags)
		return -EINVAL;
	int ret = queries_rename(rq->fs->queries, a->name, b->name);
	/* an editor's temporary renamed over the text: a new definition */
	if (!ret && queries_is_definition(b->name, NULL, 0))
		ret = queries_define(rq->fs->queries, b->name, rq->deadline);
	return ret;
}

int fs_query_link_node(const struct fs_req *rq, const struct fs_node *n,
		       struct fs_node *out)
{
	char target[DIR_LEN + NAME_LEN];
	struct timespec mtime;
	int ret = queries_link(rq->fs->queries, n->dir, n->name, rq->deadline,
			       target, sizeof(target), &mtime);
	if (ret)
		return ret;
	/* "../../SEC/closed/SEC-12.json": from the root, past the "../.." */
	return fs_node_parse(target + strlen("../.."), out);
}

int fs_query_truncate(const struct fs_req *rq, const struct fs_node *n,
		      off_t size)
{
	int fd;
	if (n->kind != N_QUERY_FILE)
		return n->kind == N_QUERY_LINK ? -EPERM : -EISDIR;
	if (size > QUERIES_MAX_TEXT)
		return -EFBIG;
	int ret = queries_open(rq->fs->queries, n->name, O_WRONLY, &fd);
	if (ret)
		return ret;
	ret = ftruncate(fd, size) ? -errno : 0;
	close(fd);
	return ret;
}

char *fs_query_error(const struct fs_req *rq, const struct fs_node *n)
{
	return n->kind == N_QUERY_FILE
		       ? queries_error(rq->fs->queries, n->name)
		       : NULL;
}
