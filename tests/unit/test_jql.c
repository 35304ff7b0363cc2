/* Unit tests: JQL building. */
#include <stdlib.h>

#include "harness.h"
#include "jira/client.h"

TEST(jql_quote_escapes)
{
	char *q = jql_quote("a \"b\" c\\d\ne");
	CHECK_STR(q, "\"a \\\"b\\\" c\\\\d e\"");
	free(q);
}

TEST(jql_project_listing_query)
{
	char *q = jql_project_all("SEC");
	CHECK_STR(q, "project = \"SEC\" ORDER BY key ASC");
	free(q);
}

TEST(url_check)
{
	char err[256];
	CHECK_INT(jira_url_check("https://jira.example.com", err, sizeof(err)),
		  0);
	CHECK_INT(jira_url_check("http://127.0.0.1:8080/jira", err,
				 sizeof(err)),
		  0);
	CHECK(jira_url_check("ftp://jira", err, sizeof(err)) < 0);
	CHECK(strstr(err, "https://") != NULL);
	CHECK(jira_url_check("https://jira/?x=1", err, sizeof(err)) < 0);
	CHECK(jira_url_check("not a url", err, sizeof(err)) < 0);
	/* a secret in the URL would show in ps and /proc/mounts */
	CHECK(jira_url_check("https://bot:s3cret@jira.example.com", err,
			     sizeof(err)) < 0);
	CHECK(strstr(err, "password_file=") != NULL && !strstr(err, "s3cret"));
}
