/* Unit tests: util/json.c's fast paths (numbers without printf) and its
 * member sort, against the plain ways they stand for, on edge cases and
 * on many random values. */
#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/json.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* json_add_number() as it was written with printf alone. */
static void number_by_printf(double d, char out[64])
{
	if (!isfinite(d)) {
		strcpy(out, "null");
	} else if (d == floor(d) && fabs(d) < 1e15) {
		snprintf(out, 64, "%.0f", d == 0 ? 0.0 : d);
	} else {
		snprintf(out, 64, "%.15g", d);
		if (strtod(out, NULL) != d)
			snprintf(out, 64, "%.17g", d);
	}
}

/* 1 when json_add_number(d) writes what printf does, else 0 (and says
 * what differed). */
static int number_agrees(double d)
{
	char want[64];
	struct strbuf sb = STRBUF_INIT;
	number_by_printf(d, want);
	json_add_number(&sb, d);
	int ok = strcmp(strbuf_str(&sb), want) == 0;
	if (!ok)
		fprintf(stderr, "  %.17g: \"%s\", printf \"%s\"\n", d,
			strbuf_str(&sb), want);
	strbuf_release(&sb);
	return ok;
}

TEST(json_numbers_as_printf_writes_them)
{
	static const double edge[] = {
		0.0, -0.0, 1e21, -1e21, 0.1, 0.2, 0.3, 0.1 + 0.2, 9.6, -9.6,
		7.5, 2.5e-7, 1e-4, -1e-4, 1.5e-4, 9.99e-5, 1e-5, 0.00012345,
		0.001, 0.01, 0.5, 0.999999999999999, 0.9999999999999999,
		1e15, -1e15, 1e15 - 0.5, 999999999999999.9, 99999999999999.9,
		123456789012345.6, 12345678901234.5, 0.123456789012345,
		0.1234567890123456, 1.7976931348623157e308, DBL_MIN,
		5e-324, 9007199254740993.0, 4503599627370495.5,
		18446744073709551616.0, 9223372036854775807.0, 1e300,
		-1e-300, 100.25, 3.14159265358979, 3.141592653589793,
		2.675, 1.005, 0.015, 1234.5678, 1e14 + 0.5, 1e14 + 0.25,
	};
	for (size_t i = 0; i < sizeof(edge) / sizeof(*edge); i++)
		CHECK(number_agrees(edge[i]));
	CHECK(number_agrees(NAN));
	CHECK(number_agrees(INFINITY));
	CHECK(number_agrees(-INFINITY));
}

TEST(json_random_numbers_as_printf_writes_them)
{
	static const double ten[] = { 1,    1e1,  1e2,  1e3,  1e4,  1e5,
				      1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				      1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
				      1e18, 1e19, 1e20, 1e21, 1e22 };
	int bad = 0;
	for (int i = 0; i < 300000 && bad < 10; i++) {
		/* decimals as Jira sends them: up to 17 digits, a point */
		uint64_t m = rnd() % (uint64_t)ten[1 + rnd() % 17];
		double d = (double)m / ten[rnd() % 23];
		if (rnd() & 1)
			d = -d;
		bad += !number_agrees(d);
		/* and any double at all, and sums that are not short */
		uint64_t bits = rnd();
		memcpy(&d, &bits, sizeof(d));
		bad += !number_agrees(d);
		d = ldexp((double)(rnd() >> 11), (int)(rnd() % 120) - 100);
		bad += !number_agrees(d);
		bad += !number_agrees((double)(rnd() % 1000) / 10 + 0.1 * (rnd() % 3));
	}
	CHECK_INT(bad, 0);
}

/* A random member name: empty, short, long, sharing a long prefix with
 * others, bytes above 0x7f. */
static void random_name(char *out)
{
	static const char *const prefix[] = { "", "customfield_", "customfield_1002",
					      "aggregate", "a", "\xc3\xa9" };
	size_t n = strlen(strcpy(out, prefix[rnd() % 6]));
	size_t more = rnd() % 4 ? rnd() % 4 : rnd() % 30;
	for (size_t i = 0; i < more; i++)
		out[n++] = (char)("01a_zZ\x7f\x80\xff"[rnd() % 9]);
	out[n] = '\0';
}

TEST(json_sort_object_is_a_stable_strcmp_sort)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 5, 17, 40, 255, 256, 257, 600 };
	char (*names)[64] = malloc(600 * sizeof(*names));
	int *order = malloc(600 * sizeof(int));
	for (int round = 0; round < 60; round++) {
		size_t n = sizes[round % (sizeof(sizes) / sizeof(*sizes))];
		cJSON *o = cJSON_CreateObject();
		for (size_t i = 0; i < n; i++) {
			/* some names twice, some in order already */
			if (i && rnd() % 5 == 0)
				strcpy(names[i], names[rnd() % i]);
			else
				random_name(names[i]);
			cJSON_AddItemToObject(o, names[i], cJSON_CreateNumber((double)i));
			order[i] = (int)i;
		}
		/* the order wanted: a stable insertion sort by strcmp */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && strcmp(names[order[j - 1]], names[order[j]]) > 0; j--) {
				int t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		json_sort_object(o, round % 2 == 0);
		const cJSON *c = o->child, *prev = NULL;
		for (size_t i = 0; i < n; i++, prev = c, c = c->next) {
			CHECK(c != NULL);
			CHECK_INT(c->valueint, order[i]);
			CHECK(i == 0 || c->prev == prev);
		}
		CHECK(c == NULL);
		CHECK(n == 0 || o->child->prev == prev);
		/* sorted again: as it was */
		json_sort_object(o, false);
		c = o->child;
		for (size_t i = 0; i < n; i++, c = c->next)
			CHECK_INT(c->valueint, order[i]);
		cJSON_Delete(o);
	}
	free(names);
	free(order);
}
