/* fs/local_priv.h - private (being split). */
#ifndef JIRAFS_FS_LOCAL_PRIV_H
#define JIRAFS_FS_LOCAL_PRIV_H
#endif
