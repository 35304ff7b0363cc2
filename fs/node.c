/* node.c - the name grammar; see node.h. */
#include "fs/node.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "jira/issue.h"

/* Names taken apart since the process started (.jirafs/status). */
static _Atomic uint64_t parsed;

uint64_t fs_node_parsed(void)
{
	return atomic_load(&parsed);
}

static void set(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

void fs_node_root(struct fs_node *n)
{
	memset(n, 0, sizeof(*n));
	n->kind = N_ROOT;
}

void fs_dir_name(char *buf, size_t size, const char *project, bool closed)
{
	snprintf(buf, size, "%s%s", project, closed ? "/" CLOSED_DIR : "");
}

void fs_ticket_name(char *buf, size_t size, const char *key)
{
	int n = snprintf(buf, size, "%s%s", key, TICKET_SUFFIX);
	if (n < 0 || (size_t)n >= size)
		buf[0] = '\0';
}

void fs_node_path(const struct fs_node *n, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", n->dir, n->name);
}

void fs_create_subject(char *buf, size_t size, const char *project,
		       bool closed, const char *name)
{
	char dir[DIR_LEN];
	fs_dir_name(dir, sizeof(dir), project, closed);
	snprintf(buf, size, "new:%s/%s", dir, name);
}

/* An entry of a project directory: is it a ticket name, and whose? */
static void classify_entry(struct fs_node *n)
{
	size_t len = strlen(n->name), sl = strlen(TICKET_SUFFIX);
	n->ticket_name = len > sl && n->name[0] != '.' &&
			 strcmp(n->name + len - sl, TICKET_SUFFIX) == 0;
	n->key[0] = '\0';
	if (!n->ticket_name)
		return;
	char key[NAME_LEN];
	memcpy(key, n->name, len - sl);
	key[len - sl] = '\0';
	size_t pl = strlen(n->project);
	if (strncmp(key, n->project, pl) == 0 && key[pl] == '-' &&
	    jira_key_valid(key))
		memcpy(n->key, key, len - sl + 1);
}

static void entry(const struct fs_node *dir, const char *name,
		  struct fs_node *out)
{
	set(out->project, sizeof(out->project), dir->project);
	set(out->dir, sizeof(out->dir), dir->dir);
	out->closed = dir->closed;
	set(out->name, sizeof(out->name), name);
	out->kind = N_ENTRY;
	classify_entry(out);
}

int fs_node_child(const struct fs_node *parent, const char *name,
		  struct fs_node *out)
{
	struct fs_node p = *parent; /* out may be parent */
	atomic_fetch_add(&parsed, 1);
	memset(out, 0, sizeof(*out));
	out->kind = N_NONE;
	if (strlen(name) >= NAME_LEN)
		return -ENAMETOOLONG;
	switch (p.kind) {
	case N_ROOT:
		if (strcmp(name, CTL_DIR) == 0) {
			out->kind = N_CTL_DIR;
		} else if (strcmp(name, QUERIES_DIR) == 0) {
			out->kind = N_QUERIES;
		} else if (jira_project_key_valid(name)) {
			out->kind = N_PROJECT;
			set(out->project, sizeof(out->project), name);
			set(out->dir, sizeof(out->dir), name);
		} else {
			out->kind = N_TOP_ENTRY;
			set(out->name, sizeof(out->name), name);
		}
		return 0;
	case N_CTL_DIR:
		set(out->name, sizeof(out->name), name);
		if (strcmp(name, "status") == 0 || strcmp(name, "log") == 0)
			out->kind = N_CTL_FILE;
		else if (strcmp(name, "outbox") == 0)
			out->kind = N_CTL_OUTBOX;
		else
			out->kind = N_CTL_INNER;
		return 0;
	case N_CTL_OUTBOX:
		out->kind = N_CTL_OUTBOX_FILE;
		set(out->name, sizeof(out->name), name);
		return 0;
	case N_PROJECT:
		if (strcmp(name, CLOSED_DIR) == 0) {
			out->kind = N_CLOSED;
			out->closed = true;
			set(out->project, sizeof(out->project), p.project);
			fs_dir_name(out->dir, sizeof(out->dir), p.project,
				    true);
			return 0;
		}
		if (strcmp(name, SCANS_DIR) == 0) {
			out->kind = N_SCANS;
			set(out->project, sizeof(out->project), p.project);
			snprintf(out->dir, sizeof(out->dir), "%s/" SCANS_DIR,
				 p.project);
			return 0;
		}
		if (strcmp(name, ATTACH_DIR) == 0) {
			out->kind = N_ATTACHMENTS;
			set(out->project, sizeof(out->project), p.project);
			snprintf(out->dir, sizeof(out->dir), "%s/" ATTACH_DIR,
				 p.project);
			return 0;
		}
		entry(&p, name, out);
		return 0;
	case N_ATTACHMENTS: {
		size_t pl = strlen(p.project);
		if (strncmp(name, p.project, pl) != 0 || name[pl] != '-' ||
		    !jira_key_valid(name))
			return 0; /* N_NONE */
		out->kind = N_ATTACH_DIR;
		set(out->project, sizeof(out->project), p.project);
		set(out->key, sizeof(out->key), name);
		snprintf(out->dir, sizeof(out->dir), "%s/" ATTACH_DIR "/%s",
			 p.project, name);
		return 0;
	}
	case N_ATTACH_DIR:
		out->kind = N_ATTACH_FILE;
		set(out->project, sizeof(out->project), p.project);
		set(out->key, sizeof(out->key), p.key);
		set(out->dir, sizeof(out->dir), p.dir);
		set(out->name, sizeof(out->name), name);
		return 0;
	case N_SCANS:
		out->kind = N_SCAN_FILE;
		set(out->project, sizeof(out->project), p.project);
		set(out->dir, sizeof(out->dir), p.dir);
		set(out->name, sizeof(out->name), name);
		return 0;
	case N_CLOSED:
		entry(&p, name, out);
		return 0;
	case N_QUERIES:
		out->kind = queries_is_file(name) ? N_QUERY_FILE : N_QUERY_DIR;
		set(out->name, sizeof(out->name), name);
		return 0;
	case N_QUERY_DIR:
		out->kind = N_QUERY_LINK;
		set(out->dir, sizeof(out->dir), p.name);
		set(out->name, sizeof(out->name), name);
		return 0;
	default:
		return 0; /* nothing lives below a file */
	}
}

bool queries_is_definition(const char *name, char *qname, size_t size)
{
	size_t n = strlen(name), sl = strlen(QUERY_SUFFIX);
	if (n <= sl || name[0] == '.' || strcmp(name + n - sl, QUERY_SUFFIX))
		return false;
	if (qname)
		snprintf(qname, size, "%.*s", (int)(n - sl), name);
	return true;
}

bool queries_is_file(const char *name)
{
	size_t n = strlen(name);
	return queries_is_definition(name, NULL, 0) || name[0] == '.' ||
	       name[0] == '#' || (n && name[n - 1] == '~');
}

int fs_node_parse(const char *path, struct fs_node *n)
{
	char c[NAME_LEN];
	fs_node_root(n);
	for (const char *s = path; *s;) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len >= sizeof(c))
			return -ENAMETOOLONG;
		memcpy(c, s, len);
		c[len] = '\0';
		int ret = fs_node_child(n, c, n);
		if (ret)
			return ret;
		s += len;
	}
	return 0;
}

int fs_node_at(const char *dir, const char *name, struct fs_node *n)
{
	char path[DIR_LEN + NAME_LEN + 2];
	int len = snprintf(path, sizeof(path), "/%s/%s", dir, name);
	if (len < 0 || (size_t)len >= sizeof(path))
		return -ENAMETOOLONG;
	int ret = fs_node_parse(path, n);
	return ret ? ret : n->kind == N_ENTRY ? 0 : -ENOENT;
}

void fs_node_ticket(const char *project, const char *key, bool closed,
		    struct fs_node *n)
{
	memset(n, 0, sizeof(*n));
	n->kind = N_ENTRY;
	set(n->project, sizeof(n->project), project);
	fs_dir_name(n->dir, sizeof(n->dir), project, closed);
	n->closed = closed;
	fs_ticket_name(n->name, sizeof(n->name), key);
	n->ticket_name = true;
	set(n->key, sizeof(n->key), key);
}
