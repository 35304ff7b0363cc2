/* alias.c - the alias journal; see alias.h. */
#include "fs/alias.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/log.h"
#include "util/path.h"

#define ALIAS_JOURNAL "aliases"

struct alias_journal {
	char *path;
	pthread_mutex_t lock; /* serialises appends and rewrites */
};

struct alias_journal *alias_journal_open(const char *state_dir)
{
	struct alias_journal *j = calloc(1, sizeof(*j));
	size_t n = strlen(state_dir) + sizeof(ALIAS_JOURNAL) + 2;
	if (!j || !(j->path = malloc(n))) {
		free(j);
		return NULL;
	}
	snprintf(j->path, n, "%s/%s", state_dir, ALIAS_JOURNAL);
	pthread_mutex_init(&j->lock, NULL);
	return j;
}

void alias_journal_close(struct alias_journal *j)
{
	if (!j)
		return;
	pthread_mutex_destroy(&j->lock);
	free(j->path);
	free(j);
}

const char *alias_journal_path(const struct alias_journal *j)
{
	return j->path;
}

void alias_journal_line(struct strbuf *sb, const char *op, const char *dir,
			const char *name, const char *key)
{
	cJSON *o = cJSON_CreateObject();
	if (!o) {
		sb->failed = true;
		return;
	}
	cJSON_AddStringToObject(o, "op", op);
	cJSON_AddStringToObject(o, "dir", dir);
	cJSON_AddStringToObject(o, "name", name);
	if (key)
		cJSON_AddStringToObject(o, "key", key);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s) {
		sb->failed = true;
		return;
	}
	strbuf_adds(sb, s);
	strbuf_addc(sb, '\n');
	free(s);
}

void alias_journal_add(struct alias_journal *j, const char *op,
		       const char *dir, const char *name, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	alias_journal_line(&sb, op, dir, name, key);
	int ret = -ENOMEM;
	if (!sb.failed) {
		pthread_mutex_lock(&j->lock);
		ret = path_append_sync(j->path, strbuf_str(&sb), sb.len, 0600);
		pthread_mutex_unlock(&j->lock);
	}
	if (ret)
		jlog_err("cannot record an alias in %s: %s", j->path,
			 strerror(-ret));
	strbuf_release(&sb);
}

void alias_journal_rewrite(struct alias_journal *j, const struct strbuf *sb)
{
	int ret = -ENOMEM;
	if (!sb->failed) {
		pthread_mutex_lock(&j->lock);
		ret = path_write_atomic(j->path, sb->len ? sb->buf : "",
					sb->len, 0600);
		pthread_mutex_unlock(&j->lock);
	}
	if (ret)
		jlog_warn("cannot compact %s: %s", j->path, strerror(-ret));
}

size_t alias_journal_load(struct alias_journal *j,
			  void (*fn)(void *ctx, const char *op,
				     const char *dir, const char *name,
				     const char *key),
			  void *ctx)
{
	FILE *f = fopen(j->path, "re");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0, lines = 0;
	while (getline(&line, &cap, f) > 0) {
		lines++;
		cJSON *o = cJSON_Parse(line);
		const char *op = json_str(o, "op");
		const char *dir = json_str(o, "dir");
		const char *name = json_str(o, "name");
		if (cJSON_IsObject(o) && op && dir && name)
			fn(ctx, op, dir, name, json_str(o, "key"));
		cJSON_Delete(o);
	}
	free(line);
	fclose(f);
	return lines;
}
