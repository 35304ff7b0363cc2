/* inode.c - the inode table; see inode.h. */
#include "fs/inode.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jira/issue.h"
#include "util/map.h"

#define INO_KEY_LEN 24

/* What the lookup decided about a name, kept small: with the names of
 * the inode and its ancestors it gives back the whole struct fs_node
 * without taking the name apart again (node_of). */
struct facts {
	unsigned char kind;   /* enum fs_node_kind */
	bool closed;
	bool ticket_name;
	bool key;             /* the name is "<key>.json" of its project */
};

struct lnode {
	fuse_ino_t ino;
	struct lnode *parent; /* NULL for the root */
	char *name;           /* NULL for the root */
	struct facts facts;   /* what the name is */
	uint64_t nlookup;     /* the kernel's references */
	unsigned children;    /* nodes whose parent this is */
	unsigned open;        /* open handles */
	bool hashed;          /* findable by (parent, name) */
};

struct inode_table {
	pthread_mutex_t lock; /* guards everything below and every lnode */
	struct map *by_ino;   /* "%x" -> lnode */
	struct map *by_name;  /* "%x/name" -> lnode */
	fuse_ino_t next_ino;
	struct lnode root;
	size_t count;
};

static void ino_key(char *buf, size_t size, fuse_ino_t ino)
{
	snprintf(buf, size, "%" PRIx64, (uint64_t)ino);
}

static char *name_key(fuse_ino_t parent, const char *name)
{
	size_t n = strlen(name) + INO_KEY_LEN;
	char *k = malloc(n);
	if (k)
		snprintf(k, n, "%" PRIx64 "/%s", (uint64_t)parent, name);
	return k;
}

struct inode_table *inode_table_new(void)
{
	struct inode_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->by_ino = map_new();
	t->by_name = map_new();
	if (!t->by_ino || !t->by_name) {
		map_free(t->by_ino);
		map_free(t->by_name);
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->next_ino = FUSE_ROOT_ID + 1;
	t->root.ino = FUSE_ROOT_ID;
	t->root.hashed = true;
	t->root.facts.kind = N_ROOT;
	return t;
}

void inode_table_free(struct inode_table *t)
{
	if (!t)
		return;
	struct map_iter it = map_iter_start(t->by_ino);
	while (map_iter_next(&it)) {
		struct lnode *n = it.value;
		free(n->name);
		free(n);
	}
	map_free(t->by_ino);
	map_free(t->by_name);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* With lock held. */
static struct lnode *by_ino(struct inode_table *t, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &t->root;
	char k[INO_KEY_LEN];
	ino_key(k, sizeof(k), ino);
	return map_get(t->by_ino, k);
}

/* With lock held. */
static struct lnode *child(struct inode_table *t, struct lnode *parent,
			   const char *name)
{
	char *k = name_key(parent->ino, name);
	struct lnode *n = k ? map_get(t->by_name, k) : NULL;
	free(k);
	return n;
}

/* With lock held. */
static void unhash(struct inode_table *t, struct lnode *n)
{
	if (!n->hashed)
		return;
	char *k = name_key(n->parent->ino, n->name);
	if (k)
		map_del(t->by_name, k);
	free(k);
	n->hashed = false;
}

/* With lock held: (re)hash n as name in parent.  0 or -ENOMEM. */
static int hash(struct inode_table *t, struct lnode *n, struct lnode *parent,
		const char *name)
{
	char *nm = strdup(name);
	char *k = name_key(parent->ino, name);
	if (!nm || !k || map_put(t->by_name, k, n, NULL)) {
		free(nm);
		free(k);
		return -ENOMEM;
	}
	free(k);
	if (n->parent != parent) {
		if (n->parent)
			n->parent->children--;
		parent->children++;
		n->parent = parent;
	}
	free(n->name);
	n->name = nm;
	n->hashed = true;
	return 0;
}

/* With lock held: free n (and parents left unused) once nothing refers
 * to it. */
static void maybe_free(struct inode_table *t, struct lnode *n)
{
	while (n && n != &t->root && !n->nlookup && !n->children &&
	       !n->open) {
		struct lnode *parent = n->parent;
		unhash(t, n);
		char k[INO_KEY_LEN];
		ino_key(k, sizeof(k), n->ino);
		map_del(t->by_ino, k);
		parent->children--;
		t->count--;
		free(n->name);
		free(n);
		n = parent;
	}
}

static struct facts facts_of(const struct fs_node *n)
{
	struct facts f = { (unsigned char)n->kind, n->closed, n->ticket_name,
			   n->key[0] != '\0' };
	return f;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* With lock held: the node of n, from its facts and the names on its way
 * up (a project is the name just below the root). */
static void node_of(struct inode_table *t, const struct lnode *n,
		    struct fs_node *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = (enum fs_node_kind)n->facts.kind;
	out->closed = n->facts.closed;
	out->ticket_name = n->facts.ticket_name;
	const struct lnode *top = n;
	while (top->parent && top->parent != &t->root)
		top = top->parent;
	switch (out->kind) {
	case N_ENTRY:
		copy(out->name, sizeof(out->name), n->name);
		if (n->facts.key) {
			size_t len = strlen(out->name) - strlen(TICKET_SUFFIX);
			memcpy(out->key, out->name, len);
			out->key[len] = '\0';
		}
		/* fall through */
	case N_PROJECT:
	case N_CLOSED:
		copy(out->project, sizeof(out->project), top->name);
		fs_dir_name(out->dir, sizeof(out->dir), out->project,
			    out->closed);
		break;
	case N_SCAN_FILE:
		copy(out->name, sizeof(out->name), n->name);
		/* fall through */
	case N_SCANS:
		copy(out->project, sizeof(out->project), top->name);
		snprintf(out->dir, sizeof(out->dir), "%s/" SCANS_DIR,
			 out->project);
		break;
	case N_QUERY_LINK:
		copy(out->dir, sizeof(out->dir), n->parent->name);
		copy(out->name, sizeof(out->name), n->name);
		break;
	case N_ATTACHMENTS:
		copy(out->project, sizeof(out->project), top->name);
		snprintf(out->dir, sizeof(out->dir), "%s/" ATTACH_DIR,
			 out->project);
		break;
	case N_ATTACH_FILE:
		copy(out->name, sizeof(out->name), n->name);
		n = n->parent; /* the rest is the directory's */
		/* fall through */
	case N_ATTACH_DIR:
		copy(out->project, sizeof(out->project), top->name);
		copy(out->key, sizeof(out->key), n->name);
		if (snprintf(out->dir, sizeof(out->dir), "%s/" ATTACH_DIR "/%s",
			     out->project, out->key) >= (int)sizeof(out->dir))
			out->dir[0] = '\0'; /* no such key is that long */
		break;
	case N_CTL_FILE:
	case N_CTL_OUTBOX:
	case N_CTL_OUTBOX_FILE:
	case N_CTL_INNER:
	case N_TOP_ENTRY:
	case N_QUERY_FILE:
	case N_QUERY_DIR:
		copy(out->name, sizeof(out->name), n->name);
		break;
	default:
		break;
	}
}

int inode_node(struct inode_table *t, fuse_ino_t ino, struct fs_node *out,
	       bool *hashed)
{
	pthread_mutex_lock(&t->lock);
	struct lnode *n = by_ino(t, ino);
	if (n)
		node_of(t, n, out);
	if (hashed)
		*hashed = n && n->hashed;
	pthread_mutex_unlock(&t->lock);
	return n ? 0 : -ENOENT;
}

int inode_child_node(struct inode_table *t, fuse_ino_t parent,
		     const char *name, struct fs_node *out)
{
	struct fs_node p;
	int ret = inode_node(t, parent, &p, NULL);
	return ret ? ret : fs_node_child(&p, name, out);
}

int inode_lookup(struct inode_table *t, fuse_ino_t parent, const char *name,
		 const struct fs_node *node, fuse_ino_t *ino)
{
	int ret = 0;
	pthread_mutex_lock(&t->lock);
	struct lnode *p = by_ino(t, parent);
	struct lnode *n = p ? child(t, p, name) : NULL;
	if (!p) {
		ret = -ENOENT;
	} else if (!n) {
		char k[INO_KEY_LEN];
		n = calloc(1, sizeof(*n));
		if (n) {
			n->ino = t->next_ino++;
			ino_key(k, sizeof(k), n->ino);
		}
		if (!n || map_put(t->by_ino, k, n, NULL)) {
			free(n);
			n = NULL;
			ret = -ENOMEM;
		} else if (hash(t, n, p, name)) {
			map_del(t->by_ino, k);
			free(n);
			n = NULL;
			ret = -ENOMEM;
		} else {
			t->count++;
		}
	}
	if (n) {
		n->facts = facts_of(node);
		n->nlookup++;
		*ino = n->ino;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void inode_forget(struct inode_table *t, fuse_ino_t ino, uint64_t nlookup)
{
	pthread_mutex_lock(&t->lock);
	struct lnode *n = by_ino(t, ino);
	if (n && n != &t->root) {
		n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
		maybe_free(t, n);
	}
	pthread_mutex_unlock(&t->lock);
}

void inode_open(struct inode_table *t, fuse_ino_t ino, int delta)
{
	pthread_mutex_lock(&t->lock);
	struct lnode *n = by_ino(t, ino);
	if (n && n != &t->root) {
		n->open += (unsigned)delta;
		if (delta < 0)
			maybe_free(t, n);
	}
	pthread_mutex_unlock(&t->lock);
}

void inode_unhash(struct inode_table *t, fuse_ino_t parent, const char *name)
{
	pthread_mutex_lock(&t->lock);
	struct lnode *p = by_ino(t, parent);
	struct lnode *n = p ? child(t, p, name) : NULL;
	if (n)
		unhash(t, n);
	pthread_mutex_unlock(&t->lock);
}

int inode_rename(struct inode_table *t, fuse_ino_t parent, const char *name,
		 fuse_ino_t newparent, const char *newname)
{
	int ret = 0;
	pthread_mutex_lock(&t->lock);
	struct lnode *p = by_ino(t, parent);
	struct lnode *np = by_ino(t, newparent);
	struct lnode *n = p ? child(t, p, name) : NULL;
	struct lnode *target = np ? child(t, np, newname) : NULL;
	if (target && target != n)
		unhash(t, target);
	if (n && np) {
		unhash(t, n);
		struct fs_node pnode, node;
		node_of(t, np, &pnode);
		if (fs_node_child(&pnode, newname, &node) ||
		    hash(t, n, np, newname))
			ret = -ENOMEM;
		else
			n->facts = facts_of(&node);
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

size_t inode_ticket_names(struct inode_table *t, const char *key,
			  struct inode_name out[2])
{
	char project[NAME_LEN], name[NAME_LEN];
	size_t k = 0;
	if (!jira_key_project(key, project, sizeof(project)))
		return 0;
	fs_ticket_name(name, sizeof(name), key);
	pthread_mutex_lock(&t->lock);
	struct lnode *p = child(t, &t->root, project);
	struct lnode *dirs[2] = { p, p ? child(t, p, CLOSED_DIR) : NULL };
	for (int i = 0; i < 2; i++) {
		struct lnode *n = dirs[i] ? child(t, dirs[i], name) : NULL;
		if (!n)
			continue;
		out[k].parent = dirs[i]->ino;
		out[k].ino = n->ino;
		snprintf(out[k].name, sizeof(out[k].name), "%s", name);
		k++;
	}
	pthread_mutex_unlock(&t->lock);
	return k;
}

size_t inode_count(struct inode_table *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
