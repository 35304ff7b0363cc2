/*
 * fs.h - the filesystem: FUSE operations over the tree (CONTRACT §2, §3).
 *
 *   /.jirafs/status   JSON: server, versions, user, auth, transport, counters
 *   /.jirafs/log      the last 200 notable events
 *   /.jirafs/outbox/  operations not yet applied
 *   /KEY/             a project: its open tickets as KEY-N.json, aliases
 *                     left by creates, scratch files
 *   /KEY/closed/      its tickets whose status category is "done"
 *
 * Writing (CONTRACT §4): a new *.json file creates a ticket when closed,
 * bytes appended add a comment, an overwrite updates, rename between KEY/
 * and KEY/closed/ closes and reopens; other names are scratch files kept in
 * memory (fs/local.h).  write.c turns these into operation records
 * (jira/op.h) and applies them.
 *
 * main.c fills a struct jirafs (options, the auth method, what the mount
 * check learned) and starts jirafs_session_new(): lowlevel.c gives the
 * kernel inode numbers and cache lifetimes over the path-based operations
 * of ops.c (jirafs_operations()).  The client
 * and the tree are created in the FUSE init callback, after daemonizing,
 * and freed in destroy.  Every operation computes one deadline from
 * -o timeout and maps failures to errno through fs/errmap.h.
 */
#ifndef JIRAFS_FS_FS_H
#define JIRAFS_FS_FS_H

#include <fuse.h>
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "auth/auth.h"
#include "fs/local.h"
#include "fs/outbox.h"
#include "fs/tree.h"
#include "jira/client.h"
#include "jira/write.h"

#define JIRAFS_DEFAULT_CACHE_TTL_S 30

/* Options of the fs module (-o projects=, cache_ttl=, state_dir=). */
struct fs_config {
	char **projects;     /* projects=SEC,OPS (NULL = all) */
	size_t nprojects;
	unsigned cache_ttl_s;
	char *state_dir;     /* state_dir=, else resolved by fs_state_dir() */
	bool projects_open;  /* parser state: the last option was projects= */
	char *owner;         /* uid=NAME|N: who owns the tree (default: the
				mounting user) */
	char *group;         /* gid=NAME|N */
	char *umask;         /* umask=OCTAL (default 022) */
	bool shared;         /* allow_other or allow_root was given: the
				kernel must check the modes (libfuse's
				default_permissions) */
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
	struct auth *auth;        /* borrowed from main */
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
};

const struct fuse_operations *jirafs_operations(void);

/*
 * The session the kernel talks to (lowlevel.c): inode numbers and cache
 * lifetimes over jirafs_operations().  NULL on failure.  Free it with
 * jirafs_session_free after unmounting.
 */
struct fuse_session *jirafs_session_new(struct fuse_args *args,
					struct jirafs *fs);
void jirafs_session_free(struct fuse_session *se);
/* The tree's "a ticket changed" hook: queue the kernel's invalidation. */
void ll_ticket_changed(void *ctx, const char *key, bool moved);

/* The text of /.jirafs/status (malloc'd, caller frees). */
char *ctl_status_text(struct jirafs *fs, size_t *len);

#endif
