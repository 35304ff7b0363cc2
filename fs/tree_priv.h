/* fs/tree_priv.h - private (being split). */
#ifndef JIRAFS_FS_TREE_PRIV_H
#define JIRAFS_FS_TREE_PRIV_H
#endif
