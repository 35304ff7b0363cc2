/*
 * node.h - the name grammar of the tree (CONTRACT §2, §4): what a name is,
 * decided once, at lookup, from its parent's node and the name alone.
 *
 *   /                      N_ROOT
 *   /.jirafs               N_CTL_DIR; status, log: N_CTL_FILE; outbox:
 *                          N_CTL_OUTBOX; its files N_CTL_OUTBOX_FILE;
 *                          any other name in it N_CTL_INNER
 *   /SEC                   N_PROJECT (a valid project key)
 *   /SEC/closed            N_CLOSED
 *   /SEC/scans             N_SCANS; any name in it N_SCAN_FILE (a report,
 *                          or the result of one: NAME.result.json)
 *   /SEC/attachments       N_ATTACHMENTS; a name in it that is a key of
 *                          the project N_ATTACH_DIR (key: it), any other
 *                          N_NONE; the names in that N_ATTACH_FILE (key:
 *                          the directory's, name: the file's)
 *   /SEC/x, /SEC/closed/x  N_ENTRY: a ticket name ("*.json", not starting
 *                          with "."), which names a ticket when it is
 *                          "SEC-<n>.json" of this project, or a scratch name
 *   /queries               N_QUERIES (fs/queries.h): NAME.jql and scratch
 *                          names in it N_QUERY_FILE, other names
 *                          N_QUERY_DIR (name: the query's), their
 *                          entries N_QUERY_LINK (dir: the query's name)
 *   /other                 N_TOP_ENTRY (not a project key)
 *   anything deeper        N_NONE
 *
 * Every string of the grammar is built here and nowhere else: a ticket's
 * file name, a directory "SEC[/closed]", the outbox subject of a create.
 * Pure functions over caller-owned values; no locks, no requests.
 */
#ifndef JIRAFS_FS_NODE_H
#define JIRAFS_FS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_DIR ".jirafs"
#define CLOSED_DIR "closed"
#define SCANS_DIR "scans"
#define ATTACH_DIR "attachments"
#define TICKET_SUFFIX ".json"
#define QUERIES_DIR "queries"
#define QUERY_SUFFIX ".jql"
#define NAME_LEN 256  /* a file name, NUL included */
#define DIR_LEN 300   /* "SEC/closed" */
#define SUBJECT_LEN (DIR_LEN + NAME_LEN + 8) /* "new:SEC/closed/x.json" */

enum fs_node_kind {
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
	N_SCANS,     /* /SEC/scans */
	N_SCAN_FILE, /* /SEC/scans/NAME */
	N_QUERIES,   /* /queries */
	N_QUERY_FILE, /* /queries/NAME.jql (or a scratch name) */
	N_QUERY_DIR, /* /queries/NAME */
	N_QUERY_LINK, /* /queries/NAME/SEC-12.json */
	N_ATTACHMENTS, /* /SEC/attachments */
	N_ATTACH_DIR, /* /SEC/attachments/SEC-12 */
	N_ATTACH_FILE, /* /SEC/attachments/SEC-12/NAME */
};

/* A name taken apart. */
struct fs_node {
	enum fs_node_kind kind;
	char project[NAME_LEN]; /* "SEC" (projects and below) */
	char dir[DIR_LEN];      /* "SEC" or "SEC/closed" */
	char name[NAME_LEN];    /* an entry's, a control file's or a top
				   entry's name, else "" */
	bool closed;            /* in (or is) closed/ */
	bool ticket_name;       /* "*.json" not starting with "." (§4) */
	char key[NAME_LEN];     /* "SEC-12" when name is "SEC-12.json" of this
				   project, else "" */
};

/* The root. */
void fs_node_root(struct fs_node *n);

/* The node of `name` in the directory `parent`: 0, or -ENAMETOOLONG. */
int fs_node_child(const struct fs_node *parent, const char *name,
		  struct fs_node *out);

/* How many names fs_node_child has taken apart in this process: a read
 * of a ticket costs one (its lookup), whatever follows (.jirafs/status
 * shows it as counters.names_parsed). */
uint64_t fs_node_parsed(void);

/* The node of "/a/b/c" (components parsed from the root). */
int fs_node_parse(const char *path, struct fs_node *n);

/* The node of `name` in the project directory `dir` ("SEC[/closed]"):
 * 0, -ENAMETOOLONG, or -ENOENT when dir is not one. */
int fs_node_at(const char *dir, const char *name, struct fs_node *n);

/* The node of ticket key of project in KEY/ or KEY/closed/. */
void fs_node_ticket(const char *project, const char *key, bool closed,
		    struct fs_node *n);

/* "SEC" or "SEC/closed". */
void fs_dir_name(char *buf, size_t size, const char *project, bool closed);

/* "SEC-1.json" for key; "" when it does not fit. */
void fs_ticket_name(char *buf, size_t size, const char *key);

/* "SEC/closed/x.json", for messages. */
void fs_node_path(const struct fs_node *n, char *buf, size_t size);

/* The outbox subject of a create by writing `name` in project[/closed]:
 * "new:SEC/x.json".  Records of existing tickets have the key as theirs. */
void fs_create_subject(char *buf, size_t size, const char *project,
		       bool closed, const char *name);

/* In queries/: "NAME.jql" defines the query NAME (into qname when
 * given). */
bool queries_is_definition(const char *name, char *qname, size_t size);
/* A name of queries/ that is a file (a definition, or a scratch name:
 * ".x", "x~", "#x#"); any other is a query's directory. */
bool queries_is_file(const char *name);

/* A directory of the tree. */
static inline bool fs_node_is_dir(const struct fs_node *n)
{
	return n->kind == N_ROOT || n->kind == N_CTL_DIR ||
	       n->kind == N_CTL_OUTBOX || n->kind == N_PROJECT ||
	       n->kind == N_CLOSED || n->kind == N_SCANS ||
	       n->kind == N_QUERIES || n->kind == N_QUERY_DIR ||
	       n->kind == N_ATTACHMENTS || n->kind == N_ATTACH_DIR;
}

/* A name in PROJECT/attachments/ or below (fs/attach_ops.c). */
static inline bool fs_node_is_attach(const struct fs_node *n)
{
	return n->kind == N_ATTACHMENTS || n->kind == N_ATTACH_DIR ||
	       n->kind == N_ATTACH_FILE;
}

/* A name inside .jirafs/ (read-only). */
static inline bool fs_node_is_ctl(const struct fs_node *n)
{
	return n->kind == N_CTL_FILE || n->kind == N_CTL_INNER ||
	       n->kind == N_CTL_OUTBOX_FILE;
}

#endif
