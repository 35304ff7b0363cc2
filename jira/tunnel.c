/* tunnel.c - see tunnel.h */
#include "jira/tunnel.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"

extern char **environ;

#define RESTART_MIN_MS 1000
#define RESTART_MAX_MS 60000
#define ALIVE_INTERVAL_S "15"

enum tstate { T_STARTING, T_UP, T_DOWN };

struct tunnel {
	char *dest;        /* [user@]host */
	char *port;        /* ssh port, or NULL */
	char **cmd;        /* ssh and its options (NULL-terminated) */

	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t changed; /* state changed (CLOCK_MONOTONIC) */
	enum tstate state;
	int socks_port;
	pid_t pid;
	bool stopping;
	unsigned restarts;
	char last_error[256];
	pthread_t supervisor;
};

int tunnel_split_url(const char *opt, const char *spec, char **dest,
		     char **port, char *errbuf, size_t errsize)
{
	*dest = *port = NULL;
	if (strncmp(spec, "ssh://", 6) != 0 || !spec[6]) {
		snprintf(errbuf, errsize,
			 "%s= wants ssh://[user@]host[:port], not '%s'", opt,
			 spec);
		return -EINVAL;
	}
	const char *s = spec + 6;
	const char *at = strchr(s, '@');
	const char *host = at ? at + 1 : s;
	const char *colon = strrchr(host, ':');
	const char *bracket = strchr(host, ']');
	if (colon && bracket && colon < bracket)
		colon = NULL; /* [::1] */
	size_t dlen = colon ? (size_t)(colon - s) : strlen(s);
	if (strchr(s, '/') || (colon && !colon[1]) || !*host ||
	    (colon && strspn(colon + 1, "0123456789") != strlen(colon + 1))) {
		snprintf(errbuf, errsize, "%s=%s is not ssh://[user@]host"
					  "[:port]",
			 opt, spec);
		return -EINVAL;
	}
	*dest = strndup(s, dlen);
	*port = colon ? strdup(colon + 1) : NULL;
	/* [::1] -> ::1: ssh takes an IPv6 address bare */
	char *lb = *dest ? strchr(*dest, '[') : NULL;
	char *rb = lb ? strchr(lb, ']') : NULL;
	if (lb && rb && !rb[1] && (lb == *dest || lb[-1] == '@')) {
		memmove(rb, rb + 1, strlen(rb + 1) + 1);
		memmove(lb, lb + 1, strlen(lb + 1) + 1);
	}
	/* no option injection through the destination */
	if (!*dest || **dest == '-') {
		free(*dest);
		free(*port);
		*dest = *port = NULL;
		snprintf(errbuf, errsize, "%s=%s: bad host", opt, spec);
		return -EINVAL;
	}
	return 0;
}

int tunnel_parse(const char *spec, char *errbuf, size_t errsize)
{
	char *d, *p;
	int ret = tunnel_split_url("tunnel", spec, &d, &p, errbuf, errsize);
	free(d);
	free(p);
	return ret;
}

char **tunnel_split_command(const char *s)
{
	size_t n = 0;
	char **v = calloc(strlen(s) / 2 + 2, sizeof(*v));
	char *copy = strdup(s), *save = NULL;
	if (!v || !copy) {
		free(v);
		free(copy);
		return NULL;
	}
	for (char *w = strtok_r(copy, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save))
		v[n++] = strdup(w);
	free(copy);
	return v;
}

void tunnel_free_command(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Does something accept connections on 127.0.0.1:port? */
static bool answers(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool ok = fd >= 0 &&
		  connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Start ssh; its standard error comes back on *errfd.  Lock not held. */
static pid_t spawn(struct tunnel *t, int port, int *errfd)
{
	char fwd[64], alive[64];
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%d", port);
	snprintf(alive, sizeof(alive), "ServerAliveInterval=%s",
		 ALIVE_INTERVAL_S);
	const char *ours[] = { "-N", "-D", fwd, "-o", "BatchMode=yes",
			       "-o", "ExitOnForwardFailure=yes", "-o", alive,
			       "-o", "ServerAliveCountMax=3" };
	size_t ncmd = 0;
	while (t->cmd[ncmd])
		ncmd++;
	size_t nours = sizeof(ours) / sizeof(*ours);
	char **argv = calloc(ncmd + nours + 5, sizeof(*argv));
	if (!argv)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < ncmd; i++)
		argv[k++] = t->cmd[i];
	for (size_t i = 0; i < nours; i++)
		argv[k++] = (char *)ours[i];
	if (t->port) {
		argv[k++] = "-p";
		argv[k++] = t->port;
	}
	argv[k++] = "--";
	argv[k++] = t->dest;

	int pipefd[2];
	pid_t pid = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(argv);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	sigset_t none, dflt;
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGHUP);
	sigaddset(&dflt, SIGTERM);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	/* its own process group: a Ctrl-C meant for jirafs is jirafs's to
	 * handle, and it stops ssh itself */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETPGROUP);
	if (posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (pid < 0)
		close(pipefd[0]);
	else
		*errfd = pipefd[0];
	free(argv);
	return pid;
}

static void set_state(struct tunnel *t, enum tstate s, const char *why)
{
	t->state = s;
	if (why)
		snprintf(t->last_error, sizeof(t->last_error), "%s", why);
	pthread_cond_broadcast(&t->changed);
}

/* Pass ssh's words to the log; keep the last line. */
static void drain(struct tunnel *t, int fd, char *last, size_t size)
{
	char buf[1024];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		char *save = NULL;
		for (char *line = strtok_r(buf, "\r\n", &save); line;
		     line = strtok_r(NULL, "\r\n", &save)) {
			jlog_notice("ssh %s: %s", t->dest, line);
			snprintf(last, size, "%s", line);
		}
	}
}

static void *supervise(void *arg)
{
	struct tunnel *t = arg;
	static const struct backoff policy = { RESTART_MIN_MS, RESTART_MAX_MS,
					       0 };
	unsigned failures = 0; /* restarts since the tunnel was last up */
	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		int port = t->socks_port > 0 && !answers(t->socks_port)
				   ? t->socks_port
				   : free_port();
		pthread_mutex_unlock(&t->lock);
		int errfd = -1;
		pid_t pid = port > 0 ? spawn(t, port, &errfd) : -1;
		pthread_mutex_lock(&t->lock);
		if (pid < 0) {
			set_state(t, T_DOWN, "cannot start ssh");
		} else {
			t->pid = pid;
			t->socks_port = port;
			if (t->stopping) /* tunnel_stop came while spawning */
				kill(pid, SIGTERM);
			pthread_mutex_unlock(&t->lock);
			/* up when the SOCKS port answers; down when ssh ends */
			char last[256] = "";
			bool up = false;
			int status = 0;
			for (;;) {
				struct pollfd p = { errfd, POLLIN, 0 };
				poll(&p, 1, up ? 1000 : 50);
				if (p.revents & POLLIN)
					drain(t, errfd, last, sizeof(last));
				pid_t w = waitpid(pid, &status, WNOHANG);
				if (w == pid)
					break;
				if (!up && answers(port)) {
					up = true;
					pthread_mutex_lock(&t->lock);
					set_state(t, T_UP, NULL);
					pthread_mutex_unlock(&t->lock);
					jlog_notice("ssh tunnel to %s is up "
						    "(SOCKS on 127.0.0.1:%d)",
						    t->dest, port);
					failures = 0;
				}
			}
			drain(t, errfd, last, sizeof(last));
			close(errfd);
			pthread_mutex_lock(&t->lock);
			t->pid = 0;
			char why[256];
			snprintf(why, sizeof(why), "ssh exited (%s%d)%s%.200s",
				 WIFSIGNALED(status) ? "signal " : "status ",
				 WIFSIGNALED(status) ? WTERMSIG(status)
						     : WEXITSTATUS(status),
				 last[0] ? ": " : "", last);
			set_state(t, T_DOWN, why);
			if (!t->stopping)
				jlog_warn("ssh tunnel to %s is down: %s; "
					  "restarting in %lld ms",
					  t->dest, why,
					  (long long)backoff_ms(&policy,
								failures));
		}
		if (t->stopping)
			break;
		struct timespec ts = deadline_timespec(
			deadline_in(backoff_ms(&policy, failures)));
		while (!t->stopping &&
		       pthread_cond_timedwait(&t->changed, &t->lock, &ts) !=
			       ETIMEDOUT)
			;
		failures++;
		if (!t->stopping) {
			t->restarts++;
			set_state(t, T_STARTING, NULL);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int tunnel_start(const char *spec, const char *ssh_command,
		 struct tunnel **out, char *errbuf, size_t errsize)
{
	struct tunnel *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	int ret = tunnel_split_url("tunnel", spec, &t->dest, &t->port, errbuf,
				   errsize);
	if (ret) {
		free(t);
		return ret;
	}
	t->cmd = tunnel_split_command(ssh_command && *ssh_command ? ssh_command
							 : "ssh");
	if (!t->cmd || !t->cmd[0]) {
		tunnel_free_command(t->cmd);
		free(t->dest);
		free(t->port);
		free(t);
		snprintf(errbuf, errsize, "ssh_command= is empty");
		return -EINVAL;
	}
	pthread_mutex_init(&t->lock, NULL);
	cond_init_monotonic(&t->changed);
	t->state = T_STARTING;
	if (pthread_create(&t->supervisor, NULL, supervise, t)) {
		pthread_cond_destroy(&t->changed);
		pthread_mutex_destroy(&t->lock);
		snprintf(errbuf, errsize, "cannot start a thread");
		tunnel_free_command(t->cmd);
		free(t->dest);
		free(t->port);
		free(t);
		return -EAGAIN;
	}
	*out = t;
	return 0;
}

void tunnel_stop(struct tunnel *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	if (t->pid > 0)
		kill(t->pid, SIGTERM);
	pthread_cond_broadcast(&t->changed);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->supervisor, NULL);
	pthread_cond_destroy(&t->changed);
	pthread_mutex_destroy(&t->lock);
	tunnel_free_command(t->cmd);
	free(t->dest);
	free(t->port);
	free(t);
}

int tunnel_proxy(struct tunnel *t, deadline_t d, char *url, size_t size,
		 char *errbuf, size_t errsize)
{
	struct timespec ts = deadline_timespec(d);
	int ret = 0;
	pthread_mutex_lock(&t->lock);
	/* wait while ssh is starting; while it is down (between restarts)
	 * fail at once, as an unreachable host does */
	while (t->state == T_STARTING && !t->stopping) {
		if (pthread_cond_timedwait(&t->changed, &t->lock, &ts) ==
		    ETIMEDOUT) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	if (t->state == T_UP) {
		snprintf(url, size, "socks5h://127.0.0.1:%d", t->socks_port);
		ret = 0;
	} else {
		if (!ret)
			ret = -EHOSTUNREACH;
		snprintf(errbuf, errsize, "the ssh tunnel to %s is not up%s%s",
			 t->dest, t->last_error[0] ? ": " : "",
			 t->last_error);
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void tunnel_state(struct tunnel *t, struct tunnel_state *out)
{
	static const char *const names[] = { "starting", "up", "down" };
	pthread_mutex_lock(&t->lock);
	out->state = names[t->state];
	out->port = t->socks_port;
	out->restarts = t->restarts;
	snprintf(out->last_error, sizeof(out->last_error), "%s", t->last_error);
	pthread_mutex_unlock(&t->lock);
}
