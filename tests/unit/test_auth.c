/* Unit tests: auth/ - secret files and the PAT and Basic methods. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "harness.h"
#include "jira/client.h"

static char *secret_file(const char *content, mode_t mode)
{
	char *path = strdup("/tmp/jirafs-unit-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, content, strlen(content)) < 0)
		return NULL;
	fchmod(fd, mode);
	close(fd);
	return path;
}

static char *header_of(struct auth *a)
{
	struct curl_slist *h = NULL;
	struct auth_request r = { "GET", "https://j/rest/api/2/myself", NULL,
				  NULL, 0 };
	if (auth_decorate(a, &r, &h))
		return NULL;
	char *s = strdup(h->data);
	curl_slist_free_all(h);
	return s;
}

TEST(secret_file_refused_when_others_can_read)
{
	char *p = secret_file("tok\n", 0644);
	char *s = NULL, err[256];
	CHECK_INT(auth_read_secret_file(p, &s, err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "chmod 600") != NULL);
	CHECK(s == NULL);
	chmod(p, 0600);
	CHECK_INT(auth_read_secret_file(p, &s, err, sizeof(err)), 0);
	CHECK_STR(s, "tok");
	auth_secret_free(s);
	unlink(p);
	free(p);
}

TEST(secret_file_missing_or_empty)
{
	char *s = NULL, err[256];
	CHECK(auth_read_secret_file("/nonexistent/x", &s, err, sizeof(err)) <
	      0);
	CHECK(strstr(err, "/nonexistent/x") != NULL);
	char *p = secret_file(" \n", 0600);
	CHECK_INT(auth_read_secret_file(p, &s, err, sizeof(err)), -EINVAL);
	unlink(p);
	free(p);
}

TEST(pat_method_sends_bearer)
{
	char *p = secret_file("s3cr3t-token\n", 0600);
	struct auth_config cfg = { .method = "pat", .token_file = p };
	struct auth *a = NULL;
	char err[256];
	CHECK_INT(auth_new(&cfg, "/nonexistent", &a, err, sizeof(err)), 0);
	CHECK_STR(auth_name(a), "pat");
	char *h = header_of(a);
	CHECK_STR(h, "Authorization: Bearer s3cr3t-token");
	free(h);
	auth_free(a);
	unlink(p);
	free(p);
}

TEST(client_names_its_auth_method_for_status)
{
	char *p = secret_file("tok\n", 0600);
	struct auth_config acfg = { .method = "pat", .token_file = p };
	struct jira_config jcfg = { .url = "http://127.0.0.1:9",
				    .max_connections = 1 };
	struct auth *a = NULL;
	struct jira_client *c = NULL;
	char err[256];
	CHECK_INT(auth_new(&acfg, "/nonexistent", &a, err, sizeof(err)), 0);
	CHECK_INT(jira_client_new(&jcfg, a, &c), 0);
	CHECK_STR(jira_client_auth_name(c), "pat");
	jira_client_free(c);
	CHECK_INT(jira_client_new(&jcfg, NULL, &c), 0);
	CHECK_STR(jira_client_auth_name(c), "none");
	jira_client_free(c);
	auth_free(a);
	unlink(p);
	free(p);
}

TEST(pat_from_environment)
{
	struct auth_config cfg = { 0 };
	struct auth *a = NULL;
	char err[256];
	setenv("JIRAFS_TOKEN", "envtok", 1);
	CHECK_INT(auth_new(&cfg, "/nonexistent", &a, err, sizeof(err)), 0);
	char *h = header_of(a);
	CHECK_STR(h, "Authorization: Bearer envtok");
	free(h);
	auth_free(a);
	unsetenv("JIRAFS_TOKEN");
	CHECK(auth_new(&cfg, "/nonexistent", &a, err, sizeof(err)) < 0);
	CHECK(strstr(err, "JIRAFS_TOKEN") != NULL);
}

TEST(basic_method_encodes_and_needs_tls)
{
	struct auth_config cfg = { .method = "basic", .user = "alice" };
	struct auth *a = NULL;
	char err[256];
	setenv("JIRAFS_PASSWORD", "alice-pass", 1);
	CHECK_INT(auth_new(&cfg, "/nonexistent", &a, err, sizeof(err)), 0);
	CHECK(a->needs_tls);
	char *h = header_of(a);
	CHECK_STR(h, "Authorization: Basic YWxpY2U6YWxpY2UtcGFzcw==");
	free(h);
	auth_free(a);
	unsetenv("JIRAFS_PASSWORD");
}

TEST(unknown_method_refused)
{
	struct auth_config cfg = { .method = "kerberos" };
	struct auth *a = NULL;
	char err[256];
	CHECK_INT(auth_new(&cfg, "/nonexistent", &a, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "kerberos") != NULL);
}
