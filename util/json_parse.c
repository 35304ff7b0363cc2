/* json_parse.c - see json.h: reading JSON text: walking a large answer
 * member by member, an arena, and JSON parsed into one the way cJSON
 * parses it, in one pass and without a malloc per node. */
#include "util/json.h"

#include <errno.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- an arena ------------------------------------------------------------ */

#define ARENA_BLOCK_MIN ((size_t)64 << 10)
#define ARENA_KEEP_MAX ((size_t)1 << 20) /* kept over a reset, at most */
#define ARENA_ALIGN 16

struct json_arena_block {
	struct json_arena_block *prev;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

static struct json_arena_block *arena_block(struct json_arena *a, size_t size)
{
	struct json_arena_block *b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->prev = a->block;
	b->size = size;
	b->used = 0;
	a->block = b;
	a->held += size;
	return b;
}

static void *arena_grow(struct json_arena *a, size_t n)
{
	size_t size = a->held > ARENA_BLOCK_MIN ? a->held : ARENA_BLOCK_MIN;
	struct json_arena_block *b;
	if (n > SIZE_MAX / 4 || !(b = arena_block(a, size > n ? size : n)))
		return NULL;
	b->used = n;
	return b->data;
}

static inline void *arena_take(struct json_arena *a, size_t n)
{
	struct json_arena_block *b = a->block;
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (!b || b->size - b->used < n)
		return arena_grow(a, n);
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

void *json_arena_alloc(struct json_arena *a, size_t n)
{
	return arena_take(a, n);
}

void json_arena_reset(struct json_arena *a)
{
	if (a->block && a->block->prev) {
		/* one block for all of it next time, up to the cap */
		size_t want = a->held < ARENA_KEEP_MAX ? a->held : ARENA_KEEP_MAX;
		json_arena_release(a);
		arena_block(a, want);
	}
	if (a->block) {
		a->block->used = 0;
		if (a->block->size > ARENA_KEEP_MAX) {
			json_arena_release(a);
			arena_block(a, ARENA_KEEP_MAX);
		}
	}
}

void json_arena_release(struct json_arena *a)
{
	while (a->block) {
		struct json_arena_block *prev = a->block->prev;
		free(a->block);
		a->block = prev;
	}
	a->held = 0;
}

/* ---- parsing into an arena, as cJSON parses ------------------------------ */

/* cJSON 1.7's parse_buffer rules, the bytes at [c, end): whitespace is any
 * byte <= 32; a string's end is found by its closing quote, a backslash
 * hiding the byte after it; escapes are decoded after; numbers are what
 * strtod() reads of the longest run of [0-9+-eE.]. */
struct parse {
	struct json_arena *a;
	const unsigned char *end;
	size_t depth;
	char point; /* the locale's decimal point, as cJSON's strtod sees it */
	bool inplace; /* strings decoded where they lie (json_parse_inplace) */
};

static inline const unsigned char *ws(const unsigned char *c,
				      const unsigned char *end)
{
	while (c < end && *c <= 32)
		c++;
	return c;
}

static unsigned hex4(const unsigned char *h)
{
	if (memcmp(h, "0000", 4) == 0)
		return 0xfffd; /* json_neutralize_nul(): \u0000 is U+FFFD */
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = h[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10u;
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10u;
		else
			return 0; /* cJSON: 0, so the string ends there */
		v = v << 4 | d;
	}
	return v;
}

/* The \u escape at c, in a string ending at q, as UTF-8 at *o: how many
 * bytes of text it takes, or 0 when cJSON refuses it. */
static size_t utf16_escape(const unsigned char *c, const unsigned char *q,
			   unsigned char **o)
{
	if (q - c < 6)
		return 0;
	unsigned long cp = hex4(c + 2);
	size_t taken = 6;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return 0;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (q - c < 12 || c[6] != '\\' || c[7] != 'u')
			return 0;
		unsigned lo = hex4(c + 8);
		if (lo < 0xdc00 || lo > 0xdfff)
			return 0;
		cp = 0x10000 + (((cp & 0x3ff) << 10) | (lo & 0x3ff));
		taken = 12;
	}
	unsigned char *p = *o;
	if (cp < 0x80) {
		*p++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*p++ = (unsigned char)(0xc0 | cp >> 6);
		*p++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*p++ = (unsigned char)(0xe0 | cp >> 12);
		*p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*p++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*p++ = (unsigned char)(0xf0 | cp >> 18);
		*p++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		*p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*p++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	*o = p;
	return taken;
}

/* The first '"' or '\\' in [c, end), or end. */
static inline const unsigned char *
quote_or_escape(const unsigned char *c, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	for (; end - c >= 16; c += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)c);
		int m = _mm_movemask_epi8(_mm_or_si128(
			_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bs)));
		if (m)
			return c + __builtin_ctz((unsigned)m);
	}
#endif
	while (c < end && *c != '"' && *c != '\\')
		c++;
	return c;
}

/* parse_string() past its first quote or backslash, q. */
static int parse_string_rest(struct parse *p, const unsigned char **pc,
			     char **out, const unsigned char *q)
{
	const unsigned char *c = *pc + 1, *end = p->end;
	bool escaped = false;
	while (q < end && *q == '\\') {
		if (q + 1 >= end)
			return -EINVAL;
		escaped = true;
		q = quote_or_escape(q + 2, end);
	}
	if (q >= end)
		return -EINVAL;
	/* in place, the decoded string is never longer than its text: it
	 * is written over it, and its NUL where the closing quote was */
	unsigned char *o = p->inplace ? (unsigned char *)(uintptr_t)c
				      : arena_take(p->a, (size_t)(q - c) + 1);
	if (!o)
		return -ENOMEM;
	*out = (char *)o;
	*pc = q + 1;
	if (!escaped) {
		if (!p->inplace)
			memcpy(o, c, (size_t)(q - c));
		o[q - c] = '\0';
		return 0;
	}
	static const unsigned char simple[256] = {
		['b'] = '\b', ['f'] = '\f', ['n'] = '\n', ['r'] = '\r',
		['t'] = '\t', ['"'] = '"', ['\\'] = '\\', ['/'] = '/',
	};
	while (c < q) {
		if (*c != '\\') {
			*o++ = *c++;
		} else if (simple[c[1]]) {
			*o++ = simple[c[1]];
			c += 2;
		} else {
			size_t n = c[1] == 'u' ? utf16_escape(c, q, &o) : 0;
			if (!n)
				return -EINVAL;
			c += n;
		}
	}
	*o = '\0';
	return 0;
}

/* The string whose opening quote is at *pc, decoded into the arena (or in
 * place).  Inlined for what most strings of a page are, read in place and
 * without an escape: the string is then its text, its NUL where its
 * closing quote was; the rest is parse_string_rest()'s. */
static inline int parse_string(struct parse *p, const unsigned char **pc,
			       char **out)
{
	unsigned char *c = (unsigned char *)(uintptr_t)(*pc + 1);
	const unsigned char *q = quote_or_escape(c, p->end);
	if (p->inplace && q < p->end && *q == '"') {
		c[q - c] = '\0';
		*out = (char *)c;
		*pc = q + 1;
		return 0;
	}
	return parse_string_rest(p, pc, out, q);
}

static bool number_byte(unsigned char d)
{
	return (d >= '0' && d <= '9') || d == '+' || d == '-' || d == 'e' ||
	       d == 'E' || d == '.';
}

static int parse_number(struct parse *p, const unsigned char **pc, cJSON *item)
{
	const unsigned char *c = *pc;
	char small[64], *num = small;
	size_t len = 0, digits = 0;
	bool neg = *c == '-', integer = true; /* -?[0-9]+ */
	for (; c + len < p->end && number_byte(c[len]); len++) {
		bool digit = c[len] >= '0' && c[len] <= '9';
		digits += digit;
		integer = integer && (digit || len == 0);
	}
	double v;
	if (integer && digits >= 1 && digits <= 15) {
		/* exact in a double, as strtod() reads it */
		unsigned long long u = 0;
		for (size_t k = neg; k < len; k++)
			u = u * 10 + (unsigned)(c[k] - '0');
		v = neg ? -(double)u : (double)u;
	} else {
		/* cJSON >= 1.7.19 (and Debian's 1.7.15) take the whole run,
		 * '.' as the locale's decimal point, and what strtod reads
		 * of it */
		if (len >= sizeof(small) && !(num = arena_take(p->a, len + 1)))
			return -ENOMEM;
		for (size_t k = 0; k < len; k++)
			num[k] = c[k] == '.' ? p->point : (char)c[k];
		num[len] = '\0';
		char *after;
		v = strtod(num, &after);
		if (after == num)
			return -EINVAL;
		len = (size_t)(after - num);
	}
	item->type = cJSON_Number;
	item->valuedouble = v;
	item->valueint = v >= INT_MAX	      ? INT_MAX
			 : v <= (double)INT_MIN ? INT_MIN
						: (int)v;
	*pc = c + len;
	return 0;
}

static int parse_value(struct parse *p, const unsigned char **pc, cJSON *item);

/* The array or object at *pc, its members linked as cJSON links them. */
static int parse_container(struct parse *p, const unsigned char **pc,
			   cJSON *item)
{
	bool obj = **pc == '{';
	const unsigned char *c, *end = p->end;
	cJSON *head = NULL, *tail = NULL;
	if (p->depth >= CJSON_NESTING_LIMIT)
		return -EINVAL;
	p->depth++;
	c = ws(*pc + 1, end);
	if (c < end && *c == (obj ? '}' : ']'))
		goto done;
	for (;;) {
		cJSON *n = arena_take(p->a, sizeof(*n));
		int r;
		if (!n)
			return -ENOMEM;
		memset(n, 0, sizeof(*n));
		if (tail) {
			tail->next = n;
			n->prev = tail;
		} else {
			head = n;
		}
		tail = n;
		if (obj) {
			if (c >= end || *c != '"')
				return -EINVAL;
			if ((r = parse_string(p, &c, &n->string)))
				return r;
			c = ws(c, end);
			if (c >= end || *c != ':')
				return -EINVAL;
			c = ws(c + 1, end);
		}
		/* strings without the call: most values are */
		if (c < end && *c == '"') {
			n->type = cJSON_String;
			r = parse_string(p, &c, &n->valuestring);
		} else {
			r = parse_value(p, &c, n);
		}
		if (r)
			return r;
		c = ws(c, end);
		if (c >= end || *c != ',')
			break;
		c = ws(c + 1, end);
	}
	if (c >= end || *c != (obj ? '}' : ']'))
		return -EINVAL;
done:
	p->depth--;
	if (head)
		head->prev = tail;
	item->type = obj ? cJSON_Object : cJSON_Array;
	item->child = head;
	*pc = c + 1;
	return 0;
}

static bool literal(const unsigned char *c, const unsigned char *end,
		    const char *word, size_t n)
{
	return (size_t)(end - c) >= n && memcmp(c, word, n) == 0;
}

static int parse_value(struct parse *p, const unsigned char **pc, cJSON *item)
{
	const unsigned char *c = *pc, *end = p->end;
	if (c >= end)
		return -EINVAL;
	switch (*c) {
	case 'n':
		if (!literal(c, end, "null", 4))
			return -EINVAL;
		item->type = cJSON_NULL;
		*pc = c + 4;
		return 0;
	case 'f':
		if (!literal(c, end, "false", 5))
			return -EINVAL;
		item->type = cJSON_False;
		*pc = c + 5;
		return 0;
	case 't':
		if (!literal(c, end, "true", 4))
			return -EINVAL;
		item->type = cJSON_True;
		item->valueint = 1;
		*pc = c + 4;
		return 0;
	case '"':
		item->type = cJSON_String;
		return parse_string(p, pc, &item->valuestring);
	case '[':
	case '{':
		return parse_container(p, pc, item);
	default:
		if (*c == '-' || (*c >= '0' && *c <= '9'))
			return parse_number(p, pc, item);
		return -EINVAL;
	}
}

static int parse_top(struct json_arena *a, const char *s, size_t n,
		     cJSON **out, size_t *used, bool inplace)
{
	const unsigned char *c = (const unsigned char *)s;
	struct parse p = { a, c + n, 0, localeconv()->decimal_point[0],
			   inplace };
	cJSON *item = arena_take(a, sizeof(*item));
	*out = NULL;
	if (!item)
		return -ENOMEM;
	memset(item, 0, sizeof(*item));
	if (n > 4 && memcmp(c, "\xef\xbb\xbf", 3) == 0)
		c += 3; /* a UTF-8 byte order mark, as cJSON skips it */
	c = ws(c, p.end);
	int r = parse_value(&p, &c, item);
	if (r)
		return r;
	*out = item;
	*used = (size_t)((const char *)c - s);
	return 0;
}

int json_parse_arena(struct json_arena *a, const char *s, size_t n,
		     cJSON **out, size_t *used)
{
	return parse_top(a, s, n, out, used, false);
}

int json_parse_inplace(struct json_arena *a, char *s, size_t n, cJSON **out,
		       size_t *used)
{
	return parse_top(a, s, n, out, used, true);
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

int json_walk_start_inner(struct json_walk *w, const char *s, size_t n)
{
	int r = json_walk_start(w, s, n);
	w->inner = true;
	return r;
}

int json_walk_peek(struct json_walk *w, const char **key, size_t *klen,
		   const char **at, size_t *left)
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
		if (!w->inner) {
			skip_space(s, n, &w->pos);
			if (w->pos != n)
				return -EINVAL; /* something after the end */
		}
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
	*at = s + w->pos;
	*left = n - w->pos;
	return 1;
}

int json_walk_skip(struct json_walk *w, const char **val, size_t *vlen)
{
	size_t v = w->pos;
	if (skip_value(w->s, w->n, &w->pos) || w->pos == v)
		return -EINVAL;
	*val = w->s + v;
	*vlen = w->pos - v;
	return 1;
}

void json_walk_past(struct json_walk *w, const char *end)
{
	w->pos = (size_t)(end - w->s);
}

int json_walk_next(struct json_walk *w, const char **key, size_t *klen,
		   const char **val, size_t *vlen)
{
	const char *at;
	size_t left;
	int r = json_walk_peek(w, key, klen, &at, &left);
	return r == 1 ? json_walk_skip(w, val, vlen) : r;
}
