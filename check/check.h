/*
 * check.h - `jirafs check URL [-o ...] [--json]`: every prerequisite of a
 * mount as a checklist (CONTRACT §12).  Changes nothing in Jira.
 */
#ifndef JIRAFS_CHECK_CHECK_H
#define JIRAFS_CHECK_CHECK_H

/* argv[0] is "check"; returns the exit status. */
int check_main(int argc, char *argv[]);

#endif
