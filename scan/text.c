/* text.c - what every text stored in a finding goes through (cleaning,
 * the size budget) and the CVE/CWE/GHSA ids found in texts; see
 * parse_priv.h */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/parse_priv.h"
#include "scan/scan.h"

/* The code point at s (n > 0 bytes left) and its length; 0 when the
 * bytes are not well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF). */
static size_t utf8_cp(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char b = s[0];
	size_t len;
	uint32_t v, min;
	if (b < 0x80) {
		*cp = b;
		return 1;
	} else if (b >= 0xc2 && b <= 0xdf) {
		len = 2, v = b & 0x1f, min = 0x80;
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3, v = b & 0x0f, min = 0x800;
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4, v = b & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Room for 5 more bytes in the buffer being written at *o. */
static bool room(char **out, char **o, size_t *cap, size_t most)
{
	size_t used = (size_t)(*o - *out);
	if (used + 5 <= *cap)
		return true;
	size_t ncap = *cap * 2 < most ? *cap * 2 : most;
	char *p = ncap >= used + 5 ? realloc(*out, ncap) : NULL;
	if (!p)
		return false;
	*out = p, *o = p + used, *cap = ncap;
	return true;
}

/* s cleaned by mode, at most max UTF-16 units; *cut when some was left
 * out.  malloc'd (the size it needs: valid text takes no more bytes than
 * it had), NULL when out of memory. */
static char *clean(const char *s, size_t n, enum scanp_mode mode,
		   size_t max, bool *cut)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t most = max * 3 + 8, cap = (n < most - 8 ? n : most - 8) + 8;
	char *out = malloc(cap), *o = out;
	size_t units = 0, i = 0;
	bool space = false; /* a LINE space is pending */
	*cut = false;
	if (!out)
		return NULL;
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_cp(p + i, n - i, &cp);
		if (!len) {
			cp = 0xfffd, len = 1;
		} else if (cp == 0x1b && i + 1 < n && p[i + 1] == '[') {
			size_t j = i + 2; /* an ANSI sequence: dropped */
			while (j < n && p[j] >= 0x20 && p[j] <= 0x3f)
				j++;
			i = j < n && p[j] >= 0x40 && p[j] <= 0x7e ? j + 1 : j;
			continue;
		} else if (cp == '\r') {
			cp = '\n';
			if (i + 1 < n && p[i + 1] == '\n')
				len = 2;
		}
		i += len;
		if (cp == '\n' || cp == '\t' || cp == ' ') {
			if (mode == SCANP_LINE) {
				space = o > out;
				continue;
			}
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			cp = 0xfffd;
		}
		size_t need = (cp >= 0x10000 ? 2 : 1) + (space ? 1 : 0);
		if (units + need > max) {
			*cut = true;
			break;
		}
		if (!room(&out, &o, &cap, most)) {
			free(out);
			return NULL;
		}
		if (space)
			*o++ = ' ', units++, space = false;
		units += cp >= 0x10000 ? 2 : 1;
		if (cp < 0x80) {
			*o++ = (char)cp;
		} else if (cp < 0x800) {
			*o++ = (char)(0xc0 | cp >> 6);
			*o++ = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			*o++ = (char)(0xe0 | cp >> 12);
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*o++ = (char)(0x80 | (cp & 0x3f));
		} else {
			*o++ = (char)(0xf0 | cp >> 18);
			*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*o++ = (char)(0x80 | (cp & 0x3f));
		}
	}
	if (mode == SCANP_BLOCK)
		while (o > out && (o[-1] == ' ' || o[-1] == '\n' ||
				   o[-1] == '\t'))
			o--;
	*o = '\0';
	if ((size_t)(o - out) + 1 + 64 >= cap)
		return out;
	char *shrunk = realloc(out, (size_t)(o - out) + 1);
	return shrunk ? shrunk : out;
}

char *scanp_cut(const char *s, size_t n, enum scanp_mode mode, size_t max)
{
	bool cut;
	return clean(s ? s : "", s ? n : 0, mode, max, &cut);
}

char *scanp_clean(const char *s, size_t n, enum scanp_mode mode)
{
	bool cut;
	return clean(s ? s : "", s ? n : 0, mode, SCAN_TEXT_MAX, &cut);
}

int scanp_text(struct scanp_ctx *c, char **dst, const char *s, size_t n,
	       enum scanp_mode mode)
{
	bool cut;
	*dst = NULL;
	if (!s)
		return 0;
	size_t max = c->budget ? SCAN_TEXT_MAX : SCAN_SUMMARY_MAX;
	char *t = clean(s, n, mode, max, &cut);
	if (!t)
		return -ENOMEM;
	size_t len = strlen(t);
	if (len > c->budget && max == SCAN_TEXT_MAX) {
		free(t); /* the budget is spent: this one and all later short */
		c->budget = 0;
		max = SCAN_SUMMARY_MAX;
		if (!(t = clean(s, n, mode, max, &cut)))
			return -ENOMEM;
		len = strlen(t);
	}
	if (cut && max == SCAN_TEXT_MAX)
		c->ncut++;
	else if (cut)
		c->nsqueezed++;
	c->budget -= len < c->budget ? len : c->budget;
	*dst = t;
	return 0;
}

int scanp_textz(struct scanp_ctx *c, char **dst, const char *s,
		enum scanp_mode mode)
{
	return scanp_text(c, dst, s, s ? strlen(s) : 0, mode);
}

/* ------------------------------------------------------------------ */
/* Ids                                                                  */

static int id_add(struct scan_finding *f, const char *id)
{
	for (size_t i = 0; i < f->nids; i++)
		if (strcmp(f->ids[i], id) == 0)
			return 0;
	if (f->nids >= SCANP_IDS_MAX)
		return 0;
	char **ids = realloc(f->ids, (f->nids + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	f->ids = ids;
	if (!(ids[f->nids] = strdup(id)))
		return -ENOMEM;
	f->nids++;
	return 0;
}

/* Digits at s: how many (at most max), 0 when none. */
static size_t digits(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && isdigit((unsigned char)s[n]))
		n++;
	return n;
}

/* "GHSA-xxxx-xxxx-xxxx" at p (the prefix checked), not followed by more */
static bool ghsa(const char *p)
{
	for (size_t i = 5; i < 19; i++) {
		bool dash = i == 9 || i == 14;
		if (dash ? p[i] != '-' : !isalnum((unsigned char)p[i]))
			return false;
	}
	return !isalnum((unsigned char)p[19]);
}

int scanp_ids(struct scan_finding *f, const char *s)
{
	char id[64];
	if (!s)
		return 0;
	for (size_t i = 0; s[i]; i++) {
		if (i && isalnum((unsigned char)s[i - 1]))
			continue;
		const char *p = s + i;
		size_t a, b;
		id[0] = '\0';
		if (strncasecmp(p, "cve-", 4) == 0 &&
		    (a = digits(p + 4, 4)) == 4 && p[8] == '-' &&
		    (b = digits(p + 9, 12)) >= 4) {
			snprintf(id, sizeof(id), "CVE-%.4s-%.*s", p + 4, (int)b,
				 p + 9);
		} else if (strncasecmp(p, "cwe-", 4) == 0 &&
			   (a = digits(p + 4, 12)) > 0) {
			const char *d = p + 4;
			while (a > 1 && *d == '0')
				d++, a--;
			if (*d != '0')
				snprintf(id, sizeof(id), "CWE-%.*s", (int)a, d);
		} else if (strncasecmp(p, "ghsa-", 5) == 0 && ghsa(p)) {
			for (size_t j = 0; j < 19; j++)
				id[j] = (char)toupper((unsigned char)p[j]);
			id[19] = '\0';
		}
		if (id[0] && id_add(f, id))
			return -ENOMEM;
	}
	return 0;
}

