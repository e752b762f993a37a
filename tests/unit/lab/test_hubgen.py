"""Tests of tests/lab/datagen/hubgen.py, the Hub-like data generator of the migration lab.

The first tests read the generated SQL stream only.  test_load_into_real_server loads it into throwaway
PostgreSQL clusters (15 from apt, 11 from the lab's cache; each skipped when its binaries are absent) that
listen on a unix socket in a temporary directory only, and checks what landed.
"""

import hashlib
import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
HUBGEN = REPO / "tests" / "lab" / "datagen" / "hubgen.py"

if "hubgen" in sys.modules:  # tests/conftest.py puts tests/lab/datagen on sys.path: maybe imported already
    hubgen = sys.modules["hubgen"]
else:
    _spec = importlib.util.spec_from_file_location("hubgen", HUBGEN)
    hubgen = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(hubgen)

_spec = importlib.util.spec_from_file_location("pgcluster", str(Path(__file__).with_name("pgcluster.py")))
pgcluster = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pgcluster)
PG_BINARIES, running_cluster = pgcluster.PG_BINARIES, pgcluster.running_cluster


# ----------------------------------------------------------------------------------------------------------
# Reading the stream
# ----------------------------------------------------------------------------------------------------------
_cache = {}


def stream(scale, seed=1):
    """The generated stream (bytes), generated in-process and cached per (scale, seed)."""
    key = (scale, seed)
    if key not in _cache:
        buf = io.BytesIO()
        hubgen.generate(buf, scale=scale, seed=seed)
        _cache[key] = buf.getvalue()
    return _cache[key]


def copy_blocks(data):
    """{db: {"schema.table": (columns, [data lines as bytes])}} of every COPY ... FROM stdin block."""
    out, db, cur = {}, None, None
    for line in data.split(b"\n"):
        if cur is not None:
            if line == b"\\.":
                cur = None
            else:
                cur.append(line)
            continue
        if line.startswith(b"\\connect "):
            db = line.split()[1].decode()
            continue
        m = re.match(rb"COPY (\S+) \((.*)\) FROM stdin;$", line)
        if m:
            cur = []
            cols = [c.strip() for c in m.group(2).decode().split(",")]
            out.setdefault(db, {})[m.group(1).decode()] = (cols, cur)
    assert cur is None, "unterminated COPY block"
    return out


_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def unescape(field):
    """A COPY text-format field back to its value (None for NULL)."""
    if field == "\\N":
        return None
    return re.sub(r"\\(.)", lambda m: _UNESCAPE[m.group(1)], field)


# ----------------------------------------------------------------------------------------------------------
# Stream tests
# ----------------------------------------------------------------------------------------------------------
def test_deterministic():
    a = stream(0.5, seed=1)
    buf = io.BytesIO()
    hubgen.generate(buf, scale=0.5, seed=1)
    assert buf.getvalue() == a
    assert stream(0.5, seed=2) != a


def test_cli_output_and_summary(tmp_path):
    out = tmp_path / "hub.sql"
    subprocess.run([sys.executable, str(HUBGEN), "--scale", "0.5", "--seed", "1", "--output", str(out)], check=True)
    assert out.read_bytes() == stream(0.5, seed=1)
    piped = subprocess.run([sys.executable, str(HUBGEN), "--scale", "0.5"], check=True, stdout=subprocess.PIPE)
    assert piped.stdout == stream(0.5, seed=1)
    summary = subprocess.run([sys.executable, str(HUBGEN), "--scale", "3", "--seed", "4", "--summary"], check=True,
                             stdout=subprocess.PIPE)
    assert json.loads(summary.stdout) == hubgen.expected_row_counts(3, 4)


@pytest.mark.parametrize("scale", [0, 0.1, 0.5, 2])
def test_summary_matches_copy_blocks(scale):
    blocks = copy_blocks(stream(scale))
    counted = {db: {t: len(lines) for t, (_cols, lines) in tables.items()} for db, tables in blocks.items()}
    expected = hubgen.expected_row_counts(scale, 1)
    assert counted == expected
    assert set(expected) == {"bds_hub", "bds_hub_report", "bdio"}
    for db, tables in expected.items():
        for t, n in tables.items():
            assert n >= 1, (db, t)


def test_tables():
    expected = hubgen.expected_row_counts(0, 1)
    st = [t for t in expected["bds_hub"] if t.startswith("st.")]
    assert len(st) >= 24
    for t in ("st.project", "st.project_version", "st.component", "st.component_version", "st.license",
              "st.vulnerability", "st.scan", "st.code_location", "st.bom_entry", "st.policy_rule",
              "st.policy_setting", "st.job_instances", "st.audit_event", "st.notification", "st.user_account",
              "st.user_group", "st.file_blob", "st.report", "st.hub_heartbeat"):
        assert t in st
    assert len(expected["bds_hub_report"]) >= 5
    assert len(expected["bdio"]) >= 3


@pytest.mark.parametrize("scale", [2, 8])
def test_scale_honoured(scale):
    payload = sum(len(line) + 1 for tables in copy_blocks(stream(scale)).values()
                  for _cols, lines in tables.values() for line in lines)
    assert 0.75 * scale * hubgen.MB <= payload <= 1.25 * scale * hubgen.MB, payload
    # Most of it goes to the big bds_hub tables.
    big = sum(len(line) + 1 for t, (_c, lines) in copy_blocks(stream(scale))["bds_hub"].items()
              if t in ("st.bom_entry", "st.audit_event", "st.scan", "st.file_content") for line in lines)
    assert big > 0.5 * payload


@pytest.mark.parametrize("scale", [0, 2])
def test_copy_escaping(scale):
    blocks = copy_blocks(stream(scale))
    seen_escapes = set()
    for db, tables in blocks.items():
        for t, (cols, lines) in tables.items():
            for line in lines:
                assert b"\r" not in line, (t, line[:200])
                text = line.decode("utf-8")  # valid UTF-8 throughout
                fields = text.split("\t")
                assert len(fields) == len(cols), (t, text[:200])
                # After escaping, a backslash only ever starts one of: \\ \t \n \r \N (NULL).
                for m in re.finditer(r"\\(.?)", text):
                    assert m.group(1) in ("\\", "t", "n", "r", "N"), (t, text[:200])
                    seen_escapes.add(m.group(1))
                for f in fields:
                    assert f == "\\N" or "\\N" not in f.replace("\\\\", ""), (t, f[:200])
    assert seen_escapes == {"\\", "t", "n", "r", "N"}
    # The probe value survives a COPY round trip.
    _cols, lines = blocks["bds_hub"]["st.policy_setting"]
    values = dict((unescape(k), unescape(v)) for k, v, *_rest in (ln.decode().split("\t") for ln in lines))
    assert values[hubgen.ESCAPE_PROBE_KEY] == hubgen.ESCAPE_PROBE


def test_required_content():
    data = stream(0)
    blocks = copy_blocks(data)
    settings = {ln.decode().split("\t")[0] for ln in blocks["bds_hub"]["st.policy_setting"][1]}
    assert {"blackduck.reporting.database.transfer.last.end.time",
            "blackduck.reporting.database.transfer.last.id.processed"} <= settings
    cols, lines = blocks["bds_hub"]["st.job_instances"]
    jobs = [dict(zip(cols, ln.decode().split("\t"))) for ln in lines]
    statuses = {j["status"] for j in jobs if j["job_type"] == "ReportingDatabaseTransferJob"}
    assert statuses == {"SCHEDULED", "DISPATCHED", "RUNNING", "COMPLETED", "FAILED"}
    assert len({j["job_type"] for j in jobs}) > 1
    text = data.decode("utf-8")
    for needle in ("CREATE VIEW st.project_summary", "CREATE FUNCTION st.touch_updated_at()", "CREATE TRIGGER ",
                   "AS ENUM", "lo_from_bytea(", "CREATE UNIQUE INDEX", " WHERE status IN (", "CHECK (",
                   "FOREIGN KEY", "ALTER DEFAULT PRIVILEGES FOR ROLE blackduck IN SCHEMA st", "\\gexec",
                   "already holds Hub data", "st.hub_event_seq', 424242"):
        assert needle in text, needle
    for newer in ("CREATE OR REPLACE TRIGGER", "multirange", "EXECUTE FUNCTION", "GENERATED ALWAYS"):
        assert newer not in text, newer
    # Non-ASCII text in several tables.
    non_ascii = [t for db in blocks.values() for t, (_c, lines) in db.items()
                 if any(max(ln) > 127 for ln in lines if ln)]
    assert len(non_ascii) >= 5, non_ascii


def test_password_quoting():
    buf = io.BytesIO()
    hubgen.generate(buf, scale=0, seed=1, password="it's")
    assert b"ALTER ROLE blackduck_user PASSWORD 'it''s';" in buf.getvalue()


# ----------------------------------------------------------------------------------------------------------
# Loading into real PostgreSQL servers
# ----------------------------------------------------------------------------------------------------------
def check_loaded(c, scale, seed):
    # Row counts, in every database.
    for db, tables in hubgen.expected_row_counts(scale, seed).items():
        sql = " UNION ALL ".join("SELECT '%s', count(*) FROM %s" % (t, t) for t in sorted(tables))
        assert {t: int(n) for t, n in c.query(sql, db)} == tables, db
    hub = "bds_hub"
    assert c.value("SELECT count(*) FROM pg_tables WHERE schemaname = 'st' AND tableowner = 'blackduck'", hub) == \
        str(len(hubgen.expected_row_counts(scale, seed)[hub]))
    for db in hubgen.DATABASES:
        assert c.value("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '%s'" % db) == "blackduck"
    # Large objects: present, owned by blackduck, same bytes, readable by blackduck_user.
    los = {int(o): (owner, md5) for o, owner, md5 in c.query(
        "SELECT oid, pg_get_userbyid(lomowner), md5(lo_get(oid)) FROM pg_largeobject_metadata", hub)}
    assert los == {oid: ("blackduck", hashlib.md5(data).hexdigest())
                   for oid, _n, _t, data in hubgen.large_objects(seed)}
    assert c.value("SELECT count(*) FROM st.file_blob b JOIN pg_largeobject_metadata m ON m.oid = b.lo_oid", hub) \
        == str(len(hubgen.LO_OIDS))
    # Sequences: serials at max(id), the standalone one at its distinctive value.
    assert c.value("SELECT last_value FROM st.hub_event_seq", hub) == "424242"
    for t in ("st.project", "st.bom_entry", "st.audit_event", "st.job_instances", "st.user_account"):
        assert c.value("SELECT (SELECT last_value FROM %s_id_seq) = (SELECT max(id) FROM %s)" % (t, t), hub) == "t"
    # Privileges.
    priv = c.query("""
        SELECT has_schema_privilege('blackduck_user', 'st', 'USAGE'),
               bool_and(has_table_privilege('blackduck_user', format('%I.%I', schemaname, tablename),
                                            'SELECT,INSERT,UPDATE,DELETE')),
               (SELECT bool_and(has_sequence_privilege('blackduck_user', c.oid, 'USAGE,SELECT,UPDATE'))
                  FROM pg_class c WHERE c.relkind = 'S' AND c.relnamespace = 'st'::regnamespace),
               has_table_privilege('blackduck_user', 'st.project_summary', 'SELECT'),
               has_table_privilege('blackduck_reporter', 'st.project', 'SELECT')
          FROM pg_tables WHERE schemaname = 'st'""", hub)
    assert priv == [["t", "t", "t", "t", "f"]]
    assert c.value("SELECT has_database_privilege('blackduck_reporter', 'bds_hub_report', 'CONNECT')") == "t"
    assert c.query("""
        SELECT bool_and(has_table_privilege('blackduck_reporter', format('%I.%I', schemaname, tablename), 'SELECT')),
               bool_or(has_table_privilege('blackduck_reporter', format('%I.%I', schemaname, tablename), 'INSERT'))
          FROM pg_tables WHERE schemaname = 'reporting'""", "bds_hub_report") == [["t", "f"]]
    # Default privileges: a table blackduck creates later is the application's too.
    c.psql("-c", "SET ROLE blackduck; CREATE TABLE st.zz_later (id serial PRIMARY KEY);", db=hub)
    assert c.value("SELECT has_table_privilege('blackduck_user', 'st.zz_later', 'SELECT,INSERT,UPDATE,DELETE') AND "
                   "has_sequence_privilege('blackduck_user', 'st.zz_later_id_seq', 'USAGE')", hub) == "t"
    c.psql("-c", "DROP TABLE st.zz_later", db=hub)
    # Passwords were set.
    assert c.value("SELECT count(*) FROM pg_authid WHERE rolname LIKE 'blackduck%' AND rolpassword IS NOT NULL") == "3"
    # Escapes survived byte for byte.
    assert c.value("SELECT encode(convert_to(policy_value, 'UTF8'), 'hex') FROM st.policy_setting "
                   "WHERE policy_key = '%s'" % hubgen.ESCAPE_PROBE_KEY, hub) == hubgen.ESCAPE_PROBE.encode().hex()
    # The view, the trigger, the transfer jobs.
    assert c.value("SELECT count(*) FROM st.project_summary", hub) == \
        str(hubgen.expected_row_counts(scale, seed)[hub]["st.project"])
    touched = c.psql("-At", "-c", "BEGIN", "-c", "UPDATE st.project SET updated_at = '2000-01-01' WHERE id = 1 "
                     "RETURNING updated_at = now()", "-c", "ROLLBACK", db=hub).stdout.split()
    assert touched == [b"t"]
    assert c.value("SELECT string_agg(DISTINCT status, ',' ORDER BY status) FROM st.job_instances "
                   "WHERE job_type = 'ReportingDatabaseTransferJob'", hub) == \
        "COMPLETED,DISPATCHED,FAILED,RUNNING,SCHEDULED"


@pytest.mark.parametrize("major", [15, 11])
def test_load_into_real_server(major):
    bindir, _libdir = PG_BINARIES[major]
    if not all((bindir / b).exists() for b in ("initdb", "pg_ctl", "psql", "postgres")):
        pytest.skip("PostgreSQL %d binaries not found in %s" % (major, bindir))
    with running_cluster(major) as c:
        assert c.value("SHOW server_version_num")[:2] == str(major)
        assert c.value("SHOW listen_addresses") == ""
        # 1. A bare cluster: the stream creates the roles and the databases.
        c.psql(input=stream(1, seed=3))
        check_loaded(c, 1, 3)
        # 2. A second load refuses, before changing anything.
        before = c.value("SELECT sum(n_live_tup) FROM pg_stat_user_tables", "bds_hub")
        res = c.psql(input=stream(0, seed=1), check=False)
        assert res.returncode != 0
        assert b"bds_hub already holds Hub data (schema st has" in res.stderr
        assert c.value("SELECT sum(n_live_tup) FROM pg_stat_user_tables", "bds_hub") == before
        # 3. Like the lab's image: roles and empty databases exist already.
        c.psql("-c", "DROP DATABASE bds_hub", "-c", "DROP DATABASE bds_hub_report", "-c", "DROP DATABASE bdio",
               "-c", "DROP ROLE blackduck_user", "-c", "DROP ROLE blackduck_reporter", "-c", "DROP ROLE blackduck")
        c.psql(input=b"""
            CREATE ROLE blackduck LOGIN CREATEDB CREATEROLE PASSWORD 'other';
            CREATE ROLE blackduck_user LOGIN PASSWORD 'other';
            CREATE ROLE blackduck_reporter LOGIN PASSWORD 'other';
            CREATE DATABASE bds_hub OWNER blackduck;
            CREATE DATABASE bds_hub_report OWNER blackduck;
            CREATE DATABASE bdio OWNER blackduck;
        """)
        c.psql(input=stream(0, seed=1))
        check_loaded(c, 0, 1)
