/* render.c - a finding (or a group) as a ticket file; see scan.h */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/plan_priv.h"
#include "scan/scan.h"
#include "util/json.h"
#include "util/map.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one UTF-16 unit */

/* Caps of the description's fixed parts, in UTF-16 units: together with
 * the footer they stay far below SCAN_TEXT_MAX, so the message, snippet
 * and help always keep most of the room. */
#define CAP_TOOL 200
#define CAP_VERSION 100
#define CAP_RULE 500
#define CAP_TITLE 1000
#define CAP_TARGET 1000
#define CAP_LOCATION 1000
#define CAP_LOCATIONS 12000
#define CAP_GROUP_LOC 300
#define CAP_IDS 2000
#define CAP_URI 1000
#define CAP_SCOPE 500
#define CAP_PROJECT 100
/* summary parts */
#define SUM_TOOL 40
#define SUM_RULE 100
#define SUM_TARGET 100

/* ------------------------------------------------------------------ */
/* Text cleaning                                                        */

/* The code point of the UTF-8 sequence at s (n bytes left) and its
 * length; an invalid byte is U+FFFD of length 1. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		goto bad;
	}
	if (n < len)
		goto bad;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		goto bad;
	*cp = v;
	return len;
bad:
	*cp = 0xfffd;
	return 1;
}

static bool is_bidi(uint32_t c)
{
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	       c == 0x200e || c == 0x200f || c == 0x061c;
}

static bool is_space(uint32_t c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 ||
	       c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	       c == 0x3000;
}

static bool is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xfeff;
}

static void add_cp(struct strbuf *sb, uint32_t c)
{
	char b[4];
	size_t n;
	if (c < 0x80) {
		b[0] = (char)c, n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6)), n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12)), n = 3;
	} else {
		b[0] = (char)(0xf0 | (c >> 18)), n = 4;
	}
	for (size_t i = 1; i < n; i++)
		b[i] = (char)(0x80 | ((c >> (6 * (n - 1 - i))) & 0x3f));
	strbuf_add(sb, b, n);
}

size_t scan_text_units(const char *s, size_t len)
{
	size_t u = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80)
			u += c >= 0xf0 ? 2 : 1;
	}
	return u;
}

static void trim_end(struct strbuf *sb, size_t from, bool newlines)
{
	while (sb->len > from &&
	       (sb->buf[sb->len - 1] == ' ' || sb->buf[sb->len - 1] == '\t' ||
		(newlines && sb->buf[sb->len - 1] == '\n')))
		sb->buf[--sb->len] = '\0';
}

/* Cut what sb holds after byte from to at most max units. */
static void cut(struct strbuf *sb, size_t from, size_t max, bool line)
{
	if (sb->failed ||
	    scan_text_units(strbuf_str(sb) + from, sb->len - from) <= max)
		return;
	size_t u = 0, i = from;
	while (i < sb->len) {
		unsigned char c = (unsigned char)sb->buf[i];
		size_t w = c >= 0xf0 ? 2 : 1;
		if (u + w > (max ? max - 1 : 0))
			break;
		u += w;
		i++;
		while (i < sb->len &&
		       ((unsigned char)sb->buf[i] & 0xc0) == 0x80)
			i++;
	}
	sb->len = i;
	sb->buf[i] = '\0';
	trim_end(sb, from, !line);
	if (max)
		strbuf_adds(sb, ELLIPSIS);
}

int scan_text_add(struct strbuf *sb, const char *s, size_t max,
		  enum scan_text_mode mode)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), from = sb->len;
	bool line = mode == SCAN_TEXT_LINE, pending = false;
	for (size_t i = 0; i < n && !sb->failed;) {
		uint32_t c;
		i += decode(p + i, n - i, &c);
		if (line && is_space(c)) {
			pending = sb->len > from;
			continue;
		}
		if (!line && c == '\r') {
			if (i < n && p[i] == '\n')
				i++;
			c = '\n';
		}
		if (!line && (c == '\n' || c == '\t')) {
			strbuf_addc(sb, (char)c);
			continue;
		}
		if (is_bidi(c)) {
			if (!line)
				strbuf_addf(sb, "<U+%04X>", (unsigned)c);
			continue;
		}
		if (is_control(c))
			continue;
		if (pending)
			strbuf_addc(sb, ' ');
		pending = false;
		add_cp(sb, c);
	}
	if (!sb->failed)
		trim_end(sb, from, !line);
	cut(sb, from, max, line);
	return sb->failed ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* Units: severity, content, summary                                    */

enum scan_severity scan_unit_severity(const struct scan_finding *const *fs,
				      size_t n)
{
	enum scan_severity s = SCAN_SEV_INFO;
	for (size_t i = 0; i < n; i++)
		if (fs[i]->severity > s)
			s = fs[i]->severity;
	return s;
}

static int cmp_fp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int scan_unit_content(char out[SCAN_CONTENT_SIZE],
		      const struct scan_finding *const *fs, size_t n,
		      bool group, enum scan_severity sev)
{
	if (!group && n > 0) {
		const char *parts[] = { scan_severity_name(sev), fs[0]->title,
					fs[0]->message };
		scan_content_hash(out, parts, 3);
		return 0;
	}
	const char **fps = malloc((n ? n : 1) * sizeof(*fps));
	struct strbuf sb = STRBUF_INIT;
	if (!fps)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		fps[i] = fs[i]->fp;
	qsort(fps, n, sizeof(*fps), cmp_fp);
	strbuf_grow(&sb, n * SCAN_FP_SIZE + 1);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(fps[i], fps[i - 1]) != 0) {
			if (sb.len)
				strbuf_addc(&sb, ',');
			strbuf_adds(&sb, fps[i]);
		}
	free(fps);
	if (sb.failed) {
		strbuf_release(&sb);
		return -ENOMEM;
	}
	const char *parts[] = { scan_severity_name(sev), strbuf_str(&sb) };
	scan_content_hash(out, parts, 2);
	strbuf_release(&sb);
	return 0;
}

/* The title of a finding: its own, else the first non-blank line of its
 * message (a pointer into it; *len its length). */
static const char *title_of(const struct scan_finding *f, size_t *len)
{
	if (f->title && f->title[strspn(f->title, " \t\r\n")]) {
		*len = strlen(f->title);
		return f->title;
	}
	const char *m = f->message ? f->message : "";
	m += strspn(m, " \t\r\n");
	*len = strcspn(m, "\r\n");
	return m;
}

char *scan_render_summary(const struct scan_finding *const *fs, size_t n,
			  enum scan_group g)
{
	struct strbuf sb = STRBUF_INIT, tail = STRBUF_INIT;
	const struct scan_finding *f = fs[0];
	size_t tlen;
	const char *title = title_of(f, &tlen);
	char *t = strndup(title, tlen);
	if (!t)
		return NULL;

	strbuf_addc(&sb, '[');
	scan_text_add(&sb, f->tool, SUM_TOOL, SCAN_TEXT_LINE);
	strbuf_adds(&sb, "] ");
	scan_text_add(&sb, f->rule, SUM_RULE, SCAN_TEXT_LINE);
	trim_end(&sb, 0, false);
	if ((n == 1 && g == SCAN_GROUP_FINDING) ||
	    g == SCAN_GROUP_RULE_TARGET) {
		strbuf_adds(&tail, " \xe2\x80\x94 "); /* em dash */
		scan_text_add(&tail, f->target, SUM_TARGET, SCAN_TEXT_LINE);
		if (tail.len == strlen(" \xe2\x80\x94 ")) /* no target */
			strbuf_release(&tail);
	}
	size_t used = scan_text_units(strbuf_str(&sb), sb.len) +
		      scan_text_units(strbuf_str(&tail), tail.len) + 2;
	if (used < SCAN_SUMMARY_MAX) {
		size_t at = sb.len;
		strbuf_adds(&sb, ": ");
		scan_text_add(&sb, t, SCAN_SUMMARY_MAX - used, SCAN_TEXT_LINE);
		if (sb.len == at + 2) /* no title */
			sb.buf[sb.len = at] = '\0';
	}
	strbuf_add(&sb, strbuf_str(&tail), tail.len);
	free(t);
	if (tail.failed)
		sb.failed = true;
	strbuf_release(&tail);
	if (sb.failed) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* ------------------------------------------------------------------ */
/* Description                                                          */

static const char *where(const struct scan_finding *f)
{
	return f->location && *f->location ? f->location :
					      f->target ? f->target : "";
}

/* One member's line in a group: the location, prefixed by the target when
 * the group spans targets and the location does not name it. */
static void add_member(struct strbuf *sb, const struct scan_finding *f,
		       enum scan_group g)
{
	const char *loc = where(f), *tgt = f->target ? f->target : "";
	strbuf_adds(sb, "- ");
	if (g == SCAN_GROUP_RULE && *tgt && loc != tgt &&
	    strncmp(loc, tgt, strlen(tgt)) != 0) {
		struct strbuf both = STRBUF_INIT;
		strbuf_adds(&both, tgt);
		strbuf_adds(&both, ": ");
		strbuf_adds(&both, loc);
		scan_text_add(sb, strbuf_str(&both), CAP_GROUP_LOC,
			      SCAN_TEXT_LINE);
		if (both.failed)
			sb->failed = true;
		strbuf_release(&both);
	} else {
		scan_text_add(sb, loc, CAP_GROUP_LOC, SCAN_TEXT_LINE);
	}
	strbuf_addc(sb, '\n');
}

int scan_add_locations(struct strbuf *sb, const struct scan_finding *const *fs,
		       size_t n, enum scan_group g, size_t max)
{
	size_t used = 0;
	for (size_t i = 0; i < n && !sb->failed; i++) {
		size_t at = sb->len;
		add_member(sb, fs[i], g);
		if (sb->failed)
			break;
		size_t u = scan_text_units(sb->buf + at, sb->len - at);
		/* room for "… and N more" (at most 30 units) */
		if (used + u + (i + 1 < n ? 30 : 0) > max) {
			sb->buf[sb->len = at] = '\0';
			strbuf_addf(sb, ELLIPSIS " and %zu more\n", n - i);
			break;
		}
		used += u;
	}
	return sb->failed ? -ENOMEM : 0;
}

/* Share budget among the n texts (their sizes in units) by water-filling:
 * small ones whole, the largest ones cut evenly. */
static void share(const size_t *size, size_t *cap, size_t n, size_t budget)
{
	bool done[4] = { false };
	for (size_t left = n; left > 0; left--) {
		size_t k = n;
		for (size_t i = 0; i < n; i++)
			if (!done[i] && (k == n || size[i] < size[k]))
				k = i;
		size_t even = budget / left;
		cap[k] = size[k] < even ? size[k] : even;
		budget -= cap[k];
		done[k] = true;
	}
}

static char *cleaned(const char *s, enum scan_text_mode m, size_t *units)
{
	struct strbuf sb = STRBUF_INIT;
	scan_text_add(&sb, s, SIZE_MAX, m);
	*units = scan_text_units(strbuf_str(&sb), sb.len);
	return strbuf_detach(&sb, NULL);
}

static int add_description(struct strbuf *out,
			   const struct scan_finding *const *fs, size_t n,
			   const char *fp, const struct scan_options *o,
			   bool group, enum scan_severity sev,
			   const char *content)
{
	const struct scan_finding *f = fs[0];
	struct strbuf head = STRBUF_INIT, foot = STRBUF_INIT;
	char state_line[160];
	struct scan_state st = { .known = true, .sev = sev, .seen = true };
	scan_tool_token(st.tool, f->tool);
	memcpy(st.content, content, SCAN_CONTENT_SIZE);
	int ret = scan_state_line(state_line, sizeof(state_line), &st);
	if (ret < 0)
		return ret;

	strbuf_adds(&head, "Tool: ");
	scan_text_add(&head, f->tool, CAP_TOOL, SCAN_TEXT_LINE);
	if (f->tool_version && *f->tool_version) {
		strbuf_addc(&head, ' ');
		scan_text_add(&head, f->tool_version, CAP_VERSION,
			      SCAN_TEXT_LINE);
	}
	strbuf_adds(&head, "\nRule: ");
	scan_text_add(&head, f->rule, CAP_RULE, SCAN_TEXT_LINE);
	if (f->title && *f->title) {
		strbuf_adds(&head, "\nTitle: ");
		scan_text_add(&head, f->title, CAP_TITLE, SCAN_TEXT_LINE);
	}
	strbuf_addf(&head, "\nSeverity: %s\n", scan_severity_name(sev));
	if (f->target && *f->target && o->group != SCAN_GROUP_RULE) {
		strbuf_adds(&head, "Target: ");
		scan_text_add(&head, f->target, CAP_TARGET, SCAN_TEXT_LINE);
		strbuf_addc(&head, '\n');
	}
	if (group) {
		strbuf_addf(&head, "Locations (%zu):\n", n);
		scan_add_locations(&head, fs, n, o->group, CAP_LOCATIONS);
	} else if (f->location && *f->location &&
		   (!f->target || strcmp(f->location, f->target) != 0)) {
		strbuf_adds(&head, "Location: ");
		scan_text_add(&head, f->location, CAP_LOCATION, SCAN_TEXT_LINE);
		strbuf_addc(&head, '\n');
	}

	if (f->help_uri && *f->help_uri) {
		strbuf_adds(&foot, "\nMore information: ");
		scan_text_add(&foot, f->help_uri, CAP_URI, SCAN_TEXT_LINE);
		strbuf_addc(&foot, '\n');
	}
	struct strbuf ids = STRBUF_INIT;
	struct map *seen = map_new();
	if (!seen)
		ids.failed = true;
	for (size_t i = 0; i < n && !ids.failed && ids.len < 4 * CAP_IDS; i++)
		for (size_t j = 0; j < fs[i]->nids; j++) {
			const char *id = fs[i]->ids[j];
			if (!*id || map_get(seen, id))
				continue;
			if (map_put(seen, id, (void *)id, NULL) < 0)
				ids.failed = true;
			if (ids.len)
				strbuf_adds(&ids, ", ");
			strbuf_adds(&ids, id);
		}
	map_free(seen);
	if (ids.failed)
		foot.failed = true;
	if (ids.len) {
		strbuf_adds(&foot, "\nReferences: ");
		scan_text_add(&foot, strbuf_str(&ids), CAP_IDS, SCAN_TEXT_LINE);
		strbuf_addc(&foot, '\n');
	}
	strbuf_release(&ids);
	strbuf_adds(&foot, "\n----\nManaged by jirafs: scan ");
	scan_text_add(&foot, o->scope, CAP_SCOPE, SCAN_TEXT_LINE);
	strbuf_adds(&foot, " of project ");
	scan_text_add(&foot, o->project, CAP_PROJECT, SCAN_TEXT_LINE);
	strbuf_addf(&foot, ", fingerprint %s.\n%s", fp, state_line);

	/* the message, the snippet and the help share what is left; a
	 * group shows its first member's message only when all agree */
	static const char *const before[] = { "\n", "\nSnippet:\n{noformat}\n",
					      "\n" };
	static const char *const after[] = { "\n", "\n{noformat}\n", "\n" };
	bool same = true;
	for (size_t i = 1; i < n && same; i++)
		same = strcmp(fs[i]->message ? fs[i]->message : "",
			      f->message ? f->message : "") == 0;
	const char *src[3] = { same ? f->message : NULL,
			       group ? NULL : f->snippet, f->help };
	char *text[3];
	size_t size[3], cap[3], fixed = 0;
	for (int i = 0; i < 3; i++) {
		text[i] = cleaned(src[i], SCAN_TEXT_BLOCK, &size[i]);
		if (text[i] && size[i])
			fixed += strlen(before[i]) + strlen(after[i]);
	}
	fixed += scan_text_units(strbuf_str(&head), head.len) +
		 scan_text_units(strbuf_str(&foot), foot.len);
	share(size, cap, 3, fixed < SCAN_TEXT_MAX ? SCAN_TEXT_MAX - fixed : 0);

	strbuf_add(out, strbuf_str(&head), head.len);
	for (int i = 0; i < 3; i++) {
		if (!text[i])
			out->failed = true;
		if (!text[i] || !size[i] || !cap[i])
			continue;
		strbuf_adds(out, before[i]);
		scan_text_add(out, text[i], cap[i], SCAN_TEXT_BLOCK);
		strbuf_adds(out, after[i]);
	}
	strbuf_add(out, strbuf_str(&foot), foot.len);
	for (int i = 0; i < 3; i++)
		free(text[i]);
	if (head.failed || foot.failed)
		out->failed = true;
	strbuf_release(&head);
	strbuf_release(&foot);
	return out->failed ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* Labels                                                               */

static bool label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	       c == '-';
}

static void add_label(cJSON *arr, const char *raw, bool *oom)
{
	char l[SCAN_LABEL_MAX + 1];
	size_t n = 0;
	if (!raw || cJSON_GetArraySize(arr) >= SCAN_LABELS_MAX)
		return;
	for (const unsigned char *p = (const unsigned char *)raw;
	     *p && n < SCAN_LABEL_MAX; p++) {
		if ((*p & 0xc0) == 0x80)
			continue; /* one '-' per non-ASCII character */
		l[n++] = label_char(*p) ? (char)*p : '-';
	}
	l[n] = '\0';
	if (!n)
		return;
	const cJSON *c;
	cJSON_ArrayForEach(c, arr)
		if (strcmp(c->valuestring, l) == 0)
			return;
	cJSON *s = cJSON_CreateString(l);
	if (!s || !cJSON_AddItemToArray(arr, s)) {
		cJSON_Delete(s);
		*oom = true;
	}
}

/* A label jirafs reads identity from, which a finding may not bring. */
static bool managed_label(const char *s)
{
	return scan_is_fp(s) ||
	       strncmp(s, SCAN_SCOPE_PREFIX, strlen(SCAN_SCOPE_PREFIX)) == 0;
}

static cJSON *labels(const struct scan_finding *const *fs, size_t n,
		     const char *fp, const struct scan_options *o)
{
	char scope[SCAN_SCOPE_SIZE];
	bool oom = false;
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		return NULL;
	scan_scope_label(scope, o->scope);
	add_label(arr, "jirafs", &oom);
	add_label(arr, fp, &oom);
	add_label(arr, scope, &oom);
	add_label(arr, fs[0]->tool, &oom);
	add_label(arr, fs[0]->rule, &oom);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < fs[i]->nids; j++)
			if (!managed_label(fs[i]->ids[j]))
				add_label(arr, fs[i]->ids[j], &oom);
	for (size_t j = 0; j < fs[0]->nlabels; j++)
		if (!managed_label(fs[0]->labels[j]))
			add_label(arr, fs[0]->labels[j], &oom);
	if (oom) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

/* ------------------------------------------------------------------ */

char *scan_render_create(const struct scan_finding *const *fs, size_t n,
			 const char *fp, const struct scan_options *o)
{
	bool group = o->group != SCAN_GROUP_FINDING || n > 1;
	enum scan_severity sev = scan_unit_severity(fs, n);
	char content[SCAN_CONTENT_SIZE];
	struct strbuf desc = STRBUF_INIT;
	char *summary = NULL, *text = NULL;
	cJSON *root = NULL, *l = NULL;
	if (!n || scan_unit_content(content, fs, n, group, sev) < 0)
		return NULL;
	summary = scan_render_summary(fs, n, o->group);
	if (!summary || add_description(&desc, fs, n, fp, o, group, sev,
					content) < 0)
		goto out;
	if (!(root = cJSON_CreateObject()) || !(l = labels(fs, n, fp, o)))
		goto out;
	bool ok = true;
	if (o->issuetype)
		ok = cJSON_AddStringToObject(root, "issuetype",
					     o->issuetype);
	ok = ok && cJSON_AddStringToObject(root, "summary", summary);
	ok = ok && cJSON_AddStringToObject(root, "description",
					   strbuf_str(&desc));
	if (o->priority[sev])
		ok = ok && cJSON_AddStringToObject(root, "priority",
						   o->priority[sev]);
	ok = ok && cJSON_AddItemToObject(root, "labels", l);
	if (!ok)
		goto out;
	l = NULL;
	if (cJSON_IsObject(fs[0]->fields)) {
		cJSON *f = cJSON_Duplicate(fs[0]->fields, true);
		if (!f || !cJSON_AddItemToObject(root, "fields", f)) {
			cJSON_Delete(f);
			goto out;
		}
	}
	text = json_file_text(root, NULL);
out:
	cJSON_Delete(l);
	cJSON_Delete(root);
	strbuf_release(&desc);
	free(summary);
	return text;
}
