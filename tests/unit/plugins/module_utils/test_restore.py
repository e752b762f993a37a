"""module_utils/_restore.py: globals for a non-superuser, and the restore steps run against a fake server."""
import hashlib
import os

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _inventory, _query, _restore
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError

# pg_dumpall --globals-only of a Hub 4.1 server (PostgreSQL 9.4), and the roles a 9.5+ server adds.
GLOBALS_94 = """--
-- PostgreSQL database cluster dump
--

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE blackduck;
ALTER ROLE blackduck WITH NOSUPERUSER INHERIT CREATEROLE CREATEDB LOGIN NOREPLICATION PASSWORD 'md5c0ffee00112233445566778899aabb';
CREATE ROLE blackduck_reporter;
ALTER ROLE blackduck_reporter WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION;
CREATE ROLE blackduck_user;
ALTER ROLE blackduck_user WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION PASSWORD 'md5ffeeddccbbaa99887766554433221100';
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION;
CREATE ROLE postgres_exporter;
ALTER ROLE postgres_exporter WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:c2E=$a2V5:c2U=';
CREATE ROLE "HubAdmin";
ALTER ROLE "HubAdmin" WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
ALTER ROLE "HubAdmin" SET search_path TO st, public;
ALTER ROLE blackduck SET search_path TO st, public;


--
-- Role memberships
--

GRANT blackduck_user TO blackduck GRANTED BY postgres;


--
-- PostgreSQL database cluster dump complete
--

"""


def test_globals_for_non_superuser():
    text, skipped, lost = _restore.globals_for_non_superuser(GLOBALS_94)
    assert lost == {}
    lines = text.splitlines()
    assert skipped == ["HubAdmin", "postgres"]
    # the superusers' own statements are gone
    assert not [line for line in lines if line.startswith(("CREATE ROLE postgres;", "ALTER ROLE postgres WITH",
                                                           'CREATE ROLE "HubAdmin"', 'ALTER ROLE "HubAdmin"'))]
    # the others keep their statements, without the attributes only a superuser may name; passwords kept
    assert "ALTER ROLE blackduck WITH INHERIT CREATEROLE CREATEDB LOGIN PASSWORD " \
           "'md5c0ffee00112233445566778899aabb';" in lines
    assert "ALTER ROLE blackduck_reporter WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN;" in lines
    assert "ALTER ROLE blackduck_user WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN PASSWORD " \
           "'md5ffeeddccbbaa99887766554433221100';" in lines
    # a role whose name starts with a superuser's is not taken for it
    assert "CREATE ROLE postgres_exporter;" in lines
    assert "ALTER ROLE postgres_exporter WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN PASSWORD " \
           "'SCRAM-SHA-256$4096:c2E=$a2V5:c2U=';" in lines
    assert "ALTER ROLE blackduck SET search_path TO st, public;" in lines
    assert "GRANT blackduck_user TO blackduck GRANTED BY postgres;" in lines
    assert not any(w in text for w in ("NOSUPERUSER", "NOREPLICATION", "NOBYPASSRLS"))
    # everything else is as it was, in order
    kept = [line for line in GLOBALS_94.splitlines() if not line.startswith(("CREATE ROLE", "ALTER ROLE"))]
    assert [line for line in lines if not line.startswith(("CREATE ROLE", "ALTER ROLE"))] == kept
    assert text.endswith("\n")


def test_globals_superuser_name_with_a_space():
    src = 'CREATE ROLE "Hub Admin";\nALTER ROLE "Hub Admin" WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN;\n'
    text, skipped, dummy = _restore.globals_for_non_superuser(src)
    assert skipped == ["Hub Admin"] and "Hub Admin" not in text


def test_globals_without_superusers_only_lose_the_no_attributes():
    src = ("CREATE ROLE blackduck;\n"
           "ALTER ROLE blackduck WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;\n"
           "COMMENT ON ROLE blackduck IS 'keeps NOSUPERUSER here';\n")
    text, skipped, dummy = _restore.globals_for_non_superuser(src)
    assert skipped == []
    assert text == ("CREATE ROLE blackduck;\n"
                    "ALTER ROLE blackduck WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN;\n"
                    "COMMENT ON ROLE blackduck IS 'keeps NOSUPERUSER here';\n")


def test_what_only_a_superuser_may_grant_is_left_out_and_named():
    # the vendor's optional replication user (bin/hub_add_replication_user.sh): a non-superuser (Amazon RDS) may not
    # give REPLICATION - the whole statement, its LOGIN and password too, would fail - so the role comes without it
    src = ("ALTER ROLE blackduck_replication WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN REPLICATION "
           "PASSWORD 'md5c0ffee00112233445566778899aabb';\n"
           'ALTER ROLE "REPLICATION BYPASSRLS" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN REPLICATION '
           "BYPASSRLS VALID UNTIL '2030-01-01 00:00:00+00';\n"
           "COMMENT ON ROLE blackduck IS 'REPLICATION stays in a comment';\n")
    text, skipped, lost = _restore.globals_for_non_superuser(src)
    assert skipped == [] and lost == {"blackduck_replication": ["REPLICATION"], "REPLICATION BYPASSRLS": ["REPLICATION", "BYPASSRLS"]}
    assert text == ("ALTER ROLE blackduck_replication WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN "
                    "PASSWORD 'md5c0ffee00112233445566778899aabb';\n"
                    'ALTER ROLE "REPLICATION BYPASSRLS" WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN '
                    "VALID UNTIL '2030-01-01 00:00:00+00';\n"
                    "COMMENT ON ROLE blackduck IS 'REPLICATION stays in a comment';\n")


# ------------------------------------------------------------------------------------------------ files

def test_check_files(tmp_path):
    (tmp_path / "bds_hub.dump").write_bytes(b"PGDMP")
    data = {"databases": {"bds_hub": {"file": "bds_hub.dump", "bytes": 5,
                                      "sha256": hashlib.sha256(b"PGDMP").hexdigest()},
                          "bdio": {"file": "bdio.dump", "bytes": 1, "sha256": "0" * 64}}}
    with pytest.raises(_restore.RestoreError) as info:
        _restore.check_files(str(tmp_path), data)
    assert str(info.value) == ("the dump in %s cannot be restored: bdio.dump is missing. Make the dump again (db_dump) "
                               "or restore another copy; nothing was changed on the target." % tmp_path)
    del data["databases"]["bdio"]
    _restore.check_files(str(tmp_path), data)  # intact: no error


# ------------------------------------------------------------------------------------------------ with a fake server

def test_create_database(fake_target):
    target = fake_target([{"tool": "psql", "stdout": ""}])
    entry = {"owner": "blackduck", "encoding": "UTF8", "collate": "en_US.utf8", "ctype": "en_US.utf8"}
    assert _restore.create_database(target, "bds_hub", entry, live={"postgres": {}}) is True
    (call,) = target.calls()
    assert call["stdin"].endswith("CREATE DATABASE \"bds_hub\" OWNER \"blackduck\" ENCODING 'UTF8' TEMPLATE "
                                  "template0 LC_COLLATE 'en_US.utf8' LC_CTYPE 'en_US.utf8';\n")
    assert "-d" in call["args"] and call["args"][call["args"].index("-d") + 1] == "postgres"


def test_create_database_existing_or_without_locale(fake_target):
    target = fake_target([{"tool": "psql", "stdout": ""}])
    assert _restore.create_database(target, "bds_hub", {"owner": "blackduck", "encoding": "UTF8"},
                                    live={"bds_hub": {}}) is False
    assert target.calls() == []
    assert _restore.create_database(target, "bdio", {"owner": "blackduck", "encoding": "SQL_ASCII", "collate": "C"},
                                    live={}) is True
    assert target.calls()[0]["stdin"].endswith(
        "CREATE DATABASE \"bdio\" OWNER \"blackduck\" ENCODING 'SQL_ASCII' TEMPLATE template0;\n")


def test_apply_fixups(fake_target):
    target = fake_target([{"tool": "psql", "stdout": ""}])
    assert _restore.apply_fixups(target, "bdio") == [] and target.calls() == []
    applied = _restore.apply_fixups(target, "bds_hub")
    assert applied == [f["sql"] for f in _inventory.FIXUPS["bds_hub"]]
    (call,) = target.calls()
    assert call["stdin"] == _query.SESSION + "BEGIN;\n" + "".join(s + ";\n" for s in applied) + "COMMIT;\n"
    assert call["args"][call["args"].index("-d") + 1] == "bds_hub"


APPLIANCE_NOISE = ("pg_restore: [archiver (db)] Error while PROCESSING TOC:\n"
                   "pg_restore: [archiver (db)] Error from TOC entry 3; 2615 2200 SCHEMA public postgres\n"
                   "pg_restore: [archiver (db)] could not execute query: ERROR:  role \"blckdck\" does not exist\n"
                   "    Command was: ALTER SCHEMA public OWNER TO blckdck;\n"
                   "WARNING: errors ignored on restore: 1\n")


@pytest.fixture
def dump_file(tmp_path):
    data = os.urandom(300000)
    (tmp_path / "bds_hub.dump").write_bytes(data)
    return str(tmp_path), {"file": "bds_hub.dump"}, data


def test_restore_database_streams_the_file_and_keeps_harmless_errors_as_warnings(fake_target, dump_file):
    d, entry, data = dump_file
    target = fake_target([{"tool": "pg_restore", "rc": 1, "stderr": APPLIANCE_NOISE}])
    res = _restore.restore_database(target, d, "bds_hub", entry, clean=True, extra_allowed=[])
    assert res["errors"] == [] and res["ignored_count"] == 1 and res["bytes"] == len(data)
    assert len(res["warnings"]) == 1 and "blckdck" in res["warnings"][0]
    (call,) = target.calls()
    assert call["args"] == ["--dbname=bds_hub", "--clean", "--if-exists"]
    assert call["sha256"] == hashlib.sha256(data).hexdigest()


def test_restore_database_without_clean(fake_target, dump_file):
    d, entry, dummy = dump_file
    target = fake_target([{"tool": "pg_restore"}])
    res = _restore.restore_database(target, d, "bds_hub", entry, clean=False, extra_allowed=[])
    assert res["errors"] == [] and res["warnings"] == []
    assert target.calls()[0]["args"] == ["--dbname=bds_hub"]


def test_restore_database_errors_and_allowed_errors(fake_target, dump_file):
    d, entry, dummy = dump_file
    stderr = ("pg_restore: error: could not execute query: ERROR:  must be member of role \"rdsadmin\"\n"
              "Command was: ALTER FUNCTION public.f() OWNER TO rdsadmin;\n"
              "pg_restore: error: could not execute query: ERROR:  relation \"x\" already exists\n"
              "pg_restore: warning: errors ignored on restore: 2\n")
    target = fake_target([{"tool": "pg_restore", "rc": 1, "stderr": stderr}])
    res = _restore.restore_database(target, d, "bds_hub", entry, clean=False, extra_allowed=[])
    assert res["errors"] == ['must be member of role "rdsadmin"', 'relation "x" already exists']
    res = _restore.restore_database(target, d, "bds_hub", entry, clean=False,
                                    extra_allowed=['must be member of role "rdsadmin"'])
    assert res["errors"] == ['relation "x" already exists']
    assert res["warnings"] == ["ignored error (allowed_errors, or ownership by a superuser of the source that a "
                               "non-superuser cannot restore): must be member of role \"rdsadmin\""]
    assert res["ignored_count"] == 2


def test_restore_database_failure_without_a_recognised_error(fake_target, dump_file):
    d, entry, dummy = dump_file
    target = fake_target([{"tool": "pg_restore", "rc": 1, "stderr": "Killed\n"}])
    res = _restore.restore_database(target, d, "bds_hub", entry, clean=False, extra_allowed=[])
    assert res["errors"] == ["Killed"]
    target.set_rules([{"tool": "pg_restore", "rc": 137}])
    res = _restore.restore_database(target, d, "bds_hub", entry, clean=False, extra_allowed=[])
    assert len(res["errors"]) == 1 and res["errors"][0].startswith(
        "pg_restore exited with 137: it was killed (SIGKILL) without a word: was its container or pod stopped")


@pytest.mark.parametrize("rc, tail", [(137, ""), (1, "error: lost connection to pod\n"),
                                      (1, "Error response from daemon: Container abc is not running\n")])
def test_restore_database_that_did_not_reach_its_end_fails_even_after_harmless_errors(fake_target, dump_file, rc, tail):
    """A non-superuser's restore prints a harmless error early on; killed later, or its kubectl or docker exec
    connection lost, pg_restore never says how many errors it ignored: the database is partly restored."""
    d, entry, dummy = dump_file
    noise = APPLIANCE_NOISE.replace("WARNING: errors ignored on restore: 1\n", "")
    target = fake_target([{"tool": "pg_restore", "rc": rc, "stderr": noise + tail}])
    res = _restore.restore_database(target, d, "bds_hub", entry, clean=False, extra_allowed=[])
    assert len(res["errors"]) == 1 and res["errors"][0].startswith("pg_restore exited with %d before its end: " % rc)
    assert res["errors"][0].endswith(tail.strip() or "ALTER SCHEMA public OWNER TO blckdck;")
    assert len(res["warnings"]) == 1  # the harmless one, still said
    # errors ignored, none of them read (they were cut off): not known to be harmless
    target.set_rules([{"tool": "pg_restore", "rc": 1, "stderr": "pg_restore: warning: errors ignored on restore: 2\n"}])
    assert _restore.restore_database(target, d, "bds_hub", entry, clean=False, extra_allowed=[])["errors"] == [
        "pg_restore: warning: errors ignored on restore: 2"]


def test_restore_database_lost_connection_fails_even_with_harmless_noise(fake_target, dump_file):
    d, entry, dummy = dump_file
    stderr = APPLIANCE_NOISE.replace(
        "WARNING:", "pg_restore: [archiver (db)] could not execute query: server closed the connection "
                    "unexpectedly\n\tThis probably means the server terminated abnormally\nWARNING:")
    target = fake_target([{"tool": "pg_restore", "rc": 1, "stderr": stderr}])
    res = _restore.restore_database(target, d, "bds_hub", entry, clean=False, extra_allowed=[])
    assert res["errors"] == ["pg_restore: [archiver (db)] could not execute query: server closed the connection "
                             "unexpectedly"]


def write_globals(tmp_path, text=GLOBALS_94):
    (tmp_path / "globals.sql").write_text(text)
    return str(tmp_path), {"globals": {"file": "globals.sql"}}


def test_restore_globals_as_superuser_streams_the_file_as_is(tmp_path, fake_target):
    d, data = write_globals(tmp_path)
    target = fake_target([{"tool": "psql", "rc": 0,
                           "stderr": "psql:<stdin>:14: ERROR:  role \"blackduck\" already exists\n"}])
    errors, warnings = _restore.restore_globals(target, _restore.globals_text(d, data), superuser=True)
    assert errors == [] and len(warnings) == 1 and 'role "blackduck" already exists' in warnings[0]
    (call,) = target.calls()
    assert call["stdin"] == GLOBALS_94
    assert call["args"] == ["-X", "-q", "-d", "postgres", "-f", "-"]


def test_restore_globals_as_non_superuser_sends_the_rewritten_text(tmp_path, fake_target):
    d, data = write_globals(tmp_path)
    target = fake_target([{"tool": "psql", "rc": 0}])
    errors, warnings = _restore.restore_globals(target, _restore.globals_text(d, data), superuser=False)
    assert errors == []
    assert warnings == ["roles left as the target has them (superusers, which only a superuser may change): "
                        "HubAdmin, postgres"]
    assert target.calls()[0]["stdin"] == _restore.globals_for_non_superuser(GLOBALS_94)[0]


def test_restore_globals_as_non_superuser_names_what_a_role_did_not_get(fake_target):
    target = fake_target([{"tool": "psql", "rc": 0}])
    errors, warnings = _restore.restore_globals(
        target, "CREATE ROLE r;\nALTER ROLE r WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN REPLICATION;\n",
        superuser=False)
    assert errors == [] and warnings == [
        "roles restored without what only a superuser may grant (on Amazon RDS, GRANT rds_replication TO the role "
        "where it replicates): r (REPLICATION)"]
    assert target.calls()[0]["stdin"] == "CREATE ROLE r;\nALTER ROLE r WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN;\n"


def test_restore_globals_errors_never_quote_a_password(fake_target):
    """psql quotes the statement it failed on, and the roles' script holds the passwords' hashes: the errors go to
    the task's message, the state file and the reports."""
    said = ("psql:<stdin>:2: ERROR:  syntax error at or near \"VALID\"\n"
            "LINE 1: ALTER ROLE r WITH LOGIN PASSWORD 'md5f00dcafe' VALID UNTI...\n")
    for stderr in (said, said.split("\n", 1)[1]):  # classified; else its tail as the error
        target = fake_target([{"tool": "psql", "rc": 3, "stderr": stderr}])
        errors, dummy = _restore.restore_globals(target, "CREATE ROLE r;\n", superuser=True)
        assert errors and "f00dcafe" not in repr(errors)
    assert "LOGIN PASSWORD '(hidden)' VALID" in errors[0]


def test_restore_globals_errors(tmp_path, fake_target):
    d, data = write_globals(tmp_path)
    target = fake_target([{"tool": "psql", "rc": 0,
                           "stderr": "psql:<stdin>:3: ERROR:  permission denied to create role\n"}])
    assert _restore.restore_globals(target, _restore.globals_text(d, data), superuser=False)[0] == ["permission denied to create role"]
    target.set_rules([{"tool": "psql", "rc": 2, "stderr": "psql: could not connect to server\n"}])
    assert _restore.restore_globals(target, _restore.globals_text(d, data), superuser=True)[0] == ["psql: could not connect to server"]
    target.set_rules([{"tool": "psql", "rc": 2}])
    assert _restore.restore_globals(target, _restore.globals_text(d, data), superuser=True)[0] == ["psql exited with 2"]


def test_restore_globals_refuses_a_huge_file_for_a_non_superuser(tmp_path, fake_target, monkeypatch):
    d, data = write_globals(tmp_path)
    monkeypatch.setattr(_restore, "GLOBALS_MAX", 100)
    target = fake_target([{"tool": "psql"}])
    with pytest.raises(_restore.RestoreError, match="is larger than 100 bytes: not a globals file"):
        _restore.restore_globals(target, _restore.globals_text(d, data), superuser=False)
    assert target.calls() == []


def test_roles_that_exist_on_the_target_keep_their_passwords():
    text = ("CREATE ROLE blackduck;\n"
            "ALTER ROLE blackduck WITH NOSUPERUSER INHERIT CREATEROLE CREATEDB LOGIN PASSWORD 'md5abc''d';\n"
            "CREATE ROLE \"New Role\";\n"
            "ALTER ROLE \"New Role\" WITH LOGIN PASSWORD 'md5new';\n")
    out, kept = _restore.keep_existing_passwords(text, {"blackduck"})
    assert kept == ["blackduck"]
    assert "ALTER ROLE blackduck WITH NOSUPERUSER INHERIT CREATEROLE CREATEDB LOGIN;" in out
    assert "md5abc" not in out and "ALTER ROLE \"New Role\" WITH LOGIN PASSWORD 'md5new';" in out
    assert _restore.keep_existing_passwords(text, {"someone"}) == (text, [])


def test_restore_globals_keeps_existing_passwords(tmp_path, fake_target):
    d, data = write_globals(tmp_path)
    target = fake_target([{"tool": "psql", "rc": 0}])
    errors, warnings = _restore.restore_globals(target, _restore.globals_text(d, data), superuser=True, existing={"blackduck"})
    assert errors == [] and warnings == ["roles that keep the passwords they have on the target: blackduck"]
    sent = target.calls()[0]["stdin"]
    assert [ln for ln in sent.splitlines() if ln.startswith("ALTER ROLE blackduck ")] and \
        all("PASSWORD" not in ln for ln in sent.splitlines() if ln.startswith("ALTER ROLE blackduck "))


def _live(monkeypatch, markers, hub_tables=40, rows=0):
    comments = dict((name, _inventory.marker_sql(name, m).split(" IS ", 1)[1][1:-2] if m else None)
                    for name, m in markers.items())
    monkeypatch.setattr(_inventory, "databases", lambda target: dict((n, {"comment": c}) for n, c in comments.items()))
    monkeypatch.setattr(_inventory, "hub_table_count", lambda target: hub_tables)
    monkeypatch.setattr(_inventory, "hub_data_rows", lambda target, tables: dict((t, rows) for t in tables))


def test_plan_replaces_a_rolled_back_attempt_and_nothing_else(monkeypatch):
    data = {"dump_id": "d2"}
    names = ["bds_hub", "bds_hub_report", "bdio"]
    _live(monkeypatch, {"bds_hub": {"dump_id": "d1", "complete": True}, "bds_hub_report": {"dump_id": "d1", "complete": True},
                        "bdio": {"dump_id": "d2", "complete": True}})
    with pytest.raises(_restore.OtherDataError, match="did not come from this dump"):
        _restore.plan(None, data, names, False)  # another dump's data, not named as rolled back: refused
    todo, done, ours, replace, live = _restore.plan(None, data, names, False, replace_dumps=["d0", "d1"])
    assert todo == ["bds_hub", "bds_hub_report"] and done == ["bdio"] and replace == ["bds_hub", "bds_hub_report"]
    _live(monkeypatch, {"bds_hub": {"dump_id": "d9", "complete": True}})
    with pytest.raises(_restore.OtherDataError):  # db_restore says target_holds_other_data: the role does not go back
        _restore.plan(None, data, ["bds_hub"], False, replace_dumps=["d1"])
    monkeypatch.setattr(_inventory, "hub_data_rows", lambda target, tables: {"st.project": 3})
    with pytest.raises(_restore.OtherDataError, match=r"holds Hub data \(st.project has 3 rows\).* by another run"):
        _restore.plan(None, data, ["bds_hub"], False, replace_empty_hub=True)
    assert _restore.plan(None, data, ["bds_hub"], True, replace_empty_hub=True)[0] == ["bds_hub"]  # force: replaced


def test_a_hub_started_without_migrating_is_not_other_data(monkeypatch):
    """A new Hub started without migrating (no marker), empty or used, refused: a plain RestoreError - its data never
    came from the old Hub's, so going back restores what served before; only another run's marker is other data."""
    data = {"dump_id": "d2"}
    _live(monkeypatch, {"bds_hub": None})
    with pytest.raises(_restore.RestoreError, match="already holds Hub data") as info:
        _restore.plan(None, data, ["bds_hub"], False)
    assert not isinstance(info.value, _restore.OtherDataError)
    assert _restore.plan(None, data, ["bds_hub"], False, replace_empty_hub=True)[3] == ["bds_hub"]  # replaced
    _live(monkeypatch, {"bds_hub": None}, rows=2)
    with pytest.raises(_restore.RestoreError, match=r"st.code_location has 2 rows, st.project has 2 rows") as info:
        _restore.plan(None, data, ["bds_hub"], False, replace_empty_hub=True, hub_data_tables=["st.project", "st.code_location"])
    assert not isinstance(info.value, _restore.OtherDataError)
    _live(monkeypatch, {"bds_hub": {"dump_id": "d9", "complete": True, "dump_dir": "/other/dump"}})
    with pytest.raises(_restore.OtherDataError, match="already holds Hub data") as info:
        _restore.plan(None, data, ["bds_hub"], False)
    # the marker travels with it (db_restore's other_restore): the state keeps it, rollback_hub refuses on it
    assert info.value.marker == {"dump_id": "d9", "complete": True, "dump_dir": "/other/dump"}
    _live(monkeypatch, {"bds_hub": {"dump_id": "d8", "complete": False}})  # that run's restore never completed
    with pytest.raises(_restore.OtherDataError) as info:
        _restore.plan(None, data, ["bds_hub"], False)
    assert info.value.marker == {"dump_id": "d8", "complete": False}


def test_a_restore_under_a_container_that_went_away_says_so(fake_target):
    target = fake_target([])
    assert _restore.stopped_under(target, "pg_restore: error: could not execute query") is None  # its own failure
    target.gone_reason = "the database container hub-postgres-1 was removed"
    err = _restore.stopped_under(target, "pg_restore: error: connection to server was lost. " * 40)
    assert str(err).startswith("the restore stopped because the database container hub-postgres-1 was removed while "
                               "it ran (pg_restore: error: connection to server was lost.")
    assert str(err).endswith("run again: the interrupted restore is recognised, cleaned and done anew.")
    assert len(str(err)) < 900  # what failed under it, cut short
    # a stream's new database gone: no dump to speak of, and step 4 (not 6) starts it again before streaming
    err = _restore.stopped_under(target, "pg_restore: error: could not read from input file: end of file", streamed=True)
    assert str(err).startswith("the stream stopped because the database container hub-postgres-1 was removed while it "
                               "ran (pg_restore: error: could not read from input file")
    assert "The old data is untouched" in str(err) and "rerun's step 4 does, before it streams" in str(err)
    assert "dump" not in str(err)


def test_a_full_disk_says_what_to_do_and_what_is_kept():
    err = _restore.disk_full_error('bds_hub: could not extend file "base/1/2": No space left on device', False)
    assert isinstance(err, _restore.RestoreError)
    assert str(err).startswith('the new database server ran out of disk space (bds_hub: could not extend file "base/1/2"')
    assert "make room where it keeps its data" in str(err) and "the dump is untouched" in str(err)
    err = _restore.disk_full_error("bdio: No space left on device", True)  # a stream: no dump to speak of
    assert "the old data is untouched" in str(err) and "dump" not in str(err)


def test_a_full_disk_anywhere_in_the_restore_is_told_as_such(monkeypatch, fake_target):
    target = fake_target([])

    def fails_with(exc):
        def restore_all(*args):
            raise exc
        monkeypatch.setattr(_restore, "_restore_all", restore_all)

    def run():
        _restore.run_restore(target, "/d", {"databases": {}}, [], {}, _restore.RestoreOptions(), None)

    # a query of the new server (_query.failed's words) on its full disk
    full = CommandError('creating database bdio on %s (database postgres) failed: ERROR:  could not write to file '
                        '"base/5/1": No space left on device\nHINT:  Check free disk space.' % target.describe())
    fails_with(full)
    with pytest.raises(_restore.TargetFullError, match=r"^the new database server ran out of disk space \(creating "
                       r"database bdio on .*No space left on device\): make room") as raised:
        run()
    assert raised.value.__cause__ is full
    # not a full disk, or not the new server's (a stream's old server), or not a query: passed on as it was
    for other in (CommandError("analyzing bdio on %s (database bdio) failed: ERROR:  canceling statement due to "
                               "statement timeout" % target.describe()),
                  CommandError("counting st.project on container old-db (database bds_hub) failed: ERROR:  could not "
                               "write to file \"base/pgsql_tmp/t\": No space left on device"),
                  _restore.RestoreError("the restore stopped because the container went away while it ran (pg_restore: "
                                        "error: could not extend file: No space left on device)")):
        fails_with(other)
        with pytest.raises(Exception) as raised:
            run()
        assert raised.value is other


def test_a_restore_refuses_while_another_run_holds_its_databases(fake_target):
    """A session of blackduck.hub's own tools (another run, or a killed run's background restore) on a database to
    restore: refused before anything is written. Other clients are not this check's business."""
    s = _query.SEP
    target = fake_target([{"stdout": "bds_hub%spostgres%sblackduck.hub%slocal\n" % (s, s, s)}])
    with pytest.raises(_restore.RestoreError, match=r"^the databases have sessions of blackduck.hub itself "
                                                    r"\(postgres@bds_hub\): another run .* Nothing was changed.$"):
        _restore.check_no_other_run(target, ["bds_hub", "bdio"])
    assert "datname IN ('bds_hub', 'bdio')" in target.calls()[0]["stdin"]
    target.set_rules([{"stdout": "bds_hub%sblackduck%smonitor%s10.0.0.9/32\n" % (s, s, s)}])
    _restore.check_no_other_run(target, ["bds_hub"])
    calls = len(target.calls())
    _restore.check_no_other_run(target, [])  # nothing to restore: nothing asked
    assert len(target.calls()) == calls
