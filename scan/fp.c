/* fp.c - fingerprints and scope labels; see scan.h */
#include "scan/scan.h"

#include <openssl/evp.h>
#include <string.h>

/* sha256 over "jfs1" NUL part0 NUL part1 ..., the first `hex` digits into
 * out (NUL-terminated). */
static void digest(char *out, size_t hex, const char *const *parts, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char digits[] = "0123456789abcdef";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_DigestUpdate(ctx, "jfs1", 5);
		for (size_t i = 0; i < n; i++) {
			const char *p = parts[i] ? parts[i] : "";
			EVP_DigestUpdate(ctx, p, strlen(p) + 1);
		}
		EVP_DigestFinal_ex(ctx, md, &mdlen);
	}
	EVP_MD_CTX_free(ctx);
	if (mdlen < 32) /* out of memory: never a valid-looking value */
		memset(md, 0, sizeof(md));
	for (size_t i = 0; i < hex; i++)
		out[i] = digits[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[hex] = '\0';
}

void scan_fp(char out[SCAN_FP_SIZE], const char *const *parts, size_t n)
{
	size_t pre = sizeof(SCAN_FP_PREFIX) - 1;
	memcpy(out, SCAN_FP_PREFIX, pre);
	digest(out + pre, SCAN_FP_HEX, parts, n);
}

void scan_scope_label(char out[SCAN_SCOPE_SIZE], const char *scope)
{
	size_t pre = sizeof(SCAN_SCOPE_PREFIX) - 1;
	const char *parts[] = { "scope", scope };
	memcpy(out, SCAN_SCOPE_PREFIX, pre);
	digest(out + pre, SCAN_SCOPE_HEX, parts, 2);
}

void scan_content_hash(char out[SCAN_CONTENT_SIZE], const char *const *parts,
		       size_t n)
{
	digest(out, SCAN_CONTENT_SIZE - 1, parts, n);
}

bool scan_is_fp(const char *s)
{
	size_t pre = sizeof(SCAN_FP_PREFIX) - 1;
	if (!s || strncmp(s, SCAN_FP_PREFIX, pre) != 0 ||
	    strlen(s) != pre + SCAN_FP_HEX)
		return false;
	for (const char *p = s + pre; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}
