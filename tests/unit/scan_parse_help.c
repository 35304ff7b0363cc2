/* scan_parse_help.c - see scan_parse_help.h */
#include "scan_parse_help.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"
#include "util/json.h"
#include "util/strbuf.h"

char *sp_fixture(const char *name, size_t *len)
{
	char dir[PATH_MAX * 2], exe[PATH_MAX];
	const char *src = getenv("JIRAFS_SOURCE_DIR");
	char *text;
	if (src) {
		snprintf(dir, sizeof(dir), "%s/tests/fixtures/scans", src);
		return tmpdir_read(dir, name, len);
	}
	const char *file = __FILE__, *slash = strrchr(file, '/');
	int flen = slash ? (int)(slash - file) : 0;
	snprintf(dir, sizeof(dir), "%.*s/../fixtures/scans", flen, file);
	text = tmpdir_read(dir, name, len); /* absolute, or from the cwd */
	if (text || file[0] == '/')
		return text;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (int i = 0; i < 3; i++) /* jirafs-unit, unit, tests */
		if ((slash = strrchr(exe, '/')))
			exe[slash - exe] = '\0';
	snprintf(dir, sizeof(dir), "%s/%.*s/../fixtures/scans", exe, flen, file);
	return tmpdir_read(dir, name, len);
}

int sp_parse(const char *text, const char *scope, struct scan_report *r,
		 char *why)
{
	return scan_parse(text, strlen(text), scope, r, why, 256);
}

char *sp_fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *sp_sarif(const char *tool, const char *rules, const char *members,
		   const char *results)
{
	return sp_fmt("{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":"
		   "{\"name\":\"%s\",\"rules\":[%s]}},%s\"results\":[%s]}]}",
		   tool, rules, members, results);
}

/* Every text of every finding: valid UTF-8, no NUL or control character
 * but \n and \t, at most SCAN_TEXT_MAX UTF-16 units. */
bool sp_texts_ok(const struct scan_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct scan_finding *f = &r->f[i];
		const char *t[] = { f->tool, f->tool_version, f->rule, f->title,
				    f->message, f->help, f->help_uri, f->target,
				    f->location, f->snippet };
		if (!f->tool || !f->rule || !f->target || !scan_is_fp(f->fp))
			return false;
		for (size_t k = 0; k < sizeof(t) / sizeof(*t); k++) {
			const unsigned char *s = (const unsigned char *)t[k];
			size_t units = 0;
			if (!s)
				continue;
			if (!utf8_valid((const char *)s, strlen((const char *)s)))
				return false;
			for (; *s; s++) {
				if ((*s < 0x20 && *s != '\n' && *s != '\t') ||
				    *s == 0x7f || (s[0] == 0xc2 && s[1] >= 0x80 &&
						   s[1] <= 0x9f))
					return false;
				units += (*s & 0xc0) != 0x80;
				units += *s >= 0xf0;
			}
			if (units > SCAN_TEXT_MAX)
				return false;
		}
	}
	return true;
}

const struct scan_finding *sp_find(const struct scan_report *r,
				       const char *rule, const char *in)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->f[i].rule, rule) &&
		    (!in || (r->f[i].location && strstr(r->f[i].location, in)) ||
		     strstr(r->f[i].target, in)))
			return &r->f[i];
	return NULL;
}

bool sp_warned(const struct scan_report *r, const char *part)
{
	for (size_t i = 0; i < r->nwarnings; i++)
		if (strstr(r->warnings[i], part))
			return true;
	return false;
}

bool sp_has_id(const struct scan_finding *f, const char *id)
{
	for (size_t i = 0; f && i < f->nids; i++)
		if (!strcmp(f->ids[i], id))
			return true;
	return false;
}

/* The text of a fixture with every `from` replaced by `to` */
char *sp_edited(const char *name, const char *from, const char *to)
{
	size_t len;
	char *t = sp_fixture(name, &len);
	struct strbuf sb = STRBUF_INIT;
	if (!t)
		return NULL;
	for (const char *p = t, *q; *p; p = q + strlen(from)) {
		if (!(q = strstr(p, from))) {
			strbuf_adds(&sb, p);
			break;
		}
		strbuf_add(&sb, p, (size_t)(q - p));
		strbuf_adds(&sb, to);
	}
	free(t);
	return strbuf_detach(&sb, NULL);
}
