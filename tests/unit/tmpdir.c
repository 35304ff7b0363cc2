/* tmpdir.c - see tmpdir.h */
#include "tmpdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tmpdir_new(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/jirafs-unit-%s-XXXXXX",
		 base && *base ? base : "/tmp", tag);
	return mkdtemp(path) ? strdup(path) : NULL;
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

void tmpdir_remove(char *dir)
{
	if (dir)
		nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *tmpdir_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int tmpdir_write(const char *dir, const char *name, const void *data,
		 size_t len)
{
	char *p = tmpdir_path(dir, name);
	int fd = p ? open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
		   : -1;
	free(p);
	if (fd < 0)
		return -1;
	const char *s = data;
	while (len) {
		ssize_t w = write(fd, s, len);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		s += w;
		len -= (size_t)w;
	}
	return close(fd);
}

char *tmpdir_read(const char *dir, const char *name, size_t *len)
{
	char *p = tmpdir_path(dir, name);
	FILE *f = p ? fopen(p, "re") : NULL;
	free(p);
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap + 1);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *b = realloc(buf, 2 * cap + 1);
			if (!b) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = n;
	}
	return buf;
}

bool tmpdir_exists(const char *dir, const char *name)
{
	char *p = tmpdir_path(dir, name);
	bool there = p && access(p, F_OK) == 0;
	free(p);
	return there;
}

int tmpdir_count(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}
