/* Helpers with memory errors for clang's static analyzer, and a line that reads exactly
 * like one in vuln.c (flawfinder's contextHash/v1 is a hash of the line's text alone). */
#include <stdlib.h>
#include <string.h>

void copy_name(const char *name)
{
	char buf[16];
	strcpy(buf, name);
}

void release_twice(void)
{
	char *p = malloc(16);

	free(p);
	free(p);
}

int deref_null(void)
{
	int *q = NULL;

	return *q;
}

int divide(int n)
{
	int zero = 0;

	return n / zero; /* jfs-test: removed in run 2 */
}

char *leak(void)
{
	char *p = malloc(32);

	strcpy(p, "tmp");
	return NULL;
}
