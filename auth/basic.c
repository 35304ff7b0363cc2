/* basic.c - HTTP Basic: "Authorization: Basic base64(user:password)". */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/methods.h"

struct auth_basic {
	struct auth base;
	char *header; /* immutable after new */
};

static int basic_decorate(struct auth *a, const struct auth_request *req,
			  struct curl_slist **headers)
{
	(void)req;
	struct auth_basic *b = (struct auth_basic *)a;
	struct curl_slist *h = curl_slist_append(*headers, b->header);
	if (!h)
		return -ENOMEM;
	*headers = h;
	return 0;
}

static void basic_free(struct auth *a)
{
	struct auth_basic *b = (struct auth_basic *)a;
	auth_secret_free(b->header);
	free(b);
}

static const struct auth_ops basic_ops = {
	.name = "basic",
	.decorate = basic_decorate,
	.refresh = NULL,
	.free = basic_free,
};

int auth_basic_new(const struct auth_config *cfg, struct auth **out,
		   char *errbuf, size_t errsize)
{
	if (!cfg->user || !*cfg->user) {
		snprintf(errbuf, errsize, "auth=basic needs -o user=NAME");
		return -EINVAL;
	}
	if (strchr(cfg->user, ':')) {
		snprintf(errbuf, errsize, "a user name cannot contain ':'");
		return -EINVAL;
	}
	char *pw = NULL;
	int ret = auth_secret_from(cfg->password_file, "JIRAFS_PASSWORD",
				   "password", &pw, errbuf, errsize);
	if (ret)
		return ret;

	size_t plain_len = strlen(cfg->user) + 1 + strlen(pw);
	char *plain = malloc(plain_len + 1);
	size_t enc_cap = 4 * ((plain_len + 2) / 3) + 1;
	size_t hdr_cap = enc_cap + sizeof("Authorization: Basic ");
	char *hdr = malloc(hdr_cap);
	struct auth_basic *b = calloc(1, sizeof(*b));
	if (!plain || !hdr || !b) {
		free(plain);
		free(hdr);
		free(b);
		auth_secret_free(pw);
		return -ENOMEM;
	}
	snprintf(plain, plain_len + 1, "%s:%s", cfg->user, pw);
	auth_secret_free(pw);
	int off = snprintf(hdr, hdr_cap, "Authorization: Basic ");
	EVP_EncodeBlock((unsigned char *)hdr + off, (unsigned char *)plain,
			(int)plain_len);
	explicit_bzero(plain, plain_len);
	free(plain);
	b->base.ops = &basic_ops;
	b->base.needs_tls = true;
	b->header = hdr;
	*out = &b->base;
	return 0;
}
