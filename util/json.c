/* json.c - see json.h */
#include "util/json.h"

#include <errno.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <math.h>
#include <stdint.h>
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

/* Bytes a JSON string holds as they are: printable ASCII but '"' and '\'. */
static const unsigned char plain_byte[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

/* The escape of byte c (not plain, not UTF-8) in out: its length. */
static size_t escape_byte(unsigned char c, char out[6])
{
	static const char hex[] = "0123456789abcdef";
	static const char short_esc[256] = {
		['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r',
		['\t'] = 't', ['\b'] = 'b', ['\f'] = 'f',
	};
	if (short_esc[c]) {
		out[0] = '\\';
		out[1] = short_esc[c];
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return 6;
	}
	memcpy(out, "\xef\xbf\xbd", 3); /* U+FFFD */
	return 3;
}

/* How many bytes from p (of n) are plain. */
static size_t plain_run(const unsigned char *p, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	/* signed: bytes >= 0x80 are below 0x20 too */
	const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f),
		      quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i odd = _mm_or_si128(
			_mm_or_si128(_mm_cmplt_epi8(v, space),
				     _mm_cmpeq_epi8(v, del)),
			_mm_or_si128(_mm_cmpeq_epi8(v, quote),
				     _mm_cmpeq_epi8(v, bs)));
		int m = _mm_movemask_epi8(odd);
		if (m)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
#endif
	while (i < n && plain_byte[p[i]])
		i++;
	return i;
}

/* plain_copy() reads a little past a string's NUL (never past its page),
 * which the sanitizers (gcc's or clang's: address, thread, memory) and
 * valgrind would report: not there, nor with -DJSON_EXACT_READS. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define JSON_EXACT_READS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define JSON_EXACT_READS 1
#endif
#endif

#if defined(__SSE2__) && !defined(JSON_EXACT_READS)
/* The bytes of a JSON string that are not plain, as plain_run() finds
 * them: one bit per byte of v. */
static inline unsigned odd_mask(__m128i v)
{
	const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f),
		      quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(
		_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
		_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bs))));
}

/* 16 bytes from p to o, and what they were. */
static inline __m128i copy16(const unsigned char *p, char *o)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	_mm_storeu_si128((__m128i *)(void *)o, v);
	return v;
}

/* plain_run() that also copies the run to o, 16 bytes at a time: o has
 * room for n + 16 bytes (what is written past the run is garbage, for
 * the caller to overwrite).  The last, short block is read whole when it
 * does not cross into another page (it cannot fault there; the bytes
 * past the string are ignored). */
static inline size_t plain_copy(const unsigned char *p, size_t n, char *o)
{
	size_t i = 0;
	for (; n - i >= 16; i += 16) {
		unsigned m = odd_mask(copy16(p + i, o + i));
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
	if (i == n)
		return n;
	/* (4 KiB: the smallest page there is) */
	if (((uintptr_t)(p + i) & 4095) <= 4096 - 16) {
		unsigned m = odd_mask(copy16(p + i, o + i)) |
			     (0xffffu << (n - i));
		return i + (size_t)__builtin_ctz(m);
	}
	size_t run = i + plain_run(p + i, n - i);
	memcpy(o + i, p + i, run - i);
	return run;
}
#define COPY_SLACK 16
#else
static inline size_t plain_copy(const unsigned char *p, size_t n, char *o)
{
	size_t run = plain_run(p, n);
	memcpy(o, p, run);
	return run;
}
#define COPY_SLACK 0
#endif

/* Room for n more bytes (and the NUL) in sb, without a call when it is
 * there; 0 or -ENOMEM. */
static inline int room(struct strbuf *sb, size_t n)
{
	if (!sb->failed && !sb->limit && sb->cap - sb->len > n)
		return 0;
	return strbuf_grow(sb, n);
}

/* strbuf_add() of a few bytes, without the call when there is room. */
static inline void put(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->cap - sb->len > n && !sb->limit && !sb->failed) {
		memcpy(sb->buf + sb->len, s, n);
		sb->len += n;
		sb->buf[sb->len] = '\0';
	} else {
		strbuf_add(sb, s, n);
	}
}

int json_add_string(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p);
	/* a buffer with a limit is given no more than the text needs */
	size_t slack = sb->limit ? 0 : COPY_SLACK;

	/* the literal is at least s and its quotes; room for that at once
	 * (and the slack of plain_copy), and more only when an escape makes
	 * it longer */
	if (room(sb, len + 2 + slack))
		return -ENOMEM;
	char *o = sb->buf + sb->len;
	*o++ = '"';
	for (size_t i = 0; i < len;) {
		size_t run = slack ? plain_copy(p + i, len - i, o)
				   : plain_run(p + i, len - i);
		if (!slack)
			memcpy(o, p + i, run);
		o += run;
		if ((i += run) == len)
			break;
		unsigned char c = p[i];
		size_t n = c >= 0x80 ? utf8_seq(p + i, len - i) : 0;
		if (n) {
			memcpy(o, p + i, n);
			o += n;
			i += n;
			continue;
		}
		char esc[6];
		size_t k = escape_byte(c, esc);
		sb->len = (size_t)(o - sb->buf);
		/* k bytes for this one, one for each left, the quote */
		if (room(sb, k + len - i + slack))
			return -ENOMEM;
		o = sb->buf + sb->len;
		memcpy(o, esc, k);
		o += k;
		i++;
	}
	*o++ = '"';
	sb->len = (size_t)(o - sb->buf);
	sb->buf[sb->len] = '\0';
	return 0;
}

/*
 * "%.15g" of d, without printf, when d is the double nearest a decimal D of
 * at most 15 significant digits with a fraction, written without exponent
 * (D >= 1e-4): 15 digits always read back (DBL_DIG), so "%.15g" writes D's
 * digits, and D reads back as d.  Such are most of the numbers Jira sends
 * (9.6, 0.25).  D is m / 10^k for the first k at which that division, which
 * IEEE rounds to the nearest double, gives d again; the first k leaves no
 * trailing zero, as "%g" drops them.  Its length in out, or 0 when d is
 * not such a number.
 */
static size_t short_decimal(double d, char out[32])
{
	static const double ten[] = { 1,    1e1,  1e2,  1e3,  1e4,  1e5,
				      1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				      1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
				      1e18, 1e19 };
	double a = fabs(d);
	unsigned long long m = 0;
	int k = 1;
	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (;; k++) {
		double t = a * ten[k];
		if (t >= 1e15 || k == 19)
			return 0; /* more than 15 digits */
		m = (unsigned long long)(t + 0.5);
		if ((double)m / ten[k] == a)
			break;
	}
	char digits[20], *q = digits + sizeof(digits);
	int nd = 0;
	do
		*--q = (char)('0' + m % 10), nd++;
	while (m /= 10);
	if (k - nd > 3)
		return 0; /* below 1e-4: "%g" writes an exponent */
	char *o = out;
	if (d < 0)
		*o++ = '-';
	if (nd > k) {
		memcpy(o, q, (size_t)(nd - k));
		o += nd - k;
		*o++ = '.';
		memcpy(o, q + nd - k, (size_t)k);
		o += k;
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int z = nd; z < k; z++)
			*o++ = '0';
		memcpy(o, q, (size_t)nd);
		o += nd;
	}
	return (size_t)(o - out);
}

int json_add_number(struct strbuf *sb, double d)
{
	char buf[64];
	size_t n;
	if (!isfinite(d))
		return strbuf_add(sb, "null", 4);
	if (d == floor(d) && fabs(d) < 1e15) {
		/* what "%.0f" writes, "-0" as "0" */
		long long v = (long long)d;
		unsigned long long u = v < 0 ? 0ull - (unsigned long long)v
					     : (unsigned long long)v;
		char *e = buf + sizeof(buf), *q = e;
		do
			*--q = (char)('0' + u % 10);
		while (u /= 10);
		if (v < 0)
			*--q = '-';
		put(sb, q, (size_t)(e - q));
		return sb->failed ? -ENOMEM : 0;
	}
	if ((n = short_decimal(d, buf))) {
		put(sb, buf, n);
		return sb->failed ? -ENOMEM : 0;
	}
	snprintf(buf, sizeof(buf), "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, sizeof(buf), "%.17g", d);
	return strbuf_adds(sb, buf);
}

/* cJSON_IsObject() and the like, without a call into libcjson per node */
static inline bool is_type(const cJSON *v, int type)
{
	return v && (v->type & 0xff) == type;
}

static bool is_container(const cJSON *v)
{
	return is_type(v, cJSON_Array) || is_type(v, cJSON_Object);
}

static int add_scalar(struct strbuf *sb, const cJSON *v)
{
	if (is_type(v, cJSON_String))
		return json_add_string(sb, v->valuestring);
	if (is_type(v, cJSON_Number))
		return json_add_number(sb, v->valuedouble);
	if (is_type(v, cJSON_Raw) && v->valuestring)
		return strbuf_adds(sb, v->valuestring);
	if (is_type(v, cJSON_True))
		put(sb, "true", 4);
	else if (is_type(v, cJSON_False))
		put(sb, "false", 5);
	else
		put(sb, "null", 4);
	return sb->failed ? -ENOMEM : 0;
}

static inline void putc_(struct strbuf *sb, char c)
{
	put(sb, &c, 1);
}

static void indent(struct strbuf *sb, int level)
{
	static const char spaces[] = "                                ";
	size_t n = 2 * (size_t)level;
	for (; n > sizeof(spaces) - 1; n -= sizeof(spaces) - 1)
		put(sb, spaces, sizeof(spaces) - 1);
	put(sb, spaces, n);
}

/* The one-line form of a container of scalars, appended when it fits in
 * `room` columns: 1, or 0 with sb as it was, or -ENOMEM.  Each member is
 * written, then the line measured: measuring a string first would read
 * it twice when it fits, which most do. */
static int add_inline(struct strbuf *sb, const cJSON *v, size_t room)
{
	bool obj = is_type(v, cJSON_Object);
	const cJSON *c;
	size_t start = sb->len;

	putc_(sb, obj ? '{' : '[');
	if (obj && v->child)
		putc_(sb, ' ');
	cJSON_ArrayForEach(c, v) {
		if (c != v->child)
			put(sb, ", ", 2);
		if (obj) {
			json_add_string(sb, c->string);
			put(sb, ": ", 2);
		}
		add_scalar(sb, c);
		if (sb->len - start > room)
			goto rewind;
	}
	if (obj && v->child)
		putc_(sb, ' ');
	putc_(sb, obj ? '}' : ']');
	if (sb->failed)
		return -ENOMEM;
	if (sb->len - start <= room &&
	    !memchr(sb->buf + start, '\n', sb->len - start))
		return 1;
rewind:
	if (sb->failed)
		return -ENOMEM;
	sb->len = start;
	sb->buf[start] = '\0';
	return 0;
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
	bool obj = is_type(v, cJSON_Object);
	if (!v->child)
		return strbuf_add(sb, obj ? "{}" : "[]", 2);

	if (level > 0 && only_scalars(v)) {
		size_t col = column(sb);
		int r = col < JSON_INLINE_WIDTH
				? add_inline(sb, v, JSON_INLINE_WIDTH - col)
				: 0;
		if (r)
			return r < 0 ? r : 0;
	}

	const cJSON *c;
	put(sb, obj ? "{\n" : "[\n", 2);
	cJSON_ArrayForEach(c, v) {
		indent(sb, level + 1);
		if (obj) {
			json_add_string(sb, c->string);
			put(sb, ": ", 2);
		}
		json_pretty(sb, c, level + 1);
		if (c->next)
			putc_(sb, ',');
		putc_(sb, '\n');
	}
	indent(sb, level);
	putc_(sb, obj ? '}' : ']');
	return sb->failed ? -ENOMEM : 0;
}

char *json_file_text(const cJSON *v, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	json_pretty(&sb, v, 0);
	strbuf_addc(&sb, '\n');
	return strbuf_detach(&sb, len);
}

static const char *member_name(const cJSON *c)
{
	return c->string ? c->string : "";
}

/* Sort the n members from head by name, stably (a merge sort of the list,
 * linked by next only); returns the first, and the member after them in
 * *rest. */
static cJSON *sort_members(cJSON *head, size_t n, cJSON **rest)
{
	if (n == 1) {
		*rest = head->next;
		head->next = NULL;
		return head;
	}
	cJSON *mid, *first = NULL, **tail = &first;
	cJSON *a = sort_members(head, n / 2, &mid);
	cJSON *b = sort_members(mid, n - n / 2, rest);
	while (a && b) {
		const char *x = member_name(a), *y = member_name(b);
		int d = (unsigned char)x[0] - (unsigned char)y[0];
		cJSON **from = (d ? d : strcmp(x, y)) <= 0 ? &a : &b;
		*tail = *from;
		tail = &(*from)->next;
		*from = (*from)->next;
	}
	*tail = a ? a : b;
	return first;
}

void json_sort_object(cJSON *obj, bool deep)
{
	if (!is_container(obj))
		return;
	size_t n = 0;
	cJSON *c, *rest;
	cJSON_ArrayForEach(c, obj) {
		n++;
		if (deep)
			json_sort_object(c, true);
	}
	if (!is_type(obj, cJSON_Object) || n < 2)
		return;
	obj->child = sort_members(obj->child, n, &rest);
	cJSON *prev = NULL;
	for (c = obj->child; c; prev = c, c = c->next)
		c->prev = prev;
	obj->child->prev = prev; /* cJSON's list: the head's prev is the tail */
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

/* ---- reading members ----------------------------------------------------- */

/* cJSON_GetObjectItemCaseSensitive(), without a call to strcmp for the
 * members whose first byte differs (most of them) */
const cJSON *json_item(const cJSON *o, const char *k)
{
	if (!o || !k)
		return NULL;
	/* as cJSON: the first member without a name ends the search */
	for (const cJSON *c = o->child; c && c->string; c = c->next)
		if (c->string[0] == k[0] && strcmp(c->string, k) == 0)
			return c;
	return NULL;
}

const char *json_str(const cJSON *o, const char *k)
{
	const cJSON *v = json_item(o, k);
	return is_type(v, cJSON_String) ? v->valuestring : NULL;
}

char *json_strdup(const cJSON *o, const char *k)
{
	const char *s = json_str(o, k);
	return s ? strdup(s) : NULL;
}
