/*
 * attach.h - the state of PROJECT/attachments/ (CONTRACT §11): the names a
 * ticket's attachments are shown under, the download cache, the uploads
 * being written or waiting in the outbox, and what the server allows.
 *
 *   STATE/attachments/cache/ID      an attachment downloaded (by id: a
 *                                   name never reaches the disk)
 *   STATE/attachments/up/KEY/NAME   an upload: written there, then sent
 *                                   by the outbox (JIRA_OP_ATTACH), which
 *                                   removes it once done
 *
 * The cache holds at most cache_max bytes: after each download the least
 * recently read files go until the rest fits (the one just read stays,
 * and a file open for reading stays readable once gone).
 *
 * Thread-safe (one mutex); no lock is held during a request.
 */
#ifndef JIRAFS_FS_ATTACH_H
#define JIRAFS_FS_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/node.h"
#include "jira/attach.h"
#include "jira/issue.h"

#define ATTACH_DEFAULT_CACHE_MAX (256ULL << 20)

struct attach;

/* The attachments of the mount with state_dir.  NULL when the directory
 * cannot be made (logged). */
struct attach *attach_new(const char *state_dir, struct jira_client *c,
			  size_t cache_max, int64_t ttl_ms);
void attach_free(struct attach *a);

/* A ticket's attachments as its directory shows them. */
struct attach_dir {
	struct jira_attachment *a; /* in id order */
	char (*names)[NAME_LEN];   /* a[i]'s file name */
	size_t n;
};

/* The entries of ticket i's directory: Jira's file names made safe (no
 * "/" or control character, not "." or "..", at most 255 bytes with the
 * extension kept); of several with one name the oldest keeps it and each
 * later one is "STEM (ID).EXT".  0 or -ENOMEM (-EIO: the text is not
 * readable). */
int attach_dir_of(const struct jira_issue *i, struct attach_dir *d);
/* The index of name in d, or -1. */
long attach_dir_find(const struct attach_dir *d, const char *name);
void attach_dir_release(struct attach_dir *d);

/* The name rules alone (exposed for unit tests): name made safe into out
 * (NAME_LEN bytes); and the n-th name of a duplicate: " (ID)" before the
 * extension (n = 0), then " (ID-2)", " (ID-3)"... */
void attach_safe_name(const char *name, char *out);
void attach_dup_name(const char *safe, const char *id, unsigned n,
		     char *out);

/* An fd open for reading att's content, downloaded first when the cache
 * does not hold it.  0 or -errno (the reason logged). */
int attach_fetch(struct attach *a, const struct jira_attachment *att,
		 deadline_t d, int *fd);

/* May a file be attached to key now?  0 with the most a file may hold in
 * *limit (0: no limit known), -ENOTSUP (attachments off), -EACCES (no
 * permission), the reason in why.  When Jira cannot be asked, 0 (the
 * outbox learns it later). */
int attach_may_create(struct attach *a, const char *key, deadline_t d,
		      int64_t *limit, char *why, size_t whysize);

/* The upload of name to key: create it (O_EXCL: -EEXIST when one is
 * there), or its path.  0 or -errno. */
int attach_spool_create(struct attach *a, const char *key, const char *name,
			int *fd);
int attach_spool_path(struct attach *a, const char *key, const char *name,
		      char *buf, size_t size);
/* The upload's file and its directories on the disk (before its record
 * is journaled): 0 or -errno. */
int attach_spool_sync(struct attach *a, const char *key, int fd);
/* The upload's file as stat(2) sees it: 0, -ENOENT. */
int attach_spool_stat(struct attach *a, const char *key, const char *name,
		      struct stat *st);
/* Remove it (the outbox is done with it, or it was let go empty). */
void attach_spool_remove(struct attach *a, const char *key,
			 const char *name);
/* fn for each upload of key (name, its stat). */
void attach_spool_list(struct attach *a, const char *key,
		       void (*fn)(void *ctx, const char *name,
				  const struct stat *st),
		       void *ctx);
/* At the start of a mount: remove the uploads no record of the outbox
 * names (kept(ctx, "KEY/NAME") false): a crash between their create and
 * their close, or after their record left the journal.  A record's path
 * ends in ATTACH_SPOOL_TAIL "KEY/NAME". */
#define ATTACH_SPOOL_TAIL "/attachments/up/"
void attach_spool_sweep(struct attach *a,
			bool (*kept)(void *ctx, const char *path), void *ctx);
/* fn for each key of project with an upload. */
void attach_spool_keys(struct attach *a, const char *project,
		       void (*fn)(void *ctx, const char *key), void *ctx);

/* For .jirafs/status. */
struct attach_stats {
	size_t cached, cached_bytes, cache_max;
	uint64_t downloads, uploads;
};
void attach_stats(struct attach *a, struct attach_stats *out);
/* An upload went through (for the counters). */
void attach_uploaded(struct attach *a);

#endif
