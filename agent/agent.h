/*
 * agent.h - `jirafs agent -o jira=URL,to=ssh://USER@HOST[:PORT],listen=ADDR:PORT`:
 * the inside half of the reverse layout (CONTRACT §6) as a supervised
 * program.  It keeps `ssh -N -R LISTEN:JIRAHOST:JIRAPORT` running, restarts
 * it with backoff, and prints the connect_to= line for the mount side.
 */
#ifndef JIRAFS_AGENT_AGENT_H
#define JIRAFS_AGENT_AGENT_H

/* argv[0] is "agent"; returns the exit status. */
int agent_main(int argc, char *argv[]);

#endif
