/*
 * jql.c - building JQL: string literals and the queries jirafs runs (a
 * project's tickets, its count, what changed lately, a list of keys).  Pure
 * string work, no network; declared in client.h.
 */
#include <stdlib.h>

#include "jira/client.h"
#include "util/strbuf.h"

char *jql_quote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addc(&sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addc(&sb, '\\');
		strbuf_addc(&sb, (unsigned char)*s < 0x20 ? ' ' : *s);
	}
	strbuf_addc(&sb, '"');
	return strbuf_detach(&sb, NULL);
}

char *jql_project_all(const char *project_key)
{
	char *q = jql_quote(project_key);
	if (!q)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "project = %s ORDER BY key ASC", q);
	free(q);
	return strbuf_detach(&sb, NULL);
}

char *jql_project_count(const char *project_key)
{
	char *q = jql_quote(project_key);
	if (!q)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "project = %s", q);
	free(q);
	return strbuf_detach(&sb, NULL);
}

char *jql_project_updated(const char *project_key, unsigned minutes)
{
	char *q = jql_quote(project_key);
	if (!q)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "project = %s AND updated >= \"-%um\" ORDER BY key ASC",
		    q, minutes);
	free(q);
	return strbuf_detach(&sb, NULL);
}

char *jql_keys(const char *const *keys, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "key in (");
	for (size_t i = 0; i < n; i++) {
		char *q = jql_quote(keys[i]);
		strbuf_addf(&sb, "%s%s", i ? ", " : "", q ? q : "\"\"");
		free(q);
	}
	strbuf_adds(&sb, ") ORDER BY key ASC");
	return strbuf_detach(&sb, NULL);
}
