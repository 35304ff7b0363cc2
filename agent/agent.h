/*
 * agent.h - `jirafs agent -o jira=URL,to=ssh://USER@HOST[:PORT],
 * listen=ADDR:PORT`: the inside half of the reverse layout (CONTRACT §6,
 * §12) as a supervised program.
 *
 * It runs on a host inside the network that can reach Jira and keeps
 * `ssh -N -R ADDR:PORT:JIRAHOST:JIRAPORT USER@HOST` running, so that a
 * jirafs on HOST mounts URL with the connect_to= line the agent prints on
 * standard output at start.  ssh is restarted with backoff when it ends;
 * every change of state goes to standard error as one "jirafs agent: ..."
 * line (no timestamp: the journal adds one).  SIGTERM, SIGINT and SIGHUP
 * end ssh and then the agent, with exit status 0.
 *
 * Options (-o, or one a line in -o config=FILE): jira=, to=, listen=,
 * forward_to=, ssh_command=, alive_interval=, alive_count=, debug; see
 * `jirafs agent --help` and jirafs(1).  Unlike a mount, the agent reads no
 * default config file: only the one config= names.
 *
 * One thread; not a library: agent_main() owns the process's signals
 * while it runs.
 */
#ifndef JIRAFS_AGENT_AGENT_H
#define JIRAFS_AGENT_AGENT_H

/* argv[0] is "agent"; returns the exit status: 0 stopped by a signal (or
 * --help), 1 a usage or configuration error. */
int agent_main(int argc, char *argv[]);

#endif
