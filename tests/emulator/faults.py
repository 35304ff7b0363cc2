"""Fault injection rules (see README "Fault rules").

A rule: {"method": "GET"|null, "path": prefix|null, "action": A, "count": N|null,
"skip": K, "p": P, "seed": S, ...action options}. Rules are tried in order; a rule
*matches* a request when method and path fit and it still has a count left. A matching rule
with a probability ``p`` first draws from its own ``random.Random(seed)``: when it does not
fire, the request goes on to the next rules as if this one were absent (its count and skip
stay as they are). A matching rule without ``p``, or one that fires, takes the request: while
its ``skip`` is above zero the request passes untouched (and skip goes down by one), otherwise
the rule applies (count goes down by one, ``applied`` up by one). ``path`` is a prefix of the
path without the query string, unless it contains ``?``, then it is a prefix of path+query;
with ``"exact": true`` it must equal it instead (``{"method": "POST", "path":
"/rest/api/2/issue", "exact": true}`` takes creates only, not comments or transitions).

Independent p-rules on the same requests thus give an overall fault rate of 1 - prod(1 - p),
and the draws are reproducible: the default seed is the rule's id.
"""

import random
import threading

ACTIONS = {"status", "status_after", "html", "drop", "drop_after", "truncate", "latency",
           "hang"}


class FaultError(ValueError):
    pass


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Rule:
    def __init__(self, d, seq):
        if not isinstance(d, dict):
            raise FaultError("a rule must be an object")
        self.seq = seq
        self.action = d.get("action")
        if self.action not in ACTIONS:
            raise FaultError("unknown action %r (one of %s)" % (self.action,
                                                                ", ".join(sorted(ACTIONS))))
        self.method = d.get("method")
        self.method = self.method.upper() if isinstance(self.method, str) else None
        self.path = d.get("path") if isinstance(d.get("path"), str) else None
        # "exact": the path must equal `path` instead of starting with it, so a rule can take
        # POST /rest/api/2/issue (a create) without POST /rest/api/2/issue/KEY/comment
        self.exact = d.get("exact", False)
        if not isinstance(self.exact, bool):
            raise FaultError("exact must be true or false")
        if self.exact and self.path is None:
            raise FaultError("exact needs a path")
        # latency "after": process the request first (the create is committed), then wait
        # before answering -- a slow answer rather than a slow start
        self.after = d.get("after", False)
        if not isinstance(self.after, bool):
            raise FaultError("after must be true or false")
        if self.after and self.action != "latency":
            raise FaultError("after applies only to the latency action")
        count = d.get("count")
        if count is not None and (not isinstance(count, int) or count < 0):
            raise FaultError("count must be a non-negative integer or null")
        self.count = count
        skip = d.get("skip") or 0
        if not isinstance(skip, int) or skip < 0:
            raise FaultError("skip must be a non-negative integer")
        self.skip = skip
        self.status = d.get("status")
        self.html = d.get("html")   # None: the action's default (HTML only for status_after)
        self.retry_after = d.get("retry_after")
        self.ms = d.get("ms")
        for name in ("status", "ms"):
            v = getattr(self, name)
            if v is not None and not _number(v):
                raise FaultError("%s must be a number" % name)
        if self.status is not None and not 100 <= self.status <= 599:
            raise FaultError("status must be an HTTP status (100-599)")
        self.p = d.get("p")
        if self.p is not None and (not _number(self.p) or not 0 <= self.p <= 1):
            raise FaultError("p must be a number from 0 to 1")
        seed = d.get("seed", seq)
        if not isinstance(seed, (int, str)) or isinstance(seed, bool):
            raise FaultError("seed must be an integer or a string")
        self.rng = random.Random(seed)
        self.body = d.get("body")   # optional custom body (status/status_after/html)
        self.applied = 0
        self.matched = 0
        self.released = threading.Event()
        self.spec = {k: v for k, v in d.items()}

    def matches(self, method, path, target):
        if self.method and self.method != method:
            return False
        if self.path:
            subject = target if "?" in self.path else path
            if self.exact:
                if subject != self.path:
                    return False
            elif not subject.startswith(self.path):
                return False
        return self.count is None or self.count > 0

    def fires(self):
        """A rule without p always fires; a p-rule draws (one draw per matching request)."""
        return self.p is None or self.rng.random() < self.p

    def describe(self):
        d = dict(self.spec)
        d.update({"id": self.seq, "remaining": self.count, "skip": self.skip,
                  "applied": self.applied, "matched": self.matched})
        return d


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.seq = 0

    def add(self, rules):
        if isinstance(rules, dict):
            rules = [rules]
        if not isinstance(rules, list):
            raise FaultError("rules must be a list")
        new = []
        with self.lock:
            seq = self.seq
            for d in rules:     # all or nothing: a bad rule adds none of the list
                seq += 1
                new.append(Rule(d, seq))
            self.seq = seq
            self.rules.extend(new)
        return [r.describe() for r in new]

    def clear(self):
        with self.lock:
            old, self.rules = self.rules, []
        for r in old:
            r.released.set()

    def list(self):
        with self.lock:
            return [r.describe() for r in self.rules]

    def match(self, method, path, target):
        """-> the Rule to apply, or None."""
        with self.lock:
            for r in self.rules:
                if not r.matches(method, path, target):
                    continue
                r.matched += 1
                if not r.fires():
                    continue        # as if absent: the next rules may take the request
                if r.skip > 0:
                    r.skip -= 1
                    return None
                if r.count is not None:
                    r.count -= 1
                r.applied += 1
                return r
        return None
