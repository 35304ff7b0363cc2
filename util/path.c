/* path.c - see path.h */
#include "util/path.h"

#include <errno.h>
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
