/* jira/search.c - being split out of its neighbour; see the commit that fills it. */
typedef int jirafs_split_placeholder_search;
