/*
 * ops.h - what each request does, on a parsed node (fs/node.h) with the
 * request's context (fs/req.h).  fs/session.c decodes the kernel's
 * requests into these and replies; nothing here knows inode numbers.
 * Every function returns 0 (or a count) or -errno.
 *
 * attr.c: attributes, cache lifetimes, extended attributes.
 * ops.c:  directories, opening, reading and writing, names.
 * query_ops.c: the same for /queries/ and below, handed over by these.
 */
#ifndef JIRAFS_FS_OPS_H
#define JIRAFS_FS_OPS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "fs/handle.h"
#include "fs/node.h"
#include "fs/req.h"

/* ---- attr.c ---- */

int fs_getattr(const struct fs_req *rq, const struct fs_node *n,
	       struct stat *st);
/* fstat() of an open file whose name is gone: what the handle holds. */
int fs_getattr_open(struct jirafs *fs, const struct open_file *of,
		    struct stat *st);

/* How long the kernel may keep the entry and attributes of n, which st
 * describes: a ticket's name never changes kind (cache_ttl); directories
 * stay; names that change kind (drafts become aliases) are asked about
 * every time. */
void fs_ttl(const struct jirafs *fs, const struct fs_node *n,
	    const struct stat *st, double *entry, double *attr);

/* The stat of a ticket and of a local file (readdirplus). */
void fs_stat_ticket(const struct jirafs *fs, struct stat *st,
		    const struct jira_issue *i);
void fs_stat_local(const struct jirafs *fs, struct stat *st,
		   const struct local_stat *l, size_t link_len);
/* A file of PROJECT/scans/ as scans.h stat'ed it: the owner and umask. */
void fs_stat_scan(const struct jirafs *fs, struct stat *st);

/* setattr: FUSE_SET_ATTR_* in to_set; of may be NULL. */
int fs_setattr(const struct fs_req *rq, const struct fs_node *n,
	       struct open_file *of, const struct stat *attr, int to_set);

/* getxattr (name) or listxattr (name NULL): the length when size is 0,
 * else the bytes copied into buf, or -ERANGE. */
int fs_xattr(const struct fs_req *rq, const struct fs_node *n,
	     const char *name, char *buf, size_t size);

void fs_statfs(struct statvfs *sv);

/* ---- ops.c ---- */

int fs_readlink(const struct fs_req *rq, const struct fs_node *n, char *buf,
		size_t size);

struct tree_cursor;

/* One directory entry: st is NULL, or complete (readdirplus may give it
 * to the kernel).  Returns nonzero to stop. */
typedef int (*fs_fill_fn)(void *ctx, const char *name,
			  const struct stat *st);
/* The entries of directory n.  With a cursor (zeroed at first: struct
 * tree_cursor), a project directory whose first listing is being fetched
 * is given in pieces as its pages come: 1 means call again with the same
 * cursor for more (fs/tree.h, tree_tickets_stream); else 0 or -errno. */
int fs_readdir(const struct fs_req *rq, const struct fs_node *n, bool plus,
	       struct tree_cursor *cur, fs_fill_fn fill, void *ctx);

/* open(2) and create(2) with flags: *out is the new handle. */
int fs_open(const struct fs_req *rq, const struct fs_node *n, int flags,
	    struct open_file **out);
int fs_create(const struct fs_req *rq, const struct fs_node *n, mode_t mode,
	      struct open_file **out);

ssize_t fs_read(struct jirafs *fs, struct open_file *of, char *buf,
		size_t size, off_t off);
ssize_t fs_write(struct jirafs *fs, struct open_file *of, const char *buf,
		 size_t size, off_t off, int flags);
/* close() of a descriptor: applies what was written when the opener
 * closes it. */
int fs_flush(const struct fs_req *rq, struct open_file *of);
/* The last descriptor went: apply what is left, free of (NULL: none). */
void fs_release(const struct fs_req *rq, struct open_file *of);

int fs_unlink(const struct fs_req *rq, const struct fs_node *n);
int fs_rename_node(const struct fs_req *rq, const struct fs_node *a,
		   const struct fs_node *b, unsigned flags);
/* mkdir, rmdir, symlink, link, mknod of a non-file: refused with why. */
int fs_refuse_name(const struct fs_node *n, const char *what,
		   const char *why);

/* ---- query_ops.c: the nodes of /queries/ (fs/queries.h) ---- */

static inline bool fs_node_is_query(const struct fs_node *n)
{
	return n->kind == N_QUERIES || n->kind == N_QUERY_FILE ||
	       n->kind == N_QUERY_DIR || n->kind == N_QUERY_LINK;
}
int fs_query_getattr(const struct fs_req *rq, const struct fs_node *n,
		     struct stat *st);
int fs_query_readlink(const struct fs_req *rq, const struct fs_node *n,
		      char *buf, size_t size);
int fs_query_readdir(const struct fs_req *rq, const struct fs_node *n,
		     fs_fill_fn fill, void *ctx);
/* open(2), or create(2) with `create` */
int fs_query_open(const struct fs_req *rq, const struct fs_node *n,
		  int flags, bool create, struct open_file **out);
/* close() (`last`: the last descriptor let go): a text written is
 * validated (-EINVAL when Jira refuses it) */
int fs_query_flush(const struct fs_req *rq, struct open_file *of, bool last);
int fs_query_unlink(const struct fs_req *rq, const struct fs_node *n);
int fs_query_rename(const struct fs_req *rq, const struct fs_node *a,
		    const struct fs_node *b, unsigned flags);
/* The node of the ticket a link of queries/NAME/ points to. */
int fs_query_link_node(const struct fs_req *rq, const struct fs_node *n,
		       struct fs_node *out);
int fs_query_truncate(const struct fs_req *rq, const struct fs_node *n,
		      off_t size);
/* user.jira.error of a text Jira refused (malloc'd), or NULL */
char *fs_query_error(const struct fs_req *rq, const struct fs_node *n);

/* ---- attach_ops.c: PROJECT/attachments/ (fs/attach.h) ---- */

int fs_attach_getattr(const struct fs_req *rq, const struct fs_node *n,
		      struct stat *st);
int fs_attach_readdir(const struct fs_req *rq, const struct fs_node *n,
		      bool plus, fs_fill_fn fill, void *ctx);
int fs_attach_open(const struct fs_req *rq, const struct fs_node *n,
		   int flags, struct open_file **out);
/* A new name: an upload (-ENOTSUP, -EACCES when Jira would refuse it) */
int fs_attach_create(const struct fs_req *rq, const struct fs_node *n,
		     struct open_file **out);
/* close() (`last`: the last descriptor let go): an upload written is
 * journaled and tried */
int fs_attach_flush(const struct fs_req *rq, struct open_file *of, bool last);
/* rm, rename, truncate by name: -EPERM, with why */
int fs_attach_unlink(const struct fs_req *rq, const struct fs_node *n);
int fs_attach_rename(const struct fs_node *a);
int fs_attach_truncate(const struct fs_node *n);

#endif
