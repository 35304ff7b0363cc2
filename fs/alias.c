/* fs/alias.c - being split out of its neighbour. */
typedef int jirafs_split_placeholder_alias;
