"""module_utils/_manifest.py: the manifest file, and comparing a live database (and roles) with it."""
import copy
import json
import os
import stat

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _inventory, _manifest

FIXUPS = _inventory.FIXUPS["bds_hub"]
POLICY, JOBS = "st.policy_setting", "st.job_instances"


def kinds(diffs):
    return sorted((d["kind"], d["object"]) for d in diffs)


# ------------------------------------------------------------------------------------------------ file

def sample():
    return {
        "dump_id": "0f1e2d3c",
        "globals": {"file": "globals.sql", "bytes": 1200, "sha256": "a" * 64, "seconds": 0.2},
        "databases": {
            "bds_hub_report": {"file": "bds_hub_report.dump", "bytes": 20, "sha256": "c" * 64},
            "bds_hub": {"file": "bds_hub.dump", "bytes": 10, "sha256": "b" * 64},
            "bdio": {"file": "bdio.dump", "bytes": 30, "sha256": "d" * 64},
        },
    }


def test_write_load_round_trip(tmp_path):
    d = str(tmp_path)
    data = sample()
    path = _manifest.write(d, data)
    assert path == os.path.join(d, "manifest.json") == _manifest.manifest_path(d)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(d) == ["manifest.json"]  # no .tmp left behind
    loaded = _manifest.load(d)
    assert loaded == dict(data, format="blackduck.hub/dump-manifest", format_version=1)
    assert "format" not in data  # the caller's dict is not modified


def test_write_replaces_an_existing_manifest_and_stale_tmp(tmp_path):
    d = str(tmp_path)
    (tmp_path / "manifest.json.tmp").write_text("garbage from an interrupted run")
    _manifest.write(d, {"dump_id": "one"})
    _manifest.write(d, {"dump_id": "two"})
    assert _manifest.load(d)["dump_id"] == "two"
    assert sorted(os.listdir(d)) == ["manifest.json"]


def test_load_without_manifest_is_none(tmp_path):
    assert _manifest.load(str(tmp_path)) is None


def test_load_rejects_other_json(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "something/else", "format_version": 1}))
    with pytest.raises(ValueError, match="is not a blackduck.hub dump manifest"):
        _manifest.load(str(tmp_path))


def test_load_rejects_missing_format(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(ValueError, match="not a blackduck.hub dump manifest"):
        _manifest.load(str(tmp_path))


def test_load_rejects_newer_format(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": _manifest.FORMAT, "format_version": 2}))
    with pytest.raises(ValueError, match=r"newer blackduck.hub \(manifest format 2\): upgrade the collection"):
        _manifest.load(str(tmp_path))


def test_load_accepts_current_and_older_format(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": _manifest.FORMAT, "dump_id": "x"}))
    assert _manifest.load(str(tmp_path))["dump_id"] == "x"


def test_files_of_globals_first_then_databases_sorted():
    assert _manifest.files_of(sample()) == [
        ("globals.sql", 1200, "a" * 64),
        ("bdio.dump", 30, "d" * 64),
        ("bds_hub.dump", 10, "b" * 64),
        ("bds_hub_report.dump", 20, "c" * 64),
    ]


def test_files_of_without_globals():
    data = sample()
    del data["globals"]
    assert [f for f, dummy, dummy2 in _manifest.files_of(data)] == ["bdio.dump", "bds_hub.dump", "bds_hub_report.dump"]
    assert _manifest.files_of({}) == []


# ------------------------------------------------------------------------------------------------ compare, exact

def inventory():
    """A database inventory as _inventory.database_inventory returns it (and a manifest entry holds it)."""
    return {
        "tables": {
            "st.project": {"rows": 10, "checksum": "1111"},
            "st.component": {"rows": 500, "checksum": "2222"},
            "public.empty": {"rows": 0, "checksum": "0"},
        },
        "sequences": {
            "st.project_id_seq": {"last_value": 10, "is_called": True},
            "st.other_seq": {"last_value": 1, "is_called": False},
        },
        "large_objects": {"count": 2, "checksum": "777"},
        "objects": {"indexes": 40, "views": 3, "functions": 5, "constraints": 60},
        "extension_objects": {"indexes": 0, "views": 0, "functions": 34, "constraints": 0},
        "extensions": {"pgcrypto": "1.1", "plpgsql": "1.0"},
        "fixup_parts": {},
    }


def test_exact_equal_has_no_diffs():
    diffs, tables = _manifest.compare_database(inventory(), inventory())
    assert diffs == []
    assert [(t["table"], t["expected_rows"], t["rows"], t["status"]) for t in tables] == [
        ("public.empty", 0, 0, "ok"), ("st.component", 500, 500, "ok"), ("st.project", 10, 10, "ok")]


def test_exact_row_count_differs():
    live = inventory()
    live["tables"]["st.project"]["rows"] = 9
    diffs, tables = _manifest.compare_database(inventory(), live)
    assert diffs == [{"kind": "rows", "object": "st.project", "expected": 10, "actual": 9,
                      "detail": "row count differs"}]
    assert {t["table"]: t["status"] for t in tables}["st.project"] == "rows"


def test_exact_more_rows_is_a_diff_too():
    live = inventory()
    live["tables"]["st.project"]["rows"] = 11
    assert kinds(_manifest.compare_database(inventory(), live)[0]) == [("rows", "st.project")]


def test_exact_checksum_differs():
    live = inventory()
    live["tables"]["st.component"]["checksum"] = "2223"
    diffs, tables = _manifest.compare_database(inventory(), live)
    assert diffs == [{"kind": "checksum", "object": "st.component", "expected": "2222", "actual": "2223",
                      "detail": "content differs"}]
    assert {t["table"]: t["status"] for t in tables}["st.component"] == "checksum"


def test_exact_without_checksums_compares_counts_only():
    exp, live = inventory(), inventory()
    for t in exp["tables"].values():
        t["checksum"] = None
    live["tables"]["st.component"]["checksum"] = "other"
    assert _manifest.compare_database(exp, live)[0] == []


def test_a_side_without_checksums_compares_large_objects_and_fixup_parts_by_count():
    """A dump made with checksums: count, or a db_verify with checksums: false, has no checksum of the large objects
    or of the rows a fixup does not touch: their counts alone are compared, as the tables' are - not "differ"."""
    for counted in ("expected", "live"):
        exp, live = dumped(), restored()
        side = exp if counted == "expected" else live
        side["large_objects"]["checksum"] = None
        for table in side["fixup_parts"].values():
            table["unchanged"]["checksum"] = None
        for table in side["tables"].values():
            table["checksum"] = None
        assert _manifest.compare_database(exp, live, fixups=FIXUPS, fixups_applied=True)[0] == [], counted
        live["large_objects"]["count"] = 3
        live["fixup_parts"][POLICY]["unchanged"]["rows"] = 7
        assert kinds(_manifest.compare_database(exp, live, fixups=FIXUPS, fixups_applied=True)[0]) == [
            ("checksum", POLICY), ("large_objects", "pg_largeobject")], counted


def test_exact_extensions_of_the_new_servers_version_are_no_diff():
    """The Hub's bds_hub holds pgcrypto: 1.1 on 9.4, restored as 9.6's 1.3 with two functions more. The Hub's own
    objects are compared; of the extensions, that each is there."""
    live = inventory()
    live["extension_objects"]["functions"] = 36
    live["extensions"] = {"pgcrypto": "1.3", "plpgsql": "1.0", "pg_trgm": "1.3"}  # one more (template1's): fine
    assert _manifest.compare_database(inventory(), live)[0] == []
    live["objects"]["functions"] = 4
    del live["extensions"]["pgcrypto"]
    assert _manifest.compare_database(inventory(), live)[0] == [
        {"kind": "objects", "object": "functions", "expected": 5, "actual": 4, "detail": "number of functions differs"},
        {"kind": "extension", "object": "pgcrypto", "expected": "1.1", "actual": None,
         "detail": "extension is missing"}]


def test_exact_object_counts_of_an_older_releases_manifest_count_the_extensions_too():
    old = inventory()
    del old["extension_objects"], old["extensions"]
    old["objects"]["functions"] = 5 + 34
    assert _manifest.compare_database(old, inventory())[0] == []
    live = inventory()
    live["extension_objects"]["functions"] = 36
    assert kinds(_manifest.compare_database(old, live)[0]) == [("objects", "functions")]


def test_exact_missing_table():
    live = inventory()
    del live["tables"]["st.project"]
    diffs, tables = _manifest.compare_database(inventory(), live)
    assert diffs == [{"kind": "missing_table", "object": "st.project", "expected": 10, "actual": None,
                      "detail": "table is missing"}]
    row = [t for t in tables if t["table"] == "st.project"][0]
    assert (row["rows"], row["status"]) == (None, "missing")


def test_exact_extra_table():
    live = inventory()
    live["tables"]["st.new_thing"] = {"rows": 3, "checksum": "9"}
    diffs, dummy = _manifest.compare_database(inventory(), live)
    assert diffs == [{"kind": "extra_table", "object": "st.new_thing", "expected": None, "actual": 3,
                      "detail": "table not in the dump"}]


@pytest.mark.parametrize("change, detail", [
    ({"last_value": 11, "is_called": True}, "sequence value differs"),
    ({"last_value": 10, "is_called": False}, "sequence value differs"),
    (None, "sequence is missing"),
])
def test_exact_sequence_differs(change, detail):
    live = inventory()
    if change is None:
        del live["sequences"]["st.project_id_seq"]
    else:
        live["sequences"]["st.project_id_seq"] = change
    diffs = _manifest.compare_database(inventory(), live)[0]
    assert kinds(diffs) == [("sequence", "st.project_id_seq")]
    assert diffs[0]["detail"] == detail and diffs[0]["actual"] == change


@pytest.mark.parametrize("lo", [{"count": 1, "checksum": "777"}, {"count": 2, "checksum": "778"}, {}])
def test_exact_large_objects_differ(lo):
    live = inventory()
    live["large_objects"] = lo
    diffs = _manifest.compare_database(inventory(), live)[0]
    assert kinds(diffs) == [("large_objects", "pg_largeobject")]
    assert diffs[0]["expected"] == {"count": 2, "checksum": "777"} and diffs[0]["actual"] == lo


def test_exact_object_counts_differ():
    live = inventory()
    live["objects"]["indexes"] = 39
    del live["objects"]["views"]
    diffs = _manifest.compare_database(inventory(), live)[0]
    assert kinds(diffs) == [("objects", "indexes"), ("objects", "views")]
    by = {d["object"]: d for d in diffs}
    assert (by["indexes"]["expected"], by["indexes"]["actual"]) == (40, 39)
    assert by["views"]["actual"] is None and by["indexes"]["detail"] == "number of indexes differs"


def test_exact_several_differences_all_reported():
    live = inventory()
    live["tables"]["st.project"]["rows"] = 0
    live["tables"]["st.extra"] = {"rows": 0, "checksum": "0"}
    del live["tables"]["public.empty"]
    live["large_objects"]["count"] = 0
    assert kinds(_manifest.compare_database(inventory(), live)[0]) == [
        ("extra_table", "st.extra"), ("large_objects", "pg_largeobject"), ("missing_table", "public.empty"),
        ("rows", "st.project")]


# ------------------------------------------------------------------------------------------------ compare, live

def test_live_more_rows_and_extra_tables_are_fine():
    live = inventory()
    live["tables"]["st.project"]["rows"] = 20
    live["tables"]["st.component"]["checksum"] = "changed by the running Hub"
    live["tables"]["st.new"] = {"rows": 1, "checksum": "1"}
    live["sequences"]["st.project_id_seq"]["last_value"] = 20
    live["objects"]["indexes"] = 41
    live["large_objects"] = {"count": 5, "checksum": "x"}
    diffs, tables = _manifest.compare_database(inventory(), live, mode="live")
    assert diffs == []
    assert all(t["status"] == "ok" for t in tables)


def test_live_fewer_rows_is_a_diff():
    live = inventory()
    live["tables"]["st.component"]["rows"] = 499
    diffs, tables = _manifest.compare_database(inventory(), live, mode="live")
    assert diffs == [{"kind": "rows", "object": "st.component", "expected": ">= 500", "actual": 499,
                      "detail": "rows were lost"}]
    assert {t["table"]: t["status"] for t in tables}["st.component"] == "rows"


def test_live_missing_table_is_a_diff():
    live = inventory()
    del live["tables"]["public.empty"]
    assert kinds(_manifest.compare_database(inventory(), live, mode="live")[0]) == [("missing_table", "public.empty")]


def test_live_fewer_large_objects_is_a_diff():
    live = inventory()
    live["large_objects"] = {"count": 1, "checksum": "777"}
    diffs = _manifest.compare_database(inventory(), live, mode="live")[0]
    assert diffs == [{"kind": "large_objects", "object": "pg_largeobject", "expected": 2, "actual": 1,
                      "detail": "large objects were lost"}]


# ------------------------------------------------------------------------------------------------ fixups

def with_fixup_tables(inv, policy_rows, policy_parts, job_rows, job_parts, tag=""):
    inv = copy.deepcopy(inv)
    inv["tables"][POLICY] = {"rows": policy_rows, "checksum": "p%d%s" % (policy_rows, tag)}
    inv["tables"][JOBS] = {"rows": job_rows, "checksum": "j%d%s" % (job_rows, tag)}  # whole-table checksums
    inv["fixup_parts"] = {POLICY: policy_parts, JOBS: job_parts}
    return inv


def parts(unchanged, changed, after, checksum="u"):
    return {"unchanged": {"rows": unchanged, "checksum": checksum}, "changed": {"rows": changed, "checksum": None},
            "after": {"rows": after, "checksum": None}}


def dumped():
    # At dump time: 2 policy rows the fixup deletes (and 8 others); 3 transfer jobs (2 still "running").
    return with_fixup_tables(inventory(), 10, parts(8, 2, 2, "pu"), 50, parts(47, 3, 2, "ju"))


def restored():
    # After restore + fixups: the 2 policy rows gone; the 3 jobs still there, all FAILED (none left running).
    return with_fixup_tables(inventory(), 8, parts(8, 0, 0, "pu"), 50, parts(47, 3, 0, "ju"), tag="-fixed")


def test_fixups_applied_match():
    diffs, tables = _manifest.compare_database(dumped(), restored(), fixups=FIXUPS, fixups_applied=True)
    assert diffs == []
    status = {t["table"]: t["status"] for t in tables}
    assert status[POLICY] == status[JOBS] == "ok (fixup)"


def test_fixup_tables_without_fixups_applied_are_compared_whole():
    diffs = _manifest.compare_database(dumped(), restored(), fixups=FIXUPS, fixups_applied=False)[0]
    assert kinds(diffs) == [("checksum", JOBS), ("rows", POLICY)]


def test_fixups_not_applied_but_claimed():
    live = with_fixup_tables(inventory(), 10, parts(8, 2, 2, "pu"), 50, parts(47, 3, 2, "ju"))
    diffs, tables = _manifest.compare_database(dumped(), live, fixups=FIXUPS, fixups_applied=True)
    assert ("fixup", POLICY) in kinds(diffs) and ("fixup", JOBS) in kinds(diffs)
    assert all(d["detail"] == "the fixup has not been applied" for d in diffs if d["kind"] == "fixup")
    after = [d for d in diffs if d["kind"] == "fixup" and d["object"] == JOBS][0]
    assert (after["expected"], after["actual"]) == (0, 2)
    # the deleting fixup left its rows: the "changed" count is not 0 either
    assert [(d["expected"], d["actual"]) for d in diffs if d["kind"] == "rows" and d["object"] == POLICY] == [(0, 2)]
    assert {t["table"]: t["status"] for t in tables}[POLICY] == "fixup"


def test_deleting_fixup_expects_no_changed_rows_after():
    live = restored()
    live["fixup_parts"][POLICY]["changed"]["rows"] = 1  # one of the deleted keys is back
    diffs = _manifest.compare_database(dumped(), live, fixups=FIXUPS, fixups_applied=True)[0]
    assert diffs == [{"kind": "rows", "object": POLICY, "expected": 0, "actual": 1,
                      "detail": "rows the fixup changes"}]


def test_updating_fixup_expects_equal_changed_counts():
    for n in (2, 4):
        live = restored()
        live["fixup_parts"][JOBS]["changed"]["rows"] = n
        diffs = _manifest.compare_database(dumped(), live, fixups=FIXUPS, fixups_applied=True)[0]
        assert diffs == [{"kind": "rows", "object": JOBS, "expected": 3, "actual": n,
                          "detail": "rows the fixup changes"}]


def test_fixup_after_rows_left_is_not_applied():
    live = restored()
    live["fixup_parts"][JOBS]["after"]["rows"] = 1
    diffs = _manifest.compare_database(dumped(), live, fixups=FIXUPS, fixups_applied=True)[0]
    assert diffs == [{"kind": "fixup", "object": JOBS, "expected": 0, "actual": 1,
                      "detail": "the fixup has not been applied"}]


@pytest.mark.parametrize("table", [POLICY, JOBS])
def test_fixup_unchanged_part_checksum_mismatch(table):
    live = restored()
    live["fixup_parts"][table]["unchanged"]["checksum"] = "other"
    diffs, tables = _manifest.compare_database(dumped(), live, fixups=FIXUPS, fixups_applied=True)
    assert kinds(diffs) == [("checksum", table)]
    assert diffs[0]["detail"] == "rows the fixup does not touch differ"
    assert {t["table"]: t["status"] for t in tables}[table] == "checksum"


def test_fixup_unchanged_part_row_count_mismatch():
    live = restored()
    live["fixup_parts"][POLICY]["unchanged"]["rows"] = 7
    assert kinds(_manifest.compare_database(dumped(), live, fixups=FIXUPS, fixups_applied=True)[0]) == [
        ("checksum", POLICY)]


def test_fixup_without_breakdown_is_a_diff():
    live = restored()
    del live["fixup_parts"][JOBS]
    diffs = _manifest.compare_database(dumped(), live, fixups=FIXUPS, fixups_applied=True)[0]
    assert diffs == [{"kind": "fixup", "object": JOBS, "expected": "fixup parts", "actual": None,
                      "detail": "no fixup breakdown to compare"}]


def test_fixup_table_missing_is_reported_as_missing():
    live = restored()
    del live["tables"][POLICY]
    assert kinds(_manifest.compare_database(dumped(), live, fixups=FIXUPS, fixups_applied=True)[0]) == [
        ("missing_table", POLICY)]


def test_live_mode_deleting_fixup_floor_is_the_kept_rows():
    live = restored()  # 8 policy rows < 10 dumped, but the fixup deletes 2 of them
    assert _manifest.compare_database(dumped(), live, mode="live", fixups=FIXUPS, fixups_applied=True)[0] == []
    live["tables"][POLICY]["rows"] = 7
    diffs = _manifest.compare_database(dumped(), live, mode="live", fixups=FIXUPS, fixups_applied=True)[0]
    assert diffs == [{"kind": "rows", "object": POLICY, "expected": ">= 8", "actual": 7, "detail": "rows were lost"}]


def test_live_mode_without_fixups_applied_floor_is_all_rows():
    diffs = _manifest.compare_database(dumped(), restored(), mode="live", fixups=FIXUPS, fixups_applied=False)[0]
    assert diffs == [{"kind": "rows", "object": POLICY, "expected": ">= 10", "actual": 8, "detail": "rows were lost"}]


def test_live_mode_updating_fixup_floor_is_all_rows():
    live = restored()
    live["tables"][JOBS]["rows"] = 49
    diffs = _manifest.compare_database(dumped(), live, mode="live", fixups=FIXUPS, fixups_applied=True)[0]
    assert kinds(diffs) == [("rows", JOBS)] and diffs[0]["expected"] == ">= 50"


# ------------------------------------------------------------------------------------------------ roles

ROLES = {
    "blackduck": {"superuser": False, "createdb": True, "createrole": True, "login": True, "inherit": True},
    "blackduck_user": {"superuser": False, "createdb": False, "createrole": False, "login": True, "inherit": True},
    "blackduck_reporter": {"superuser": False, "createdb": False, "createrole": False, "login": True,
                           "inherit": True},
}


def test_compare_roles_equal_and_extra_roles_on_target():
    live = copy.deepcopy(ROLES)
    live["rds_superuser"] = {"superuser": False, "createdb": True, "createrole": True, "login": False,
                             "inherit": True}
    assert _manifest.compare_roles(ROLES, live) == []


def test_compare_roles_superuser_and_inherit_are_not_compared():
    live = copy.deepcopy(ROLES)
    live["blackduck"]["superuser"] = True
    live["blackduck"]["inherit"] = False
    assert _manifest.compare_roles(ROLES, live) == []


def test_compare_roles_missing_and_attributes():
    live = copy.deepcopy(ROLES)
    del live["blackduck_reporter"]
    live["blackduck_user"]["login"] = False
    live["blackduck"]["createdb"] = False
    live["blackduck"]["createrole"] = False
    diffs = _manifest.compare_roles(ROLES, live)
    assert [(d["object"], d["detail"], d["expected"], d["actual"]) for d in diffs] == [
        ("blackduck", "role attribute differs", {"createdb": True}, {"createdb": False}),
        ("blackduck", "role attribute differs", {"createrole": True}, {"createrole": False}),
        ("blackduck_reporter", "role is missing", ROLES["blackduck_reporter"], None),
        ("blackduck_user", "role attribute differs", {"login": True}, {"login": False}),
    ]
    assert all(d["kind"] == "role" for d in diffs)


def with_passwords(roles, digests):
    out = copy.deepcopy(roles)
    for name, d in digests.items():
        out[name]["password"] = d
    return out


def test_compare_roles_passwords_by_digest():
    dumped_roles = with_passwords(ROLES, {"blackduck": "aa", "blackduck_user": "bb", "blackduck_reporter": ""})
    live = with_passwords(ROLES, {"blackduck": "aa", "blackduck_user": "cc", "blackduck_reporter": "dd"})
    diffs = _manifest.compare_roles(dumped_roles, live)
    assert [(d["kind"], d["object"], d["expected"], d["actual"]) for d in diffs] == [
        ("role_password", "blackduck_reporter", "the dump's password (no password)", "a password"),
        ("role_password", "blackduck_user", "the dump's password (a password)", "another password")]
    assert "bb" not in str(diffs) and "cc" not in str(diffs)  # never the digests themselves
    # the role the restore connected as, a target whose passwords were kept, and unknown passwords: not compared
    assert [d["object"] for d in _manifest.compare_roles(dumped_roles, live, skip_passwords=["blackduck_user"])] == [
        "blackduck_reporter"]
    assert _manifest.compare_roles(dumped_roles, live, passwords=False) == []
    assert _manifest.compare_roles(dumped_roles, copy.deepcopy(ROLES)) == []
    assert _manifest.role_summary(dumped_roles, live, skip_passwords=["blackduck"]) == {
        "blackduck": "not compared (the role the restore connects as keeps its password)",
        "blackduck_reporter": "differs", "blackduck_user": "differs"}
    assert set(_manifest.role_summary(ROLES, live).values()) == {"not compared (the dump holds no password)"}


def test_compare_roles_every_attribute_after_a_superusers_restore():
    live = copy.deepcopy(ROLES)
    live["blackduck"]["superuser"] = True
    live["blackduck_user"]["inherit"] = False
    diffs = _manifest.compare_roles(ROLES, live, attributes=_manifest.SUPERUSER_ROLE_ATTRIBUTES)
    assert [(d["object"], d["expected"]) for d in diffs] == [
        ("blackduck", {"superuser": False}), ("blackduck_user", {"inherit": True})]
