/* oauth1.c - OAuth 1.0a RSA-SHA1; see oauth1.h. */
#include "auth/oauth1.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "auth/methods.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strbuf.h"

#define CREDENTIALS_FILE "oauth1.json"
#define DEFAULT_KEY_FILE "oauth1.pem"

char *oauth1_encode(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add_urlencoded(&sb, s);
	return strbuf_detach(&sb, NULL);
}

/* ---- the signature base string ----------------------------------------- */

struct pair {
	char *name;  /* percent-encoded */
	char *value; /* percent-encoded */
};

/* Decode a form-encoded component ('+' is a space). */
static char *form_decode(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add_urldecoded(&sb, s, n);
	return strbuf_detach(&sb, NULL);
}

static int add_pair(struct pair **v, size_t *n, size_t *cap,
		    const char *name, const char *value)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct pair *p = realloc(*v, c * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[*n].name = oauth1_encode(name);
	(*v)[*n].value = oauth1_encode(value);
	if (!(*v)[*n].name || !(*v)[*n].value)
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Add the pairs of a form-encoded string. */
static int add_form(struct pair **v, size_t *n, size_t *cap, const char *s)
{
	while (s && *s) {
		const char *amp = strchr(s, '&');
		size_t len = amp ? (size_t)(amp - s) : strlen(s);
		if (len) {
			const char *eq = memchr(s, '=', len);
			size_t nl = eq ? (size_t)(eq - s) : len;
			char *name = form_decode(s, nl);
			char *value = eq ? form_decode(eq + 1, len - nl - 1)
					 : strdup("");
			int ret = name && value ? add_pair(v, n, cap, name, value)
						: -ENOMEM;
			free(name);
			free(value);
			if (ret)
				return ret;
		}
		s = amp ? amp + 1 : NULL;
	}
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

/* scheme://host[:port]/path of url, lowercased where RFC 5849 says so. */
static char *base_uri(const char *url, char **query)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *out = NULL;
	*query = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, query, 0);
	if (!scheme || !host)
		goto out;
	for (char *c = scheme; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *c = host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s://%s%s%s%s", scheme, host, port ? ":" : "",
		    port ? port : "", path && *path ? path : "/");
	out = strbuf_detach(&sb, NULL);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return out;
}

char *oauth1_base_string(const char *method, const char *url,
			 const char *form, const struct oauth1_param *oauth,
			 size_t noauth)
{
	char *query = NULL;
	char *uri = base_uri(url, &query);
	struct pair *v = NULL;
	size_t n = 0, cap = 0;
	char *out = NULL;
	int ret = uri ? 0 : -EINVAL;

	if (!ret)
		ret = add_form(&v, &n, &cap, query);
	if (!ret)
		ret = add_form(&v, &n, &cap, form);
	for (size_t i = 0; !ret && i < noauth; i++)
		ret = add_pair(&v, &n, &cap, oauth[i].name, oauth[i].value);
	if (!ret) {
		if (n)
			qsort(v, n, sizeof(*v), cmp_pair);
		struct strbuf params = STRBUF_INIT, sb = STRBUF_INIT;
		for (size_t i = 0; i < n; i++)
			strbuf_addf(&params, "%s%s=%s", i ? "&" : "", v[i].name,
				    v[i].value);
		for (const char *m = method; *m; m++)
			strbuf_addc(&sb, (char)toupper((unsigned char)*m));
		strbuf_addc(&sb, '&');
		strbuf_add_urlencoded(&sb, uri);
		strbuf_addc(&sb, '&');
		strbuf_add_urlencoded(&sb, strbuf_str(&params));
		strbuf_release(&params);
		out = strbuf_detach(&sb, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
	free(uri);
	curl_free(query);
	return out;
}

char *oauth1_sign(EVP_PKEY *key, const char *base)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	char *out = NULL;
	size_t len = 0;
	if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha1(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)base,
			   strlen(base)) != 1)
		goto out;
	sig = malloc(len);
	if (!sig || EVP_DigestSign(ctx, sig, &len, (const unsigned char *)base,
				   strlen(base)) != 1)
		goto out;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, sig, (int)len);
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	return out;
}

/* ---- keys ---------------------------------------------------------------- */

EVP_PKEY *oauth1_load_key(const char *path, char *errbuf, size_t errsize)
{
	char *pem = NULL;
	if (auth_read_secret_file(path, &pem, errbuf, errsize))
		return NULL;
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			    : NULL;
	BIO_free(bio);
	auth_secret_free(pem);
	if (!key)
		snprintf(errbuf, errsize, "%s is not a PEM private key", path);
	else if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		snprintf(errbuf, errsize, "%s is not an RSA key", path);
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

int oauth1_keygen(const char *path, char **public_pem, char *errbuf,
		  size_t errsize)
{
	int ret = 0;
	EVP_PKEY *key = EVP_RSA_gen(2048);
	BIO *mem = BIO_new(BIO_s_mem());
	FILE *f = NULL;
	*public_pem = NULL;
	if (!key || !mem) {
		snprintf(errbuf, errsize, "cannot generate an RSA key");
		ret = -ENOMEM;
		goto out;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(errbuf, errsize, "cannot create %s: %s%s", path,
			 strerror(errno),
			 errno == EEXIST ? " (a key is there already; keep "
					   "it, or remove it first)"
					 : "");
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		ret = -EIO;
		snprintf(errbuf, errsize, "cannot write %s", path);
		if (!f)
			close(fd);
		unlink(path);
		goto out;
	}
	if (PEM_write_bio_PUBKEY(mem, key) != 1) {
		ret = -EIO;
		snprintf(errbuf, errsize, "cannot write the public key");
		goto out;
	}
	char *data;
	long n = BIO_get_mem_data(mem, &data);
	*public_pem = strndup(data, (size_t)n);
	if (!*public_pem)
		ret = -ENOMEM;
out:
	if (f)
		fclose(f);
	BIO_free(mem);
	EVP_PKEY_free(key);
	return ret;
}

/* ---- the header ---------------------------------------------------------- */

static bool is_form(const struct auth_request *req)
{
	return req->content_type &&
	       strncmp(req->content_type, "application/x-www-form-urlencoded",
		       33) == 0;
}

char *oauth1_authorization(EVP_PKEY *key, const char *consumer_key,
			   const char *token, const struct auth_request *req,
			   const struct oauth1_param *extra, size_t nextra)
{
	unsigned char raw[16];
	char nonce[33], stamp[24];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return NULL;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
	snprintf(stamp, sizeof(stamp), "%lld", (long long)time(NULL));

	struct oauth1_param p[16];
	size_t n = 0;
	p[n++] = (struct oauth1_param){ "oauth_consumer_key", consumer_key };
	p[n++] = (struct oauth1_param){ "oauth_nonce", nonce };
	p[n++] = (struct oauth1_param){ "oauth_signature_method", "RSA-SHA1" };
	p[n++] = (struct oauth1_param){ "oauth_timestamp", stamp };
	p[n++] = (struct oauth1_param){ "oauth_version", "1.0" };
	if (token)
		p[n++] = (struct oauth1_param){ "oauth_token", token };
	for (size_t i = 0; i < nextra && n < 15; i++)
		p[n++] = extra[i];

	char *form = NULL;
	if (is_form(req) && req->body)
		form = strndup(req->body, req->body_len);
	char *base = oauth1_base_string(req->method, req->url, form, p, n);
	free(form);
	char *sig = base ? oauth1_sign(key, base) : NULL;
	free(base);
	if (!sig)
		return NULL;
	p[n++] = (struct oauth1_param){ "oauth_signature", sig };

	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "Authorization: OAuth ");
	for (size_t i = 0; i < n; i++) {
		strbuf_addf(&sb, "%s%s=\"", i ? ", " : "", p[i].name);
		strbuf_add_urlencoded(&sb, p[i].value);
		strbuf_addc(&sb, '"');
	}
	free(sig);
	return strbuf_detach(&sb, NULL);
}

static char *in_state_dir(const char *state_dir, const char *file)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", state_dir, file);
	return strbuf_detach(&sb, NULL);
}

char *oauth1_credentials_path(const char *state_dir)
{
	return in_state_dir(state_dir, CREDENTIALS_FILE);
}

char *oauth1_default_key_path(const char *state_dir)
{
	return in_state_dir(state_dir, DEFAULT_KEY_FILE);
}

/* ---- the method ---------------------------------------------------------- */

struct auth_oauth1 {
	struct auth base;
	EVP_PKEY *key;
	char *consumer_key;
	char *token;  /* the access token */
};

static int oauth1_decorate(struct auth *a, const struct auth_request *req,
			   struct curl_slist **headers)
{
	struct auth_oauth1 *o = (struct auth_oauth1 *)a;
	char *h = oauth1_authorization(o->key, o->consumer_key, o->token, req,
				       NULL, 0);
	if (!h)
		return -EIO;
	struct curl_slist *l = curl_slist_append(*headers, h);
	auth_secret_free(h);
	if (!l)
		return -ENOMEM;
	*headers = l;
	return 0;
}

static void oauth1_free(struct auth *a)
{
	struct auth_oauth1 *o = (struct auth_oauth1 *)a;
	EVP_PKEY_free(o->key);
	free(o->consumer_key);
	auth_secret_free(o->token);
	free(o);
}

static const struct auth_ops oauth1_ops = {
	.name = "oauth1",
	.decorate = oauth1_decorate,
	.free = oauth1_free,
};

/* The method signing as consumer_key with the key at key_path and token. */
static int oauth1_method(const char *consumer_key, const char *key_path,
			 const char *token, struct auth **out, char *errbuf,
			 size_t errsize)
{
	struct auth_oauth1 *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->base.ops = &oauth1_ops;
	o->key = oauth1_load_key(key_path, errbuf, errsize);
	o->consumer_key = strdup(consumer_key);
	o->token = token ? strdup(token) : NULL;
	if (!o->key || !o->consumer_key || (token && !o->token)) {
		int ret = o->key ? -ENOMEM : -EINVAL;
		oauth1_free(&o->base);
		return ret;
	}
	*out = &o->base;
	return 0;
}

int auth_oauth1_new(const struct auth_config *cfg, const char *state_dir,
		    struct auth **out, char *errbuf, size_t errsize)
{
	char *cred_path = oauth1_credentials_path(state_dir);
	char *key_path = cfg->private_key ? path_absolute(cfg->private_key)
					  : oauth1_default_key_path(state_dir);
	char *text = NULL;
	cJSON *cred = NULL;
	int ret = -ENOMEM;
	if (!cred_path || !key_path)
		goto out;
	ret = auth_read_secret_file(cred_path, &text, errbuf, errsize);
	if (ret == -ENOENT)
		snprintf(errbuf, errsize,
			 "no OAuth credentials in %s: run jirafs auth "
			 "oauth1-login first",
			 cred_path);
	if (ret)
		goto out;
	cred = cJSON_Parse(text);
	const cJSON *ck = cJSON_GetObjectItem(cred, "consumer_key");
	const cJSON *tok = cJSON_GetObjectItem(cred, "token");
	if (!cJSON_IsString(ck) || !cJSON_IsString(tok)) {
		ret = -EINVAL;
		snprintf(errbuf, errsize, "%s is not a jirafs OAuth credentials "
					  "file",
			 cred_path);
		goto out;
	}
	if (cfg->consumer_key && strcmp(cfg->consumer_key, ck->valuestring)) {
		ret = -EINVAL;
		snprintf(errbuf, errsize,
			 "%s holds a token of consumer '%s', not '%s': run "
			 "jirafs auth oauth1-login again",
			 cred_path, ck->valuestring, cfg->consumer_key);
		goto out;
	}
	ret = oauth1_method(ck->valuestring, key_path, tok->valuestring, out,
			    errbuf, errsize);
out:
	cJSON_Delete(cred);
	auth_secret_free(text);
	free(cred_path);
	free(key_path);
	return ret;
}
