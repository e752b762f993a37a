"""module_utils/_inventory.py: quoting, the checksum queries, the restore marker and the Hub's fixups."""
import json
import re

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _inventory, _query

# The vendor's two post-restore statements, as hub-facts.md quotes them from the 4.2.0 restore script.
VENDOR_FIXUPS = [
    "DELETE FROM st.policy_setting WHERE policy_key IN ('blackduck.reporting.database.transfer.last.end.time', "
    "'blackduck.reporting.database.transfer.last.id.processed');",
    "UPDATE st.job_instances SET status='FAILED' WHERE job_type='ReportingDatabaseTransferJob' AND status IN "
    "('SCHEDULED','DISPATCHED','RUNNING');",
]


def tokens(sql):
    """SQL as tokens: string literals kept whole, keywords case-folded, whitespace and a final ';' dropped."""
    out = []
    for tok in re.findall(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[A-Za-z_][A-Za-z_0-9.]*|\S", sql.strip().rstrip(";")):
        out.append(tok if tok.startswith("'") else tok.lower().replace('"', ""))
    return out


# ------------------------------------------------------------------------------------------------ quoting

@pytest.mark.parametrize("name, quoted", [
    ("bds_hub", '"bds_hub"'),
    ("Mixed Case", '"Mixed Case"'),
    ('we"ird', '"we""ird"'),
    ('""', '""""""'),
    ("", '""'),
])
def test_quote_ident(name, quoted):
    assert _inventory.quote_ident(name) == quoted


@pytest.mark.parametrize("value, quoted", [
    ("bds_hub", "'bds_hub'"),
    ("it's", "'it''s'"),
    ("''", "''''''"),
    ("back\\slash", "'back\\slash'"),  # standard_conforming_strings: a backslash is just a character
    (42, "'42'"),
])
def test_quote_literal(value, quoted):
    assert _inventory.quote_literal(value) == quoted


def test_qualified_and_split_name():
    assert _inventory.qualified("st", 'a"b') == '"st"."a""b"'
    assert _inventory.split_name("st.policy_setting") == ("st", "policy_setting")
    assert _inventory.split_name("st.a.b") == ("st", "a.b")  # the schema ends at the first dot


# ------------------------------------------------------------------------------------------------ row_expression

def test_row_expression_plain_columns():
    assert _inventory.row_expression([("id", "int8"), ("name", "text")]) == 'ROW(t."id", t."name")::text'


def test_row_expression_floats_through_send_functions():
    cols = [("id", "int4"), ("score", "float8"), ("ratio", "float4"), ("amount", "numeric")]
    assert _inventory.row_expression(cols) == \
        'ROW(t."id", float8send(t."score"), float4send(t."ratio"), t."amount")::text'


def test_row_expression_quotes_column_names():
    assert _inventory.row_expression([('we"ird', "text"), ("Select", "float8")]) == \
        'ROW(t."we""ird", float8send(t."Select"))::text'


def test_row_expression_of_a_table_without_columns():
    assert _inventory.row_expression([]) == "''"


# ------------------------------------------------------------------------------------------------ checksum_select

def test_checksum_select_whole_table():
    sql = _inventory.checksum_select("st.project", [("id", "int8"), ("w", "float4")])
    assert sql == ("SELECT 'st.project', count(*), coalesce(sum(('x' || substr(md5(ROW(t.\"id\", float4send(t.\"w\"))"
                   "::text), 1, 16))::bit(64)::bigint), 0) FROM \"st\".\"project\" t;\n")


def test_checksum_select_without_checksums():
    sql = _inventory.checksum_select("st.project", [("id", "int8")], checksums=False)
    assert sql == "SELECT 'st.project', count(*), 0 FROM \"st\".\"project\" t;\n"
    assert "md5" not in sql


def test_checksum_select_with_where_and_label():
    f = _inventory.FIXUPS["bds_hub"][0]
    sql = _inventory.checksum_select("st.policy_setting", [("policy_key", "varchar")], "NOT (%s)" % f["changes"],
                                     label="st.policy_setting#unchanged")
    assert sql.startswith("SELECT 'st.policy_setting#unchanged', count(*), coalesce(sum(")
    assert sql.endswith(" FROM \"st\".\"policy_setting\" t WHERE NOT (%s);\n" % f["changes"])


def test_checksum_select_label_with_a_quote():
    sql = _inventory.checksum_select("st.o'brien", [], checksums=False)
    assert sql == "SELECT 'st.o''brien', count(*), 0 FROM \"st\".\"o'brien\" t;\n"


def test_checksum_select_empty_table_hashes_an_empty_string():
    sql = _inventory.checksum_select("public.t", [])
    assert "md5('')" in sql


# ------------------------------------------------------------------------------------------------ marker

def comment_of(sql):
    """The string COMMENT ON DATABASE ... IS '<this>'; sets, unquoted as the server would."""
    m = re.match(r"^COMMENT ON DATABASE (\"(?:[^\"]|\"\")*\") IS '((?:[^']|'')*)';$", sql)
    assert m, sql
    return m.group(1), m.group(2).replace("''", "'")


def test_marker_round_trip():
    marker = {"dump_id": "3f2a", "complete": True, "fixups": True, "restored": "2024-01-01T00:00:00Z",
              "source_version": "9.4.11"}
    ident, comment = comment_of(_inventory.marker_sql("bds_hub", marker))
    assert ident == '"bds_hub"'
    assert comment.startswith("blackduck.hub restore {")
    assert _inventory.read_marker(comment) == marker


def test_marker_round_trip_with_quotes():
    marker = {"dump_id": "it's \"quoted\"", "complete": False}
    sql = _inventory.marker_sql('we"ird', marker)
    ident, comment = comment_of(sql)
    assert ident == '"we""ird"'
    assert "it''s" in sql
    assert _inventory.read_marker(comment) == marker


def test_marker_is_deterministic():
    a = _inventory.marker_sql("x", {"b": 1, "a": 2})
    b = _inventory.marker_sql("x", {"a": 2, "b": 1})
    assert a == b and json.dumps({"a": 2, "b": 1}, sort_keys=True) in a


@pytest.mark.parametrize("comment", [
    None, "", "Black Duck Hub data", "blackduck.hub restore", "blackduck.hub restore {not json",
    "blackduck.hub restored {\"dump_id\": \"x\"}", " blackduck.hub restore {\"dump_id\": \"x\"}",
])
def test_read_marker_of_other_comments(comment):
    assert _inventory.read_marker(comment) is None


# ------------------------------------------------------------------------------------------------ fixups

def test_fixups_are_the_vendors_two_statements():
    ours = [f["sql"] for f in _inventory.FIXUPS["bds_hub"]]
    assert [tokens(s) for s in ours] == [tokens(s) for s in VENDOR_FIXUPS]
    assert list(_inventory.FIXUPS) == ["bds_hub"]


def test_tokens_helper_tells_statements_apart():
    # the comparison above is not vacuous: a changed literal, or a missing status, is seen
    assert tokens(VENDOR_FIXUPS[1]) != tokens(VENDOR_FIXUPS[1].replace("'FAILED'", "'failed'"))
    assert tokens(VENDOR_FIXUPS[1]) != tokens(VENDOR_FIXUPS[1].replace(",'RUNNING'", ""))
    assert tokens("a = 'x' ;") == tokens("A='x'")


def test_fixup_where_clauses_match_their_statements():
    delete, update = _inventory.FIXUPS["bds_hub"]
    assert (delete["table"], delete["deletes"]) == ("st.policy_setting", True)
    assert (update["table"], update["deletes"]) == ("st.job_instances", False)
    for f in (delete, update):
        where = f["sql"].split(" WHERE ", 1)[1]
        # no row may match the statement's own condition once it ran
        assert tokens(f["after"]) == tokens(where)
        assert " %s " % f["table"] in f["sql"]
    assert tokens(delete["changes"]) == tokens(delete["after"])
    # the update's touched rows include those it set to FAILED: their number stays the same
    assert tokens(update["changes"]) == tokens(update["after"].replace("'RUNNING')", "'RUNNING', 'FAILED')"))


# ------------------------------------------------------------------------------------------------ queries (fake psql)

S = _query.SEP


def rows(*rs):
    return "".join(S.join(str(x) for x in r) + "\n" for r in rs)


def test_query_through_psql_runs_the_session_settings_first_and_splits_fields(fake_target):
    target = fake_target([{"tool": "psql", "stdout": rows(("a", "b|c", ""), ("d", "", "f")) + "\n"}])
    out = _query.query(target, "bds_hub", "SELECT 1;", "testing")
    assert out == [["a", "b|c", ""], ["d", "", "f"]]
    (call,) = target.calls()
    assert call["stdin"] == _query.SESSION + "SELECT 1;"
    assert call["args"] == ["-X", "-q", "-A", "-t", "-F", S, "-v", "ON_ERROR_STOP=1", "-d", "bds_hub", "-f", "-"]


def test_query_through_psql_failure_says_what_and_where(fake_target):
    target = fake_target([{"tool": "psql", "rc": 3, "stderr": "psql: error: FATAL:  database \"x\" does not exist\n"}])
    with pytest.raises(_query.CommandError) as info:
        _query.query(target, "x", "SELECT 1;", "reading things")
    assert info.value.rc == 3
    assert info.value.message == ('reading things on the fake server (database x) failed: psql: error: FATAL:  '
                                  'database "x" does not exist')


@pytest.mark.parametrize("num, text, major", [
    ("90411", "9.4.11", "9.4"), ("90624", "9.6.24", "9.6"), ("110013", "11.13", "11"), ("150018", "15.18", "15"),
])
def test_server_version(fake_target, num, text, major):
    target = fake_target([{"stdout": rows((num, text))}])
    assert _inventory.server_version(target) == {"num": int(num), "version": text, "major": major}


def test_databases_roles_superusers(fake_target):
    target = fake_target([
        {"match": "FROM pg_database", "stdout": rows(("bds_hub", "blackduck", "UTF8", "en_US.utf8", "en_US.utf8",
                                                      "123456", "blackduck.hub restore {}"))},
        {"match": "WHERE rolsuper", "stdout": rows(("postgres",))},
        {"match": "FROM pg_roles", "stdout": rows(("blackduck", "f", "t", "t", "t", "t"),
                                                  ("blackduck_user", "f", "f", "f", "t", "f"))},
    ])
    assert _inventory.databases(target) == {"bds_hub": {
        "owner": "blackduck", "encoding": "UTF8", "collate": "en_US.utf8", "ctype": "en_US.utf8",
        "size_bytes": 123456, "comment": "blackduck.hub restore {}"}}
    assert _inventory.roles(target) == {
        "blackduck": {"superuser": False, "createdb": True, "createrole": True, "login": True, "inherit": True},
        "blackduck_user": {"superuser": False, "createdb": False, "createrole": False, "login": True,
                           "inherit": False}}
    assert _inventory.superusers(target) == ["postgres"]


def test_active_sessions_quotes_the_database_names(fake_target):
    target = fake_target([{"stdout": rows(("bds_hub", "blackduck", "", "10.0.0.5/32"))}])
    assert _inventory.active_sessions(target, ["bds_hub", "o'db"]) == [
        {"database": "bds_hub", "user": "blackduck", "application": "", "client": "10.0.0.5/32"}]
    assert "datname IN ('bds_hub', 'o''db')" in target.calls()[0]["stdin"]
    # the server's own workers (autovacuum) are no client session: by backend_type from PostgreSQL 10 on, before by
    # the query text it shows
    sql = target.calls()[0]["stdin"]
    assert "coalesce(row_to_json(a)->>'backend_type', CASE WHEN a.query LIKE 'autovacuum:%' THEN 'autovacuum worker' " \
           "ELSE 'client backend' END) = 'client backend'" in sql
    # nor a session with no user yet (a worker before its query text is set, a connection being authenticated)
    assert "AND a.usename IS NOT NULL" in sql
    assert "pg_backend_pid() AND datname" in sql  # no session of its own kept open: none left out by pid
    # this module's own sessions, kept open by psycopg2 on a TCP target, are no client session either
    target.own_pids = lambda: [4711, 4712]
    _inventory.active_sessions(target, ["bds_hub"])
    assert "WHERE pid <> pg_backend_pid() AND pid <> 4711 AND pid <> 4712 AND datname IN" in target.calls()[-1]["stdin"]


def test_database_inventory_parses_every_kind_of_row(fake_target):
    listing = rows(("st", "policy_setting", "r", "policy_key:varchar,value:text"),
                   ("st", "project", "r", "id:int8,score:float8"),
                   ("st", "project_id_seq", "S", ""),
                   ("public", "no_columns", "r", ""))
    counts = rows(("public.no_columns", "0", "0"),
                  ("st.policy_setting", "10", "-12345"),
                  ("st.policy_setting#unchanged", "8", "999"),
                  ("st.policy_setting#changed", "2", "0"),
                  ("st.policy_setting#after", "2", "0"),
                  ("st.project", "3", "4242"),
                  ("seq:st.project_id_seq", "3", "1"),
                  ("lo", "2", "77"),
                  ("objects", "40,3,5,60", "0,0,2,0"),
                  ("extensions", "pgcrypto 1.1,plpgsql 1.0", "0"))
    target = fake_target([{"match": "relkind IN ('r', 'S')", "stdout": listing},
                          {"match": "REPEATABLE READ", "stdout": counts}])
    inv = _inventory.database_inventory(target, "bds_hub", fixups=_inventory.FIXUPS["bds_hub"])
    assert inv == {
        "tables": {"public.no_columns": {"rows": 0, "checksum": "0"},
                   "st.policy_setting": {"rows": 10, "checksum": "-12345"},
                   "st.project": {"rows": 3, "checksum": "4242"}},
        "sequences": {"st.project_id_seq": {"last_value": 3, "is_called": True}},
        "large_objects": {"count": 2, "checksum": "77"},
        "objects": {"indexes": 40, "views": 3, "functions": 5, "constraints": 60},
        "extension_objects": {"indexes": 0, "views": 0, "functions": 2, "constraints": 0},
        "extensions": {"pgcrypto": "1.1", "plpgsql": "1.0"},
        "fixup_parts": {"st.policy_setting": {"unchanged": {"rows": 8, "checksum": "999"},
                                              "changed": {"rows": 2, "checksum": "0"},
                                              "after": {"rows": 2, "checksum": "0"}}},
    }
    script = target.calls()[1]["stdin"]
    assert script.startswith(_query.SESSION + "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n")
    assert script.endswith("COMMIT;\n")
    # the fixup table is split three ways; the other tables are not
    assert "'st.policy_setting#unchanged'" in script and "'st.project#unchanged'" not in script
    assert "WHERE NOT (%s);" % _inventory.FIXUPS["bds_hub"][0]["changes"] in script
    assert 'float8send(t."score")' in script
    assert "FROM \"st\".\"project_id_seq\"" in script
    # the Hub's own objects apart from its extensions' (pgcrypto's functions are the new server's version of it)
    assert "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid" in script
    assert "FROM pg_extension" in script


def test_balance_spreads_the_heaviest_first_onto_the_lightest_group():
    weights = {"st.a": 10, "st.b": 7, "st.c": 5, "st.d": 1, "": 0}
    # a -> 1st (10), b -> 2nd (7), c -> 2nd (12), d -> 1st (11), '' -> 1st (11 < 12)
    assert _inventory.balance(weights, 2) == [["", "st.a", "st.d"], ["st.b", "st.c"]]
    assert _inventory.balance(weights, 1) == [sorted(weights)]
    assert _inventory.balance({"st.a": 3, "st.b": 0}, 4) == [["st.a"], ["st.b"]]  # no empty group
    assert _inventory.balance({}, 2) == []


def test_database_inventory_with_jobs_shares_the_tables_by_size(fake_target):
    """jobs: 2 - the largest table on one session, the rest (and the fixup's parts with their table) on the other,
    each session in its own read-only snapshot; the rows merged as from one session."""
    listing = rows(("st", "big", "r", "id:int8"), ("st", "policy_setting", "r", "policy_key:varchar"),
                   ("st", "small", "r", "id:int8"), ("st", "s_seq", "S", ""))
    sizes = rows(("st.big", "900000"), ("st.policy_setting", "8192"), ("st.small", "16384"))
    target = fake_target([
        {"match": "relkind IN ('r', 'S')", "stdout": listing},
        {"match": "pg_table_size", "stdout": sizes},
        {"match": "'st.big'", "stdout": rows(("st.big", "1000", "11"))},
        {"match": "REPEATABLE READ", "stdout": rows(
            ("st.policy_setting", "3", "22"), ("st.policy_setting#unchanged", "3", "22"),
            ("st.policy_setting#changed", "0", "0"), ("st.policy_setting#after", "0", "0"), ("st.small", "2", "33"),
            ("seq:st.s_seq", "7", "1"), ("lo", "0", "0"), ("objects", "4,0,0,2", "0,0,0,0"))}])
    inv = _inventory.database_inventory(target, "bds_hub", fixups=_inventory.FIXUPS["bds_hub"], jobs=2)
    assert inv["tables"] == {"st.big": {"rows": 1000, "checksum": "11"}, "st.policy_setting": {"rows": 3, "checksum": "22"},
                             "st.small": {"rows": 2, "checksum": "33"}}
    assert inv["sequences"] == {"st.s_seq": {"last_value": 7, "is_called": True}}
    assert inv["fixup_parts"]["st.policy_setting"]["unchanged"] == {"rows": 3, "checksum": "22"}
    scripts = [c["stdin"] for c in target.calls() if "REPEATABLE READ" in c["stdin"]]
    assert len(scripts) == 2
    big = [s for s in scripts if "'st.big'" in s]
    rest = [s for s in scripts if "'st.big'" not in s]
    assert len(big) == 1 and "'st.small'" not in big[0] and "'st.policy_setting" not in big[0]
    assert "'st.policy_setting#unchanged'" in rest[0] and "'seq:st.s_seq'" in rest[0] and "'objects'" in rest[0]
    assert all(s.endswith("COMMIT;\n") and "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n" in s for s in scripts)


def test_database_inventory_with_one_table_needs_one_session(fake_target):
    target = fake_target([
        {"match": "relkind IN ('r', 'S')", "stdout": rows(("st", "t", "r", "id:int4"))},
        {"match": "REPEATABLE READ", "stdout": rows(("st.t", "5", "9"), ("lo", "0", "0"), ("objects", "1,0,0,1", "0,0,0,0"))},
    ])
    assert _inventory.database_inventory(target, "bdio", jobs=4)["tables"] == {"st.t": {"rows": 5, "checksum": "9"}}
    assert len(target.calls()) == 2 and not any("pg_table_size" in c["stdin"] for c in target.calls())


def test_database_inventory_without_checksums(fake_target):
    target = fake_target([
        {"match": "relkind IN ('r', 'S')", "stdout": rows(("st", "t", "r", "id:int4"))},
        {"match": "REPEATABLE READ", "stdout": rows(("st.t", "5", "0"), ("lo", "0", "0"), ("objects", "1,0,0,1", "0,0,0,0"))},
    ])
    inv = _inventory.database_inventory(target, "bdio", checksums=False)
    assert inv["tables"] == {"st.t": {"rows": 5, "checksum": None}}
    assert inv["large_objects"] == {"count": 0, "checksum": None}
    assert "md5" not in target.calls()[1]["stdin"]


def test_role_rights_of_the_connecting_role(fake_target):
    """One query says who connects and what it may do (db_restore keeps that role's password, and restores the roles
    as a non-superuser where it is one)."""
    target = fake_target([{"stdout": rows(("blackduck", "f", "t", "t"))}])
    assert _inventory.role_rights(target) == {"name": "blackduck", "superuser": False, "createdb": True, "createrole": True}
    assert "WHERE rolname = current_user" in target.calls()[0]["stdin"]
    assert _inventory.role_rights(fake_target([{"stdout": rows(("postgres", "t", "t", "t"))}]))["superuser"] is True
