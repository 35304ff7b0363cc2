/*
 * tunnel.h - reaching an internal Jira through the system OpenSSH client
 * (CONTRACT §6, -o tunnel=ssh://[user@]host[:port]).
 *
 * jirafs starts `ssh -N -D 127.0.0.1:PORT` (BatchMode, ExitOnForwardFailure,
 * ServerAliveInterval) on a free loopback port and sends all traffic
 * through it as a SOCKS5h proxy, so that the Jira host name resolves on the
 * far side.  A supervisor thread restarts ssh with backoff when it dies and
 * keeps its state for .jirafs/status; what ssh says on standard error goes
 * to the log.  -o ssh_command= replaces "ssh" and its options (an identity
 * file, ProxyJump, ...); jirafs's own options and the destination follow.
 *
 * Thread-safety: every function may be called from any thread; one mutex
 * guards the state.
 */
#ifndef JIRAFS_JIRA_TUNNEL_H
#define JIRAFS_JIRA_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/clock.h"

struct tunnel;

/* Check a tunnel= value: 0, or -EINVAL with the reason in errbuf. */
int tunnel_parse(const char *spec, char *errbuf, size_t errsize);

/* Split ssh://[user@]host[:port] into ssh's destination ("user@host", an
 * IPv6 address without its brackets) and the port (NULL when the URL
 * names none), both malloc'd for the caller to free.  A destination that
 * would read as an ssh option, a path or a port that is not digits is
 * refused.  opt names the option in the message ("tunnel", "to").
 * 0, or -EINVAL with the reason in errbuf (and both NULL). */
int tunnel_split_url(const char *opt, const char *spec, char **dest,
		     char **port, char *errbuf, size_t errsize);

/* An ssh_command= split on white space (no quoting: paths with spaces
 * belong in ~/.ssh/config), as a NULL-terminated vector; an empty command
 * gives an empty vector.  Free it with tunnel_free_command(); NULL when
 * out of memory. */
char **tunnel_split_command(const char *cmd);
void tunnel_free_command(char **argv);

/* Start ssh for spec and supervise it.  Returns at once: use
 * tunnel_proxy() to wait for it.  0 or -errno (errbuf says why). */
int tunnel_start(const char *spec, const char *ssh_command,
		 struct tunnel **out, char *errbuf, size_t errsize);
/* Stop ssh and the supervisor. */
void tunnel_stop(struct tunnel *t);

/* The proxy URL ("socks5h://127.0.0.1:PORT") once the tunnel is up,
 * waiting for it until the deadline while ssh is starting (a tunnel that
 * is down between restarts answers at once).  0, or -ETIMEDOUT / -EHOSTUNREACH
 * with the reason in errbuf. */
int tunnel_proxy(struct tunnel *t, deadline_t d, char *url, size_t size,
		 char *errbuf, size_t errsize);

struct tunnel_state {
	const char *state;  /* "starting", "up", "down" */
	int port;
	unsigned restarts;
	char last_error[256];
};
void tunnel_state(struct tunnel *t, struct tunnel_state *out);

#endif
