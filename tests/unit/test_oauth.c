/* Unit tests: OAuth 1.0a (RFC 5849) signing and OAuth 2.0 (RFC 7636 PKCE,
 * tokens, forms), and the login flows' URL parsing. */
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/oauth1.h"
#include "auth/oauth2.h"
#include "harness.h"
#include "jira/login.h"

/* RFC 5849 section 3.4.1.1: the request and its signature base string. */
TEST(oauth1_base_string_rfc5849_example)
{
	const struct oauth1_param p[] = {
		{ "oauth_consumer_key", "9djdj82h48djs9d2" },
		{ "oauth_token", "kkk9d7dh3k39sjv7" },
		{ "oauth_signature_method", "HMAC-SHA1" },
		{ "oauth_timestamp", "137131201" },
		{ "oauth_nonce", "7d8f3e4a" },
	};
	char *b = oauth1_base_string(
		"post", "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
		"c2&a3=2+q", p, 5);
	CHECK_STR(b, "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3"
		     "%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D"
		     "%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8"
		     "f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp"
		     "%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7");
	free(b);
}

/* RFC 5849 section 3.4.1.2: the base string URI. */
TEST(oauth1_base_uri_is_normalized)
{
	char *b = oauth1_base_string("GET", "HTTP://EXAMPLE.COM:80/r%20v/X?id=123",
				     NULL, NULL, 0);
	CHECK_STR(b, "GET&http%3A%2F%2Fexample.com%2Fr%2520v%2FX&id%3D123");
	free(b);
	b = oauth1_base_string("GET", "https://www.example.net:8080/?q=1", NULL,
			       NULL, 0);
	CHECK_STR(b, "GET&https%3A%2F%2Fwww.example.net%3A8080%2F&q%3D1");
	free(b);
	b = oauth1_base_string("GET", "https://jira.example.com:443/rest", NULL,
			       NULL, 0);
	CHECK_STR(b, "GET&https%3A%2F%2Fjira.example.com%2Frest&");
	free(b);
}

TEST(oauth1_percent_encoding)
{
	char *e = oauth1_encode("Ladies + Gentlemen: ~a-b_c.d é/%");
	CHECK_STR(e, "Ladies%20%2B%20Gentlemen%3A%20~a-b_c.d%20%C3%A9%2F%25");
	free(e);
}

static const char test_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAMl5pO3uQ1rfJVjC\n"
	"u86oV8r8QzRlDCogHJzgwXkZIQHTtfMXc+NmC+RrkYRAlqh9oKzCq8hAjgIObFfv\n"
	"hNKOsE+fS2Yd2C0E4eirjZPyjEYtzIbcmL+WQljZNBW4zfYCYG+ND0gfaGo0ZH0F\n"
	"t+oZkhVyiRLTpS+HhZ4zrNBxPR2XAgMBAAECgYEAmVxNHQfGoX9GUGA60T33Rf3r\n"
	"shBQyCgVX5z96I4mP9vFnjr17dyZpM/0vnTjuXGXQqoUVKQ+9HXCJtWdhyEyNq+Q\n"
	"qfCuFgHBxso62W1U+xd7n8Fv11+tAaOoy4Cn2Smf+ZNVYWqhkRjvQd7wsY/R/1XC\n"
	"Up0wJZoiUpx5c/PHPIECQQDrqLNcEmwHAu/AyEdMfkIqvfHTXQpwSrxDp1DdqIXM\n"
	"6P7r9Cg0OE5jiIKziwi2F3VdfqxzfzaM7GfeS3/J8sE3AkEA2t2XmnQIfMIuQYTQ\n"
	"9AYR0vghN+nKj2v2CVwf76/HlXmO7jB/3wVPyYJFhRlzAMnVEsjQmrJ21mj9r4s1\n"
	"Q7A2oQJAFyvjVu5IyPe081O+DvtrLiC3In1HhXsTv+M3xFPJtDhEuJatTVUsAAVw\n"
	"NI87MAxmceb+teyQRJMKM4Vg7057SQJAOcgCvD4h9330ZEvCNopbrkzfyDkqxw6D\n"
	"mBkAPXE0ydubxnp7Z8+pLtP7spXzbKPcYuctW4n+IcD6KJwh5crhwQJAddBsZTZV\n"
	"GjbAljY+HiX21C0jObxbckvDQhVK58a9md76soa/DrWebijCE1XE1ygIr2dLZiCW\n"
	"h8b1K8k/J8SHXQ==\n"
	"-----END PRIVATE KEY-----\n";

static char *key_file(mode_t mode)
{
	char *path = strdup("/tmp/jirafs-unit-key-XXXXXX");
	int fd = mkstemp(path);
	if (write(fd, test_key, sizeof(test_key) - 1) < 0)
		return NULL;
	fchmod(fd, mode);
	close(fd);
	return path;
}

/* The signature of the RFC 5849 base string with a fixed 1024-bit key, as
 * python3-cryptography computes it (PKCS#1 v1.5, SHA-1). */
TEST(oauth1_rsa_sha1_signature_with_a_fixed_key)
{
	char err[256];
	char *path = key_file(0600);
	EVP_PKEY *key = oauth1_load_key(path, err, sizeof(err));
	CHECK(key != NULL);
	const char *base =
		"POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3"
		"%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D"
		"%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8"
		"f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp"
		"%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7";
	char *sig = oauth1_sign(key, base);
	CHECK_STR(sig, "gGzXDC/FKepe1QmaMdiw3I28ejREy3lX7xdLwXT+jxq2NA3g1hOeOSVI"
		       "l6S2P/x2tJVUf5A5RCgUW4qkLPOam6L0DdLh7i5tQbz7V2thEbgb+GVF"
		       "+WOoHwdxDW/yS/p0nO5QfZS3PY5Mu7GjRsAlKRkV50tUvLAlgibazKpn"
		       "/aQ=");
	free(sig);
	EVP_PKEY_free(key);
	unlink(path);
	free(path);
}

TEST(oauth1_key_file_must_be_private)
{
	char err[256];
	char *path = key_file(0644);
	CHECK(oauth1_load_key(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "chmod 600") != NULL);
	unlink(path);
	free(path);
}

TEST(oauth1_authorization_header_verifies)
{
	char err[256];
	char *path = key_file(0600);
	EVP_PKEY *key = oauth1_load_key(path, err, sizeof(err));
	struct auth_request req = { "POST",
				    "https://jira.example.com/rest/api/2/issue?x=1",
				    "application/json", "{\"a\": 1}", 8 };
	const struct oauth1_param cb = { "oauth_callback", "oob" };
	char *h = oauth1_authorization(key, "jirafs", "tok en", &req, &cb, 1);
	CHECK(h != NULL);
	CHECK(strncmp(h, "Authorization: OAuth oauth_consumer_key=\"jirafs\", "
			 "oauth_nonce=\"",
		      60) == 0);
	CHECK(strstr(h, "oauth_signature_method=\"RSA-SHA1\"") != NULL);
	CHECK(strstr(h, "oauth_token=\"tok%20en\"") != NULL);
	CHECK(strstr(h, "oauth_callback=\"oob\"") != NULL);
	CHECK(strstr(h, "oauth_version=\"1.0\"") != NULL);
	CHECK(strstr(h, "oauth_signature=\"") != NULL);
	/* two headers never share a nonce */
	char *h2 = oauth1_authorization(key, "jirafs", NULL, &req, NULL, 0);
	CHECK(strcmp(strstr(h, "oauth_nonce"), strstr(h2, "oauth_nonce")) != 0);
	free(h);
	free(h2);
	EVP_PKEY_free(key);
	unlink(path);
	free(path);
}

TEST(oauth1_keygen_writes_a_private_key_and_prints_the_public_one)
{
	char dir[] = "/tmp/jirafs-unit-kg-XXXXXX", path[64], err[256];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/k.pem", dir);
	char *pub = NULL;
	CHECK_INT(oauth1_keygen(path, &pub, err, sizeof(err)), 0);
	CHECK(strncmp(pub, "-----BEGIN PUBLIC KEY-----", 26) == 0);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	EVP_PKEY *k = oauth1_load_key(path, err, sizeof(err));
	CHECK(k != NULL && EVP_PKEY_get_bits(k) == 2048);
	EVP_PKEY_free(k);
	char *again = NULL;
	CHECK_INT(oauth1_keygen(path, &again, err, sizeof(err)), -EEXIST);
	free(pub);
	unlink(path);
	rmdir(dir);
}

/* RFC 7636 Appendix B */
TEST(pkce_s256_rfc7636_example)
{
	char *c = oauth2_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	CHECK_STR(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	free(c);
	char *v = oauth2_pkce_verifier();
	CHECK_INT(strlen(v), 43);
	CHECK(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789-_") == 43);
	free(v);
}

TEST(oauth2_tokens_parse_save_load)
{
	struct oauth2_tokens t;
	char why[256], err[256];
	CHECK_INT(oauth2_tokens_parse("{\"access_token\": \"A\", \"token_type\": "
				      "\"bearer\", \"expires_in\": 3600, "
				      "\"refresh_token\": \"R\", \"scope\": "
				      "\"WRITE\"}",
				      &t, why, sizeof(why)),
		  0);
	CHECK_STR(t.access, "A");
	CHECK_STR(t.refresh, "R");
	CHECK(t.expires_at_ms > 0);
	char dir[] = "/tmp/jirafs-unit-o2-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *path = oauth2_tokens_path(dir);
	CHECK_INT(oauth2_tokens_save(path, "client-1", &t), 0);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	struct oauth2_tokens back;
	CHECK_INT(oauth2_tokens_load(path, "client-1", &back, err, sizeof(err)),
		  0);
	CHECK_STR(back.refresh, "R");
	CHECK_INT(back.expires_at_ms, t.expires_at_ms);
	CHECK(oauth2_tokens_load(path, "client-2", &back, err, sizeof(err)) < 0);
	oauth2_tokens_release(&t);
	oauth2_tokens_release(&back);
	CHECK_INT(oauth2_tokens_parse("{\"error\": \"invalid_grant\", "
				      "\"error_description\": \"reused\"}",
				      &t, why, sizeof(why)),
		  -EINVAL);
	CHECK_STR(why, "invalid_grant: reused");
	unlink(path);
	free(path);
	rmdir(dir);
}

TEST(oauth2_form_encodes)
{
	const char *pairs[] = { "grant_type", "refresh_token", "refresh_token",
				"a b/c+d", "client_secret", NULL };
	char *f = oauth2_form(pairs, 6);
	CHECK_STR(f, "grant_type=refresh_token&refresh_token=a%20b%2Fc%2Bd");
	free(f);
}

TEST(login_query_values)
{
	char *v = login_query_value("http://127.0.0.1:5/cb?code=a%2Bb+c&state=s1#x",
				    "code");
	CHECK_STR(v, "a+b c");
	free(v);
	v = login_query_value("oauth_token=T1&oauth_token_secret=S", "oauth_token");
	CHECK_STR(v, "T1");
	free(v);
	v = login_query_value("http://x/cb?state=s#code=nope", "code");
	CHECK(v == NULL);
}
