/*
 * scans.h - the files of PROJECT/scans/ (CONTRACT §10): the reports
 * written there and the result of each one's last import.
 *
 *   NAME               a report as written; closing it imports it
 *                      (fs/scan_import.h).  NAME is the scan's scope.
 *   NAME.dry-run       a report planned against scope NAME but not
 *                      applied: only its result is written
 *   NAME.result.json   read-only: what the last import of NAME did
 *   .NAME, NAME~       scratch names (rsync's and editors' temporaries):
 *                      kept, never imported; renamed to a report name,
 *                      they are imported
 *
 * The files live on disk in STATE_DIR/scans/PROJECT/, not in memory, so a
 * 64 MiB report costs page cache, not heap, and they outlast the mount.
 * A result is kept in memory while the operations of its import wait in
 * the outbox, and written back as they are applied.  One mutex guards the
 * results and the import errors; the files need none (the kernel's).
 * Functions return 0 or -errno.
 */
#ifndef JIRAFS_FS_SCANS_H
#define JIRAFS_FS_SCANS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* The largest report imported: a write past it fails with EFBIG. */
#define SCANS_MAX_REPORT ((off_t)64 << 20)
#define SCANS_RESULT_SUFFIX ".result.json"
#define SCANS_DRY_SUFFIX ".dry-run"

struct scans;

struct scans *scans_new(const char *state_dir);
/* Writes back the results still held. */
void scans_free(struct scans *s);

/* NAME.result.json */
bool scans_is_result(const char *name);
/* A name never imported: ".x", "x~", "#x#" */
bool scans_is_scratch(const char *name);
/* The scope of the report `name` ("x.sarif" of "x.sarif.dry-run") into
 * scope; whether it is a dry run. */
bool scans_scope(const char *name, char *scope, size_t size);

/* Each file of PROJECT/scans/ with its stat (mode as shown). */
int scans_list(struct scans *s, const char *project,
	       void (*fn)(void *ctx, const char *name, const struct stat *st),
	       void *ctx);
int scans_stat(struct scans *s, const char *project, const char *name,
	       struct stat *st);
/* open(2) of the file with flags (O_CREAT to create): *fd.  A result is
 * read-only (-EACCES for writing). */
int scans_open(struct scans *s, const char *project, const char *name,
	       int flags, int *fd);
int scans_unlink(struct scans *s, const char *project, const char *name);
int scans_rename(struct scans *s, const char *project, const char *from,
		 const char *to);

/* The reason the last import of name failed (malloc'd), or NULL. */
char *scans_error(struct scans *s, const char *project, const char *name);
void scans_set_error(struct scans *s, const char *project, const char *name,
		     const char *why);

/*
 * Results.  scans_result_put() takes over result (a JSON object with a
 * "findings" array of {"fingerprint", "key", ...}) and writes it as
 * NAME.result.json; `pending` creates of it wait in the outbox.
 * scans_result_made() gives a fingerprint its key once its create is
 * applied: 1 when that was the last create the result waited for, else 0.
 * Results are written back at most once a second while they wait, and
 * when the last create is in.
 */
int scans_result_put(struct scans *s, const char *project, const char *name,
		     cJSON *result, size_t pending);
int scans_result_made(struct scans *s, const char *project, const char *name,
		      const char *fp, const char *key);
/* Jira refused the create of fp for good: no longer pending, why kept in
 * the result and on the report.  Returns as scans_result_made. */
int scans_result_refused(struct scans *s, const char *project,
			 const char *name, const char *fp, const char *why);
/* The key the create of fp by this import got (malloc'd), or NULL. */
char *scans_result_key(struct scans *s, const char *project, const char *name,
		       const char *fp);

#endif
