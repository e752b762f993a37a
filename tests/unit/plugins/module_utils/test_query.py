"""module_utils/_query.py: one way to run SQL on a target - psycopg2 for a TCP target where installed, psql for the
rest. psycopg2 is faked first (its connect, cursors and errors: the boundary); then the real library and the real
psql against throwaway servers of both majors (tests/unit/lab/pgcluster.py) must read every type the same.
The modules on the lab's hubs: tests/integration/modules/test_db_modules.py."""
import importlib.util
import os
from pathlib import Path

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _command, _inventory, _query, _target
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError
from ansible_collections.blackduck.hub.plugins.module_utils._target import TargetError


class FakeError(Exception):
    def __init__(self, message, pgcode=None, pgerror=None):
        super(FakeError, self).__init__(message)
        self.pgcode, self.pgerror = pgcode, pgerror


class FakeOperationalError(FakeError):
    pass


class FakeCursor:
    def __init__(self, connection):
        self.connection, self.description, self._rows = connection, None, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql):
        self.connection.executed.append(sql)
        answer = self.connection.server.answers.get(sql.strip())
        if isinstance(answer, Exception):
            if isinstance(answer, FakeOperationalError):
                self.connection.closed = 2  # the server went away: libpq marks the connection closed
            raise answer
        self.description = None if answer is None else [("column",)]
        self._rows = answer or []

    def fetchall(self):
        return self._rows


class FakeConnection:
    def __init__(self, server, params):
        self.server, self.params, self.executed, self.closed, self.autocommit = server, params, [], 0, False
        self.types = []

    def cursor(self):
        return FakeCursor(self)

    def close(self):
        self.closed = 1


class FakeExtensions:
    string_types = {16: "BOOLEAN", 20: "LONGINTEGER", 1700: "DECIMAL"}

    @staticmethod
    def new_type(oids, name, caster):
        return (oids, name, caster)

    @staticmethod
    def register_type(typ, scope):
        scope.types.append(typ)


class FakePsycopg2:
    """The parts of psycopg2 _query uses; answers maps a statement (stripped) to rows, an exception, or None."""
    Error = FakeError
    OperationalError = FakeOperationalError
    InterfaceError = FakeOperationalError
    extensions = FakeExtensions

    def __init__(self, answers=None, refuse=None):
        self.answers, self.refuse, self.connections = dict(answers or {}), refuse, []

    def connect(self, **params):
        if self.refuse:
            raise self.refuse
        c = FakeConnection(self, params)
        self.connections.append(c)
        return c


@pytest.fixture
def pg(monkeypatch):
    def make(answers=None, refuse=None):
        fake = FakePsycopg2(answers, refuse)
        monkeypatch.setattr(_query, "psycopg2", fake)
        return fake
    return make


def tcp(**extra):
    # no tools_path and no psql on PATH needed: a query through psql would fail with "psql was not found"
    return _target.TcpTarget(dict({"type": "tcp", "host": "db.example", "port": 5433, "user": "blackduck",
                                   "password": "s3cret", "sslmode": "require"}, **extra))


def test_a_tcp_target_queries_through_psycopg2_with_text_rows(pg, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    fake = pg({"SELECT 1;": [("1",)], "SELECT a, b;": [("x", None), ("t", "42")], "SELECT 2;": [("2",)]})
    t = tcp()
    try:
        assert _query.query(t, "bds_hub", "SELECT 1;", "testing") == [["1"]]
        # a list of statements: every result's rows, in order, on the one session; NULL as psql prints it
        assert _query.query(t, "bds_hub", ["SELECT a, b;", "SET x = 1;", "SELECT 2;"], "testing") == [
            ["x", ""], ["t", "42"], ["2"]]
        (c,) = fake.connections  # one session per database, kept
        assert c.params == {"host": "db.example", "port": 5433, "user": "blackduck", "password": "s3cret",
                            "dbname": "bds_hub", "sslmode": "require", "connect_timeout": 10,
                            "application_name": "blackduck.hub", "keepalives": 1, "keepalives_idle": 60,
                            "keepalives_interval": 10, "keepalives_count": 6}
        assert c.autocommit is True
        assert c.executed == [_query.SESSION, "SELECT 1;", "SELECT a, b;", "SET x = 1;", "SELECT 2;"]
        # every type psycopg2 would convert comes back as the server's text
        assert sorted(oids for (oids, name, caster) in c.types) == [(16,), (20,), (1700,)]
        assert all(caster("t", None) == "t" for (oids, name, caster) in c.types)
        _query.query(t, "postgres", "SELECT 1;", "testing")
        assert [x.params["dbname"] for x in fake.connections] == ["bds_hub", "postgres"]
    finally:
        t.cleanup()
    assert all(x.closed for x in fake.connections) and t.sql_connections == {}


def test_without_a_password_libpq_finds_its_own(pg):
    fake = pg({"SELECT 1;": [("1",)]})
    t = tcp(password=None)
    _query.query(t, "postgres", "SELECT 1;", "testing")
    assert "password" not in fake.connections[0].params
    t.cleanup()


def test_a_server_error_carries_its_sqlstate_and_the_session_starts_afresh(pg, tmp_path):
    log = tmp_path / "run.log"
    _command.set_log(str(log))
    try:
        fake = pg({"SELECT * FROM st.gone;": FakeError("x", "42P01", 'ERROR:  relation "st.gone" does not exist\n')})
        t = tcp()
        with pytest.raises(CommandError) as info:
            _query.query(t, "bds_hub", ["BEGIN;", "SELECT * FROM st.gone;", "COMMIT;"], "reading st.gone")
        assert info.value.message == ('reading st.gone on db.example:5433 as blackduck (database bds_hub) failed: '
                                      'SQLSTATE 42P01: ERROR:  relation "st.gone" does not exist')
        assert fake.connections[0].closed and t.sql_connections == {}  # the open BEGIN is not carried on
        fake.answers["SELECT 1;"] = [("1",)]
        assert _query.query(t, "bds_hub", "SELECT 1;", "again") == [["1"]] and len(fake.connections) == 2
        t.cleanup()
    finally:
        _command.set_log(None)
    text = log.read_text()
    assert "exit 1" in text and "psycopg2 db.example:5433 as blackduck dbname=bds_hub: reading st.gone" in text
    assert "SQLSTATE 42P01" in text and "exit 0" in text and "s3cret" not in text
    assert oct(os.stat(str(log)).st_mode & 0o777) == "0o600"


def test_an_error_without_text_says_so_not_an_exit_code(pg):
    """psycopg2 may raise with no message at all (a connection cut mid-query): the message names the exception and
    what to look at, never the "exit code 1 and said nothing" of a tool - psycopg2 has no exit code."""
    pg({"SELECT 1;": FakeOperationalError("")})
    t = tcp()
    with pytest.raises(CommandError) as info:
        _query.query(t, "bds_hub", "SELECT 1;", "testing")
    t.cleanup()
    assert info.value.message == (
        "testing on db.example:5433 as blackduck (database bds_hub) failed: psycopg2 raised FakeOperationalError "
        "without a word from the server or libpq: was the server stopped, or the connection cut, while it ran?")


def test_a_password_the_server_quotes_is_hidden(pg, tmp_path):
    """The server quotes the statement it failed on (LINE 1: ...): its PASSWORD literal reaches neither the message
    nor the run's log."""
    said = "ERROR:  syntax error at or near \"VALID\"\nLINE 1: ALTER ROLE r PASSWORD 'md5f00dcafe' VALID\n"
    pg({"ALTER ROLE r PASSWORD 'md5f00dcafe' VALID;": FakeError("x", "42601", said)})
    log = tmp_path / "run.log"
    _command.set_log(str(log))
    try:
        with pytest.raises(CommandError) as info:
            _query.query(tcp(), "postgres", "ALTER ROLE r PASSWORD 'md5f00dcafe' VALID;", "restoring the roles")
    finally:
        _command.set_log(None)
    for text in (info.value.message, log.read_text()):
        assert "SQLSTATE 42601" in text and "PASSWORD '(hidden)'" in text and "f00d" not in text


def test_a_kept_session_dropped_while_idle_is_opened_once_more(pg):
    fake = pg({"SELECT 1;": [("1",)]})
    t = tcp()
    assert _query.query(t, "postgres", "SELECT 1;", "first") == [["1"]]
    # hours of pg_dump later, a firewall has dropped the idle session: the next query fails on it
    fake.answers["SELECT 1;"] = FakeOperationalError("server closed the connection unexpectedly")
    first = fake.connections[0]

    def heal(params, original=fake.connect):
        fake.answers["SELECT 1;"] = [("1",)]
        return original(**params)
    fake.connect = lambda **params: heal(params)
    assert _query.query(t, "postgres", "SELECT 1;", "after the dump") == [["1"]]
    assert first.closed and len(fake.connections) == 2 and t.sql_connections["postgres"] is fake.connections[1]
    t.cleanup()


def test_a_fresh_session_that_fails_is_not_tried_again(pg):
    fake = pg({"SELECT 1;": FakeOperationalError("server closed the connection unexpectedly")})
    t = tcp()
    with pytest.raises(CommandError, match="server closed the connection unexpectedly"):
        _query.query(t, "postgres", "SELECT 1;", "asking")
    assert len(fake.connections) == 1 and t.sql_connections == {}


def test_a_session_whose_setup_fails_is_closed_and_not_kept(pg):
    fake = pg({_query.SESSION.strip(): FakeError("x", "42704", "ERROR:  unrecognized configuration parameter")})
    t = tcp()
    with pytest.raises(CommandError, match="SQLSTATE 42704"):
        _query.query(t, "postgres", "SELECT 1;", "asking")
    assert fake.connections[0].closed and t.sql_connections == {}


def test_undecodable_text_is_a_clear_error_not_a_traceback(pg):
    pg({"SELECT name;": UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")})
    t = tcp()
    with pytest.raises(CommandError, match="reading names on db.example:5433 as blackduck .* can't decode byte 0xff"):
        _query.query(t, "postgres", "SELECT name;", "reading names")


def test_scripts_run_at_once_each_on_a_session_of_its_own(pg, monkeypatch):
    """query_sessions: every script on its own psycopg2 connection, all running at the same time (each waits at a
    barrier the other must reach); the rows in the scripts' order; closing a database closes all its sessions."""
    import threading
    fake = pg({"SELECT 1;": [("1",)], "SELECT 2;": [("2",)]})
    met = threading.Barrier(2, timeout=10)
    original = FakeCursor.execute

    def execute(cursor, sql):
        if sql.strip() in ("SELECT 1;", "SELECT 2;"):
            met.wait()  # broken (an error) unless the other session is running too
        original(cursor, sql)
    monkeypatch.setattr(FakeCursor, "execute", execute)
    t = tcp()
    try:
        assert _query.query_sessions(t, "bds_hub", ["SELECT 1;", ["SELECT 2;"]], "testing") == [[["1"]], [["2"]]]
        assert [c.params["dbname"] for c in fake.connections] == ["bds_hub", "bds_hub"]
        # the session opened for it is closed; the one every caller shares is kept
        shared, extra = fake.connections
        assert list(t.sql_connections) == ["bds_hub"] and t.sql_connections["bds_hub"] is shared
        assert extra.closed and not shared.closed
    finally:
        t.cleanup()


def test_a_failed_session_closes_only_itself(pg):
    fake = pg({"SELECT 1;": [("1",)], "SELECT 2;": FakeError("x", "42P01", "ERROR:  no such table")})
    t = tcp()
    with pytest.raises(CommandError, match="SQLSTATE 42P01"):
        _query.query_sessions(t, "bds_hub", ["SELECT 1;", "SELECT 2;"], "testing")
    first, second = sorted(fake.connections, key=lambda c: c.executed[-1])
    assert not first.closed and second.closed and list(t.sql_connections) == ["bds_hub"]
    t.sql_connections[("bds_hub", 1)] = second
    t.close_sql("bds_hub")  # every session of a database: the shared one and any further one
    assert t.sql_connections == {} and first.closed
    t.cleanup()


def test_wait_ready_through_psycopg2_stops_at_refused_credentials(pg):
    fake = pg(refuse=FakeError('connection to server at "db.example", port 5433 failed: FATAL:  password '
                               'authentication failed for user "blackduck"\n'))
    with pytest.raises(TargetError) as info:
        _target.wait_ready(tcp(), timeout=60, interval=0.01)
    assert str(info.value).startswith('the server at db.example:5433 as blackduck refused the credentials: connection '
                                      'to server at "db.example", port 5433 failed: FATAL:  password authentication')
    assert fake.connections == []


def test_wait_ready_through_psycopg2_waits_for_a_starting_server(pg):
    pg(refuse=FakeError("FATAL:  the database system is starting up"))
    with pytest.raises(TargetError, match="was not ready after 0.1s: FATAL:  the database system is starting up"):
        _target.wait_ready(tcp(), timeout=0.1, interval=0.02)


def test_container_targets_query_through_psql_even_with_psycopg2(pg, fake_target):
    fake = pg()
    target = fake_target([{"tool": "psql", "stdout": "1\n"}])
    assert _query.query(target, "postgres", "SELECT 1;", "testing") == [["1"]]
    assert fake.connections == [] and target.calls()[0]["stdin"] == _query.SESSION + "SELECT 1;"
    base = _target._Target({"type": "docker"})
    assert base.sql_params("postgres") is None


def test_statements_through_psql_are_one_script(fake_target):
    target = fake_target([{"tool": "psql", "stdout": ""}])
    _query.query(target, "bds_hub", ["BEGIN;\n", "SELECT 1;\n", "COMMIT;\n"], "testing")
    assert target.calls()[0]["stdin"] == _query.SESSION + "BEGIN;\nSELECT 1;\nCOMMIT;\n"


def test_a_psql_that_failed_without_a_word_says_what_its_exit_code_tells(fake_target):
    """psql killed with its container says nothing: the error says what its exit code tells, not 'failed: '."""
    target = fake_target([{"tool": "psql", "rc": 137, "stderr": ""}])
    with pytest.raises(CommandError) as info:
        _query.query(target, "bdio", "SELECT 1;", "counting")
    assert str(info.value) == ("counting on the fake server (database bdio) failed: it was killed (SIGKILL) without a "
                               "word: was its container or pod stopped or removed while it ran (docker rm, a redeploy, "
                               "kubectl delete), or did the out-of-memory killer end it (dmesg)?")
    assert info.value.stderr == "" and info.value.rc == 137
    target.set_rules([{"tool": "psql", "rc": 3, "stderr": "ERROR:  relation \"st.x\" does not exist\n"}])
    with pytest.raises(CommandError, match=r'failed: ERROR:  relation "st.x" does not exist$'):
        _query.query(target, "bdio", "SELECT 1;", "counting")


# ------------------------------------------------------------------------------------ real servers, real psycopg2

_spec = importlib.util.spec_from_file_location("pgcluster", str(Path(__file__).parents[2] / "lab" / "pgcluster.py"))
pgcluster = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pgcluster)

TYPES_TABLE = """CREATE TABLE st.kinds (b bool, i int, n numeric, f float8, r real, ts timestamptz, d date,
    iv interval, by bytea, ar int[], ta text[], j json, t text, u uuid, m money);
INSERT INTO st.kinds VALUES (true, 1, 1.50, 0.1, 0.3, '2020-01-02 03:04:05.678+02', '2020-01-02', '1 day 02:00',
    '\\xdead', '{1,2}', '{a,"b c"}', '{"k": 1}', 'it''s', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 12.5),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"""


@pytest.mark.parametrize("major", [15, 11])
def test_psycopg2_and_psql_read_a_real_server_the_same(major, monkeypatch):
    pytest.importorskip("psycopg2")
    psql_bin = pgcluster.PG_BINARIES[15][0]
    if not (pgcluster.PG_BINARIES[major][0] / "postgres").exists() or not (psql_bin / "psql").exists():
        pytest.skip("PostgreSQL %d server or the psql 15 client not found" % major)
    import psycopg2
    with pgcluster.running_cluster(major) as c:
        c.psql("-c", "CREATE DATABASE bds_hub")
        c.psql("-c", "CREATE SCHEMA st; " + TYPES_TABLE + "; CREATE TABLE st.numbers AS SELECT generate_series(1, 500) AS n",
               db="bds_hub")
        params = {"type": "tcp", "host": str(c.sock), "port": pgcluster.PORT, "user": "postgres",
                  "tools_path": str(psql_bin)}
        read = {}
        for client in ("psycopg2", "psql"):
            monkeypatch.setattr(_query, "psycopg2", psycopg2 if client == "psycopg2" else None)
            t = _target.TcpTarget(params)
            try:
                _target.wait_ready(t, 30)
                read[client] = dict(rows=_query.query(t, "bds_hub", "SELECT * FROM st.kinds ORDER BY i;", "reading"),
                                    inventory=_inventory.database_inventory(t, "bds_hub"),
                                    databases=_inventory.databases(t), roles=_inventory.roles_with_passwords(t),
                                    version=_inventory.server_version(t), connections=sorted(t.sql_connections))
                # the same tables read by two sessions at once (db_verify jobs: 2)
                read[client]["inventory_2"] = _inventory.database_inventory(t, "bds_hub", jobs=2)
                read[client]["sessions_2"] = sorted(str(key) for key in t.sql_connections)
                with pytest.raises(CommandError) as info:
                    _query.query(t, "bds_hub", ["BEGIN;", "SELECT * FROM st.gone;", "COMMIT;"], "reading st.gone")
                read[client]["error"] = info.value.message
            finally:
                t.cleanup()
            if client == "psycopg2":  # a session of ours on a database blocks dropping it (replace_empty_hub)
                t = _target.TcpTarget(params)
                try:
                    _query.query(t, "postgres", "CREATE DATABASE scratch;", "creating")
                    _query.query(t, "scratch", "SELECT 1;", "looking")
                    with pytest.raises(CommandError, match="SQLSTATE 55006"):
                        _query.query(t, "postgres", "DROP DATABASE scratch;", "dropping")
                    t.close_sql("scratch")
                    _query.query(t, "postgres", "DROP DATABASE scratch;", "dropping")
                    assert "scratch" not in _inventory.databases(t)
                finally:
                    t.cleanup()
        p2, ps = read["psycopg2"], read["psql"]
        assert p2["connections"] == ["bds_hub", "postgres"] and ps["connections"] == []
        assert p2["rows"] == ps["rows"] and ps["rows"][0][:4] == ["t", "1", "1.50", "0.1"]
        assert ps["rows"][0][5:9] == ["2020-01-02 01:04:05.678+00", "2020-01-02", "1 day 02:00:00", "\\xdead"]
        assert ps["rows"][1] == [""] * 15
        for key in ("inventory", "databases", "roles", "version"):
            assert p2[key] == ps[key], key
        assert p2["inventory_2"] == ps["inventory_2"] == ps["inventory"]
        numbers = p2["inventory"]["tables"]["st.numbers"]
        assert numbers["rows"] == 500 and numbers["checksum"] not in ("", "0", None)
        assert p2["inventory_2"]["tables"]["st.kinds"] == p2["inventory"]["tables"]["st.kinds"]
        assert p2["sessions_2"] == ["bds_hub", "postgres"] and ps["sessions_2"] == []  # the extra one closed
        assert p2["inventory"]["tables"]["st.kinds"]["rows"] == 2 and p2["version"]["major"] == str(major)
        assert "SQLSTATE 42P01: ERROR:  relation \"st.gone\" does not exist" in p2["error"]
        assert 'relation "st.gone" does not exist' in ps["error"] and "SQLSTATE" not in ps["error"]
