/* query_filters.c - the read-only queries of queries/ (fs/queries.h):
 * the account's favourite filters, read again once per cache_ttl, and the
 * query.NAME=JQL options, their texts kept in STATE_DIR/queries/.filters/
 * so that they open as files do. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/queries_priv.h"
#include "util/json.h"
#include "util/log.h"

/* The text of a read-only query into FAVS_DIR: 0 or -1. */
int filters_put(struct queries *q, const char *file, const char *jql)
{
	int fd = openat(q->favfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0600);
	if (fd < 0)
		return -1;
	bool ok = write(fd, jql, strlen(jql)) == (ssize_t)strlen(jql) &&
		  write(fd, "\n", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}


/* A filter's name as a file name: no "/", no control character, not
 * hidden, not a scratch name; "" when nothing is left. */
static void safe_name(const char *name, char *out, size_t size)
{
	size_t o = 0;
	for (const unsigned char *c = (const unsigned char *)name;
	     *c && o + 1 < size - sizeof(QUERY_SUFFIX); c++)
		out[o++] = *c == '/' || *c < 0x20 || *c == 0x7f ? '_' : (char)*c;
	while (o && out[o - 1] == '~')
		o--;
	size_t b = 0;
	while (b < o && (out[b] == '.' || out[b] == '#'))
		b++;
	memmove(out, out + b, o - b);
	out[o - b] = '\0';
}

/* Read the favourites again when older than the listing's lifetime:
 * their texts written to FAVS_DIR, the map replaced.  Failures keep what
 * was read (logged).  Called without the lock. */
void filters_read(struct queries *q, deadline_t d)
{
	pthread_mutex_lock(&q->lock);
	bool due = q->favfd >= 0 && !q->favs_reading &&
		   (!q->favs_at || clock_mono_ms() - q->favs_at >= q->ttl_ms);
	if (due)
		q->favs_reading = true;
	pthread_mutex_unlock(&q->lock);
	if (!due)
		return;
	cJSON *list = NULL;
	struct jira_error err = { 0 };
	enum jira_status st = jira_get_json(
		q->client, "/rest/api/2/filter/favourite", d, &list, &err);
	struct map *m = st == JIRA_OK ? map_new() : NULL;
	const cJSON *f, *beans = cJSON_IsArray(list) && m ? list : NULL;
	cJSON_ArrayForEach(f, beans) {
		const char *name = json_str(f, "name"), *jql = json_str(f, "jql");
		char base[NAME_LEN - 8], file[NAME_LEN];
		safe_name(name ? name : "", base, sizeof(base));
		if (!base[0] || !jql)
			continue;
		snprintf(file, sizeof(file), "%s" QUERY_SUFFIX, base);
		/* two of one name (or a configured one's): the id tells */
		if (map_get(m, file) || map_get(q->fixed, file))
			snprintf(file, sizeof(file), "%.200s (%s)" QUERY_SUFFIX,
				 base, json_str(f, "id") ? json_str(f, "id")
							 : "?");
		if (filters_put(q, file, jql) == 0)
			map_put(m, file, (void *)1, NULL);
	}
	cJSON_Delete(list);
	if (st != JIRA_OK)
		jlog_warn("cannot read the favourite filters: %s", err.msg);
	pthread_mutex_lock(&q->lock);
	if (m) {
		for (struct map_iter it = map_iter_start(q->favs);
		     map_iter_next(&it);)
			if (!map_get(m, it.key) && !map_get(q->fixed, it.key))
				unlinkat(q->favfd, it.key, 0);
		map_free(q->favs);
		q->favs = m;
	}
	q->favs_at = clock_mono_ms();
	q->favs_reading = false;
	pthread_mutex_unlock(&q->lock);
}

/* Is file name a favourite's (and no text of the user's by that name)? */
bool filters_has(struct queries *q, const char *name)
{
	struct stat st;
	if (q->dirfd >= 0 &&
	    fstatat(q->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return false;
	if (queries_is_definition(name, NULL, 0)) /* read when due */
		filters_read(q, deadline_in(q->bg_budget_ms / 4));
	pthread_mutex_lock(&q->lock);
	bool fav = map_get(q->favs, name) || map_get(q->fixed, name);
	pthread_mutex_unlock(&q->lock);
	return fav;
}

