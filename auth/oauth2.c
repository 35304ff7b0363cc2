/* oauth2.c - OAuth 2.0 with PKCE and rotating refresh tokens; see
 * oauth2.h. */
#include "auth/oauth2.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "auth/methods.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strbuf.h"

#define TOKENS_FILE "oauth2.json"
/* renew this long before the access token expires (at most half its
 * lifetime) */
#define RENEW_BEFORE_MS (60 * 1000)
/* a 401 right after a renewal is not a reason for another one */
#define RENEWED_RECENTLY_MS 5000

char *oauth2_base64url(const unsigned char *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out)
		return NULL;
	int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *c = out; *c; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
	}
	return out;
}

char *oauth2_pkce_challenge(const char *verifier)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)verifier, strlen(verifier), digest);
	return oauth2_base64url(digest, sizeof(digest));
}

char *oauth2_pkce_verifier(void)
{
	unsigned char raw[32];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return NULL;
	return oauth2_base64url(raw, sizeof(raw));
}

void oauth2_tokens_release(struct oauth2_tokens *t)
{
	auth_secret_free(t->access);
	auth_secret_free(t->refresh);
	free(t->scope);
	memset(t, 0, sizeof(*t));
}

/* A copy of the string member k when it is not empty, else NULL. */
static char *nonempty_dup(const cJSON *o, const char *k)
{
	const char *s = json_str(o, k);
	return s && *s ? strdup(s) : NULL;
}

int oauth2_tokens_parse(const char *json, struct oauth2_tokens *t, char *why,
			size_t whysize)
{
	memset(t, 0, sizeof(*t));
	cJSON *o = cJSON_Parse(json ? json : "");
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		snprintf(why, whysize, "the token endpoint did not answer JSON");
		return -EINVAL;
	}
	const cJSON *err = json_item(o, "error");
	if (cJSON_IsString(err)) {
		const cJSON *d = json_item(o, "error_description");
		snprintf(why, whysize, "%s%s%s", err->valuestring,
			 cJSON_IsString(d) ? ": " : "",
			 cJSON_IsString(d) ? d->valuestring : "");
		cJSON_Delete(o);
		return -EINVAL;
	}
	t->access = nonempty_dup(o, "access_token");
	t->refresh = nonempty_dup(o, "refresh_token");
	t->scope = nonempty_dup(o, "scope");
	const cJSON *exp = json_item(o, "expires_in");
	if (cJSON_IsNumber(exp) && exp->valuedouble > 0) {
		t->lifetime_ms = (int64_t)(exp->valuedouble * 1000);
		t->expires_at_ms = clock_wall_ms() + t->lifetime_ms;
	}
	const cJSON *at = json_item(o, "expires_at_ms");
	if (cJSON_IsNumber(at)) /* our own file */
		t->expires_at_ms = (int64_t)at->valuedouble;
	const cJSON *lt = json_item(o, "lifetime_ms");
	if (cJSON_IsNumber(lt))
		t->lifetime_ms = (int64_t)lt->valuedouble;
	cJSON_Delete(o);
	if (!t->access) {
		oauth2_tokens_release(t);
		snprintf(why, whysize, "the answer holds no access token");
		return -EINVAL;
	}
	return 0;
}

char *oauth2_tokens_path(const char *state_dir)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", state_dir, TOKENS_FILE);
	return strbuf_detach(&sb, NULL);
}

int oauth2_tokens_save(const char *path, const char *client_id,
		       const struct oauth2_tokens *t)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return -ENOMEM;
	cJSON_AddStringToObject(o, "client_id", client_id);
	cJSON_AddStringToObject(o, "access_token", t->access);
	if (t->refresh)
		cJSON_AddStringToObject(o, "refresh_token", t->refresh);
	if (t->scope)
		cJSON_AddStringToObject(o, "scope", t->scope);
	cJSON_AddNumberToObject(o, "expires_at_ms", (double)t->expires_at_ms);
	cJSON_AddNumberToObject(o, "lifetime_ms", (double)t->lifetime_ms);
	char *s = cJSON_Print(o);
	cJSON_Delete(o);
	if (!s)
		return -ENOMEM;
	int ret = path_write_atomic(path, s, strlen(s), 0600);
	auth_secret_free(s);
	return ret;
}

int oauth2_tokens_load(const char *path, const char *client_id,
		       struct oauth2_tokens *t, char *errbuf, size_t errsize)
{
	char *text = NULL;
	int ret = auth_read_secret_file(path, &text, errbuf, errsize);
	if (ret == -ENOENT)
		snprintf(errbuf, errsize,
			 "no OAuth 2.0 tokens in %s: run jirafs auth "
			 "oauth2-login first",
			 path);
	if (ret)
		return ret;
	cJSON *o = cJSON_Parse(text);
	const cJSON *cid = json_item(o, "client_id");
	if (!cJSON_IsString(cid) ||
	    (client_id && strcmp(cid->valuestring, client_id) != 0)) {
		snprintf(errbuf, errsize,
			 "%s holds tokens of another client: run jirafs auth "
			 "oauth2-login again",
			 path);
		ret = -EINVAL;
	} else {
		char why[256];
		ret = oauth2_tokens_parse(text, t, why, sizeof(why));
		if (ret)
			snprintf(errbuf, errsize, "%s: %s", path, why);
	}
	cJSON_Delete(o);
	auth_secret_free(text);
	return ret;
}

int oauth2_client_secret(const struct auth_config *cfg, char **out,
			 char *errbuf, size_t errsize)
{
	return auth_secret_from(cfg->client_secret_file, "JIRAFS_CLIENT_SECRET",
				"client secret", out, errbuf, errsize);
}

char *oauth2_form(const char *const *pairs, size_t npairs)
{
	struct strbuf sb = STRBUF_INIT;
	bool first = true;
	for (size_t i = 0; i + 1 < npairs; i += 2) {
		if (!pairs[i + 1])
			continue;
		if (!first)
			strbuf_addc(&sb, '&');
		first = false;
		strbuf_add_urlencoded(&sb, pairs[i]);
		strbuf_addc(&sb, '=');
		strbuf_add_urlencoded(&sb, pairs[i + 1]);
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- the method ---------------------------------------------------------- */

struct auth_oauth2 {
	struct auth base;
	char *client_id;
	char *secret;
	char *path;            /* the tokens file */
	pthread_mutex_t lock;  /* guards all below */
	pthread_cond_t renewed; /* a renewal ended (CLOCK_MONOTONIC) */
	struct oauth2_tokens t;
	char *header;          /* "Authorization: Bearer ..." */
	bool renewing;
	uint64_t renewals;     /* finished, ok or not */
	int last_result;
	int64_t renewed_at_ms; /* wall clock of the last good renewal */
};

static char *bearer(const char *token)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "Authorization: Bearer %s", token);
	return strbuf_detach(&sb, NULL);
}

static int oauth2_decorate(struct auth *a, const struct auth_request *req,
			   struct curl_slist **headers)
{
	(void)req;
	struct auth_oauth2 *o = (struct auth_oauth2 *)a;
	pthread_mutex_lock(&o->lock);
	struct curl_slist *l = curl_slist_append(*headers, o->header);
	pthread_mutex_unlock(&o->lock);
	if (!l)
		return -ENOMEM;
	*headers = l;
	return 0;
}

/* One renewal, done by the caller without the lock held: ask the token
 * endpoint, store the rotated tokens, then put them in use. */
static int renew_now(struct auth_oauth2 *o, const char *refresh,
		     int64_t deadline_ms)
{
	const char *pairs[] = { "grant_type", "refresh_token",
				"refresh_token", refresh,
				"client_id", o->client_id,
				"client_secret", o->secret };
	char *form = oauth2_form(pairs, sizeof(pairs) / sizeof(*pairs));
	char *answer = NULL;
	if (!form)
		return -ENOMEM;
	if (!o->base.transport.post_form) {
		auth_secret_free(form);
		return -EIO;
	}
	char why[512];
	long status = o->base.transport.post_form(
		o->base.transport.ctx, OAUTH2_TOKEN_PATH, form, deadline_ms,
		&answer, why, sizeof(why));
	auth_secret_free(form);
	if (!status) {
		jlog_warn("cannot renew the OAuth 2.0 access token: %s", why);
		free(answer);
		return deadline_left(deadline_ms) > 0 ? -EIO : -ETIMEDOUT;
	}
	struct oauth2_tokens t;
	int ret = oauth2_tokens_parse(answer, &t, why, sizeof(why));
	auth_secret_free(answer);
	if (ret || status != 200) {
		jlog_err("Jira refused to renew the OAuth 2.0 token (HTTP %ld: "
			 "%s); run jirafs auth oauth2-login again",
			 status, ret ? why : "no reason given");
		if (!ret)
			oauth2_tokens_release(&t);
		return -EACCES;
	}
	if (!t.refresh) /* not rotated: keep the one we have */
		t.refresh = strdup(refresh);
	/* the old refresh token is spent: keep the new one before anything
	 * else */
	ret = oauth2_tokens_save(o->path, o->client_id, &t);
	if (ret)
		jlog_err("cannot store the renewed OAuth 2.0 tokens in %s: %s; "
			 "they last only as long as this mount",
			 o->path, strerror(-ret));
	char *h = bearer(t.access);
	if (!h) {
		oauth2_tokens_release(&t);
		return -ENOMEM;
	}
	pthread_mutex_lock(&o->lock);
	oauth2_tokens_release(&o->t);
	o->t = t;
	auth_secret_free(o->header);
	o->header = h;
	o->renewed_at_ms = clock_wall_ms();
	pthread_mutex_unlock(&o->lock);
	jlog_info("renewed the OAuth 2.0 access token");
	return 0;
}

/* Renew unless fresh enough (`force`: after a 401), one at a time. */
static int renew(struct auth_oauth2 *o, bool force, int64_t deadline_ms)
{
	struct timespec ts = deadline_timespec(deadline_ms);
	pthread_mutex_lock(&o->lock);
	for (;;) {
		int64_t now = clock_wall_ms();
		int64_t margin = RENEW_BEFORE_MS;
		if (o->t.lifetime_ms && o->t.lifetime_ms / 2 < margin)
			margin = o->t.lifetime_ms / 2;
		bool expiring = o->t.expires_at_ms &&
				o->t.expires_at_ms - now < margin;
		bool recent = now - o->renewed_at_ms < RENEWED_RECENTLY_MS;
		if ((!force && !expiring) || (force && recent)) {
			pthread_mutex_unlock(&o->lock);
			return 0;
		}
		if (!o->renewing)
			break;
		uint64_t seen = o->renewals;
		while (o->renewing && o->renewals == seen)
			if (pthread_cond_timedwait(&o->renewed, &o->lock,
						   &ts) == ETIMEDOUT) {
				pthread_mutex_unlock(&o->lock);
				return -ETIMEDOUT;
			}
		if (o->renewals != seen) {
			int r = o->last_result;
			pthread_mutex_unlock(&o->lock);
			return r;
		}
	}
	if (!o->t.refresh) {
		pthread_mutex_unlock(&o->lock);
		jlog_err("the OAuth 2.0 access token expired and there is no "
			 "refresh token; run jirafs auth oauth2-login again");
		return -EACCES;
	}
	char *refresh = strdup(o->t.refresh);
	o->renewing = true;
	pthread_mutex_unlock(&o->lock);

	int ret = refresh ? renew_now(o, refresh, deadline_ms) : -ENOMEM;
	auth_secret_free(refresh);

	pthread_mutex_lock(&o->lock);
	o->renewing = false;
	o->renewals++;
	o->last_result = ret;
	pthread_cond_broadcast(&o->renewed);
	pthread_mutex_unlock(&o->lock);
	return ret;
}

static int oauth2_prepare(struct auth *a, int64_t deadline_ms)
{
	return renew((struct auth_oauth2 *)a, false, deadline_ms);
}

static int oauth2_refresh(struct auth *a, int64_t deadline_ms)
{
	return renew((struct auth_oauth2 *)a, true, deadline_ms);
}

static void oauth2_free(struct auth *a)
{
	struct auth_oauth2 *o = (struct auth_oauth2 *)a;
	oauth2_tokens_release(&o->t);
	auth_secret_free(o->header);
	auth_secret_free(o->secret);
	free(o->client_id);
	free(o->path);
	pthread_cond_destroy(&o->renewed);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

static const struct auth_ops oauth2_ops = {
	.name = "oauth2",
	.decorate = oauth2_decorate,
	.prepare = oauth2_prepare,
	.refresh = oauth2_refresh,
	.free = oauth2_free,
};

int auth_oauth2_new(const struct auth_config *cfg, const char *state_dir,
		    struct auth **out, char *errbuf, size_t errsize)
{
	if (!cfg->client_id) {
		snprintf(errbuf, errsize, "auth=oauth2 needs -o client_id=ID");
		return -EINVAL;
	}
	struct auth_oauth2 *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	pthread_mutex_init(&o->lock, NULL);
	cond_init_monotonic(&o->renewed);
	o->base.ops = &oauth2_ops;
	o->client_id = strdup(cfg->client_id);
	o->path = oauth2_tokens_path(state_dir);
	int ret = !o->client_id || !o->path ? -ENOMEM : 0;
	if (!ret)
		ret = oauth2_client_secret(cfg, &o->secret, errbuf, errsize);
	if (!ret)
		ret = oauth2_tokens_load(o->path, o->client_id, &o->t, errbuf,
					 errsize);
	if (!ret && !(o->header = bearer(o->t.access)))
		ret = -ENOMEM;
	if (ret) {
		oauth2_free(&o->base);
		return ret;
	}
	*out = &o->base;
	return 0;
}
