/*
 * journal.h - a directory of records, one file each ("NNNN-ID.json"),
 * written atomically and durably, listed back in the order of their names.
 * What the records mean is the caller's (fs/outbox.c); this knows files.
 * A half-written temporary ("*.json.tmp<pid>", from util/path.h's
 * path_write_atomic) is removed when the directory is scanned; any other
 * file is left alone.  No locks; functions return 0 or -errno.
 */
#ifndef JIRAFS_FS_JOURNAL_H
#define JIRAFS_FS_JOURNAL_H

#include <stddef.h>

#define JOURNAL_SUFFIX ".json" /* a record's file */

/* Write text as dir/file, replacing it atomically (fsync'd). */
int journal_write(const char *dir, const char *file, const char *text);
/* Write n records at once: every one is written to a temporary and
 * flushed before the first is renamed into place, so that a failure
 * (-ENOSPC, -EIO) leaves none of them; the directory is flushed once at
 * the end.  A crash during the renames can leave a prefix of them. */
int journal_write_batch(const char *dir, char *const *files,
			char *const *texts, size_t n);
/* Remove dir/file (gone already is fine; a failure is logged). */
void journal_remove(const char *dir, const char *file);

/* For each "*.json" file of dir not starting with ".", in name order:
 * fn(ctx, file, text, len), text being its content (NULL when it cannot
 * be read).  The temporaries are removed first.  Returns the number of
 * files given to fn. */
size_t journal_scan(const char *dir,
		    void (*fn)(void *ctx, const char *file, const char *text,
			       size_t len),
		    void *ctx);

#endif
