/* ticket.c - a ticket file read back, and the state line; see scan.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/plan_priv.h"
#include "scan/scan.h"
#include "util/json.h"

#define STATE_TAG "[jirafs-scan "

void scan_tool_token(char out[SCAN_TOOL_TOKEN_SIZE], const char *tool)
{
	size_t n = 0;
	const char *p = tool ? tool : "";
	for (; *p && n < SCAN_TOOL_TOKEN_SIZE - 1; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c & 0xc0) == 0x80)
			continue; /* one '-' for a whole non-ASCII character */
		out[n++] = (c > 0x20 && c < 0x7f && c != ']') ? (char)c : '-';
	}
	if (!n)
		out[n++] = '-';
	out[n] = '\0';
}

static bool is_content(const char *s, size_t n)
{
	if (n != SCAN_CONTENT_SIZE - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int scan_state_line(char *buf, size_t size, const struct scan_state *s)
{
	char tool[SCAN_TOOL_TOKEN_SIZE];
	const char *sev = (unsigned)s->sev < SCAN_SEV_COUNT ?
				  scan_severity_name(s->sev) : NULL;
	if (!sev || !is_content(s->content, strlen(s->content)))
		return -EINVAL;
	scan_tool_token(tool, s->tool);
	int n = snprintf(buf, size,
			 STATE_TAG "tool=%s sev=%s content=%s seen=%s%s]", tool,
			 sev, s->content, s->seen ? "yes" : "no",
			 s->accepted ? " accepted=yes" : "");
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

static bool word_is(const char *v, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(v, w, n) == 0;
}

/* The state line whose fields start at p and end at end (the ']'), or
 * false when a required field is missing or bad. */
static bool parse_fields(const char *p, const char *end, struct scan_state *st)
{
	struct scan_state s = { 0 };
	bool tool = false, sev = false, content = false, seen = false;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *w = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		const char *eq = memchr(w, '=', (size_t)(p - w));
		if (!eq)
			continue; /* an unknown word: ignored */
		size_t kl = (size_t)(eq - w), vl = (size_t)(p - eq - 1);
		const char *v = eq + 1;
		if (word_is(w, kl, "tool")) {
			if (!vl)
				return false;
			if (vl >= sizeof(s.tool))
				vl = sizeof(s.tool) - 1;
			memcpy(s.tool, v, vl);
			s.tool[vl] = '\0';
			tool = true;
		} else if (word_is(w, kl, "sev")) {
			sev = false;
			for (int i = 0; i < SCAN_SEV_COUNT; i++)
				if (word_is(v, vl, scan_severity_name(i))) {
					s.sev = (enum scan_severity)i;
					sev = true;
				}
			if (!sev)
				return false;
		} else if (word_is(w, kl, "content")) {
			if (!is_content(v, vl))
				return false;
			memcpy(s.content, v, vl);
			s.content[vl] = '\0';
			content = true;
		} else if (word_is(w, kl, "seen")) {
			if (!word_is(v, vl, "yes") && !word_is(v, vl, "no"))
				return false;
			s.seen = word_is(v, vl, "yes");
			seen = true;
		} else if (word_is(w, kl, "accepted")) {
			s.accepted = word_is(v, vl, "yes");
		}
	}
	if (!tool || !sev || !content || !seen)
		return false;
	s.known = true;
	*st = s;
	return true;
}

/* Every well-formed state line of text, in order, into *st (the last one
 * wins). */
static void find_states(const char *text, struct scan_state *st)
{
	const char *p = text;
	while (p && (p = strstr(p, STATE_TAG))) {
		const char *f = p + strlen(STATE_TAG);
		const char *end = f + strcspn(f, "]\n[");
		p = f;
		if (*end != ']')
			continue; /* cut by a new line or another '[' */
		parse_fields(f, end, st);
	}
}

void scan_state_find(const char *text, struct scan_state *st)
{
	if (text)
		find_states(text, st);
}

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

int scan_ticket_read(const char *text, size_t len, bool done,
		     const char *scope_label, struct scan_ticket *t)
{
	memset(t, 0, sizeof(*t));
	cJSON *root = cJSON_ParseWithLength(text, len);
	if (!root)
		return 0;
	int ret = 0;
	bool scoped = false, oom = false;
	const char *fp = NULL;
	const cJSON *l;
	cJSON_ArrayForEach(l, json_item(root, "labels")) {
		if (!cJSON_IsString(l))
			continue;
		if (scope_label && strcmp(l->valuestring, scope_label) == 0)
			scoped = true;
		else if (!fp && scan_is_fp(l->valuestring))
			fp = l->valuestring;
	}
	const char *key = json_str(root, "key");
	if (!cJSON_IsObject(root) || !scoped || !fp || !key || !*key)
		goto out;

	memcpy(t->fp, fp, SCAN_FP_SIZE);
	t->done = done;
	t->key = dup_or_null(key, &oom);
	t->resolution = dup_or_null(json_str(root, "resolution"), &oom);
	find_states(json_str(root, "description"), &t->state);
	const cJSON *c;
	cJSON_ArrayForEach(c, json_item(root, "comments"))
		find_states(json_str(c, "body"), &t->state);
	ret = 1;
	if (oom) {
		scan_ticket_release(t);
		ret = -ENOMEM;
	}
out:
	cJSON_Delete(root);
	return ret;
}

void scan_ticket_release(struct scan_ticket *t)
{
	if (!t)
		return;
	free(t->key);
	free(t->resolution);
	memset(t, 0, sizeof(*t));
}
