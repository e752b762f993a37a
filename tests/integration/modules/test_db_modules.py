"""db_dump -> db_restore -> db_verify on real servers of two PostgreSQL majors, through docker, tcp and kubectl.

The source is a lab hub of the old version in migration mode (database only) with generated Hub-like data; the
target is a lab hub of the new version in migration mode with the empty databases its image creates. Each module
runs through ansible-core, in the pattern: check mode, real run, idempotent check, idempotent run.
"""
import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading

import pytest

import ansible_run
import dbcheck
import hubgen
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")

SCALE = 2.0
SEED = 11
FIXUP_KEYS = dbcheck.FIXUP_KEYS


@pytest.fixture(scope="module")
def old_hub():
    hub = labhub.deploy("it-mod-old", "compose", version="old", scale=SCALE, seed=SEED, full=False)
    yield hub
    labhub.remove(hub["name"])


@pytest.fixture
def new_hub():
    hub = labhub.deploy("it-mod-new", "compose", version="new", load=False, full=False)
    yield hub
    labhub.remove(hub["name"])


def pgcrypto_on_the_old_server(hub):
    """pgcrypto as the Hub's bds_hub holds it (the vendor's external-postgres-init.pgsql creates it): PostgreSQL 9.4's
    is version 1.1, and a restore creates the newer server's own version, with more functions (9.6's 1.3 has two
    more). The lab's older server has no contrib: there a stand-in, SQL only, with pgcrypto's name, version 1.1, its
    comment and two functions; the newer server's is the real pgcrypto 1.3. Returns the old server's version."""
    share = labhub.psql(hub, "SELECT setting FROM pg_config WHERE name = 'SHAREDIR';", db="postgres").strip()
    if labhub.psql(hub, "SELECT count(*) FROM pg_available_extensions WHERE name = 'pgcrypto';", db="postgres").strip() == "0":
        files = {"pgcrypto.control": "default_version = '1.1'\ncomment = 'cryptographic functions'\nrelocatable = true\n",
                 "pgcrypto--1.1.sql": "CREATE FUNCTION digest(text, text) RETURNS bytea LANGUAGE sql AS 'SELECT NULL::bytea';\n"
                                      "CREATE FUNCTION gen_salt(text) RETURNS text LANGUAGE sql AS 'SELECT $1';\n"}
        for name, text in files.items():
            subprocess.run(["docker", "exec", "-i", "-u", "0", labhub.containers(hub, "postgres")[0], "sh", "-c",
                            'cat > "$0"', "%s/extension/%s" % (share, name)], input=text, text=True, check=True)
    labhub.psql(hub, "CREATE EXTENSION pgcrypto;")
    return labhub.psql(hub, "SELECT extversion FROM pg_extension WHERE extname = 'pgcrypto';").strip()


@pytest.fixture
def old_pgcrypto(old_hub):
    """old_hub's bds_hub with pgcrypto, for this test only: its version on the old server."""
    yield pgcrypto_on_the_old_server(old_hub)
    labhub.psql(old_hub, "DROP EXTENSION IF EXISTS pgcrypto;")


def docker_conn(hub, version):
    return {"type": "docker", "project": hub["project"], "hub_version": version}


def tcp_conn(hub, password="blackduck"):
    return {"type": "tcp", "host": "127.0.0.1", "port": hub["pg_port"], "user": "blackduck", "password": password,
            "sslmode": "disable"}


counts = dbcheck.counts
fingerprint = dbcheck.fingerprint


def test_docker_round_trip_is_exact_and_idempotent(old_hub, old_pgcrypto, new_hub, tmp_path):
    dump_dir = str(tmp_path / "dump")
    source = docker_conn(old_hub, labhub.OLD)
    before = fingerprint(old_hub)

    # db_dump: check mode, real, idempotent check, idempotent
    r = ansible_run.module("db_dump", {"connection": source, "dump_dir": dump_dir}, check=True)
    assert r["changed"] is True and "would dump bds_hub, bds_hub_report, bdio" in r["msg"]
    assert not os.path.exists(dump_dir)
    r = ansible_run.module("db_dump", {"connection": source, "dump_dir": dump_dir})
    assert r["changed"] is True, r
    assert set(r["databases"]) == {"bds_hub", "bds_hub_report", "bdio"}
    assert stat.S_IMODE(os.stat(dump_dir).st_mode) == 0o700
    for f in os.listdir(dump_dir):
        assert stat.S_IMODE(os.stat(os.path.join(dump_dir, f)).st_mode) == 0o600, f
    assert sorted(os.listdir(dump_dir)) == ["bdio.dump", "bds_hub.dump", "bds_hub_report.dump", "globals.sql",
                                            "manifest.json"]
    manifest = json.load(open(os.path.join(dump_dir, "manifest.json")))
    assert manifest["source"]["server_major"] == labhub.VERSIONS["PG_OLD_MAJOR"]
    expected = hubgen.expected_row_counts(SCALE, SEED)
    for db, tables in expected.items():
        for table, n in tables.items():
            assert manifest["databases"][db]["tables"][table]["rows"] == n, (db, table)
    assert manifest["databases"]["bds_hub"]["large_objects"]["count"] == len(hubgen.LO_OIDS)
    assert manifest["databases"]["bds_hub"]["sequences"]["st.hub_event_seq"]["last_value"] == 424242
    assert manifest["databases"]["bds_hub"]["toc_entries"] > 50
    assert "blackduck_user" in manifest["roles"]
    assert manifest["databases"]["bds_hub"]["extensions"]["pgcrypto"] == old_pgcrypto
    sha = subprocess.run(["sha256sum", os.path.join(dump_dir, "bds_hub.dump")], capture_output=True, text=True,
                         check=True).stdout.split()[0]
    assert sha == manifest["databases"]["bds_hub"]["sha256"] == r["databases"]["bds_hub"]["sha256"]
    r = ansible_run.module("db_dump", {"connection": source, "dump_dir": dump_dir}, check=True)
    assert r["changed"] is False
    r = ansible_run.module("db_dump", {"connection": source, "dump_dir": dump_dir})
    assert r["changed"] is False and r["dump_id"] == manifest["dump_id"]
    assert fingerprint(old_hub) == before  # the source is unchanged

    # db_restore: check mode changes nothing
    target = docker_conn(new_hub, labhub.NEW)
    r = ansible_run.module("db_restore", {"connection": target, "dump_dir": dump_dir}, check=True)
    assert r["changed"] is True
    assert labhub.psql(new_hub, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'st'").strip() == "0"
    r, out = ansible_run.module_output("db_restore", {"connection": target, "dump_dir": dump_dir})
    assert r["changed"] is True, r
    assert sorted(r["restored"]) == ["bdio", "bds_hub", "bds_hub_report"]
    assert r["role_passwords"] == "dump"  # the default: the roles as the old server had them
    hashes = [w.strip("';") for w in open(os.path.join(dump_dir, "globals.sql")).read().split() if w.startswith("'md5")]
    assert hashes and not any(h in out for h in hashes)  # the roles' password hashes never reach the output

    # db_verify exact, right after the restore: pgcrypto as the new server has it (its own functions) is no difference
    assert labhub.psql(new_hub, "SELECT extversion FROM pg_extension WHERE extname = 'pgcrypto';").strip() == "1.3"
    r = ansible_run.module("db_verify", {"connection": target, "dump_dir": dump_dir})
    assert r["verified"] is True and r["differences"] == []
    assert set(r["restore_markers"][n]["role_passwords"] for n in r["databases"]) == {"dump"}  # each marker says how
    assert r["server"]["major"] == labhub.VERSIONS["PG_NEW_MAJOR"]
    assert {t["table"] for t in r["databases"]["bds_hub"]["tables"]} == set(expected["bds_hub"])

    # independently: the same rows, but for exactly what the Hub's fixups change
    for db in ("bds_hub", "bds_hub_report", "bdio"):
        old_c, new_c = counts(old_hub, db), counts(new_hub, db)
        if db == "bds_hub":
            present = int(labhub.psql(old_hub, "SELECT count(*) FROM st.policy_setting WHERE policy_key IN ('%s')"
                                      % "', '".join(FIXUP_KEYS)).strip())
            assert present == 2
            assert new_c.pop("st.policy_setting") == old_c.pop("st.policy_setting") - present
        assert new_c == old_c, db
    active = labhub.psql(new_hub, "SELECT count(*) FROM st.job_instances WHERE job_type = 'ReportingDatabaseTransferJob' "
                                  "AND status IN ('SCHEDULED', 'DISPATCHED', 'RUNNING')").strip()
    assert active == "0"

    # idempotent restore
    r = ansible_run.module("db_restore", {"connection": target, "dump_dir": dump_dir}, check=True)
    assert r["changed"] is False
    # (with the setting changed since: nothing is restored, and the roles are reported as the markers say they are)
    r = ansible_run.module("db_restore", {"connection": target, "dump_dir": dump_dir, "role_passwords": "target"})
    assert r["changed"] is False and sorted(r["already_restored"]) == ["bdio", "bds_hub", "bds_hub_report"]
    assert r["role_passwords"] == "dump"

    # a changed row is found, table by table - also with the tables shared between two sessions (jobs)
    labhub.psql(new_hub, "UPDATE st.project SET name = name || '!' WHERE id = (SELECT min(id) FROM st.project)")
    r = ansible_run.module("db_verify", {"connection": target, "dump_dir": dump_dir, "jobs": 2})
    assert r["failed"] is True and r["verified"] is False
    assert [(d["database"], d["object"], d["kind"]) for d in r["differences"]] == [("bds_hub", "st.project", "checksum")]
    assert "st.project" in r["msg"]
    # without checksums only counts compare - the tables', the large objects' and those of the rows the Hub's fixups
    # leave - so that change is not seen, and nothing else differs
    r = ansible_run.module("db_verify", {"connection": target, "dump_dir": dump_dir, "checksums": False})
    assert r["verified"] is True and r["differences"] == [], r.get("differences")

    # the old hub's data was never touched
    assert fingerprint(old_hub) == before


def test_stream_without_a_dump_file_is_exact_idempotent_and_resumes(old_hub, new_hub, tmp_path):
    """db_restore's source: every database piped from the old container's pg_dump into the new one's pg_restore;
    dump_dir keeps only the record (manifest.json, format stream) that db_verify compares with."""
    dump_dir = str(tmp_path / "dump")
    args = {"source": docker_conn(old_hub, labhub.OLD), "connection": docker_conn(new_hub, labhub.NEW),
            "dump_dir": dump_dir}
    before = fingerprint(old_hub)

    r = ansible_run.module("db_restore", args, check=True)
    assert r["changed"] is True and "would stream bds_hub, bds_hub_report, bdio from container " in r["msg"], r
    assert not os.path.exists(dump_dir)
    assert labhub.psql(new_hub, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'st'").strip() == "0"

    r = ansible_run.module("db_restore", args)
    assert r["changed"] is True, r.get("msg")
    assert sorted(r["restored"]) == ["bdio", "bds_hub", "bds_hub_report"]
    assert r["source"]["server_major"] == labhub.VERSIONS["PG_OLD_MAJOR"]
    assert os.listdir(dump_dir) == ["manifest.json"]  # no dump file, nothing left of the progress
    assert stat.S_IMODE(os.stat(os.path.join(dump_dir, "manifest.json")).st_mode) == 0o600
    record = json.load(open(os.path.join(dump_dir, "manifest.json")))
    assert record["options"]["format"] == "stream" and record["dump_id"] == r["dump_id"]
    for db, tables in hubgen.expected_row_counts(SCALE, SEED).items():
        for table, n in tables.items():
            assert record["databases"][db]["tables"][table]["rows"] == n, (db, table)
    assert "blackduck_user" in record["roles"]

    verified = ansible_run.module("db_verify", {"connection": args["connection"], "dump_dir": dump_dir, "jobs": 2})
    assert verified["verified"] is True, verified.get("differences")
    assert verified["roles"]["blackduck_user"] == "equal"  # the roles came through pg_dumpall, with their passwords
    for db in ("bds_hub_report", "bdio"):
        assert counts(new_hub, db) == counts(old_hub, db), db

    r = ansible_run.module("db_restore", args, check=True)
    assert r["changed"] is False
    r = ansible_run.module("db_restore", args)
    assert r["changed"] is False and sorted(r["already_restored"]) == ["bdio", "bds_hub", "bds_hub_report"]

    # an interrupted stream of bdio (its marker incomplete, half its rows gone): only bdio streams again
    labhub.psql(new_hub, "COMMENT ON DATABASE bdio IS 'blackduck.hub restore %s'" % json.dumps(
        {"dump_id": record["dump_id"], "complete": False}))
    bdio_rows = hubgen.expected_row_counts(SCALE, SEED)["bdio"]
    table = max(bdio_rows, key=bdio_rows.get)
    labhub.psql(new_hub, "DELETE FROM %s WHERE ctid IN (SELECT ctid FROM %s LIMIT 1)" % (table, table), db="bdio")
    assert ansible_run.module("db_verify", {"connection": args["connection"], "dump_dir": dump_dir})["verified"] is False
    r = ansible_run.module("db_restore", args)
    assert r["changed"] is True and sorted(r["restored"]) == ["bdio"], r
    assert sorted(r["already_restored"]) == ["bds_hub", "bds_hub_report"] and r["dump_id"] == record["dump_id"]
    verified = ansible_run.module("db_verify", {"connection": args["connection"], "dump_dir": dump_dir})
    assert verified["verified"] is True, verified.get("differences")

    # the streams ended but the count of the source's tables did not (the old database removed just then): the
    # record on disk is the one written before the streams. The rerun counts and streams nothing again
    interrupted = json.load(open(os.path.join(dump_dir, "manifest.json")))
    for db in ("bds_hub_report", "bdio"):
        del interrupted["databases"][db]["tables"]
    del interrupted["completed"]
    with open(os.path.join(dump_dir, "manifest.json"), "w") as f:
        json.dump(interrupted, f)
    r = ansible_run.module("db_restore", args, check=True)
    assert r["changed"] is False and "would stream nothing (count the source's tables)" in r["msg"], r
    r = ansible_run.module("db_restore", args)
    assert r["changed"] is False and r["restored"] == {}, r
    assert sorted(r["already_restored"]) == ["bdio", "bds_hub", "bds_hub_report"]
    recounted = json.load(open(os.path.join(dump_dir, "manifest.json")))
    assert recounted["dump_id"] == record["dump_id"] and recounted["completed"]
    for db in ("bds_hub_report", "bdio"):
        assert recounted["databases"][db]["tables"] == record["databases"][db]["tables"], db
    verified = ansible_run.module("db_verify", {"connection": args["connection"], "dump_dir": dump_dir})
    assert verified["verified"] is True, verified.get("differences")

    # the record is no dump: db_dump keeps it, db_restore without the source refuses it
    r = ansible_run.module("db_dump", {"connection": args["source"], "dump_dir": dump_dir})
    assert r["failed"] is True and "holds the record of a stream" in r["msg"]
    r = ansible_run.module("db_restore", {"connection": args["connection"], "dump_dir": dump_dir})
    assert r["failed"] is True and "not a dump: give the source it streams from" in r["msg"]
    assert os.listdir(dump_dir) == ["manifest.json"]
    assert fingerprint(old_hub) == before  # the old hub's data was never touched

    # the new database removed while db_verify compares (held on a table lock, so that the removal surely finds it
    # comparing): the module says so, not only the failed query's words
    verified = verify_while_the_database_is_removed(new_hub, args["connection"], dump_dir, "bdio", table)
    assert verified["failed"] is True and re.match(
        r"the verification stopped because the database container \S+ was (removed|stopped) while it ran \(.+\)\. "
        r"Nothing was changed by it", verified["msg"]), verified["msg"]


def verify_while_the_database_is_removed(hub, connection, dump_dir, db, table):
    """db_verify's result when hub's database container is removed (docker rm -f) while the comparison waits for
    table of db, locked by another session; verify compares bdio first."""
    holder = subprocess.Popen(labhub.db_exec_argv(hub, interactive=True) + ["psql", "-X", "-q", "-d", db, "-f", "-"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    result = []
    try:
        holder.stdin.write("BEGIN;\nLOCK TABLE %s IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(600);\n" % table)
        holder.stdin.flush()
        locked = "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' AND relation = " \
                 "'%s'::regclass" % table
        labhub.wait("the lock on %s" % table, lambda: labhub.psql(hub, locked, db=db).strip() == "1", timeout=60)

        def verify():
            try:
                result.append(ansible_run.module("db_verify", {"connection": connection, "dump_dir": dump_dir}))
            except Exception as exc:  # told by the test, not lost in the thread
                result.append(exc)

        worker = threading.Thread(target=verify, daemon=True)
        worker.start()
        labhub.wait("db_verify to wait for the lock", lambda: labhub.psql(
            hub, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'blackduck.hub' AND wait_event_type = "
                 "'Lock'", db="postgres").strip() != "0", timeout=300)
        labhub.run(["docker", "rm", "-f"] + labhub.containers(hub, "postgres"))
        worker.join(timeout=600)
    finally:
        holder.kill()
        holder.wait()
    assert result, "db_verify did not end within 10 minutes of its database's removal"
    if isinstance(result[0], Exception):
        raise result[0]
    return result[0]


def file_digests(folder):
    digests = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            digests[name] = hashlib.sha256(f.read()).hexdigest()
    return digests


def unmount(path):
    if subprocess.run(["umount", path], check=False).returncode != 0:
        subprocess.run(["umount", "-l", path], check=True)  # busy: detached now, freed when its last user goes


@contextlib.contextmanager
def database_on_a_small_disk(hub, room_kb):
    """A Compose hub's migration-mode database restarted with its data on a tmpfs of the data's size plus room_kb (a
    copy: the volume's own files stay under the mount as they were); yields grow(kb), which makes that tmpfs larger
    while the server runs. At the end the tmpfs is gone and the server started again on its volume."""
    container = labhub.containers(hub, "postgres")[0]
    data = labhub.run(["docker", "inspect", "-f", '{{range .Mounts}}{{if eq .Destination "/var/lib/postgresql/data"}}'
                       '{{.Source}}{{end}}{{end}}', container]).strip()
    labhub.run(["docker", "stop", container])
    if os.path.ismount(data):  # a killed run's
        unmount(data)
    copy = tempfile.mkdtemp(prefix="bdhub-test-pgdata-")
    try:
        labhub.run(["cp", "-a", data + "/.", copy])
        used_kb = int(labhub.run(["du", "-sk", copy]).split()[0])
        st = os.stat(data)
        size = [used_kb + room_kb]
        labhub.run(["mount", "-t", "tmpfs", "-o", "size=%dk,uid=%d,gid=%d,mode=0700" % (size[0], st.st_uid, st.st_gid),
                    "bdhub-test-pgdata", data])
        labhub.run(["cp", "-a", copy + "/.", data])
        labhub.run(["docker", "start", container])
        labhub.wait_db_ready(hub)

        def grow(kb):
            size[0] += kb
            labhub.run(["mount", "-o", "remount,size=%dk" % size[0], data])

        yield grow
    finally:  # no wait here: a failure of the test is what it reports
        labhub.run(["docker", "stop", container], check=False)
        if os.path.ismount(data):
            unmount(data)
        shutil.rmtree(copy, ignore_errors=True)
        labhub.run(["docker", "start", container], check=False)


def test_refusals_leave_everything_as_it_was(old_hub, new_hub, tmp_path):
    """Bad input and a full disk: refused with words that say what to do, nothing lost - the target, the dump and the
    old data as they were (a full new disk leaves a partial restore that the next run replaces)."""
    dump_dir = str(tmp_path / "dump")
    source = docker_conn(old_hub, labhub.OLD)
    r = ansible_run.module("db_dump", {"connection": source, "dump_dir": dump_dir})
    assert r["changed"] is True
    target = docker_conn(new_hub, labhub.NEW)

    # a truncated dump is refused before anything changes on the target
    bad = str(tmp_path / "truncated")
    shutil.copytree(dump_dir, bad)
    with open(os.path.join(bad, "bds_hub.dump"), "r+b") as f:
        f.truncate(os.path.getsize(os.path.join(bad, "bds_hub.dump")) // 2)
    r = ansible_run.module("db_restore", {"connection": target, "dump_dir": bad})
    assert r["failed"] is True and "bds_hub.dump has" in r["msg"] and "truncated" in r["msg"]
    assert labhub.psql(new_hub, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'st'").strip() == "0"

    # a target that holds other Hub data is refused (the vendor's guard)
    labhub.psql(new_hub, "CREATE SCHEMA IF NOT EXISTS st; CREATE TABLE st.someone_elses (id int); INSERT INTO st.someone_elses VALUES (1);")
    r = ansible_run.module("db_restore", {"connection": target, "dump_dir": dump_dir})
    assert r["failed"] is True and "already holds Hub data" in r["msg"]
    assert labhub.psql(new_hub, "SELECT count(*) FROM st.someone_elses").strip() == "1"

    # step 1's gate (db_verify allow_empty_hub): Hub tables without a project or a code location are an empty Hub,
    # which a restore replaces; a project there means a Hub in use: refused, and nothing changed
    gate = {"connection": target, "require_no_hub_data": True, "allow_empty_hub": True, "wait_timeout": 5}
    r = ansible_run.module("db_verify", gate)
    assert not r.get("failed") and r["empty_hub"] is True and r["hub_data_rows"] == {}, r
    labhub.psql(new_hub, "CREATE TABLE st.project (id int); INSERT INTO st.project VALUES (1), (2);")
    r = ansible_run.module("db_verify", gate)
    assert r["failed"] is True and "holds the data of a Hub in use (st.project has 2 rows)" in r["msg"], r
    assert r["hub_data_rows"] == {"st.project": 2} and "empty_hub" not in r
    assert labhub.psql(new_hub, "SELECT count(*) FROM st.project").strip() == "2"

    # a complete dump is never overwritten by a dump of another source
    r = ansible_run.module("db_dump", {"connection": target, "dump_dir": dump_dir, "allow_active_sessions": True})
    assert r["failed"] is True and "never overwritten" in r["msg"]
    r2 = json.load(open(os.path.join(dump_dir, "manifest.json")))
    assert r2["source"]["server_major"] == labhub.VERSIONS["PG_OLD_MAJOR"]

    # missing and ambiguous containers
    r = ansible_run.module("db_dump", {"connection": {"type": "docker", "container": "no-such-hub-db"},
                                       "dump_dir": str(tmp_path / "x")})
    assert r["failed"] is True and "no container 'no-such-hub-db'" in r["msg"]
    r = ansible_run.module("db_dump", {"connection": {"type": "docker"}, "dump_dir": str(tmp_path / "x")})
    assert r["failed"] is True and "more than one database container" in r["msg"]
    assert "it-mod-old-postgres-1" in r["msg"] and "it-mod-new-postgres-1" in r["msg"]
    r = ansible_run.module("db_dump", {"connection": {"type": "docker", "hub_version": "0.0.0"}, "dump_dir": str(tmp_path / "x")})
    assert r["failed"] is True and "no database container found" in r["msg"] and "0.0.0" in r["msg"]
    r = ansible_run.module("db_dump", {"connection": source, "dump_dir": str(tmp_path / "x"), "databases": ["bds_hub", "nope"]})
    assert r["failed"] is True and "database nope not found" in r["msg"]
    assert not os.path.exists(str(tmp_path / "x"))

    # a wrong password: a clear error and no secret in the output
    secret = "Wr0ng-S3cret-Pw"
    r, out = ansible_run.module_output("db_verify", {"connection": tcp_conn(new_hub, password=secret), "wait_timeout": 5})
    assert r["failed"] is True and "refused the credentials" in r["msg"]
    assert secret not in out

    # the new server's disk fills during the restore: the cause named with what to do, the dump untouched; once there
    # is room the same call restores again what did not complete, and the result is exact
    labhub.psql(new_hub, "DROP SCHEMA st CASCADE;")
    dump_files = file_digests(dump_dir)
    with database_on_a_small_disk(new_hub, room_kb=1024) as grow:
        r = ansible_run.module("db_restore", {"connection": target, "dump_dir": dump_dir})
        assert r["failed"] is True and r["msg"].startswith("the new database server ran out of disk space ("), r["msg"]
        # the server's own words: ENOSPC, or a short write when it fills in the middle of extending a file (seen in ANALYZE)
        assert re.search(r"No space left on device|could not extend file .*: wrote only \d+ of \d+ bytes", r["msg"]), r["msg"]
        assert "the dump is untouched" in r["msg"], r["msg"]
        assert file_digests(dump_dir) == dump_files
        grow(256 * 1024)
        r = ansible_run.module("db_restore", {"connection": target, "dump_dir": dump_dir})
        assert r["changed"] is True, r.get("msg")
        verified = ansible_run.module("db_verify", {"connection": target, "dump_dir": dump_dir})
        assert verified["verified"] is True, verified["differences"]
    assert file_digests(dump_dir) == dump_files


def test_active_sessions_and_disk_full(old_hub, tmp_path):
    source = docker_conn(old_hub, labhub.OLD)
    # something still connected (a Hub not brought down) -> refused
    holder = subprocess.Popen(labhub.db_exec_argv(old_hub, interactive=True) + ["psql", "-X", "-q", "-d", "bds_hub"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        holder.stdin.write("SELECT 1;\n")
        holder.stdin.flush()
        labhub.wait("the session to appear", lambda: labhub.psql(
            old_hub, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bds_hub'").strip() != "0", timeout=20)
        r = ansible_run.module("db_dump", {"connection": source, "dump_dir": str(tmp_path / "busy")})
        assert r["failed"] is True and "still have client sessions" in r["msg"]
    finally:
        holder.stdin.close()
        holder.wait(timeout=20)

    # disk full mid-dump: a small tmpfs; the partial file is removed and the message says so
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(small)], check=True)
    try:
        before = fingerprint(old_hub)
        r = ansible_run.module("db_dump", {"connection": source, "dump_dir": str(small / "dump"), "jobs": 1})
        assert r["failed"] is True and "is full" in r["msg"] and "partial file was removed" in r["msg"]
        left = os.listdir(str(small / "dump"))
        assert not [f for f in left if f.endswith(".partial")] and "manifest.json" not in left
        assert fingerprint(old_hub) == before
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_tcp_round_trip_as_a_non_superuser(old_hub, old_pgcrypto, new_hub, tmp_path):
    """External-database path: the managed host's own client tools over TCP, as the Hub's admin role. The old Hub
    has the vendor's optional replication user (bin/hub_add_replication_user.sh): a non-superuser may not give it
    REPLICATION, so it comes without, and the result says so. The new bds_hub has pgcrypto already, as a DBA made
    it with the vendor's external-postgres-init.pgsql (on Amazon RDS, as its master user): the admin role may not
    drop it nor set its comment, and need not."""
    dump_dir = str(tmp_path / "dump")
    src, dst = tcp_conn(old_hub), tcp_conn(new_hub)
    labhub.psql(old_hub, "CREATE ROLE blackduck_replication LOGIN REPLICATION;", db="postgres")
    labhub.psql(new_hub, "CREATE EXTENSION pgcrypto;")  # as the superuser
    # the passfile folder of a module run that was killed (its process gone) is swept by the next TCP target; one of
    # a process that runs is left alone
    gone = subprocess.Popen(["true"])
    gone.wait()
    left = [tempfile.mkdtemp(prefix="bdhub-%d-" % pid) for pid in (gone.pid, os.getpid())]
    for folder in left:
        with open(os.path.join(folder, "pgpass"), "w") as f:
            f.write("*:*:*:*:not-a-password\n")
    try:
        r = ansible_run.module("db_dump", {"connection": src, "dump_dir": dump_dir, "no_role_passwords": True})
        assert r["changed"] is True, r
        assert not os.path.exists(left[0]) and os.path.isfile(os.path.join(left[1], "pgpass"))
        assert r["tools"]["pg_dump"].split()[-1].split(".")[0] == labhub.VERSIONS["PG_NEW_MAJOR"]  # the newer client
        r = ansible_run.module("db_restore", {"connection": dst, "dump_dir": dump_dir})
        assert r["changed"] is True, r.get("msg")
        # (Ansible masks the lab's password, "blackduck", wherever it stands in the output: the role's name too)
        assert [w for w in r["warnings_ignored"] if w.startswith("roles restored without what only a superuser may grant")
                and w.endswith("_replication (REPLICATION)")], "\n".join(r["warnings_ignored"])
        assert [w for w in r["warnings_ignored"] if "must be owner of extension pgcrypto" in w], r["warnings_ignored"]
        assert labhub.psql(new_hub, "SELECT r.rolname, e.extversion FROM pg_extension e JOIN pg_roles r ON r.oid = "
                                    "e.extowner WHERE e.extname = 'pgcrypto';").strip() == "postgres|1.3"
        assert labhub.psql(new_hub, "SELECT rolcanlogin, rolreplication FROM pg_roles WHERE rolname = "
                                    "'blackduck_replication'", db="postgres").strip() == "t|f"
        log = str(tmp_path / "psycopg2.log")
        verified = ansible_run.module("db_verify", {"connection": dst, "dump_dir": dump_dir, "log_file": log, "jobs": 2,
                                                    "require_major": labhub.VERSIONS["PG_NEW_MAJOR"]})
        assert verified["verified"] is True, verified["differences"]
        r = ansible_run.module("db_verify", {"connection": dst, "require_major": "9.6"})
        assert r["failed"] is True and "PostgreSQL 9.6 is required" in r["msg"]

        # The queries went through psycopg2 (this Python has it); a managed host without it reads the same through psql
        with open(log) as f:
            text = f.read()
        assert "psycopg2 127.0.0.1:%d as blackduck dbname=bds_hub: taking row counts and checksums" % new_hub["pg_port"] in text
        assert "/psql " not in text and "blackduck" in text and "exit 1" not in text
        # jobs 2: bds_hub's tables read by two sessions at once
        assert text.count("dbname=bds_hub: taking row counts and checksums") == 2, text
        bare = str(tmp_path / "bare-python")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", bare], check=True)
        bare_python = os.path.join(bare, "bin", "python")
        assert subprocess.run([bare_python, "-c", "import psycopg2"], capture_output=True, check=False).returncode != 0
        log = str(tmp_path / "psql.log")
        r2 = ansible_run.module("db_verify", {"connection": dst, "dump_dir": dump_dir, "log_file": log}, python=bare_python)
        assert r2["verified"] is True and r2["databases"] == verified["databases"], r2
        assert (r2["server"], r2["restore_markers"]) == (verified["server"], verified["restore_markers"])
        with open(log) as f:
            text = f.read()
        assert "psycopg2" not in text and "/psql -h 127.0.0.1 -p %d -U blackduck" % new_hub["pg_port"] in text
    finally:
        for folder in left:
            shutil.rmtree(folder, ignore_errors=True)
        for hub in (old_hub, new_hub):
            labhub.psql(hub, "DROP ROLE IF EXISTS blackduck_replication;", db="postgres")


def test_tcp_directory_format_with_parallel_jobs(old_hub, new_hub, tmp_path):
    """The fastest way for large databases: pg_dump/pg_restore --jobs on a directory, over TCP."""
    dump_dir = str(tmp_path / "dump")
    r = ansible_run.module("db_dump", {"connection": docker_conn(old_hub, labhub.OLD), "dump_dir": dump_dir,
                                       "format": "directory"})
    assert r["failed"] is True and "needs connection.type tcp" in r["msg"] and not os.path.exists(dump_dir)
    src, dst = tcp_conn(old_hub), tcp_conn(new_hub)
    r = ansible_run.module("db_dump", {"connection": src, "dump_dir": dump_dir, "format": "directory", "jobs": 2,
                                       "no_role_passwords": True})
    assert r["changed"] is True, r.get("msg")
    manifest = json.load(open(os.path.join(dump_dir, "manifest.json")))
    entry = manifest["databases"]["bds_hub"]
    assert entry["format"] == "directory" and os.path.isdir(os.path.join(dump_dir, "bds_hub.dir"))
    assert set(entry["files"]) == set(os.listdir(os.path.join(dump_dir, "bds_hub.dir")))
    assert "toc.dat" in entry["files"] and entry["toc_entries"] > 50
    for name, f in entry["files"].items():
        path = os.path.join(dump_dir, "bds_hub.dir", name)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert subprocess.run(["sha256sum", path], capture_output=True, text=True, check=True).stdout.split()[0] == f["sha256"]
    assert ansible_run.module("db_dump", {"connection": src, "dump_dir": dump_dir, "format": "directory"})["changed"] is False
    r = ansible_run.module("db_restore", {"connection": dst, "dump_dir": dump_dir, "jobs": 2})
    assert r["changed"] is True, r.get("msg")
    r = ansible_run.module("db_verify", {"connection": dst, "dump_dir": dump_dir})
    assert r["verified"] is True, r["differences"]
    # a session of blackduck.hub's own tools on a database to restore (another run, or a killed run's background
    # restore, which leaves bds_hub's marker incomplete): refused, nothing changed. The module's own sessions
    # (psycopg2 keeps them, on this TCP target) are not taken for one: the same restore runs once that session ends
    comment = labhub.psql(new_hub, "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                   "WHERE datname = 'bds_hub'").strip()
    marker = dict(json.loads(comment[len("blackduck.hub restore "):]), complete=False)
    labhub.psql(new_hub, "COMMENT ON DATABASE bds_hub IS 'blackduck.hub restore %s'" % json.dumps(marker))
    holder = subprocess.Popen(labhub.db_exec_argv(new_hub, interactive=True) + [
        "env", "PGAPPNAME=blackduck.hub", "psql", "-X", "-q", "-d", "bds_hub"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        holder.stdin.write("SELECT 1;\n")
        holder.stdin.flush()
        labhub.wait("the session to appear", lambda: labhub.psql(new_hub, (
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'blackduck.hub'")).strip() != "0", timeout=20)
        before = fingerprint(new_hub)
        r = ansible_run.module("db_restore", {"connection": dst, "dump_dir": dump_dir})
        # (the lab's password is "blackduck": Ansible masks that word in the message)
        assert r["failed"] is True and "hub itself (postgres@bds_hub): another run is working on this hub" in r["msg"], r
        assert r["msg"].endswith("Nothing was changed.") and fingerprint(new_hub) == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=20)
    r = ansible_run.module("db_restore", {"connection": dst, "dump_dir": dump_dir, "jobs": 2})
    assert r["changed"] is True and sorted(r["restored"]) == ["bds_hub"], r
    assert ansible_run.module("db_verify", {"connection": dst, "dump_dir": dump_dir})["verified"] is True
    # one file of the directory damaged: refused before anything happens
    data_file = sorted(n for n in entry["files"] if n.endswith(".dat") and n != "toc.dat")[0]
    with open(os.path.join(dump_dir, "bds_hub.dir", data_file), "ab") as f:
        f.write(b"x")
    r = ansible_run.module("db_restore", {"connection": dst, "dump_dir": dump_dir, "force": True})
    assert r["failed"] is True and "bds_hub.dir/%s" % data_file in r["msg"]


@pytest.mark.usefixtures("k8s_lab")
def test_kubectl_round_trip(tmp_path):
    old = labhub.deploy("it-k8s-old", "kubernetes", version="old", scale=1.0, seed=3, full=False)
    new = None
    try:
        new = labhub.deploy("it-k8s-new", "kubernetes", version="new", load=False, full=False)
        dump_dir = str(tmp_path / "dump")

        def conn(hub):
            return {"type": "kubectl", "namespace": hub["namespace"], "kubeconfig": labhub.KUBECONFIG,
                    "port": hub["k8s_pg_port"]}

        r = ansible_run.module("db_dump", {"connection": conn(old), "dump_dir": dump_dir})
        assert r["changed"] is True, r
        assert r["source"]["where"].startswith("pod it-k8s-old/postgres-")
        r = ansible_run.module("db_restore", {"connection": conn(new), "dump_dir": dump_dir})
        assert r["changed"] is True, r
        r = ansible_run.module("db_verify", {"connection": conn(new), "dump_dir": dump_dir})
        assert r["verified"] is True, r["differences"]
        r = ansible_run.module("db_restore", {"connection": conn(new), "dump_dir": dump_dir})
        assert r["changed"] is False
    finally:
        labhub.remove("it-k8s-old")
        if new:
            labhub.remove("it-k8s-new")


MOUNT = labhub.DUMP_MOUNT


def owned_by_root_0600(folder):
    for root, dirs, files in os.walk(folder):
        st = os.stat(root)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o700), root
        for f in files:
            st = os.stat(os.path.join(root, f))
            assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, 0o600), (root, f)


def test_a_full_mounted_dump_folder_refuses_cleanly(old_hub, tmp_path):
    """pg_dump --jobs writing inside the container into the mounted dump folder, on a file system that fills: the
    same words as a streamed dump's, no partial folder left, no manifest, the old data as it was."""
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(small)], check=True)
    try:
        dump_dir = str(small / "dump")
        os.mkdir(dump_dir, 0o700)
        before = fingerprint(old_hub)
        source = dict(docker_conn(old_hub, labhub.OLD), dump_mount=MOUNT)
        # the container not (yet) started with the folder mounted: the tools' user cannot reach it there
        r = ansible_run.module("db_dump", {"connection": source, "dump_dir": dump_dir, "format": "directory"})
        assert r["failed"] is True and re.match(r"the database tools in .* cannot write into %s/\w+\.dir\.partial, where "
                                                r"connection.dump_mount says" % MOUNT, r["msg"]), r["msg"]
        left = os.listdir(dump_dir)
        assert not [f for f in left if f.endswith(".partial")] and "manifest.json" not in left, left
        assert stat.S_IMODE(os.stat(dump_dir).st_mode) == 0o700
        labhub.mount_dump_folder(old_hub, labhub.OLD, dump_dir)
        r = ansible_run.module("db_dump", {"connection": source, "dump_dir": dump_dir, "format": "directory", "jobs": 2})
        assert r["failed"] is True and "is full" in r["msg"] and "the partial folder was removed" in r["msg"], r["msg"]
        left = os.listdir(dump_dir)
        assert not [f for f in left if f.endswith(".partial")] and "manifest.json" not in left, left
        assert fingerprint(old_hub) == before
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_docker_directory_format_through_the_mounted_dump_folder(old_hub, new_hub, tmp_path):
    """The files without a pipe: the dump folder bind-mounted into the old and the new database containers,
    pg_dump --jobs 2 writes it and pg_restore --jobs 2 reads it inside them; the host keeps it root's, 0600/0700."""
    dump_dir = str(tmp_path / "dump")
    os.mkdir(dump_dir, 0o700)
    labhub.mount_dump_folder(old_hub, labhub.OLD, dump_dir)
    labhub.mount_dump_folder(new_hub, labhub.NEW, dump_dir)
    source = dict(docker_conn(old_hub, labhub.OLD), dump_mount=MOUNT)
    target = dict(docker_conn(new_hub, labhub.NEW), dump_mount=MOUNT)
    before = fingerprint(old_hub)
    log = str(tmp_path / "run.log")

    r = ansible_run.module("db_dump", {"connection": docker_conn(old_hub, labhub.OLD), "dump_dir": dump_dir,
                                       "format": "directory"})
    assert r["failed"] is True and "needs connection.type tcp or connection.dump_mount" in r["msg"]
    r = ansible_run.module("db_dump", {"connection": source, "dump_dir": dump_dir, "format": "directory", "jobs": 2,
                                       "log_file": log})
    assert r["changed"] is True, r.get("msg")
    manifest = json.load(open(os.path.join(dump_dir, "manifest.json")))
    entry = manifest["databases"]["bds_hub"]
    assert entry["format"] == "directory" and entry["toc_entries"] > 50
    assert set(entry["files"]) == set(os.listdir(os.path.join(dump_dir, "bds_hub.dir")))
    for name, f in entry["files"].items():
        path = os.path.join(dump_dir, "bds_hub.dir", name)
        assert subprocess.run(["sha256sum", path], capture_output=True, text=True, check=True).stdout.split()[0] == f["sha256"]
    owned_by_root_0600(dump_dir)
    with open(log) as f:
        text = f.read()
    # pg_dump ran in the container on the mounted folder, with its workers, and nothing was streamed out
    dumps = [line for line in text.splitlines() if " pg_dump " in line and "--format directory" in line]
    assert len(dumps) == 3 and all("--jobs 2" in line and "--file %s/" % MOUNT in line and " exec -i " not in line
                                   for line in dumps), dumps
    assert ansible_run.module("db_dump", {"connection": source, "dump_dir": dump_dir, "format": "directory"})["changed"] is False
    assert fingerprint(old_hub) == before

    r = ansible_run.module("db_restore", {"connection": target, "dump_dir": dump_dir, "jobs": 2, "log_file": log})
    assert r["changed"] is True, r.get("msg")
    owned_by_root_0600(dump_dir)
    with open(log) as f:
        restores = [line for line in f.read().splitlines() if " pg_restore " in line and "--jobs 2" in line]
    assert len(restores) == 3 and all(line.rstrip().endswith(".dir") and " %s/" % MOUNT in line and " exec -i " not in line
                                      for line in restores), restores
    r = ansible_run.module("db_verify", {"connection": target, "dump_dir": dump_dir})
    assert r["verified"] is True, r["differences"]
    for db in ("bds_hub_report", "bdio"):
        assert counts(new_hub, db) == counts(old_hub, db), db
