/* jira/client_priv.h - private to jira/ (being split). */
#ifndef JIRAFS_JIRA_CLIENT_PRIV_H
#define JIRAFS_JIRA_CLIENT_PRIV_H
#endif
