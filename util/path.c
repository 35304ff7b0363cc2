/* path.c - see path.h */
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return h;
	struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

char *path_expand_home(const char *path)
{
	if (path[0] != '~' || (path[1] != '/' && path[1] != '\0'))
		return strdup(path);
	const char *home = home_dir();
	size_t n = strlen(home) + strlen(path);
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s%s", home, path + 1);
	return out;
}

char *path_absolute(const char *path)
{
	char *p = path_expand_home(path);
	if (!p || p[0] == '/')
		return p;
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return p; /* nothing better to offer */
	size_t n = strlen(cwd) + strlen(p) + 2;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", cwd, p);
	free(cwd);
	free(p);
	return out;
}

int path_mkdirs(const char *path, unsigned mode)
{
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	int ret = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			ret = -errno;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return ret;
}

/* Write all of data to fd: 0 or -errno. */
static int write_all(int fd, const void *data, size_t len)
{
	for (const char *p = data; len;) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int path_append_sync(const char *path, const void *data, size_t len,
		     unsigned mode)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	int ret = write_all(fd, data, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

int path_write_atomic(const char *path, const void *data, size_t len,
		      unsigned mode)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	char *dir = strdup(path);
	int ret = 0, fd = -1;
	if (!tmp || !dir) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(tmp, n, "%s.tmp%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	fchmod(fd, mode); /* whatever the umask */
	if ((ret = write_all(fd, data, len)))
		goto out;
	if (fsync(fd) < 0 || close(fd) < 0) {
		ret = -errno;
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		ret = -errno;
		goto out;
	}
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		int dfd = open(*dir ? dir : "/",
			       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			if (fsync(dfd) < 0)
				ret = -errno;
			close(dfd);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	if (ret && tmp)
		unlink(tmp);
	free(tmp);
	free(dir);
	return ret;
}
