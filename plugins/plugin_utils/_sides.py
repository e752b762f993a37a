# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two sides of a migration as the upgrade role reads them, decided once from the inventory's settings and what
``discover`` found (hub_facts): where each version's databases are (the version's own container or pod, or an external
server), the connection option the modules take to reach them, where the dump folder is mounted in each side's
database container (hub_dump_mount), each side's data as the plan and the report name it, and the keys of the hub's
lock. The settings are checked here too, each refusal saying what to set."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.blackduck.hub.plugins.filter.connection import tcp_connection
from ansible_collections.blackduck.hub.plugins.filter.k8s_manifest import config_map_data

# What of the new bundle's settings file names the external server when the inventory does not (the Hub reads the same)
ENV_SETTINGS = (("host", "HUB_POSTGRES_HOST"), ("port", "HUB_POSTGRES_PORT"), ("admin", "HUB_POSTGRES_ADMIN"),
                ("enable_ssl", "HUB_POSTGRES_ENABLE_SSL"))


class SettingsError(Exception):
    pass


# The servers the vendor's files name as examples (kubernetes-external-rds.yml as shipped): nobody's database
VENDOR_EXAMPLE_HOSTS = ("blackduck.xyzh.us-east-1.rds.amazonaws.com",)
# Kubernetes: the external-database manifest, which also carries the passwords the new Hub reads
RDS_FILE = "kubernetes-external-rds.yml"


def settings_file(new_dir, new_orchestration):
    """The new bundle's file holding HUB_POSTGRES_HOST and the like, as the new Hub reads them: hub-postgres.env, or on
    Kubernetes pods.env (the ConfigMap hub-config; kubernetes-external-rds.yml's own is left out: see rds_given)."""
    return posixpath.join(new_dir, "pods.env" if new_orchestration == "kubernetes" else "hub-postgres.env")


def rds_given(text):
    """What kubernetes-external-rds.yml gives, its text read: ``admin_password``, the content of the ConfigMap
    hpup-admin that the new Hub's pods mount as HUB_POSTGRES_ADMIN_PASSWORD_FILE (the line's end taken off; '' where
    none), and ``settings``, the data of its own ConfigMap hub-config (None where none), which the role leaves out as
    the vendor's kubectl create of both files, pods.env first, does (AlreadyExists): the Hub reads pods.env's."""
    password = (config_map_data(text, "hpup-admin") or {}).get("HUB_POSTGRES_ADMIN_PASSWORD_FILE") or ""
    return {"admin_password": password.rstrip("\r\n"), "settings": config_map_data(text, "hub-config")}


def _example_refusal(host, named_in, address):
    where = ("the new Hub's settings file %s" % named_in) if named_in != "hub_postgres_host" else named_in
    what = "HUB_POSTGRES_HOST and HUB_POSTGRES_PORT there" if named_in != "hub_postgres_host" else named_in
    return ("%s names the vendor's example database server %s: nobody's server. Set %s to the server the data goes "
            "into%s (docs/external-database.md), then run again; the Hub was not touched."
            % (where, host, what, " (%s)" % address if address else ""))


def server_settings(given, env=None, admin_password="", src=""):
    """An external server's settings: the inventory's, or where it names no host, the new bundle's settings file's
    (``src``; ``env``, already parsed; None when not read): the host from the file, the rest from the file where it
    says. ``admin_password``, the one the new bundle gives the new Hub (Kubernetes: rds_given), where the inventory
    gives none - wherever the host is named: the new Hub logs in with it to the server its settings file names, which
    step 1 checks against the inventory's (new_hub_settings). ``named_in`` says where the host was named (the file,
    or hub_postgres_host)."""
    out = dict(given, named_in="hub_postgres_host")
    if env is not None and not given.get("host"):
        out.update(host=env.get("HUB_POSTGRES_HOST", ""), named_in=src)
        for key, name in ENV_SETTINGS[1:]:
            if env.get(name):
                out[key] = env[name]
    if admin_password and not _has_password(given):
        out["admin_password"] = admin_password
    return out


def unused_said(unused, host, port="5432"):
    """'' or what to say of settings the role leaves out (kubernetes-external-rds.yml's own hub-config, rds_given)
    where they name another server than the file the new Hub reads (host, port; an empty host: none)."""
    other = ((unused or {}).get("HUB_POSTGRES_HOST") or "").strip()
    other_port = ((unused or {}).get("HUB_POSTGRES_PORT") or "").strip() or "5432"
    if not other or other.lower() in VENDOR_EXAMPLE_HOSTS or (other.lower(), other_port) == (host.lower(), port):
        return ""
    return ("%s's own ConfigMap hub-config names the database server %s:%s, and is left out: as the vendor's "
            "kubectl create of both files (pods.env first) leaves it, the new Hub reads pods.env's" % (
                RDS_FILE, other, other_port))


def new_hub_settings(server, env, src, unused=None):
    """What the new Hub itself will read to find its external server - the new bundle's settings file ``src``
    (``env``, parsed; None when it could not be read: no file named) - against ``server``, where the data goes: a
    refusal where the file names no server, or the vendor's example (the new Hub started at step 9 would find
    nothing), a note where it names another host or port (maybe the same server by another name, as the Hub's
    containers or pods resolve it). ``unused``: settings the role leaves out (kubernetes-external-rds.yml's own
    hub-config, rds_given), said where they name another server than the file."""
    if env is None:
        return {"file": "", "refusal": "", "note": ""}
    out = {"file": src, "refusal": "", "note": ""}
    host, port = env.get("HUB_POSTGRES_HOST", "").strip(), env.get("HUB_POSTGRES_PORT", "").strip() or "5432"
    address = "%s:%s" % (server.get("host"), server.get("port") or 5432)
    if not host:
        out["refusal"] = (
            "the new Hub's settings file %s names no database server (HUB_POSTGRES_HOST is empty): the new Hub started "
            "at step 9 would not find the data restored into %s. Set HUB_POSTGRES_HOST and HUB_POSTGRES_PORT there to "
            "that server (docs/external-database.md), then run again; the Hub was not touched." % (src, address))
    elif host.lower() in VENDOR_EXAMPLE_HOSTS:
        out["refusal"] = _example_refusal(host, src, address)
    elif "%s:%s" % (host.lower(), port) != address.lower():
        out["note"] = ("the new Hub's settings file %s names the database server %s:%s and the data goes into %s "
                       "(hub_postgres_host, hub_postgres_port): the same server under another name, or the new Hub "
                       "will not find its data at step 9" % (src, host, port, address))
    said = unused_said(unused, host, port)
    if said:
        if out["refusal"]:
            out["refusal"] += " (%s: name the server in pods.env)" % said
        else:
            out["note"] = "; ".join(n for n in (out["note"], said) if n)
    return out


def _port(server, setting):
    """The server's port as a number; a refusal that names the setting when it is none."""
    port = server.get("port")
    try:
        return int(port)
    except (TypeError, ValueError):
        raise SettingsError("the port of the external server %s is not a number (%r): set %s (or HUB_POSTGRES_PORT "
                            "in the new bundle's settings file) to the server's port, such as 5432; nothing was done."
                            % (server.get("host"), "" if port is None else str(port), setting))


def _connection(server, tools_path):
    return tcp_connection(server.get("host", ""), server["port"], server.get("admin") or "blackduck",
                          server.get("admin_password") or "", server.get("admin_password_file") or "",
                          server.get("enable_ssl") or False, tools_path or "")


def credential_fallback(server, setting, used=True):
    """A server's settings with the AWX credential's password as their password only where nothing else gives one -
    the inventory's password or password file, or on Kubernetes the new bundle's (server_settings) - and without the
    key ``credential_password_file``: the file (on the controller, named by the environment variable ``setting``,
    docs/awx.md) is read only then, and for a server named (a host) that the run ``used`` (the new one: with
    hub_database external), so a hub with a password of its own, or whose database is its own container, never
    needs it."""
    out = dict((k, v) for k, v in server.items() if k != "credential_password_file")
    path = server.get("credential_password_file") or ""
    if path and used and out.get("host") and not _has_password(out):
        try:
            with open(path, "rb") as handle:
                password = handle.read().decode("utf-8").rstrip()
        except (IOError, OSError, UnicodeDecodeError) as exc:
            raise SettingsError(
                "the AWX credential's password file %s (%s, in the controller's environment) cannot be read: %s. The "
                "inventory gives this server no password of its own, so the run needs it: attach the credential to "
                "the job again (or unset %s and give the hub's password in the inventory); nothing was done."
                % (path, setting, getattr(exc, "strerror", None) or exc, setting))
        out["admin_password"] = password
    return out


def _has_password(server):
    return bool(server.get("admin_password") or server.get("admin_password_file"))


def data_label(data):
    """How the plan and the report name a side's data: the volume, claim or server's name, or the folder."""
    return (data or {}).get("name") or (data or {}).get("path") or ""


def data_measure(data):
    """How step 1 measures a side's database (blackduck.hub.disk_space's options): the real usage of its volume or
    folder on this host; a claim (its folder may be on another node) or a server by the server's own count."""
    kind = (data or {}).get("kind")
    if kind == "volume":
        return {"volume": data["name"]}
    if kind == "path":
        return {"data_path": data["path"]}
    return {"database_size_from": "server"}


def check_dump_dir(dump_dir, stat):
    """Refuses a dump folder that is a file, or one this play may not write (``stat``: the stat module's)."""
    if not stat.get("exists"):
        return
    if not stat.get("isdir") or not stat.get("writeable"):
        raise SettingsError(
            "hub_dump_dir %s is %s: the dump, the state file and the report of the run go into that folder (made if "
            "missing). Name another folder, or move the file away, or run as a user that may write there (become); "
            "nothing was done." % (dump_dir, "a file, not a folder" if not stat.get("isdir")
                                   else "a folder this play may not write"))


def mount_setting(value):
    """hub_dump_mount as given: V(auto) (the default), or a boolean (true, false, yes, no, ...)."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise SettingsError("hub_dump_mount is '%s': set it to auto (the dump folder mounted into the database containers "
                            "wherever it can be), true (mounted, refused where it cannot be) or false (streamed "
                            "through docker exec / kubectl exec); nothing was done." % value)


def _mount_hindrance(facts, side, orchestration, external, dump_dir):
    """Why auto does not mount the dump folder into one side's database container, in words; "" when nothing
    hinders. hub_dump_mount: true overrides what only discover sees (the engine's SELinux, a claim's node)."""
    if external:
        return "the %s database is an external server" % side
    if not posixpath.isabs(dump_dir):
        return "hub_dump_dir (%s) is not an absolute path" % dump_dir
    data = facts.get(side + "_data") or {}
    if orchestration == "kubernetes" and data.get("kind") != "path":
        return "the %s database keeps its data on a claim: its pod may run on another node than this host" % side
    if orchestration == "kubernetes" and facts.get("node_selinux_enforcing") in (True, "True", "true"):
        return "this node enforces SELinux: the database pod would not read a lent folder that is not labelled for it"
    if orchestration in ("compose", "swarm", "docker_run"):
        engine = sorted(set(o.split(",")[0][5:] for o in facts.get("docker_security_options") or []
                            if o.split(",")[0] in ("name=selinux", "name=userns", "name=rootless")))
        if engine:
            return ("the Docker engine runs with %s: the container would not read a lent folder as the host "
                    "has it" % " and ".join(engine))
    return ""


def dump_transfer(dump_mount, facts, orchestration, new_orchestration, source_external, database, dump_dir,
                  target="/blackduck-hub-dump"):
    """How the data moves (hub_dump_mount): per side where the dump folder is mounted in its database container
    (empty: not mounted), the dump's format (directory: pg_dump --jobs writes the files itself; custom: streamed),
    and why, in words, for the plan. auto mounts the folder where both ends can use it - the old database's
    container, and the new one's or an external server (whose tools run on this host) - and streams otherwise;
    true mounts it wherever there is a container (refused with a relative hub_dump_dir); false streams."""
    setting = mount_setting(dump_mount)
    old_why = _mount_hindrance(facts, "old", orchestration, source_external, dump_dir)
    new_why = "" if database == "external" else _mount_hindrance(facts, "new", new_orchestration, False, dump_dir)
    if setting is False:
        return {"old": "", "new": ""}, "custom", "streamed (hub_dump_mount is false)"
    if setting is True:
        if not posixpath.isabs(dump_dir):  # the one hindrance true cannot override (an external side has no container)
            raise SettingsError(
                "hub_dump_mount mounts hub_dump_dir/dump into the old and the new database containers, which needs an "
                "absolute hub_dump_dir (here %s). Set hub_dump_mount to false (the dump is then streamed through "
                "docker exec / kubectl exec), or give an absolute path; nothing was done." % dump_dir)
    elif old_why or new_why:
        return {"old": "", "new": ""}, "custom", "streamed, custom format (%s)" % (old_why or new_why)
    # an old external server has an external new one (refused otherwise): no container of it is mounted
    mounts = {"old": "" if source_external else target, "new": target if database == "internal" else ""}
    return mounts, "directory", "directory format, %s" % (
        "the dump folder mounted into both versions' database containers" if mounts["new"]
        else "the dump folder mounted into the old database container, read on this host by the new server's "
             "pg_restore" if mounts["old"]
        else "written and read by the tools on this host")


def stream_hindrance(orchestration, new_orchestration, database, apart=""):
    """Why the old and the new databases cannot run side by side for hub_transfer: stream, in words; "" when they
    can - the new one is an external server, a Kubernetes pod beside an old Docker hub's container, or both are
    containers of one orchestration that runs the old one apart (``apart``: hub_facts.old_apart_project)."""
    if database == "external" or (new_orchestration == "kubernetes" and orchestration != "kubernetes"):
        return ""
    if new_orchestration == orchestration:
        return "" if apart else "both are database containers of %s, under the names of the same hub" % orchestration
    return "an old %s hub's and a new %s hub's containers would meet on one Docker engine" % (
        orchestration, new_orchestration)


def transfer_setting(transfer, orchestration, new_orchestration, database, apart=""):
    """hub_transfer as given: file (the dump, the default) or stream (refused where the sides cannot run together)."""
    if transfer not in ("file", "stream"):
        raise SettingsError("hub_transfer is '%s': set it to file (a dump in hub_dump_dir, restored after; the default) "
                            "or stream (each database piped from the old database into the new one, no dump file); "
                            "nothing was done." % transfer)
    why = stream_hindrance(orchestration, new_orchestration, database, apart) if transfer == "stream" else ""
    if why:
        raise SettingsError("hub_transfer: stream needs the old and the new database running side by side, which the "
                            "collection does so far where the new database is an external server (hub_database: "
                            "external), a Kubernetes pod beside an old Docker hub, or a container of the same Compose "
                            "hub (the old one under a project of its own); here %s. Set hub_transfer: file (the "
                            "default: a dump, restored after); nothing was done." % why)
    return transfer


def apart_hindrance(facts, dump_dir):
    """Refuse a stream whose old database would run apart (hub_facts.old_apart_project) where it cannot: both
    versions keep their data in the same volume (the new database would start on the old data beside the old one),
    or the override file that pins the volumes would have no absolute folder (hub_dump_dir)."""
    old, new = facts.get("old_data") or {}, facts.get("new_data") or {}
    if old.get("name") and old.get("name") == new.get("name"):
        raise SettingsError("hub_transfer: stream starts the new database beside the old one, and both versions keep "
                            "their data in %s here: two databases would run on the same data. Set hub_transfer: file "
                            "(the default); nothing was done." % old["name"])
    if not posixpath.isabs(dump_dir or ""):
        raise SettingsError("hub_transfer: stream runs the old database apart with an override file written in "
                            "hub_dump_dir, which needs an absolute path (here %s). Set hub_dump_dir to an absolute "
                            "folder; nothing was done." % (dump_dir or "empty"))


def sides(facts, orchestration, new_orchestration, database, postgres, old_postgres, old_db_container="",
          tools_path="", dump_dir="", dump_mount="auto", dump_mount_target="/blackduck-hub-dump", transfer="file",
          settings_env=None, settings_src="", unused_settings=None):
    """The facts the upgrade role reads (see the hub_sides action's RETURN). ``postgres`` is the new external server's
    settings (after server_settings), ``old_postgres`` the old external server's (no host: the old Hub's own);
    ``settings_env`` the new bundle's settings file ``settings_src`` (settings_file), parsed (None: not read);
    ``unused_settings`` what the role leaves out (rds_given's settings)."""
    source_external = bool(old_postgres.get("host"))
    if database == "external" and postgres.get("host"):
        postgres = dict(postgres, port=_port(postgres, "hub_postgres_port"))
    if source_external:
        old_postgres = dict(old_postgres, port=_port(old_postgres, "hub_old_postgres_port"))
    old_address = "%s:%s" % (old_postgres.get("host", ""), old_postgres.get("port") or 5432)
    new_address = "%s:%s" % (postgres.get("host", ""), postgres.get("port") or 5432)
    if database == "internal":
        target = facts["new_db"]
    else:
        if not postgres.get("host") or not _has_password(postgres):
            said = unused_said(unused_settings, postgres.get("host") or "")
            raise SettingsError(
                "hub_database is external: set hub_postgres_host (HUB_POSTGRES_HOST; or HUB_POSTGRES_HOST in the new "
                "bundle's hub-postgres.env, pods.env on Kubernetes) and the "
                "admin role's password (hub_postgres_admin_password_file, like HUB_POSTGRES_ADMIN_PASSWORD_FILE, or "
                "hub_postgres_admin_password; on Kubernetes, or the ConfigMap hpup-admin of "
                "kubernetes-external-rds.yml; from AWX, HUB_NEW_POSTGRES_ADMIN_PASSWORD_FILE of its credential)."
                + (" (%s: name the server in pods.env)" % said if said else ""))
        if postgres["host"].lower() in VENDOR_EXAMPLE_HOSTS:  # refused before any connection is tried
            raise SettingsError(_example_refusal(postgres["host"], postgres.get("named_in") or "hub_postgres_host", ""))
        target = _connection(postgres, tools_path)
    if source_external:
        source = _connection(old_postgres, tools_path)
    else:
        source = dict(facts["old_db"], **({"container": old_db_container} if old_db_container else {}))
    apart = ""
    if transfer_setting(transfer, orchestration, new_orchestration, database,
                        facts.get("old_apart_project", "")) == "stream":
        mounts, dump_format, transfer = {"old": "", "new": ""}, "stream", (
            "streamed from the old database straight into the new one, no dump file (hub_transfer: stream)")
        if database == "internal" and orchestration == new_orchestration and not source_external:
            # both databases are containers of one orchestration: the old one runs apart, under a project of its own
            apart = facts["old_apart_project"]
            apart_hindrance(facts, dump_dir)
            source = dict(source, project=apart)
            source.pop("container", None)  # hub_old_db_container names one under the hub's project
            transfer += "; the old database runs apart, as project %s, on the old data" % apart
    else:
        mounts, dump_format, transfer = dump_transfer(dump_mount, facts, orchestration, new_orchestration,
                                                      source_external, database, dump_dir, dump_mount_target)
    if source_external and (database != "external" or not _has_password(old_postgres)
                            or old_address.lower() == new_address.lower()):
        raise SettingsError(
            "hub_old_postgres_host is set (the old Hub runs on the external server %s): the new database must then be "
            "another external server (hub_database: external, hub_postgres_host and hub_postgres_port naming the new "
            "server, not the old one), and the old server's admin password must be given "
            "(hub_old_postgres_admin_password_file, or HUB_OLD_POSTGRES_ADMIN_PASSWORD_FILE from an AWX credential)."
            % old_address)
    if source_external:
        old_data = {"kind": "server", "name": old_address, "exists": True,
                    "remove_hint": "nothing on this host: retire the old external server %s when you no longer need "
                                   "it" % old_address}
    else:
        old_data = dict(facts["old_data"], remove_hint=facts.get("remove_old_data_hint", ""))
    new_data = dict(facts["new_data"])
    old_data["label"], new_data["label"] = data_label(old_data), data_label(new_data)
    old_data["measure"] = data_measure(old_data)
    # an external server is a lock key too (its host as DNS compares it: in lower case): two hubs cannot migrate from,
    # or into, one server at once - the second would take the first one's databases for its own
    locks = [facts["old_lock_key"], facts["new_lock_key"]] + [
        "postgres:" + address.lower() for address, external in ((old_address, source_external),
                                                                (new_address, database == "external")) if external]
    if apart and facts.get("old_apart_lock_key"):  # the project the old database runs under, named like a hub's
        locks.append(facts["old_apart_lock_key"])
    return {
        "hub_source_db": source,
        "hub_target_db": target,
        "hub_source_external": source_external,
        "hub_old_database": "external" if source_external else "internal",
        "hub_new_space_elsewhere": database == "external" or new_data.get("kind") == "claim",
        "hub_data": {"old": old_data, "new": new_data},
        "hub_dump_mounts": mounts,
        "hub_dump_format": dump_format,
        "hub_dump_transfer": transfer,
        "hub_old_apart_project": apart,
        "hub_lock_keys": sorted(set(locks), key=locks.index),
        "hub_new_settings": new_hub_settings(postgres, settings_env if database == "external" else None, settings_src,
                                             unused_settings),
    }
