/*
 * agent.c - see agent.h.
 *
 * One thread and one loop: start ssh, poll its standard error and a
 * signalfd (SIGCHLD, SIGTERM, SIGINT, SIGHUP), and when ssh has ended,
 * wait out the backoff and start it again.
 *
 * Up, down and the backoff: see agent.h.
 *
 * It logs with its own say() rather than util/log.h, which prefixes
 * "jirafs: LEVEL:" and keeps a ring for .jirafs/log: a program whose
 * standard error is the journal wants neither.
 */
#include "agent/agent.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_opt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/config.h"
#include "jira/client.h"
#include "jira/tunnel.h"
#include "util/clock.h"

#define RESTART_MIN_MS 1000
#define RESTART_MAX_MS 30000
#define STABLE_MS 30000     /* up this long: the next start waits 1 s again */
#define UP_ASSUMED_MS 10000 /* a client without -v lines is up after this */
/* SIGTERM to ssh, then SIGKILL after this: an OpenSSH client with a
 * forward open can take seconds to act on SIGTERM, and a service manager
 * (or a test) stopping the agent should not wait on it */
#define STOP_GRACE_MS 2000
#define ALIVE_INTERVAL_S 15
#define ALIVE_COUNT 3

/* The command line, as fuse_opt fills it (all malloc'd). */
struct agent_opts {
	char *jira, *to, *listen, *forward_to, *ssh_command;
	char *alive_interval, *alive_count;
	int debug, help;
	char bad[256]; /* the first argument refused, as a message */
};

enum { KEY_HELP };

#define AGENT_OPT(t, f, v) { t, offsetof(struct agent_opts, f), v }
static const struct fuse_opt agent_opt_table[] = {
	AGENT_OPT("jira=%s", jira, 0),
	AGENT_OPT("to=%s", to, 0),
	AGENT_OPT("listen=%s", listen, 0),
	AGENT_OPT("forward_to=%s", forward_to, 0),
	AGENT_OPT("ssh_command=%s", ssh_command, 0),
	AGENT_OPT("alive_interval=%s", alive_interval, 0),
	AGENT_OPT("alive_count=%s", alive_count, 0),
	AGENT_OPT("debug", debug, 1),
	AGENT_OPT("-d", debug, 1),
	FUSE_OPT_KEY("config=", FUSE_OPT_KEY_DISCARD), /* config_apply's */
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_END
};

/* What the options mean, checked. */
struct agent {
	char *to;            /* to=, for the log */
	char *dest, *port;   /* to=: ssh's destination, and its -p or NULL */
	char *listen_host;   /* listen=, as ssh -R takes it */
	unsigned listen_port;
	char *jira_host;     /* jira=: the name (and port) the mount uses */
	unsigned jira_port;
	char *fwd_host;      /* where ssh connects: forward_to=, or jira='s */
	unsigned fwd_port;
	char *forward;       /* the -R value */
	char *connect_to;    /* the line for the mount side */
	char alive[2][40];   /* the ServerAlive options */
	char **cmd;          /* ssh_command= split */
	char **argv;         /* the whole ssh command line (borrows) */
	bool debug;
	int sigfd;
	int stop;            /* the signal that asks us to stop, or 0 */
};

/* One ssh, from start to end. */
struct run {
	pid_t pid;
	int errfd;           /* its standard error, or -1 at end of file */
	int status;          /* from waitpid */
	int64_t started, up_at;
	bool up, verbose, confirmed; /* verbose: it said a debugN: line */
	char last[256];      /* the last thing it said that may be a reason */
	char in[1024];       /* a line being read */
	size_t len;
};

static __attribute__((format(printf, 1, 2))) void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	fprintf(stderr, "jirafs agent: %s\n", line);
}

static void usage(void)
{
	printf("usage: jirafs agent -o jira=URL,to=ssh://[USER@]HOST[:PORT],"
	       "listen=ADDR:PORT[,opt...]\n\n"
	       "Run inside the network: keep `ssh -N -R ADDR:PORT:JIRAHOST:"
	       "JIRAPORT HOST` running,\nso that jirafs on HOST can mount URL "
	       "through ADDR:PORT.  Prints the connect_to=\noption for that "
	       "mount, then restarts ssh whenever it ends, until SIGTERM.\n"
	       "See jirafs(1).\n\nOptions:\n"
	       "    jira=URL               the Jira site (https://jira.corp)\n"
	       "    to=ssh://[USER@]HOST[:PORT]  the jirafs host to log in to\n"
	       "    listen=ADDR:PORT       where the forward listens on HOST\n"
	       "    forward_to=HOST[:PORT] where ssh connects (default URL's)\n"
	       "    ssh_command=CMD        ssh and its options (default ssh)\n"
	       "    alive_interval=SECONDS ServerAliveInterval (default %d)\n"
	       "    alive_count=N          ServerAliveCountMax (default %d)\n"
	       "    config=FILE            more options, one a line\n"
	       "    debug, -d              log ssh's debug lines too\n"
	       "    -h, --help             print this help\n",
	       ALIVE_INTERVAL_S, ALIVE_COUNT);
}

static int agent_proc(void *data, const char *arg, int key,
		      struct fuse_args *outargs)
{
	(void)outargs;
	struct agent_opts *o = data;
	if (key == KEY_HELP) {
		o->help = 1;
		return 0;
	}
	if (key == FUSE_OPT_KEY_OPT && !*arg)
		return 0; /* "-o a,,b" */
	if (o->bad[0])
		return -1;
	if (key == FUSE_OPT_KEY_NONOPT)
		snprintf(o->bad, sizeof(o->bad),
			 "unexpected argument '%s': options go after -o", arg);
	else
		snprintf(o->bad, sizeof(o->bad), "unknown option '%s'", arg);
	return -1;
}

#define HOST_CHARS                                                           \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"

/* "HOST:PORT" (need_port) or "HOST[:PORT]" into *host (malloc'd, as
 * written: an IPv6 address in brackets, as ssh -R and curl take it) and
 * *port (left alone when there is none).  listen= may also say "*", all
 * addresses.  0, or -1 with the reason in errbuf. */
static int split_hostport(const char *opt, const char *s, bool need_port,
			  char **host, unsigned *port, char *errbuf,
			  size_t errsize)
{
	const char *end;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end || end == s + 1 ||
		    strspn(s + 1, "0123456789abcdefABCDEF:.") !=
			    (size_t)(end - s - 1))
			goto bad;
		end++;
	} else if (need_port && *s == '*') {
		end = s + 1;
	} else {
		end = s + strspn(s, HOST_CHARS);
		if (end == s || *s == '-' || *s == '.')
			goto bad;
	}
	if (*end == ':') {
		char *e = NULL;
		unsigned long p = 0;
		if (isdigit((unsigned char)end[1]))
			p = strtoul(end + 1, &e, 10);
		if (!e || *e || !p || p > 65535)
			goto bad;
		*port = (unsigned)p;
	} else if (*end || need_port) {
		goto bad;
	}
	*host = strndup(s, (size_t)(end - s));
	if (*host)
		return 0;
	snprintf(errbuf, errsize, "out of memory");
	return -1;
bad:
	snprintf(errbuf, errsize, "%s=%s is not %s", opt, s,
		 need_port ? "ADDRESS:PORT (e.g. 127.0.0.1:9443)"
			   : "HOST[:PORT]");
	return -1;
}

/* jira= -> the host and port a mount of it connects to. */
static int parse_jira(struct agent *a, const char *url, char *errbuf,
		      size_t errsize)
{
	char why[400] = "out of memory";
	if (jira_url_check(url, why, sizeof(why))) {
		snprintf(errbuf, errsize, "bad jira= URL: %s", why);
		return -1;
	}
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	int ret = -1;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
		    CURLUE_OK) {
		a->jira_host = strdup(host);
		a->jira_port = (unsigned)strtoul(port, NULL, 10);
		ret = a->jira_host && a->jira_port ? 0 : -1;
	}
	if (ret)
		snprintf(errbuf, errsize, "bad jira= URL: '%s'", url);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ret;
}

/* An optional count option in lo..hi. */
static int parse_count(const char *opt, const char *s, unsigned lo,
		       unsigned hi, unsigned *out, char *errbuf,
		       size_t errsize)
{
	if (!s)
		return 0;
	char *e = NULL;
	unsigned long v = 0;
	if (isdigit((unsigned char)*s))
		v = strtoul(s, &e, 10);
	if (!e || *e || v < lo || v > hi) {
		snprintf(errbuf, errsize, "%s=%s: give a number from %u to %u",
			 opt, s, lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static const char *missing(const struct agent_opts *o)
{
	if (!o->jira || !*o->jira)
		return "jira= is missing: the Jira site, e.g. "
		       "jira=https://jira.internal";
	if (!o->to || !*o->to)
		return "to= is missing: the jirafs host, e.g. "
		       "to=ssh://agent@jirafs-host";
	if (!o->listen || !*o->listen)
		return "listen= is missing: the address the forward listens "
		       "on at the jirafs host, e.g. listen=127.0.0.1:9443";
	return NULL;
}

/* The options into a, with the ssh command line.  0, or -1 with errbuf. */
static int agent_setup(struct agent *a, const struct agent_opts *o,
		       char *errbuf, size_t errsize)
{
	unsigned interval = ALIVE_INTERVAL_S, count = ALIVE_COUNT;
	const char *why = missing(o);
	if (why) {
		snprintf(errbuf, errsize, "%s", why);
		return -1;
	}
	if (parse_jira(a, o->jira, errbuf, errsize) ||
	    tunnel_split_url("to", o->to, &a->dest, &a->port, errbuf,
			     errsize) ||
	    split_hostport("listen", o->listen, true, &a->listen_host,
			   &a->listen_port, errbuf, errsize) ||
	    parse_count("alive_interval", o->alive_interval, 1, 3600,
			&interval, errbuf, errsize) ||
	    parse_count("alive_count", o->alive_count, 1, 100, &count, errbuf,
			errsize))
		return -1;
	a->fwd_port = a->jira_port;
	if (o->forward_to &&
	    split_hostport("forward_to", o->forward_to, false, &a->fwd_host,
			   &a->fwd_port, errbuf, errsize))
		return -1;
	if (!a->fwd_host && !(a->fwd_host = strdup(a->jira_host)))
		goto oom;
	if (!(a->to = strdup(o->to)))
		goto oom;

	/* the mount side reaches "all addresses" on its loopback */
	const char *seen = a->listen_host;
	if (!strcmp(seen, "*") || !strcmp(seen, "0.0.0.0"))
		seen = "127.0.0.1";
	else if (!strcmp(seen, "[::]"))
		seen = "[::1]";
	if (asprintf(&a->connect_to, "connect_to=%s:%u:%s:%u", a->jira_host,
		     a->jira_port, seen, a->listen_port) < 0) {
		a->connect_to = NULL;
		goto oom;
	}
	if (asprintf(&a->forward, "%s:%u:%s:%u", a->listen_host,
		     a->listen_port, a->fwd_host, a->fwd_port) < 0) {
		a->forward = NULL;
		goto oom;
	}
	snprintf(a->alive[0], sizeof(a->alive[0]), "ServerAliveInterval=%u",
		 interval);
	snprintf(a->alive[1], sizeof(a->alive[1]), "ServerAliveCountMax=%u",
		 count);

	a->cmd = tunnel_split_command(o->ssh_command && *o->ssh_command
					      ? o->ssh_command
					      : "ssh");
	if (!a->cmd)
		goto oom;
	if (!a->cmd[0]) {
		snprintf(errbuf, errsize, "ssh_command= is empty");
		return -1;
	}
	/* ssh_command='s own options come first: ssh keeps the first value
	 * of an option, so they override these */
	const char *ours[] = { "-N", "-v", "-o", "BatchMode=yes", "-o",
			       "ExitOnForwardFailure=yes", "-o", a->alive[0],
			       "-o", a->alive[1], "-R", a->forward };
	size_t ncmd = 0, nours = sizeof(ours) / sizeof(*ours), k = 0;
	while (a->cmd[ncmd])
		ncmd++;
	a->argv = calloc(ncmd + nours + 5, sizeof(*a->argv));
	if (!a->argv)
		goto oom;
	for (size_t i = 0; i < ncmd; i++)
		a->argv[k++] = a->cmd[i];
	for (size_t i = 0; i < nours; i++)
		a->argv[k++] = (char *)ours[i];
	if (a->port) {
		a->argv[k++] = "-p";
		a->argv[k++] = a->port;
	}
	a->argv[k++] = "--";
	a->argv[k] = a->dest;
	a->debug = o->debug;
	return 0;
oom:
	snprintf(errbuf, errsize, "out of memory");
	return -1;
}

static void agent_release(struct agent *a)
{
	free(a->argv);
	tunnel_free_command(a->cmd);
	free(a->forward);
	free(a->connect_to);
	free(a->fwd_host);
	free(a->jira_host);
	free(a->listen_host);
	free(a->dest);
	free(a->port);
	free(a->to);
}

/* Start ssh with its standard error on *errfd (non-blocking).  The pid,
 * or -1 with errno. */
static pid_t spawn(struct agent *a, int *errfd)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* ssh ends with the agent, even a SIGKILLed one, rather than
		 * holding the port over there against the next agent */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 ||
		    getppid() != parent)
			_exit(127);
		/* its own process group: a Ctrl-C is the agent's to handle */
		setpgid(0, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* what a launcher ignored (nohup) must not stay ignored: the
		 * death signal above is SIGTERM */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(pfd[1], 2) < 0)
			_exit(127);
		execvp(a->argv[0], a->argv);
		dprintf(2, "cannot run %s: %s\n", a->argv[0], strerror(errno));
		_exit(127);
	}
	int saved = errno;
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		errno = saved;
		return -1;
	}
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	*errfd = pfd[0];
	return pid;
}

/* What ssh -v says besides its debugN: lines: shown (or only with -o
 * debug), never the reason it ended. */
static const struct { const char *prefix; bool shown; } chatter[] = {
	{ "OpenSSH_", false }, { "Transferred: ", false },
	{ "Bytes per second: ", false }, { "Authenticated to ", true },
};

static void heard(struct agent *a, struct run *r, char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (!n)
		return;
	if (!strncmp(line, "debug", 5) && isdigit((unsigned char)line[5]) &&
	    line[6] == ':') {
		r->verbose = true;
		if (strstr(line, "remote forward success for: listen"))
			r->confirmed = true;
		if (a->debug)
			say("ssh: %s", line);
		return;
	}
	for (size_t i = 0; i < sizeof(chatter) / sizeof(*chatter); i++)
		if (!strncmp(line, chatter[i].prefix,
			     strlen(chatter[i].prefix))) {
			if (chatter[i].shown || a->debug)
				say("ssh: %s", line);
			return;
		}
	if (!strncmp(line, "ssh: ", 5)) /* "ssh: connect to host ..." */
		line += 5;
	say("ssh: %s", line);
	snprintf(r->last, sizeof(r->last), "%s", line);
}

/* Read what ssh said, a line at a time.  false at its end. */
static bool drain(struct agent *a, struct run *r)
{
	for (;;) {
		ssize_t n = read(r->errfd, r->in + r->len,
				 sizeof(r->in) - 1 - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			bool more = n < 0 && errno == EAGAIN;
			if (!more && r->len) {
				r->in[r->len] = '\0';
				heard(a, r, r->in);
				r->len = 0;
			}
			return more;
		}
		r->len += (size_t)n;
		for (;;) {
			char *nl = memchr(r->in, '\n', r->len);
			if (!nl && r->len < sizeof(r->in) - 1)
				break;
			size_t line = nl ? (size_t)(nl - r->in) : r->len;
			size_t used = nl ? line + 1 : line;
			r->in[line] = '\0';
			heard(a, r, r->in);
			memmove(r->in, r->in + used, r->len - used);
			r->len -= used;
		}
	}
}

static const char *signame(int sig)
{
	return sig == SIGTERM ? "SIGTERM"
	       : sig == SIGINT ? "SIGINT"
	       : sig == SIGHUP ? "SIGHUP"
			       : "a signal";
}

/* Take the pending signals; a stop request sets a->stop. */
static void take_signals(struct agent *a)
{
	struct signalfd_siginfo si;
	while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo != SIGCHLD && !a->stop)
			a->stop = (int)si.ssi_signo;
}

/* Watch one ssh until it has ended (and been waited for). */
static void watch(struct agent *a, struct run *r)
{
	int64_t kill_at = -1;
	for (;;) {
		int64_t left = r->started + UP_ASSUMED_MS - clock_mono_ms();
		int timeout = -1;
		if (a->stop)
			timeout = 100;
		else if (!r->up && !r->verbose)
			timeout = left > 0 ? (int)left + 1 : 1;
		struct pollfd p[2] = { { a->sigfd, POLLIN, 0 },
				       { r->errfd, POLLIN, 0 } };
		if (poll(p, r->errfd >= 0 ? 2 : 1, timeout) < 0 &&
		    errno != EINTR) {
			say("poll: %s", strerror(errno));
			a->stop = a->stop ? a->stop : SIGTERM;
		}
		if (r->errfd >= 0 && p[1].revents && !drain(a, r)) {
			close(r->errfd);
			r->errfd = -1;
		}
		if (p[0].revents & POLLIN)
			take_signals(a);
		if (a->stop && kill_at < 0) {
			say("stopping on %s: ending ssh (pid %d)",
			    signame(a->stop), (int)r->pid);
			kill(-r->pid, SIGTERM);
			kill(r->pid, SIGTERM);
			kill_at = clock_mono_ms() + STOP_GRACE_MS;
		}
		if (waitpid(r->pid, &r->status, WNOHANG) == r->pid)
			break;
		if (kill_at >= 0 && clock_mono_ms() >= kill_at) {
			say("ssh (pid %d) did not end: killing it",
			    (int)r->pid);
			kill(-r->pid, SIGKILL);
			kill(r->pid, SIGKILL);
			waitpid(r->pid, &r->status, 0);
			break;
		}
		if (!r->up && !a->stop &&
		    (r->confirmed ||
		     (!r->verbose &&
		      clock_mono_ms() - r->started >= UP_ASSUMED_MS))) {
			r->up = true;
			r->up_at = clock_mono_ms();
			say("up: %s:%u on %s forwards to %s:%u%s",
			    a->listen_host, a->listen_port, a->to, a->fwd_host,
			    a->fwd_port,
			    r->confirmed ? "" : " (ssh has kept running)");
		}
	}
	if (r->errfd >= 0) {
		drain(a, r);
		close(r->errfd);
		r->errfd = -1;
	}
}

static void say_down(const struct run *r)
{
	char why[64];
	if (WIFSIGNALED(r->status))
		snprintf(why, sizeof(why), "ssh was killed by signal %d (%s)",
			 WTERMSIG(r->status), strsignal(WTERMSIG(r->status)));
	else
		snprintf(why, sizeof(why), "ssh exited with status %d",
			 WEXITSTATUS(r->status));
	say("down: %s%s%s", why, r->last[0] ? ": " : "", r->last);
}

/* Sleep ms, or until asked to stop. */
static void pause_ms(struct agent *a, int64_t ms)
{
	deadline_t d = deadline_in(ms);
	while (!a->stop && deadline_left(d) > 0) {
		struct pollfd p = { a->sigfd, POLLIN, 0 };
		if (poll(&p, 1, (int)deadline_left(d) + 1) > 0)
			take_signals(a);
	}
}

static void supervise(struct agent *a)
{
	static const struct backoff policy = { RESTART_MIN_MS, RESTART_MAX_MS,
					       0 };
	unsigned failures = 0; /* starts since ssh was last up for a while */
	while (!a->stop) {
		struct run r = { .errfd = -1, .started = clock_mono_ms() };
		r.pid = spawn(a, &r.errfd);
		if (r.pid < 0) {
			say("down: cannot start ssh: %s", strerror(errno));
		} else {
			say("starting ssh (pid %d): -R %s to %s", (int)r.pid,
			    a->forward, a->to);
			watch(a, &r);
			if (a->stop)
				break;
			say_down(&r);
		}
		if (r.up && clock_mono_ms() - r.up_at >= STABLE_MS)
			failures = 0;
		int64_t ms = backoff_ms(&policy, failures);
		if (failures < 32)
			failures++;
		say("restarting ssh in %lld s", (long long)(ms / 1000));
		pause_ms(a, ms);
	}
	if (a->stop)
		say("stopped on %s", signame(a->stop));
}

int agent_main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct agent_opts o = { 0 };
	struct agent a = { .sigfd = -1 };
	char errbuf[512] = "";
	sigset_t sigs, old;
	int explicit = 0, ret = 1;

	/* a copy config_apply may insert into */
	for (int i = 0; i < argc; i++)
		if (fuse_opt_add_arg(&args, argv[i])) {
			say("out of memory");
			goto out;
		}
	/* only the file config= names: the mount's default file holds a
	 * mount's options */
	free(config_path(&args, &explicit));
	if (explicit && config_apply(&args, errbuf, sizeof(errbuf))) {
		say("%s", errbuf);
		goto out;
	}
	if (fuse_opt_parse(&args, &o, agent_opt_table, agent_proc) < 0) {
		if (o.bad[0]) /* else fuse_opt has said why */
			say("%s (see jirafs agent --help)", o.bad);
		goto out;
	}
	if (o.help) {
		usage();
		ret = 0;
		goto out;
	}
	if (agent_setup(&a, &o, errbuf, sizeof(errbuf))) {
		say("%s", errbuf);
		goto out;
	}

	/* an inherited SIG_IGN would reap ssh unseen (waitpid: ECHILD) */
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	a.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a.sigfd < 0) {
		say("signalfd: %s", strerror(errno));
		goto restore;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is not our end */

	printf("%s\n", a.connect_to);
	fflush(stdout);
	supervise(&a);
	ret = 0;
	close(a.sigfd);
restore:
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	agent_release(&a);
	free(o.jira);
	free(o.to);
	free(o.listen);
	free(o.forward_to);
	free(o.ssh_command);
	free(o.alive_interval);
	free(o.alive_count);
	fuse_opt_free_args(&args);
	return ret;
}
