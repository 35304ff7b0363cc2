/*
 * handle.h - an open file: what it was opened on and, for a ticket opened
 * for writing, the bytes written to it until close() applies them
 * (fs/commit.h).
 *
 *   OF_TICKET_READ   a ticket opened read-only: a snapshot of its text
 *   OF_CTL           a control file: a snapshot
 *   OF_LOCAL         a scratch file, draft or overlay (fs/local.h)
 *   OF_TICKET_WRITE  a ticket opened for writing: the new file (overwrite)
 *                    or the bytes appended (O_APPEND)
 *   OF_SCAN          a file on disk: of PROJECT/scans/ (fs/scans.h), a
 *                    report written is imported at close; or of queries/
 *                    (fs/queries.h), a JQL text written is validated at
 *                    close (its node says which)
 *   OF_ATTACH        an attachment (fs/attach.h): read, `att` says which,
 *                    from the cache file downloaded on the first read
 *                    (fd); or an upload being written (att NULL, fd: its
 *                    spooled file), attached at close
 */
#ifndef JIRAFS_FS_HANDLE_H
#define JIRAFS_FS_HANDLE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "fs/fs.h"
#include "fs/local.h"
#include "fs/node.h"
#include "jira/issue.h"
#include "util/strbuf.h"

enum of_kind {
	OF_TICKET_READ,
	OF_CTL,
	OF_LOCAL,
	OF_TICKET_WRITE,
	OF_SCAN,
	OF_ATTACH,
};

struct jira_attachment;

struct open_file {
	enum of_kind kind;
	struct fs_node node;       /* where it was opened */
	struct jira_issue *issue;  /* TICKET_READ: what is read; TICKET_WRITE:
				      the ticket as read when opened (base) */
	char *data;                /* CTL */
	size_t len;
	struct local_node *ln;     /* LOCAL */
	pthread_mutex_t lock;      /* guards what follows (writes may come
				      from several threads on one fd) */
	struct strbuf buf;         /* TICKET_WRITE: the new file (overwrite)
				      or the bytes appended (append) */
	bool append;               /* TICKET_WRITE opened with O_APPEND */
	bool dirty;                /* written since the last commit */
	int write_error;           /* a write failed (-EFBIG...): the content
				      is incomplete and is not applied */
	char *committed;           /* TICKET_WRITE overwrite: the body last
				      applied (the same again sends nothing) */
	pid_t opener;              /* process that opened it: its close()
				      applies what was written */
	int fd;                    /* SCAN: the file on disk, else -1 */
	bool emptied;              /* SCAN: created or truncated by open:
				      if nothing is written, the empty
				      report is refused when it is let go;
				      ATTACH: created (an empty file is
				      attached) */
	struct jira_attachment *att; /* ATTACH being read: which, owned */
	int64_t limit;             /* ATTACH upload: the most Jira takes
				      (0: no limit known) */
	bool sent;                 /* ATTACH upload: journaled (or let go):
				      no more writes */
};

/* A handle on n opened by thread tid.  NULL when out of memory. */
struct open_file *handle_new(enum of_kind kind, const struct fs_node *n,
			     pid_t tid);
void handle_free(struct jirafs *fs, struct open_file *of);

/* What a close() of a file on disk (OF_SCAN) has to apply, taken: true
 * when it was written, or (`last`: the last descriptor let go) created or
 * truncated and let go empty; the first write error in *werr.  A shell
 * opens, dup2()s and closes before the program writes: a flush of nothing
 * is nothing. */
bool handle_take_written(struct open_file *of, bool last, int *werr);

/* Was of opened by the process thread tid belongs to? */
bool handle_opener(const struct open_file *of, pid_t tid);

/* The most a local file of kind k may hold (0: LOCAL_MAX_FILE): a draft
 * or overlay is a ticket body. */
size_t handle_local_limit(enum local_kind k);

/* read(2) at off: the byte count or -errno. */
ssize_t handle_read(struct jirafs *fs, struct open_file *of, char *buf,
		    size_t size, off_t off);
/* write(2) at off (O_APPEND: at the end): the byte count or -errno; a
 * failure marks the content incomplete (nothing is applied at close). */
ssize_t handle_write(struct jirafs *fs, struct open_file *of,
		     const char *buf, size_t size, off_t off, bool o_append);
/* ftruncate(2): 0 or -errno. */
int handle_truncate(struct jirafs *fs, struct open_file *of, off_t size);

#endif
