/* Unit tests: fs/node.c (the name grammar) and fs/inode.c (the inode
 * table), without a mount. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fs/inode.h"
#include "fs/node.h"
#include "harness.h"

static struct fs_node at(const char *path)
{
	struct fs_node n;
	memset(&n, 0x5a, sizeof(n));
	if (fs_node_parse(path, &n))
		n.kind = (enum fs_node_kind)-1;
	return n;
}

TEST(node_root_and_control_names)
{
	struct fs_node n = at("/");
	CHECK_INT(n.kind, N_ROOT);
	CHECK_INT(at("/.jirafs").kind, N_CTL_DIR);
	n = at("/.jirafs/status");
	CHECK_INT(n.kind, N_CTL_FILE);
	CHECK_STR(n.name, "status");
	CHECK_INT(at("/.jirafs/log").kind, N_CTL_FILE);
	CHECK_INT(at("/.jirafs/outbox").kind, N_CTL_OUTBOX);
	n = at("/.jirafs/outbox/0000000000000001-abc.json");
	CHECK_INT(n.kind, N_CTL_OUTBOX_FILE);
	CHECK_STR(n.name, "0000000000000001-abc.json");
	CHECK_INT(at("/.jirafs/other").kind, N_CTL_INNER);
	CHECK_INT(at("/.jirafs/status/x").kind, N_NONE);
	CHECK_INT(at("/.jirafs/outbox/a/b").kind, N_NONE);
	CHECK_INT(at("/.jirafs/other/x").kind, N_NONE);
}

TEST(node_scans_directory_and_its_files)
{
	struct fs_node n = at("/SEC/scans");
	CHECK_INT(n.kind, N_SCANS);
	CHECK_STR(n.project, "SEC");
	CHECK_STR(n.dir, "SEC/scans");
	CHECK(fs_node_is_dir(&n));
	/* any name in it is a report or a result, ticket-like or not */
	const char *names[] = { "web-01.sarif", "SEC-1.json", ".x.tmp",
				"a b~", "r.result.json" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/SEC/scans/%s", names[i]);
		n = at(path);
		CHECK_INT(n.kind, N_SCAN_FILE);
		CHECK_STR(n.project, "SEC");
		CHECK_STR(n.dir, "SEC/scans");
		CHECK_STR(n.name, names[i]);
		CHECK(!n.ticket_name && !n.key[0]);
	}
	CHECK_INT(at("/SEC/scans/x/y").kind, N_NONE);
	/* only the project's own: closed/scans is an entry of closed/ */
	CHECK_INT(at("/SEC/closed/scans").kind, N_ENTRY);
}

TEST(node_projects_and_top_entries)
{
	struct fs_node n = at("/SEC");
	CHECK_INT(n.kind, N_PROJECT);
	CHECK_STR(n.project, "SEC");
	CHECK_STR(n.dir, "SEC");
	CHECK(!n.closed);
	n = at("/SEC/closed");
	CHECK_INT(n.kind, N_CLOSED);
	CHECK_STR(n.dir, "SEC/closed");
	CHECK(n.closed);
	/* not project keys: lower case, a leading digit, a dash, dots */
	const char *tops[] = { "sec", "1SEC", "SEC-1", ".hidden", "a b",
			       "ÉTÉ", "SEC.json" };
	for (size_t i = 0; i < sizeof(tops) / sizeof(*tops); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/%s", tops[i]);
		n = at(path);
		CHECK_INT(n.kind, N_TOP_ENTRY);
		CHECK_STR(n.name, tops[i]);
		snprintf(path, sizeof(path), "/%s/x.json", tops[i]);
		CHECK_INT(at(path).kind, N_NONE);
	}
	CHECK_INT(at("/A_1").kind, N_PROJECT);
	CHECK_INT(at("//SEC//closed//").kind, N_CLOSED);
}

TEST(node_ticket_names_and_keys)
{
	struct fs_node n = at("/SEC/SEC-12.json");
	CHECK_INT(n.kind, N_ENTRY);
	CHECK(n.ticket_name);
	CHECK_STR(n.key, "SEC-12");
	CHECK_STR(n.dir, "SEC");
	CHECK_STR(n.name, "SEC-12.json");
	n = at("/SEC/closed/SEC-3.json");
	CHECK(n.closed);
	CHECK_STR(n.dir, "SEC/closed");
	CHECK_STR(n.key, "SEC-3");
	/* ticket names that name no ticket of this project */
	const char *drafts[] = { "OPS-1.json", "SEC-012.json", "SEC-0.json",
				 "SEC-.json", "new.json", "SEC-1x.json",
				 "SECX-1.json", "SEC-1-2.json" };
	for (size_t i = 0; i < sizeof(drafts) / sizeof(*drafts); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/SEC/%s", drafts[i]);
		n = at(path);
		CHECK_INT(n.kind, N_ENTRY);
		CHECK(n.ticket_name);
		CHECK_STR(n.key, "");
	}
	/* scratch names: not "*.json", or hidden */
	const char *scratch[] = { ".SEC-1.json.swp", ".SEC-1.json", "4913",
				  "SEC-1.json~", "SEC-1.json.tmp", ".json",
				  "SEC-1.JSON", "closedx" };
	for (size_t i = 0; i < sizeof(scratch) / sizeof(*scratch); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/SEC/%s", scratch[i]);
		n = at(path);
		CHECK_INT(n.kind, N_ENTRY);
		CHECK(!n.ticket_name);
		CHECK_STR(n.key, "");
	}
	/* closed/ inside closed/ is a name like any other */
	n = at("/SEC/closed/closed");
	CHECK_INT(n.kind, N_ENTRY);
	CHECK_INT(at("/SEC/SEC-1.json/x").kind, N_NONE);
	CHECK_INT(at("/SEC/closed/a/b").kind, N_NONE);
}

TEST(node_hostile_names)
{
	char name[NAME_LEN + 8], path[NAME_LEN + 32];
	struct fs_node p, n;
	CHECK_INT(fs_node_parse("/SEC", &p), 0);
	memset(name, 'a', NAME_LEN - 1);
	name[NAME_LEN - 1] = '\0';
	CHECK_INT(fs_node_child(&p, name, &n), 0); /* 255 bytes */
	CHECK_INT(strlen(n.name), NAME_LEN - 1);
	name[NAME_LEN - 1] = 'a';
	name[NAME_LEN] = '\0';
	CHECK_INT(fs_node_child(&p, name, &n), -ENAMETOOLONG);
	snprintf(path, sizeof(path), "/SEC/%s", name);
	CHECK_INT(fs_node_parse(path, &n), -ENAMETOOLONG);
	/* bytes a shell or a scanner may write */
	const char *odd[] = { "a\nb.json", "a\tb", "\xff\xfe.json", "é.json",
			      "$(rm -rf).json", "' OR 1=1.json", "%00.json",
			      "-.json" };
	for (size_t i = 0; i < sizeof(odd) / sizeof(*odd); i++) {
		CHECK_INT(fs_node_child(&p, odd[i], &n), 0);
		CHECK_INT(n.kind, N_ENTRY);
		CHECK_STR(n.name, odd[i]);
		CHECK_STR(n.key, "");
	}
	/* a project key at the length limit: its tickets' names do not
	 * fit a name, and say so */
	char key[NAME_LEN];
	memset(key, 'K', NAME_LEN - 1);
	key[NAME_LEN - 1] = '\0';
	struct fs_node root, big;
	fs_node_root(&root);
	CHECK_INT(fs_node_child(&root, key, &big), 0);
	CHECK_INT(big.kind, N_PROJECT);
	char tn[NAME_LEN];
	char tkey[NAME_LEN + 8];
	snprintf(tkey, sizeof(tkey), "%s-1", key);
	fs_ticket_name(tn, sizeof(tn), tkey);
	CHECK_STR(tn, "");
}

TEST(node_a_child_may_be_its_parent)
{
	struct fs_node n;
	fs_node_root(&n);
	CHECK_INT(fs_node_child(&n, "SEC", &n), 0);
	CHECK_INT(fs_node_child(&n, "closed", &n), 0);
	CHECK_INT(fs_node_child(&n, "SEC-9.json", &n), 0);
	CHECK_INT(n.kind, N_ENTRY);
	CHECK_STR(n.key, "SEC-9");
	CHECK(n.closed);
}

TEST(node_strings_are_built_in_one_place)
{
	char buf[SUBJECT_LEN];
	fs_dir_name(buf, sizeof(buf), "SEC", false);
	CHECK_STR(buf, "SEC");
	fs_dir_name(buf, sizeof(buf), "SEC", true);
	CHECK_STR(buf, "SEC/closed");
	fs_ticket_name(buf, sizeof(buf), "SEC-1");
	CHECK_STR(buf, "SEC-1.json");
	fs_create_subject(buf, sizeof(buf), "SEC", true, "new.json");
	CHECK_STR(buf, "new:SEC/closed/new.json");

	struct fs_node n, t;
	CHECK_INT(fs_node_at("SEC/closed", "x.json", &n), 0);
	CHECK_INT(n.kind, N_ENTRY);
	CHECK(n.closed);
	fs_node_path(&n, buf, sizeof(buf));
	CHECK_STR(buf, "SEC/closed/x.json");
	CHECK_INT(fs_node_at("nope", "x.json", &n), -ENOENT);
	CHECK_INT(fs_node_at(".jirafs", "status", &n), -ENOENT);

	/* the node of a ticket is the node its name parses to */
	fs_node_ticket("SEC", "SEC-4", true, &t);
	n = at("/SEC/closed/SEC-4.json");
	CHECK_INT(t.kind, n.kind);
	CHECK_STR(t.dir, n.dir);
	CHECK_STR(t.name, n.name);
	CHECK_STR(t.key, n.key);
	CHECK(t.closed == n.closed && t.ticket_name == n.ticket_name);
}

/* ---- the inode table ---------------------------------------------------- */

static fuse_ino_t look(struct inode_table *t, fuse_ino_t parent,
		       const char *name)
{
	struct fs_node n;
	fuse_ino_t ino = 0;
	if (inode_child_node(t, parent, name, &n) ||
	    inode_lookup(t, parent, name, &n, &ino))
		return 0;
	return ino;
}

TEST(inode_lookup_counts_and_forget_frees)
{
	struct inode_table *t = inode_table_new();
	CHECK(t != NULL);
	fuse_ino_t sec = look(t, FUSE_ROOT_ID, "SEC");
	CHECK(sec != 0 && sec != FUSE_ROOT_ID);
	CHECK(look(t, FUSE_ROOT_ID, "SEC") == sec); /* nlookup 2 */
	fuse_ino_t f = look(t, sec, "SEC-1.json");
	CHECK(f != 0 && f != sec);
	CHECK_INT(inode_count(t), 2);

	struct fs_node n;
	bool hashed = false;
	CHECK_INT(inode_node(t, f, &n, &hashed), 0);
	CHECK(hashed);
	CHECK_INT(n.kind, N_ENTRY);
	CHECK_STR(n.key, "SEC-1");

	/* the project lives while a child does, whatever its count */
	inode_forget(t, sec, 2);
	CHECK_INT(inode_node(t, sec, &n, NULL), 0);
	inode_forget(t, f, 1);
	CHECK_INT(inode_node(t, f, &n, NULL), -ENOENT);
	CHECK_INT(inode_node(t, sec, &n, NULL), -ENOENT);
	CHECK_INT(inode_count(t), 0);
	CHECK_INT(inode_node(t, FUSE_ROOT_ID, &n, NULL), 0);
	CHECK_INT(n.kind, N_ROOT);
	inode_forget(t, FUSE_ROOT_ID, 5); /* the root never goes */
	CHECK_INT(inode_node(t, FUSE_ROOT_ID, &n, NULL), 0);
	/* more forgets than lookups: no underflow */
	fuse_ino_t x = look(t, FUSE_ROOT_ID, "X");
	inode_forget(t, x, 10);
	CHECK_INT(inode_count(t), 0);
	inode_table_free(t);
}

TEST(inode_unknown_parent_and_long_names)
{
	struct inode_table *t = inode_table_new();
	struct fs_node n;
	fuse_ino_t ino;
	fs_node_root(&n);
	CHECK_INT(inode_child_node(t, 12345, "x", &n), -ENOENT);
	CHECK_INT(inode_lookup(t, 12345, "x", &n, &ino), -ENOENT);
	char name[NAME_LEN + 1];
	memset(name, 'a', NAME_LEN);
	name[NAME_LEN] = '\0';
	CHECK_INT(inode_child_node(t, FUSE_ROOT_ID, name, &n), -ENAMETOOLONG);
	inode_table_free(t);
}

TEST(inode_open_file_outlives_its_name)
{
	struct inode_table *t = inode_table_new();
	fuse_ino_t sec = look(t, FUSE_ROOT_ID, "SEC");
	fuse_ino_t f = look(t, sec, "draft.json");
	inode_open(t, f, 1);
	inode_unhash(t, sec, "draft.json");
	inode_forget(t, f, 1);
	struct fs_node n;
	bool hashed = true;
	CHECK_INT(inode_node(t, f, &n, &hashed), 0);
	CHECK(!hashed);
	CHECK_STR(n.name, "draft.json");
	/* the name leads to a new inode now */
	fuse_ino_t g = look(t, sec, "draft.json");
	CHECK(g != 0 && g != f);
	inode_open(t, f, -1);
	CHECK_INT(inode_node(t, f, &n, NULL), -ENOENT);
	CHECK_INT(inode_node(t, g, &n, &hashed), 0);
	CHECK(hashed);
	inode_table_free(t);
}

TEST(inode_rename_rederives_the_node)
{
	struct inode_table *t = inode_table_new();
	fuse_ino_t sec = look(t, FUSE_ROOT_ID, "SEC");
	fuse_ino_t closed = look(t, sec, "closed");
	fuse_ino_t f = look(t, sec, "SEC-5.json");
	fuse_ino_t old = look(t, closed, "SEC-5.json");
	CHECK_INT(inode_rename(t, sec, "SEC-5.json", closed, "SEC-5.json"), 0);
	struct fs_node n;
	bool hashed;
	CHECK_INT(inode_node(t, f, &n, &hashed), 0);
	CHECK(hashed);
	CHECK(n.closed);
	CHECK_STR(n.dir, "SEC/closed");
	CHECK_STR(n.key, "SEC-5");
	/* what the new name named before is unhashed */
	CHECK_INT(inode_node(t, old, &n, &hashed), 0);
	CHECK(!hashed);
	CHECK(look(t, closed, "SEC-5.json") == f);
	/* a scratch file renamed to a ticket name becomes one */
	fuse_ino_t s = look(t, sec, ".x.swp");
	CHECK_INT(inode_rename(t, sec, ".x.swp", sec, "new.json"), 0);
	CHECK_INT(inode_node(t, s, &n, NULL), 0);
	CHECK(n.ticket_name);
	CHECK_STR(n.name, "new.json");
	CHECK(look(t, sec, ".x.swp") != s);
	inode_table_free(t);
}

TEST(inode_ticket_names_finds_both_directories)
{
	struct inode_table *t = inode_table_new();
	struct inode_name in[2];
	CHECK_INT(inode_ticket_names(t, "SEC-1", in), 0);
	fuse_ino_t sec = look(t, FUSE_ROOT_ID, "SEC");
	fuse_ino_t f = look(t, sec, "SEC-1.json");
	CHECK_INT(inode_ticket_names(t, "SEC-1", in), 1);
	CHECK(in[0].parent == sec && in[0].ino == f);
	CHECK_STR(in[0].name, "SEC-1.json");
	fuse_ino_t closed = look(t, sec, "closed");
	fuse_ino_t g = look(t, closed, "SEC-1.json");
	CHECK_INT(inode_ticket_names(t, "SEC-1", in), 2);
	CHECK(in[1].parent == closed && in[1].ino == g);
	CHECK_INT(inode_ticket_names(t, "OPS-1", in), 0);
	CHECK_INT(inode_ticket_names(t, "nodash", in), 0);
	inode_table_free(t);
}

/* What an inode gives back is exactly what the lookup parsed, for every
 * kind of name, at every depth. */
static bool same_node(const struct fs_node *a, const struct fs_node *b)
{
	return a->kind == b->kind && a->closed == b->closed &&
	       a->ticket_name == b->ticket_name &&
	       strcmp(a->project, b->project) == 0 &&
	       strcmp(a->dir, b->dir) == 0 && strcmp(a->name, b->name) == 0 &&
	       strcmp(a->key, b->key) == 0;
}

TEST(inode_gives_back_the_node_of_the_lookup)
{
	static const char *const paths[][4] = {
		{ ".jirafs" }, { ".jirafs", "status" }, { ".jirafs", "log" },
		{ ".jirafs", "outbox" }, { ".jirafs", "outbox", "1-a.json" },
		{ ".jirafs", "other" }, { ".jirafs", "status", "x" },
		{ "SEC" }, { "SEC", "closed" }, { "SEC", "SEC-1.json" },
		{ "SEC", "closed", "SEC-22.json" }, { "SEC", "new.json" },
		{ "SEC", ".x.swp" }, { "SEC", "OPS-1.json" },
		{ "SEC", "closed", "closed" }, { "SEC", "SEC-1.json", "deeper" },
		{ "lower" }, { "lower", "x" }, { "A_9", "A_9-7.json" },
		{ "SEC", "scans" }, { "SEC", "scans", "web-01.sarif" },
		{ "SEC", "scans", "x.result.json" },
		{ "SEC", "scans", "x", "deeper" },
	};
	struct inode_table *t = inode_table_new();
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		fuse_ino_t parent = FUSE_ROOT_ID;
		struct fs_node want, got;
		fs_node_root(&want);
		for (size_t k = 0; k < 4 && paths[i][k]; k++) {
			CHECK_INT(fs_node_child(&want, paths[i][k], &want), 0);
			fuse_ino_t ino;
			CHECK_INT(inode_lookup(t, parent, paths[i][k], &want,
					       &ino),
				  0);
			CHECK_INT(inode_node(t, ino, &got, NULL), 0);
			if (!same_node(&want, &got))
				FAIL_("%s (depth %zu): kind %d/%d dir '%s'/'%s' "
				      "name '%s'/'%s' key '%s'/'%s'",
				      paths[i][0], k, want.kind, got.kind,
				      want.dir, got.dir, want.name, got.name,
				      want.key, got.key);
			parent = ino;
		}
	}
	inode_table_free(t);
}
