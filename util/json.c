/* json.c - see json.h */
#include "util/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0 if
 * the bytes there are not one.
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n >= 2 && (s[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

int json_add_string(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p);
	size_t i = 0;

	strbuf_addc(sb, '"');
	while (i < len) {
		unsigned char c = p[i];
		size_t run = i;
		/* copy a run of bytes that need no escaping in one go */
		while (run < len && p[run] >= 0x20 && p[run] < 0x7f &&
		       p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			strbuf_add(sb, p + i, run - i);
			i = run;
			continue;
		}
		switch (c) {
		case '"': strbuf_add(sb, "\\\"", 2); i++; continue;
		case '\\': strbuf_add(sb, "\\\\", 2); i++; continue;
		case '\n': strbuf_add(sb, "\\n", 2); i++; continue;
		case '\r': strbuf_add(sb, "\\r", 2); i++; continue;
		case '\t': strbuf_add(sb, "\\t", 2); i++; continue;
		case '\b': strbuf_add(sb, "\\b", 2); i++; continue;
		case '\f': strbuf_add(sb, "\\f", 2); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4],
					hex[c & 15] };
			strbuf_add(sb, esc, 6);
			i++;
			continue;
		}
		size_t n = utf8_seq(p + i, len - i);
		if (n) {
			strbuf_add(sb, p + i, n);
			i += n;
		} else {
			strbuf_add(sb, "\xef\xbf\xbd", 3); /* U+FFFD */
			i++;
		}
	}
	return strbuf_addc(sb, '"');
}

int json_add_number(struct strbuf *sb, double d)
{
	char buf[64];
	if (!isfinite(d))
		return strbuf_adds(sb, "null");
	if (d == floor(d) && fabs(d) < 1e15) {
		snprintf(buf, sizeof(buf), "%.0f", d);
		if (strcmp(buf, "-0") == 0)
			strcpy(buf, "0");
	} else {
		snprintf(buf, sizeof(buf), "%.15g", d);
		if (strtod(buf, NULL) != d)
			snprintf(buf, sizeof(buf), "%.17g", d);
	}
	return strbuf_adds(sb, buf);
}

static bool is_container(const cJSON *v)
{
	return cJSON_IsArray(v) || cJSON_IsObject(v);
}

static int add_scalar(struct strbuf *sb, const cJSON *v)
{
	if (cJSON_IsString(v))
		return json_add_string(sb, v->valuestring);
	if (cJSON_IsNumber(v))
		return json_add_number(sb, v->valuedouble);
	if (cJSON_IsTrue(v))
		return strbuf_adds(sb, "true");
	if (cJSON_IsFalse(v))
		return strbuf_adds(sb, "false");
	if (cJSON_IsRaw(v) && v->valuestring)
		return strbuf_adds(sb, v->valuestring);
	return strbuf_adds(sb, "null");
}

static void indent(struct strbuf *sb, int level)
{
	for (int i = 0; i < level; i++)
		strbuf_add(sb, "  ", 2);
}

/* One-line form of a container of scalars. */
static int add_inline(struct strbuf *sb, const cJSON *v)
{
	bool obj = cJSON_IsObject(v);
	const cJSON *c;
	bool first = true;

	strbuf_addc(sb, obj ? '{' : '[');
	if (obj && v->child)
		strbuf_addc(sb, ' ');
	cJSON_ArrayForEach(c, v) {
		if (!first)
			strbuf_add(sb, ", ", 2);
		first = false;
		if (obj) {
			json_add_string(sb, c->string);
			strbuf_add(sb, ": ", 2);
		}
		add_scalar(sb, c);
	}
	if (obj && v->child)
		strbuf_addc(sb, ' ');
	return strbuf_addc(sb, obj ? '}' : ']');
}

static bool only_scalars(const cJSON *v)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, v)
		if (is_container(c))
			return false;
	return true;
}

/* Column at which the current (last) line of sb ends. */
static size_t column(const struct strbuf *sb)
{
	const char *s = strbuf_str(sb);
	const char *nl = memrchr(s, '\n', sb->len);
	return nl ? (size_t)(s + sb->len - nl - 1) : sb->len;
}

int json_pretty(struct strbuf *sb, const cJSON *v, int level)
{
	if (!is_container(v))
		return add_scalar(sb, v);
	bool obj = cJSON_IsObject(v);
	if (!v->child)
		return strbuf_adds(sb, obj ? "{}" : "[]");

	if (level > 0 && only_scalars(v)) {
		struct strbuf one = STRBUF_INIT;
		add_inline(&one, v);
		bool fits = !one.failed &&
			    column(sb) + one.len <= JSON_INLINE_WIDTH &&
			    !memchr(strbuf_str(&one), '\n', one.len);
		if (fits)
			strbuf_add(sb, one.buf, one.len);
		strbuf_release(&one);
		if (fits)
			return sb->failed ? -ENOMEM : 0;
	}

	const cJSON *c;
	strbuf_add(sb, obj ? "{\n" : "[\n", 2);
	cJSON_ArrayForEach(c, v) {
		indent(sb, level + 1);
		if (obj) {
			json_add_string(sb, c->string);
			strbuf_add(sb, ": ", 2);
		}
		json_pretty(sb, c, level + 1);
		if (c->next)
			strbuf_addc(sb, ',');
		strbuf_addc(sb, '\n');
	}
	indent(sb, level);
	strbuf_addc(sb, obj ? '}' : ']');
	return sb->failed ? -ENOMEM : 0;
}

char *json_file_text(const cJSON *v, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	json_pretty(&sb, v, 0);
	strbuf_addc(&sb, '\n');
	return strbuf_detach(&sb, len);
}

static int cmp_members(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;
	return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

void json_sort_object(cJSON *obj, bool deep)
{
	if (!is_container(obj))
		return;
	size_t n = 0;
	cJSON *c;
	cJSON_ArrayForEach(c, obj) {
		n++;
		if (deep)
			json_sort_object(c, true);
	}
	if (!cJSON_IsObject(obj) || n < 2)
		return;
	cJSON **items = malloc(n * sizeof(*items));
	if (!items)
		return;
	size_t i = 0;
	cJSON_ArrayForEach(c, obj)
		items[i++] = c;
	qsort(items, n, sizeof(*items), cmp_members);
	for (i = 0; i < n; i++) {
		items[i]->prev = i ? items[i - 1] : items[n - 1];
		items[i]->next = i + 1 < n ? items[i + 1] : NULL;
	}
	obj->child = items[0];
	free(items);
}

size_t json_neutralize_nul(char *text, size_t len)
{
	size_t n = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (!in_string) {
			in_string = c == '"';
			continue;
		}
		if (c == '"') {
			in_string = false;
		} else if (c == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && i + 5 < len &&
			    memcmp(text + i + 2, "0000", 4) == 0) {
				memcpy(text + i + 2, "fffd", 4);
				n++;
			}
			i++; /* skip the escaped character */
		}
	}
	return n;
}

/* ---- walking without a tree ---------------------------------------------- */

static bool json_space(char c)
{
	return (unsigned char)c <= 32; /* as cJSON reads it */
}

static void skip_space(const char *s, size_t n, size_t *pos)
{
	while (*pos < n && json_space(s[*pos]))
		(*pos)++;
}

/* Past the string whose opening quote is at s[*pos]. */
static int skip_string(const char *s, size_t n, size_t *pos)
{
	for (size_t i = *pos + 1; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"') {
			*pos = i + 1;
			return 0;
		}
	}
	return -EINVAL;
}

/* Past the value starting at s[*pos]: its extent only (brackets balance
 * outside strings); its content is for the parser. */
static int skip_value(const char *s, size_t n, size_t *pos)
{
	size_t i = *pos;
	if (i >= n)
		return -EINVAL;
	if (s[i] == '"')
		return skip_string(s, n, pos);
	if (s[i] == '{' || s[i] == '[') {
		size_t depth = 0;
		while (i < n) {
			char c = s[i];
			if (c == '"') {
				if (skip_string(s, n, &i))
					return -EINVAL;
				continue;
			}
			if (c == '{' || c == '[') {
				depth++;
			} else if (c == '}' || c == ']') {
				if (--depth == 0) {
					*pos = i + 1;
					return 0;
				}
			}
			i++;
		}
		return -EINVAL;
	}
	if (s[i] == '}' || s[i] == ']' || s[i] == ',' || s[i] == ':')
		return -EINVAL;
	/* a scalar: up to the next delimiter */
	while (i < n && !json_space(s[i]) && s[i] != ',' && s[i] != '}' &&
	       s[i] != ']' && s[i] != ':')
		i++;
	*pos = i;
	return 0;
}

int json_walk_start(struct json_walk *w, const char *s, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->n = n;
	skip_space(s, n, &w->pos);
	if (w->pos >= n || (s[w->pos] != '{' && s[w->pos] != '['))
		return -EINVAL;
	w->close = s[w->pos] == '{' ? '}' : ']';
	w->pos++;
	return 0;
}

int json_walk_next(struct json_walk *w, const char **key, size_t *klen,
		   const char **val, size_t *vlen)
{
	const char *s = w->s;
	size_t n = w->n;
	if (w->done)
		return 0;
	skip_space(s, n, &w->pos);
	if (w->pos >= n)
		return -EINVAL;
	if (s[w->pos] == w->close) {
		w->pos++;
		skip_space(s, n, &w->pos);
		if (w->pos != n)
			return -EINVAL; /* something after the end */
		w->done = true;
		return 0;
	}
	if (w->started) {
		if (s[w->pos] != ',')
			return -EINVAL;
		w->pos++;
		skip_space(s, n, &w->pos);
	}
	w->started = true;
	if (w->close == '}') {
		size_t k = w->pos;
		if (k >= n || s[k] != '"' || skip_string(s, n, &w->pos))
			return -EINVAL;
		if (key) {
			*key = s + k + 1;
			*klen = w->pos - k - 2;
		}
		skip_space(s, n, &w->pos);
		if (w->pos >= n || s[w->pos] != ':')
			return -EINVAL;
		w->pos++;
		skip_space(s, n, &w->pos);
	}
	size_t v = w->pos;
	if (skip_value(s, n, &w->pos) || w->pos == v)
		return -EINVAL;
	*val = s + v;
	*vlen = w->pos - v;
	return 1;
}

/* ---- reading members ----------------------------------------------------- */

const cJSON *json_item(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

const char *json_str(const cJSON *o, const char *k)
{
	const cJSON *v = json_item(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *json_strdup(const cJSON *o, const char *k)
{
	const char *s = json_str(o, k);
	return s ? strdup(s) : NULL;
}
