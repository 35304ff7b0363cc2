/*
 * harness.h - a tiny unit-test harness.
 *
 *   TEST(name) { CHECK(cond); CHECK_STR(a, b); CHECK_INT(a, b); }
 *
 * Tests register themselves; the runner (harness.c) runs all of them, or
 * the ones named on the command line, and prints one "ok"/"not ok" line
 * each (TAP).  `--list` prints the names.  A failed CHECK reports file:line
 * and ends that test.
 */
#ifndef JIRAFS_TESTS_HARNESS_H
#define JIRAFS_TESTS_HARNESS_H

#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(int *failed);
	struct test_case *next;
};

void test_register(struct test_case *t);

#define TEST(name)                                                         \
	static void test_##name(int *failed_);                             \
	static struct test_case tc_##name = { #name, test_##name, NULL };  \
	__attribute__((constructor)) static void reg_##name(void)          \
	{                                                                  \
		test_register(&tc_##name);                                 \
	}                                                                  \
	static void test_##name(int *failed_)

#define FAIL_(...)                                                         \
	do {                                                               \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);          \
		fprintf(stderr, __VA_ARGS__);                              \
		fprintf(stderr, "\n");                                     \
		*failed_ = 1;                                              \
		return;                                                    \
	} while (0)

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			FAIL_("CHECK(%s) failed", #cond);                  \
	} while (0)

#define CHECK_INT(a, b)                                                    \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (a_ != b_)                                              \
			FAIL_("%s == %lld, expected %s == %lld", #a, a_,   \
			      #b, b_);                                     \
	} while (0)

#define CHECK_STR(a, b)                                                    \
	do {                                                               \
		const char *a_ = (a), *b_ = (b);                           \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                     \
			FAIL_("%s is\n---\n%s\n---\nexpected\n---\n%s\n---", \
			      #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

#endif
