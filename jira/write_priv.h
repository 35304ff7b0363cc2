/* jira/write_priv.h - private to jira/ (being split). */
#ifndef JIRAFS_JIRA_WRITE_PRIV_H
#define JIRAFS_JIRA_WRITE_PRIV_H
#endif
