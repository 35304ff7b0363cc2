/* scans.c - the files of PROJECT/scans/; see scans.h. */
#include "fs/scans.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/map.h"
#include "util/path.h"
#include "util/strbuf.h"

#define WRITE_BACK_MS 1000

/* The result of one report's last import, while creates of it wait. */
struct result {
	cJSON *json;         /* the result file's object */
	struct map *by_fp;   /* fingerprint -> its object in "findings" */
	size_t pending;      /* creates not applied yet */
	int64_t written_ms;  /* mono ms of the last write-back */
};

struct scans {
	char *dir;             /* STATE_DIR/scans */
	pthread_mutex_t lock;  /* guards the maps */
	struct map *errors;    /* "PROJECT/NAME" -> malloc'd reason */
	struct map *results;   /* "PROJECT/NAME" -> struct result */
};

/* The length of suffix when s ends with it (and is longer), else 0. */
static size_t ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && strcmp(s + n - k, suffix) == 0 ? k : 0;
}

bool scans_scope(const char *name, char *scope, size_t size)
{
	size_t dry = ends(name, SCANS_DRY_SUFFIX);
	snprintf(scope, size, "%.*s", (int)(strlen(name) - dry), name);
	return dry != 0;
}

bool scans_is_result(const char *name)
{
	return ends(name, SCANS_RESULT_SUFFIX);
}

bool scans_is_scratch(const char *name)
{
	size_t n = strlen(name);
	return name[0] == '.' || (n && name[n - 1] == '~') ||
	       (name[0] == '#' && n > 1 && name[n - 1] == '#');
}

/* STATE_DIR/scans/PROJECT[/NAME], malloc'd. */
static char *path_of(const struct scans *s, const char *project,
		     const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", s->dir, project);
	if (name)
		strbuf_addf(&sb, "/%s", name);
	return strbuf_detach(&sb, NULL);
}

static char *id_of(const char *project, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", project, name);
	return strbuf_detach(&sb, NULL);
}

struct scans *scans_new(const char *state_dir)
{
	struct scans *s = calloc(1, sizeof(*s));
	struct strbuf sb = STRBUF_INIT;
	if (!s)
		return NULL;
	strbuf_addf(&sb, "%s/scans", state_dir);
	s->dir = strbuf_detach(&sb, NULL);
	s->errors = map_new();
	s->results = map_new();
	if (!s->dir || !s->errors || !s->results) {
		scans_free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

/* Write r back as the file of id ("PROJECT/NAME"); lock held. */
static void write_back(struct scans *s, const char *id, struct result *r)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s" SCANS_RESULT_SUFFIX, s->dir, id);
	size_t len = 0;
	char *text = json_file_text(r->json, &len);
	int ret = text && sb.buf ? path_write_atomic(sb.buf, text, len, 0600)
				 : -ENOMEM;
	if (ret)
		jlog_warn("cannot write %s: %s", strbuf_str(&sb),
			  strerror(-ret));
	r->written_ms = clock_mono_ms();
	free(text);
	strbuf_release(&sb);
}

static void result_free(struct result *r)
{
	if (!r)
		return;
	cJSON_Delete(r->json);
	map_free(r->by_fp);
	free(r);
}

void scans_free(struct scans *s)
{
	if (!s)
		return;
	if (s->results) {
		for (struct map_iter it = map_iter_start(s->results);
		     map_iter_next(&it);) {
			write_back(s, it.key, it.value);
			result_free(it.value);
		}
		map_free(s->results);
	}
	if (s->errors) {
		for (struct map_iter it = map_iter_start(s->errors);
		     map_iter_next(&it);)
			free(it.value);
		map_free(s->errors);
	}
	if (s->dir)
		pthread_mutex_destroy(&s->lock);
	free(s->dir);
	free(s);
}

/* What a file shows: reports 0644, results 0444 (the caller sets the
 * owner). */
static void shown(const char *name, struct stat *st)
{
	st->st_mode = S_IFREG | (scans_is_result(name) ? 0444 : 0644);
	st->st_nlink = 1;
}

int scans_list(struct scans *s, const char *project,
	       void (*fn)(void *ctx, const char *name, const struct stat *st),
	       void *ctx)
{
	char *dir = path_of(s, project, NULL);
	if (!dir)
		return -ENOMEM;
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		free(dir);
		return e == ENOENT ? 0 : -e;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		shown(de->d_name, &st);
		fn(ctx, de->d_name, &st);
	}
	closedir(d);
	free(dir);
	return 0;
}

int scans_stat(struct scans *s, const char *project, const char *name,
	       struct stat *st)
{
	char *path = path_of(s, project, name);
	int ret = !path ? -ENOMEM : lstat(path, st) ? -errno : 0;
	if (!ret && !S_ISREG(st->st_mode))
		ret = -ENOENT;
	if (!ret)
		shown(name, st);
	free(path);
	return ret;
}

int scans_open(struct scans *s, const char *project, const char *name,
	       int flags, int *fd)
{
	bool writing = (flags & O_ACCMODE) != O_RDONLY ||
		       (flags & (O_TRUNC | O_APPEND));
	if (writing && scans_is_result(name))
		return -EACCES;
	char *dir = path_of(s, project, NULL);
	char *path = path_of(s, project, name);
	int ret = dir && path ? 0 : -ENOMEM;
	if (!ret && (flags & O_CREAT))
		ret = path_mkdirs(dir, 0700);
	if (!ret) {
		/* a report written is read back by its import: O_RDWR */
		int how = writing ? O_RDWR : O_RDONLY;
		*fd = open(path,
			   how | (flags & (O_CREAT | O_TRUNC | O_EXCL)) |
				   O_CLOEXEC | O_NOFOLLOW,
			   0600);
		if (*fd < 0)
			ret = -errno;
	}
	free(dir);
	free(path);
	return ret;
}

int scans_unlink(struct scans *s, const char *project, const char *name)
{
	if (scans_is_result(name))
		return -EPERM;
	char *path = path_of(s, project, name);
	int ret = !path ? -ENOMEM : unlink(path) ? -errno : 0;
	free(path);
	if (!ret)
		scans_set_error(s, project, name, NULL);
	return ret;
}

int scans_rename(struct scans *s, const char *project, const char *from,
		 const char *to)
{
	if (scans_is_result(from) || scans_is_result(to))
		return -EPERM;
	char *a = path_of(s, project, from), *b = path_of(s, project, to);
	int ret = !a || !b ? -ENOMEM : rename(a, b) ? -errno : 0;
	free(a);
	free(b);
	return ret;
}

char *scans_error(struct scans *s, const char *project, const char *name)
{
	char *id = id_of(project, name), *why = NULL;
	pthread_mutex_lock(&s->lock);
	const char *v = id ? map_get(s->errors, id) : NULL;
	if (v)
		why = strdup(v);
	pthread_mutex_unlock(&s->lock);
	free(id);
	return why;
}

void scans_set_error(struct scans *s, const char *project, const char *name,
		     const char *why)
{
	char *id = id_of(project, name), *copy = why ? strdup(why) : NULL;
	void *old = NULL;
	if (!id)
		return;
	pthread_mutex_lock(&s->lock);
	if (copy) {
		if (map_put(s->errors, id, copy, &old))
			free(copy);
	} else {
		old = map_del(s->errors, id);
	}
	pthread_mutex_unlock(&s->lock);
	free(old);
	free(id);
}

int scans_result_put(struct scans *s, const char *project, const char *name,
		     cJSON *result, size_t pending)
{
	char *id = id_of(project, name);
	struct result *r = calloc(1, sizeof(*r));
	char *dir = path_of(s, project, NULL);
	int ret = id && r && dir && (r->by_fp = map_new()) ? 0 : -ENOMEM;
	if (!ret)
		ret = path_mkdirs(dir, 0700);
	free(dir);
	if (ret) {
		cJSON_Delete(result);
		result_free(r);
		free(id);
		return ret;
	}
	r->json = result;
	r->pending = pending;
	const cJSON *f;
	cJSON_ArrayForEach(f, json_item(result, "findings")) {
		const char *fp = json_str(f, "fingerprint");
		if (fp && map_put(r->by_fp, fp, (void *)f, NULL))
			ret = -ENOMEM;
	}
	void *old = NULL;
	pthread_mutex_lock(&s->lock);
	write_back(s, id, r);
	if (r->pending && !ret && map_put(s->results, id, r, &old) == 0)
		r = NULL;
	pthread_mutex_unlock(&s->lock);
	result_free(old);
	result_free(r);
	free(id);
	return 0;
}

/* The result of id held in memory, or loaded from its file (a create
 * replayed by a later mount); lock held. */
static struct result *held(struct scans *s, const char *id)
{
	struct result *r = map_get(s->results, id);
	if (r)
		return r;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s" SCANS_RESULT_SUFFIX, s->dir, id);
	FILE *f = sb.buf ? fopen(sb.buf, "re") : NULL;
	strbuf_release(&sb);
	if (!f)
		return NULL;
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&sb, chunk, got);
	fclose(f);
	r = calloc(1, sizeof(*r));
	if (r && sb.buf && (r->by_fp = map_new()) &&
	    (r->json = cJSON_ParseWithLength(sb.buf, sb.len))) {
		cJSON *e;
		cJSON_ArrayForEach(e, json_item(r->json, "findings")) {
			const char *fp = json_str(e, "fingerprint");
			if (fp)
				map_put(r->by_fp, fp, e, NULL);
			if (fp && cJSON_IsTrue(json_item(e, "pending")))
				r->pending++;
		}
		if (map_put(s->results, id, r, NULL) == 0) {
			strbuf_release(&sb);
			return r;
		}
	}
	strbuf_release(&sb);
	result_free(r);
	return NULL;
}

/* Set e's member k to the string v. */
static void set_string(cJSON *e, const char *k, const char *v)
{
	cJSON *j = cJSON_CreateString(v);
	if (j && cJSON_GetObjectItemCaseSensitive(e, k))
		cJSON_ReplaceItemInObjectCaseSensitive(e, k, j);
	else if (j)
		cJSON_AddItemToObject(e, k, j);
}

/* A create of the result of name ended: made (key) or refused (why). */
static int settled(struct scans *s, const char *project, const char *name,
		   const char *fp, const char *key, const char *why)
{
	char *id = id_of(project, name);
	int last = 0;
	if (!id)
		return 0;
	pthread_mutex_lock(&s->lock);
	struct result *r = held(s, id);
	cJSON *e = r ? map_get(r->by_fp, fp) : NULL;
	if (e && cJSON_IsTrue(json_item(e, "pending"))) {
		set_string(e, key ? "key" : "error", key ? key : why);
		cJSON_DeleteItemFromObjectCaseSensitive(e, "pending");
		if (r->pending)
			r->pending--;
		last = r->pending == 0;
		if (last || clock_mono_ms() - r->written_ms >= WRITE_BACK_MS)
			write_back(s, id, r);
	}
	pthread_mutex_unlock(&s->lock);
	free(id);
	return last;
}

int scans_result_made(struct scans *s, const char *project, const char *name,
		      const char *fp, const char *key)
{
	return settled(s, project, name, fp, key, NULL);
}

int scans_result_refused(struct scans *s, const char *project,
			 const char *name, const char *fp, const char *why)
{
	char line[600];
	snprintf(line, sizeof(line), "Jira refused the ticket of %s: %.500s", fp,
		 why);
	scans_set_error(s, project, name, line);
	return settled(s, project, name, fp, NULL, why);
}

char *scans_result_key(struct scans *s, const char *project, const char *name,
		       const char *fp)
{
	char *id = id_of(project, name), *key = NULL;
	pthread_mutex_lock(&s->lock);
	struct result *r = id ? map_get(s->results, id) : NULL;
	const cJSON *e = r ? map_get(r->by_fp, fp) : NULL;
	const char *k = json_str(e, "key"), *o = json_str(e, "outcome");
	if (k && o && strcmp(o, "new") == 0)
		key = strdup(k);
	pthread_mutex_unlock(&s->lock);
	free(id);
	return key;
}
