/*
 * local.h - files that live only in jirafs, never in Jira.
 *
 *   scratch  any name that is not a ticket name (CONTRACT §4): editors' swap
 *            and backup files, `sed -i` and rsync temporaries, vim's 4913.
 *            Fully POSIX-like, kept in memory.
 *   draft    a ticket name that is not (yet) a ticket: a new file being
 *            written, or one whose create was refused (it keeps the bytes
 *            written and the reason, and writing it again retries).
 *   overlay  a refused overwrite of an existing ticket: shown under the
 *            ticket's name with exactly the bytes written, until written
 *            again (retry) or removed (the ticket shows again).
 *   alias    a symlink left by a create: name -> ticket key.  Aliases are
 *            kept across mounts in the state directory (an append-only
 *            journal of JSON lines, compacted at load).  Removing an alias
 *            hides it but remembers the key: tools that replace a symlink
 *            (rsync -a, install) then update the same ticket instead of
 *            creating another.
 *
 * Files live in directories named "SEC" or "SEC/closed".  Nodes are
 * reference-counted: the directory holds one reference while the name
 * exists, each open file one more, so a file unlinked while open keeps
 * working (POSIX).  One mutex guards every node's content and every
 * directory; all work under it is memory-only.  The alias journal has a
 * lock of its own, taken after the local lock is released.
 */
#ifndef JIRAFS_FS_LOCAL_H
#define JIRAFS_FS_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* A scratch file may not exceed this, nor all of them together the total
 * (-EFBIG / -ENOSPC): they are memory. */
#define LOCAL_MAX_FILE (64u << 20)
#define LOCAL_MAX_TOTAL (512u << 20)

enum local_kind {
	LOCAL_SCRATCH,
	LOCAL_DRAFT,
	LOCAL_OVERLAY,
	LOCAL_ALIAS,
};

struct local;
struct local_node;

/* Load the aliases kept in state_dir (NULL: keep none).  NULL when out of
 * memory. */
struct local *local_new(const char *state_dir);
void local_free(struct local *l);

/* Attributes of a node (a snapshot). */
struct local_stat {
	enum local_kind kind;
	mode_t mode;          /* permission bits */
	off_t size;           /* content length; an alias: 0 */
	struct timespec atime, mtime, ctime;
	bool has_error;       /* user.jira.error is set */
};

/* The node `name` in `dir`, with a new reference; -ENOENT. */
int local_get(struct local *l, const char *dir, const char *name,
	      struct local_node **out);
/* A new node; -EEXIST when the name is taken.  A reference for the caller
 * is returned in *out (may be NULL: then none). */
int local_create(struct local *l, const char *dir, const char *name,
		 enum local_kind kind, mode_t mode, struct local_node **out);
/* Remove the name (the node lives on while referenced); -ENOENT.  An alias
 * removal is journaled. */
int local_unlink(struct local *l, const char *dir, const char *name);
/* Move a node to another name (replacing a node there); -ENOENT.  The
 * node's kind becomes `kind` (e.g. a scratch file renamed to a ticket name
 * becomes a draft). */
int local_rename(struct local *l, const char *from_dir, const char *from,
		 const char *to_dir, const char *to, enum local_kind kind);

void local_node_unref(struct local *l, struct local_node *n);

void local_node_stat(struct local *l, struct local_node *n,
		     struct local_stat *st);
/* Still reachable by its name? (false once unlinked or replaced) */
bool local_node_linked(struct local *l, struct local_node *n);

/* Content: read/write at an offset, truncate, or a copy of all of it.
 * write returns bytes written or -EFBIG / -ENOSPC; `limit` (0 = none)
 * caps the size below LOCAL_MAX_FILE (a draft is a ticket body); an
 * offset of -1 appends atomically. */
ssize_t local_read(struct local *l, struct local_node *n, char *buf,
		   size_t size, off_t off);
ssize_t local_write(struct local *l, struct local_node *n, const char *buf,
		    size_t size, off_t off, size_t limit);
int local_truncate(struct local *l, struct local_node *n, off_t size,
		   size_t limit);
/* Replace the whole content (a copy); -EFBIG / -ENOSPC. */
int local_set_content(struct local *l, struct local_node *n,
		      const char *data, size_t len);
/* A malloc'd NUL-terminated copy of the content. */
char *local_content(struct local *l, struct local_node *n, size_t *len);

int local_chmod(struct local *l, struct local_node *n, mode_t mode);
void local_utimens(struct local *l, struct local_node *n,
		   const struct timespec tv[2]);

/* user.jira.error: set (NULL clears) and get (malloc'd, NULL if none). */
void local_set_error(struct local *l, struct local_node *n, const char *msg);
char *local_error(struct local *l, struct local_node *n);

/* An alias's key (malloc'd), NULL for other kinds. */
char *local_alias_key(struct local *l, struct local_node *n);
/* Make `name` in dir an alias of key (replacing what was there) and journal
 * it.  0 or -errno (the alias exists in memory even if the journal write
 * failed; that is logged). */
int local_alias_set(struct local *l, const char *dir, const char *name,
		    const char *key);

/* Forget the alias dir/name, shown or removed (its ticket is gone from
 * Jira), journaled: writing the name then creates a ticket.  0 or
 * -ENOENT. */
int local_alias_drop(struct local *l, const char *dir, const char *name);

/* Call fn for every node of dir, under the local lock (fn must not block
 * or call back into local). */
void local_list(struct local *l, const char *dir,
		void (*fn)(void *ctx, const char *name,
			   const struct local_stat *st),
		void *ctx);

/* Is there a node named `name` in dir? */
bool local_exists(struct local *l, const char *dir, const char *name);

/* The key of an alias removed from dir/name (malloc'd), or NULL. */
char *local_hidden_alias(struct local *l, const char *dir, const char *name);

/* Where n is now: 0 with its directory and name, or -ENOENT when it was
 * removed. */
int local_node_where(struct local *l, struct local_node *n, char *dir,
		     size_t dsize, char *name, size_t nsize);

/* One commit of a node at a time: begin waits (until the CLOCK_MONOTONIC
 * deadline, in ms: -ETIMEDOUT) while another is under way. */
int local_commit_begin(struct local *l, struct local_node *n,
		       int64_t deadline_ms);
void local_commit_end(struct local *l, struct local_node *n);

/* An overlay kept for a refused append shows the ticket followed by the
 * bytes appended; append_from is where those start (-1: an overwrite).
 * Truncating below it makes the overlay an overwrite. */
off_t local_append_from(struct local *l, struct local_node *n);
/* A view of a write that waits, in one step (a reader never sees it half
 * made): the overlay dir/name with data and append_from, replacing what
 * was there; or, for a node that is one already, its new data and
 * append_from, its error cleared.  0, -EFBIG, -ENOSPC or -ENOMEM. */
int local_create_view(struct local *l, const char *dir, const char *name,
		      const char *data, size_t len, off_t append_from,
		      struct local_node **out);
int local_set_view(struct local *l, struct local_node *n, const char *data,
		   size_t len, off_t append_from);
void local_set_append_from(struct local *l, struct local_node *n, off_t off);

/* Per-ticket write errors (a refused comment leaves no file to hang the
 * error on): set (NULL clears) and get (malloc'd or NULL). */
void local_ticket_error_set(struct local *l, const char *key,
			    const char *msg);
char *local_ticket_error(struct local *l, const char *key);

#endif
