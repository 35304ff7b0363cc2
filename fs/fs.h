/*
 * fs.h - the filesystem: FUSE operations over the tree (CONTRACT §2, §3).
 *
 *   /.jirafs/status   JSON: server, versions, user, auth, transport, counters
 *   /.jirafs/log      the last 200 notable events
 *   /.jirafs/outbox/  operations not yet applied
 *   /KEY/             a project: its open tickets as KEY-N.json, aliases
 *                     left by creates, scratch files
 *   /KEY/closed/      its tickets whose status category is "done"
 *   /KEY/scans/       scanner reports, imported as tickets when closed
 *
 * Writing (CONTRACT §4): a new *.json file creates a ticket when closed,
 * bytes appended add a comment, an overwrite updates, rename between KEY/
 * and KEY/closed/ closes and reopens; other names are scratch files kept in
 * memory (fs/local.h).  commit.c turns these into operation records
 * (jira/op.h) for the outbox (fs/outbox.h).
 *
 * main.c fills a struct jirafs (options, the auth method, what the mount
 * check learned) and starts jirafs_session_new().  The files of fs/, in
 * the order calls go (nothing calls back up):
 *
 *   session.c  the FUSE low-level adapters: decode, one reply per request
 *   held.c, listing.c  the handles the kernel holds; directory listings
 *   inode.c    inode numbers, each holding its name's parsed node
 *   inval.c    telling the kernel what changed
 *   mount.c    set-up after daemonizing, tear-down in order
 *   ops.c, attr.c  the operations, on (struct fs_req, struct fs_node)
 *   handle.c   open files and their write buffer
 *   commit.c, rename.c, outcome.c  writes -> operation records -> outbox
 *   scan_import.c  a report in KEY/scans/ -> a plan (scan/) -> outbox
 *   scans.c    the files of KEY/scans/ and the results of imports
 *   resolve.c  a name -> a local file or a ticket
 *   node.c     the name grammar (a leaf)
 *   tree.c -> fetch.c -> model.c, refresh.c  the cached model of Jira
 *   local.c, local_data.c -> alias.c  files of jirafs alone
 *   outbox.c -> journal.c  operations not yet applied
 *   ctl.c, errmap.c, options.c, config.c
 *
 * Every operation has one deadline from -o timeout (fs/req.h) and maps
 * failures to errno through fs/errmap.h.
 */
#ifndef JIRAFS_FS_FS_H
#define JIRAFS_FS_FS_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "fs/local.h"
#include "fs/outbox.h"
#include "fs/tree.h"
#include "jira/client.h"
#include "jira/write.h"

struct auth;
struct inode_table;
struct inval;
struct held_list;
struct scan_config;
struct scans;
struct queries;
struct attach;

#define JIRAFS_DEFAULT_CACHE_TTL_S 30
#define JIRAFS_DEFAULT_MEMORY_MAX (512ULL << 20)

/* Options of the fs module (-o projects=, cache_ttl=, state_dir=). */
struct fs_config {
	char **projects;     /* projects=SEC,OPS (NULL = all) */
	size_t nprojects;
	unsigned cache_ttl_s;
	char *state_dir;     /* state_dir=, else resolved by fs_state_dir() */
	char *memory_max;    /* memory_max=SIZE as given */
	char *attachment_cache; /* attachment_cache=SIZE as given */
	size_t attachment_cache_bytes; /* downloaded attachments on disk */
	size_t memory_max_bytes; /* ticket files in memory, packed; beyond:
				    in the state directory */
	bool projects_open;  /* parser state: the last option was projects= */
	char *owner;         /* uid=NAME|N: who owns the tree (default: the
				mounting user) */
	char *group;         /* gid=NAME|N */
	char *umask;         /* umask=OCTAL (default 022) */
	bool shared;         /* allow_other or allow_root was given: the
				kernel must check the modes (libfuse's
				default_permissions) */
	/* scan_*= as given (fs/scan_import.h compiles them into scan) */
	char *scan_priority, *scan_min_severity, *scan_group, *scan_accepted,
	    *scan_autoclose_max;
	int scan_autoclose;
	struct scan_config *scan;
	/* query.NAME=JQL: searches of queries/ from the configuration */
	char **query_names, **query_jqls;
	size_t nqueries;
};

/* Take this module's options out of args; defaults filled in.  0 or -1. */
int fs_opt_parse(struct fuse_args *args, struct fs_config *cfg);
void fs_config_release(struct fs_config *cfg);
void fs_opt_help(void);

/* Who owns the tree and which mode bits it shows, from uid=, gid=, umask=
 * (names or numbers): 0, or -1 with the reason in err. */
int fs_owner_resolve(const struct fs_config *cfg, uid_t *uid, gid_t *gid,
		     mode_t *umask, char *err, size_t errsize);

/* The state directory for a Jira URL: -o state_dir, else
 * $XDG_STATE_HOME/jirafs/<host>, else ~/.local/state/jirafs/<host>.
 * malloc'd. */
char *fs_state_dir(const struct fs_config *cfg, const char *url);

struct jirafs {
	struct fs_config cfg;
	struct jira_config *jira; /* borrowed from main */
	struct jira_write_config *wcfg; /* borrowed from main */
	struct auth *auth;        /* borrowed from main, handed to jira/ */
	char *state_dir;
	/* learned by the mount check, immutable afterwards */
	char *user;
	char *server_version;
	char *deployment;
	struct timespec mounted_at;
	uid_t uid;        /* the owner every node shows (uid=) */
	gid_t gid;        /* and its group (gid=) */
	mode_t umask;     /* taken from every mode shown (umask=) */
	/* created in init, freed in destroy */
	struct jira_client *client;
	struct tree *tree;
	struct jira_writer *writer;
	struct local *local;
	struct outbox *outbox;
	struct scans *scans;      /* PROJECT/scans/ (fs/scans.h) */
	struct queries *queries;  /* /queries/ (fs/queries.h) */
	struct attach *attach;    /* PROJECT/attachments/ (fs/attach.h) */
	/* created with the session, freed with it */
	struct fuse_session *se;
	struct inode_table *inodes;
	struct inval *inval;
	struct held_list *held; /* the handles the kernel holds open */
};

/*
 * The session the kernel talks to (session.c).  NULL on failure.  Free it
 * with jirafs_session_free after unmounting (that runs the tear-down if
 * the mount was set up).
 */
struct fuse_session *jirafs_session_new(struct fuse_args *args,
					struct jirafs *fs);
void jirafs_session_free(struct jirafs *fs);

#endif
