# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A live server compared with a dump's manifest (db_verify): per database its restore marker, tables, sequences,
large objects and object counts; the roles with their attributes and passwords."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.blackduck.hub.plugins.module_utils import _inventory as inventory
from ansible_collections.blackduck.hub.plugins.module_utils import _manifest as manifest


def verify(target, data, p):
    """(per database results, every difference, per role how its password compared) - p holds db_verify's
    options: databases, mode, checksums, require_marker, roles, role_passwords."""
    live_dbs = inventory.databases(target)
    names = p["databases"] or sorted(data["databases"])
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
        if p["require_marker"] and not (marker and marker.get("dump_id") == data["dump_id"] and marker.get("complete")):
            db_diffs.append({"kind": "marker", "object": name, "expected": data["dump_id"],
                             "actual": (marker or {}).get("dump_id"),
                             "detail": "the database was not (completely) restored from this dump"})
        live = inventory.database_inventory(target, name, checksums=p["checksums"] and p["mode"] == "exact",
                                            fixups=inventory.FIXUPS.get(name))
        exp = expected if p["checksums"] else dict(expected, tables={
            t: dict(v, checksum=None) for t, v in expected.get("tables", {}).items()})
        found, tables = manifest.compare_database(exp, live, mode=p["mode"], fixups=inventory.FIXUPS.get(name),
                                                  fixups_applied=bool(marker and marker.get("fixups")))
        db_diffs += found
        for d in db_diffs:
            d["database"] = name
        diffs += db_diffs
        out[name] = {"marker": marker, "tables": tables, "differences": db_diffs}
    roles = None
    if p["roles"] and data.get("roles"):
        rights = inventory.role_rights(target)
        live_roles = inventory.roles_with_passwords(target) if rights["superuser"] else inventory.roles(target)
        how = dict(passwords=p["role_passwords"], skip_passwords=[rights["name"]],
                   attributes=manifest.SUPERUSER_ROLE_ATTRIBUTES if rights["superuser"] else manifest.ROLE_ATTRIBUTES)
        diffs += manifest.compare_roles(data["roles"], live_roles, **how)
        roles = manifest.role_summary(data["roles"], live_roles, how["passwords"], how["skip_passwords"])
    return out, diffs, roles
