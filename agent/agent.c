/*
 * agent.c - see agent.h.  (Placeholder until the agent is written.)
 */
#include "agent/agent.h"

#include <stdio.h>

int agent_main(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "jirafs agent: not built yet\n");
	return 1;
}
