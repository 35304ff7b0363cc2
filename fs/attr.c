/* attr.c - what a node shows: attributes, cache lifetimes, extended
 * attributes; see ops.h. */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/ctl.h"
#include "fs/errmap.h"
#include "fs/ops.h"
#include "fs/scans.h"
#include "fs/resolve.h"
#include "jira/attach.h"

#define DIR_TTL_S 60.0  /* project directories, closed/, .jirafs/ */
#define DIR_ATTR_TTL_S 1.0
#define BLOCK_SIZE 4096
#define SECTOR 512      /* st_blocks counts these */
#define XATTR_PREFIX "user.jira."

/* A directory where files can be created (a project, its closed/) is
 * writable as umask= says; the others (the top, .jirafs/) are not. */
static void stat_dir(const struct jirafs *fs, struct stat *st,
		     struct timespec t, bool writable)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | ((writable ? 0777 : 0555) & ~fs->umask);
	st->st_nlink = 2;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtim = st->st_ctim = st->st_atim = t;
}

static blkcnt_t blocks(off_t size)
{
	return (blkcnt_t)((size + SECTOR - 1) / SECTOR);
}

void fs_stat_ticket(const struct jirafs *fs, struct stat *st,
		    const struct jira_issue *i)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | (0666 & ~fs->umask);
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)i->text_len;
	st->st_blksize = BLOCK_SIZE;
	st->st_blocks = blocks(st->st_size);
	st->st_mtim = st->st_atim = i->updated;
	st->st_ctim = i->created;
}

void fs_stat_local(const struct jirafs *fs, struct stat *st,
		   const struct local_stat *l, size_t link_len)
{
	memset(st, 0, sizeof(*st));
	if (l->kind == LOCAL_ALIAS) {
		st->st_mode = S_IFLNK | 0777;
		st->st_size = (off_t)link_len;
	} else {
		st->st_mode = S_IFREG | (l->mode & 07777 & ~fs->umask);
		st->st_size = l->size;
	}
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = BLOCK_SIZE;
	st->st_blocks = blocks(st->st_size);
	st->st_atim = l->atime;
	st->st_mtim = l->mtime;
	st->st_ctim = l->ctime;
}

void fs_stat_scan(const struct jirafs *fs, struct stat *st)
{
	st->st_mode = (st->st_mode & S_IFMT) | (st->st_mode & 0777 & ~fs->umask);
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_nlink = 1;
	st->st_blocks = blocks(st->st_size);
}

static void stat_ctl_file(const struct jirafs *fs, struct stat *st,
			  size_t size)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | (0444 & ~fs->umask);
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)size;
	clock_gettime(CLOCK_REALTIME, &st->st_mtim);
	st->st_ctim = st->st_atim = st->st_mtim;
}

/* Length of an alias's target (for st_size). */
static size_t alias_len(struct jirafs *fs, const struct fs_node *n,
			struct local_node *ln)
{
	char target[DIR_LEN + NAME_LEN];
	char *key = local_alias_key(fs->local, ln);
	size_t len = 0;
	if (key && fs_alias_target(fs, n, key, target, sizeof(target)) == 0)
		len = strlen(target);
	free(key);
	return len;
}

int fs_getattr_open(struct jirafs *fs, const struct open_file *of,
		    struct stat *st)
{
	struct local_stat l;
	switch (of->kind) {
	case OF_LOCAL:
		local_node_stat(fs->local, of->ln, &l);
		fs_stat_local(fs, st, &l, 0);
		return 0;
	case OF_TICKET_READ:
	case OF_TICKET_WRITE:
		fs_stat_ticket(fs, st, of->issue);
		return 0;
	case OF_CTL:
		stat_ctl_file(fs, st, of->len);
		return 0;
	case OF_SCAN:
		if (fstat(of->fd, st))
			return -errno;
		st->st_mode = S_IFREG | 0644;
		fs_stat_scan(fs, st);
		return 0;
	case OF_ATTACH:
		if (!of->att) { /* an upload being written */
			if (fstat(of->fd, st))
				return -errno;
			st->st_mode = S_IFREG | 0644;
			fs_stat_scan(fs, st);
			return 0;
		}
		memset(st, 0, sizeof(*st));
		st->st_mode = S_IFREG | (0444 & ~fs->umask);
		st->st_nlink = 1;
		st->st_uid = fs->uid;
		st->st_gid = fs->gid;
		st->st_size = of->att->size > 0 ? (off_t)of->att->size : 0;
		st->st_blocks = (st->st_size + 511) / 512;
		st->st_mtim = st->st_ctim = st->st_atim = of->att->created;
		return 0;
	}
	return -ENOENT;
}

int fs_getattr(const struct fs_req *rq, const struct fs_node *n,
	       struct stat *st)
{
	struct jirafs *fs = rq->fs;
	struct project *p;
	int ret;

	if (fs_node_is_query(n))
		return fs_query_getattr(rq, n, st);
	if (fs_node_is_attach(n))
		return fs_attach_getattr(rq, n, st);
	switch (n->kind) {
	case N_ROOT:
	case N_CTL_DIR:
	case N_CTL_OUTBOX:
		stat_dir(fs, st, fs->mounted_at, false);
		return 0;
	case N_CTL_FILE:
	case N_CTL_OUTBOX_FILE: {
		size_t len = 0;
		char *t = ctl_text(fs, n, &len);
		if (!t)
			return n->kind == N_CTL_FILE ? -ENOMEM : -ENOENT;
		free(t);
		stat_ctl_file(fs, st, len);
		return 0;
	}
	case N_PROJECT:
	case N_CLOSED:
		if ((ret = fs_project(rq, n, &p)))
			return ret;
		stat_dir(fs, st, tree_project_mtime(fs->tree, p, n->closed),
			 true);
		return 0;
	case N_ENTRY: {
		struct resolved r;
		if ((ret = fs_resolve(rq, n, false, &r)))
			return ret;
		if (r.what == R_LOCAL)
			fs_stat_local(fs, st, &r.lst,
				      r.lst.kind == LOCAL_ALIAS
					      ? alias_len(fs, n, r.ln)
					      : 0);
		else
			fs_stat_ticket(fs, st, r.issue);
		fs_resolved_release(fs, &r);
		return 0;
	}
	case N_SCANS:
		if ((ret = fs_project(rq, n, &p)))
			return ret;
		stat_dir(fs, st, fs->mounted_at, true);
		return 0;
	case N_SCAN_FILE:
		if ((ret = fs_project(rq, n, &p)))
			return ret;
		if ((ret = scans_stat(fs->scans, n->project, n->name, st)))
			return ret;
		fs_stat_scan(fs, st);
		return 0;
	case N_CTL_INNER:
	case N_TOP_ENTRY:
	case N_QUERIES:
	case N_QUERY_FILE:
	case N_QUERY_DIR:
	case N_QUERY_LINK:
	case N_ATTACHMENTS:
	case N_ATTACH_DIR:
	case N_ATTACH_FILE:
	case N_NONE:
		break;
	}
	return -ENOENT;
}

void fs_ttl(const struct jirafs *fs, const struct fs_node *n,
	    const struct stat *st, double *entry, double *attr)
{
	*entry = *attr = 0;
	switch (n->kind) {
	case N_ROOT:
	case N_PROJECT:
	case N_CLOSED:
	case N_SCANS:
	case N_ATTACHMENTS:
	case N_CTL_DIR:
	case N_CTL_OUTBOX:
	case N_QUERIES:
		*entry = DIR_TTL_S;
		*attr = DIR_ATTR_TTL_S;
		break;
	case N_QUERY_LINK:
		/* a result's link changes with a refresh of its search */
		*entry = *attr = (double)fs->cfg.cache_ttl_s;
		break;
	case N_ENTRY:
		/* a ticket's name never changes kind; changes of its
		 * contents are invalidated (fs/inval.h) */
		if (n->key[0] && S_ISREG(st->st_mode))
			*entry = *attr = (double)fs->cfg.cache_ttl_s;
		break;
	default:
		break;
	}
}

/* ---- setattr ------------------------------------------------------------ */

static int chmod_node(const struct fs_req *rq, const struct fs_node *n,
		      mode_t mode)
{
	struct jirafs *fs = rq->fs;
	struct resolved r;
	struct stat st;
	char path[DIR_LEN + NAME_LEN];
	int ret;

	fs_node_path(n, path, sizeof(path));
	if (n->kind == N_ENTRY) {
		if ((ret = fs_resolve(rq, n, false, &r)))
			return ret;
		if (r.what == R_LOCAL && r.lst.kind != LOCAL_ALIAS)
			ret = local_chmod(fs->local, r.ln, mode);
		else if (r.what == R_TICKET &&
			 (mode & 07777) == (0666 & ~fs->umask))
			ret = 0; /* nothing changes */
		else
			ret = fs_refuse(-EPERM, "chmod", path,
					"a ticket's mode is fixed");
		fs_resolved_release(fs, &r);
		return ret;
	}
	if ((ret = fs_getattr(rq, n, &st)))
		return ret;
	if ((mode & 07777) == (st.st_mode & 07777))
		return 0;
	return fs_refuse(n->kind == N_CTL_FILE ? -EROFS : -EPERM, "chmod",
			 path, "modes are fixed");
}

static int chown_node(const struct fs_req *rq, const struct fs_node *n,
		      uid_t uid, gid_t gid)
{
	struct jirafs *fs = rq->fs;
	struct stat st;
	char path[DIR_LEN + NAME_LEN];
	int ret = fs_getattr(rq, n, &st);
	if (ret)
		return ret;
	if ((uid == (uid_t)-1 || uid == fs->uid) &&
	    (gid == (gid_t)-1 || gid == fs->gid))
		return 0;
	fs_node_path(n, path, sizeof(path));
	return fs_refuse(-EPERM, "chown", path,
			 "everything belongs to the mounting user");
}

static int truncate_node(const struct fs_req *rq, const struct fs_node *n,
			 off_t size)
{
	struct jirafs *fs = rq->fs;
	struct resolved r;
	char path[DIR_LEN + NAME_LEN];
	int ret;

	if (n->kind == N_CTL_FILE)
		return -EROFS;
	if (fs_node_is_query(n))
		return fs_query_truncate(rq, n, size);
	if (fs_node_is_attach(n))
		return fs_attach_truncate(n);
	if (n->kind == N_SCAN_FILE) {
		int fd;
		if (size > SCANS_MAX_REPORT)
			return -EFBIG;
		if ((ret = scans_open(fs->scans, n->project, n->name, O_WRONLY,
				      &fd)))
			return ret;
		ret = ftruncate(fd, size) ? -errno : 0;
		close(fd);
		return ret;
	}
	if (n->kind != N_ENTRY)
		return n->kind == N_NONE ? -ENOENT : -EISDIR;
	if ((ret = fs_resolve(rq, n, false, &r)))
		return ret;
	fs_node_path(n, path, sizeof(path));
	if (r.what == R_LOCAL && r.lst.kind != LOCAL_ALIAS)
		ret = local_truncate(fs->local, r.ln, size,
				     handle_local_limit(r.lst.kind));
	else
		ret = fs_refuse(-EPERM, "truncate", path,
				"write the whole ticket file instead");
	fs_resolved_release(fs, &r);
	return ret;
}

static int utimens_node(const struct fs_req *rq, const struct fs_node *n,
			const struct timespec tv[2])
{
	struct jirafs *fs = rq->fs;
	struct resolved r;
	int ret;

	if (n->kind != N_ENTRY) {
		struct stat st;
		return fs_getattr(rq, n, &st);
	}
	if ((ret = fs_resolve(rq, n, false, &r)))
		return ret;
	if (r.what == R_LOCAL)
		local_utimens(fs->local, r.ln, tv);
	/* a ticket's times are Jira's: setting them is accepted and has no
	 * effect, so that cp -p, rsync -t and touch work */
	fs_resolved_release(fs, &r);
	return 0;
}

int fs_setattr(const struct fs_req *rq, const struct fs_node *n,
	       struct open_file *of, const struct stat *attr, int to_set)
{
	int r = 0;
	if (to_set & FUSE_SET_ATTR_MODE)
		r = chmod_node(rq, n, attr->st_mode);
	if (!r && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = chown_node(rq, n,
			       (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid
							    : (uid_t)-1,
			       (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid
							    : (gid_t)-1);
	if (!r && (to_set & FUSE_SET_ATTR_SIZE))
		r = of ? handle_truncate(rq->fs, of, attr->st_size)
		       : truncate_node(rq, n, attr->st_size);
	if (!r && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		struct timespec tv[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_ATIME)
			tv[0] = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			tv[1] = attr->st_mtim;
		r = utimens_node(rq, n, tv);
	}
	return r;
}

/* ---- extended attributes ------------------------------------------------ */

static const char *const xattr_names[] = {
	XATTR_PREFIX "key", XATTR_PREFIX "url", XATTR_PREFIX "status",
	XATTR_PREFIX "error", XATTR_PREFIX "state",
};

/* The getxattr/listxattr answer: the length when size is 0, else the
 * bytes, or -ERANGE. */
static int xattr_reply(const char *value, size_t n, char *buf, size_t size)
{
	if (size == 0)
		return (int)n;
	if (size < n)
		return -ERANGE;
	memcpy(buf, value, n);
	return (int)n;
}

/* The value of a jirafs attribute of n (malloc'd), or -ENODATA. */
static int xattr_value(const struct fs_req *rq, const struct fs_node *n,
		       const char *name, char **out)
{
	struct jirafs *fs = rq->fs;
	struct resolved r;
	int ret;

	*out = NULL;
	if (strncmp(name, "user.", 5) != 0)
		return -EOPNOTSUPP; /* only the user namespace is ours */
	if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) != 0)
		return -ENODATA;
	if (n->kind == N_SCAN_FILE || n->kind == N_QUERY_FILE) {
		if (strcmp(name, XATTR_PREFIX "error") == 0)
			*out = n->kind == N_QUERY_FILE
				       ? fs_query_error(rq, n)
				       : scans_error(fs->scans, n->project,
						     n->name);
		return *out ? 0 : -ENODATA;
	}
	if (n->kind != N_ENTRY)
		return n->kind == N_NONE ? -ENOENT : -ENODATA;
	if ((ret = fs_resolve(rq, n, false, &r)))
		return ret;
	const char *attr = name + strlen(XATTR_PREFIX);
	if (strcmp(attr, "state") == 0) {
		/* something written here waits in the outbox */
		char subject[SUBJECT_LEN];
		if (r.what == R_LOCAL && r.lst.kind == LOCAL_DRAFT)
			fs_create_subject(subject, sizeof(subject),
					  n->project, n->closed, n->name);
		else
			snprintf(subject, sizeof(subject), "%s",
				 r.what == R_TICKET ? r.issue->key : n->key);
		if (subject[0] && outbox_pending(fs->outbox, subject))
			*out = strdup("pending");
	} else if (r.what == R_LOCAL) {
		if (strcmp(attr, "error") == 0)
			*out = local_error(fs->local, r.ln);
	} else if (strcmp(attr, "key") == 0) {
		*out = strdup(r.issue->key);
	} else if (strcmp(attr, "status") == 0) {
		*out = strdup(r.issue->status);
	} else if (strcmp(attr, "url") == 0) {
		*out = jira_browse_url(fs->client, r.issue->key);
	} else if (strcmp(attr, "error") == 0) {
		*out = local_ticket_error(fs->local, r.issue->key);
	}
	fs_resolved_release(fs, &r);
	return *out ? 0 : -ENODATA;
}

int fs_xattr(const struct fs_req *rq, const struct fs_node *n,
	     const char *name, char *buf, size_t size)
{
	char *v;
	int ret;
	if (name) {
		if ((ret = xattr_value(rq, n, name, &v)))
			return ret;
		ret = xattr_reply(v, strlen(v), buf, size);
		free(v);
		return ret;
	}
	char list[sizeof(xattr_names) / sizeof(*xattr_names) * NAME_LEN];
	size_t off = 0;
	for (size_t k = 0; k < sizeof(xattr_names) / sizeof(*xattr_names);
	     k++) {
		ret = xattr_value(rq, n, xattr_names[k], &v);
		if (ret == -ENODATA)
			continue;
		if (ret)
			return ret;
		free(v);
		size_t l = strlen(xattr_names[k]) + 1;
		memcpy(list + off, xattr_names[k], l);
		off += l;
	}
	return xattr_reply(list, off, buf, size);
}

void fs_statfs(struct statvfs *sv)
{
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = BLOCK_SIZE;
	sv->f_frsize = BLOCK_SIZE;
	sv->f_namemax = NAME_LEN - 1;
}
