/* attach.c - see attach.h */
#include "jira/attach.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jira/client_priv.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

/* How far Jira's clock may be behind ours when an upload's effect is
 * looked for (as for a comment). */
#define ATTACH_SKEW_MS 60000

/* ---- metadata ----------------------------------------------------------- */

static int by_id(const void *a, const void *b)
{
	const struct jira_attachment *x = a, *y = b;
	size_t lx = strlen(x->id), ly = strlen(y->id);
	if (lx != ly) /* numeric ids: the shorter is the smaller */
		return lx < ly ? -1 : 1;
	return strcmp(x->id, y->id);
}

void jira_attachments_free(struct jira_attachment *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].id);
		free(a[i].filename);
	}
	free(a);
}

/* One AttachmentJsonBean: 0, 1 (not one: skipped) or -ENOMEM. */
static int attachment_of(const cJSON *b, struct jira_attachment *out)
{
	const cJSON *id = json_item(b, "id"), *size = json_item(b, "size");
	const char *name = json_str(b, "filename");
	const char *created = json_str(b, "created");
	char idbuf[32];
	memset(out, 0, sizeof(*out));
	if (cJSON_IsNumber(id) && id->valuedouble >= 0)
		snprintf(idbuf, sizeof(idbuf), "%.0f", id->valuedouble);
	else if (cJSON_IsString(id) && id->valuestring[0] &&
		 strspn(id->valuestring, "0123456789") ==
			 strlen(id->valuestring) &&
		 strlen(id->valuestring) < sizeof(idbuf))
		snprintf(idbuf, sizeof(idbuf), "%s", id->valuestring);
	else
		return 1;
	if (!name)
		return 1;
	out->size = cJSON_IsNumber(size) && size->valuedouble >= 0
			    ? (int64_t)size->valuedouble
			    : -1;
	if (created)
		jira_time_parse(created, &out->created);
	out->id = strdup(idbuf);
	out->filename = strdup(name);
	if (!out->id || !out->filename) {
		free(out->id);
		free(out->filename);
		return -ENOMEM;
	}
	return 0;
}

/* The beans of list (an array of AttachmentJsonBean). */
static int attachments_from(const cJSON *list, struct jira_attachment **out,
			    size_t *n)
{
	*out = NULL;
	*n = 0;
	int count = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
	if (count <= 0)
		return 0;
	struct jira_attachment *a = calloc((size_t)count, sizeof(*a));
	if (!a)
		return -ENOMEM;
	size_t k = 0;
	const cJSON *b;
	cJSON_ArrayForEach(b, list) {
		int r = attachment_of(b, &a[k]);
		if (r < 0) {
			jira_attachments_free(a, k);
			return r;
		}
		if (r == 0)
			k++;
	}
	qsort(a, k, sizeof(*a), by_id);
	*out = a;
	*n = k;
	return 0;
}

int jira_attachments_of(const char *text, size_t len,
			struct jira_attachment **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	cJSON *j = cJSON_ParseWithLength(text, len);
	if (!j)
		return -EINVAL;
	int r = attachments_from(json_item(json_item(j, "fields"), "attachment"),
				 out, n);
	cJSON_Delete(j);
	return r;
}

enum jira_status jira_attach_meta(struct jira_client *c, deadline_t d,
				  bool *enabled, int64_t *limit,
				  struct jira_error *err)
{
	cJSON *j = NULL;
	enum jira_status st =
		jira_get_json(c, "/rest/api/2/attachment/meta", d, &j, err);
	if (st != JIRA_OK)
		return st;
	const cJSON *l = json_item(j, "uploadLimit");
	*enabled = !cJSON_IsFalse(json_item(j, "enabled"));
	*limit = cJSON_IsNumber(l) && l->valuedouble > 0
			 ? (int64_t)l->valuedouble
			 : 0;
	cJSON_Delete(j);
	return JIRA_OK;
}

enum jira_status jira_attach_allowed(struct jira_client *c, const char *key,
				     deadline_t d, bool *allowed,
				     struct jira_error *err)
{
	char path[256 + 96];
	cJSON *j = NULL;
	*allowed = true;
	if (!jira_key_valid(key))
		return jira_error_set(err, JIRA_ERR_NOT_FOUND,
				      "'%s' is not an issue key", key);
	snprintf(path, sizeof(path),
		 "/rest/api/2/mypermissions?issueKey=%s"
		 "&permissions=CREATE_ATTACHMENTS",
		 key);
	enum jira_status st = jira_get_json(c, path, d, &j, err);
	if (st != JIRA_OK)
		return st;
	const cJSON *p = json_item(json_item(j, "permissions"),
				   "CREATE_ATTACHMENTS");
	/* a Jira that does not know the key says nothing: let it decide */
	if (p)
		*allowed = cJSON_IsTrue(json_item(p, "havePermission"));
	cJSON_Delete(j);
	return JIRA_OK;
}

/* ---- download ----------------------------------------------------------- */

/* The path of a's content relative to the base URL, in the form of its
 * content URL (/secure/attachment/ID/NAME), built from the mount's URL: a
 * Jira behind a proxy may give its own base URL there. */
static int content_path(const struct jira_attachment *a, struct strbuf *out)
{
	/* Jira finds the file by its id; the name is for the browser, so
	 * it is made harmless for a URL path (no "/", no dot segment) */
	char name[256];
	snprintf(name, sizeof(name), "%s", a->filename);
	for (char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			*p = '_';
	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		snprintf(name, sizeof(name), "attachment");
	strbuf_addf(out, "/secure/attachment/%s/", a->id);
	return strbuf_add_urlencoded(out, name);
}

enum jira_status jira_attach_download(struct jira_client *c,
				      const struct jira_attachment *a, int fd,
				      deadline_t d, struct jira_error *err)
{
	struct jira_error local;
	struct strbuf path = STRBUF_INIT;
	enum jira_status st;
	if (!err)
		err = &local;
	if (content_path(a, &path))
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	for (int attempt = 0;; attempt++) {
		struct http_sink sink = { .fd = fd };
		struct http_req req = {
			.method = "GET",
			.path = strbuf_str(&path),
			.flags = HTTP_IDEMPOTENT,
			.sink = &sink,
		};
		struct http_response r;
		if (ftruncate(fd, 0)) {
			st = jira_error_set(err, JIRA_ERR_INTERNAL,
					    "cannot write the download: %s",
					    strerror(errno));
			break;
		}
		st = http_request(client_http(c), &req, d, &r, err);
		http_response_release(&r);
		if (sink.error) {
			st = jira_error_set(err, JIRA_ERR_INTERNAL,
					    "cannot write the download: %s",
					    strerror(sink.error));
			break;
		}
		if (st == JIRA_OK && a->size >= 0 && sink.written != a->size)
			st = jira_error_set(err, JIRA_ERR_BAD_RESPONSE,
					    "attachment %s: %lld bytes came, "
					    "Jira said %lld",
					    a->id, (long long)sink.written,
					    (long long)a->size);
		if (st == JIRA_OK || !jira_status_transient(st) ||
		    !client_retry(c, err, attempt, d))
			break;
		jlog_debug("retrying the download of attachment %s after: %s",
			   a->id, err->msg);
	}
	strbuf_release(&path);
	return st;
}

/* ---- upload ------------------------------------------------------------- */

/* Does name pass through a quoted multipart parameter (commons-fileupload's
 * ParameterParser, then a trim and RFC 2047 decoding) as it is? */
static bool plain_name(const char *name)
{
	size_t n = strlen(name);
	if (!n || name[0] == ' ' || name[n - 1] == ' ')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' ||
		    *p == '=' || *p == '?' || *p == ';')
			return false;
	return true;
}

char *jira_attach_wire_name(const char *name)
{
	if (plain_name(name))
		return strdup(name);
	size_t n = strlen(name);
	size_t cap = 4 * ((n + 2) / 3) + sizeof("=?UTF-8?B?" "?=");
	char *out = malloc(cap);
	if (!out)
		return NULL;
	memcpy(out, "=?UTF-8?B?", 10);
	int k = EVP_EncodeBlock((unsigned char *)out + 10,
				(const unsigned char *)name, (int)n);
	memcpy(out + 10 + k, "?=", 3);
	return out;
}

enum jira_status jira_attach_upload(struct jira_client *c, const char *key,
				    const char *name, int fd, off_t len,
				    const char *salt, deadline_t d,
				    struct jira_error *err)
{
	struct strbuf head = STRBUF_INIT, tail = STRBUF_INIT,
		      path = STRBUF_INIT;
	char ctype[128];
	char *wire = jira_attach_wire_name(name);
	snprintf(ctype, sizeof(ctype),
		 "multipart/form-data; boundary=jirafs-%.40s", salt);
	strbuf_addf(&head,
		    "--jirafs-%.40s\r\n"
		    "Content-Disposition: form-data; name=\"file\"; "
		    "filename=\"%s\"\r\n"
		    "Content-Type: application/octet-stream\r\n\r\n",
		    salt, wire ? wire : "");
	strbuf_addf(&tail, "\r\n--jirafs-%.40s--\r\n", salt);
	strbuf_addf(&path, "/rest/api/2/issue/%s/attachments", key);
	enum jira_status st;
	if (!wire || head.failed || tail.failed || path.failed) {
		st = jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	} else {
		struct http_file_body file = { fd, len, tail.buf, tail.len };
		struct http_req req = {
			.method = "POST",
			.path = strbuf_str(&path),
			.content_type = ctype,
			.body = head.buf,
			.body_len = head.len,
			.file = &file,
		};
		struct http_response r;
		st = http_request(client_http(c), &req, d, &r, err);
		/* Jira answers the beans made: none means the part was not
		 * taken as a file */
		if (st == JIRA_OK && (!r.body || !strstr(r.body, "\"id\"")))
			st = jira_error_set(err, JIRA_ERR_BAD_REQUEST,
					    "Jira made no attachment of %s "
					    "(it took no file from the upload)",
					    name);
		http_response_release(&r);
	}
	free(wire);
	strbuf_release(&head);
	strbuf_release(&tail);
	strbuf_release(&path);
	return st;
}

enum jira_status jira_attach_find(struct jira_client *c, const char *key,
				  const char *name, int64_t size,
				  int64_t since_ms, deadline_t d, bool *found,
				  struct jira_error *err)
{
	char path[256 + 64];
	cJSON *j = NULL;
	*found = false;
	snprintf(path, sizeof(path), "/rest/api/2/issue/%s?fields=attachment",
		 key);
	enum jira_status st = jira_get_json(c, path, d, &j, err);
	if (st != JIRA_OK)
		return st;
	struct jira_attachment *a;
	size_t n;
	if (attachments_from(json_item(json_item(j, "fields"), "attachment"),
			     &a, &n)) {
		cJSON_Delete(j);
		return jira_error_set(err, JIRA_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && !*found; i++) {
		int64_t at = (int64_t)a[i].created.tv_sec * 1000 +
			     a[i].created.tv_nsec / 1000000;
		*found = strcmp(a[i].filename, name) == 0 &&
			 a[i].size == size &&
			 (!a[i].created.tv_sec || at >= since_ms - ATTACH_SKEW_MS);
	}
	jira_attachments_free(a, n);
	cJSON_Delete(j);
	return JIRA_OK;
}
