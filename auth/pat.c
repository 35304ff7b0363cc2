/* pat.c - Personal Access Tokens: "Authorization: Bearer <token>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/methods.h"

struct auth_pat {
	struct auth base;
	char *header; /* "Authorization: Bearer ...", immutable after new */
};

static int pat_decorate(struct auth *a, const struct auth_request *req,
			struct curl_slist **headers)
{
	(void)req;
	struct auth_pat *p = (struct auth_pat *)a;
	struct curl_slist *h = curl_slist_append(*headers, p->header);
	if (!h)
		return -ENOMEM;
	*headers = h;
	return 0;
}

static void pat_free(struct auth *a)
{
	struct auth_pat *p = (struct auth_pat *)a;
	auth_secret_free(p->header);
	free(p);
}

static const struct auth_ops pat_ops = {
	.name = "pat",
	.decorate = pat_decorate,
	.refresh = NULL,
	.free = pat_free,
};

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
	struct auth_pat *p = calloc(1, sizeof(*p));
	size_t n = strlen(token) + sizeof("Authorization: Bearer ");
	char *h = malloc(n);
	if (!p || !h) {
		free(p);
		free(h);
		auth_secret_free(token);
		return -ENOMEM;
	}
	snprintf(h, n, "Authorization: Bearer %s", token);
	auth_secret_free(token);
	p->base.ops = &pat_ops;
	p->header = h;
	*out = &p->base;
	return 0;
}
