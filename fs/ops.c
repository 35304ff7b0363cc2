/* ops.c - the FUSE operations; see fs.h.  Writes are applied in write.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "fs/internal.h"
#include "util/log.h"

deadline_t fs_deadline(const struct jirafs *fs)
{
	return deadline_in((int64_t)fs->jira->timeout_s * 1000);
}

int fs_refuse(int err, const char *what, const char *path, const char *why)
{
	jlog_notice("refused %s %s: %s", what, path, why);
	return err;
}

/* ---- paths -------------------------------------------------------------- */

/* Split the next path component off *p into buf.  -ENAMETOOLONG. */
static int next_component(const char **p, char *buf, size_t size)
{
	const char *s = *p;
	while (*s == '/')
		s++;
	const char *e = strchr(s, '/');
	size_t n = e ? (size_t)(e - s) : strlen(s);
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = s + n;
	return 0;
}

static void classify_name(struct node *n)
{
	size_t len = strlen(n->name), sl = strlen(TICKET_SUFFIX);
	n->ticket_name = len > sl && n->name[0] != '.' &&
			 strcmp(n->name + len - sl, TICKET_SUFFIX) == 0;
	n->key[0] = '\0';
	if (!n->ticket_name)
		return;
	char key[NAME_LEN];
	memcpy(key, n->name, len - sl);
	key[len - sl] = '\0';
	size_t pl = strlen(n->project);
	if (strncmp(key, n->project, pl) == 0 && key[pl] == '-' &&
	    jira_key_valid(key))
		memcpy(n->key, key, len - sl + 1);
}

int fs_parse_path(const char *path, struct node *n)
{
	char c1[NAME_LEN], c2[NAME_LEN], c3[NAME_LEN], c4[NAME_LEN];
	const char *p = path;
	int ret;

	memset(n, 0, sizeof(*n));
	n->kind = N_NONE;
	if ((ret = next_component(&p, c1, sizeof(c1))))
		return ret;
	if (!c1[0]) {
		n->kind = N_ROOT;
		return 0;
	}
	if ((ret = next_component(&p, c2, sizeof(c2))) ||
	    (ret = next_component(&p, c3, sizeof(c3))) ||
	    (ret = next_component(&p, c4, sizeof(c4))))
		return ret;
	if (strcmp(c1, CTL_DIR) == 0) {
		snprintf(n->name, sizeof(n->name), "%s", c2);
		if (!c2[0])
			n->kind = N_CTL_DIR;
		else if (c3[0] && strcmp(c2, "outbox") == 0 && !c4[0]) {
			n->kind = N_CTL_OUTBOX_FILE;
			snprintf(n->name, sizeof(n->name), "%s", c3);
		} else if (c3[0])
			n->kind = N_NONE;
		else if (strcmp(c2, "status") == 0 || strcmp(c2, "log") == 0)
			n->kind = N_CTL_FILE;
		else if (strcmp(c2, "outbox") == 0)
			n->kind = N_CTL_OUTBOX;
		else
			n->kind = N_CTL_INNER;
		return 0;
	}
	if (!jira_project_key_valid(c1)) {
		if (!c2[0]) {
			n->kind = N_TOP_ENTRY;
			snprintf(n->name, sizeof(n->name), "%s", c1);
		}
		return 0;
	}
	snprintf(n->project, sizeof(n->project), "%s", c1);
	snprintf(n->dir, sizeof(n->dir), "%s", c1);
	if (!c2[0]) {
		n->kind = N_PROJECT;
		return 0;
	}
	if (strcmp(c2, CLOSED_DIR) == 0) {
		n->closed = true;
		snprintf(n->dir, sizeof(n->dir), "%s/%s", c1, CLOSED_DIR);
		if (!c3[0]) {
			n->kind = N_CLOSED;
			return 0;
		}
		if (c4[0])
			return 0;
		snprintf(n->name, sizeof(n->name), "%s", c3);
	} else {
		if (c3[0])
			return 0;
		snprintf(n->name, sizeof(n->name), "%s", c2);
	}
	n->kind = N_ENTRY;
	classify_name(n);
	return 0;
}

/* ---- attributes --------------------------------------------------------- */

static int ready(const struct jirafs *fs)
{
	return fs->tree && fs->local && fs->writer && fs->outbox ? 0 : -EIO;
}

/* A directory where files can be created (a project, its closed/) is
 * writable as umask= says; the others (the top, .jirafs/) are not. */
static void fill_dir(struct jirafs *fs, struct stat *st, struct timespec t,
		     bool writable)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | ((writable ? 0777 : 0555) & ~fs->umask);
	st->st_nlink = 2;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtim = st->st_ctim = st->st_atim = t;
}

static void fill_ticket(struct jirafs *fs, struct stat *st,
			const struct jira_issue *i)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | (0666 & ~fs->umask);
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)i->text_len;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((i->text_len + 511) / 512);
	st->st_mtim = st->st_atim = i->updated;
	st->st_ctim = i->created;
}

static void fill_local(struct jirafs *fs, struct stat *st,
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
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
	st->st_atim = l->atime;
	st->st_mtim = l->mtime;
	st->st_ctim = l->ctime;
}

static void fill_ctl_file(struct jirafs *fs, struct stat *st, size_t size)
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

/* The current text of a control file (malloc'd). */
static char *ctl_text(struct jirafs *fs, const struct node *n, size_t *len)
{
	if (n->kind == N_CTL_OUTBOX_FILE)
		return fs->outbox ? outbox_text(fs->outbox, n->name, len)
				  : NULL;
	if (strcmp(n->name, "status") == 0)
		return ctl_status_text(fs, len);
	return log_ring_text(len);
}

/* Is r the overlay of a comment waiting in the outbox (not refused)? */
static bool comment_waits(struct jirafs *fs, const struct resolved *r)
{
	return r->lst.kind == LOCAL_OVERLAY && !r->lst.has_error &&
	       local_append_from(fs->local, r->ln) >= 0;
}

/* Is the ticket of alias ln gone from Jira (deleted, or moved to another
 * project)?  Then the alias is dropped, with a line in the log, rather than
 * followed into a name that cannot be written (Jira gives keys).  Only
 * Jira's word counts: an outage keeps the alias. */
static bool alias_gone(struct jirafs *fs, const struct node *n,
		       struct local_node *ln, struct project *p, deadline_t d)
{
	char *key = local_alias_key(fs->local, ln);
	bool done, gone = false;
	if (key && tree_where(fs->tree, key, &done) == -ENOENT) {
		struct jira_issue *i = NULL;
		int r = tree_ticket(fs->tree, p, key, false, true, d, &i);
		if (r == -ENOENT)
			r = tree_ticket(fs->tree, p, key, true, true, d, &i);
		jira_issue_unref(i);
		gone = r == -ENOENT;
	}
	if (gone && local_alias_drop(fs->local, n->dir, n->name) == 0)
		jlog_notice("%s/%s: its ticket %s is gone from Jira (deleted "
			    "or moved): the alias is dropped, and writing the "
			    "name creates a new ticket",
			    n->dir, n->name, key);
	free(key);
	return gone;
}

/* With `appending` (O_WRONLY|O_APPEND), the ticket is taken as held (an
 * append reads nothing, so a comment is one POST even on a ticket written
 * a moment ago), and a comment waiting in the outbox is passed over: each
 * writer's bytes are a comment of their own, queued behind it. */
static int resolve(struct jirafs *fs, const struct node *n, bool appending,
		   deadline_t d, struct resolved *r)
{
	struct project *p;
	int ret;
	memset(r, 0, sizeof(*r));
	if ((ret = ready(fs)) ||
	    (ret = tree_project(fs->tree, n->project, d, &p)))
		return ret;
	if (local_get(fs->local, n->dir, n->name, &r->ln) == 0) {
		local_node_stat(fs->local, r->ln, &r->lst);
		if (r->lst.kind == LOCAL_ALIAS &&
		    alias_gone(fs, n, r->ln, p, d)) {
			local_node_unref(fs->local, r->ln);
			memset(r, 0, sizeof(*r));
			return -ENOENT;
		}
		if (!appending || !n->key[0] || !comment_waits(fs, r)) {
			r->what = R_LOCAL;
			return 0;
		}
		local_node_unref(fs->local, r->ln);
		memset(r, 0, sizeof(*r));
	}
	if (!n->key[0])
		return -ENOENT;
	ret = tree_ticket(fs->tree, p, n->key, n->closed, appending, d,
			  &r->issue);
	if (!ret)
		r->what = R_TICKET;
	return ret;
}

int fs_resolve(struct jirafs *fs, const struct node *n, deadline_t d,
	       struct resolved *r)
{
	return resolve(fs, n, false, d, r);
}

void fs_resolved_release(struct jirafs *fs, struct resolved *r)
{
	if (r->ln)
		local_node_unref(fs->local, r->ln);
	jira_issue_unref(r->issue);
	memset(r, 0, sizeof(*r));
}

/* Length of an alias's target (for st_size). */
static size_t alias_len(struct jirafs *fs, const struct node *n,
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

static struct open_file *of_get(struct fuse_file_info *fi);

/* fstat() of an open file whose name is gone (unlinked, or replaced by a
 * rename): what the descriptor holds. */
static int getattr_open(struct jirafs *fs, struct open_file *of,
			struct stat *st)
{
	struct local_stat l;
	switch (of->kind) {
	case OF_LOCAL:
		local_node_stat(fs->local, of->ln, &l);
		fill_local(fs, st, &l, 0);
		return 0;
	case OF_TICKET_READ:
	case OF_TICKET_WRITE:
		fill_ticket(fs, st, of->issue);
		return 0;
	case OF_CTL:
		fill_ctl_file(fs, st, of->len);
		return 0;
	}
	return -ENOENT;
}

static int jfs_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	struct jirafs *fs = fs_get();
	struct node n;
	struct project *p;
	int ret;

	if (!path)
		return fi ? getattr_open(fs, of_get(fi), st) : -ENOENT;
	if ((ret = fs_parse_path(path, &n)))
		return ret;
	switch (n.kind) {
	case N_ROOT:
	case N_CTL_DIR:
	case N_CTL_OUTBOX:
		fill_dir(fs, st, fs->mounted_at, false);
		return 0;
	case N_CTL_FILE:
	case N_CTL_OUTBOX_FILE: {
		size_t len = 0;
		char *t = ctl_text(fs, &n, &len);
		if (!t)
			return n.kind == N_CTL_FILE ? -ENOMEM : -ENOENT;
		free(t);
		fill_ctl_file(fs, st, len);
		return 0;
	}
	case N_PROJECT:
	case N_CLOSED:
		if ((ret = ready(fs)) ||
		    (ret = tree_project(fs->tree, n.project, fs_deadline(fs),
					&p)))
			return ret;
		fill_dir(fs, st, tree_project_mtime(fs->tree, p, n.closed),
			 true);
		return 0;
	case N_ENTRY: {
		struct resolved r;
		if ((ret = fs_resolve(fs, &n, fs_deadline(fs), &r)))
			return ret;
		if (r.what == R_LOCAL)
			fill_local(fs, st, &r.lst,
				   r.lst.kind == LOCAL_ALIAS
					   ? alias_len(fs, &n, r.ln)
					   : 0);
		else
			fill_ticket(fs, st, r.issue);
		fs_resolved_release(fs, &r);
		return 0;
	}
	case N_CTL_INNER:
	case N_TOP_ENTRY:
	case N_NONE:
		break;
	}
	return -ENOENT;
}

static int jfs_readlink(const char *path, char *buf, size_t size)
{
	struct jirafs *fs = fs_get();
	struct node n;
	struct resolved r;
	int ret;

	if ((ret = fs_parse_path(path, &n)))
		return ret;
	if (n.kind != N_ENTRY)
		return -EINVAL;
	if ((ret = fs_resolve(fs, &n, fs_deadline(fs), &r)))
		return ret;
	char *key = r.what == R_LOCAL ? local_alias_key(fs->local, r.ln)
				      : NULL;
	ret = key ? fs_alias_target(fs, &n, key, buf, size) : -EINVAL;
	free(key);
	fs_resolved_release(fs, &r);
	return ret;
}

/* ---- directories -------------------------------------------------------- */

struct fill_ctx {
	struct jirafs *fs;
	const struct node *dir;
	void *buf;
	fuse_fill_dir_t filler;
	bool plus;
};

static void fill_project(void *arg, const char *key)
{
	struct fill_ctx *c = arg;
	c->filler(c->buf, key, NULL, 0, 0);
}

static void fill_outbox(void *arg, const char *name)
{
	struct fill_ctx *c = arg;
	c->filler(c->buf, name, NULL, 0, 0);
}

static void fill_ticket_entry(void *arg, const char *key,
			      struct jira_issue *i)
{
	struct fill_ctx *c = arg;
	char name[NAME_LEN + 8];
	snprintf(name, sizeof(name), "%s%s", key, TICKET_SUFFIX);
	/* a local file of the same name (an overlay) is listed instead */
	if (local_exists(c->fs->local, c->dir->dir, name))
		return;
	if (c->plus && i) {
		struct stat st;
		fill_ticket(c->fs, &st, i);
		c->filler(c->buf, name, &st, 0, FUSE_FILL_DIR_PLUS);
	} else {
		c->filler(c->buf, name, NULL, 0, 0);
	}
}

static void fill_local_entry(void *arg, const char *name,
			     const struct local_stat *l)
{
	struct fill_ctx *c = arg;
	if (c->plus && l->kind != LOCAL_ALIAS) {
		struct stat st;
		fill_local(c->fs, &st, l, 0);
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
	struct node n;
	struct project *p;
	int ret;

	if ((ret = fs_parse_path(path, &n)))
		return ret;
	struct fill_ctx c = { fs, &n, buf, filler,
			      (flags & FUSE_READDIR_PLUS) != 0 };
	switch (n.kind) {
	case N_ROOT:
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		filler(buf, CTL_DIR, NULL, 0, 0);
		if ((ret = ready(fs)))
			return ret;
		return tree_projects(fs->tree, fs_deadline(fs), fill_project,
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
		if (fs->outbox)
			outbox_list(fs->outbox, fill_outbox, &c);
		return 0;
	case N_PROJECT:
	case N_CLOSED: {
		deadline_t d = fs_deadline(fs);
		if ((ret = ready(fs)) ||
		    (ret = tree_project(fs->tree, n.project, d, &p)))
			return ret;
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		if (n.kind == N_PROJECT)
			filler(buf, CLOSED_DIR, NULL, 0, 0);
		ret = tree_tickets(fs->tree, p, n.closed, d, fill_ticket_entry,
				   &c);
		if (!ret)
			local_list(fs->local, n.dir, fill_local_entry, &c);
		return ret;
	}
	case N_ENTRY:
	case N_CTL_FILE:
	case N_CTL_OUTBOX_FILE:
		return -ENOTDIR;
	case N_CTL_INNER:
	case N_TOP_ENTRY:
	case N_NONE:
		break;
	}
	return -ENOENT;
}

/* ---- files -------------------------------------------------------------- */

pid_t fs_tgid(pid_t tid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	FILE *f = fopen(path, "re");
	pid_t tgid = tid;
	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

static struct open_file *of_new(enum of_kind kind, const struct node *n)
{
	struct open_file *of = calloc(1, sizeof(*of));
	if (!of)
		return NULL;
	of->kind = kind;
	of->node = *n;
	of->opener = fs_tgid(fs_caller_pid());
	pthread_mutex_init(&of->lock, NULL);
	return of;
}

static void of_free(struct jirafs *fs, struct open_file *of)
{
	jira_issue_unref(of->issue);
	free(of->data);
	if (of->ln)
		local_node_unref(fs->local, of->ln);
	strbuf_release(&of->buf);
	free(of->committed);
	pthread_mutex_destroy(&of->lock);
	free(of);
}

/* Hand of to the kernel as fi's handle, or free it when ret says the open
 * failed.  Returns ret. */
static int of_install(struct jirafs *fs, struct fuse_file_info *fi,
		      struct open_file *of, int ret)
{
	if (ret) {
		of_free(fs, of);
		return ret;
	}
	/* Contents change under the same size, and sizes change between an
	 * earlier stat and this open: every read and write comes here. */
	fi->direct_io = 1;
	fi->fh = (uint64_t)(uintptr_t)of;
	return 0;
}

static struct open_file *of_get(struct fuse_file_info *fi)
{
	return (struct open_file *)(uintptr_t)fi->fh;
}

/* The most a local file may hold: a draft or overlay is a ticket body. */
static size_t local_limit(enum local_kind k)
{
	return k == LOCAL_SCRATCH ? 0 : JIRA_MAX_BODY;
}

static int open_local(struct jirafs *fs, struct resolved *r,
		      struct fuse_file_info *fi, struct open_file *of)
{
	if (r->lst.kind == LOCAL_ALIAS)
		return -ELOOP; /* the kernel follows symlinks itself */
	of->kind = OF_LOCAL;
	of->ln = r->ln;
	r->ln = NULL;
	if (fi->flags & O_TRUNC) {
		int ret = local_truncate(fs->local, of->ln, 0,
					 local_limit(r->lst.kind));
		if (ret)
			return ret;
	}
	return 0;
}

static int open_ticket_write(struct resolved *r, struct fuse_file_info *fi,
			     struct open_file *of)
{
	of->kind = OF_TICKET_WRITE;
	of->issue = r->issue;
	r->issue = NULL;
	of->append = (fi->flags & O_APPEND) != 0;
	if (of->append)
		return 0;
	/* O_TRUNC starts from nothing; a shell opens, dup2()s and closes
	 * before writing, so only what is written makes an update */
	if (fi->flags & O_TRUNC)
		return 0;
	/* written in place: start from the ticket as it is */
	if (strbuf_add(&of->buf, of->issue->text, of->issue->text_len))
		return -ENOMEM;
	return 0;
}

static int jfs_open(const char *path, struct fuse_file_info *fi)
{
	struct jirafs *fs = fs_get();
	struct node n;
	struct resolved r = { 0 };
	int ret;

	if ((ret = fs_parse_path(path, &n)))
		return ret;
	bool writing = (fi->flags & O_ACCMODE) != O_RDONLY ||
		       (fi->flags & (O_TRUNC | O_APPEND));
	struct open_file *of = of_new(OF_CTL, &n);
	if (!of)
		return -ENOMEM;
	switch (n.kind) {
	case N_CTL_FILE:
	case N_CTL_OUTBOX_FILE:
		if (writing) {
			ret = -EROFS;
			break;
		}
		of->data = ctl_text(fs, &n, &of->len);
		ret = of->data ? 0 : n.kind == N_CTL_FILE ? -ENOMEM : -ENOENT;
		break;
	case N_ENTRY:
		if ((ret = resolve(fs, &n,
				   (fi->flags & O_ACCMODE) == O_WRONLY &&
					   (fi->flags & O_APPEND),
				   fs_deadline(fs), &r)))
			break;
		if (r.what == R_LOCAL) {
			ret = open_local(fs, &r, fi, of);
		} else if (writing) {
			ret = open_ticket_write(&r, fi, of);
		} else {
			of->kind = OF_TICKET_READ;
			of->issue = r.issue;
			r.issue = NULL;
		}
		fs_resolved_release(fs, &r);
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
	return of_install(fs, fi, of, ret);
}

static int jfs_create(const char *path, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct jirafs *fs = fs_get();
	struct node n;
	struct project *p;
	int ret;

	if ((ret = fs_parse_path(path, &n)))
		return ret;
	if (n.kind == N_CTL_INNER || n.kind == N_CTL_FILE ||
	    n.kind == N_CTL_OUTBOX_FILE)
		return fs_refuse(-EROFS, "create", path,
				 ".jirafs/ is read-only");
	if (n.kind == N_TOP_ENTRY)
		return fs_refuse(-EPERM, "create", path,
				 "only projects live at the top");
	if (n.kind != N_ENTRY)
		return -ENOENT;
	if ((ret = ready(fs)) ||
	    (ret = tree_project(fs->tree, n.project, fs_deadline(fs), &p)))
		return ret;
	if (n.key[0]) {
		/* its own key: Jira hands out keys, they cannot be chosen */
		bool done;
		return fs_refuse(-EPERM, "create", path,
				 tree_where(fs->tree, n.key, &done) == 0
					 ? "the ticket is in the other "
					   "directory"
					 : "ticket keys are given by Jira; "
					   "write a new name to create one");
	}
	struct open_file *of = of_new(OF_LOCAL, &n);
	if (!of)
		return -ENOMEM;
	/* only what is written makes a ticket: an empty new file stays a
	 * draft (shells open, dup2() and close before writing); a draft is a
	 * ticket to be, so its mode is a ticket's, whoever made it */
	ret = local_create(fs->local, n.dir, n.name,
			   n.ticket_name ? LOCAL_DRAFT : LOCAL_SCRATCH,
			   n.ticket_name ? 0666 & ~fs->umask : mode, &of->ln);
	return of_install(fs, fi, of, ret);
}

static int jfs_read(const char *path, char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)path;
	struct jirafs *fs = fs_get();
	struct open_file *of = of_get(fi);
	const char *data = NULL;
	size_t len = 0;
	int ret;

	if (off < 0)
		return -EINVAL;
	switch (of->kind) {
	case OF_LOCAL:
		return (int)local_read(fs->local, of->ln, buf, size, off);
	case OF_TICKET_WRITE:
		pthread_mutex_lock(&of->lock);
		ret = 0;
		if (!of->append && (size_t)off < of->buf.len) {
			size_t n = of->buf.len - (size_t)off;
			ret = (int)(size < n ? size : n);
			memcpy(buf, of->buf.buf + off, (size_t)ret);
		}
		pthread_mutex_unlock(&of->lock);
		return ret;
	case OF_TICKET_READ:
		data = of->issue->text;
		len = of->issue->text_len;
		break;
	case OF_CTL:
		data = of->data;
		len = of->len;
		break;
	}
	if ((size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, data + off, size);
	return (int)size;
}

static int jfs_write(const char *path, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	struct jirafs *fs = fs_get();
	struct open_file *of = of_get(fi);
	int ret;

	if (off < 0)
		return -EINVAL;
	if (of->kind == OF_LOCAL) {
		struct local_stat st;
		local_node_stat(fs->local, of->ln, &st);
		ssize_t w = local_write(fs->local, of->ln, buf, size,
					(fi->flags & O_APPEND) ? -1 : off,
					local_limit(st.kind));
		if (st.kind != LOCAL_SCRATCH) {
			pthread_mutex_lock(&of->lock);
			if (w > 0)
				of->dirty = true;
			else if (w < 0 && !of->write_error)
				of->write_error = (int)w;
			pthread_mutex_unlock(&of->lock);
		}
		if (w == -EFBIG)
			fs_refuse((int)w, "write to", path,
				  "a ticket file is limited to 1 MiB");
		return (int)w;
	}
	if (of->kind != OF_TICKET_WRITE)
		return -EBADF;

	pthread_mutex_lock(&of->lock);
	/* an append goes at the end whatever offset the kernel computed
	 * from a size it may have cached */
	size_t at = of->append ? of->buf.len : (size_t)off;
	/* the character count of a comment is checked at close (a JSON
	 * {"body"} may spell one character in six bytes) */
	size_t limit = JIRA_MAX_BODY;
	if (at + size > limit) {
		ret = -EFBIG;
		if (!of->write_error)
			of->write_error = ret;
	} else {
		if (at > of->buf.len &&
		    strbuf_grow(&of->buf, at - of->buf.len) == 0) {
			memset(of->buf.buf + of->buf.len, 0, at - of->buf.len);
			of->buf.len = at;
		}
		if (at + size > of->buf.len) {
			if (strbuf_grow(&of->buf, at + size - of->buf.len)) {
				pthread_mutex_unlock(&of->lock);
				return -ENOMEM;
			}
			of->buf.len = at + size;
			of->buf.buf[of->buf.len] = '\0';
		}
		memcpy(of->buf.buf + at, buf, size);
		of->dirty = true;
		ret = (int)size;
	}
	pthread_mutex_unlock(&of->lock);
	if (ret == -EFBIG)
		fs_refuse(ret, "write to", path,
			  "a ticket file is limited to 1 MiB");
	return ret;
}

/*
 * close().  What was written is applied when the process that opened the
 * file closes it, so that its close() reports a refusal; a child that
 * inherited the descriptor (`script >> file` running commands) closing its
 * copy applies nothing yet.  Whatever is left is applied when the last
 * descriptor goes (release).
 */
static int jfs_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	struct open_file *of = of_get(fi);
	if (fs_tgid(fs_caller_pid()) != of->opener)
		return 0;
	return fs_commit(fs_get(), of);
}

static int jfs_fsync(const char *path, int datasync,
		     struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	(void)fi;
	return 0; /* applied when closed */
}

static int jfs_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	struct open_file *of = of_get(fi);
	if (!of)
		return 0;
	/* nobody hears this result: fs_commit logs and keeps refusals */
	fs_commit(fs_get(), of);
	of_free(fs_get(), of);
	return 0;
}

static int jfs_truncate(const char *path, off_t size,
			struct fuse_file_info *fi)
{
	struct jirafs *fs = fs_get();
	struct node n;
	struct resolved r;
	int ret;

	if (fi) {
		struct open_file *of = of_get(fi);
		if (of->kind == OF_LOCAL) {
			struct local_stat st;
			local_node_stat(fs->local, of->ln, &st);
			ret = local_truncate(fs->local, of->ln, size,
					     local_limit(st.kind));
			if (!ret && st.kind != LOCAL_SCRATCH) {
				pthread_mutex_lock(&of->lock);
				of->dirty = true;
				pthread_mutex_unlock(&of->lock);
			}
			return ret;
		}
		if (of->kind != OF_TICKET_WRITE || of->append)
			return -EBADF;
		if (size < 0 || (size_t)size > JIRA_MAX_BODY)
			return -EFBIG;
		pthread_mutex_lock(&of->lock);
		if ((size_t)size > of->buf.len &&
		    strbuf_grow(&of->buf, (size_t)size - of->buf.len) == 0)
			memset(of->buf.buf + of->buf.len, 0,
			       (size_t)size - of->buf.len);
		if ((size_t)size <= of->buf.len || !of->buf.failed) {
			of->buf.len = (size_t)size;
			if (of->buf.buf)
				of->buf.buf[size] = '\0';
		}
		of->dirty = true;
		pthread_mutex_unlock(&of->lock);
		return 0;
	}
	if ((ret = fs_parse_path(path, &n)))
		return ret;
	if (n.kind == N_CTL_FILE)
		return -EROFS;
	if (n.kind != N_ENTRY)
		return n.kind == N_NONE ? -ENOENT : -EISDIR;
	if ((ret = fs_resolve(fs, &n, fs_deadline(fs), &r)))
		return ret;
	if (r.what == R_LOCAL && r.lst.kind != LOCAL_ALIAS)
		ret = local_truncate(fs->local, r.ln, size,
				     local_limit(r.lst.kind));
	else
		ret = fs_refuse(-EPERM, "truncate", path,
				"write the whole ticket file instead");
	fs_resolved_release(fs, &r);
	return ret;
}

/* ---- names -------------------------------------------------------------- */

/* rm of a draft whose create waits: cancel it if it never left, else
 * refuse (it may exist in Jira already, and will be applied once). */
static int cancel_create(struct jirafs *fs, const struct node *n,
			 const char *path)
{
	char subject[DIR_LEN + NAME_LEN + 8], why[JIRA_ERROR_MSG_MAX];
	snprintf(subject, sizeof(subject), "new:%s/%s", n->dir, n->name);
	int ret = outbox_cancel(fs->outbox, subject, why, sizeof(why));
	if (ret == -ENOENT)
		return 0;
	if (ret == 0) {
		jlog_notice("rm %s: its create was cancelled: %s", path, why);
		return 0;
	}
	return fs_refuse(ret, "rm", path, why);
}

static int jfs_unlink(const char *path)
{
	struct jirafs *fs = fs_get();
	struct node n;
	struct resolved r;
	int ret;

	if ((ret = fs_parse_path(path, &n)))
		return ret;
	if (n.kind == N_CTL_FILE || n.kind == N_CTL_INNER ||
	    n.kind == N_CTL_OUTBOX_FILE)
		return -EROFS;
	if (n.kind != N_ENTRY)
		return n.kind == N_NONE || n.kind == N_TOP_ENTRY ? -ENOENT
								 : -EISDIR;
	if ((ret = fs_resolve(fs, &n, fs_deadline(fs), &r)))
		return ret;
	if (r.what == R_LOCAL && r.lst.kind == LOCAL_DRAFT && fs->outbox)
		ret = cancel_create(fs, &n, path);
	if (ret)
		; /* the create stays queued */
	else if (r.what == R_LOCAL)
		ret = local_unlink(fs->local, n.dir, n.name);
	else
		ret = fs_refuse(-EPERM, "rm", path,
				"Jira tickets are not deleted through the "
				"filesystem");
	fs_resolved_release(fs, &r);
	return ret;
}

static int jfs_mkdir(const char *path, mode_t mode)
{
	(void)mode;
	return fs_refuse(-EPERM, "mkdir", path,
			 "directories are projects and closed/");
}

static int jfs_rmdir(const char *path)
{
	return fs_refuse(-EPERM, "rmdir", path,
			 "directories are projects and closed/");
}

static int jfs_symlink(const char *target, const char *path)
{
	(void)target;
	return fs_refuse(-EPERM, "symlink", path,
			 "links are made by creates only");
}

static int jfs_link(const char *from, const char *to)
{
	(void)to;
	return fs_refuse(-EPERM, "link", from, "no hard links");
}

static int jfs_rename(const char *from, const char *to, unsigned flags)
{
	struct jirafs *fs = fs_get();
	struct node a, b;
	int ret;

	if ((ret = fs_parse_path(from, &a)) || (ret = fs_parse_path(to, &b)))
		return ret;
	if (a.kind == N_CTL_FILE || a.kind == N_CTL_INNER ||
	    a.kind == N_CTL_OUTBOX_FILE || b.kind == N_CTL_FILE ||
	    b.kind == N_CTL_INNER || b.kind == N_CTL_OUTBOX_FILE)
		return fs_refuse(-EROFS, "rename", from,
				 ".jirafs/ is read-only");
	if (a.kind != N_ENTRY || b.kind != N_ENTRY)
		return fs_refuse(-EPERM, "rename", from,
				 "only files in project directories move");
	if ((ret = ready(fs)))
		return ret;
	return fs_rename(fs, &a, &b, flags);
}

static int jfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	struct jirafs *fs = fs_get();
	struct node n;
	struct resolved r;
	struct stat st;
	int ret;

	if ((ret = fs_parse_path(path, &n)))
		return ret;
	if (n.kind == N_ENTRY) {
		if ((ret = fs_resolve(fs, &n, fs_deadline(fs), &r)))
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
	if ((ret = jfs_getattr(path, &st, NULL)))
		return ret;
	if ((mode & 07777) == (st.st_mode & 07777))
		return 0;
	return fs_refuse(n.kind == N_CTL_FILE ? -EROFS : -EPERM, "chmod", path,
			 "modes are fixed");
}

static int jfs_chown(const char *path, uid_t uid, gid_t gid,
		     struct fuse_file_info *fi)
{
	(void)fi;
	struct jirafs *fs = fs_get();
	struct stat st;
	int ret = jfs_getattr(path, &st, NULL);
	if (ret)
		return ret;
	if ((uid == (uid_t)-1 || uid == fs->uid) &&
	    (gid == (gid_t)-1 || gid == fs->gid))
		return 0;
	return fs_refuse(-EPERM, "chown", path,
			 "everything belongs to the mounting user");
}

static int jfs_utimens(const char *path, const struct timespec tv[2],
		       struct fuse_file_info *fi)
{
	(void)fi;
	struct jirafs *fs = fs_get();
	struct node n;
	struct resolved r;
	int ret;

	if ((ret = fs_parse_path(path, &n)))
		return ret;
	if (n.kind != N_ENTRY) {
		struct stat st;
		return jfs_getattr(path, &st, NULL);
	}
	if ((ret = fs_resolve(fs, &n, fs_deadline(fs), &r)))
		return ret;
	if (r.what == R_LOCAL)
		local_utimens(fs->local, r.ln, tv);
	/* a ticket's times are Jira's: setting them is accepted and has no
	 * effect, so that cp -p, rsync -t and touch work */
	fs_resolved_release(fs, &r);
	return 0;
}

/* ---- extended attributes ------------------------------------------------ */

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

/* The value of a jirafs attribute of path (malloc'd), or -ENODATA. */
static int xattr_value(struct jirafs *fs, const char *path, const char *name,
		       char **out)
{
	struct node n;
	struct resolved r;
	int ret;

	*out = NULL;
	/* ls asks every file for security.selinux and ACLs: answer those
	 * without looking anything up */
	if (strncmp(name, "user.jira.", 10) != 0)
		return -ENODATA;
	if ((ret = fs_parse_path(path, &n)))
		return ret;
	if (n.kind != N_ENTRY)
		return n.kind == N_NONE ? -ENOENT : -ENODATA;
	if ((ret = fs_resolve(fs, &n, fs_deadline(fs), &r)))
		return ret;
	if (strcmp(name, "user.jira.state") == 0) {
		/* something written here waits in the outbox */
		char subject[DIR_LEN + NAME_LEN + 8];
		if (r.what == R_LOCAL && r.lst.kind == LOCAL_DRAFT)
			snprintf(subject, sizeof(subject), "new:%s/%s", n.dir,
				 n.name);
		else
			snprintf(subject, sizeof(subject), "%s",
				 r.what == R_TICKET ? r.issue->key : n.key);
		if (subject[0] && outbox_pending(fs->outbox, subject))
			*out = strdup("pending");
	} else if (r.what == R_LOCAL) {
		if (strcmp(name, "user.jira.error") == 0)
			*out = local_error(fs->local, r.ln);
	} else if (strcmp(name, "user.jira.key") == 0) {
		*out = strdup(r.issue->key);
	} else if (strcmp(name, "user.jira.status") == 0) {
		*out = strdup(r.issue->status);
	} else if (strcmp(name, "user.jira.url") == 0) {
		*out = jira_browse_url(fs->client, r.issue->key);
	} else if (strcmp(name, "user.jira.error") == 0) {
		*out = local_ticket_error(fs->local, r.issue->key);
	}
	fs_resolved_release(fs, &r);
	return *out ? 0 : -ENODATA;
}

static int jfs_getxattr(const char *path, const char *name, char *buf,
			size_t size)
{
	char *v;
	int ret = xattr_value(fs_get(), path, name, &v);
	if (ret)
		return ret;
	ret = xattr_reply(v, strlen(v), buf, size);
	free(v);
	return ret;
}

static int jfs_listxattr(const char *path, char *buf, size_t size)
{
	static const char *const names[] = { "user.jira.key", "user.jira.url",
					     "user.jira.status",
					     "user.jira.error",
					     "user.jira.state" };
	struct jirafs *fs = fs_get();
	char list[256];
	size_t off = 0;
	for (size_t k = 0; k < sizeof(names) / sizeof(*names); k++) {
		char *v;
		int ret = xattr_value(fs, path, names[k], &v);
		if (ret == -ENODATA)
			continue;
		if (ret)
			return ret;
		free(v);
		size_t l = strlen(names[k]) + 1;
		memcpy(list + off, names[k], l);
		off += l;
	}
	return xattr_reply(list, off, buf, size);
}

static int jfs_setxattr(const char *path, const char *name, const char *val,
			size_t size, int flags)
{
	(void)path;
	(void)name;
	(void)val;
	(void)size;
	(void)flags;
	return -ENOTSUP;
}

static int jfs_removexattr(const char *path, const char *name)
{
	(void)path;
	(void)name;
	return -ENOTSUP;
}

static int jfs_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = 4096;
	sv->f_frsize = 4096;
	sv->f_namemax = NAME_LEN - 1;
	return 0;
}

/* ---- life cycle -------------------------------------------------------- */

static void *jfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct jirafs *fs = fs_get();

	(void)cfg; /* lowlevel.c chooses the cache lifetimes, per name */
	/* open(O_TRUNC) arrives as such: an overwrite, not a truncate */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;

	if (jira_client_new(fs->jira, fs->auth, &fs->client)) {
		jlog_err("cannot set up the Jira client: out of memory");
		return fs;
	}
	struct tree_config tc = {
		.cache_ttl_ms = (int64_t)fs->cfg.cache_ttl_s * 1000,
		.timeout_ms = (int64_t)fs->jira->timeout_s * 1000,
		.only = fs->cfg.projects,
		.nonly = fs->cfg.nprojects,
		.changed = ll_ticket_changed,
		.ctx = fs,
	};
	fs->tree = tree_new(fs->client, &tc);
	fs->writer = jira_writer_new(fs->client, fs->wcfg);
	fs->local = local_new(fs->state_dir);
	struct outbox_callbacks cb = { fs, fs_outbox_applied, fs_outbox_made,
				       fs_outbox_refused };
	if (fs->writer)
		fs->outbox = outbox_new(fs->state_dir, fs->writer,
					fs->jira->max_connections,
					(int64_t)fs->jira->timeout_s * 1000,
					&cb);
	if (!fs->tree || !fs->writer || !fs->local || !fs->outbox)
		jlog_err("cannot set up the mount (out of memory, or the "
			 "state directory is unusable)");
	jlog_notice("mounted %s as %s", fs->jira->url,
		    fs->user ? fs->user : "?");
	return fs;
}

static void jfs_destroy(void *private_data)
{
	struct jirafs *fs = private_data;
	/* tree_free cancels every transfer, the outbox's too */
	tree_free(fs->tree);
	fs->tree = NULL;
	outbox_free(fs->outbox);
	fs->outbox = NULL;
	local_free(fs->local);
	fs->local = NULL;
	jira_writer_free(fs->writer);
	fs->writer = NULL;
	jira_client_free(fs->client);
	fs->client = NULL;
}

static const struct fuse_operations ops = {
	.init = jfs_init,
	.destroy = jfs_destroy,
	.getattr = jfs_getattr,
	.readlink = jfs_readlink,
	.readdir = jfs_readdir,
	.open = jfs_open,
	.create = jfs_create,
	.read = jfs_read,
	.write = jfs_write,
	.flush = jfs_flush,
	.fsync = jfs_fsync,
	.release = jfs_release,
	.truncate = jfs_truncate,
	.unlink = jfs_unlink,
	.mkdir = jfs_mkdir,
	.rmdir = jfs_rmdir,
	.symlink = jfs_symlink,
	.link = jfs_link,
	.rename = jfs_rename,
	.chmod = jfs_chmod,
	.chown = jfs_chown,
	.utimens = jfs_utimens,
	.getxattr = jfs_getxattr,
	.listxattr = jfs_listxattr,
	.setxattr = jfs_setxattr,
	.removexattr = jfs_removexattr,
	.statfs = jfs_statfs,
};

const struct fuse_operations *jirafs_operations(void)
{
	return &ops;
}
