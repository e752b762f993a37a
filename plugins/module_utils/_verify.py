# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A live server compared with a dump's manifest (db_verify): per database its restore marker, tables, sequences,
large objects and object counts; the roles with their attributes and passwords."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.blackduck.hub.plugins.module_utils import _inventory as inventory
from ansible_collections.blackduck.hub.plugins.module_utils import _manifest as manifest
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError
from ansible_collections.blackduck.hub.plugins.module_utils._target import TargetError, stopped_because


HUB_DATABASES = ("bds_hub", "bds_hub_report", "bdio")

# What a comparison with a dump looks at: db_verify's options of the same names (databases: all the dump's when None).
Comparison = namedtuple("Comparison", ["databases", "mode", "checksums", "jobs", "require_marker", "roles",
                                       "role_passwords"], defaults=[None, "exact", True, 1, True, True, True])


class VerifyError(Exception):
    """A server that may not receive a migration (check_server's refusal), or a database that differs from its dump."""


def check(target, result, gate, dump_dir=None, comparison=None, fail_on_mismatch=True):
    """db_verify's work, into its result (returned): the server's version and each database's restore marker, the
    requirements of gate (check_server's keyword arguments) and, with dump_dir, every database compared with that
    dump (comparison). Raises VerifyError on an unmet requirement, or (fail_on_mismatch) on a difference."""
    server = result["server"] = inventory.server_version(target)
    markers = result["restore_markers"] = dict((name, inventory.read_marker(d["comment"]))
                                               for name, d in inventory.databases(target).items())
    found, problem = check_server(target, server, markers=markers, **gate)
    result.update(found)
    if problem:
        raise VerifyError(problem)
    if dump_dir:
        data = manifest.load(dump_dir)
        if data is None:
            raise VerifyError("no complete dump in %s (no manifest.json) to compare with" % dump_dir)
        result["dump_id"] = data["dump_id"]
        result["databases"], result["differences"], roles = verify(target, data, comparison or Comparison())
        if roles is not None:
            result["roles"] = roles
    result["verified"] = not result["differences"]
    if result["differences"] and fail_on_mismatch:
        raise VerifyError("the database differs from the dump in %d place(s), first: %s" % (
            len(result["differences"]), "; ".join("%s %s %s (expected %s, found %s)" % (
                d.get("database", ""), d["object"], d["detail"], d["expected"], d["actual"])
                for d in result["differences"][:5])))
    return result


def rolled_back_attempt(markers, accept_dumps):
    """The rolled-back attempt (one of ``accept_dumps``) whose restore every Hub database on the server carries in
    its marker (``markers``: per database of the server), or "" - a database without such a marker may hold other
    data, which the restore would not replace."""
    ids = set(((markers.get(name) or {}).get("dump_id") or "") for name in HUB_DATABASES if name in markers)
    return ids.pop() if len(ids) == 1 and ids <= set(accept_dumps) - {""} else ""


def check_server(target, server, require_major=None, require_create=False, require_no_hub_data=False,
                 accept_dumps=(), markers=None, allow_empty_hub=False):
    """(what was read, the first unmet requirement as a message or None) of a server that is to receive a
    migration: its major version, the connecting role's rights (``role``), no Hub data there (``hub_tables``) - but
    for the data of a rolled-back attempt (``accept_dumps``: every Hub database's restore marker, of ``markers``,
    names the same one of them; a new restore replaces it), said as ``rolled_back_data``; with ``allow_empty_hub``
    (step 1's gate on a new database that answers already) bds_hub's marker naming one of them is enough, as for the
    restore, and an empty Hub passes too (no rows in inventory.HUB_DATA_TABLES, counted in ``hub_data_rows``: the
    new version started without migrating, which db_restore's replace_empty_hub replaces), said as ``empty_hub``."""
    found = {}
    if require_major and server["major"] != require_major:
        return found, ("the server at %s runs PostgreSQL %s; PostgreSQL %s is required (a Hub 4.2 external database "
                       "must be 9.6). Point the Hub at a %s server; nothing was changed."
                       % (target.describe(), server["version"], require_major, require_major))
    if require_create:
        rights = found["role"] = inventory.role_rights(target)
        if not (rights["superuser"] or (rights["createdb"] and rights["createrole"])):
            return found, ("the role %s on %s may not create databases and roles (CREATEDB %s, CREATEROLE %s): a "
                           "restore needs both. Grant them (ALTER ROLE %s CREATEDB CREATEROLE) or connect as another "
                           "role; nothing was changed." % (rights["name"], target.describe(), rights["createdb"],
                                                           rights["createrole"], rights["name"]))
    if require_no_hub_data:
        markers = markers or {}
        tables = found["hub_tables"] = inventory.hub_table_count(target)
        attempt = rolled_back_attempt(markers, accept_dumps)
        if allow_empty_hub and not attempt:  # as the restore decides: bds_hub's own marker names the attempt
            bds_hub_dump = (markers.get("bds_hub") or {}).get("dump_id")
            attempt = bds_hub_dump if bds_hub_dump and bds_hub_dump in accept_dumps else ""
        if tables and attempt:
            found["rolled_back_data"] = attempt
        elif tables and allow_empty_hub:
            found["hub_data_rows"] = inventory.hub_data_rows(target, inventory.HUB_DATA_TABLES)
            holding = inventory.rows_held(found["hub_data_rows"])
            if holding:
                return found, ("the server at %s holds the data of a Hub in use (%s) that no migration put there: a "
                               "migration would replace it. Nothing was changed, nothing was stopped. Keep using that "
                               "Hub, or, once what it holds may go, remove its data and run again "
                               "(hub_force_restore: true replaces it)." % (target.describe(), holding))
            found["empty_hub"] = True
        elif tables:
            return found, ("the server at %s already holds Hub data (%d tables in schema st of bds_hub): it cannot be "
                           "the target of a migration. Use an empty server; nothing was changed."
                           % (target.describe(), tables))
    return found, None


def verify(target, data, how):
    """(per database results, every difference, per role how its password compared) of the server against the dump
    (data: its manifest), as how (a Comparison) says. A query that failed because the
    database's container or pod went away meanwhile says so (its own words are rarely about the cause)."""
    try:
        return _compare(target, data, how)
    except (CommandError, TargetError) as exc:
        raise stopped_because(target, "the verification stopped because %(gone)s while it ran (%(detail)s). Nothing "
                              "was changed by it; start the database again and run again: it compares anew.",
                              str(exc)) or exc


def _compare(target, data, p):  # p: a Comparison
    live_dbs = inventory.databases(target)
    names = p.databases or sorted(data["databases"])
    out, diffs = {}, []
    for name in names:
        expected = data["databases"].get(name)
        if expected is None:
            raise ValueError("database %s is not in the dump" % name)
        if name not in live_dbs:
            diffs.append({"kind": "missing_database", "object": name, "expected": name, "actual": None,
                          "detail": "database is missing on the target"})
            out[name] = {"marker": None, "tables": [], "differences": diffs[-1:]}
            continue
        marker = inventory.read_marker(live_dbs[name]["comment"])
        db_diffs = []
        if p.require_marker and not (marker and marker.get("dump_id") == data["dump_id"] and marker.get("complete")):
            db_diffs.append({"kind": "marker", "object": name, "expected": data["dump_id"],
                             "actual": (marker or {}).get("dump_id"),
                             "detail": "the database was not (completely) restored from this dump"})
        live = inventory.database_inventory(target, name, checksums=p.checksums and p.mode == "exact",
                                            fixups=inventory.FIXUPS.get(name), jobs=p.jobs or 1)
        exp = expected if p.checksums else dict(expected, tables={
            t: dict(v, checksum=None) for t, v in expected.get("tables", {}).items()})
        found, tables = manifest.compare_database(exp, live, mode=p.mode, fixups=inventory.FIXUPS.get(name),
                                                  fixups_applied=bool(marker and marker.get("fixups")))
        db_diffs += found
        for d in db_diffs:
            d["database"] = name
        diffs += db_diffs
        out[name] = {"marker": marker, "tables": tables, "differences": db_diffs}
    roles = None
    if p.roles and data.get("roles"):
        rights = inventory.role_rights(target)
        live_roles = inventory.roles_with_passwords(target) if rights["superuser"] else inventory.roles(target)
        how = dict(passwords=p.role_passwords, skip_passwords=[rights["name"]],
                   attributes=manifest.SUPERUSER_ROLE_ATTRIBUTES if rights["superuser"] else manifest.ROLE_ATTRIBUTES)
        diffs += manifest.compare_roles(data["roles"], live_roles, **how)
        roles = manifest.role_summary(data["roles"], live_roles, how["passwords"], how["skip_passwords"])
    return out, diffs, roles
