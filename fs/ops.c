/* ops.c - the FUSE operations; see fs.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "fs/fs.h"
#include "util/log.h"

#define CTL_DIR ".jirafs"
#define CLOSED_DIR "closed"
#define TICKET_SUFFIX ".json"
#define NAME_MAX_KEY 300

enum node_kind {
	N_NONE,      /* nothing can be there */
	N_ROOT,
	N_CTL_DIR,
	N_CTL_STATUS,
	N_CTL_LOG,
	N_CTL_OUTBOX,
	N_PROJECT,   /* /KEY */
	N_CLOSED,    /* /KEY/closed */
	N_TICKET,    /* /KEY/KEY-1.json or /KEY/closed/KEY-1.json */
};

struct node {
	enum node_kind kind;
	char project[256];
	char key[NAME_MAX_KEY];
	bool closed;
};

/* What an open file reads from: a ticket reference or a snapshot of a
 * control file. */
struct open_file {
	struct jira_issue *issue; /* a reference, or NULL */
	char *data;               /* control file snapshot, or NULL */
	size_t len;
};

static struct jirafs *fs_get(void)
{
	return fuse_get_context()->private_data;
}

static deadline_t op_deadline(const struct jirafs *fs)
{
	return deadline_in((int64_t)fs->jira->timeout_s * 1000);
}

/* Split the next path component off *p into buf; false if too long. */
static bool next_component(const char **p, char *buf, size_t size)
{
	const char *s = *p;
	while (*s == '/')
		s++;
	const char *e = strchr(s, '/');
	size_t n = e ? (size_t)(e - s) : strlen(s);
	if (n >= size)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = s + n;
	return true;
}

/* "SEC-12.json" -> "SEC-12" when it is a ticket name of project. */
static bool ticket_name(const char *name, const char *project, char *key)
{
	size_t n = strlen(name), sl = strlen(TICKET_SUFFIX);
	if (n <= sl || n - sl >= NAME_MAX_KEY ||
	    strcmp(name + n - sl, TICKET_SUFFIX) != 0)
		return false;
	memcpy(key, name, n - sl);
	key[n - sl] = '\0';
	size_t pl = strlen(project);
	return strncmp(key, project, pl) == 0 && key[pl] == '-' &&
	       jira_key_valid(key);
}

static void parse_path(const char *path, struct node *n)
{
	char c1[256], c2[NAME_MAX_KEY], c3[NAME_MAX_KEY], extra[8];
	const char *p = path;

	memset(n, 0, sizeof(*n));
	n->kind = N_NONE;
	if (!next_component(&p, c1, sizeof(c1)))
		return;
	if (!c1[0]) {
		n->kind = N_ROOT;
		return;
	}
	if (!next_component(&p, c2, sizeof(c2)))
		return;
	if (strcmp(c1, CTL_DIR) == 0) {
		if (!c2[0])
			n->kind = N_CTL_DIR;
		else if (!next_component(&p, c3, sizeof(c3)))
			return;
		else if (c3[0])
			n->kind = N_NONE; /* nothing inside outbox/ yet */
		else if (strcmp(c2, "status") == 0)
			n->kind = N_CTL_STATUS;
		else if (strcmp(c2, "log") == 0)
			n->kind = N_CTL_LOG;
		else if (strcmp(c2, "outbox") == 0)
			n->kind = N_CTL_OUTBOX;
		return;
	}
	if (!jira_project_key_valid(c1))
		return;
	snprintf(n->project, sizeof(n->project), "%s", c1);
	if (!c2[0]) {
		n->kind = N_PROJECT;
		return;
	}
	if (!next_component(&p, c3, sizeof(c3)))
		return;
	if (strcmp(c2, CLOSED_DIR) == 0) {
		n->closed = true;
		if (!c3[0]) {
			n->kind = N_CLOSED;
			return;
		}
		if (!next_component(&p, extra, sizeof(extra)) || extra[0])
			return;
		if (ticket_name(c3, n->project, n->key))
			n->kind = N_TICKET;
		return;
	}
	if (c3[0])
		return;
	if (ticket_name(c2, n->project, n->key))
		n->kind = N_TICKET;
}

static void fill_dir(struct jirafs *fs, struct stat *st, struct timespec t)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0755;
	st->st_nlink = 2;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtim = st->st_ctim = st->st_atim = t;
}

static void fill_ticket(struct jirafs *fs, struct stat *st,
			const struct jira_issue *i)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0644;
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)i->text_len;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((i->text_len + 511) / 512);
	st->st_mtim = st->st_atim = i->updated;
	st->st_ctim = i->created;
}

static void fill_ctl_file(struct jirafs *fs, struct stat *st, size_t size)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)size;
	clock_gettime(CLOCK_REALTIME, &st->st_mtim);
	st->st_ctim = st->st_atim = st->st_mtim;
}

/* The current text of a control file (malloc'd). */
static char *ctl_text(struct jirafs *fs, enum node_kind k, size_t *len)
{
	if (k == N_CTL_STATUS)
		return ctl_status_text(fs, len);
	return log_ring_text(len);
}

static int ready(const struct jirafs *fs)
{
	return fs->tree ? 0 : -EIO;
}

static int jfs_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	(void)fi;
	struct jirafs *fs = fs_get();
	struct node n;
	struct project *p;
	int ret;

	parse_path(path, &n);
	switch (n.kind) {
	case N_ROOT:
	case N_CTL_DIR:
	case N_CTL_OUTBOX:
		fill_dir(fs, st, fs->mounted_at);
		return 0;
	case N_CTL_STATUS:
	case N_CTL_LOG: {
		size_t len = 0;
		char *t = ctl_text(fs, n.kind, &len);
		if (!t)
			return -ENOMEM;
		free(t);
		fill_ctl_file(fs, st, len);
		return 0;
	}
	case N_PROJECT:
	case N_CLOSED:
		if ((ret = ready(fs)) ||
		    (ret = tree_project(fs->tree, n.project, op_deadline(fs),
					&p)))
			return ret;
		fill_dir(fs, st, tree_project_mtime(fs->tree, p, n.closed));
		return 0;
	case N_TICKET: {
		struct jira_issue *i;
		deadline_t d = op_deadline(fs);
		if ((ret = ready(fs)) ||
		    (ret = tree_project(fs->tree, n.project, d, &p)) ||
		    (ret = tree_ticket(fs->tree, p, n.key, n.closed, d, &i)))
			return ret;
		fill_ticket(fs, st, i);
		jira_issue_unref(i);
		return 0;
	}
	case N_NONE:
		break;
	}
	return -ENOENT;
}

struct fill_ctx {
	struct jirafs *fs;
	void *buf;
	fuse_fill_dir_t filler;
	bool plus;
};

static void fill_project(void *arg, const char *key)
{
	struct fill_ctx *c = arg;
	c->filler(c->buf, key, NULL, 0, 0);
}

static void fill_ticket_entry(void *arg, struct jira_issue *i)
{
	struct fill_ctx *c = arg;
	char name[NAME_MAX_KEY + 8];
	snprintf(name, sizeof(name), "%s%s", i->key, TICKET_SUFFIX);
	if (c->plus) {
		struct stat st;
		fill_ticket(c->fs, &st, i);
		c->filler(c->buf, name, &st, 0, FUSE_FILL_DIR_PLUS);
	} else {
		c->filler(c->buf, name, NULL, 0, 0);
	}
}

static int jfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		       off_t offset, struct fuse_file_info *fi,
		       enum fuse_readdir_flags flags)
{
	(void)offset;
	(void)fi;
	struct jirafs *fs = fs_get();
	struct fill_ctx c = { fs, buf, filler,
			      (flags & FUSE_READDIR_PLUS) != 0 };
	struct node n;
	struct project *p;
	int ret;

	parse_path(path, &n);
	switch (n.kind) {
	case N_ROOT:
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		filler(buf, CTL_DIR, NULL, 0, 0);
		if ((ret = ready(fs)))
			return ret;
		return tree_projects(fs->tree, op_deadline(fs), fill_project,
				     &c);
	case N_CTL_DIR:
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		filler(buf, "status", NULL, 0, 0);
		filler(buf, "log", NULL, 0, 0);
		filler(buf, "outbox", NULL, 0, 0);
		return 0;
	case N_CTL_OUTBOX:
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		return 0;
	case N_PROJECT:
	case N_CLOSED: {
		deadline_t d = op_deadline(fs);
		if ((ret = ready(fs)) ||
		    (ret = tree_project(fs->tree, n.project, d, &p)))
			return ret;
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		if (n.kind == N_PROJECT)
			filler(buf, CLOSED_DIR, NULL, 0, 0);
		return tree_tickets(fs->tree, p, n.closed, d,
				    fill_ticket_entry, &c);
	}
	case N_TICKET:
	case N_CTL_STATUS:
	case N_CTL_LOG:
		return -ENOTDIR;
	case N_NONE:
		break;
	}
	return -ENOENT;
}

static int jfs_open(const char *path, struct fuse_file_info *fi)
{
	struct jirafs *fs = fs_get();
	struct node n;
	int ret;

	parse_path(path, &n);
	if ((fi->flags & O_ACCMODE) != O_RDONLY ||
	    (fi->flags & (O_TRUNC | O_APPEND)))
		return n.kind == N_NONE ? -ENOENT : -EROFS;

	struct open_file *of = calloc(1, sizeof(*of));
	if (!of)
		return -ENOMEM;
	switch (n.kind) {
	case N_CTL_STATUS:
	case N_CTL_LOG:
		of->data = ctl_text(fs, n.kind, &of->len);
		if (!of->data) {
			free(of);
			return -ENOMEM;
		}
		break;
	case N_TICKET: {
		struct project *p;
		deadline_t d = op_deadline(fs);
		if ((ret = ready(fs)) ||
		    (ret = tree_project(fs->tree, n.project, d, &p)) ||
		    (ret = tree_ticket(fs->tree, p, n.key, n.closed, d,
				       &of->issue))) {
			free(of);
			return ret;
		}
		break;
	}
	case N_NONE:
		free(of);
		return -ENOENT;
	default:
		free(of);
		return -EISDIR;
	}
	/* Contents change under the same size, and sizes change between an
	 * earlier stat and this open: let every read come here. */
	fi->direct_io = 1;
	fi->fh = (uint64_t)(uintptr_t)of;
	return 0;
}

static int jfs_read(const char *path, char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)path;
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	const char *data = of->issue ? of->issue->text : of->data;
	size_t len = of->issue ? of->issue->text_len : of->len;
	if (off < 0)
		return -EINVAL;
	if ((size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, data + off, size);
	return (int)size;
}

static int jfs_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	if (of) {
		jira_issue_unref(of->issue);
		free(of->data);
		free(of);
	}
	return 0;
}

/* ---- extended attributes ---------------------------------------------- */

static const char *const xattr_names[] = { "user.jira.key", "user.jira.url",
					   "user.jira.status" };

static int xattr_reply(const char *value, char *buf, size_t size)
{
	size_t n = strlen(value);
	if (size == 0)
		return (int)n;
	if (size < n)
		return -ERANGE;
	memcpy(buf, value, n);
	return (int)n;
}

static int ticket_of(struct jirafs *fs, const char *path,
		     struct jira_issue **out)
{
	struct node n;
	struct project *p;
	int ret;
	parse_path(path, &n);
	*out = NULL;
	if (n.kind != N_TICKET)
		return n.kind == N_NONE ? -ENOENT : 0;
	deadline_t d = op_deadline(fs);
	if ((ret = ready(fs)) ||
	    (ret = tree_project(fs->tree, n.project, d, &p)))
		return ret;
	return tree_ticket(fs->tree, p, n.key, n.closed, d, out);
}

static int jfs_getxattr(const char *path, const char *name, char *buf,
			size_t size)
{
	struct jirafs *fs = fs_get();
	struct jira_issue *i;
	int ret = ticket_of(fs, path, &i);
	if (ret)
		return ret;
	if (!i)
		return -ENODATA;
	if (strcmp(name, "user.jira.key") == 0) {
		ret = xattr_reply(i->key, buf, size);
	} else if (strcmp(name, "user.jira.status") == 0) {
		ret = xattr_reply(i->status, buf, size);
	} else if (strcmp(name, "user.jira.url") == 0) {
		char *url = jira_browse_url(fs->client, i->key);
		ret = url ? xattr_reply(url, buf, size) : -ENOMEM;
		free(url);
	} else {
		ret = -ENODATA;
	}
	jira_issue_unref(i);
	return ret;
}

static int jfs_listxattr(const char *path, char *buf, size_t size)
{
	struct jirafs *fs = fs_get();
	struct jira_issue *i;
	int ret = ticket_of(fs, path, &i);
	if (ret)
		return ret;
	if (!i)
		return 0;
	jira_issue_unref(i);
	size_t need = 0;
	for (size_t k = 0; k < sizeof(xattr_names) / sizeof(*xattr_names); k++)
		need += strlen(xattr_names[k]) + 1;
	if (size == 0)
		return (int)need;
	if (size < need)
		return -ERANGE;
	size_t off = 0;
	for (size_t k = 0; k < sizeof(xattr_names) / sizeof(*xattr_names);
	     k++) {
		size_t l = strlen(xattr_names[k]) + 1;
		memcpy(buf + off, xattr_names[k], l);
		off += l;
	}
	return (int)need;
}

/* ---- refused until the write side lands ------------------------------- */

static int refuse(const char *what, const char *path)
{
	jlog_notice("refused %s %s: this mount is read-only for now", what,
		    path);
	return -EROFS;
}

static int jfs_mkdir(const char *path, mode_t mode)
{
	(void)mode;
	return refuse("mkdir", path);
}

static int jfs_unlink(const char *path)
{
	return refuse("unlink", path);
}

static int jfs_rmdir(const char *path)
{
	return refuse("rmdir", path);
}

static int jfs_rename(const char *from, const char *to, unsigned flags)
{
	(void)to;
	(void)flags;
	return refuse("rename", from);
}

static int jfs_create(const char *path, mode_t mode,
		      struct fuse_file_info *fi)
{
	(void)mode;
	(void)fi;
	return refuse("create", path);
}

static int jfs_write(const char *path, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	return refuse("write", path);
}

static int jfs_truncate(const char *path, off_t size,
			struct fuse_file_info *fi)
{
	(void)size;
	(void)fi;
	return refuse("truncate", path);
}

static int jfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)mode;
	(void)fi;
	return refuse("chmod", path);
}

static int jfs_chown(const char *path, uid_t uid, gid_t gid,
		     struct fuse_file_info *fi)
{
	(void)uid;
	(void)gid;
	(void)fi;
	return refuse("chown", path);
}

static int jfs_utimens(const char *path, const struct timespec tv[2],
		       struct fuse_file_info *fi)
{
	(void)tv;
	(void)fi;
	return refuse("utimens", path);
}

static int jfs_symlink(const char *target, const char *path)
{
	(void)target;
	return refuse("symlink", path);
}

static int jfs_link(const char *from, const char *to)
{
	(void)to;
	return refuse("link", from);
}

static int jfs_setxattr(const char *path, const char *name, const char *val,
			size_t size, int flags)
{
	(void)name;
	(void)val;
	(void)size;
	(void)flags;
	return refuse("setxattr", path);
}

static int jfs_removexattr(const char *path, const char *name)
{
	(void)name;
	return refuse("removexattr", path);
}

static int jfs_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = 4096;
	sv->f_frsize = 4096;
	sv->f_namemax = 255;
	return 0;
}

/* ---- life cycle -------------------------------------------------------- */

static void *jfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	struct jirafs *fs = fs_get();

	cfg->use_ino = 0;
	cfg->entry_timeout = 1.0;
	cfg->attr_timeout = 1.0;
	cfg->negative_timeout = 0;
	cfg->kernel_cache = 0;

	if (jira_client_new(fs->jira, fs->auth, &fs->client)) {
		jlog_err("cannot set up the Jira client: out of memory");
		return fs;
	}
	struct tree_config tc = {
		.cache_ttl_ms = (int64_t)fs->cfg.cache_ttl_s * 1000,
		.timeout_ms = (int64_t)fs->jira->timeout_s * 1000,
		.only = fs->cfg.projects,
		.nonly = fs->cfg.nprojects,
	};
	fs->tree = tree_new(fs->client, &tc);
	if (!fs->tree)
		jlog_err("cannot set up the tree: out of memory");
	jlog_notice("mounted %s as %s", fs->jira->url,
		    fs->user ? fs->user : "?");
	return fs;
}

static void jfs_destroy(void *private_data)
{
	struct jirafs *fs = private_data;
	tree_free(fs->tree);
	fs->tree = NULL;
	jira_client_free(fs->client);
	fs->client = NULL;
}

static const struct fuse_operations ops = {
	.init = jfs_init,
	.destroy = jfs_destroy,
	.getattr = jfs_getattr,
	.readdir = jfs_readdir,
	.open = jfs_open,
	.read = jfs_read,
	.release = jfs_release,
	.getxattr = jfs_getxattr,
	.listxattr = jfs_listxattr,
	.statfs = jfs_statfs,
	.mkdir = jfs_mkdir,
	.unlink = jfs_unlink,
	.rmdir = jfs_rmdir,
	.rename = jfs_rename,
	.create = jfs_create,
	.write = jfs_write,
	.truncate = jfs_truncate,
	.chmod = jfs_chmod,
	.chown = jfs_chown,
	.utimens = jfs_utimens,
	.symlink = jfs_symlink,
	.link = jfs_link,
	.setxattr = jfs_setxattr,
	.removexattr = jfs_removexattr,
};

const struct fuse_operations *jirafs_operations(void)
{
	return &ops;
}
