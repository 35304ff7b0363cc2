/*
 * session.c - the kernel's side of the mount (the FUSE low-level API):
 * each request is decoded into the parsed node of its inode (fs/inode.h)
 * and a request context (fs/req.h), handed to one operation (fs/ops.h),
 * and answered with exactly one reply.
 *
 * Cache lifetimes are chosen per node (fs_ttl): a ticket file stays a
 * regular file for life, so the kernel may keep its entry and attributes
 * for cache_ttl (a warm `ls -l` of 50,000 tickets then costs no round trip
 * per file), while names that change kind are asked about every time.
 * Changes the kernel must hear of go through fs/inval.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/held.h"
#include "fs/inode.h"
#include "fs/inval.h"
#include "fs/listing.h"
#include "fs/mount.h"
#include "fs/ops.h"

#define UNKNOWN_INO 0xffffffffu /* d_ino of an entry not looked up */
#define LINK_MAX_LEN 4096

static struct jirafs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct fs_req rq_of(fuse_req_t req)
{
	return fs_req_make(fs_of(req), fuse_req_ctx(req)->pid);
}

static struct open_file *of_of(const struct fuse_file_info *fi)
{
	return held_obj(fi);
}

static void drop_file(struct jirafs *fs, void *of)
{
	handle_free(fs, of);
}

static void drop_dir(struct jirafs *fs, void *dh);

/* Count a lookup of name in parent (node n, attributes st) and fill e. */
static int make_entry(struct jirafs *fs, fuse_ino_t parent, const char *name,
		      const struct fs_node *n, const struct stat *st,
		      struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	int r = inode_lookup(fs->inodes, parent, name, n, &e->ino);
	if (r)
		return r;
	e->attr = *st;
	e->attr.st_ino = e->ino;
	fs_ttl(fs, n, st, &e->entry_timeout, &e->attr_timeout);
	return 0;
}

/* The attributes of ino: by its node while its name leads to it, else
 * what its open handle holds. */
static int stat_ino(const struct fs_req *rq, fuse_ino_t ino,
		    const struct fs_node *n, bool hashed,
		    struct fuse_file_info *fi, struct stat *st)
{
	int r = hashed	   ? fs_getattr(rq, n, st)
		: of_of(fi) ? fs_getattr_open(rq->fs, of_of(fi), st)
			    : -ENOENT;
	st->st_ino = ino;
	return r;
}

static void reply_attr(fuse_req_t req, const struct fs_node *n, bool hashed,
		       const struct stat *st)
{
	double entry = 0, attr = 0;
	if (hashed)
		fs_ttl(fs_of(req), n, st, &entry, &attr);
	fuse_reply_attr(req, st, attr);
}

/* Reply to an operation that made name in parent: an entry for it. */
static void reply_made(fuse_req_t req, const struct fs_req *rq,
		       fuse_ino_t parent, const char *name,
		       const struct fs_node *n, int r)
{
	struct stat st;
	struct fuse_entry_param e;
	if (!r)
		r = fs_getattr(rq, n, &st);
	if (!r)
		r = make_entry(rq->fs, parent, name, n, &st, &e);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

/* ---- life cycle --------------------------------------------------------- */

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	fs_mount_start(userdata, conn);
}

static void ll_destroy(void *userdata)
{
	struct jirafs *fs = userdata;
	held_let_go(fs->held, fs); /* before what they refer to goes */
	fs_mount_stop(fs);
}

/* ---- names -------------------------------------------------------------- */

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_req rq = rq_of(req);
	struct fs_node n;
	int r = inode_child_node(rq.fs->inodes, parent, name, &n);
	reply_made(req, &rq, parent, name, &n, r);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inode_forget(fs_of(req)->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		inode_forget(fs_of(req)->inodes, forgets[i].ino,
			     forgets[i].nlookup);
	fuse_reply_none(req);
}

/* getattr, and setattr (to_set: what to change first): the attributes
 * after. */
static void attr_of(fuse_req_t req, fuse_ino_t ino, const struct stat *attr,
		    int to_set, struct fuse_file_info *fi)
{
	struct fs_req rq = rq_of(req);
	struct fs_node n;
	bool hashed;
	struct stat st;
	int r = inode_node(rq.fs->inodes, ino, &n, &hashed);
	if (!r && to_set)
		r = fs_setattr(&rq, &n, of_of(fi), attr, to_set);
	if (!r)
		r = stat_ino(&rq, ino, &n, hashed, fi, &st);
	if (r)
		fuse_reply_err(req, -r);
	else
		reply_attr(req, &n, hashed, &st);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	attr_of(req, ino, NULL, 0, fi);
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	attr_of(req, ino, attr, to_set, fi);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_req rq = rq_of(req);
	struct fs_node n;
	char buf[LINK_MAX_LEN];
	int r = inode_node(rq.fs->inodes, ino, &n, NULL);
	if (!r)
		r = fs_readlink(&rq, &n, buf, sizeof(buf));
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, buf);
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)rdev; /* only regular files are made */
	struct fs_req rq = rq_of(req);
	struct fs_node n;
	struct open_file *of = NULL;
	int r = inode_child_node(rq.fs->inodes, parent, name, &n);
	if (!r && !S_ISREG(mode))
		r = -EPERM;
	if (!r)
		r = fs_create(&rq, &n, mode, &of);
	if (!r)
		fs_release(&rq, of);
	reply_made(req, &rq, parent, name, &n, r);
}

/* mkdir, rmdir, symlink: refused, with why. */
static void refuse(fuse_req_t req, fuse_ino_t parent, const char *name,
		   const char *what, const char *why)
{
	struct fs_node n;
	int r = inode_child_node(fs_of(req)->inodes, parent, name, &n);
	fuse_reply_err(req, -(r ? r : fs_refuse_name(&n, what, why)));
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)mode;
	refuse(req, parent, name, "mkdir",
	       "directories are projects and closed/");
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	refuse(req, parent, name, "rmdir",
	       "directories are projects and closed/");
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link;
	refuse(req, parent, name, "symlink", "links are made by creates only");
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)newparent;
	(void)newname;
	struct fs_node n;
	int r = inode_node(fs_of(req)->inodes, ino, &n, NULL);
	fuse_reply_err(req, -(r ? r : fs_refuse_name(&n, "link",
						      "no hard links")));
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_req rq = rq_of(req);
	struct fs_node n;
	int r = inode_child_node(rq.fs->inodes, parent, name, &n);
	if (!r)
		r = fs_unlink(&rq, &n);
	if (!r)
		inode_unhash(rq.fs->inodes, parent, name);
	fuse_reply_err(req, -r);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct fs_req rq = rq_of(req);
	struct fs_node a, b;
	int r = inode_child_node(rq.fs->inodes, parent, name, &a);
	if (!r)
		r = inode_child_node(rq.fs->inodes, newparent, newname, &b);
	if (!r)
		r = fs_rename_node(&rq, &a, &b, flags);
	if (!r && a.kind == N_QUERY_LINK) {
		/* the ticket the link points to moved, not the link: the
		 * kernel, which moves the link's name, forgets both names */
		inval_name(rq.fs->inval, parent, name);
		inval_name(rq.fs->inval, newparent, newname);
	} else if (!r) {
		inode_rename(rq.fs->inodes, parent, name, newparent, newname);
	}
	fuse_reply_err(req, -r);
}

/* ---- files -------------------------------------------------------------- */

/* Hand of to the kernel as fi's handle: 0 or -ENOMEM. */
static int install(struct jirafs *fs, struct fuse_file_info *fi,
		   struct open_file *of)
{
	/* Contents change under the same size, and sizes change between an
	 * earlier stat and this open: every read and write comes here. */
	fi->direct_io = 1;
	return hold(fs->held, fi, of, drop_file);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_req rq = rq_of(req);
	struct fs_node n;
	bool hashed;
	struct open_file *of = NULL;
	int r = inode_node(rq.fs->inodes, ino, &n, &hashed);
	/* a name since given to another file must not open that one */
	if (!r && !hashed)
		r = -ENOENT;
	if (!r)
		r = fs_open(&rq, &n, fi->flags, &of);
	if (!r && (r = install(rq.fs, fi, of)))
		fs_release(&rq, of);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	inode_open(rq.fs->inodes, ino, 1);
	if (fuse_reply_open(req, fi) == -ENOENT) { /* interrupted */
		fs_release(&rq, unhold(rq.fs->held, fi));
		inode_open(rq.fs->inodes, ino, -1);
	}
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fs_req rq = rq_of(req);
	struct fs_node n;
	struct open_file *of = NULL;
	struct stat st;
	struct fuse_entry_param e;
	int r = inode_child_node(rq.fs->inodes, parent, name, &n);
	if (!r)
		r = fs_create(&rq, &n, mode, &of);
	if (!r && (r = install(rq.fs, fi, of)))
		fs_release(&rq, of);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	r = fs_getattr(&rq, &n, &st);
	if (!r)
		r = make_entry(rq.fs, parent, name, &n, &st, &e);
	if (r) {
		fs_release(&rq, unhold(rq.fs->held, fi));
		fuse_reply_err(req, -r);
		return;
	}
	inode_open(rq.fs->inodes, e.ino, 1);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		fs_release(&rq, unhold(rq.fs->held, fi));
		inode_open(rq.fs->inodes, e.ino, -1);
	}
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino; /* the handle says what is read */
	char *buf = malloc(size ? size : 1);
	struct open_file *of = of_of(fi);
	ssize_t r = !of	 ? -EBADF
		    : buf ? fs_read(fs_of(req), of, buf, size, off)
			  : -ENOMEM;
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino; /* the handle says what is written */
	struct open_file *of = of_of(fi);
	ssize_t r = of ? fs_write(fs_of(req), of, buf, size, off, fi->flags)
		       : -EBADF;
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_req rq = rq_of(req);
	struct open_file *of = of_of(fi);
	int r = of ? fs_flush(&rq, of) : 0;
	inval_settle(rq.fs->inval, ino);
	fuse_reply_err(req, -r);
}

static void ll_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs_req rq = rq_of(req);
	fs_release(&rq, unhold(rq.fs->held, fi));
	inode_open(rq.fs->inodes, ino, -1);
	inval_settle(rq.fs->inval, ino);
	fuse_reply_err(req, 0);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)ino; /* applied when closed */
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* ---- directories -------------------------------------------------------- */

static void drop_dir(struct jirafs *fs, void *dh)
{
	(void)fs; /* a listing is memory only */
	listing_free(dh);
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino; /* listed at the first readdir */
	struct listing *dh = listing_new();
	if (!dh || hold(fs_of(req)->held, fi, dh, drop_dir)) {
		listing_free(dh);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (fuse_reply_open(req, fi) == -ENOENT)
		listing_free(unhold(fs_of(req)->held, fi));
}

/* One entry of a readdirplus reply: counted as a lookup only when it goes
 * out, and given to the kernel only when its attributes are complete. */
static size_t add_plus(fuse_req_t req, struct jirafs *fs, fuse_ino_t dir,
		       const struct fs_node *dn, const struct dentry *d,
		       char *buf, size_t left, off_t next)
{
	struct fuse_entry_param e;
	struct fs_node n;
	memset(&e, 0, sizeof(e));
	e.attr = d->st;
	e.attr.st_ino = UNKNOWN_INO;
	size_t need = fuse_add_direntry_plus(req, NULL, 0, d->name, &e, 0);
	if (need > left)
		return need;
	bool dots = strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0;
	if (d->plus && !dots &&
	    (fs_node_child(dn, d->name, &n) ||
	     make_entry(fs, dir, d->name, &n, &d->st, &e))) {
		memset(&e, 0, sizeof(e));
		e.attr = d->st;
		e.attr.st_ino = UNKNOWN_INO;
	}
	return fuse_add_direntry_plus(req, buf, left, d->name, &e, next);
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi, bool plus)
{
	struct fs_req rq = rq_of(req);
	struct listing *dh = held_obj(fi);
	struct fs_node dn;
	int r = dh ? inode_node(rq.fs->inodes, ino, &dn, NULL) : -EBADF;
	/* taken at the first call (or again from 0); a listing that comes
	 * in pieces is added to when the reader has had what is there */
	if (!r && (off == 0 || (!dh->filled && !dh->more) ||
		   (dh->more && (size_t)off >= dh->n))) {
		if (off == 0 || !dh->more)
			listing_clear(dh);
		/* a piece may add nothing (its tickets hidden by local
		 * names): an empty answer would end the directory */
		size_t had = dh->n;
		do
			r = fs_readdir(&rq, &dn, plus, &dh->cursor,
				       listing_add, dh);
		while (r == 1 && dh->n == had && off != 0);
		dh->more = r == 1;
		if (r == 1)
			r = 0;
		if (!r)
			r = dh->error;
		dh->filled = !r && !dh->more;
	}
	char *buf = r ? NULL : malloc(size);
	if (!r && !buf)
		r = -ENOMEM;
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	size_t used = 0;
	for (size_t i = (size_t)off; i < dh->n; i++) {
		struct dentry *d = &dh->v[i];
		size_t left = size - used, need;
		if (plus) {
			need = add_plus(req, rq.fs, ino, &dn, d, buf + used,
					left, (off_t)i + 1);
		} else {
			struct stat st = d->st;
			st.st_ino = UNKNOWN_INO;
			need = fuse_add_direntry(req, buf + used, left, d->name,
						 &st, (off_t)i + 1);
		}
		if (need > left)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, false);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, true);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino; /* the handle holds the listing */
	listing_free(unhold(fs_of(req)->held, fi));
	fuse_reply_err(req, 0);
}

static void ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	(void)ino; /* nothing is kept that a sync could flush */
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* ---- the rest ----------------------------------------------------------- */

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino; /* one filesystem */
	struct statvfs sv;
	fs_statfs(&sv);
	fuse_reply_statfs(req, &sv);
}

/* getxattr of name, or listxattr (name NULL): the size when size is 0,
 * else the value. */
static void reply_xattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct fs_req rq = rq_of(req);
	struct fs_node n;
	char *buf = size ? malloc(size) : NULL;
	int r = inode_node(rq.fs->inodes, ino, &n, NULL);
	if (!r && size && !buf)
		r = -ENOMEM;
	if (!r)
		r = fs_xattr(&rq, &n, name, buf, size);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (!size)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	/* ls -l asks every file for security.selinux and an ACL. Saying the
	 * namespace is not supported, rather than that the file has none,
	 * lets ls remember it for the whole mount (coreutils caches ENOTSUP
	 * per device) instead of asking 2 more round trips per entry. */
	if (strncmp(name, "user.", 5) != 0) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	reply_xattr(req, ino, name, size);
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_xattr(req, ino, NULL, size);
}

/* Extended attributes are Jira's, read-only. */
static void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	(void)ino;
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	fuse_reply_err(req, ENOTSUP);
}

static void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino;
	(void)name;
	fuse_reply_err(req, ENOTSUP);
}

static const struct fuse_lowlevel_ops ll_ops = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mknod = ll_mknod,
	.mkdir = ll_mkdir,
	.unlink = ll_unlink,
	.rmdir = ll_rmdir,
	.symlink = ll_symlink,
	.rename = ll_rename,
	.link = ll_link,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	.flush = ll_flush,
	.release = ll_release,
	.fsync = ll_fsync,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
	.releasedir = ll_releasedir,
	.fsyncdir = ll_fsyncdir,
	.statfs = ll_statfs,
	.setxattr = ll_setxattr,
	.getxattr = ll_getxattr,
	.listxattr = ll_listxattr,
	.removexattr = ll_removexattr,
	.create = ll_create,
};

struct fuse_session *jirafs_session_new(struct fuse_args *args,
					struct jirafs *fs)
{
	fs->inodes = inode_table_new();
	fs->inval = fs->inodes ? inval_new(fs->inodes) : NULL;
	fs->held = held_list_new();
	if (!fs->inval || !fs->held)
		return NULL;
	fs->se = fuse_session_new(args, &ll_ops, sizeof(ll_ops), fs);
	return fs->se;
}

void jirafs_session_free(struct jirafs *fs)
{
	if (fs->se)
		fuse_session_destroy(fs->se); /* destroy: fs_mount_stop */
	fs->se = NULL;
	inval_free(fs->inval);
	fs->inval = NULL;
	held_list_free(fs->held, fs);
	fs->held = NULL;
	inode_table_free(fs->inodes);
	fs->inodes = NULL;
}
