/* A deliberately vulnerable program: the findings the scanner-bridge tests import
 * (flawfinder: strcpy, sprintf, gets, system, printf format; clang --analyze: gets). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void greet(const char *name)
{
	char buf[16];
	strcpy(buf, name);
	printf(name);
	puts(buf);
}

int main(int argc, char **argv)
{
	char line[64];
	char cmd[128];

	if (argc > 1)
		greet(argv[1]);
	gets(line);
	sprintf(cmd, "ls %s", line);
	system(cmd); /* jfs-test: removed in run 2 */
	/* Flawfinder: ignore */
	strcpy(line, argv[0]);
	return 0;
}
