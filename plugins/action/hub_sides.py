# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two sides of a migration, decided once (plugin_utils/_sides.py): reads what it needs of the managed host (the new
bundle's settings file with an external server: the server when the inventory names none, and what the new Hub will
read; the dump folder's stat) through modules, and
returns them as ``sides`` (the role sets them as facts: set_fact keeps them for the run only, never in a fact cache).
They hold the connections' passwords: the result is marked no_log, a refusal is not (it holds none)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import posixpath

from ansible.module_utils.common.parameters import env_fallback

from ansible_collections.blackduck.hub.plugins.filter.k8s_manifest import settings_of
from ansible_collections.blackduck.hub.plugins.plugin_utils._action import HubAction
from ansible_collections.blackduck.hub.plugins.plugin_utils._sides import (
    RDS_FILE, SettingsError, check_dump_dir, credential_fallback, rds_given, server_settings, settings_file, sides)

# where an AWX credential names its password files (docs/awx.md), in the controller's environment
CREDENTIAL_ENV = {"new": "HUB_NEW_POSTGRES_ADMIN_PASSWORD_FILE", "old": "HUB_OLD_POSTGRES_ADMIN_PASSWORD_FILE"}


def _server(side):
    return {"type": "dict", "default": {}, "options": {
        "host": {"type": "str", "default": ""},
        "port": {"type": "raw", "default": 5432},
        "admin": {"type": "str", "default": "blackduck"},
        "admin_password": {"type": "str", "default": "", "no_log": True},
        "admin_password_file": {"type": "str", "default": ""},
        # an AWX credential's file on the controller, the fleet's default: read only where nothing else gives a password
        "credential_password_file": {"type": "str", "fallback": (env_fallback, [CREDENTIAL_ENV[side]])},
        "enable_ssl": {"type": "raw", "default": False},
    }}


ARGUMENT_SPEC = {
    "facts": {"type": "dict", "required": True},
    "orchestration": {"type": "str", "required": True},
    "new_orchestration": {"type": "str"},
    "database": {"type": "str", "default": "internal", "choices": ["internal", "external"]},
    "postgres": _server("new"),
    "old_postgres": _server("old"),
    "old_db_container": {"type": "str", "default": ""},
    "tools_path": {"type": "str", "default": ""},
    "dump_dir": {"type": "str", "required": True},
    "dump_mount": {"type": "raw", "default": "auto"},
    "dump_mount_target": {"type": "str", "default": "/blackduck-hub-dump"},
    "transfer": {"type": "str", "default": "file"},
}


class ActionModule(HubAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def _module(self, name, module_args, task_vars):
        return self._execute_module(module_name=name, module_args=module_args, task_vars=task_vars)

    def _read(self, path, task_vars):
        """A file of the managed host as text; None where it cannot be read."""
        read = self._module("ansible.builtin.slurp", {"src": path}, task_vars)
        return base64.b64decode(read["content"]).decode("utf-8", "replace") if read.get("content") else None

    def run(self, tmp=None, task_vars=None):
        result, args = self.begin(tmp, task_vars)
        new_orchestration = args["new_orchestration"] or args["orchestration"]
        env, src, rds = None, "", {"admin_password": "", "settings": None}
        if args["database"] == "external":  # the server when the inventory names none; always, what the new Hub reads
            new_dir = args["facts"].get("new_dir", "")
            src = settings_file(new_dir, new_orchestration)
            text = self._read(src, task_vars)
            env = settings_of(text) if text is not None else None
            if new_orchestration == "kubernetes":  # the passwords the new Hub reads, and the hub-config left out
                text = self._read(posixpath.join(new_dir, RDS_FILE), task_vars)
                rds = rds_given(text) if text is not None else rds
        try:
            facts = sides(args["facts"], args["orchestration"], new_orchestration, args["database"],
                          credential_fallback(server_settings(args["postgres"], env, rds["admin_password"], src),
                                              CREDENTIAL_ENV["new"], args["database"] == "external"),
                          credential_fallback(args["old_postgres"], CREDENTIAL_ENV["old"]),
                          args["old_db_container"], args["tools_path"], args["dump_dir"], args["dump_mount"], args["dump_mount_target"],
                          args.get("transfer") or "file", env, src, rds["settings"])
            stat = self._module("ansible.builtin.stat", {"path": args["dump_dir"], "get_checksum": False}, task_vars)
            if stat.get("failed"):
                raise SettingsError("hub_dump_dir %s cannot be looked at: %s" % (args["dump_dir"], stat.get("msg")))
            check_dump_dir(args["dump_dir"], stat.get("stat") or {})
        except SettingsError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(sides=facts, changed=False, _ansible_no_log=True,
                      msg="old: %s database%s; new: %s database%s" % (
                          facts["hub_old_database"], ", dump folder mounted" if facts["hub_dump_mounts"]["old"] else "",
                          args["database"], ", dump folder mounted" if facts["hub_dump_mounts"]["new"] else ""))
        return result
