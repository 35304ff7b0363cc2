/*
 * oauth1.h - OAuth 1.0a with RSA-SHA1 signatures (RFC 5849), as Jira's
 * application links use it.
 *
 * Every request is signed: a fresh nonce and timestamp, the signature base
 * string of RFC 5849 section 3.4.1 (the method, the base URI, and the
 * parameters of the query, of the oauth_* set and of a form-encoded body;
 * JSON bodies are not part of it), signed with the consumer's RSA private
 * key (PKCS#1 v1.5, SHA-1).  The access token and its secret come from the
 * credentials file that `jirafs auth oauth1-login` wrote.
 *
 * The pure parts are exposed for tests.  Thread-safety: the functions keep
 * no state; an EVP_PKEY may sign from several threads at once.
 */
#ifndef JIRAFS_AUTH_OAUTH1_H
#define JIRAFS_AUTH_OAUTH1_H

#include <openssl/evp.h>
#include <stddef.h>

#include "auth/auth.h"

/* RFC 3986 percent-encoding as RFC 5849 3.6 wants it (everything but
 * ALPHA, DIGIT, '-', '.', '_', '~').  malloc'd. */
char *oauth1_encode(const char *s);

struct oauth1_param {
	const char *name;
	const char *value;
};

/*
 * The signature base string.  url may carry a query; form is the body when
 * it is application/x-www-form-urlencoded (else NULL); oauth holds the
 * oauth_* parameters without oauth_signature.  malloc'd, NULL on a bad URL.
 */
char *oauth1_base_string(const char *method, const char *url,
			 const char *form, const struct oauth1_param *oauth,
			 size_t noauth);

/* The RSA-SHA1 signature of base, base64.  malloc'd or NULL. */
char *oauth1_sign(EVP_PKEY *key, const char *base);

/* A private key from a PEM file (must be private to the user, as secrets
 * are).  NULL with the reason in errbuf. */
EVP_PKEY *oauth1_load_key(const char *path, char *errbuf, size_t errsize);

/* Write a new 2048-bit RSA key pair: the private key to path (mode 0600,
 * refusing to overwrite one), the public key PEM into *public_pem
 * (malloc'd).  0 or -errno with the reason in errbuf. */
int oauth1_keygen(const char *path, char **public_pem, char *errbuf,
		  size_t errsize);

/*
 * The Authorization header ("Authorization: OAuth ...") for one request,
 * signed by key as consumer_key, with token (NULL before one exists) and
 * extra oauth_* parameters (oauth_callback, oauth_verifier; may be NULL).
 * malloc'd or NULL.
 */
char *oauth1_authorization(EVP_PKEY *key, const char *consumer_key,
			   const char *token, const struct auth_request *req,
			   const struct oauth1_param *extra, size_t nextra);

/* Where the credentials and the default key live in a state directory.
 * malloc'd. */
char *oauth1_credentials_path(const char *state_dir);
char *oauth1_default_key_path(const char *state_dir);

#endif
