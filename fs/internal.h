/*
 * internal.h - what the FUSE operations (ops.c) and the write path
 * (write.c) share: paths taken apart, open files, the lookup of a name.
 * Private to fs/.
 */
#ifndef JIRAFS_FS_INTERNAL_H
#define JIRAFS_FS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "fs/fs.h"
#include "fs/local.h"
#include "jira/issue.h"
#include "jira/op.h"
#include "jira/write.h"
#include "util/strbuf.h"

#define CTL_DIR ".jirafs"
#define CLOSED_DIR "closed"
#define TICKET_SUFFIX ".json"
#define NAME_LEN 256  /* a file name, NUL included */
#define DIR_LEN 300   /* "SEC/closed" */

enum node_kind {
	N_NONE,      /* nothing can be there */
	N_ROOT,
	N_CTL_DIR,
	N_CTL_FILE,  /* .jirafs/status, .jirafs/log */
	N_CTL_OUTBOX,
	N_CTL_OUTBOX_FILE, /* .jirafs/outbox/NAME */
	N_CTL_INNER, /* a name inside .jirafs/ that is not ours */
	N_PROJECT,   /* /SEC */
	N_CLOSED,    /* /SEC/closed */
	N_ENTRY,     /* a name in /SEC or /SEC/closed */
	N_TOP_ENTRY, /* a name at the root that is not a project */
};

/* A path taken apart (no lookups, no requests). */
struct node {
	enum node_kind kind;
	char project[NAME_LEN]; /* "SEC" */
	char dir[DIR_LEN];      /* "SEC" or "SEC/closed" */
	char name[NAME_LEN];    /* the last component */
	bool closed;            /* in closed/ */
	bool ticket_name;       /* "*.json" not starting with "." (§4) */
	char key[NAME_LEN];     /* "SEC-12" when name is "SEC-12.json" of this
				   project, else "" */
};

/* Returns 0, or -ENAMETOOLONG when a component is too long. */
int fs_parse_path(const char *path, struct node *n);

/* The mount, and the process whose request is being served (lowlevel.c
 * sets both for the operations of ops.c). */
struct jirafs *fs_get(void);
pid_t fs_caller_pid(void);

/* What a name in a project directory is. */
struct resolved {
	enum { R_LOCAL, R_TICKET } what;
	struct local_node *ln;    /* R_LOCAL: a reference */
	struct local_stat lst;
	struct jira_issue *issue; /* R_TICKET: a reference */
};
/* Resolve an N_ENTRY: a local file first, then a ticket.  0 or -errno
 * (-ENOENT when nothing is there).  Release with fs_resolved_release. */
int fs_resolve(struct jirafs *fs, const struct node *n, deadline_t d,
	       struct resolved *r);
void fs_resolved_release(struct jirafs *fs, struct resolved *r);

enum of_kind {
	OF_TICKET_READ,  /* a ticket opened read-only: a snapshot */
	OF_CTL,          /* a control file: a snapshot */
	OF_LOCAL,        /* a scratch file, draft or overlay */
	OF_TICKET_WRITE, /* a ticket opened for writing */
};

struct open_file {
	enum of_kind kind;
	struct node node;          /* where it was opened */
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
};

/* The deadline of an operation starting now. */
deadline_t fs_deadline(const struct jirafs *fs);

/* write.c: apply what an open file holds (at the opener's close(), or
 * when the last descriptor goes).  0 or -errno. */
int fs_commit(struct jirafs *fs, struct open_file *of);

/* The process (thread group) a thread belongs to. */
pid_t fs_tgid(pid_t tid);
/* write.c: rename(2) in project directories.  0 or -errno. */
int fs_rename(struct jirafs *fs, const struct node *from,
	      const struct node *to, unsigned flags);
/* write.c: the target of an alias symlink, relative to its directory. */
int fs_alias_target(struct jirafs *fs, const struct node *n,
		    const char *key, char *buf, size_t size);

/* write.c: what the outbox reports of records applied or refused later
 * (struct outbox_callbacks, ctx = the struct jirafs). */
void fs_outbox_applied(void *ctx, const struct jira_op *op,
		       struct jira_op_result *res);
void fs_outbox_made(void *ctx, const struct jira_op *op,
		    const struct jira_op_result *res);
void fs_outbox_refused(void *ctx, const struct jira_op *op,
		       struct jira_op_result *res, int err, const char *why);

/* Log a refusal (one line) and return err. */
int fs_refuse(int err, const char *what, const char *path, const char *why);

#endif
