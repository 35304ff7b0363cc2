/*
 * errmap.h - errors in fs/: the one table from a Jira status to an errno,
 * and the one way a refusal by jirafs itself is logged.
 *
 * An outage is EIO or ETIMEDOUT and an authentication problem EACCES; only
 * Jira saying "no such issue" (404) is ENOENT.
 */
#ifndef JIRAFS_FS_ERRMAP_H
#define JIRAFS_FS_ERRMAP_H

#include "jira/status.h"

/* A positive errno, or 0 for JIRA_OK. */
int fs_errno(enum jira_status st);

/* A request refused by jirafs itself (nothing was sent): one line in the
 * log, "refused WHAT PATH: WHY"; returns err (-errno). */
int fs_refuse(int err, const char *what, const char *path, const char *why);

#endif
