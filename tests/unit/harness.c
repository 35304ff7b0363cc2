/* harness.c - the runner of harness.h */
#include "harness.h"

#include <stdlib.h>

static struct test_case *head, **tail = &head;

void test_register(struct test_case *t)
{
	*tail = t;
	tail = &t->next;
}

static int wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int n = 0, failures = 0;
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (struct test_case *t = head; t; t = t->next)
			printf("%s\n", t->name);
		return 0;
	}
	for (struct test_case *t = head; t; t = t->next)
		if (wanted(t->name, argc, argv))
			n++;
	if (n == 0) {
		fprintf(stderr, "no such test\n");
		return 2;
	}
	printf("1..%d\n", n);
	int i = 0;
	for (struct test_case *t = head; t; t = t->next) {
		if (!wanted(t->name, argc, argv))
			continue;
		int failed = 0;
		t->fn(&failed);
		printf("%s %d - %s\n", failed ? "not ok" : "ok", ++i, t->name);
		fflush(stdout);
		failures += failed;
	}
	return failures ? 1 : 0;
}
