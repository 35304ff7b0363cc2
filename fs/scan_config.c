/* scan_config.c - the scan_*= options, compiled; see scan_import.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/scan_import.h"

static const char *const default_priority[SCAN_SEV_COUNT] = {
	"Lowest", "Low", "Medium", "High", "Highest",
};
static const char *const default_accepted =
	"Won't Fix:Won't Do:Duplicate:Not a Bug";

/* "a:b:c" -> a malloc'd array of malloc'd strings (empty parts dropped). */
static int split(const char *s, char ***out, size_t *n)
{
	char *copy = strdup(s), *save = NULL;
	*out = NULL;
	*n = 0;
	if (!copy)
		return -1;
	for (char *t = strtok_r(copy, ":", &save); t;
	     t = strtok_r(NULL, ":", &save)) {
		char **grown = realloc(*out, (*n + 1) * sizeof(**out));
		if (!grown || !(grown[*n] = strdup(t))) {
			*out = grown ? grown : *out;
			free(copy);
			return -1;
		}
		*out = grown;
		(*n)++;
	}
	free(copy);
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int scan_config_make(const struct fs_config *cfg, struct scan_config *out,
		     char *why, size_t whysize)
{
	memset(out, 0, sizeof(*out));
	out->autoclose = cfg->scan_autoclose != 0;
	out->autoclose_max_pct = 50;
	const char *g = cfg->scan_group ? cfg->scan_group : "finding";
	if (strcmp(g, "finding") == 0) {
		out->group = SCAN_GROUP_FINDING;
	} else if (strcmp(g, "rule") == 0) {
		out->group = SCAN_GROUP_RULE;
	} else if (strcmp(g, "rule+target") == 0) {
		out->group = SCAN_GROUP_RULE_TARGET;
	} else {
		snprintf(why, whysize,
			 "scan_group=%s: use finding, rule or rule+target", g);
		return -1;
	}
	out->min_severity = SCAN_SEV_INFO;
	if (cfg->scan_min_severity &&
	    scan_severity_parse(cfg->scan_min_severity, &out->min_severity)) {
		snprintf(why, whysize,
			 "scan_min_severity=%s: use info, low, medium, high or "
			 "critical",
			 cfg->scan_min_severity);
		return -1;
	}
	if (cfg->scan_autoclose_max) {
		char *end = NULL;
		long v = strtol(cfg->scan_autoclose_max, &end, 10);
		if (end == cfg->scan_autoclose_max ||
		    (*end && strcmp(end, "%") != 0) || v < 0 || v > 100) {
			snprintf(why, whysize,
				 "scan_autoclose_max=%s: a percentage, 0 to "
				 "100",
				 cfg->scan_autoclose_max);
			return -1;
		}
		out->autoclose_max_pct = (int)v;
	}
	char **prio = NULL;
	size_t np = 0;
	if (cfg->scan_priority) {
		if (split(cfg->scan_priority, &prio, &np) ||
		    np != SCAN_SEV_COUNT) {
			free_list(prio, np);
			snprintf(why, whysize,
				 "scan_priority=%s: five priority names, for "
				 "critical:high:medium:low:info",
				 cfg->scan_priority);
			return -1;
		}
	}
	/* given from critical down; kept by severity (info first) */
	for (int s = 0; s < SCAN_SEV_COUNT; s++)
		out->priority[s] =
			prio ? strdup(prio[SCAN_SEV_COUNT - 1 - s])
			     : strdup(default_priority[s]);
	free_list(prio, np);
	if (split(cfg->scan_accepted ? cfg->scan_accepted : default_accepted,
		  &out->accepted, &out->naccepted)) {
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	return 0;
}

void scan_config_release(struct scan_config *c)
{
	for (int s = 0; s < SCAN_SEV_COUNT; s++)
		free(c->priority[s]);
	free_list(c->accepted, c->naccepted);
	memset(c, 0, sizeof(*c));
}
