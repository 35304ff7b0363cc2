/* header.c - a method that adds one fixed header to every request (the
 * shape of pat and basic: their secret never changes during a mount). */
#include <stdlib.h>

#include "auth/methods.h"

struct auth_header {
	struct auth base;
	const char *name;
	char *header; /* "Authorization: ...", immutable after creation */
};

static int header_decorate(struct auth *a, const struct auth_request *req,
			   struct curl_slist **headers)
{
	(void)req;
	struct auth_header *h = (struct auth_header *)a;
	struct curl_slist *l = curl_slist_append(*headers, h->header);
	if (!l)
		return -ENOMEM;
	*headers = l;
	return 0;
}

static void header_free(struct auth *a)
{
	struct auth_header *h = (struct auth_header *)a;
	auth_secret_free(h->header);
	free((void *)h->base.ops);
	free(h);
}

int auth_header_method_new(const char *name, char *header, bool needs_tls,
			   struct auth **out)
{
	struct auth_header *h = calloc(1, sizeof(*h));
	struct auth_ops *ops = calloc(1, sizeof(*ops));
	if (!h || !ops) {
		free(h);
		free(ops);
		auth_secret_free(header);
		return -ENOMEM;
	}
	ops->name = name;
	ops->decorate = header_decorate;
	ops->free = header_free;
	h->base.ops = ops;
	h->base.needs_tls = needs_tls;
	h->header = header;
	*out = &h->base;
	return 0;
}
