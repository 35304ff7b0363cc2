/* issue.c - see issue.h: IssueBean -> ticket file (CONTRACT §3). */
#include "jira/issue.h"
#include "jira/issue_text.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/blob.h"
#include "util/json.h"
#include "util/strbuf.h"

/* A scratch text buffer larger than this is not kept for the next ticket. */
#define SCRATCH_TEXT_KEEP ((size_t)1 << 20)

bool jira_project_key_valid(const char *key)
{
	if (!key || !(key[0] >= 'A' && key[0] <= 'Z'))
		return false;
	size_t n = 1;
	for (; key[n]; n++)
		if (!((key[n] >= 'A' && key[n] <= 'Z') ||
		      (key[n] >= '0' && key[n] <= '9') || key[n] == '_'))
			return false;
	return n <= 255;
}

const char *jira_key_project(const char *key, char *buf, size_t size)
{
	const char *dash = strrchr(key, '-');
	if (size)
		buf[0] = '\0';
	if (!dash || dash == key || (size_t)(dash - key) >= size)
		return NULL;
	memcpy(buf, key, (size_t)(dash - key));
	buf[dash - key] = '\0';
	return buf;
}

bool jira_key_valid(const char *key)
{
	char proj[256];
	if (!key || !jira_key_project(key, proj, sizeof(proj)) ||
	    !jira_project_key_valid(proj))
		return false;
	const char *num = key + strlen(proj) + 1;
	if (!*num || *num == '0' || strlen(num) > 18)
		return false;
	for (const char *p = num; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), as timegm() counts
 * them, which it costs a call to mktime's normalisation to find (every
 * ticket has two dates): linear in d, so that a 31st of a short month
 * counts into the next, as with timegm(). */
static long long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int jira_time_parse(const char *s, struct timespec *out)
{
	int y, mo, d, h, mi, sec, ms = 0;
	const char *p = s;

	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d) || *p++ != 'T' ||
	    digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		p++;
		int n = 0, v = 0;
		while (isdigit((unsigned char)*p)) {
			if (n < 3)
				v = v * 10 + (*p - '0');
			n++;
			p++;
		}
		if (!n)
			return -EINVAL;
		for (; n < 3; n++)
			v *= 10;
		ms = v;
	}
	long off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh))
			return -EINVAL;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om))
			return -EINVAL;
		off = sign * (oh * 3600L + om * 60L);
	} else {
		return -EINVAL;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -EINVAL;
	out->tv_sec = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600L +
			       mi * 60L + sec) - off;
	out->tv_nsec = ms * 1000000L;
	return 0;
}

/* ---- the ticket's tree ------------------------------------------------ */

/*
 * The §3 object of a bean is a cJSON tree whose nodes live in the
 * scratch's arena and whose strings and values are the bean's own (nothing
 * is copied or freed one by one): json_pretty() reads it as it reads any.
 */

/* Fields shown under their own names; everything else non-null goes under
 * "fields". */
enum {
	F_PROJECT, F_ISSUETYPE, F_SUMMARY, F_DESCRIPTION, F_STATUS,
	F_RESOLUTION, F_PRIORITY, F_LABELS, F_COMPONENTS, F_ASSIGNEE,
	F_REPORTER, F_CREATED, F_UPDATED, F_COMMENT, F_MAPPED
};
static const char *const mapped_fields[F_MAPPED] = {
	"project", "issuetype", "summary", "description", "status",
	"resolution", "priority", "labels", "components", "assignee",
	"reporter", "created", "updated", "comment",
};

/* The fields of mapped_fields by first letter (index + 1, at most three a
 * letter): each of a bean's fields is looked up, most of them in vain
 * (customfield_NNNNN, timespent...), and a letter turns them away. */
#define FIRST(c) [(c) - 'a']
static const unsigned char by_first[26][3] = {
	FIRST('a') = { F_ASSIGNEE + 1 },
	FIRST('c') = { F_COMPONENTS + 1, F_CREATED + 1, F_COMMENT + 1 },
	FIRST('d') = { F_DESCRIPTION + 1 },
	FIRST('i') = { F_ISSUETYPE + 1 },
	FIRST('l') = { F_LABELS + 1 },
	FIRST('p') = { F_PROJECT + 1, F_PRIORITY + 1 },
	FIRST('r') = { F_RESOLUTION + 1, F_REPORTER + 1 },
	FIRST('s') = { F_SUMMARY + 1, F_STATUS + 1 },
	FIRST('u') = { F_UPDATED + 1 },
};
#undef FIRST

static int mapped_index(const char *name)
{
	unsigned first = (unsigned char)name[0] - 'a';
	if (first >= 26)
		return -1;
	for (int j = 0; j < 3 && by_first[first][j]; j++) {
		int k = by_first[first][j] - 1;
		/* inline: a call costs more than these short names */
		const char *a = name + 1, *b = mapped_fields[k] + 1;
		while (*a && *a == *b)
			a++, b++;
		if (*a == *b)
			return k;
	}
	return -1;
}

/* The members of a bean's "fields" that the ticket shows by name: the
 * first of each name, as json_item() would find it. */
struct bean_fields {
	const cJSON *m[F_MAPPED];
	unsigned attachments; /* entries of the "attachment" field */
};

static const char *str_of(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The "name" of a Jira object (user, status, priority...), NULL if none. */
static const char *name_of(const cJSON *obj)
{
	return json_str(obj, "name");
}

struct tree {
	struct json_arena *a;
	bool nomem;
};

static cJSON *node(struct tree *t, int type, const char *name)
{
	cJSON *n = json_arena_alloc(t->a, sizeof(*n));
	if (!n) {
		t->nomem = true;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->string = (char *)name;
	return n;
}

/* Append n to parent's members, as cJSON_AddItemToArray does. */
static cJSON *append(cJSON *parent, cJSON *n)
{
	if (!parent || !n)
		return n;
	if (!parent->child) {
		parent->child = n;
	} else {
		n->prev = parent->child->prev;
		n->prev->next = n;
	}
	parent->child->prev = n;
	return n;
}

/* A member name: value, where value is a string or null. */
static void add_str(struct tree *t, cJSON *obj, const char *name,
		    const char *value)
{
	cJSON *n = append(obj, node(t, value ? cJSON_String : cJSON_NULL,
				    name));
	if (n)
		n->valuestring = (char *)value;
}

/* A member standing for v (as cJSON_Duplicate(v) would), under name. */
static void add_same(struct tree *t, cJSON *obj, const char *name,
		     const cJSON *v)
{
	cJSON *n = append(obj, node(t, v->type & 0xff, name));
	if (n) {
		n->child = v->child;
		n->valuestring = v->valuestring;
		n->valueint = v->valueint;
		n->valuedouble = v->valuedouble;
	}
}

/* An array of the names (or strings) in a Jira array value. */
static void add_names(struct tree *t, cJSON *obj, const char *name,
		      const cJSON *v)
{
	cJSON *arr = append(obj, node(t, cJSON_Array, name));
	const cJSON *c;
	if (!arr)
		return;
	cJSON_ArrayForEach(c, v) {
		const char *s = cJSON_IsString(c) ? c->valuestring : name_of(c);
		if (s)
			add_str(t, arr, NULL, s);
	}
}

static void add_comments(struct tree *t, cJSON *obj, const cJSON *field)
{
	cJSON *arr = append(obj, node(t, cJSON_Array, "comments"));
	const cJSON *list = cJSON_IsArray(field) ? field
						  : json_item(field, "comments");
	const cJSON *c;
	if (!arr)
		return;
	cJSON_ArrayForEach(c, list) {
		if (!cJSON_IsObject(c))
			continue;
		cJSON *o = append(arr, node(t, cJSON_Object, NULL));
		if (!o)
			break;
		const char *cre = json_str(c, "created");
		const char *upd = json_str(c, "updated");
		add_str(t, o, "id", json_str(c, "id"));
		add_str(t, o, "author", name_of(json_item(c, "author")));
		add_str(t, o, "created", cre);
		if (upd && !(cre && strcmp(upd, cre) == 0))
			add_str(t, o, "updated", upd);
		add_str(t, o, "body", json_str(c, "body"));
		const cJSON *vis = json_item(c, "visibility");
		if (cJSON_IsObject(vis))
			add_same(t, o, "visibility", vis);
	}
}

/* The §3 object for a bean with a valid key, in t's arena, and its
 * fields in *bf (one pass over them); NULL when out of memory.  projbuf
 * (256 bytes) may hold the project's name. */
static cJSON *ticket_object(struct tree *t, const cJSON *bean,
			    struct bean_fields *bf, const char *key,
			    char *projbuf)
{
	const cJSON *const *m = bf->m, *c;
	cJSON *o = node(t, cJSON_Object, NULL);
	cJSON *other = node(t, cJSON_Object, "fields");
	memset(bf, 0, sizeof(*bf));
	if (!o || !other)
		return NULL;
	cJSON_ArrayForEach(c, json_item(bean, "fields")) {
		int k = c->string ? mapped_index(c->string) : -1;
		if (k >= 0) {
			if (!bf->m[k])
				bf->m[k] = c;
		} else if (c->string && !cJSON_IsNull(c)) {
			add_same(t, other, c->string, c);
			if (c->string[0] == 'a' && cJSON_IsArray(c) &&
			    strcmp(c->string, "attachment") == 0)
				for (const cJSON *x = c->child; x; x = x->next)
					bf->attachments++;
		}
	}
	const char *pkey = json_str(m[F_PROJECT], "key");
	if (pkey) {
		size_t n = strnlen(pkey, 255);
		memcpy(projbuf, pkey, n);
		projbuf[n] = '\0';
	} else
		jira_key_project(key, projbuf, 256);
	add_str(t, o, "key", key);
	add_str(t, o, "project", projbuf);
	add_str(t, o, "issuetype", name_of(m[F_ISSUETYPE]));
	add_str(t, o, "summary", str_of(m[F_SUMMARY]));
	add_str(t, o, "description", str_of(m[F_DESCRIPTION]));
	add_str(t, o, "status", name_of(m[F_STATUS]));
	add_str(t, o, "resolution", name_of(m[F_RESOLUTION]));
	add_str(t, o, "priority", name_of(m[F_PRIORITY]));
	add_names(t, o, "labels", m[F_LABELS]);
	add_names(t, o, "components", m[F_COMPONENTS]);
	add_str(t, o, "assignee", name_of(m[F_ASSIGNEE]));
	add_str(t, o, "reporter", name_of(m[F_REPORTER]));
	add_str(t, o, "created", str_of(m[F_CREATED]));
	add_str(t, o, "updated", str_of(m[F_UPDATED]));

	append(o, other);
	json_sort_object(other, false);
	add_comments(t, o, m[F_COMMENT]);
	return t->nomem ? NULL : o;
}

/* The ticket file of bean (whose key is valid) in s->text. */
static int render(struct jira_issue_scratch *s, const cJSON *bean,
		  struct bean_fields *bf, const char *key)
{
	struct tree t = { &s->tree, false };
	char projbuf[256] = "";
	json_arena_reset(&s->tree);
	if (s->text.failed || s->text.cap > SCRATCH_TEXT_KEEP)
		strbuf_release(&s->text);
	s->text.len = 0;
	cJSON *o = ticket_object(&t, bean, bf, key, projbuf);
	if (!o)
		return -ENOMEM;
	json_pretty(&s->text, o, 0);
	strbuf_addc(&s->text, '\n');
	return s->text.failed ? -ENOMEM : 0;
}

void jira_issue_scratch_release(struct jira_issue_scratch *s)
{
	json_arena_release(&s->bean);
	json_arena_release(&s->tree);
	strbuf_release(&s->text);
}

char *jira_issue_render(const cJSON *bean, size_t *len)
{
	struct jira_issue_scratch s = JIRA_ISSUE_SCRATCH_INIT;
	struct bean_fields bf;
	const char *key = json_str(bean, "key");
	char *out = NULL;
	if (!jira_key_valid(key))
		return NULL;
	if (render(&s, bean, &bf, key) == 0)
		out = strbuf_detach(&s.text, len);
	jira_issue_scratch_release(&s);
	return out;
}

int jira_issue_from_json(const cJSON *bean, struct jira_issue **out,
			 char *errbuf, size_t errsize)
{
	struct jira_issue_scratch s = JIRA_ISSUE_SCRATCH_INIT;
	int r = jira_issue_build(&s, bean, out, errbuf, errsize);
	jira_issue_scratch_release(&s);
	return r;
}

int jira_issue_build(struct jira_issue_scratch *s, const cJSON *bean,
		     struct jira_issue **out, char *errbuf, size_t errsize)
{
	const char *key = json_str(bean, "key");
	struct bean_fields bf;
	*out = NULL;
	if (!cJSON_IsObject(bean)) {
		snprintf(errbuf, errsize, "an issue that is not an object");
		return -EINVAL;
	}
	if (!jira_key_valid(key)) {
		snprintf(errbuf, errsize, "an issue with an unusable key");
		return -EINVAL;
	}
	if (render(s, bean, &bf, key))
		return -ENOMEM;
	const cJSON *st = bf.m[F_STATUS];
	const char *catkey = json_str(json_item(st, "statusCategory"), "key");
	const char *created = str_of(bf.m[F_CREATED]);
	const char *updated = str_of(bf.m[F_UPDATED]);
	const char *id = json_str(bean, "id");
	const char *status = name_of(st);
	size_t text_len = s->text.len;
	struct packed pk;
	if (text_pack(strbuf_str(&s->text), text_len, &pk))
		return -ENOMEM;
	long long zoff = pk.memory ? 0 : text_spill(&pk);
	if (zoff < 0)
		pk.memory = true; /* logged by text_spill */

	/* One blob holds the struct, its strings and the ticket file: they
	 * live and die together, apart from the heap the search pages are
	 * parsed in (see util/blob.h). */
	char proj[256];
	jira_key_project(key, proj, sizeof(proj));
	size_t lkey = strlen(key) + 1, lid = strlen(id ? id : "") + 1,
	       lproj = strlen(proj) + 1,
	       lstatus = strlen(status ? status : "") + 1,
	       lupd = strlen(updated ? updated : "") + 1;
	struct blob_chunk *chunk;
	char *b = blob_alloc(sizeof(struct jira_issue) + lkey + lid + lproj +
				     lstatus + lupd + (pk.memory ? pk.len : 0),
			     &chunk);
	if (!b) {
		struct jira_issue gone = { .text_len = text_len,
					   .ztext = pk.memory ? "" : NULL,
					   .zoff = zoff,
					   .zlen = (unsigned)pk.len };
		text_release(&gone);
		return -ENOMEM;
	}
	struct jira_issue *i = (struct jira_issue *)b;
	memset(i, 0, sizeof(*i));
	atomic_init(&i->refs, 1);
	i->chunk = chunk;
	char *p = b + sizeof(*i);
#define PUT(dst, src, n)                                                       \
	do {                                                                   \
		(dst) = p;                                                     \
		memcpy(p, (src), (n) - 1);                                     \
		p[(n) - 1] = '\0';                                             \
		p += (n);                                                      \
	} while (0)
	PUT(i->key, key, lkey);
	PUT(i->id, id ? id : "", lid);
	PUT(i->project, proj, lproj);
	PUT(i->status, status ? status : "", lstatus);
	PUT(i->updated_raw, updated ? updated : "", lupd);
#undef PUT
	i->text_len = text_len;
	i->zlen = (unsigned)pk.len;
	i->zform = pk.form;
	i->zoff = zoff;
	if (pk.memory) {
		memcpy(p, pk.bytes, pk.len);
		i->ztext = p;
	}
	i->done = catkey && strcmp(catkey, "done") == 0;
	i->attachments = bf.attachments;
	if (created)
		jira_time_parse(created, &i->created);
	if (updated)
		jira_time_parse(updated, &i->updated);
	*out = i;
	return 0;
}

struct jira_issue *jira_issue_ref(struct jira_issue *i)
{
	atomic_fetch_add(&i->refs, 1);
	return i;
}

void jira_issue_unref(struct jira_issue *i)
{
	if (!i || atomic_fetch_sub(&i->refs, 1) != 1)
		return;
	text_release(i);
	blob_free(i->chunk);
}
