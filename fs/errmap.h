/*
 * errmap.h - the one table from a Jira status to an errno.
 *
 * An outage is EIO or ETIMEDOUT and an authentication problem EACCES; only
 * Jira saying "no such issue" (404) is ENOENT.
 */
#ifndef JIRAFS_FS_ERRMAP_H
#define JIRAFS_FS_ERRMAP_H

#include "jira/status.h"

/* A positive errno, or 0 for JIRA_OK. */
int fs_errno(enum jira_status st);

#endif
