#!/usr/bin/env python
"""hubgen: deterministic, fast generator of Black Duck Hub-like data for the migration lab.

It writes ONE SQL stream, meant for

    python3 hubgen.py --scale 50 | psql -v ON_ERROR_STOP=1 -X -q -d postgres   # as the superuser

that creates (when missing) the Hub's roles (blackduck, blackduck_user, blackduck_reporter) and databases
(bds_hub, bds_hub_report, bdio), then fills them with Hub-looking schemas and data:

* bds_hub, schema st: 27 tables (serial/bigserial, uuid, natural text and composite keys; enum, jsonb, bytea,
  text[], inet, numeric, date, timestamptz ...), foreign keys, unique/partial/expression indexes, a CHECK,
  a view (st.project_summary), a plpgsql trigger function (st.touch_updated_at) and its triggers, three
  large objects (fixed OIDs, see LO_OIDS) referenced by st.file_blob, sequences set to max(id), the
  standalone sequence st.hub_event_seq at 424242, grants and default privileges for blackduck_user.
* bds_hub_report, schema reporting: reporting copies, readable by blackduck_reporter.
* bdio, schema public: "bdio documents" (jsonb) and chunks (bytea).

The stream refuses (fails before changing any data) when bds_hub.st, bds_hub_report.reporting or the bdio
tables already exist.  Each database is filled in one transaction, pg_dump style: tables, COPY, then keys,
indexes and the rest.  Only syntax that PostgreSQL 11 and 15 both accept is used.

Options:
  --scale MB     approximate COPY payload in MB (10^6 bytes), all databases together (default 10);
                 0 gives the tiny version: every table with at least one row.
  --seed N       the same seed and scale give byte-identical output (default 1).
  --password PW  password set for the three roles (default blackduck).
  --output FILE  write there instead of stdout.
  --summary      print, as JSON, {database: {"schema.table": rows}} the stream would load, without
                 generating it (also: expected_row_counts(scale, seed)).

Speed: values come from pools built once per run and are picked by index arithmetic, never by a random call
per row; rows are f-strings joined in chunks of thousands and written as bytes.

Python 3.9+ standard library only.  Determinism: random.Random seeded by strings (sha512-based, not hash()),
no clock, no set iteration.
"""

import argparse
import datetime as _dt
import hashlib
import json
import os
import random
import sys
from itertools import islice

MB = 1_000_000
DATABASES = ("bds_hub", "bds_hub_report", "bdio")
ROLES = ("blackduck", "blackduck_user", "blackduck_reporter")
LO_OIDS = (990001, 990002, 990003)  # fixed, so a migration check can look them up by OID
HUB_EVENT_SEQ_VALUE = 424242
ESCAPE_PROBE_KEY = "hubgen.escape.probe"
# Stored in st.policy_setting under ESCAPE_PROBE_KEY: a test compares it byte for byte after a load.
ESCAPE_PROBE = ("probe:\ttab\nnewline\\backslash\r\\N \\. \"double\" 'single' {a,b} — "
                "Ünïcödé 日本語 🚀 Ελληνικά Привет")
# Estimated COPY bytes of the fixed-size tables; subtracted from the budget the scaled tables share.
FIXED_OVERHEAD = 12_000

# --------------------------------------------------------------------------------------------------------
# COPY text-format encoding
# --------------------------------------------------------------------------------------------------------
NULL = "\\N"


def esc(s):
    """A Python str as a COPY text-format field (backslash, tab, newline, CR escaped)."""
    if "\\" in s:
        s = s.replace("\\", "\\\\")
    if "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def opt(s):
    """esc(s), or the COPY NULL marker for None."""
    return NULL if s is None else esc(s)


def arr(items):
    """A text[] value as a COPY field: every element double-quoted, '"' and backslash escaped."""
    parts = []
    for x in items:
        if x is None:
            parts.append("NULL")
        else:
            parts.append('"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return esc("{" + ",".join(parts) + "}")


def js(obj):
    """A jsonb value as a COPY field (stable key order, non-ASCII kept as is)."""
    return esc(json.dumps(obj, ensure_ascii=False, sort_keys=True))


def bx(data):
    """A bytea value as a COPY field: hex format; the backslash of \\x is itself escaped for COPY."""
    return "\\\\x" + data.hex()


def sql_lit(s):
    return "'" + s.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------------------
# Value pools (built once per run from the seed)
# --------------------------------------------------------------------------------------------------------
WORDS = ("alpha beta gamma delta scanner component license policy vulnerability remediation artifact maven "
         "npm pypi nuget golang cargo docker layer signature snippet binary source dependency transitive "
         "direct manual review approved rejected kernel openssl logging parser runtime plugin adapter "
         "client server bridge cache index stream archive").split()
INTL_WORDS = ("Ünïcödé — 日本語 🚀 Привет мир Ελληνικά λόγος naïve café Zürich Straße 東京 中文 한국어 שלום "
              "مرحبا ∑∆√ 🎉 Ærøskøbing façade jalapeño Ångström Łódź Ñandú").split(" ")
NASTY = (
    "tab\there", "line1\nline2\nline3", "back\\slash", "C:\\Program Files\\Black Duck\\hub.log",
    "\\N is not NULL", "\\.", "cr\r\nlf", "quote ' and \"double\"", "{braces, commas}", "trailing backslash\\",
    "ends with tab\t", "\ttab first", "mixed\t\\t\\n literal escapes", "json-ish {\"k\": \"v\\n\"}",
    "Ünïcödé — 日本語 — emoji 🚀\twith tab", "Кириллица\nи новая строка", "Ελληνικά\\με\\backslash",
)
LICENSES = (  # (key, name, spdx, family, osi)
    ("mit", "MIT License", "MIT", "PERMISSIVE", True),
    ("apache-2.0", "Apache License 2.0", "Apache-2.0", "PERMISSIVE", True),
    ("bsd-2-clause", "BSD 2-Clause \"Simplified\" License", "BSD-2-Clause", "PERMISSIVE", True),
    ("bsd-3-clause", "BSD 3-Clause \"New\" or \"Revised\" License", "BSD-3-Clause", "PERMISSIVE", True),
    ("isc", "ISC License", "ISC", "PERMISSIVE", True),
    ("zlib", "zlib License", "Zlib", "PERMISSIVE", True),
    ("gpl-2.0", "GNU General Public License v2.0 only", "GPL-2.0-only", "RECIPROCAL", True),
    ("gpl-3.0", "GNU General Public License v3.0 or later", "GPL-3.0-or-later", "RECIPROCAL", True),
    ("lgpl-2.1", "GNU Lesser General Public License v2.1", "LGPL-2.1-only", "WEAK_RECIPROCAL", True),
    ("lgpl-3.0", "GNU Lesser General Public License v3.0", "LGPL-3.0-only", "WEAK_RECIPROCAL", True),
    ("agpl-3.0", "GNU Affero General Public License v3.0", "AGPL-3.0-only", "RECIPROCAL_AGPL", True),
    ("mpl-2.0", "Mozilla Public License 2.0", "MPL-2.0", "WEAK_RECIPROCAL", True),
    ("epl-2.0", "Eclipse Public License 2.0", "EPL-2.0", "WEAK_RECIPROCAL", True),
    ("cddl-1.0", "Common Development and Distribution License 1.0", "CDDL-1.0", "WEAK_RECIPROCAL", True),
    ("unlicense", "The Unlicense", "Unlicense", "PERMISSIVE", True),
    ("cc0-1.0", "Creative Commons Zero v1.0 Universal", "CC0-1.0", "PERMISSIVE", False),
    ("cc-by-4.0", "Creative Commons Attribution 4.0", "CC-BY-4.0", "PERMISSIVE", False),
    ("wtfpl", "Do What The F*ck You Want To Public License", "WTFPL", "PERMISSIVE", False),
    ("json", "The JSON License (\"Good, not Evil\")", "JSON", "PERMISSIVE", False),
    ("openssl", "OpenSSL License", "OpenSSL", "PERMISSIVE", False),
    ("python-2.0", "Python License 2.0", "Python-2.0", "PERMISSIVE", True),
    ("artistic-2.0", "Artistic License 2.0", "Artistic-2.0", "PERMISSIVE", True),
    ("eupl-1.2", "European Union Public Licence 1.2 — Licence publique de l'Union européenne",
     "EUPL-1.2", "RECIPROCAL", True),
    ("proprietary", "Proprietäre Lizenz (専有ライセンス)", None, "PROPRIETARY", False),
    ("unknown", "Unknown License", None, "UNKNOWN", False),
)
USER_GROUPS = ("Administrators", "Security Team", "Développeurs", "Разработчики", "レビュー担当", "Auditors\tQA")
POLICY_RULES = (  # (name, severity)
    ("No GPL in distributed code", "HIGH"), ("No AGPL anywhere", "CRITICAL"),
    ("Critical vulnerabilities block release", "CRITICAL"), ("High vulnerabilities need review", "HIGH"),
    ("Unknown licenses need review", "MEDIUM"), ("Deprecated components", "LOW"),
    ("Components older than 5 years", "LOW"), ("Unapproved proprietary code", "HIGH"),
    ("Politique: aucune licence inconnue", "MEDIUM"), ("Политика: проверка уязвимостей", "HIGH"),
    ("Snippet matches need review", "MEDIUM"), ("Unmaintained components", "LOW"),
)
JOB_TYPES = ("ReportingDatabaseTransferJob", "ScanPurgeJob", "VulnerabilityUpdateJob", "BomComputationJob",
             "NotificationJob", "KbUpdateJob", "AuditEventCleanupJob", "LicenseTermFulfillmentJob",
             "SnippetScanJob", "VersionBomComputeJob", "ReportingDatabaseTransferJob")
JOB_STATUSES = ("SCHEDULED", "DISPATCHED", "RUNNING", "COMPLETED", "FAILED")
PROJECT_TAGS = ("frontend", "backend", "mobile", "internal", "customer-facing", "legacy", "pci", "gdpr",
                "サービス", "ядро")
USAGE_METRICS = ("scans.completed", "scans.failed", "bom.entries", "api.calls", "users.active",
                 "storage.bytes", "kb.lookups")


def _fmt_ts(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S") + ".%06d+00" % dt.microsecond


class Ctx:
    """Counts of every table plus the shared value pools, all derived from the seed."""

    def __init__(self, seed, counts):
        self.seed = seed
        self.counts = counts
        r = self.rng("pools")
        base = _dt.datetime(2019, 1, 1, tzinfo=_dt.timezone.utc)
        span = 5 * 365 * 86400
        # Sorted timestamps: rows pick ts[i * len // n] so created_at grows with the id, as in a real Hub.
        self.ts = sorted(_fmt_ts(base + _dt.timedelta(seconds=r.randrange(span), microseconds=r.randrange(10**6)))
                         for dummy in range(8192))
        self.dates = sorted((base.date() + _dt.timedelta(days=r.randrange(span // 86400))).isoformat()
                            for dummy in range(2048))
        self.sentences = [esc(self.sentence(r, 3, 14)) for dummy in range(1021)]
        self.raw_sentences = [self.sentence(r, 4, 20) for dummy in range(509)]
        # Comments: mostly sentences, some nasty strings, ~1/4 NULL.
        com = []
        for k in range(997):
            x = r.random()
            com.append(NULL if x < 0.25 else esc(r.choice(NASTY)) if x < 0.35 else esc(self.sentence(r, 2, 16)))
        self.comments = com

    def rng(self, name):
        # A str seed is hashed with sha512 by random (version 2 seeding): stable across runs and versions.
        return random.Random("hubgen/%s/%s" % (self.seed, name))

    def uuid(self, name):
        """i -> a deterministic, unique, v4-looking uuid string, one family per name."""
        r = self.rng("uuid/" + name)
        prefix = "%08x-%04x-4%03x-%x%03x-" % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(12),
                                              8 + r.getrandbits(2), r.getrandbits(12))
        mult, off = r.getrandbits(47) * 2 + 1, r.getrandbits(48)  # odd multiplier: a bijection mod 2**48
        mask = (1 << 48) - 1
        return lambda i: prefix + "%012x" % ((i * mult + off) & mask)

    @staticmethod
    def sentence(r, lo, hi):
        words = []
        for dummy in range(r.randint(lo, hi)):
            words.append(r.choice(INTL_WORDS) if r.random() < 0.2 else r.choice(WORDS))
        return " ".join(words)

    def ts_at(self, i, n):
        """The timestamp for row i of n (1-based), increasing with i."""
        return self.ts[(i - 1) * len(self.ts) // max(n, 1)]


# --------------------------------------------------------------------------------------------------------
# Table registry
# --------------------------------------------------------------------------------------------------------
class Table:
    def __init__(self, db, qname, ddl, gen, share, row_bytes, min_rows, fixed, cap):
        self.db, self.qname, self.ddl, self.gen = db, qname, ddl.strip("\n"), gen
        self.share, self.row_bytes, self.min_rows, self.fixed, self.cap = share, row_bytes, min_rows, fixed, cap
        lines = [ln.strip().rstrip(",") for ln in self.ddl.splitlines() if ln.strip()]
        self.columns = [ln.split()[0] for ln in lines]
        self.serial = [ln.split()[0] for ln in lines if ln.split()[1] in ("serial", "bigserial")]


TABLES = []


def table(db, qname, ddl, share=0.0, row_bytes=100, min_rows=1, fixed=None, cap=None):
    """Register a table.  ddl: one column per line (constraints come after the load, see POST_SQL).
    Row count: `fixed` rows, or share (a relative weight) of the scaled budget / row_bytes (the measured
    average COPY line size), at least min_rows, at most cap(counts so far).
    The decorated generator(ctx, n) yields the n COPY lines, without their newline."""
    def deco(fn):
        TABLES.append(Table(db, qname, ddl, fn, share, row_bytes, min_rows, fixed, cap))
        return fn
    return deco


# ----- bds_hub -------------------------------------------------------------------------------------------
@table("bds_hub", "st.user_account", """
    id serial NOT NULL,
    username varchar(64) NOT NULL,
    email text,
    display_name text,
    active boolean NOT NULL DEFAULT true,
    roles text[],
    created_at timestamp with time zone NOT NULL,
    last_login timestamp with time zone
""", share=0.002, row_bytes=132, min_rows=12)
def _user_account(ctx, n):
    r = ctx.rng("st.user_account")
    role_sets = (["SYSADMIN", "SUPERUSER"], ["PROJECT_CREATOR"], ["GLOBAL_CODE_SCANNER", "BOM_MANAGER"],
                 ["POLICY_MANAGER"], ["SECURITY_MANAGER", "LICENSE_MANAGER"], [])
    for i in range(1, n + 1):
        name = "sysadmin" if i == 1 else "user%05d" % i
        email = NULL if i % 11 == 5 else "%s@%s.example.com" % (name.upper() if i % 7 == 3 else name, "corp")
        display = NULL if i % 9 == 4 else esc(ctx.sentence(r, 1, 3).title())
        last = NULL if i % 4 == 0 else ctx.ts[(i * 37) % len(ctx.ts)]
        yield "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s" % (i, name, email, display, "f" if i % 13 == 12 else "t",
                                                  arr(role_sets[i % len(role_sets)]), ctx.ts_at(i, n), last)


@table("bds_hub", "st.user_group", """
    id serial NOT NULL,
    name varchar(128) NOT NULL,
    description text,
    created_at timestamp with time zone NOT NULL
""", fixed=len(USER_GROUPS))
def _user_group(ctx, n):
    for i in range(1, n + 1):
        yield "%d\t%s\t%s\t%s" % (i, esc(USER_GROUPS[i - 1]), ctx.comments[i * 3], ctx.ts_at(i, n))


@table("bds_hub", "st.user_group_member", """
    group_id integer NOT NULL,
    user_id integer NOT NULL,
    added_at timestamp with time zone NOT NULL
""", share=0.002, row_bytes=36, min_rows=2, cap=lambda c: c["st.user_group"] * c["st.user_account"])
def _user_group_member(ctx, n):
    c = ctx.counts
    g, u = c["st.user_group"], c["st.user_account"]
    for i in range(n):  # (user, i // u) is unique while i < u * g; the offset keeps it so
        user = i % u
        yield "%d\t%d\t%s" % ((i // u + user) % g + 1, user + 1, ctx.ts[(i * 11) % len(ctx.ts)])


@table("bds_hub", "st.license", """
    id serial NOT NULL,
    license_key text NOT NULL,
    name text NOT NULL,
    spdx_id varchar(64),
    family text NOT NULL,
    osi_approved boolean NOT NULL,
    url text,
    notice text
""", fixed=len(LICENSES))
def _license(ctx, n):
    for i in range(1, n + 1):
        key, name, spdx, fam, osi = LICENSES[i - 1]
        url = NULL if spdx is None else "https://spdx.org/licenses/%s.html" % spdx
        yield "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s" % (i, key, esc(name), opt(spdx), fam, "t" if osi else "f", url,
                                                  ctx.comments[i * 5])


@table("bds_hub", "st.vulnerability", """
    vuln_id varchar(32) NOT NULL,
    source varchar(16) NOT NULL,
    severity st.severity NOT NULL,
    cvss_score numeric(3,1) CHECK (cvss_score >= 0 AND cvss_score <= 10),
    published_on date,
    summary text,
    cwe_ids text[],
    reference_data jsonb
""", share=0.03, row_bytes=257, min_rows=2)
def _vulnerability(ctx, n):
    r = ctx.rng("st.vulnerability")
    sev = ("LOW", "MEDIUM", "MEDIUM", "HIGH", "HIGH", "CRITICAL")
    cwes = [arr(["CWE-%d" % r.randrange(20, 1000) for dummy in range(r.randrange(0, 4))]) for dummy in range(61)]
    refs = [js({"urls": ["https://nvd.example.org/vuln/%d" % r.randrange(10**6) for dummy in range(r.randrange(1, 4))],
                "vendor": r.choice(INTL_WORDS + WORDS), "exploit": r.random() < 0.2}) for dummy in range(127)]
    scores = ["%.1f" % (k / 10) for k in range(101)]
    for i in range(1, n + 1):
        year = 2000 + i % 24
        vid = ("CVE-%d-%d" % (year, 10000 + i)) if i % 3 else ("BDSA-%d-%05d" % (year, i))
        yield "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s" % (
            vid, "NVD" if i % 3 else "BDSA", sev[i % 6], NULL if i % 17 == 0 else scores[(i * 37) % 101],
            ctx.dates[(i * 13) % len(ctx.dates)], ctx.sentences[(i * 7) % 1021] if i % 10 else ctx.comments[i % 997],
            cwes[i % 61], refs[(i * 5) % 127])


@table("bds_hub", "st.component", """
    id uuid NOT NULL,
    name text NOT NULL,
    namespace varchar(32) NOT NULL,
    homepage text,
    description text,
    tags text[],
    created_at timestamp with time zone NOT NULL
""", share=0.02, row_bytes=203, min_rows=2)
def _component(ctx, n):
    r = ctx.rng("st.component")
    uid = ctx.uuid("st.component")
    ns = ("maven", "npm", "pypi", "nuget", "golang", "cargo", "rubygems", "github", "debian", "alpine")
    names = [esc(r.choice(WORDS) + "-" + r.choice(WORDS + INTL_WORDS[:8])) for dummy in range(257)]
    tags = [arr([r.choice(WORDS) for dummy in range(r.randrange(0, 5))]) for dummy in range(53)]
    for i in range(1, n + 1):
        yield "%s\t%s-%d\t%s\t%s\t%s\t%s\t%s" % (
            uid(i), names[i % 257], i, ns[i % 10],
            NULL if i % 5 == 0 else "https://%s.example.org/%d" % (ns[i % 10], i),
            ctx.sentences[(i * 3) % 1021] if i % 8 else ctx.comments[(i * 3) % 997], tags[i % 53], ctx.ts_at(i, n))


@table("bds_hub", "st.component_version", """
    id uuid NOT NULL,
    component_id uuid NOT NULL,
    version_name varchar(100) NOT NULL,
    release_date date,
    license_id integer,
    risk_score numeric(6,2),
    origin jsonb,
    deprecated boolean NOT NULL DEFAULT false
""", share=0.04, row_bytes=215, min_rows=3)
def _component_version(ctx, n):
    r = ctx.rng("st.component_version")
    uid, cuid = ctx.uuid("st.component_version"), ctx.uuid("st.component")
    nc, nl = ctx.counts["st.component"], ctx.counts["st.license"]
    origins = [js({"externalNamespace": r.choice(["maven", "npm", "pypi", "github"]),
                   "externalId": "%s:%s" % (r.choice(WORDS), r.choice(WORDS)),
                   "purl": "pkg:%s/%s@%d.%d" % (r.choice(WORDS), r.choice(WORDS), r.randrange(9), r.randrange(40)),
                   "note": r.choice(NASTY) if r.random() < 0.1 else None}) for dummy in range(211)]
    risks = ["%d.%02d" % (k // 100, k % 100) for k in range(0, 100000, 7)]
    nr = len(risks)
    for i in range(1, n + 1):
        comp = (i - 1) % nc + 1  # every component gets versions; version number from the round
        yield "%s\t%s\t%d.%d.%d\t%s\t%s\t%s\t%s\t%s" % (
            uid(i), cuid(comp), (i - 1) // nc + 1, i % 13, i % 7, NULL if i % 19 == 0 else ctx.dates[(i * 7) % 2048],
            NULL if i % 23 == 0 else (i * 5) % nl + 1, risks[(i * 31) % nr], origins[i % 211],
            "t" if i % 29 == 0 else "f")


@table("bds_hub", "st.component_vulnerability", """
    component_version_id uuid NOT NULL,
    vuln_id varchar(32) NOT NULL,
    first_seen timestamp with time zone NOT NULL,
    remediation text
""", share=0.02, row_bytes=91, min_rows=1, cap=lambda c: c["st.component_version"] * c["st.vulnerability"])
def _component_vulnerability(ctx, n):
    cv, nv = ctx.counts["st.component_version"], ctx.counts["st.vulnerability"]
    uid = ctx.uuid("st.component_version")
    rem = ("NEW", "NEEDS_REVIEW", "REMEDIATION_REQUIRED", "PATCHED", "IGNORED", "MITIGATED", "DUPLICATE")
    for i in range(n):
        c = i % cv
        v = (i // cv + c * 7) % nv + 1  # unique (c, v) while i < cv * nv
        year = 2000 + v % 24
        vid = ("CVE-%d-%d" % (year, 10000 + v)) if v % 3 else ("BDSA-%d-%05d" % (year, v))
        yield "%s\t%s\t%s\t%s" % (uid(c + 1), vid, ctx.ts[(i * 17) % 8192], rem[i % 7] if i % 5 else NULL)


@table("bds_hub", "st.project", """
    id bigserial NOT NULL,
    project_uuid uuid NOT NULL,
    name text NOT NULL,
    description text,
    owner_id integer,
    tier smallint,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
""", share=0.005, row_bytes=178, min_rows=2)
def _project(ctx, n):
    r = ctx.rng("st.project")
    uid = ctx.uuid("st.project")
    nu = ctx.counts["st.user_account"]
    names = [esc(ctx.sentence(r, 1, 3)) for dummy in range(97)]
    for i in range(1, n + 1):
        ts = ctx.ts_at(i, n)
        yield "%d\t%s\t%s #%d\t%s\t%s\t%d\t%s\t%s" % (
            i, uid(i), names[i % 97], i, ctx.comments[(i * 7) % 997], NULL if i % 6 == 0 else (i * 3) % nu + 1,
            i % 5 + 1, ts, ts)


@table("bds_hub", "st.project_tag", """
    project_id bigint NOT NULL,
    tag text NOT NULL
""", share=0.0005, row_bytes=13, min_rows=1, cap=lambda c: c["st.project"] * len(PROJECT_TAGS))
def _project_tag(ctx, n):
    p = ctx.counts["st.project"]
    for i in range(n):
        proj = i % p
        yield "%d\t%s" % (proj + 1, PROJECT_TAGS[(i // p + proj) % len(PROJECT_TAGS)])


@table("bds_hub", "st.project_version", """
    id bigserial NOT NULL,
    project_id bigint NOT NULL,
    version_name text NOT NULL,
    phase st.version_phase NOT NULL,
    distribution varchar(20) NOT NULL,
    released_on date,
    settings jsonb,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
""", share=0.01, row_bytes=190, min_rows=3)
def _project_version(ctx, n):
    r = ctx.rng("st.project_version")
    p = ctx.counts["st.project"]
    phases = ("PLANNING", "DEVELOPMENT", "PRERELEASE", "RELEASED", "RELEASED", "DEPRECATED", "ARCHIVED")
    dist = ("EXTERNAL", "SAAS", "INTERNAL", "OPENSOURCE")
    settings = [js({"cloneFrom": r.choice([None, "1.0"]), "nickname": r.choice(INTL_WORDS + [None]),
                    "notifications": r.random() < 0.5, "license": r.choice(LICENSES)[0]}) for dummy in range(67)]
    for i in range(1, n + 1):
        k = (i - 1) // p  # round; (project, round) is unique, so is (project, version_name)
        ts = ctx.ts_at(i, n)
        yield "%d\t%d\t%d.%d%s\t%s\t%s\t%s\t%s\t%s\t%s" % (
            i, (i - 1) % p + 1, k + 1, i % 10, "-β" if i % 9 == 0 else "", phases[i % 7], dist[i % 4],
            NULL if i % 3 == 0 else ctx.dates[(i * 11) % 2048], settings[i % 67], ts, ts)


@table("bds_hub", "st.code_location", """
    id bigserial NOT NULL,
    project_version_id bigint,
    name text NOT NULL,
    url text,
    scan_size bigint,
    created_at timestamp with time zone NOT NULL
""", share=0.02, row_bytes=115, min_rows=2)
def _code_location(ctx, n):
    pv = ctx.counts["st.project_version"]
    hosts = ("build-01", "jenkins.corp", "gitlab-runner-7", "ci-агент", "ビルド")
    for i in range(1, n + 1):
        yield "%d\t%s\t%s/%s/%d scan\t%s\t%d\t%s" % (
            i, NULL if i % 10 == 0 else (i * 7) % pv + 1, hosts[i % 5], WORDS[i % len(WORDS)], i,
            NULL if i % 4 == 0 else "file:///var/lib/jenkins/workspace/%s-%d" % (WORDS[(i * 3) % len(WORDS)], i),
            (i * 104729) % 10**10, ctx.ts_at(i, n))


@table("bds_hub", "st.scan", """
    id bigserial NOT NULL,
    code_location_id bigint NOT NULL,
    scan_uuid uuid NOT NULL,
    status st.scan_status NOT NULL,
    scan_type varchar(32) NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    file_count integer,
    match_count integer,
    host text,
    log text
""", share=0.10, row_bytes=630, min_rows=2)
def _scan(ctx, n):
    r = ctx.rng("st.scan")
    uid = ctx.uuid("st.scan")
    ncl = ctx.counts["st.code_location"]
    status = ("COMPLETE", "COMPLETE", "COMPLETE", "ERROR", "RUNNING", "QUEUED", "CANCELLED")
    stype = ("SIGNATURE", "BDIO", "SNIPPET", "BINARY", "CONTAINER")
    logs = []
    for dummy in range(251):  # multi-line logs with tabs, backslash paths and non-ASCII
        lines = []
        for k in range(r.randrange(1, 12)):
            lines.append("%s\t%s\t%s" % (r.choice(ctx.ts)[:19], r.choice(("INFO", "WARN", "DEBUG", "ERROR")),
                                         r.choice(NASTY) if r.random() < 0.15 else ctx.sentence(r, 3, 12)))
        logs.append(esc("\n".join(lines)))
    for i in range(1, n + 1):
        st = status[i % 7]
        t = ctx.ts_at(i, n)
        yield "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s" % (
            i, (i * 13) % ncl + 1, uid(i), st, stype[i % 5], t,
            NULL if st in ("RUNNING", "QUEUED") else ctx.ts[min(8191, (i - 1) * 8192 // n + 3)],
            (i * 7919) % 250000, (i * 389) % 4000, "scanner-%02d.corp" % (i % 17), logs[i % 251])


@table("bds_hub", "st.file_content", """
    sha256 char(64) NOT NULL,
    scan_id bigint NOT NULL,
    path text NOT NULL,
    content bytea,
    size_bytes integer NOT NULL
""", share=0.15, row_bytes=5150, min_rows=1)
def _file_content(ctx, n):
    r = ctx.rng("st.file_content")
    ns = ctx.counts["st.scan"]
    blobs = []
    for k in range(61):
        size = r.randrange(256, 5500)
        if k % 3 == 0:  # text-like content (source code with non-ASCII), else random bytes
            data = "\n".join(ctx.sentence(r, 4, 12) for dummy in range(size // 60 + 1)).encode()[:size]
        else:
            data = r.getrandbits(8 * size).to_bytes(size, "little")
        blobs.append((bx(data), len(data)))
    exts = ("java", "js", "py", "go", "c", "h", "rs", "txt", "jar", "so")
    seed_b = str(ctx.seed).encode()
    for i in range(1, n + 1):
        content, size = blobs[(i * 7) % 61]
        yield "%s\t%d\t/src/%s/%s/file_%d.%s\t%s\t%d" % (
            hashlib.sha256(b"%s/%d" % (seed_b, i)).hexdigest(), (i * 3) % ns + 1, WORDS[i % len(WORDS)],
            WORDS[(i * 5) % len(WORDS)], i, exts[i % 10], NULL if i % 50 == 0 else content, size)


@table("bds_hub", "st.bom_entry", """
    id bigserial NOT NULL,
    project_version_id bigint NOT NULL,
    component_version_id uuid NOT NULL,
    usage varchar(32) NOT NULL,
    match_types text[],
    review_status text NOT NULL,
    policy_status text NOT NULL,
    adjusted boolean NOT NULL DEFAULT false,
    comment text,
    created_at timestamp with time zone NOT NULL
""", share=0.21, row_bytes=199, min_rows=3)
def _bom_entry(ctx, n):
    c = ctx.counts
    pv, cv = c["st.project_version"], c["st.component_version"]
    cuid = ctx.uuid("st.component_version")
    cv_ids = [cuid(k) for k in range(1, min(cv, 200000) + 1)]  # precomputed: uuid() is the costliest part
    ncv = len(cv_ids)
    usage = ("DYNAMICALLY_LINKED", "STATICALLY_LINKED", "SOURCE_CODE", "DEV_TOOL_EXCLUDED", "SEPARATE_WORK",
             "IMPLEMENTATION_OF_STANDARD", "MERELY_AGGREGATED")
    mt = [arr(x) for x in (["FILE_EXACT"], ["FILE_DEPENDENCY_DIRECT"], ["FILE_DEPENDENCY_TRANSITIVE"],
                           ["SNIPPET", "FILE_SOME_FILES_MODIFIED"], ["MANUAL_BOM_COMPONENT"], ["BINARY"], [])]
    review = ("NOT_REVIEWED", "REVIEWED", "NOT_REVIEWED")
    policy = ("NOT_IN_VIOLATION", "NOT_IN_VIOLATION", "IN_VIOLATION", "IN_VIOLATION_OVERRIDDEN")
    com = ctx.comments
    ts = ctx.ts
    for i in range(1, n + 1):
        yield "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s" % (
            i, (i - 1) % pv + 1, cv_ids[(i * 7919) % ncv], usage[i % 7], mt[i % 7], review[i % 3], policy[i % 4],
            "t" if i % 11 == 0 else "f", com[i % 997], ts[(i - 1) * 8192 // n])


@table("bds_hub", "st.policy_rule", """
    id serial NOT NULL,
    name text NOT NULL,
    description text,
    severity st.severity NOT NULL,
    expression jsonb NOT NULL,
    enabled boolean NOT NULL,
    created_by integer,
    created_at timestamp with time zone NOT NULL
""", fixed=len(POLICY_RULES))
def _policy_rule(ctx, n):
    for i in range(1, n + 1):
        name, sev = POLICY_RULES[i - 1]
        expr = {"operator": "AND", "expressions": [
            {"name": "LICENSE_FAMILY" if i % 2 else "HIGH_SEVERITY_VULN_COUNT", "operation": "EQ",
             "values": [LICENSES[i][3], str(i)]}], "comment": NASTY[i % len(NASTY)]}
        yield "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s" % (i, esc(name), ctx.comments[i * 13], sev, js(expr),
                                                  "f" if i % 5 == 0 else "t", 1, ctx.ts_at(i, n))


@table("bds_hub", "st.policy_violation", """
    bom_entry_id bigint NOT NULL,
    policy_rule_id integer NOT NULL,
    detected_at timestamp with time zone NOT NULL,
    overridden boolean NOT NULL DEFAULT false
""", share=0.015, row_bytes=40, min_rows=1, cap=lambda c: c["st.bom_entry"] * c["st.policy_rule"])
def _policy_violation(ctx, n):
    b, pr = ctx.counts["st.bom_entry"], ctx.counts["st.policy_rule"]
    for i in range(n):
        be = (i * 3) % b if b % 3 else i % b  # a permutation of 0..b-1 on each round
        yield "%d\t%d\t%s\t%s" % (be + 1, (i // b + be) % pr + 1, ctx.ts[(i * 29) % 8192], "t" if i % 9 == 0 else "f")


def _policy_settings(ctx):
    c = ctx.counts
    return [
        ("blackduck.reporting.database.transfer.last.end.time", ctx.ts[-5], "system"),
        ("blackduck.reporting.database.transfer.last.id.processed", str(max(1, c["st.audit_event"] * 9 // 10)),
         "system"),
        ("blackduck.reporting.database.transfer.enabled", "true", "system"),
        ("blackduck.reporting.database.transfer.interval.minutes", "5", "sysadmin"),
        ("blackduck.scan.purge.unmapped.days", "30", "sysadmin"),
        ("blackduck.scan.retention.count", "10", "sysadmin"),
        ("blackduck.notification.retention.days", "90", None),
        ("blackduck.bom.default.usage", "DYNAMICALLY_LINKED", "sysadmin"),
        ("blackduck.kb.update.last.run", ctx.ts[-9], "system"),
        ("blackduck.ui.banner.text", "Maintenance — Wartung — メンテナンス 🚧", "sysadmin"),
        ("blackduck.ui.footer.html", "<b>Corp</b>\t<i>internal</i>\n", None),
        ("blackduck.security.session.timeout", "1800", "sysadmin"),
        ("blackduck.policy.override.requires.comment", "false", None),
        ("blackduck.jobs.max.parallel", "8", "system"),
        ("blackduck.snippet.matching.enabled", None, None),
        (ESCAPE_PROBE_KEY, ESCAPE_PROBE, "hubgen"),
    ]


@table("bds_hub", "st.policy_setting", """
    policy_key text NOT NULL,
    policy_value text,
    updated_at timestamp with time zone NOT NULL,
    updated_by text
""", fixed=16)
def _policy_setting(ctx, n):
    rows = _policy_settings(ctx)
    assert len(rows) == n
    for i, (key, value, by) in enumerate(rows, 1):
        yield "%s\t%s\t%s\t%s" % (key, opt(value), ctx.ts[-i], opt(by))


@table("bds_hub", "st.job_instances", """
    id bigserial NOT NULL,
    job_type text NOT NULL,
    status text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    node varchar(64),
    attempt integer NOT NULL DEFAULT 1,
    payload jsonb,
    error_message text
""", share=0.03, row_bytes=210, min_rows=10)
def _job_instances(ctx, n):
    r = ctx.rng("st.job_instances")
    # Mostly COMPLETED; a few of each other status.
    status = ["COMPLETED"] * 14 + ["FAILED"] * 3 + ["SCHEDULED", "DISPATCHED", "RUNNING"]
    payloads = [js({"batchSize": r.choice([100, 500, 1000]), "lastId": r.randrange(10**7),
                    "trigger": r.choice(["cron", "manual", "api", "démarrage"])}) for dummy in range(41)]
    errors = [esc("java.lang.IllegalStateException: %s\n\tat com.blackducksoftware.%s(%s.java:%d)" % (
        ctx.sentence(r, 2, 6), r.choice(WORDS), r.choice(WORDS).title(), r.randrange(10, 999))) for dummy in range(23)]
    for i in range(1, n + 1):
        if i > n - len(JOB_STATUSES):  # the newest rows: one transfer job in each status
            jt, st = JOB_TYPES[0], JOB_STATUSES[i - (n - len(JOB_STATUSES)) - 1]
        else:
            jt, st = JOB_TYPES[(i * 7) % len(JOB_TYPES)], status[(i * 13) % len(status)]
        t = ctx.ts_at(i, n)
        started = NULL if st in ("SCHEDULED", "DISPATCHED") else t
        finished = t if st in ("COMPLETED", "FAILED") else NULL
        yield "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s" % (
            i, jt, st, t, started, finished, NULL if started == NULL else "jobrunner-%d" % (i % 3),
            1 + (st == "FAILED") * (i % 3), payloads[i % 41], errors[i % 23] if st == "FAILED" else NULL)


@table("bds_hub", "st.audit_event", """
    id bigserial NOT NULL,
    event_uuid uuid NOT NULL,
    event_type varchar(64) NOT NULL,
    object_type text NOT NULL,
    object_id text,
    actor_id integer,
    occurred_at timestamp with time zone NOT NULL,
    client_ip inet,
    detail jsonb
""", share=0.19, row_bytes=432, min_rows=2)
def _audit_event(ctx, n):
    r = ctx.rng("st.audit_event")
    uid = ctx.uuid("st.audit_event")
    nu = ctx.counts["st.user_account"]
    etypes = ("CREATE", "UPDATE", "DELETE", "LOGIN", "LOGOUT", "SCAN_MAPPED", "POLICY_OVERRIDE", "BOM_ADJUSTED")
    otypes = ("PROJECT", "PROJECT_VERSION", "COMPONENT", "USER", "POLICY_RULE", "CODE_LOCATION", "REPORT")
    details = []
    for dummy in range(509):
        d = {"before": {"name": ctx.sentence(r, 1, 4), "phase": r.choice(("PLANNING", "RELEASED"))},
             "after": {"name": ctx.sentence(r, 1, 4), "phase": r.choice(("DEVELOPMENT", "ARCHIVED"))},
             "changes": [ctx.sentence(r, 2, 8) for dummy in range(r.randrange(0, 5))],
             "client": {"agent": "Mozilla/5.0 (X11; Linux x86_64) hub-ui/%d.%d" % (r.randrange(2020, 2025),
                                                                                   r.randrange(12)),
                        "locale": r.choice(("en_US", "de_DE", "ja_JP", "ru_RU", "el_GR"))}}
        if r.random() < 0.15:
            d["note"] = r.choice(NASTY)
        details.append(js(d))
    ips = ["10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255)) for dummy in range(97)]
    ips += ["2001:db8::%x" % r.randrange(65536) for dummy in range(10)]
    for i in range(1, n + 1):
        yield "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s" % (
            i, uid(i), etypes[i % 8], otypes[i % 7], NULL if i % 13 == 0 else "%d" % ((i * 31) % 100000),
            NULL if i % 10 == 0 else (i * 7) % nu + 1, ctx.ts_at(i, n), NULL if i % 20 == 0 else ips[i % 107],
            details[(i * 11) % 509])


@table("bds_hub", "st.notification", """
    id bigserial NOT NULL,
    user_id integer NOT NULL,
    type text NOT NULL,
    content jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    read_at timestamp with time zone
""", share=0.05, row_bytes=299, min_rows=2)
def _notification(ctx, n):
    r = ctx.rng("st.notification")
    nu = ctx.counts["st.user_account"]
    types = ("VULNERABILITY", "RULE_VIOLATION", "POLICY_OVERRIDE", "VERSION_BOM_CODE_LOCATION_BOM_COMPUTED",
             "PROJECT_VERSION", "LICENSE_LIMIT")
    contents = [js({"projectName": ctx.sentence(r, 1, 3),
                    "projectVersionName": "%d.%d" % (r.randrange(9), r.randrange(20)),
                    "componentVersionsInViolation": r.randrange(50), "message": ctx.sentence(r, 3, 12),
                    "links": ["https://hub.example.com/api/projects/%d" % r.randrange(10**5)]}) for dummy in range(257)]
    for i in range(1, n + 1):
        yield "%d\t%d\t%s\t%s\t%s\t%s" % (i, (i * 3) % nu + 1, types[i % 6], contents[(i * 13) % 257], ctx.ts_at(i, n),
                                          NULL if i % 3 else ctx.ts[(i * 19) % 8192])


@table("bds_hub", "st.report", """
    id bigserial NOT NULL,
    project_version_id bigint NOT NULL,
    format st.report_format NOT NULL,
    status text NOT NULL,
    file_name text NOT NULL,
    content bytea,
    size_bytes bigint,
    created_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone
""", share=0.02, row_bytes=705, min_rows=1)
def _report(ctx, n):
    r = ctx.rng("st.report")
    pv = ctx.counts["st.project_version"]
    fmts = ("CSV", "JSON", "SPDX", "CYCLONEDX", "PDF")
    bodies = []
    for dummy in range(31):
        text = "\n".join("%s,%s,%d" % (ctx.sentence(r, 1, 3), r.choice(LICENSES)[2], r.randrange(100))
                         for dummy in range(r.randrange(3, 20)))
        data = text.encode()
        bodies.append((bx(data), len(data)))
    for i in range(1, n + 1):
        body, size = bodies[i % 31]
        done = i % 8 != 0
        t = ctx.ts_at(i, n)
        yield "%d\t%d\t%s\t%s\tversion-%d-report-%d.%s\t%s\t%s\t%s\t%s" % (
            i, (i * 5) % pv + 1, fmts[i % 5], "COMPLETED" if done else "IN_PROGRESS", (i * 5) % pv + 1, i,
            fmts[i % 5].lower(), body if done else NULL, size if done else NULL, t, t if done else NULL)


def large_objects(seed):
    """The large objects the stream creates: [(oid, file name, content type, bytes)], from the seed."""
    r = random.Random("hubgen/%s/large_objects" % seed)
    text = "\n".join("%04d %s" % (k, Ctx.sentence(r, 4, 12)) for k in range(60)).encode()[:3000]
    binary = r.getrandbits(8 * 5000).to_bytes(5000, "little")
    multi_page = r.getrandbits(8 * 8209).to_bytes(8209, "little")  # > 4 pages of pg_largeobject
    return [(LO_OIDS[0], "LICENSE-notice.txt", "text/plain; charset=utf-8", text),
            (LO_OIDS[1], "signature-db.bin", "application/octet-stream", binary),
            (LO_OIDS[2], "scan-archive.tar", "application/x-tar", multi_page)]


@table("bds_hub", "st.file_blob", """
    id bigserial NOT NULL,
    name text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL,
    sha1 char(40) NOT NULL,
    lo_oid oid NOT NULL,
    created_at timestamp with time zone NOT NULL
""", fixed=len(LO_OIDS))
def _file_blob(ctx, n):
    for i, (oid, name, ctype, data) in enumerate(large_objects(ctx.seed), 1):
        yield "%d\t%s\t%s\t%d\t%s\t%d\t%s" % (i, name, ctype, len(data), hashlib.sha1(data).hexdigest(), oid,
                                              ctx.ts_at(i, n))


@table("bds_hub", "st.api_token", """
    id serial NOT NULL,
    user_id integer NOT NULL,
    name text NOT NULL,
    token_hash bytea NOT NULL,
    scopes text[] NOT NULL,
    expires_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL
""", fixed=8)
def _api_token(ctx, n):
    nu = ctx.counts["st.user_account"]
    scopes = (["read"], ["read", "write"], ["read", "write", "admin"])
    for i in range(1, n + 1):
        h = hashlib.sha256(b"token/%d/%d" % (ctx.seed, i)).digest()
        yield "%d\t%d\t%s\t%s\t%s\t%s\t%s" % (i, (i - 1) % nu + 1, esc("CI token %d — jenkins\\agent" % i), bx(h),
                                              arr(scopes[i % 3]), NULL if i % 2 else ctx.ts[-i], ctx.ts_at(i, n))


@table("bds_hub", "st.registration", """
    registration_id text NOT NULL,
    customer_name text NOT NULL,
    licensed_code_bases numeric(12,2),
    expires_on date,
    features text[],
    attributes jsonb
""", fixed=1)
def _registration(ctx, n):
    yield "%s\t%s\t%s\t%s\t%s\t%s" % (
        ctx.uuid("registration")(1), esc("Acme Gesellschaft mbH — アクメ株式会社"), "2500.00", "2030-12-31",
        arr(["SNIPPET", "BINARY", "REPORTING", "NOTIFICATIONS"]), js({"tier": "enterprise", "seats": 250}))


@table("bds_hub", "st.usage_metric", """
    metric_date date NOT NULL,
    metric_name text NOT NULL,
    value numeric(18,4) NOT NULL
""", share=0.004, row_bytes=37, min_rows=1, cap=lambda c: 3650 * len(USAGE_METRICS))
def _usage_metric(ctx, n):
    m = len(USAGE_METRICS)
    day0 = _dt.date(2019, 1, 1).toordinal()
    for i in range(n):
        yield "%s\t%s\t%d.%04d" % (_dt.date.fromordinal(day0 + i // m).isoformat(), USAGE_METRICS[i % m],
                                   (i * 7919) % 10**7, (i * 31) % 10**4)


@table("bds_hub", "st.hub_heartbeat", """
    id bigserial NOT NULL,
    source text NOT NULL,
    written_at timestamp with time zone NOT NULL DEFAULT now()
""", fixed=3)
def _hub_heartbeat(ctx, n):
    for i in range(1, n + 1):
        yield "%d\thubgen\t%s" % (i, ctx.ts[-4 + i])


# ----- bds_hub_report ------------------------------------------------------------------------------------
@table("bds_hub_report", "reporting.project", """
    project_id bigint NOT NULL,
    project_name text NOT NULL,
    owner_name text,
    created_at timestamp with time zone NOT NULL
""", share=0.002, row_bytes=98, min_rows=1, cap=lambda c: c["st.project"])
def _r_project(ctx, n):
    for i in range(1, n + 1):
        yield "%d\t%s\t%s\t%s" % (i, ctx.sentences[i % 1021][:60], NULL if i % 6 == 0 else "user%05d" % (i % 50 + 2),
                                  ctx.ts_at(i, n))


@table("bds_hub_report", "reporting.project_version", """
    project_version_id bigint NOT NULL,
    project_id bigint NOT NULL,
    version_name text NOT NULL,
    phase text NOT NULL,
    distribution text NOT NULL,
    created_at timestamp with time zone NOT NULL
""", share=0.004, row_bytes=61, min_rows=1, cap=lambda c: c["st.project_version"])
def _r_project_version(ctx, n):
    p = ctx.counts["reporting.project"]
    for i in range(1, n + 1):
        yield "%d\t%d\t%d.%d\t%s\t%s\t%s" % (i, (i - 1) % p + 1, (i - 1) // p + 1, i % 10,
                                             ("DEVELOPMENT", "RELEASED", "ARCHIVED")[i % 3],
                                             ("EXTERNAL", "SAAS", "INTERNAL")[i % 3], ctx.ts_at(i, n))


@table("bds_hub_report", "reporting.component", """
    component_version_id uuid NOT NULL,
    component_name text NOT NULL,
    version_name text NOT NULL,
    license_name text
""", share=0.008, row_bytes=116, min_rows=1)
def _r_component(ctx, n):
    uid = ctx.uuid("st.component_version")
    for i in range(1, n + 1):
        yield "%s\t%s\t%d.%d\t%s" % (uid(i), ctx.sentences[(i * 3) % 1021][:48], i % 9, i % 31,
                                     esc(LICENSES[i % len(LICENSES)][1]) if i % 7 else NULL)


@table("bds_hub_report", "reporting.bom_component", """
    id bigint NOT NULL,
    project_version_id bigint NOT NULL,
    component_version_id uuid NOT NULL,
    component_name text NOT NULL,
    version_name text NOT NULL,
    license_name text,
    security_risk text NOT NULL,
    policy_status text NOT NULL,
    review_status text NOT NULL,
    match_types text[],
    updated_at timestamp with time zone NOT NULL
""", share=0.035, row_bytes=232, min_rows=1)
def _r_bom_component(ctx, n):
    pv = ctx.counts["reporting.project_version"]
    cuid = ctx.uuid("st.component_version")
    cv_ids = [cuid(k) for k in range(1, 4097)]
    lic = [esc(x[1]) for x in LICENSES]
    risk = ("NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL")
    mt = arr(["FILE_DEPENDENCY_DIRECT"]), arr(["FILE_EXACT", "SNIPPET"]), NULL
    for i in range(1, n + 1):
        yield "%d\t%d\t%s\t%s\t%d.%d.%d\t%s\t%s\t%s\t%s\t%s\t%s" % (
            i, (i - 1) % pv + 1, cv_ids[i % 4096], ctx.sentences[(i * 5) % 1021], i % 7, i % 13, i % 3,
            lic[i % len(lic)], risk[i % 5], "IN_VIOLATION" if i % 6 == 0 else "NOT_IN_VIOLATION",
            "REVIEWED" if i % 2 else "NOT_REVIEWED", mt[i % 3], ctx.ts_at(i, n))


@table("bds_hub_report", "reporting.vulnerability_bom", """
    project_version_id bigint NOT NULL,
    vuln_id varchar(32) NOT NULL,
    component_name text NOT NULL,
    severity text NOT NULL,
    cvss_score numeric(3,1),
    remediation_status text
""", share=0.01, row_bytes=77, min_rows=1)
def _r_vulnerability_bom(ctx, n):
    pv = ctx.counts["reporting.project_version"]
    sev = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
    for i in range(n):
        v = i // pv  # (project version, vuln) unique
        yield "%d\tCVE-%d-%d\t%s\t%s\t%d.%d\t%s" % (
            i % pv + 1, 2000 + v % 24, 10000 + v, ctx.sentences[(i * 7) % 1021][:40], sev[i % 4], i % 10, i % 10,
            ("NEW", "PATCHED", "IGNORED")[i % 3] if i % 4 else NULL)


@table("bds_hub_report", "reporting.transfer_status", """
    id integer NOT NULL,
    last_id_processed bigint NOT NULL,
    last_end_time timestamp with time zone NOT NULL,
    status text NOT NULL
""", fixed=1)
def _r_transfer_status(ctx, n):
    yield "1\t%d\t%s\tCOMPLETED" % (max(1, ctx.counts["st.audit_event"] * 9 // 10), ctx.ts[-5])


# ----- bdio ----------------------------------------------------------------------------------------------
@table("bdio", "public.bdio_upload", """
    id bigserial NOT NULL,
    upload_uuid uuid NOT NULL,
    code_location_name text NOT NULL,
    status text NOT NULL,
    received_at timestamp with time zone NOT NULL,
    size_bytes bigint
""", share=0.004, row_bytes=104, min_rows=1)
def _bdio_upload(ctx, n):
    uid = ctx.uuid("bdio_upload")
    for i in range(1, n + 1):
        yield "%d\t%s\t%s scan %d\t%s\t%s\t%s" % (i, uid(i), WORDS[i % len(WORDS)], i,
                                                  ("COMPLETE", "PROCESSING", "ERROR")[i % 3], ctx.ts_at(i, n),
                                                  NULL if i % 5 == 0 else (i * 4099) % 10**8)


@table("bdio", "public.bdio_document", """
    id bigserial NOT NULL,
    upload_id bigint NOT NULL,
    entry_name text NOT NULL,
    document jsonb NOT NULL
""", share=0.03, row_bytes=930, min_rows=1)
def _bdio_document(ctx, n):
    r = ctx.rng("bdio_document")
    nu = ctx.counts["public.bdio_upload"]
    docs = []
    for dummy in range(97):
        docs.append(js({"@context": "https://blackducksoftware.github.io/bdio#",
                        "@graph": [{"@id": "urn:uuid:%032x" % r.getrandbits(128),
                                    "@type": r.choice(("Component", "File", "Project")),
                                    "name": ctx.sentence(r, 1, 4),
                                    "path": "/src/%s/%s" % (r.choice(WORDS), r.choice(NASTY) if r.random() < 0.1
                                                            else r.choice(WORDS)),
                                    "fingerprint": ["sha1:%040x" % r.getrandbits(160)]}
                                   for dummy in range(r.randrange(1, 8))]}))
    for i in range(1, n + 1):
        yield "%d\t%d\tbdio-entry-%02d.jsonld\t%s" % (i, (i - 1) % nu + 1, i % 100, docs[(i * 13) % 97])


@table("bdio", "public.bdio_chunk", """
    upload_id bigint NOT NULL,
    chunk_no integer NOT NULL,
    data bytea NOT NULL
""", share=0.016, row_bytes=2200, min_rows=1)
def _bdio_chunk(ctx, n):
    r = ctx.rng("bdio_chunk")
    nu = ctx.counts["public.bdio_upload"]
    chunks = [bx(r.getrandbits(8 * s).to_bytes(s, "little")) for s in (r.randrange(64, 2000) for dummy in range(37))]
    for i in range(n):
        yield "%d\t%d\t%s" % (i % nu + 1, i // nu, chunks[i % 37])


# --------------------------------------------------------------------------------------------------------
# SQL around the data
# --------------------------------------------------------------------------------------------------------
PRE_SQL = {
    "bds_hub": """
CREATE TYPE st.version_phase AS ENUM ('PLANNING', 'DEVELOPMENT', 'PRERELEASE', 'RELEASED', 'DEPRECATED', 'ARCHIVED');
CREATE TYPE st.scan_status AS ENUM ('QUEUED', 'RUNNING', 'COMPLETE', 'ERROR', 'CANCELLED');
CREATE TYPE st.severity AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');
CREATE TYPE st.report_format AS ENUM ('CSV', 'JSON', 'SPDX', 'CYCLONEDX', 'PDF');
CREATE SEQUENCE st.hub_event_seq;
""",
    "bds_hub_report": "",
    "bdio": "",
}

POST_SQL = {
    "bds_hub": """
ALTER TABLE st.user_account ADD CONSTRAINT user_account_pkey PRIMARY KEY (id);
ALTER TABLE st.user_account ADD CONSTRAINT user_account_username_key UNIQUE (username);
CREATE UNIQUE INDEX user_account_email_lower_idx ON st.user_account (lower(email));
ALTER TABLE st.user_group ADD CONSTRAINT user_group_pkey PRIMARY KEY (id);
ALTER TABLE st.user_group ADD CONSTRAINT user_group_name_key UNIQUE (name);
ALTER TABLE st.user_group_member ADD CONSTRAINT user_group_member_pkey PRIMARY KEY (group_id, user_id);
ALTER TABLE st.license ADD CONSTRAINT license_pkey PRIMARY KEY (id);
ALTER TABLE st.license ADD CONSTRAINT license_license_key_key UNIQUE (license_key);
ALTER TABLE st.vulnerability ADD CONSTRAINT vulnerability_pkey PRIMARY KEY (vuln_id);
CREATE INDEX vulnerability_severity_idx ON st.vulnerability (severity, published_on);
ALTER TABLE st.component ADD CONSTRAINT component_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX component_namespace_name_idx ON st.component (namespace, name);
ALTER TABLE st.component_version ADD CONSTRAINT component_version_pkey PRIMARY KEY (id);
CREATE INDEX component_version_component_idx ON st.component_version (component_id);
ALTER TABLE st.component_vulnerability ADD CONSTRAINT component_vulnerability_pkey PRIMARY KEY (component_version_id, vuln_id);
ALTER TABLE st.project ADD CONSTRAINT project_pkey PRIMARY KEY (id);
ALTER TABLE st.project ADD CONSTRAINT project_project_uuid_key UNIQUE (project_uuid);
ALTER TABLE st.project ADD CONSTRAINT project_tier_check CHECK (tier BETWEEN 1 AND 5);
ALTER TABLE st.project_tag ADD CONSTRAINT project_tag_pkey PRIMARY KEY (project_id, tag);
ALTER TABLE st.project_version ADD CONSTRAINT project_version_pkey PRIMARY KEY (id);
ALTER TABLE st.project_version ADD CONSTRAINT project_version_project_id_version_name_key UNIQUE (project_id, version_name);
ALTER TABLE st.code_location ADD CONSTRAINT code_location_pkey PRIMARY KEY (id);
CREATE INDEX code_location_unmapped_idx ON st.code_location (created_at) WHERE project_version_id IS NULL;
ALTER TABLE st.scan ADD CONSTRAINT scan_pkey PRIMARY KEY (id);
ALTER TABLE st.scan ADD CONSTRAINT scan_scan_uuid_key UNIQUE (scan_uuid);
CREATE INDEX scan_code_location_idx ON st.scan (code_location_id, started_at);
ALTER TABLE st.file_content ADD CONSTRAINT file_content_pkey PRIMARY KEY (sha256);
CREATE INDEX file_content_scan_idx ON st.file_content (scan_id);
ALTER TABLE st.bom_entry ADD CONSTRAINT bom_entry_pkey PRIMARY KEY (id);
CREATE INDEX bom_entry_project_version_idx ON st.bom_entry (project_version_id);
CREATE INDEX bom_entry_component_version_idx ON st.bom_entry (component_version_id);
ALTER TABLE st.policy_rule ADD CONSTRAINT policy_rule_pkey PRIMARY KEY (id);
ALTER TABLE st.policy_rule ADD CONSTRAINT policy_rule_name_key UNIQUE (name);
ALTER TABLE st.policy_violation ADD CONSTRAINT policy_violation_pkey PRIMARY KEY (bom_entry_id, policy_rule_id);
ALTER TABLE st.policy_setting ADD CONSTRAINT policy_setting_pkey PRIMARY KEY (policy_key);
ALTER TABLE st.job_instances ADD CONSTRAINT job_instances_pkey PRIMARY KEY (id);
ALTER TABLE st.job_instances ADD CONSTRAINT job_instances_status_check
    CHECK (status IN ('SCHEDULED', 'DISPATCHED', 'RUNNING', 'COMPLETED', 'FAILED'));
CREATE INDEX job_instances_active_idx ON st.job_instances (job_type, created_at)
    WHERE status IN ('SCHEDULED', 'DISPATCHED', 'RUNNING');
ALTER TABLE st.audit_event ADD CONSTRAINT audit_event_pkey PRIMARY KEY (id);
CREATE INDEX audit_event_occurred_at_idx ON st.audit_event (occurred_at);
ALTER TABLE st.notification ADD CONSTRAINT notification_pkey PRIMARY KEY (id);
CREATE INDEX notification_unread_idx ON st.notification (user_id) WHERE read_at IS NULL;
ALTER TABLE st.report ADD CONSTRAINT report_pkey PRIMARY KEY (id);
ALTER TABLE st.file_blob ADD CONSTRAINT file_blob_pkey PRIMARY KEY (id);
ALTER TABLE st.file_blob ADD CONSTRAINT file_blob_lo_oid_key UNIQUE (lo_oid);
ALTER TABLE st.api_token ADD CONSTRAINT api_token_pkey PRIMARY KEY (id);
ALTER TABLE st.registration ADD CONSTRAINT registration_pkey PRIMARY KEY (registration_id);
ALTER TABLE st.usage_metric ADD CONSTRAINT usage_metric_pkey PRIMARY KEY (metric_date, metric_name);
ALTER TABLE st.hub_heartbeat ADD CONSTRAINT hub_heartbeat_pkey PRIMARY KEY (id);

ALTER TABLE st.user_group_member ADD CONSTRAINT user_group_member_group_fk FOREIGN KEY (group_id) REFERENCES st.user_group (id) ON DELETE CASCADE;
ALTER TABLE st.user_group_member ADD CONSTRAINT user_group_member_user_fk FOREIGN KEY (user_id) REFERENCES st.user_account (id) ON DELETE CASCADE;
ALTER TABLE st.component_version ADD CONSTRAINT component_version_component_fk FOREIGN KEY (component_id) REFERENCES st.component (id);
ALTER TABLE st.component_version ADD CONSTRAINT component_version_license_fk FOREIGN KEY (license_id) REFERENCES st.license (id);
ALTER TABLE st.component_vulnerability ADD CONSTRAINT component_vulnerability_cv_fk FOREIGN KEY (component_version_id) REFERENCES st.component_version (id);
ALTER TABLE st.component_vulnerability ADD CONSTRAINT component_vulnerability_vuln_fk FOREIGN KEY (vuln_id) REFERENCES st.vulnerability (vuln_id);
ALTER TABLE st.project ADD CONSTRAINT project_owner_fk FOREIGN KEY (owner_id) REFERENCES st.user_account (id);
ALTER TABLE st.project_tag ADD CONSTRAINT project_tag_project_fk FOREIGN KEY (project_id) REFERENCES st.project (id) ON DELETE CASCADE;
ALTER TABLE st.project_version ADD CONSTRAINT project_version_project_fk FOREIGN KEY (project_id) REFERENCES st.project (id) ON DELETE CASCADE;
ALTER TABLE st.code_location ADD CONSTRAINT code_location_project_version_fk FOREIGN KEY (project_version_id)
    REFERENCES st.project_version (id) ON DELETE SET NULL;
ALTER TABLE st.scan ADD CONSTRAINT scan_code_location_fk FOREIGN KEY (code_location_id) REFERENCES st.code_location (id);
ALTER TABLE st.file_content ADD CONSTRAINT file_content_scan_fk FOREIGN KEY (scan_id) REFERENCES st.scan (id);
ALTER TABLE st.bom_entry ADD CONSTRAINT bom_entry_project_version_fk FOREIGN KEY (project_version_id) REFERENCES st.project_version (id) ON DELETE CASCADE;
ALTER TABLE st.bom_entry ADD CONSTRAINT bom_entry_component_version_fk FOREIGN KEY (component_version_id) REFERENCES st.component_version (id);
ALTER TABLE st.policy_rule ADD CONSTRAINT policy_rule_created_by_fk FOREIGN KEY (created_by) REFERENCES st.user_account (id);
ALTER TABLE st.policy_violation ADD CONSTRAINT policy_violation_bom_entry_fk FOREIGN KEY (bom_entry_id) REFERENCES st.bom_entry (id) ON DELETE CASCADE;
ALTER TABLE st.policy_violation ADD CONSTRAINT policy_violation_rule_fk FOREIGN KEY (policy_rule_id) REFERENCES st.policy_rule (id);
ALTER TABLE st.audit_event ADD CONSTRAINT audit_event_actor_fk FOREIGN KEY (actor_id) REFERENCES st.user_account (id);
ALTER TABLE st.notification ADD CONSTRAINT notification_user_fk FOREIGN KEY (user_id) REFERENCES st.user_account (id);
ALTER TABLE st.report ADD CONSTRAINT report_project_version_fk FOREIGN KEY (project_version_id) REFERENCES st.project_version (id);
ALTER TABLE st.api_token ADD CONSTRAINT api_token_user_fk FOREIGN KEY (user_id) REFERENCES st.user_account (id);

CREATE VIEW st.project_summary AS
SELECT p.id AS project_id, p.name, count(DISTINCT pv.id) AS version_count, count(b.id) AS bom_entry_count,
       max(pv.updated_at) AS last_version_update
  FROM st.project p
  LEFT JOIN st.project_version pv ON pv.project_id = p.id
  LEFT JOIN st.bom_entry b ON b.project_version_id = pv.id
 GROUP BY p.id, p.name;

CREATE FUNCTION st.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$fn$;
CREATE TRIGGER project_touch_updated_at BEFORE UPDATE ON st.project
    FOR EACH ROW EXECUTE PROCEDURE st.touch_updated_at();
CREATE TRIGGER project_version_touch_updated_at BEFORE UPDATE ON st.project_version
    FOR EACH ROW EXECUTE PROCEDURE st.touch_updated_at();

COMMENT ON TABLE st.policy_setting IS 'Réglages — 設定 (hubgen)';
COMMENT ON TABLE st.file_blob IS 'Rows point at large objects (lo_oid)';

DO $do$BEGIN PERFORM setval('st.hub_event_seq', @HUB_EVENT_SEQ@); END$do$;

GRANT USAGE ON SCHEMA st TO blackduck_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA st TO blackduck_user;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA st TO blackduck_user;
ALTER DEFAULT PRIVILEGES FOR ROLE blackduck IN SCHEMA st GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO blackduck_user;
ALTER DEFAULT PRIVILEGES FOR ROLE blackduck IN SCHEMA st GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO blackduck_user;
""",
    "bds_hub_report": """
ALTER TABLE reporting.project ADD CONSTRAINT project_pkey PRIMARY KEY (project_id);
ALTER TABLE reporting.project_version ADD CONSTRAINT project_version_pkey PRIMARY KEY (project_version_id);
ALTER TABLE reporting.project_version ADD CONSTRAINT project_version_project_fk FOREIGN KEY (project_id) REFERENCES reporting.project (project_id);
ALTER TABLE reporting.component ADD CONSTRAINT component_pkey PRIMARY KEY (component_version_id);
ALTER TABLE reporting.bom_component ADD CONSTRAINT bom_component_pkey PRIMARY KEY (id);
CREATE INDEX bom_component_project_version_idx ON reporting.bom_component (project_version_id);
ALTER TABLE reporting.vulnerability_bom ADD CONSTRAINT vulnerability_bom_pkey PRIMARY KEY (project_version_id, vuln_id);
ALTER TABLE reporting.transfer_status ADD CONSTRAINT transfer_status_pkey PRIMARY KEY (id);

GRANT USAGE ON SCHEMA reporting TO blackduck_reporter, blackduck_user;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO blackduck_reporter;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA reporting TO blackduck_user;
ALTER DEFAULT PRIVILEGES FOR ROLE blackduck IN SCHEMA reporting GRANT SELECT ON TABLES TO blackduck_reporter;
ALTER DEFAULT PRIVILEGES FOR ROLE blackduck IN SCHEMA reporting GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO blackduck_user;
""",
    "bdio": """
ALTER TABLE public.bdio_upload ADD CONSTRAINT bdio_upload_pkey PRIMARY KEY (id);
ALTER TABLE public.bdio_upload ADD CONSTRAINT bdio_upload_upload_uuid_key UNIQUE (upload_uuid);
ALTER TABLE public.bdio_document ADD CONSTRAINT bdio_document_pkey PRIMARY KEY (id);
ALTER TABLE public.bdio_document ADD CONSTRAINT bdio_document_upload_fk FOREIGN KEY (upload_id) REFERENCES public.bdio_upload (id) ON DELETE CASCADE;
ALTER TABLE public.bdio_chunk ADD CONSTRAINT bdio_chunk_pkey PRIMARY KEY (upload_id, chunk_no);
ALTER TABLE public.bdio_chunk ADD CONSTRAINT bdio_chunk_upload_fk FOREIGN KEY (upload_id) REFERENCES public.bdio_upload (id) ON DELETE CASCADE;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.bdio_upload, public.bdio_document, public.bdio_chunk TO blackduck_user;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.bdio_upload_id_seq, public.bdio_document_id_seq TO blackduck_user;
""",
}

SCHEMAS = {"bds_hub": "st", "bds_hub_report": "reporting", "bdio": "public"}

# Refusal: fail before anything is written when a database already holds the generated tables.
REFUSE_SQL = {
    "bds_hub": """DO $do$
DECLARE n integer;
BEGIN
    SELECT count(*) INTO n FROM pg_catalog.pg_tables WHERE schemaname = 'st';
    IF n > 0 THEN
        RAISE EXCEPTION 'bds_hub already holds Hub data (schema st has % tables)', n;
    END IF;
    SELECT count(*) INTO n FROM pg_catalog.pg_largeobject_metadata WHERE oid IN (@LO_OIDS@);
    IF n > 0 THEN
        RAISE EXCEPTION 'bds_hub already holds Hub data (% of the large objects @LO_OIDS@ exist)', n;
    END IF;
END
$do$;""",
    "bds_hub_report": """DO $do$
DECLARE n integer;
BEGIN
    SELECT count(*) INTO n FROM pg_catalog.pg_tables WHERE schemaname = 'reporting';
    IF n > 0 THEN
        RAISE EXCEPTION 'bds_hub_report already holds Hub data (schema reporting has % tables)', n;
    END IF;
END
$do$;""",
    "bdio": """DO $do$
DECLARE n integer;
BEGIN
    SELECT count(*) INTO n FROM pg_catalog.pg_tables WHERE schemaname = 'public' AND tablename LIKE 'bdio\\_%';
    IF n > 0 THEN
        RAISE EXCEPTION 'bdio already holds Hub data (% bdio_* tables)', n;
    END IF;
END
$do$;""",
}


# --------------------------------------------------------------------------------------------------------
# Planning and writing
# --------------------------------------------------------------------------------------------------------
def plan_counts(scale):
    """Row count of every table ("schema.table" -> n), in registry order; depends on the scale only."""
    if scale < 0:
        raise ValueError("scale must be >= 0")
    budget = max(0.0, scale * MB - FIXED_OVERHEAD)
    total_share = sum(t.share for t in TABLES)  # shares are relative weights
    counts = {}
    for t in TABLES:
        if t.fixed is not None:
            n = t.fixed
        else:
            n = max(t.min_rows, int(round(budget * t.share / total_share / t.row_bytes)))
        if t.cap is not None:
            n = min(n, t.cap(counts))
        counts[t.qname] = n
    return counts


def expected_row_counts(scale, seed=1):
    """{database: {"schema.table": rows}} that the stream for (scale, seed) loads.  The counts depend on the
    scale only; seed is accepted so callers need not know that."""
    counts = plan_counts(scale)
    out = {db: {} for db in DATABASES}
    for t in TABLES:
        out[t.db][t.qname] = counts[t.qname]
    return out


def _roles_sql(password):
    checks = []
    for role, attrs in (("blackduck", "LOGIN CREATEDB CREATEROLE"), ("blackduck_user", "LOGIN"),
                        ("blackduck_reporter", "LOGIN")):
        checks.append("    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '%s') THEN\n"
                      "        CREATE ROLE %s %s;\n    END IF;" % (role, role, attrs))
    return "DO $do$\nBEGIN\n%s\nEND\n$do$;\n" % "\n".join(checks)


def generate(out, scale=10.0, seed=1, password="blackduck"):
    """Write the SQL stream for (scale, seed) to the binary file object `out`."""
    counts = plan_counts(scale)
    ctx = Ctx(seed, counts)
    w = out.write

    def sql(text):
        w(text.encode("utf-8"))

    sql("-- hubgen: Hub-like data for the migration lab. seed=%d scale=%s\n"
        "-- Feed to: psql -v ON_ERROR_STOP=1 -X -q -d postgres (as the PostgreSQL superuser)\n"
        "\\set ON_ERROR_STOP on\n"
        "SET client_encoding = 'UTF8';\nSET client_min_messages = warning;\n\n" % (seed, scale))
    # 1. Roles and databases: created when missing, nothing existing is changed yet.
    sql(_roles_sql(password))
    for db in DATABASES:
        sql("SELECT 'CREATE DATABASE %s OWNER blackduck ENCODING ''UTF8'' TEMPLATE template0' "
            "WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = '%s')\n\\gexec\n" % (db, db))
    # 2. Refuse early, in every database, before any change.
    lo_oids = ", ".join(str(o) for o in LO_OIDS)
    for db in DATABASES:
        refuse = REFUSE_SQL[db].replace("@LO_OIDS@", lo_oids)
        sql("\n\\connect %s\nSET client_min_messages = warning;\n%s\n" % (db, refuse))
    # 3. Passwords and ownership.
    sql("\n")
    for role in ROLES:
        sql("ALTER ROLE %s PASSWORD %s;\n" % (role, sql_lit(password)))
    sql("ALTER ROLE blackduck CREATEDB CREATEROLE;\n")
    for db in DATABASES:
        sql("ALTER DATABASE %s OWNER TO blackduck;\n" % db)
    sql("COMMENT ON DATABASE bds_hub IS %s;\n" % sql_lit("hubgen seed=%d scale=%s" % (seed, scale)))
    sql("GRANT CONNECT ON DATABASE bds_hub_report TO blackduck_reporter;\n")
    sql("GRANT CONNECT ON DATABASE bds_hub, bds_hub_report, bdio TO blackduck_user;\n")

    # 4. One transaction per database: schema, data, then constraints, indexes and the rest.
    for db in DATABASES:
        schema = SCHEMAS[db]
        sql("\n\\connect %s\nSET client_encoding = 'UTF8';\nSET client_min_messages = warning;\nBEGIN;\n" % db)
        if schema != "public":
            sql("CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION blackduck;\nALTER SCHEMA %s OWNER TO blackduck;\n"
                % (schema, schema))
        sql("SET LOCAL ROLE blackduck;\n" + PRE_SQL[db])
        tables = [t for t in TABLES if t.db == db]
        for t in tables:
            sql("CREATE TABLE %s (\n%s\n);\n" % (t.qname, t.ddl))
        for t in tables:
            sql("\nCOPY %s (%s) FROM stdin;\n" % (t.qname, ", ".join(t.columns)))
            rows = t.gen(ctx, counts[t.qname])
            while True:
                chunk = list(islice(rows, 4096))
                if not chunk:
                    break
                chunk.append("")
                w("\n".join(chunk).encode("utf-8"))
            sql("\\.\n")
        sql(POST_SQL[db].replace("@HUB_EVENT_SEQ@", str(HUB_EVENT_SEQ_VALUE)))
        if db == "bds_hub":
            for oid, _name, _ctype, data in large_objects(seed):
                sql("DO $do$BEGIN PERFORM lo_from_bytea(%d, decode('%s', 'hex')); END$do$;\n" % (oid, data.hex()))
                sql("GRANT SELECT ON LARGE OBJECT %d TO blackduck_user;\n" % oid)
        # Sequences behind serial columns: at max(id).
        setvals = ["    PERFORM setval(pg_get_serial_sequence('%s', '%s'), max(%s)) FROM %s;"
                   % (t.qname, c, c, t.qname) for t in tables for c in t.serial]
        if setvals:
            sql("DO $do$\nBEGIN\n%s\nEND\n$do$;\n" % "\n".join(setvals))
        sql("COMMIT;\nRESET ROLE;\nANALYZE;\n")
    sql("\n-- hubgen: done\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=10.0, help="approximate COPY payload in MB (default 10)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--password", default="blackduck", help="password of the three roles (default blackduck)")
    ap.add_argument("--output", "-o", help="write to this file instead of stdout")
    ap.add_argument("--summary", action="store_true",
                    help="print {database: {table: rows}} as JSON instead of the SQL")
    args = ap.parse_args(argv)
    if not 0 <= args.scale < float("inf"):
        ap.error("--scale must be a number >= 0")
    out = open(args.output, "wb", buffering=1 << 20) if args.output else sys.stdout.buffer
    try:
        if args.summary:
            out.write((json.dumps(expected_row_counts(args.scale, args.seed), indent=2, sort_keys=True) + "\n")
                      .encode())
        else:
            generate(out, args.scale, args.seed, args.password)
        out.flush()
    except BrokenPipeError:  # the reader went away (e.g. head): quiet exit, no traceback at shutdown
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        if args.output:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
