/* journal.c - a directory of record files; see journal.h. */
#include "fs/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/path.h"
#include "util/strbuf.h"

#define TEMP_SUFFIX JOURNAL_SUFFIX ".tmp" /* then the writer's pid */
#define READ_CHUNK 4096

static char *path_of(const char *dir, const char *file)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", dir, file);
	return strbuf_detach(&sb, NULL);
}

int journal_write(const char *dir, const char *file, const char *text)
{
	char *path = path_of(dir, file);
	int ret = path ? path_write_atomic(path, text, strlen(text), 0600)
		       : -ENOMEM;
	free(path);
	return ret;
}

/* Write text to the temporary of dir/file and flush it: 0 or -errno. */
static int write_temp(const char *tmp, const char *text)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		      0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text), off = 0;
	int ret = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)w;
	}
	if (!ret && fdatasync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

int journal_write_batch(const char *dir, char *const *files,
			char *const *texts, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char **tmps = calloc(n ? n : 1, sizeof(*tmps));
	size_t written = 0;
	int ret = tmps ? 0 : -ENOMEM;
	for (; !ret && written < n; written++) {
		strbuf_addf(&sb, "%s/%s" TEMP_SUFFIX "%d", dir, files[written],
			    (int)getpid());
		if (!(tmps[written] = strbuf_detach(&sb, NULL)))
			ret = -ENOMEM;
		else if ((ret = write_temp(tmps[written], texts[written])))
			written++; /* a partial temporary to remove */
		if (ret)
			break;
	}
	for (size_t i = 0; !ret && i < n; i++) {
		char *path = path_of(dir, files[i]);
		if (!path || rename(tmps[i], path) < 0)
			ret = path ? -errno : -ENOMEM;
		free(path);
		if (!ret) {
			free(tmps[i]);
			tmps[i] = NULL;
		} else {
			/* undo the ones renamed already */
			for (size_t j = 0; j < i; j++)
				journal_remove(dir, files[j]);
		}
	}
	if (!ret) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			if (fsync(dfd) < 0)
				ret = -errno;
			close(dfd);
		}
	}
	for (size_t i = 0; tmps && i < written; i++) {
		if (tmps[i])
			unlink(tmps[i]);
		free(tmps[i]);
	}
	free(tmps);
	strbuf_release(&sb);
	return ret;
}

void journal_remove(const char *dir, const char *file)
{
	char *path = path_of(dir, file);
	if (path && unlink(path) < 0 && errno != ENOENT)
		jlog_warn("cannot remove %s: %s", path, strerror(errno));
	free(path);
}

/* "*.json.tmp<digits>": what path_write_atomic() writes before renaming.
 * Only that: any other name in the directory is left alone. */
static bool is_temporary(const char *name)
{
	const char *t = strstr(name, TEMP_SUFFIX);
	if (!t || t == name)
		return false;
	t += strlen(TEMP_SUFFIX);
	if (!*t)
		return false;
	for (; *t; t++)
		if (*t < '0' || *t > '9')
			return false;
	return true;
}

static bool is_record(const char *name)
{
	size_t len = strlen(name), sl = strlen(JOURNAL_SUFFIX);
	return len > sl && name[0] != '.' &&
	       strcmp(name + len - sl, JOURNAL_SUFFIX) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's records, sorted (malloc'd, *n of them); the
 * temporaries removed on the way. */
static char **record_names(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t cap = 0;
	*n = 0;
	if (!d)
		return NULL;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (is_temporary(de->d_name)) {
			/* half-written by a daemon that died: its record is
			 * the file beside it, as it was before */
			char *tmp = path_of(dir, de->d_name);
			if (tmp && unlink(tmp) == 0)
				jlog_info("outbox: removed %s, left by a "
					  "daemon that died while writing it",
					  de->d_name);
			free(tmp);
			continue;
		}
		if (!is_record(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			char **p = realloc(names, cap * sizeof(*p));
			if (!p)
				break;
			names = p;
		}
		if ((names[*n] = strdup(de->d_name)))
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(names, *n, sizeof(*names), cmp_names);
	return names;
}

size_t journal_scan(const char *dir,
		    void (*fn)(void *ctx, const char *file, const char *text,
			       size_t len),
		    void *ctx)
{
	size_t n;
	char **names = record_names(dir, &n);
	for (size_t i = 0; i < n; i++) {
		char *path = path_of(dir, names[i]);
		FILE *f = path ? fopen(path, "re") : NULL;
		struct strbuf sb = STRBUF_INIT;
		char buf[READ_CHUNK];
		size_t got;
		while (f && (got = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_add(&sb, buf, got);
		if (f)
			fclose(f);
		fn(ctx, names[i], f && !sb.failed ? strbuf_str(&sb) : NULL,
		   sb.len);
		strbuf_release(&sb);
		free(path);
		free(names[i]);
	}
	free(names);
	return n;
}
