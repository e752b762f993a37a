# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dump manifest (manifest.json beside the dump files) and the comparison of a live database with it.

Pure logic, no I/O beyond reading and writing the manifest file: unit-tested without a server.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.blackduck.hub.plugins.module_utils._command import read_json_of_format, sha256_file, write_json_atomic

MANIFEST = "manifest.json"
FORMAT = "blackduck.hub/dump-manifest"
FORMAT_VERSION = 1
# The format of a database streamed from the old server into the new one (db_restore's source): the manifest holds
# its inventory, and no file.
STREAM = "stream"
# Schemas whose content a migration does not carry verbatim (none today; kept as the one place to add them).
IGNORED_SCHEMAS = ()


def manifest_path(dump_dir):
    return os.path.join(dump_dir, MANIFEST)


def load(dump_dir):
    """The manifest of a complete dump in dump_dir, or None when there is none (or only a partial one)."""
    path = manifest_path(dump_dir)
    data = read_json_of_format(path, FORMAT, "%s is not a blackduck.hub dump manifest")
    if data is None:
        return None
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError("%s was written by a newer blackduck.hub (manifest format %s): upgrade the collection"
                         % (path, data.get("format_version")))
    return data


def streamed(data):
    """Whether a manifest records a stream (db_restore's source: no dump file) rather than a dump."""
    return (data or {}).get("options", {}).get("format") == STREAM


def write(dump_dir, data):
    """Write atomically (temp file + rename), mode 0600: a manifest exists only for a complete dump."""
    return write_json_atomic(manifest_path(dump_dir), dict(data, format=FORMAT, format_version=FORMAT_VERSION))


def files_of(data):
    """(name, bytes, sha256) of every file the manifest lists (none for what was streamed)."""
    out = []
    if data.get("globals", {}).get("file"):
        g = data["globals"]
        out.append((g["file"], g["bytes"], g["sha256"]))
    for db in sorted(data.get("databases", {})):
        d = data["databases"][db]
        if d.get("format") == STREAM:
            continue
        if d.get("format") == "directory":  # one entry per file of the directory
            for rel, f in sorted(d["files"].items()):
                out.append((d["file"] + "/" + rel, f["bytes"], f["sha256"]))
        else:
            out.append((d["file"], d["bytes"], d["sha256"]))
    return out


def _diff(kind, name, expected, actual, detail=""):
    return {"kind": kind, "object": name, "expected": expected, "actual": actual, "detail": detail}


def _same(expected, live, count):
    """The same count (expected[count], live[count]), and the same checksum where both sides have one: a side read
    without checksums (db_dump's checksums: count, db_verify's checksums: false) has None, and only counts compare."""
    ce, cl = expected.get("checksum"), live.get("checksum")
    return expected.get(count) == live.get(count) and (ce is None or cl is None or ce == cl)


def compare_database(expected, live, mode="exact", fixups=None, fixups_applied=False):
    """Compare one database's manifest entry with a live inventory.

    mode ``exact``: every table's row count and checksum, sequences, large objects and object counts equal.
      Tables changed by the Hub's fixups (when ``fixups_applied``) are compared on the rows the fixup does not
      touch (checksum), the number of rows it may touch (count; fewer for a deleting fixup), and no row left
      that the fixup should have changed.
    mode ``live``: for a running Hub that writes: every table is there with at least its rows (fixup tables:
      at least the rows the fixup keeps); large objects at least as many.
    Returns (diffs, tables) where tables is a per-table summary list.
    """
    diffs, summary = [], []
    fixups = {f["table"]: f for f in (fixups or [])} if fixups_applied else {}
    for table in sorted(expected.get("tables", {})):
        if table.split(".", 1)[0] in IGNORED_SCHEMAS:
            continue
        exp = expected["tables"][table]
        got = live.get("tables", {}).get(table)
        row = {"table": table, "expected_rows": exp["rows"], "rows": got["rows"] if got else None, "status": "ok"}
        summary.append(row)
        if got is None:
            diffs.append(_diff("missing_table", table, exp["rows"], None, "table is missing"))
            row["status"] = "missing"
            continue
        fx = fixups.get(table)
        if mode == "live":
            floor = exp["rows"]
            if fx and fx.get("deletes"):
                floor = expected.get("fixup_parts", {}).get(table, {}).get("unchanged", {}).get("rows", 0)
            if got["rows"] < floor:
                diffs.append(_diff("rows", table, ">= %d" % floor, got["rows"], "rows were lost"))
                row["status"] = "rows"
            continue
        if fx:
            parts_e = expected.get("fixup_parts", {}).get(table, {})
            parts_l = live.get("fixup_parts", {}).get(table, {})
            row["status"] = "ok (fixup)"
            ue, ul = parts_e.get("unchanged"), parts_l.get("unchanged")
            if not ue or not ul:
                diffs.append(_diff("fixup", table, "fixup parts", None, "no fixup breakdown to compare"))
                row["status"] = "fixup"
                continue
            if not _same(ue, ul, "rows"):
                diffs.append(_diff("checksum", table, ue, ul, "rows the fixup does not touch differ"))
                row["status"] = "checksum"
            ce, cl = parts_e.get("changed", {}).get("rows", 0), parts_l.get("changed", {}).get("rows", 0)
            if (fx.get("deletes") and cl != 0) or (not fx.get("deletes") and cl != ce):
                diffs.append(_diff("rows", table, 0 if fx.get("deletes") else ce, cl, "rows the fixup changes"))
                row["status"] = "rows"
            if parts_l.get("after", {}).get("rows", 0) != 0:
                diffs.append(_diff("fixup", table, 0, parts_l["after"]["rows"], "the fixup has not been applied"))
                row["status"] = "fixup"
            continue
        if got["rows"] != exp["rows"]:
            diffs.append(_diff("rows", table, exp["rows"], got["rows"], "row count differs"))
            row["status"] = "rows"
        elif exp.get("checksum") is not None and got.get("checksum") is not None and exp["checksum"] != got["checksum"]:
            diffs.append(_diff("checksum", table, exp["checksum"], got["checksum"], "content differs"))
            row["status"] = "checksum"
    for table in sorted(set(live.get("tables", {})) - set(expected.get("tables", {}))):
        if mode == "exact":
            diffs.append(_diff("extra_table", table, None, live["tables"][table]["rows"], "table not in the dump"))
    if mode == "exact":
        for seq, exp in sorted(expected.get("sequences", {}).items()):
            got = live.get("sequences", {}).get(seq)
            if got != exp:
                diffs.append(_diff("sequence", seq, exp, got, "sequence value differs" if got else "sequence is missing"))
        lo_e, lo_l = expected.get("large_objects", {}), live.get("large_objects", {})
        if lo_e and not _same(lo_e, lo_l, "count"):
            diffs.append(_diff("large_objects", "pg_largeobject", lo_e, lo_l, "large objects differ"))
        diffs += _object_diffs(expected, live)
    else:
        lo_e, lo_l = expected.get("large_objects", {}), live.get("large_objects", {})
        if lo_l.get("count", 0) < lo_e.get("count", 0):
            diffs.append(_diff("large_objects", "pg_largeobject", lo_e.get("count"), lo_l.get("count"),
                               "large objects were lost"))
    return diffs, summary


def _object_diffs(expected, live):
    """The Hub's own indexes, views, functions and constraints counted alike; every extension of the dump there (its
    version may be the new server's: an extension's own objects are not compared). A manifest of an older release
    counted the extensions' objects with the Hub's: compared with both."""
    diffs = []
    older = "extensions" not in expected
    for kind, n in sorted(expected.get("objects", {}).items()):
        got = live.get("objects", {}).get(kind)
        if older and got is not None:
            got += live.get("extension_objects", {}).get(kind, 0)
        if got != n:
            diffs.append(_diff("objects", kind, n, got, "number of %s differs" % kind))
    for name, version in sorted(expected.get("extensions", {}).items()):
        if name not in live.get("extensions", {}):
            diffs.append(_diff("extension", name, version, None, "extension is missing"))
    return diffs


# The attributes any restore sets; a superuser's restore sets these too (a non-superuser, as on Amazon RDS, cannot).
ROLE_ATTRIBUTES = ("login", "createdb", "createrole")
SUPERUSER_ROLE_ATTRIBUTES = ROLE_ATTRIBUTES + ("superuser", "inherit")


def _password_word(digest):
    return "no password" if digest == "" else "a password"


def compare_roles(expected, live, passwords=True, skip_passwords=(), attributes=ROLE_ATTRIBUTES):
    """Every role of the dump exists on the target with its attributes and, where both sides know it (a superuser
    read it) and ``passwords``, the same password (compared by digest; the differences never show it). Roles in
    ``skip_passwords`` (the one the restore connected as) are not compared on their password."""
    diffs = []
    for name, attrs in sorted(expected.items()):
        got = live.get(name)
        if got is None:
            diffs.append(_diff("role", name, {k: v for k, v in attrs.items() if k != "password"}, None,
                               "role is missing"))
            continue
        for key in attributes:
            if key in attrs and key in got and attrs[key] != got[key]:
                diffs.append(_diff("role", name, {key: attrs[key]}, {key: got[key]}, "role attribute differs"))
        if passwords and name not in skip_passwords and "password" in attrs and "password" in got \
                and attrs["password"] != got["password"]:
            diffs.append(_diff("role_password", name, "the dump's password (%s)" % _password_word(attrs["password"]),
                               "another password" if got["password"] and attrs["password"] else
                               _password_word(got["password"]), "password differs"))
    return diffs


def role_summary(expected, live, passwords=True, skip_passwords=()):
    """Per role of the dump: whether its password was compared, and how it came out (for the report)."""
    out = {}
    for name, attrs in sorted(expected.items()):
        got = live.get(name) or {}
        if "password" not in attrs:
            state = "not compared (the dump holds no password)"
        elif "password" not in got:
            state = "not compared (the connecting role may not read passwords)"
        elif not passwords:
            state = "not compared (the target's passwords are kept)"
        elif name in skip_passwords:
            state = "not compared (the role the restore connects as keeps its password)"
        else:
            state = "equal" if attrs["password"] == got["password"] else "differs"
        out[name] = state
    return out


def verify_files(dump_dir, data):
    """Problems with the files a manifest lists (missing, size or sha256 differ); [] when all are intact."""
    problems = []
    for name, size, digest in files_of(data):
        path = os.path.join(dump_dir, name)
        if not os.path.exists(path):
            problems.append("%s is missing" % name)
            continue
        actual = os.path.getsize(path)
        if actual != size:
            problems.append("%s has %d bytes, the manifest says %d (truncated or replaced)" % (name, actual, size))
            continue
        if sha256_file(path) != digest:
            problems.append("%s does not match its sha256 in the manifest (corrupt)" % name)
    return problems
