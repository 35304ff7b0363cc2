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
 *
 * "Up" is the far side's word rather than a guess from time: ssh runs
 * with -v and says "remote forward success for: listen ..." once sshd on
 * the jirafs host has opened the listener.  (The listener is over there;
 * the agent cannot knock on it from inside.)  A client that prints no
 * debug lines at all (an ssh_command= that is not OpenSSH) counts as up
 * once it has run 10 s without exiting: ExitOnForwardFailure
 * makes OpenSSH exit when the forward is refused.  The other lines -v adds
 * are dropped unless -o debug; everything else ssh says is logged.
 *
 * "Down" is ssh exiting.  The agent does not probe the forward itself:
 * with ServerAliveInterval=15 and ServerAliveCountMax=3 ssh exits after
 * some 45 s without an answer from the far side (a dead host, a dropped
 * NAT mapping), and a reset connection ends it at once.
 *
 * Backoff: 1 s doubling to 30 s between starts, back to 1 s once an ssh
 * has stayed up for 30 s.  The agent never gives up (systemd would
 * only start it again): a refused key or a port in use over there is
 * retried every 30 s, and ssh's words are logged each time.
 */
#ifndef JIRAFS_AGENT_AGENT_H
#define JIRAFS_AGENT_AGENT_H

/* argv[0] is "agent"; returns the exit status: 0 stopped by a signal (or
 * --help), 1 a usage or configuration error. */
int agent_main(int argc, char *argv[]);

#endif
