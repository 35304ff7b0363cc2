/* issue.c - see issue.h: IssueBean -> ticket file (CONTRACT §3). */
#include "jira/issue.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/blob.h"
#include "util/json.h"
#include "util/strbuf.h"

/* Fields shown under their own names; everything else non-null goes under
 * "fields". */
static const char *const mapped_fields[] = {
	"project", "issuetype", "summary", "description", "status",
	"resolution", "priority", "labels", "components", "assignee",
	"reporter", "created", "updated", "comment",
};

static bool is_mapped(const char *name)
{
	for (size_t i = 0; i < sizeof(mapped_fields) / sizeof(*mapped_fields);
	     i++)
		if (strcmp(name, mapped_fields[i]) == 0)
			return true;
	return false;
}

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

int jira_time_parse(const char *s, struct timespec *out)
{
	struct tm tm = { 0 };
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
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	out->tv_sec = t - off;
	out->tv_nsec = ms * 1000000L;
	return 0;
}

/* The "name" of a Jira object (user, status, priority...), NULL if none. */
static const char *name_of(const cJSON *obj)
{
	return json_str(obj, "name");
}

/* Add "key": value to obj, where value is a string or null. */
static void add_str(cJSON *obj, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

/* An array of the names (or strings) in a Jira array value. */
static cJSON *names_array(const cJSON *v)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *c;
	if (!arr)
		return NULL;
	cJSON_ArrayForEach(c, v) {
		const char *s = cJSON_IsString(c) ? c->valuestring : name_of(c);
		if (s)
			cJSON_AddItemToArray(arr, cJSON_CreateString(s));
	}
	return arr;
}

static cJSON *comments_array(const cJSON *comment_field)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *list = cJSON_IsArray(comment_field)
				    ? comment_field
				    : json_item(comment_field, "comments");
	const cJSON *c;
	if (!arr)
		return NULL;
	cJSON_ArrayForEach(c, list) {
		if (!cJSON_IsObject(c))
			continue;
		cJSON *o = cJSON_CreateObject();
		if (!o)
			break;
		add_str(o, "id", json_str(c, "id"));
		add_str(o, "author", name_of(json_item(c, "author")));
		add_str(o, "created", json_str(c, "created"));
		const cJSON *upd = json_item(c, "updated");
		const cJSON *cre = json_item(c, "created");
		if (cJSON_IsString(upd) &&
		    !(cJSON_IsString(cre) &&
		      strcmp(upd->valuestring, cre->valuestring) == 0))
			add_str(o, "updated", upd->valuestring);
		add_str(o, "body", json_str(c, "body"));
		const cJSON *vis = json_item(c, "visibility");
		if (cJSON_IsObject(vis))
			cJSON_AddItemToObject(o, "visibility",
					      cJSON_Duplicate(vis, true));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* The §3 object for a bean; NULL when out of memory. */
static cJSON *ticket_object(const cJSON *bean, const char *key)
{
	const cJSON *f = json_item(bean, "fields");
	cJSON *t = cJSON_CreateObject();
	if (!t)
		return NULL;
	const cJSON *proj = json_item(f, "project");
	const cJSON *pkey = json_item(proj, "key");
	char projbuf[256] = "";
	if (cJSON_IsString(pkey)) {
		snprintf(projbuf, sizeof(projbuf), "%s", pkey->valuestring);
	} else {
		jira_key_project(key, projbuf, sizeof(projbuf));
	}
	add_str(t, "key", key);
	add_str(t, "project", projbuf);
	add_str(t, "issuetype", name_of(json_item(f, "issuetype")));
	add_str(t, "summary", json_str(f, "summary"));
	add_str(t, "description", json_str(f, "description"));
	add_str(t, "status", name_of(json_item(f, "status")));
	add_str(t, "resolution", name_of(json_item(f, "resolution")));
	add_str(t, "priority", name_of(json_item(f, "priority")));
	cJSON_AddItemToObject(t, "labels", names_array(json_item(f, "labels")));
	cJSON_AddItemToObject(t, "components",
			      names_array(json_item(f, "components")));
	add_str(t, "assignee", name_of(json_item(f, "assignee")));
	add_str(t, "reporter", name_of(json_item(f, "reporter")));
	add_str(t, "created", json_str(f, "created"));
	add_str(t, "updated", json_str(f, "updated"));

	cJSON *other = cJSON_CreateObject();
	const cJSON *c;
	cJSON_ArrayForEach(c, f) {
		if (!c->string || is_mapped(c->string) || cJSON_IsNull(c))
			continue;
		cJSON_AddItemToObject(other, c->string,
				      cJSON_Duplicate(c, true));
	}
	json_sort_object(other, false);
	cJSON_AddItemToObject(t, "fields", other);
	cJSON_AddItemToObject(t, "comments",
			      comments_array(json_item(f, "comment")));
	return t;
}


char *jira_issue_render(const cJSON *bean, size_t *len)
{
	const char *key = json_str(bean, "key");
	if (!jira_key_valid(key))
		return NULL;
	cJSON *t = ticket_object(bean, key);
	if (!t)
		return NULL;
	char *out = json_file_text(t, len);
	cJSON_Delete(t);
	return out;
}

int jira_issue_from_json(const cJSON *bean, struct jira_issue **out,
			 char *errbuf, size_t errsize)
{
	const char *key = json_str(bean, "key");
	*out = NULL;
	if (!cJSON_IsObject(bean)) {
		snprintf(errbuf, errsize, "an issue that is not an object");
		return -EINVAL;
	}
	if (!jira_key_valid(key)) {
		snprintf(errbuf, errsize, "an issue with an unusable key");
		return -EINVAL;
	}
	const cJSON *f = json_item(bean, "fields");
	const cJSON *st = json_item(f, "status");
	const cJSON *cat = json_item(st, "statusCategory");
	const char *catkey = json_str(cat, "key");
	const char *created = json_str(f, "created");
	const char *updated = json_str(f, "updated");
	const char *id = json_str(bean, "id");
	const char *status = name_of(st);
	size_t text_len;
	char *text = jira_issue_render(bean, &text_len);
	if (!text)
		return -ENOMEM;

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
				     lstatus + lupd + text_len + 1,
			     &chunk);
	if (!b) {
		free(text);
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
	PUT(i->text, text, text_len + 1);
#undef PUT
	i->text_len = text_len;
	free(text);
	i->done = catkey && strcmp(catkey, "done") == 0;
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
	blob_free(i->chunk);
}
