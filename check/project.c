/*
 * project.c - per project: the permissions each operation needs, the
 * create screen of the default issue type (required fields jirafs cannot
 * fill), a transition into a done status from an open ticket and what its
 * screen requires, and that the named close_transition= / resolution= /
 * default_issuetype= exist.  GETs only.  See check_priv.h.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check/check_priv.h"
#include "fs/fs.h"
#include "jira/client.h"
#include "jira/write.h"
#include "util/json.h"
#include "util/strbuf.h"

#define DEFAULT_ISSUETYPE "Task"

/* The permissions each operation needs, as mypermissions names them. */
static const struct {
	const char *key, *name, *op;
} perms[] = {
	{ "BROWSE_PROJECTS", "Browse Projects", "read" },
	{ "CREATE_ISSUES", "Create Issues", "create" },
	{ "EDIT_ISSUES", "Edit Issues", "update" },
	{ "ADD_COMMENTS", "Add Comments", "comment" },
	{ "TRANSITION_ISSUES", "Transition Issues", "close/reopen" },
	{ "RESOLVE_ISSUES", "Resolve Issues", "resolve" },
	{ "CLOSE_ISSUES", "Close Issues", "close" },
	{ "CREATE_ATTACHMENTS", "Create Attachments", "attach" },
};

/* False when the project cannot be asked further (it does not exist, or
 * cannot be browsed); *create and *transition say whether tickets may be
 * created and moved there. */
static bool project_permissions(struct check *ck, const char *key,
				const char *what, bool *create,
				bool *transition)
{
	char path[256], buf[1400], fix[700];
	struct jira_error err = { 0 };
	cJSON *root = NULL;

	snprintf(path, sizeof(path), "/rest/api/2/mypermissions?projectKey=%s",
		 key);
	enum jira_status st =
		jira_get_json(ck->c, path, check_deadline(ck), &root, &err);
	if (st != JIRA_OK) {
		snprintf(buf, sizeof(buf), "cannot read the permissions (%s): "
					   "%s",
			 jira_status_name(st), err.msg);
		bool gone = st == JIRA_ERR_NOT_FOUND || st == JIRA_ERR_BAD_REQUEST;
		check_say(ck, gone ? CHECK_FAIL : CHECK_WARN, what, buf,
			  gone ? "the project does not exist (or the account "
				 "cannot browse it): correct projects="
			       : "check again once Jira answers");
		cJSON_Delete(root);
		return !gone;
	}
	const cJSON *p = json_item(root, "permissions");
	struct strbuf miss = STRBUF_INIT, ops = STRBUF_INIT;
	for (size_t i = 0; i < sizeof(perms) / sizeof(perms[0]); i++) {
		const cJSON *e = json_item(p, perms[i].key);
		if (cJSON_IsTrue(json_item(e, "havePermission")))
			continue;
		strbuf_addf(&miss, "%s%s", miss.len ? ", " : "", perms[i].name);
		strbuf_addf(&ops, "%s%s", ops.len ? ", " : "", perms[i].op);
	}
	if (!miss.len) {
		check_say(ck, CHECK_OK, what,
			  "browse, create, edit, comment, transition, resolve, "
			  "close, create attachments",
			  NULL);
	} else {
		snprintf(buf, sizeof(buf), "%s lacks %s (refused: %s)",
			 ck->user, miss.buf, ops.buf);
		snprintf(fix, sizeof(fix),
			 "ask a Jira admin to grant %s to %s in the permission "
			 "scheme of project %s",
			 miss.buf, ck->user, key);
		check_say(ck, CHECK_FAIL, what, buf, fix);
	}
	bool browse = !strstr(strbuf_str(&miss), "Browse");
	*transition = !strstr(strbuf_str(&miss), "Transition");
	*create = !strstr(strbuf_str(&miss), "Create Issues");
	strbuf_release(&miss);
	strbuf_release(&ops);
	cJSON_Delete(root);
	return browse;
}

/* jira_get_values, or NULL with err set. */
static cJSON *get_values(struct check *ck, const char *path,
			 struct jira_error *err)
{
	cJSON *all = NULL;
	return jira_get_values(ck->c, path, check_deadline(ck), &all, err) ==
			       JIRA_OK
		       ? all
		       : NULL;
}

static void names_of(struct strbuf *sb, const cJSON *values, const char *k)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, values) {
		const char *n = json_str(v, k);
		if (n)
			strbuf_addf(sb, "%s%s", sb->len ? ", " : "", n);
	}
}

/* What a create always sends (or Jira fills: the reporter is the caller). */
static bool filled_by_jirafs(const char *id)
{
	static const char *const ids[] = { "project", "issuetype", "summary",
					   "reporter" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++)
		if (strcmp(id, ids[i]) == 0)
			return true;
	return false;
}

/* The default issue type exists, and its create screen requires nothing
 * jirafs cannot fill. */
static void project_create_screen(struct check *ck, const char *key)
{
	const char *want = ck->wcfg->default_issuetype
				   ? ck->wcfg->default_issuetype
				   : DEFAULT_ISSUETYPE;
	char path[400], buf[1400], fix[1400];
	struct jira_error err = { 0 };
	struct strbuf sb = STRBUF_INIT;
	cJSON *types = NULL, *fields = NULL;

	snprintf(path, sizeof(path),
		 "/rest/api/2/issue/createmeta/%s/issuetypes", key);
	if (!(types = get_values(ck, path, &err))) {
		snprintf(buf, sizeof(buf), "%s: cannot read the issue types "
					   "(%s)",
			 key, err.msg);
		check_say(ck, CHECK_WARN, "create screen", buf,
			  "check again once Jira answers");
		goto out;
	}
	const cJSON *type = NULL, *v;
	cJSON_ArrayForEach(v, types) {
		const char *n = json_str(v, "name");
		if (n && strcasecmp(n, want) == 0)
			type = v;
	}
	if (!type || !json_str(type, "id")) {
		names_of(&sb, types, "name");
		snprintf(buf, sizeof(buf), "%s has no issue type %s (it has: "
					   "%s)",
			 key, want, sb.len ? sb.buf : "none");
		snprintf(fix, sizeof(fix),
			 "give -o default_issuetype= one of the project's types, "
			 "or ask a Jira admin to add %s to the issue type scheme "
			 "of project %s",
			 want, key);
		check_say(ck, CHECK_FAIL, "default_issuetype", buf, fix);
		goto out;
	}
	snprintf(path, sizeof(path),
		 "/rest/api/2/issue/createmeta/%s/issuetypes/%s", key,
		 json_str(type, "id"));
	if (!(fields = get_values(ck, path, &err))) {
		snprintf(buf, sizeof(buf), "%s/%s: cannot read the create "
					   "screen (%s)",
			 key, want, err.msg);
		check_say(ck, CHECK_WARN, "create screen", buf,
			  "check again once Jira answers");
		goto out;
	}
	struct strbuf ids = STRBUF_INIT;
	cJSON_ArrayForEach(v, fields) {
		const char *id = json_str(v, "fieldId");
		if (!id || filled_by_jirafs(id) ||
		    !cJSON_IsTrue(json_item(v, "required")) ||
		    cJSON_IsTrue(json_item(v, "hasDefaultValue")))
			continue;
		const char *n = json_str(v, "name");
		strbuf_addf(&sb, "%s%s (%s)", sb.len ? ", " : "", n ? n : id, id);
		strbuf_addf(&ids, "%s\"%s\"", ids.len ? ", " : "", id);
	}
	if (!sb.len) {
		snprintf(buf, sizeof(buf), "%s/%s: jirafs fills every required "
					   "field",
			 key, want);
		check_say(ck, CHECK_OK, "create screen", buf, NULL);
	} else {
		snprintf(buf, sizeof(buf), "%s/%s requires %s, with no default",
			 key, want, sb.buf);
		snprintf(fix, sizeof(fix),
			 "ask a Jira admin to give %s a default value or make it "
			 "optional on the create screen of %s/%s (otherwise every "
			 "new ticket file must set %s, and scanner imports "
			 "cannot)",
			 sb.buf, key, want, ids.buf);
		check_say(ck, CHECK_FAIL, "create screen", buf, fix);
	}
	strbuf_release(&ids);
out:
	strbuf_release(&sb);
	cJSON_Delete(types);
	cJSON_Delete(fields);
}

/* An open ticket of the project, malloc'd, or NULL when there is none. */
static char *open_ticket(struct check *ck, const char *key, char **status,
			 struct jira_error *err)
{
	char jql[300], path[1200];
	cJSON *root = NULL;
	snprintf(jql, sizeof(jql),
		 "project = \"%s\" AND statusCategory != Done ORDER BY key", key);
	char *q = curl_easy_escape(NULL, jql, 0);
	snprintf(path, sizeof(path),
		 "/rest/api/2/search?jql=%s&maxResults=1&fields=status",
		 q ? q : "");
	curl_free(q);
	char *found = NULL;
	if (jira_get_json(ck->c, path, check_deadline(ck), &root, err) ==
	    JIRA_OK) {
		const cJSON *issue = cJSON_GetArrayItem(json_item(root, "issues"), 0);
		found = json_strdup(issue, "key");
		*status = json_strdup(json_item(json_item(issue, "fields"),
						"status"),
				      "name");
	}
	cJSON_Delete(root);
	return found;
}

/* From an open ticket, a transition into done, and its screen filled. */
static void project_done_transition(struct check *ck, const char *key)
{
	char path[300], buf[1600], fix[1200];
	const char *what = "done transition";
	const char *wanted = ck->wcfg->close_transition;
	struct jira_error err = { 0 };
	char *status = NULL, *ticket = open_ticket(ck, key, &status, &err);
	cJSON *root = NULL, *fields = NULL;
	struct strbuf names = STRBUF_INIT;

	if (!ticket) {
		if (err.status != JIRA_OK)
			snprintf(buf, sizeof(buf), "%s: cannot search for an "
						   "open ticket (%s)",
				 key, err.msg);
		else
			snprintf(buf, sizeof(buf), "%s: no open ticket to ask "
						   "which transitions it offers",
				 key);
		check_say(ck, CHECK_WARN, what, buf,
			  "check again once the project has an open ticket");
		goto out;
	}
	snprintf(path, sizeof(path),
		 "/rest/api/2/issue/%s/transitions?expand=transitions.fields",
		 ticket);
	if (jira_get_json(ck->c, path, check_deadline(ck), &root, &err) !=
	    JIRA_OK) {
		snprintf(buf, sizeof(buf), "%s: cannot read the transitions "
					   "of %s (%s)",
			 key, ticket, err.msg);
		check_say(ck, CHECK_WARN, what, buf,
			  "check again once Jira answers");
		goto out;
	}
	const cJSON *trs = json_item(root, "transitions");
	names_of(&names, trs, "name");
	const cJSON *t = jira_pick_transition(trs, true, wanted);
	if (!t) {
		snprintf(buf, sizeof(buf), "%s: from %s (%s) no transition "
					   "leads to a done status (offered: %s)",
			 key, status ? status : "?", ticket,
			 names.len ? names.buf : "none");
		snprintf(fix, sizeof(fix),
			 "ask a Jira admin to add a transition into a Done-"
			 "category status to the workflow of project %s (closing "
			 "by mv into closed/ needs it)",
			 key);
		check_say(ck, CHECK_FAIL, what, buf, fix);
		goto out;
	}
	const char *tn = json_str(t, "name");
	if (wanted && (!tn || strcasecmp(tn, wanted) != 0)) {
		/* the writer then takes the one picked here */
		snprintf(buf, sizeof(buf), "close_transition=%s is not offered "
					   "from %s (%s) in %s (offered: %s): "
					   "jirafs will use \"%s\"",
			 wanted, status ? status : "?", ticket, key,
			 names.len ? names.buf : "none", tn ? tn : "?");
		check_say(ck, CHECK_WARN, "close_transition", buf,
			  "give close_transition= the name of a transition the "
			  "workflow offers (or leave it out: jirafs picks one "
			  "into a done status)");
	}
	if (jira_transition_fields(t, ck->wcfg->resolution, &fields, &err) !=
	    JIRA_OK) {
		snprintf(buf, sizeof(buf), "%s from %s (%s): %s", tn ? tn : "?",
			 status ? status : "?", ticket, err.msg);
		check_say(ck, CHECK_FAIL, what, buf,
			  "ask a Jira admin to give the field a default or "
			  "take it off the transition's screen");
		goto out;
	}
	snprintf(buf, sizeof(buf), "%s: \"%s\" from %s", key, tn ? tn : "?",
		 status ? status : "?");
	const cJSON *res = json_item(fields, "resolution");
	if (res) {
		/* the value chosen, by its name among the allowed ones */
		const char *id = json_str(res, "id"), *name = json_str(res, "name");
		const cJSON *a;
		cJSON_ArrayForEach(a, json_item(json_item(json_item(t, "fields"),
							  "resolution"),
						"allowedValues")) {
			const char *aid = json_str(a, "id");
			if (!name && id && aid && strcmp(aid, id) == 0)
				name = json_str(a, "name");
		}
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, ", its screen gets resolution "
						   "%s",
			 name ? name : id ? id : "?");
	}
	check_say(ck, CHECK_OK, what, buf, NULL);
out:
	strbuf_release(&names);
	cJSON_Delete(fields);
	cJSON_Delete(root);
	free(ticket);
	free(status);
}

/* resolution= names a resolution of the site (they are global). */
static void site_resolution(struct check *ck)
{
	const char *want = ck->wcfg->resolution;
	char buf[1400];
	struct jira_error err = { 0 };
	cJSON *all = NULL;
	if (!want)
		return;
	if (jira_get_json(ck->c, "/rest/api/2/resolution", check_deadline(ck),
			  &all, &err) != JIRA_OK) {
		snprintf(buf, sizeof(buf), "cannot read the resolutions (%s)",
			 err.msg);
		check_say(ck, CHECK_WARN, "resolution", buf,
			  "check again once Jira answers");
		return;
	}
	const cJSON *v;
	bool found = false;
	cJSON_ArrayForEach(v, all) {
		const char *n = json_str(v, "name");
		found |= n && strcasecmp(n, want) == 0;
	}
	struct strbuf sb = STRBUF_INIT;
	names_of(&sb, all, "name");
	/* an unknown one is not fatal: the writer then takes Done, else the
	 * first the transition's screen allows */
	snprintf(buf, sizeof(buf), "resolution=%s %s (the site has: %s)", want,
		 found ? "exists" : "does not exist: jirafs will use Done or "
				    "the first the close screen allows",
		 sb.len ? sb.buf : "none");
	check_say(ck, found ? CHECK_OK : CHECK_WARN, "resolution", buf,
		  found ? NULL : "give resolution= one of the site's resolutions");
	strbuf_release(&sb);
	cJSON_Delete(all);
}

static void check_project(struct check *ck, const char *key)
{
	char what[96];
	snprintf(what, sizeof(what), "project %s", key);
	bool create = false, transition = false;
	if (!project_permissions(ck, key, what, &create, &transition))
		return;
	/* without Create Issues createmeta shows no issue type, without
	 * Transition Issues Jira offers no transition: the permission's line
	 * says what to fix */
	if (create)
		project_create_screen(ck, key);
	if (transition)
		project_done_transition(ck, key);
}

void check_projects(struct check *ck)
{
	const struct fs_config *f = ck->fcfg;
	site_resolution(ck);
	if (f->nprojects) {
		for (size_t i = 0; i < f->nprojects; i++)
			check_project(ck, f->projects[i]);
		return;
	}
	struct jira_project *pr = NULL;
	size_t n = 0;
	struct jira_error err = { 0 };
	if (jira_projects(ck->c, check_deadline(ck), &pr, &n, &err) !=
	    JIRA_OK) {
		check_say(ck, CHECK_FAIL, "projects", err.msg,
			  "check again once Jira answers");
		return;
	}
	if (!n)
		check_say(ck, CHECK_FAIL, "projects",
			  "the account can browse no project",
			  "ask a Jira admin to grant Browse Projects to the "
			  "account in the projects it should see");
	for (size_t i = 0; i < n; i++)
		check_project(ck, pr[i].key);
	jira_projects_free(pr, n);
}
