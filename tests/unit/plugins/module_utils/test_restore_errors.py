"""module_utils/_restore_errors.py: what pg_restore and psql say, sorted into errors and known-harmless warnings."""
import pytest

from ansible_collections.blackduck.hub.plugins.module_utils._restore_errors import classify, disk_full

# pg_restore 9.4 to 11, restoring a dump of the older Hub appliance (the vendor's "known harmless" noise).
PG94_APPLIANCE = (
    "pg_restore: [archiver (db)] Error while PROCESSING TOC:\n"
    "pg_restore: [archiver (db)] Error from TOC entry 3; 2615 2200 SCHEMA public postgres\n"
    "pg_restore: [archiver (db)] could not execute query: ERROR:  role \"blckdck\" does not exist\n"
    "    Command was: ALTER SCHEMA public OWNER TO blckdck;\n"
    "\n"
    "pg_restore: [archiver (db)] Error from TOC entry 4; 0 0 COMMENT SCHEMA public blckdck\n"
    "pg_restore: [archiver (db)] could not execute query: ERROR:  role \"blckdck\" does not exist\n"
    "    Command was: COMMENT ON SCHEMA public IS 'standard public schema';\n"
    "\n"
    "pg_restore: [archiver (db)] Error from TOC entry 2456; 0 0 ACL public blckdck\n"
    "pg_restore: [archiver (db)] could not execute query: ERROR:  role \"blckdck\" does not exist\n"
    "    Command was: REVOKE ALL ON SCHEMA public FROM PUBLIC;\n"
    "REVOKE ALL ON SCHEMA public FROM blckdck;\n"
    "GRANT ALL ON SCHEMA public TO blckdck;\n"
    "GRANT ALL ON SCHEMA public TO PUBLIC;\n"
    "\n"
    "WARNING: errors ignored on restore: 7\n"
)

# pg_restore 12 and later.
PG15_EXISTS = (
    "pg_restore: while PROCESSING TOC:\n"
    "pg_restore: from TOC entry 215; 1259 16390 TABLE x blackduck\n"
    "pg_restore: error: could not execute query: ERROR:  relation \"x\" already exists\n"
    "Command was: CREATE TABLE st.x (\n"
    "    id bigint NOT NULL\n"
    ");\n"
    "\n"
    "\n"
    "pg_restore: warning: errors ignored on restore: 1\n"
)


def test_pg94_appliance_noise_is_only_warnings():
    errors, warnings, ignored = classify(PG94_APPLIANCE)
    assert errors == []
    assert len(warnings) == 3
    assert all(w.startswith('ignored known-harmless error: role "blckdck" does not exist (') for w in warnings)
    assert "older Hub appliance" in warnings[0]
    assert ignored == 7


def test_pg15_relation_exists_is_an_error():
    errors, warnings, ignored = classify(PG15_EXISTS)
    assert errors == ['relation "x" already exists']
    assert warnings == []
    assert ignored == 1


def test_pg94_real_error_next_to_harmless_ones():
    stderr = PG94_APPLIANCE.replace(
        "WARNING: errors ignored",
        "pg_restore: [archiver (db)] Error from TOC entry 2200; 0 16395 TABLE DATA component blackduck\n"
        "pg_restore: [archiver (db)] COPY failed for table \"component\": ERROR:  duplicate key value violates "
        "unique constraint \"component_pkey\"\n"
        "DETAIL:  Key (id)=(1) already exists.\n"
        "CONTEXT:  COPY component, line 1\n"
        "WARNING: errors ignored")
    errors, warnings, ignored = classify(stderr)
    assert errors == ['duplicate key value violates unique constraint "component_pkey"']
    assert len(warnings) == 3 and ignored == 7


@pytest.mark.parametrize("line, pattern_text", [
    ('psql:<stdin>:14: ERROR:  role "blackduck" already exists', 'role "blackduck" already exists'),
    ('psql:<stdin>:20: ERROR:  role "blackduck_user" already exists', 'role "blackduck_user" already exists'),
    ("pg_restore: error: could not execute query: ERROR:  must be owner of extension plpgsql",
     "must be owner of extension plpgsql"),
    ("pg_restore: error: could not execute query: ERROR:  must be owner of extension pgcrypto",
     "must be owner of extension pgcrypto"),
    ('pg_restore: [archiver (db)] could not execute query: ERROR:  schema "public" already exists',
     'schema "public" already exists'),
    ("psql:<stdin>:9: ERROR:  current user cannot be dropped", "current user cannot be dropped"),
])
def test_known_harmless(line, pattern_text):
    errors, warnings, ignored = classify(line + "\n")
    assert errors == [] and ignored == 0
    assert len(warnings) == 1 and warnings[0].startswith("ignored known-harmless error: %s (" % pattern_text)


@pytest.mark.parametrize("line, error", [
    ('psql:<stdin>:14: ERROR:  role "blackduck" does not exist', 'role "blackduck" does not exist'),
    ('psql:<stdin>:3: ERROR:  permission denied to create role', "permission denied to create role"),
    ('pg_restore: error: could not execute query: ERROR:  schema "st" already exists', 'schema "st" already exists'),
    ("pg_restore: error: could not execute query: ERROR:  must be owner of extension pg_trgm",
     "must be owner of extension pg_trgm"),
    ("pg_restore: error: could not execute query: ERROR:  must be owner of extension pgcrypto_x",
     "must be owner of extension pgcrypto_x"),
    ('pg_restore: [archiver (db)] connection to database "bds_hub" failed: FATAL:  database "bds_hub" does not exist',
     'database "bds_hub" does not exist'),
    ('psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  password '
     'authentication failed for user "blackduck"', 'password authentication failed for user "blackduck"'),
    ("PANIC:  could not write to file", "could not write to file"),
])
def test_errors_not_on_the_allowlist(line, error):
    errors, warnings, dummy = classify(line + "\n")
    assert errors == [error] and warnings == []


@pytest.mark.parametrize("line", [
    "pg_restore: error: input file does not appear to be a valid archive",
    "pg_restore: [archiver] input file does not appear to be a valid archive",
    "pg_restore: error: could not read from input file: end of file",
    "pg_restore: [custom archiver] could not read from input file: end of file",
    "pg_dump: error: query failed: server closed the connection unexpectedly",
    # a query that failed without a server ERROR: the connection was lost
    "pg_restore: error: could not execute query: server closed the connection unexpectedly",
    "pg_restore: [archiver (db)] could not execute query: no connection to the server",
])
def test_tool_errors_without_a_server_error(line):
    errors, warnings, ignored = classify(line + "  \n")  # trailing blanks are stripped
    assert errors == [line] and warnings == [] and ignored == 0


def test_lost_connection_is_not_hidden_behind_harmless_errors():
    stderr = (
        "pg_restore: [archiver (db)] Error while PROCESSING TOC:\n"
        "pg_restore: [archiver (db)] Error from TOC entry 3; 2615 2200 SCHEMA public postgres\n"
        "pg_restore: [archiver (db)] could not execute query: ERROR:  role \"blckdck\" does not exist\n"
        "    Command was: ALTER SCHEMA public OWNER TO blckdck;\n"
        "pg_restore: [archiver (db)] Error from TOC entry 2201; 1259 16400 TABLE component blackduck\n"
        "pg_restore: [archiver (db)] could not execute query: server closed the connection unexpectedly\n"
        "\tThis probably means the server terminated abnormally\n"
        "\tbefore or while processing the request.\n"
        "    Command was: CREATE INDEX component_idx ON st.component USING btree (name);\n"
        "WARNING: errors ignored on restore: 2\n")
    errors, warnings, ignored = classify(stderr)
    assert errors == ["pg_restore: [archiver (db)] could not execute query: server closed the connection unexpectedly"]
    assert len(warnings) == 1 and ignored == 2


@pytest.mark.parametrize("header", [
    "pg_restore: [archiver (db)] Error while INITIALIZING:",
    "pg_restore: [archiver (db)] Error while PROCESSING TOC:",
    "pg_restore: [archiver (db)] Error while FINALIZING:",
    "pg_restore: [archiver (db)] Error from TOC entry 2456; 0 0 ACL public blckdck",
    "pg_restore: while INITIALIZING:",
    "pg_restore: while PROCESSING TOC:",
    "pg_restore: from TOC entry 3; 2615 2200 SCHEMA public postgres",
])
def test_context_headers_are_not_errors(header):
    stderr = header + "\npg_restore: [archiver (db)] could not execute query: ERROR:  role \"blckdck\" does not exist\n"
    errors, warnings, dummy = classify(stderr)
    assert errors == [] and len(warnings) == 1


@pytest.mark.parametrize("line", [
    "pg_restore: warning: errors ignored on restore: 3",
    'WARNING:  no privileges could be revoked for "public"',
    "psql:<stdin>:5: WARNING:  no privileges were granted for \"public\"",
    "psql:<stdin>:30: NOTICE:  role \"blackduck\" is already a member of role \"blackduck_user\"",
    "pg_dump: warning: there are circular foreign-key constraints on this table:",
    "DETAIL:  Key (id)=(1) already exists.",
    "HINT:  Use DROP ... CASCADE to drop the dependent objects too.",
    "    Command was: ALTER TABLE ONLY st.x ADD CONSTRAINT x_pkey PRIMARY KEY (id);",
    "Command was: DROP TABLE IF EXISTS st.x;",
    "pg_restore: creating TABLE \"st.x\"",
    "",
])
def test_warnings_notices_and_context_are_not_errors(line):
    errors, warnings, dummy = classify(line + "\n")
    assert errors == [] and warnings == []


@pytest.mark.parametrize("stderr, count", [
    ("WARNING: errors ignored on restore: 7\n", 7),
    ("pg_restore: warning: errors ignored on restore: 12\n", 12),
    ("pg_restore: creating TABLE x\n", 0),
    ("", 0),
])
def test_ignored_count(stderr, count):
    assert classify(stderr)[2] == count


def test_empty_output():
    assert classify("") == ([], [], 0)


def test_order_of_errors_is_kept():
    stderr = ("psql:<stdin>:3: ERROR:  permission denied to create role\n"
              "psql:<stdin>:4: ERROR:  role \"blackduck\" already exists\n"
              "psql:<stdin>:5: ERROR:  role \"x\" does not exist\n")
    errors, warnings, dummy = classify(stderr)
    assert errors == ["permission denied to create role", 'role "x" does not exist'] and len(warnings) == 1


# The new server's disk full during a restore: pg_restore 12+ (COPY), pg_restore up to 11 (an index build), psql (a
# stream restored as SQL), and a quota.
DISK_FULL = (
    ('pg_restore: error: COPY failed for table "project": ERROR:  could not extend file "base/16384/16390": '
     'No space left on device\nHINT:  Check free disk space.\n', 'could not extend file'),
    ('pg_restore: [archiver (db)] could not execute query: ERROR:  could not write to file '
     '"base/pgsql_tmp/pgsql_tmp54.0": No space left on device\n    Command was: CREATE INDEX ix ON st.project USING '
     'btree (name);\n', 'could not write to file'),
    ('psql:<stdin>:120: ERROR:  could not extend file "base/16384/16390": wrote only 4096 of 8192 bytes at block 7\n'
     'HINT:  Check free disk space.\n', 'could not extend file'),
    ('pg_restore: error: could not execute query: ERROR:  could not write to file "base/16384/16390": Disk quota '
     'exceeded\n', 'Disk quota exceeded'),
)


@pytest.mark.parametrize("stderr, says", DISK_FULL)
def test_a_full_disk_is_named_among_the_errors(stderr, says):
    errors, dummy, dummy2 = classify(PG94_APPLIANCE + stderr)
    found = disk_full(errors)
    assert found is not None and says in found
    assert "blckdck" not in found  # the harmless noise beside it is not the cause


def test_other_errors_are_not_a_full_disk():
    errors, dummy, dummy2 = classify(PG15_EXISTS + "pg_restore: error: connection to server lost\n"
                                     "pg_restore: error: could not execute query: ERROR:  could not open file "
                                     "\"base/1/2\": No such file or directory\n"
                                     "pg_restore: error: COPY failed for table \"x\": ERROR:  could not extend file "
                                     "\"base/1/3\": Read-only file system\n")
    assert len(errors) == 4 and disk_full(errors) is None
