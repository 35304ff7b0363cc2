/*
 * alias.c - the alias journal of fs/local.h: one JSON line per change in
 * STATE_DIR/aliases ("+" an alias, "-" gone, "~" removed with its key
 * remembered), replayed at mount and compacted when it holds more lines
 * than live entries.  A line that does not parse (torn by a crash, or
 * foreign) is skipped.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/local_priv.h"
#include "util/log.h"
#include "util/path.h"

static char *journal_line(const char *op, const char *dir, const char *name,
			  const char *key)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "op", op);
	cJSON_AddStringToObject(o, "dir", dir);
	cJSON_AddStringToObject(o, "name", name);
	if (key)
		cJSON_AddStringToObject(o, "key", key);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* Append lines to the journal and make them durable. */
static int journal_append(struct local *l, const char *lines)
{
	if (!l->journal)
		return 0;
	pthread_mutex_lock(&l->journal_lock);
	int ret = path_append_sync(l->journal, lines, strlen(lines), 0600);
	pthread_mutex_unlock(&l->journal_lock);
	if (ret)
		jlog_err("cannot record an alias in %s: %s", l->journal,
			 strerror(-ret));
	return ret;
}

void alias_journal(struct local *l, const char *op, const char *dir,
		    const char *name, const char *key)
{
	char *line = journal_line(op, dir, name, key);
	if (!line)
		return;
	size_t n = strlen(line);
	char *s = realloc(line, n + 2);
	if (s) {
		s[n] = '\n';
		s[n + 1] = '\0';
		journal_append(l, s);
		line = s;
	}
	free(line);
}

/* Rewrite the journal with only the live aliases (write, fsync, rename,
 * fsync the directory). */
void alias_journal_compact(struct local *l)
{
	struct strbuf sb = STRBUF_INIT;
	struct map_iter di = map_iter_start(l->dirs);
	while (map_iter_next(&di)) {
		struct map_iter ni = map_iter_start(di.value);
		while (map_iter_next(&ni)) {
			struct local_node *n = ni.value;
			if (n->kind != LOCAL_ALIAS)
				continue;
			char *line = journal_line("+", di.key, ni.key, n->key);
			if (line) {
				strbuf_adds(&sb, line);
				strbuf_addc(&sb, '\n');
			}
			free(line);
		}
	}
	struct map_iter hi = map_iter_start(l->hidden);
	while (map_iter_next(&hi)) {
		const char *slash = strrchr(hi.key, '/');
		char *dir = strndup(hi.key, (size_t)(slash - hi.key));
		char *line = dir ? journal_line("~", dir, slash + 1, hi.value)
				 : NULL;
		if (line) {
			strbuf_adds(&sb, line);
			strbuf_addc(&sb, '\n');
		}
		free(line);
		free(dir);
	}
	int ret = sb.failed ? -ENOMEM
			    : path_write_atomic(l->journal, strbuf_str(&sb),
						sb.len, 0600);
	if (ret)
		jlog_warn("cannot compact %s: %s", l->journal, strerror(-ret));
	strbuf_release(&sb);
}

/* Replay the journal; returns the number of lines read. */
size_t alias_journal_load(struct local *l)
{
	FILE *f = fopen(l->journal, "re");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0, lines = 0;
	while (getline(&line, &cap, f) > 0) {
		lines++;
		cJSON *o = cJSON_Parse(line);
		const cJSON *op = cJSON_GetObjectItem(o, "op");
		const cJSON *dir = cJSON_GetObjectItem(o, "dir");
		const cJSON *name = cJSON_GetObjectItem(o, "name");
		const cJSON *key = cJSON_GetObjectItem(o, "key");
		if (cJSON_IsString(op) && cJSON_IsString(dir) &&
		    cJSON_IsString(name)) {
			if (strcmp(op->valuestring, "+") == 0 &&
			    cJSON_IsString(key)) {
				local_alias_put(l, dir->valuestring,
					  name->valuestring, key->valuestring);
			} else if (strcmp(op->valuestring, "-") == 0 ||
				   strcmp(op->valuestring, "~") == 0) {
				struct map *d = local_dir_of(l, dir->valuestring,
						       false);
				struct local_node *n =
					d ? map_get(d, name->valuestring)
					  : NULL;
				if (n && n->kind == LOCAL_ALIAS)
					local_unlink_node(l, map_del(
							       d,
							       name->valuestring));
				if (op->valuestring[0] == '~' &&
				    cJSON_IsString(key))
					local_hide(l, dir->valuestring,
					     name->valuestring,
					     key->valuestring);
				else
					local_unhide(l, dir->valuestring,
					       name->valuestring);
			}
		}
		cJSON_Delete(o);
	}
	free(line);
	fclose(f);
	return lines;
}

