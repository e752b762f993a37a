"""module_utils/_verify.py: what a server that is to receive a migration must be (check_server). The comparison
itself (verify) runs against real servers in tests/integration/modules/test_db_modules.py; here only a failure of it
under a database gone."""
import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _query, _verify
from ansible_collections.blackduck.hub.plugins.module_utils._verify import check_server

S = _query.SEP
PG96 = {"major": "9.6", "version": "9.6.24", "num": 90624}


def rights(name="hub_admin", superuser="f", createdb="t", createrole="t"):
    return {"tool": "psql", "match": "WHERE rolname = current_user", "stdout": S.join((name, superuser, createdb, createrole)) + "\n"}


def test_no_requirement_reads_nothing(fake_target):
    target = fake_target([])
    assert check_server(target, PG96) == ({}, None) and target.calls() == []


def test_the_wrong_major_is_refused_before_anything_is_read(fake_target):
    target = fake_target([])
    found, problem = check_server(target, dict(PG96, major="11", version="11.13"), "9.6", True, True)
    assert found == {} and target.calls() == []
    assert problem == ("the server at the fake server runs PostgreSQL 11.13; PostgreSQL 9.6 is required (a Hub 4.2 "
                       "external database must be 9.6). Point the Hub at a 9.6 server; nothing was changed.")


def test_a_role_that_may_not_create_databases_is_refused(fake_target):
    target = fake_target([rights(createrole="f")])
    found, problem = check_server(target, PG96, "9.6", require_create=True, require_no_hub_data=True)
    assert found == {"role": {"name": "hub_admin", "superuser": False, "createdb": True, "createrole": False}}
    assert problem.startswith("the role hub_admin on the fake server may not create databases and roles (CREATEDB "
                              "True, CREATEROLE False): a restore needs both. Grant them (ALTER ROLE hub_admin")
    assert len(target.calls()) == 1  # stopped there: Hub data not looked for


def test_a_superuser_may_and_a_server_with_hub_data_is_refused(fake_target):
    target = fake_target([rights(superuser="t", createdb="f", createrole="f"),
                          {"tool": "psql", "match": "FROM pg_database", "stdout": S.join(
                              ("bds_hub", "blackduck", "UTF8", "C", "C", "100", "")) + "\n"},
                          {"tool": "psql", "match": "nspname = 'st'", "stdout": "42\n"}])
    found, problem = check_server(target, PG96, require_create=True, require_no_hub_data=True)
    assert found["role"]["superuser"] is True and found["hub_tables"] == 42
    assert problem == ("the server at the fake server already holds Hub data (42 tables in schema st of bds_hub): it "
                       "cannot be the target of a migration. Use an empty server; nothing was changed.")


def test_an_empty_server_passes(fake_target):
    target = fake_target([rights(), {"tool": "psql", "match": "FROM pg_database", "stdout": ""}])
    assert check_server(target, PG96, "9.6", True, True) == (
        {"role": {"name": "hub_admin", "superuser": False, "createdb": True, "createrole": True}, "hub_tables": 0}, None)


def test_a_rolled_back_attempts_data_passes_and_another_dumps_is_refused(fake_target):
    def held():
        return fake_target([{"tool": "psql", "match": "FROM pg_database", "stdout": S.join(
            ("bds_hub", "blackduck", "UTF8", "C", "C", "100", "")) + "\n"},
            {"tool": "psql", "match": "nspname = 'st'", "stdout": "42\n"}])
    attempt = {"dump_id": "d-rolled-back", "complete": True}
    markers = {"bds_hub": attempt, "bds_hub_report": dict(attempt, complete=False), "bdio": attempt, "postgres": None}
    found, problem = check_server(held(), PG96, require_no_hub_data=True, accept_dumps=["d-old", "d-rolled-back"],
                                  markers=markers)
    assert (found, problem) == ({"hub_tables": 42, "rolled_back_data": "d-rolled-back"}, None)
    # every Hub database there must carry that attempt's marker: one without (other data) or another dump's is refused
    for accept, marks in ((["d-old"], markers), (["d-rolled-back"], {"bds_hub": None}), ([], markers),
                          (["d-rolled-back"], dict(markers, bdio=None)),
                          (["d-rolled-back", "d-old"], dict(markers, bdio={"dump_id": "d-old"}))):
        found, problem = check_server(held(), PG96, require_no_hub_data=True, accept_dumps=accept, markers=marks)
        assert "rolled_back_data" not in found and problem.startswith("the server at the fake server already holds")


def hub_with_rows(fake_target, project, code_location):
    """A server whose bds_hub holds a Hub's tables (no restore marker), st.project and st.code_location with these rows."""
    return fake_target([{"tool": "psql", "match": "FROM pg_database", "stdout": S.join(
        ("bds_hub", "blackduck", "UTF8", "C", "C", "100", "")) + "\n"},
        {"tool": "psql", "match": "nspname = 'st'", "stdout": "42\n"},
        {"tool": "psql", "match": "to_regclass", "stdout": "t\n"},
        {"tool": "psql", "match": 'FROM "st"."project"', "stdout": "%d\n" % project},
        {"tool": "psql", "match": 'FROM "st"."code_location"', "stdout": "%d\n" % code_location}])


def test_allow_empty_hub_accepts_an_empty_hub_and_refuses_one_in_use(fake_target):
    """Step 1's gate on a new database that answers already: the new version started without migrating is an
    empty Hub (accepted: the restore replaces it); one with projects or code locations has been used (refused)."""
    found, problem = check_server(hub_with_rows(fake_target, 0, 0), PG96, require_no_hub_data=True, allow_empty_hub=True)
    assert (found, problem) == ({"hub_tables": 42, "hub_data_rows": {"st.project": 0, "st.code_location": 0},
                                 "empty_hub": True}, None)
    found, problem = check_server(hub_with_rows(fake_target, 0, 7), PG96, require_no_hub_data=True, allow_empty_hub=True)
    assert "empty_hub" not in found and found["hub_data_rows"] == {"st.project": 0, "st.code_location": 7}
    assert problem == ("the server at the fake server holds the data of a Hub in use (st.code_location has 7 rows) "
                       "that no migration put there: a migration would replace it. Nothing was changed, nothing was "
                       "stopped. Keep using that Hub, or, once what it holds may go, remove its data and run again "
                       "(hub_force_restore: true replaces it).")
    # without allow_empty_hub (the external gate) any Hub table is refused, rows not counted
    target = hub_with_rows(fake_target, 0, 0)
    before = len(target.calls())  # the fake targets of one test share their record
    found, problem = check_server(target, PG96, require_no_hub_data=True)
    assert found == {"hub_tables": 42} and problem.startswith("the server at the fake server already holds Hub data")
    assert len(target.calls()) - before == 2  # the databases and the tables of schema st only


def test_allow_empty_hub_accepts_a_rolled_back_attempts_data_without_counting(fake_target):
    target = hub_with_rows(fake_target, 5, 5)
    marker = {"dump_id": "d-rolled-back", "complete": True}
    found, problem = check_server(target, PG96, require_no_hub_data=True, accept_dumps=["d-rolled-back"],
                                  markers={"bds_hub": marker, "bdio": marker}, allow_empty_hub=True)
    assert (found, problem) == ({"hub_tables": 42, "rolled_back_data": "d-rolled-back"}, None)


def test_allow_empty_hub_takes_bds_hubs_marker_as_the_restore_does(fake_target):
    """A rolled-back attempt's partial restore: bds_hub carries its marker, the empty Hub's bdio none - the restore
    replaces bds_hub (its marker) and the unmarked empty databases, so step 1's gate lets it be; the external gate,
    which wants every Hub database marked, does not."""
    marker = {"dump_id": "d-rolled-back", "complete": False}
    markers = {"bds_hub": marker, "bdio": None}
    found, problem = check_server(hub_with_rows(fake_target, 5, 5), PG96, require_no_hub_data=True,
                                  accept_dumps=["d-rolled-back"], markers=markers, allow_empty_hub=True)
    assert (found, problem) == ({"hub_tables": 42, "rolled_back_data": "d-rolled-back"}, None)
    found, problem = check_server(hub_with_rows(fake_target, 5, 5), PG96, require_no_hub_data=True,
                                  accept_dumps=["d-rolled-back"], markers=markers)
    assert problem.startswith("the server at the fake server already holds Hub data")
    # a marker of a dump not accepted (another hub's, a gone state file's) is no excuse: the rows are counted
    found, problem = check_server(hub_with_rows(fake_target, 5, 0), PG96, require_no_hub_data=True,
                                  accept_dumps=["d-other"], markers=markers, allow_empty_hub=True)
    assert problem.startswith("the server at the fake server holds the data of a Hub in use (st.project has 5 rows)")


@pytest.mark.parametrize("reason", ["the database container hub-postgres-1 was removed", ""], ids=["gone", "there"])
def test_a_verification_that_failed_under_a_database_gone_says_so(fake_target, monkeypatch, reason):
    """A query of the comparison failed: when the database's container went away meanwhile, the message names that
    (the query's words in brackets); with the database still there, the query's own error as it was."""
    failed = _verify.CommandError("counting the tables on the fake server (database bdio) failed: exit 137")

    def count(*a, **kw):
        raise failed

    monkeypatch.setattr(_verify.inventory, "databases", lambda t: {"bdio": {"comment": None}})
    monkeypatch.setattr(_verify.inventory, "database_inventory", count)
    target = fake_target([])
    target.gone_reason = reason
    data = {"dump_id": "d-1", "databases": {"bdio": {"tables": {}}}}
    with pytest.raises(Exception) as info:
        _verify.verify(target, data, _verify.Comparison(require_marker=False, roles=False))
    if not reason:
        assert info.value is failed
        return
    assert isinstance(info.value, _verify.TargetError) and str(info.value) == (
        "the verification stopped because the database container hub-postgres-1 was removed while it ran (counting the "
        "tables on the fake server (database bdio) failed: exit 137). Nothing was changed by it; start the database "
        "again and run again: it compares anew.")
