/* Unit tests: the names of PROJECT/attachments/ (fs/node.c, fs/attach.c),
 * the metadata of a ticket file and the multipart file name (jira/attach.c),
 * and the attach record (jira/op.c). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fs/attach.h"
#include "fs/node.h"
#include "harness.h"
#include "jira/attach.h"
#include "jira/op.h"

TEST(attach_node_grammar)
{
	struct fs_node n;
	CHECK_INT(fs_node_parse("/SEC/attachments", &n), 0);
	CHECK_INT(n.kind, N_ATTACHMENTS);
	CHECK_STR(n.dir, "SEC/attachments");
	CHECK(fs_node_is_dir(&n) && fs_node_is_attach(&n));
	CHECK_INT(fs_node_parse("/SEC/attachments/SEC-12", &n), 0);
	CHECK_INT(n.kind, N_ATTACH_DIR);
	CHECK_STR(n.key, "SEC-12");
	CHECK_STR(n.dir, "SEC/attachments/SEC-12");
	CHECK_INT(fs_node_parse("/SEC/attachments/SEC-12/a b.png", &n), 0);
	CHECK_INT(n.kind, N_ATTACH_FILE);
	CHECK_STR(n.key, "SEC-12");
	CHECK_STR(n.name, "a b.png");
	CHECK(!fs_node_is_dir(&n));
	/* only keys of the project are directories there */
	const char *none[] = { "/SEC/attachments/OPS-1", "/SEC/attachments/x",
			       "/SEC/attachments/SEC-", "/SEC/attachments/SEC-1x",
			       "/SEC/attachments/SEC-1/a/b" };
	for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++) {
		CHECK_INT(fs_node_parse(none[i], &n), 0);
		CHECK_INT(n.kind, N_NONE);
	}
	/* a ticket name beside it is still a ticket */
	CHECK_INT(fs_node_parse("/SEC/closed/attachments", &n), 0);
	CHECK_INT(n.kind, N_ENTRY);
}

TEST(attach_safe_names)
{
	char out[NAME_LEN];
	static const char *const cases[][2] = {
		{ "shot.png", "shot.png" },   { "../x", ".._x" },
		{ "a/b", "a_b" },             { "a\nb", "a_b" },
		{ "del\x7f", "del_" },        { ".", "_." },
		{ "..", "_.." },              { "", "_" },
		{ "...", "..." },             { ".env", ".env" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		attach_safe_name(cases[i][0], out);
		CHECK_STR(out, cases[i][1]);
	}
	/* too long: cut at a character, the extension kept */
	char longname[400] = "";
	for (int i = 0; i < 150; i++)
		strcat(longname, "\xc3\xa9");
	strcat(longname, ".txt");
	attach_safe_name(longname, out);
	CHECK_INT(strlen(out), 254);
	CHECK(strcmp(out + 250, ".txt") == 0);
	CHECK((unsigned char)out[248] == 0xc3);
	longname[300] = '\0'; /* no extension: 150 characters */
	attach_safe_name(longname, out);
	CHECK_INT(strlen(out), 254);
}

TEST(attach_duplicate_names)
{
	char out[NAME_LEN];
	attach_dup_name("shot.png", "10003", 0, out);
	CHECK_STR(out, "shot (10003).png");
	attach_dup_name("notes", "7", 0, out);
	CHECK_STR(out, "notes (7)");
	attach_dup_name(".env", "7", 0, out);
	CHECK_STR(out, ".env (7)");
	char longname[NAME_LEN];
	memset(longname, 'a', 250);
	strcpy(longname + 250, ".log");
	attach_dup_name(longname, "123", 0, out);
	CHECK_INT(strlen(out), 255);
	CHECK(strcmp(out + 245, " (123).log") == 0);
	attach_dup_name(longname, "123", 1, out);
	CHECK_INT(strlen(out), 255);
	CHECK(strcmp(out + 243, " (123-2).log") == 0);
}

/* A name cut to 255 bytes, taken by an older attachment named like its
 * duplicate: every entry gets a name of its own (this looped for ever). */
TEST(attach_duplicates_of_cut_names_end)
{
	char a1[NAME_LEN + 64], a2[400], text[2048];
	memset(a1, 'A', 243);
	strcpy(a1 + 243, " (10003).png");
	memset(a2, 'A', 300);
	strcpy(a2 + 300, ".png");
	snprintf(text, sizeof(text),
		 "{\"key\": \"SEC-1\", \"fields\": {\"attachment\": ["
		 "{\"id\": \"10001\", \"filename\": \"%s\"},"
		 "{\"id\": \"10002\", \"filename\": \"%s\"},"
		 "{\"id\": \"10003\", \"filename\": \"%s\"}]}}",
		 a1, a2, a2);
	cJSON *bean = cJSON_Parse(text);
	struct jira_issue *i = NULL;
	char why[128];
	CHECK(bean);
	CHECK_INT(jira_issue_from_json(bean, &i, why, sizeof(why)), 0);
	cJSON_Delete(bean);
	CHECK_INT(i->attachments, 3);
	struct attach_dir d;
	CHECK_INT(attach_dir_of(i, &d), 0);
	CHECK_INT(d.n, 3);
	CHECK(strcmp(d.names[0], d.names[1]) && strcmp(d.names[1], d.names[2]) &&
	      strcmp(d.names[0], d.names[2]));
	CHECK_STR(d.names[0], a1);
	CHECK(strstr(d.names[2], " (10003-2).png"));
	for (size_t k = 0; k < 3; k++)
		CHECK(strlen(d.names[k]) <= 255);
	CHECK_INT(attach_dir_find(&d, d.names[2]), 2);
	attach_dir_release(&d);
	jira_issue_unref(i);
}

TEST(attach_metadata_of_a_ticket_file)
{
	const char *text =
		"{\"key\": \"SEC-1\", \"fields\": {\"attachment\": ["
		"{\"id\": \"10010\", \"filename\": \"b.txt\", \"size\": 5,"
		" \"created\": \"2026-10-09T00:12:00.000+0000\"},"
		"{\"id\": \"9999\", \"filename\": \"a.txt\", \"size\": 3},"
		"{\"filename\": \"no-id\"},"
		"{\"id\": \"10011\", \"filename\": \"b.txt\"}]}}";
	struct jira_attachment *a;
	size_t n;
	CHECK_INT(jira_attachments_of(text, strlen(text), &a, &n), 0);
	CHECK_INT(n, 3);
	/* id order, numerically */
	CHECK_STR(a[0].id, "9999");
	CHECK_STR(a[1].id, "10010");
	CHECK_INT(a[1].size, 5);
	CHECK(a[1].created.tv_sec > 0);
	CHECK_INT(a[2].size, -1);
	jira_attachments_free(a, n);
	CHECK_INT(jira_attachments_of("{", 1, &a, &n), -EINVAL);
}

TEST(attach_wire_names)
{
	static const char *const cases[][2] = {
		{ "report.pdf", "report.pdf" },
		{ "a b(1).png", "a b(1).png" },
		{ "a\nb", "=?UTF-8?B?YQpi?=" },
		{ "q\"", "=?UTF-8?B?cSI=?=" },
		{ "=?x?=", "=?UTF-8?B?PT94Pz0=?=" },
		{ " lead", "=?UTF-8?B?IGxlYWQ=?=" },
		{ "\xc3\xbc", "=?UTF-8?B?w7w=?=" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *w = jira_attach_wire_name(cases[i][0]);
		CHECK_STR(w, cases[i][1]);
		free(w);
	}
}

TEST(attach_record_round_trip)
{
	struct jira_op *op = jira_op_new(JIRA_OP_ATTACH, "SEC", "SEC-1",
					 "/state/up/SEC-1/x", 17);
	bool empty;
	CHECK(op);
	op->name = strdup("x\ny.png");
	op->size = 123456789012LL;
	CHECK_INT(jira_op_check(op, &empty, NULL), JIRA_OK);
	char *text = jira_op_serialize(op);
	struct jira_op *back = jira_op_parse(text, strlen(text));
	CHECK(back);
	CHECK_INT(back->kind, JIRA_OP_ATTACH);
	CHECK_STR(back->name, "x\ny.png");
	CHECK_STR(back->body, "/state/up/SEC-1/x");
	CHECK_INT(back->size, 123456789012LL);
	free(back->name);
	back->name = NULL;
	CHECK_INT(jira_op_check(back, &empty, NULL), JIRA_ERR_BAD_REQUEST);
	free(text);
	jira_op_free(back);
	jira_op_free(op);
}
