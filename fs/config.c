/* config.c - see config.h */
#include "fs/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/path.h"
#include "util/strbuf.h"

/* The value of the last config= in one -o string ("a=1,config=F,b"), with
 * fuse_opt's "\," unescaped; NULL if none.  Malloc'd into *out. */
static void find_in_opts(const char *opts, char **out)
{
	const char *p = opts;
	while (*p) {
		const char *end = p;
		while (*end && *end != ',')
			end += end[0] == '\\' && end[1] ? 2 : 1;
		if (strncmp(p, "config=", 7) == 0 && p + 7 <= end) {
			struct strbuf sb = STRBUF_INIT;
			for (const char *c = p + 7; c < end; c++) {
				if (*c == '\\' && c + 1 < end)
					c++;
				strbuf_addc(&sb, *c);
			}
			free(*out);
			*out = strbuf_detach(&sb, NULL);
		}
		p = *end ? end + 1 : end;
	}
}

char *config_path(const struct fuse_args *args, int *explicit)
{
	char *named = NULL;
	for (int i = 1; i < args->argc; i++) {
		const char *a = args->argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "-o") == 0 && i + 1 < args->argc)
			find_in_opts(args->argv[++i], &named);
		else if (strncmp(a, "-o", 2) == 0)
			find_in_opts(a + 2, &named);
	}
	*explicit = named != NULL;
	if (named) {
		char *abs = path_absolute(named);
		free(named);
		return abs;
	}
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && *xdg == '/') {
		size_t n = strlen(xdg) + sizeof("/jirafs/config");
		char *p = malloc(n);
		if (p)
			snprintf(p, n, "%s/jirafs/config", xdg);
		return p;
	}
	return path_expand_home("~/.config/jirafs/config");
}

/* The file's text, checked: 0, 1 when it does not exist (and need not), or
 * -1 with the reason. */
static int read_config(const char *path, int explicit, char **text,
		       char *errbuf, size_t errsize)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !explicit)
			return 1;
		snprintf(errbuf, errsize, "cannot read %s: %s", path,
			 strerror(errno));
		return -1;
	}
	struct stat st;
	int ret = -1;
	if (fstat(fd, &st) < 0) {
		snprintf(errbuf, errsize, "cannot read %s: %s", path,
			 strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(errbuf, errsize, "%s is not a regular file", path);
	} else if ((st.st_uid != getuid() && st.st_uid != 0) ||
		   (st.st_mode & 022)) {
		snprintf(errbuf, errsize,
			 "%s may be written by others (it can name programs "
			 "jirafs runs): make it yours and chmod go-w it",
			 path);
	} else if (st.st_size > CONFIG_MAX_BYTES) {
		snprintf(errbuf, errsize, "%s is larger than %d bytes", path,
			 CONFIG_MAX_BYTES);
	} else {
		struct strbuf sb = STRBUF_INIT;
		char buf[4096];
		ssize_t n;
		sb.limit = CONFIG_MAX_BYTES;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			strbuf_add(&sb, buf, (size_t)n);
		if (n < 0 || sb.failed) {
			snprintf(errbuf, errsize, "cannot read %s: %s", path,
				 n < 0 ? strerror(errno) : "too large");
			strbuf_release(&sb);
		} else {
			*text = strbuf_detach(&sb, NULL);
			ret = 0;
		}
	}
	close(fd);
	return ret;
}

/* A query.NAME=JQL line is one option whatever its commas (a JQL has
 * some: "project in (SEC, OPS)"): escaped for fuse_opt, which splits -o
 * at commas.  The line itself, or sb's text. */
static const char *escaped(const char *line, struct strbuf *sb)
{
	if (strncmp(line, "query.", 6) != 0)
		return line;
	sb->len = 0;
	for (const char *c = line; *c; c++) {
		if (*c == ',' || *c == '\\')
			strbuf_addc(sb, '\\');
		strbuf_addc(sb, *c);
	}
	return sb->failed ? line : strbuf_str(sb);
}

int config_apply(struct fuse_args *args, char *errbuf, size_t errsize)
{
	struct strbuf esc = STRBUF_INIT;
	int explicit;
	char *path = config_path(args, &explicit);
	char *text = NULL;
	if (!path) {
		snprintf(errbuf, errsize, "out of memory");
		return -1;
	}
	int r = read_config(path, explicit, &text, errbuf, errsize);
	if (r) {
		free(path);
		return r > 0 ? 0 : -1;
	}
	/* each line becomes "-o LINE", in the file's order, before argv[1] */
	int at = 1, ret = 0;
	char *next = text;
	for (int lineno = 1; next && !ret; lineno++) {
		char *line = next;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		size_t len = strlen(line);
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
			       line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		const char *why = NULL;
		for (size_t i = 0; i < len && !why; i++)
			if ((unsigned char)line[i] < 0x20)
				why = "a control character in the option";
		if (!why && strncmp(line, "config=", 7) == 0)
			why = "config= names the file to read, it cannot be "
			      "inside one";
		if (why) {
			snprintf(errbuf, errsize, "%s:%d: %s", path, lineno,
				 why);
			ret = -1;
		} else if (fuse_opt_insert_arg(args, at, "-o") ||
			   fuse_opt_insert_arg(args, at + 1,
					       escaped(line, &esc))) {
			snprintf(errbuf, errsize, "out of memory");
			ret = -1;
		}
		at += 2;
	}
	strbuf_release(&esc);
	free(text);
	free(path);
	return ret;
}
