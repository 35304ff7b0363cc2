/* basic.c - HTTP Basic: "Authorization: Basic base64(user:password)". */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/methods.h"

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
	size_t hdr_cap = 4 * ((plain_len + 2) / 3) + 1 +
			 sizeof("Authorization: Basic ");
	char *plain = malloc(plain_len + 1);
	char *hdr = malloc(hdr_cap);
	if (!plain || !hdr) {
		free(plain);
		free(hdr);
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
	return auth_header_method_new("basic", hdr, true, out);
}
