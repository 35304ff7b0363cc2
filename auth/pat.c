/* pat.c - Personal Access Tokens: "Authorization: Bearer <token>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/methods.h"

int auth_pat_new(const struct auth_config *cfg, struct auth **out,
		 char *errbuf, size_t errsize)
{
	char *token = NULL;
	int ret = auth_secret_from(cfg->token_file, "JIRAFS_TOKEN",
				   "Personal Access Token", &token, errbuf,
				   errsize);
	if (ret)
		return ret;
	for (const char *c = token; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			auth_secret_free(token);
			snprintf(errbuf, errsize,
				 "the Personal Access Token contains spaces or "
				 "control characters");
			return -EINVAL;
		}
	}
	size_t n = strlen(token) + sizeof("Authorization: Bearer ");
	char *h = malloc(n);
	if (h)
		snprintf(h, n, "Authorization: Bearer %s", token);
	auth_secret_free(token);
	if (!h)
		return -ENOMEM;
	return auth_header_method_new("pat", h, false, out);
}
