"""A subset of JQL: tokenizer, recursive-descent parser and compiler to Python predicates.

Supported: project, key/issuekey/id, status, statusCategory, resolution, priority,
issuetype/type, component, labels, fixVersion/affectedVersion (always empty), assignee,
reporter, creator (with currentUser()), summary/description/environment/comment/text (~, !~),
created/updated/resolved(resolutiondate)/due(duedate) with absolute and relative dates and
now()/startOf*/endOf*(), custom fields cf[10020] (number), cf[10021] (text), cf[10022] (option)
also by id or quoted name, attachments IS [NOT] EMPTY, filter/request/savedFilter/searchRequest
= id or name (a saved filter's query), issue.property[KEY].path (only for keys in the config
indexed_properties: stock Jira knows no such field unless an app indexes the property);
AND/OR/NOT/!/&&/||, parentheses, ORDER BY field [ASC|DESC], ...
"""

import calendar
import fnmatch
import re
import time

import catalog as C

KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC",
            "WAS", "CHANGED"}
OPERATORS = ("=", "!=", "~", "!~", "<", "<=", ">", ">=")
VALID_OPS = ("The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', "
             "'NOT IN', 'IS' and 'IS NOT'.")


class JQLError(Exception):
    def __init__(self, messages):
        if isinstance(messages, str):
            messages = [messages]
        super().__init__(messages)
        self.messages = messages


def _syntax(msg, pos=None):
    if pos is not None:
        msg += " (line 1, character %d)" % (pos + 1)
    return JQLError("Error in the JQL Query: " + msg)


class Tok:
    __slots__ = ("kind", "value", "pos")

    def __init__(self, kind, value, pos):
        self.kind, self.value, self.pos = kind, value, pos

    def kw(self):
        return self.value.upper() if self.kind == "word" and self.value.upper() in KEYWORDS \
            else None

    def show(self):
        return "the end of the query" if self.kind == "end" else "'%s'" % self.value


_STOP = set(" \t\r\n=!<>~(),\"'&|")
_ESC = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", " ": " "}


def tokenize(text):
    toks = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        start = i
        if c in "\"'":
            q = c
            i += 1
            buf = []
            while True:
                if i >= n:
                    raise _syntax("The quoted string '%s' has not been completed." % "".join(buf),
                                  start)
                ch = text[i]
                if ch == "\\" and i + 1 < n:
                    nx = text[i + 1]
                    if nx == "u" and i + 5 < n + 1 and re.match(r"[0-9a-fA-F]{4}", text[i + 2:i + 6]):
                        buf.append(chr(int(text[i + 2:i + 6], 16)))
                        i += 6
                        continue
                    if nx not in _ESC:
                        raise _syntax("Illegal escape sequence '\\%s' in the JQL query." % nx, i)
                    buf.append(_ESC[nx])
                    i += 2
                    continue
                if ch == q:
                    i += 1
                    break
                buf.append(ch)
                i += 1
            toks.append(Tok("str", "".join(buf), start))
            continue
        if c in "(),":
            toks.append(Tok(c, c, i))
            i += 1
            continue
        if c in "=~":
            toks.append(Tok("op", c, i))
            i += 1
            continue
        if c == "!":
            if i + 1 < n and text[i + 1] in "=~":
                toks.append(Tok("op", "!" + text[i + 1], i))
                i += 2
            else:
                toks.append(Tok("word", "NOT", i))
                i += 1
            continue
        if c in "<>":
            if i + 1 < n and text[i + 1] == "=":
                toks.append(Tok("op", c + "=", i))
                i += 2
            else:
                toks.append(Tok("op", c, i))
                i += 1
            continue
        if c in "&|":
            while i < n and text[i] == c:
                i += 1
            toks.append(Tok("word", "AND" if c == "&" else "OR", start))
            continue
        # unquoted word; [...] may hold anything but ']'
        buf = []
        while i < n and text[i] not in _STOP:
            if text[i] == "[":
                j = text.find("]", i)
                if j < 0:
                    raise _syntax("Expecting ']' before the end of the query.", i)
                buf.append(text[i:j + 1])
                i = j + 1
                continue
            buf.append(text[i])
            i += 1
        toks.append(Tok("word", "".join(buf), start))
    toks.append(Tok("end", "", n))
    return toks


# ---------------------------------------------------------------- parser
class Query:
    def __init__(self, where, order):
        self.where, self.order = where, order


class Parser:
    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i]

    def next(self):
        t = self.toks[self.i]
        if t.kind != "end":
            self.i += 1
        return t

    def at_kw(self, *kws):
        return self.peek().kw() in kws

    def parse(self):
        where = None
        if self.peek().kind != "end" and not self.at_kw("ORDER"):
            where = self.or_expr()
        order = None
        if self.at_kw("ORDER"):
            t = self.next()
            if not self.at_kw("BY"):
                raise _syntax("Expecting 'by' but got %s." % self.peek().show(), self.peek().pos)
            self.next()
            order = [self.sort_item()]
            while self.peek().kind == ",":
                self.next()
                order.append(self.sort_item())
        t = self.peek()
        if t.kind != "end":
            if where is not None and t.kind == ")":
                raise _syntax("Expecting either 'OR' or 'AND' but got ')'.", t.pos)
            raise _syntax("Expecting either 'OR' or 'AND' but got %s." % t.show(), t.pos)
        return Query(where, order)

    def sort_item(self):
        t = self.next()
        if t.kind not in ("word", "str") or (t.kind == "word" and t.kw()):
            raise _syntax("Expecting a field name but got %s." % t.show(), t.pos)
        desc = None
        if self.at_kw("ASC", "DESC"):
            desc = self.next().kw() == "DESC"
        return (t.value, desc, t.pos)

    def or_expr(self):
        items = [self.and_expr()]
        while self.at_kw("OR"):
            self.next()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else ("or", items)

    def and_expr(self):
        items = [self.not_expr()]
        while self.at_kw("AND"):
            self.next()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else ("and", items)

    def not_expr(self):
        t = self.peek()
        if t.kw() == "NOT":
            self.next()
            return ("not", self.not_expr())
        if t.kind == "(":
            self.next()
            e = self.or_expr()
            t = self.next()
            if t.kind != ")":
                if t.kind == "end":
                    raise _syntax("Expecting ')' before the end of the query.", t.pos)
                raise _syntax("Expecting ')' but got %s." % t.show(), t.pos)
            return e
        return self.clause()

    def clause(self):
        t = self.next()
        if t.kind == "end":
            raise _syntax("Expecting a field name before the end of the query.", t.pos)
        if t.kind not in ("word", "str") or (t.kind == "word" and t.kw()):
            raise _syntax("Expecting a field name but got %s." % t.show(), t.pos)
        field, fpos = t.value, t.pos
        o = self.next()
        if o.kind == "op":
            op = o.value
        elif o.kw() == "IN":
            op = "in"
        elif o.kw() == "NOT":
            if not self.at_kw("IN"):
                raise _syntax("Expecting 'IN' but got %s." % self.peek().show(), self.peek().pos)
            self.next()
            op = "not in"
        elif o.kw() == "IS":
            op = "is"
            if self.at_kw("NOT"):
                self.next()
                op = "is not"
        elif o.kw() in ("WAS", "CHANGED"):
            raise _syntax("The emulator does not support the '%s' operator." % o.value.upper(),
                          o.pos)
        elif o.kind == "end":
            raise _syntax("Expecting operator before the end of the query. " + VALID_OPS, o.pos)
        else:
            raise _syntax("Expecting operator but got %s. %s" % (o.show(), VALID_OPS), o.pos)
        if op in ("is", "is not"):
            v = self.next()
            if v.kw() not in ("EMPTY", "NULL"):
                raise _syntax("Expecting 'EMPTY' but got %s." % v.show(), v.pos)
            return ("clause", field, op, ("empty",), fpos)
        if op in ("in", "not in"):
            if self.peek().kind != "(":
                operand = self.operand()
                if operand[0] != "func":
                    raise _syntax("Expecting '(' but got %s." % self.toks[self.i - 1].show(),
                                  self.toks[self.i - 1].pos)
                return ("clause", field, op, ("list", [operand]), fpos)
            return ("clause", field, op, self.list_operand(), fpos)
        if self.peek().kind == "(":
            raise _syntax("Expecting a value but got '('.", self.peek().pos)
        operand = self.operand()
        if operand[0] == "empty":
            if op == "=":
                op = "is"
            elif op == "!=":
                op = "is not"
            else:
                raise _syntax("The operator '%s' cannot be used with EMPTY." % op, fpos)
        return ("clause", field, op, operand, fpos)

    def list_operand(self):
        self.next()  # '('
        items = [self.operand()]
        while self.peek().kind == ",":
            self.next()
            items.append(self.operand())
        t = self.next()
        if t.kind != ")":
            if t.kind == "end":
                raise _syntax("Expecting ')' before the end of the query.", t.pos)
            raise _syntax("Expecting ')' but got %s." % t.show(), t.pos)
        return ("list", items)

    def operand(self):
        t = self.next()
        if t.kind == "str":
            return ("value", t.value, t.pos)
        if t.kind == "word":
            kw = t.kw()
            if kw in ("EMPTY", "NULL"):
                return ("empty",)
            if kw:
                raise _syntax("Expecting either a value, list or function but got '%s'. You must "
                              "surround '%s' in quotation marks to use it as a value."
                              % (t.value, t.value), t.pos)
            if self.peek().kind == "(":
                self.next()
                args = []
                if self.peek().kind != ")":
                    while True:
                        a = self.next()
                        if a.kind not in ("word", "str"):
                            raise _syntax("Expecting a function argument but got %s." % a.show(),
                                          a.pos)
                        args.append(a.value)
                        if self.peek().kind == ",":
                            self.next()
                            continue
                        break
                e = self.next()
                if e.kind != ")":
                    raise _syntax("Expecting ')' but got %s." % e.show(), e.pos)
                return ("func", t.value, args, t.pos)
            return ("value", t.value, t.pos)
        if t.kind == "end":
            raise _syntax("Expecting either a value, list or function before the end of the "
                          "query.", t.pos)
        raise _syntax("Expecting either a value, list or function but got %s." % t.show(), t.pos)


def parse(text):
    return Parser(text).parse()


# ---------------------------------------------------------------- dates
_ABS = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_PERIOD = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$")
_UNIT = {"w": 7 * 86400000, "d": 86400000, "h": 3600000, "m": 60000}


def parse_period(s):
    m = _PERIOD.match(s.strip())
    if not m:
        return None
    total = sum(int(n) * _UNIT[u] for n, u in re.findall(r"(\d+)\s*([wdhm])", m.group(2)))
    return -total if m.group(1) == "-" else total


def parse_jql_date(s, now):
    """-> (ms, relative) or None."""
    s = s.strip()
    m = _ABS.match(s)
    if m:
        y, mo, d, hh, mm = m.groups()
        try:
            return calendar.timegm((int(y), int(mo), int(d), int(hh or 0), int(mm or 0), 0,
                                    0, 0, 0)) * 1000, False
        except (ValueError, OverflowError):
            return None
    p = parse_period(s)
    if p is not None:
        return now + p, True
    if re.match(r"^\d{9,}$", s):
        return int(s), False
    return None


def _date_function(name, args, now):
    lname = name.lower()
    off = 0
    if args:
        off = parse_period(args[0])
        if off is None:
            return None
    if lname in ("now", "currentlogin", "lastlogin"):
        return now + off
    t = time.gmtime(now // 1000)
    day0 = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, 0)) * 1000
    if lname == "startofday":
        return day0 + off
    if lname == "endofday":
        return day0 + 86400000 - 1 + off
    if lname in ("startofweek", "endofweek"):
        start = day0 - t.tm_wday * 86400000
        return (start if lname == "startofweek" else start + 7 * 86400000 - 1) + off
    if lname in ("startofmonth", "endofmonth"):
        start = calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0, 0, 0, 0)) * 1000
        days = calendar.monthrange(t.tm_year, t.tm_mon)[1]
        return (start if lname == "startofmonth" else start + days * 86400000 - 1) + off
    if lname in ("startofyear", "endofyear"):
        start = calendar.timegm((t.tm_year, 1, 1, 0, 0, 0, 0, 0, 0)) * 1000
        end = calendar.timegm((t.tm_year + 1, 1, 1, 0, 0, 0, 0, 0, 0)) * 1000 - 1
        return (start if lname == "startofyear" else end) + off
    return False


DATE_FUNCS = {"now", "currentlogin", "lastlogin", "startofday", "endofday", "startofweek",
              "endofweek", "startofmonth", "endofmonth", "startofyear", "endofyear"}
KNOWN_FUNCS = DATE_FUNCS | {"currentuser", "membersof", "issuehistory", "linkedissues",
                            "votedissues", "watchedissues", "updatedby", "releasedversions",
                            "unreleasedversions", "latestreleasedversion", "componentsleadbyuser",
                            "projectsleadbyuser", "projectswhereuserhasrole",
                            "projectswhereuserhaspermission", "issuesWithRemoteLinksByGlobalId",
                            "standardissuetypes", "subtaskissuetypes", "cascadeoption"}


# ---------------------------------------------------------------- text search
_WORD = re.compile(r"\w+")


def text_matcher(q, field):
    q = q.strip()
    if len(q) >= 2 and q[0] == '"' and q[-1] == '"':
        phrase = q[1:-1].lower()
        return lambda texts: any(t and phrase in t.lower() for t in texts)
    terms = re.findall(r"[\w*?]+", q.lower())
    if not terms:
        raise JQLError("The field '%s' does not support searching for an empty string." % field)
    checks = []
    for term in terms:
        if "*" in term or "?" in term:
            rx = re.compile(fnmatch.translate(term))
            checks.append(lambda words, rx=rx: any(rx.match(w) for w in words))
        else:
            checks.append(lambda words, t=term: any(w.startswith(t) for w in words))

    def match(texts):
        words = []
        for t in texts:
            if t:
                words.extend(_WORD.findall(t.lower()))
        return all(c(words) for c in checks)
    return match


# ---------------------------------------------------------------- compiler
class Context:
    def __init__(self, state, user, validate=True):
        self.state = state
        self.user = user
        self.validate = validate
        self.now = int(time.time() * 1000)
        self.errors = []
        self.warnings = []
        self.cacheable = True
        self.filter_stack = set()     # filters being expanded (filter = X inside X)

    def value_error(self, msg):
        if self.validate:
            self.errors.append(msg)
        else:
            self.warnings.append(msg)


class Compiled:
    def __init__(self, predicate, order, warnings, cacheable, projects):
        self.predicate, self.order, self.warnings = predicate, order, warnings
        self.cacheable, self.projects = cacheable, projects


FIELD_ALIASES = {
    "project": "project", "key": "key", "issuekey": "key", "issue": "key", "id": "key",
    "status": "status", "statuscategory": "statusCategory", "resolution": "resolution",
    "priority": "priority", "issuetype": "issuetype", "type": "issuetype",
    "component": "component", "labels": "labels", "fixversion": "fixVersion",
    "affectedversion": "affectedVersion", "assignee": "assignee", "reporter": "reporter",
    "creator": "creator", "summary": "summary", "description": "description",
    "environment": "environment", "comment": "comment", "text": "text", "created": "created",
    "createddate": "created", "updated": "updated", "updateddate": "updated",
    "resolved": "resolutiondate", "resolutiondate": "resolutiondate", "due": "duedate",
    "duedate": "duedate",
    # attachments IS [NOT] EMPTY (clause name of the Attachment field, /rest/api/2/field)
    "attachments": "attachments",
    # a saved filter by id or name (Jira's clause names for it)
    "filter": "filter", "request": "filter", "savedfilter": "filter", "searchrequest": "filter",
}
CUSTOM_BY_NAME = {f[1].lower(): f[0] for f in C.CUSTOM_FIELDS}
PROP_RE = re.compile(r"^issue\.property\[(.+?)\](?:\.(.+))?$", re.I)
CF_RE = re.compile(r"^(?:cf\[(\d+)\]|customfield_(\d+))$", re.I)

REF_FIELDS = {"project", "status", "statusCategory", "resolution", "priority", "issuetype",
              "assignee", "reporter", "creator", "customfield_10022"}
MULTI_FIELDS = {"component", "labels", "fixVersion", "affectedVersion"}
TEXT_FIELDS = {"summary", "description", "environment", "comment", "text", "customfield_10021"}
_BASE_CUSTOM_BY_NAME = dict(CUSTOM_BY_NAME)
_BASE_TEXT_FIELDS = set(TEXT_FIELDS)


def _site_fields_changed():
    """config site_fields (text fields): searchable by name or cf[N], with ~, !~, IS [NOT]."""
    CUSTOM_BY_NAME.clear()
    CUSTOM_BY_NAME.update(_BASE_CUSTOM_BY_NAME)
    TEXT_FIELDS.clear()
    TEXT_FIELDS.update(_BASE_TEXT_FIELDS)
    for d in C.SITE_FIELDS:
        CUSTOM_BY_NAME[d["name"].lower()] = d["id"]
        TEXT_FIELDS.add(d["id"])


C.SITE_FIELD_HOOKS.append(_site_fields_changed)
DATE_FIELDS = {"created", "updated", "resolutiondate", "duedate"}


def resolve_field(name):
    """-> canonical field name or ('property', key, path) or None."""
    m = PROP_RE.match(name)
    if m:
        return ("property", m.group(1), m.group(2).split(".") if m.group(2) else [])
    m = CF_RE.match(name)
    if m:
        fid = "customfield_%s" % (m.group(1) or m.group(2))
        return fid if fid in C.FIELD_BY_ID else None
    f = FIELD_ALIASES.get(name.lower())
    if f:
        return f
    return CUSTOM_BY_NAME.get(name.lower())


def no_field(name):
    # Jira's wording, e.g. {"errorMessages":["Field 'issuetype' does not exist or you do not
    # have permission to view it."]} (https://github.com/tenable/integration-jira-cloud/
    # issues/25)
    return JQLError("Field '%s' does not exist or you do not have permission to view it." % name)


def _ops_for(f):
    if isinstance(f, tuple):
        return set(OPERATORS) | {"in", "not in", "is", "is not"}
    if f == "attachments":
        return {"is", "is not"}
    if f == "filter":
        return {"=", "!=", "in", "not in"}
    if f == "key":
        return {"=", "!=", "<", "<=", ">", ">=", "in", "not in"}
    if f in REF_FIELDS or f in MULTI_FIELDS:
        return {"=", "!=", "in", "not in", "is", "is not"}
    if f in TEXT_FIELDS:
        ops = {"~", "!~"}
        if f not in ("summary", "text", "comment"):
            ops |= {"is", "is not"}
        return ops
    if f in DATE_FIELDS or f == "customfield_10020":
        return {"=", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not"}
    return set()


def _getter(f):
    if f == "statusCategory":
        return lambda i: C.STATUSES[i.status][2] if i.status in C.STATUSES else None
    if f == "project":
        return lambda i: i.project
    if f == "component":
        return lambda i: i.components
    if f in ("fixVersion", "affectedVersion"):
        return lambda i: ()
    if f == "labels":       # folded, as the JQL index holds them (see _ref_values)
        return lambda i: [v.lower() for v in i.labels if isinstance(v, str)]
    if f.startswith("customfield_"):
        return lambda i: i.custom.get(f)
    if f == "text":
        return lambda i: [i.summary, i.description, i.environment,
                          i.custom.get("customfield_10021")] + [c.body for c in i.comments]
    if f == "comment":
        return lambda i: [c.body for c in i.comments]
    return lambda i, a=f: getattr(i, a)


def compile_query(q, ctx):
    pred = _compile_node(q.where, ctx) if q.where is not None else None
    order = []
    if q.order:
        for name, desc, pos in q.order:
            order.append(_sort_key(name, desc, ctx))
    else:
        order = [(lambda i: (i.project, i.num), True)]
    if ctx.errors:
        raise JQLError(ctx.errors)
    projects = _project_restriction(q.where, ctx) if q.where is not None else None
    return Compiled(pred, order, ctx.warnings, ctx.cacheable, projects)


def _project_restriction(node, ctx):
    if node[0] == "clause":
        f = resolve_field(node[1])
        if f == "project" and node[2] in ("=", "in"):
            vals = node[3][1] if node[3][0] == "list" else [node[3]]
            keys = set()
            for v in vals:
                if v[0] != "value":
                    return None
                p = ctx.state.find_project(ctx.user, v[1])
                if p is None:
                    p = next((x for x in ctx.state.visible_projects(ctx.user)
                              if x.name.lower() == v[1].lower()), None)
                if p is not None:
                    keys.add(p.key)
            return keys
        return None
    if node[0] == "and":
        r = None
        for child in node[1]:
            s = _project_restriction(child, ctx)
            if s is not None:
                r = s if r is None else r & s
        return r
    return None


def _compile_node(node, ctx):
    kind = node[0]
    if kind == "and":
        preds = [_compile_node(n, ctx) for n in node[1]]
        return lambda i: all(p(i) for p in preds)
    if kind == "or":
        preds = [_compile_node(n, ctx) for n in node[1]]
        return lambda i: any(p(i) for p in preds)
    if kind == "not":
        p = _compile_node(node[1], ctx)
        return lambda i: not p(i)
    return _compile_clause(node, ctx)


def _never(i):
    return False


def _indexed(f, ctx):
    """Stock Jira DC searches an issue property only when an installed app declares it in an
    "index document configuration" module (https://developer.atlassian.com/server/jira/
    platform/entity-properties, .../index-document-configuration); otherwise JQL knows no
    such field. The emulator's stand-in for those apps: config indexed_properties."""
    return f[1] in (ctx.state.config.get("indexed_properties") or ())


def _field(name, ctx):
    """-> the resolved field, or JQLError "Field 'x' does not exist ..." (unknown fields and
    unindexed issue properties alike, named as written in the query)."""
    f = resolve_field(name)
    if f is None or (isinstance(f, tuple) and not _indexed(f, ctx)):
        raise no_field(name)
    return f


def _compile_clause(node, ctx):
    _, name, op, operand, pos = node
    f = _field(name, ctx)
    if op not in _ops_for(f):
        shown = op.upper() if op in ("in", "not in", "is", "is not") else op
        fname = name if not isinstance(f, tuple) else name
        ctx.errors.append("The operator '%s' is not supported by the '%s' field." % (shown, fname))
        return _never
    if isinstance(f, tuple):
        return _property_clause(f, name, op, operand, ctx)
    if f == "attachments":
        return (lambda i: not i.attachments) if op == "is" else (lambda i: bool(i.attachments))
    if f == "filter":
        return _filter_clause(name, op, operand[1] if operand[0] == "list" else [operand], ctx)
    getter = _getter(f)
    if op in ("is", "is not"):
        if f in MULTI_FIELDS:
            test = lambda i: not getter(i)
        else:
            test = lambda i: getter(i) is None or getter(i) == ""
        return test if op == "is" else (lambda i: not test(i))
    operands = operand[1] if operand[0] == "list" else [operand]
    if f in TEXT_FIELDS:
        if len(operands) != 1 or operands[0][0] != "value":
            ctx.errors.append("The operator '%s' is not supported by the '%s' field." % (op, name))
            return _never
        m = text_matcher(operands[0][1], name)
        if f == "text" or f == "comment":
            return (lambda i: m(getter(i))) if op == "~" else (lambda i: not m(getter(i)))
        return (lambda i: m((getter(i),))) if op == "~" else (lambda i: not m((getter(i),)))
    if f == "key":
        return _key_clause(name, op, operands, ctx)
    if f in DATE_FIELDS or f == "customfield_10020":
        vals = []
        for o in operands:
            v = _scalar_value(f, name, o, ctx)
            if v is not None:
                vals.append(v)
        return _compare(getter, op, vals)
    # reference and multi-valued fields: resolve operand values to internal ids
    ids = set()
    for o in operands:
        ids |= _ref_values(f, name, o, ctx)
    if f in MULTI_FIELDS:
        if op in ("=", "in"):
            return lambda i: any(v in ids for v in getter(i))
        return lambda i: bool(getter(i)) and not any(v in ids for v in getter(i))
    if op in ("=", "in"):
        return lambda i: getter(i) in ids
    return lambda i: getter(i) is not None and getter(i) not in ids


def _compare(getter, op, vals):
    if op in ("=", "in"):
        s = set(vals)
        return lambda i: getter(i) in s
    if op in ("!=", "not in"):
        s = set(vals)
        return lambda i: getter(i) is not None and getter(i) not in s
    if not vals:
        return _never
    v = vals[0]
    if op == "<":
        return lambda i: getter(i) is not None and getter(i) < v
    if op == "<=":
        return lambda i: getter(i) is not None and getter(i) <= v
    if op == ">":
        return lambda i: getter(i) is not None and getter(i) > v
    return lambda i: getter(i) is not None and getter(i) >= v


def _func_name(o):
    return o[1].lower()


def _check_func(o, allowed, name, ctx):
    fn = _func_name(o)
    if fn not in {k.lower() for k in KNOWN_FUNCS}:
        raise JQLError("Unable to find JQL function '%s(%s)'." % (o[1], ", ".join(o[2])))
    if fn not in allowed:
        ctx.errors.append("A value provided by the function '%s' is invalid for the field '%s'."
                          % (o[1], name))
        return False
    return True


def _scalar_value(f, name, o, ctx):
    if f == "customfield_10020":
        if o[0] != "value":
            ctx.errors.append("Functions are not supported by the field '%s'." % name)
            return None
        try:
            return float(o[1])
        except ValueError:
            ctx.errors.append("The value '%s' is an invalid number for the field '%s'."
                              % (o[1], name))
            return None
    if f == "duedate":
        # stored as yyyy-MM-dd strings; compare as strings after normalising
        if o[0] == "func":
            if not _check_func(o, DATE_FUNCS, name, ctx):
                return None
            ctx.cacheable = False
            ms = _date_function(o[1], o[2], ctx.now)
            return time.strftime("%Y-%m-%d", time.gmtime(ms // 1000)) if ms else None
        r = parse_jql_date(o[1], ctx.now)
        if r is None:
            ctx.errors.append(_bad_date(o[1], name))
            return None
        if r[1]:
            ctx.cacheable = False
        return time.strftime("%Y-%m-%d", time.gmtime(r[0] // 1000))
    if o[0] == "func":
        if not _check_func(o, DATE_FUNCS, name, ctx):
            return None
        ms = _date_function(o[1], o[2], ctx.now)
        if ms is None:
            ctx.errors.append("The argument '%s' of the function '%s' is invalid."
                              % (", ".join(o[2]), o[1]))
            return None
        ctx.cacheable = False
        return ms
    r = parse_jql_date(o[1], ctx.now)
    if r is None:
        ctx.errors.append(_bad_date(o[1], name))
        return None
    if r[1]:
        ctx.cacheable = False
    return r[0]


def _bad_date(v, name):
    return ("Date value '%s' for field '%s' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'." % (v, name))


def _ref_values(f, name, o, ctx):
    st = ctx.state
    if o[0] == "func":
        if f in ("assignee", "reporter", "creator"):
            if not _check_func(o, {"currentuser"}, name, ctx):
                return set()
            return {ctx.user} if ctx.user else set()
        _check_func(o, set(), name, ctx)
        return set()
    v = o[1]
    lv = v.lower()
    missing = "The value '%s' does not exist for the field '%s'." % (v, name)
    if f == "project":
        p = st.find_project(ctx.user, v)
        if p is None:
            p = next((x for x in st.visible_projects(ctx.user) if x.name.lower() == lv), None)
        if p is None:
            ctx.value_error(missing)
            return set()
        return {p.key}
    if f == "status":
        r = {sid for sid, s in C.STATUSES.items() if s[0].lower() == lv or str(sid) == v}
    elif f == "statusCategory":
        r = {cid for cid, c in C.CATEGORIES.items()
             if c[0].lower() == lv or c[1].lower() == lv or str(cid) == v}
    elif f == "resolution":
        if lv == "unresolved":
            return {None}
        r = {rid for rid, s in C.RESOLUTIONS.items() if s[0].lower() == lv or str(rid) == v}
    elif f == "priority":
        r = {pid for pid, s in C.PRIORITIES.items() if s[0].lower() == lv or str(pid) == v}
    elif f == "issuetype":
        r = {tid for tid, s in C.ISSUETYPES.items() if s[0].lower() == lv or str(tid) == v}
    elif f in ("assignee", "reporter", "creator"):
        u = st.user_by_ref(v)
        r = {u} if u else set()
    elif f == "customfield_10022":
        r = {oid for oid, s in C.SOURCE_OPTIONS.items() if s.lower() == lv or str(oid) == v}
    elif f == "component":
        r = {cid for p in st.visible_projects(ctx.user) for cid, cn in p.components.items()
             if cn.lower() == lv or str(cid) == v}
    elif f == "labels":
        # Jira compares labels without regard to case: LabelsClauseQueryFactory searches the
        # folded index with LabelIndexInfoResolver(true), and LabelsIndexer indexes every
        # label lower-cased (DocumentConstants.ISSUE_LABELS_FOLDED) since Jira 4.2 -- stored
        # labels keep their case ("Foo" and "foo" are two labels), `labels = FOO` finds both
        # (Jira source, com.atlassian.jira.jql.query.LabelsClauseQueryFactory and
        # com.atlassian.jira.issue.index.indexers.impl.LabelsIndexer)
        return {v.lower()}
    elif f in ("fixVersion", "affectedVersion"):
        r = set()
    else:
        r = set()
    if not r:
        ctx.value_error(missing)
    return r


_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)-(\d+)$")


def _key_clause(name, op, operands, ctx):
    st = ctx.state
    targets = []
    for o in operands:
        if o[0] != "value":
            if o[0] == "func":
                _check_func(o, set(), name, ctx)
            continue
        v = o[1].strip()
        if v.isdigit():
            i = st.issues_by_id.get(int(v))
        elif _KEY_RE.match(v):
            i = st.lookup_issue(v)
        else:
            ctx.errors.append("The issue key '%s' for field '%s' is invalid." % (v, name))
            continue
        if i is None or not st.can_browse(ctx.user, st.projects[i.project]):
            if op in ("=", "!=", "in", "not in"):
                ctx.value_error("An issue with key '%s' does not exist for field '%s'."
                                % (v, name))
            else:
                m = _KEY_RE.match(v)
                if m:
                    targets.append((m.group(1).upper(), int(m.group(2)), None))
            continue
        targets.append((i.project, i.num, i.id))
    if op in ("=", "in"):
        ids = {t[2] for t in targets}
        return lambda i: i.id in ids
    if op in ("!=", "not in"):
        ids = {t[2] for t in targets}
        return lambda i: i.id not in ids
    if not targets:
        return _never
    proj, num, _ = targets[0]
    cmp = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
           ">=": lambda a, b: a >= b}[op]
    return lambda i: i.project == proj and cmp(i.num, num)


def _filter_clause(name, op, operands, ctx):
    """filter = 10000 / filter in ("My open SEC tickets", 10001): the issues the saved
    filter's query matches (its ORDER BY does not matter), among the filters the user can
    see."""
    preds = []
    for o in operands:
        if o[0] == "func":
            _check_func(o, set(), name, ctx)
            continue
        if o[0] != "value":
            continue
        f = ctx.state.find_filter(ctx.user, o[1])
        if f is None:
            ctx.value_error("The value '%s' does not exist for the field '%s'." % (o[1], name))
            continue
        if f.id in ctx.filter_stack:
            # unverified wording: Jira refuses a filter that refers to itself
            ctx.errors.append("The filter '%s' refers to itself." % f.name)
            continue
        ctx.filter_stack.add(f.id)
        try:
            where = parse(f.jql).where
            preds.append(_compile_node(where, ctx) if where is not None else (lambda i: True))
        finally:
            ctx.filter_stack.discard(f.id)
    if op in ("=", "in"):
        return lambda i: any(p(i) for p in preds)
    return lambda i: not any(p(i) for p in preds)


def _prop_lookup(i, key, path):
    props = i.properties
    if key not in props:
        return None
    v = props[key]
    for seg in path:
        if isinstance(v, dict) and seg in v:
            v = v[seg]
        else:
            return None
    return v


def _prop_str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _property_clause(f, name, op, operand, ctx):
    _, key, path = f

    def get(i):
        v = _prop_lookup(i, key, path)
        if isinstance(v, list):
            return [x for x in v if x is not None and not isinstance(x, (dict, list))]
        if v is None or isinstance(v, dict):
            return []
        return [v]
    if op in ("is", "is not"):
        return (lambda i: not get(i)) if op == "is" else (lambda i: bool(get(i)))
    operands = operand[1] if operand[0] == "list" else [operand]
    vals = [o[1] for o in operands if o[0] == "value"]
    if op in ("=", "in"):
        s = set(vals)
        return lambda i: any(_prop_str(v) in s for v in get(i))
    if op in ("!=", "not in"):
        s = set(vals)
        return lambda i: bool(get(i)) and not any(_prop_str(v) in s for v in get(i))
    if op in ("~", "!~"):
        m = text_matcher(vals[0] if vals else "", name)
        t = lambda i: m([_prop_str(v) for v in get(i)])
        return t if op == "~" else (lambda i: not t(i))
    if not vals:
        return _never
    try:
        ref = float(vals[0])
        conv = float
    except ValueError:
        ref, conv = vals[0], _prop_str
    cmp = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
           ">=": lambda a, b: a >= b}[op]

    def test(i):
        for v in get(i):
            try:
                if cmp(conv(v), ref):
                    return True
            except (TypeError, ValueError):
                pass
        return False
    return test


def _none_last(v):
    return (v is None, v if v is not None else 0)


def _sort_key(name, desc, ctx):
    f = _field(name, ctx)
    if isinstance(f, tuple) or f in ("description", "environment", "comment", "text",
                                     "statusCategory", "attachments", "filter"):
        ctx.errors.append("Field '%s' does not support sorting." % name)
        return (lambda i: 0), False
    default_desc = False
    if f == "key":
        k = lambda i: (i.project, i.num)
    elif f == "project":
        k = lambda i: i.project
    elif f in ("created", "updated", "resolutiondate"):
        k = lambda i, a=f: _none_last(getattr(i, a))
        default_desc = True
    elif f == "duedate":
        k = lambda i: (i.duedate is None, i.duedate or "")
    elif f == "priority":
        order = {p: n for n, p in enumerate(C.PRIORITY_ORDER)}
        k = lambda i: (i.priority is None, -order.get(i.priority, 99))
        default_desc = True
    elif f == "status":
        order = {s: n for n, s in enumerate(C.STATUS_ORDER)}
        k = lambda i: order.get(i.status, 99)
    elif f == "issuetype":
        k = lambda i: C.ISSUETYPES.get(i.issuetype, ("",))[0]
    elif f == "resolution":
        k = lambda i: (i.resolution is None,
                       C.RESOLUTIONS.get(i.resolution, ("",))[0] if i.resolution else "")
    elif f == "summary":
        k = lambda i: (i.summary or "").lower()
    elif f in ("assignee", "reporter", "creator"):
        k = lambda i, a=f: (getattr(i, a) is None,
                            (C.USERS[getattr(i, a)][1] if getattr(i, a) in C.USERS
                             else getattr(i, a) or "").lower())
    elif f == "labels":
        k = lambda i: (not i.labels, ",".join(i.labels))
    elif f == "component":
        k = lambda i: (not i.components, [ctx.state.projects[i.project].components.get(c, "")
                                          for c in i.components])
    elif f == "customfield_10020":
        k = lambda i: _none_last(i.custom.get("customfield_10020"))
    elif f == "customfield_10021":
        k = lambda i: (i.custom.get("customfield_10021") is None,
                       str(i.custom.get("customfield_10021") or "").lower())
    elif f == "customfield_10022":
        k = lambda i: (i.custom.get("customfield_10022") is None,
                       C.SOURCE_OPTIONS.get(i.custom.get("customfield_10022"), ""))
    else:
        k = lambda i: 0
    if desc is None:
        desc = default_desc
    return k, desc
