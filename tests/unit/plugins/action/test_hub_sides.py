"""plugins/action/hub_sides.py and plugin_utils/_sides.py: the two sides of a migration decided once - databases,
connections, dump mounts, the data's names, the lock keys - and each refusal of settings that cannot work."""
import base64
import re

import pytest

from ansible_collections.blackduck.hub.plugins.action import hub_sides as action
from ansible_collections.blackduck.hub.plugins.plugin_utils import _sides
from ansible_collections.blackduck.hub.plugins.plugin_utils._sides import SettingsError

FACTS = {
    "old_db": {"type": "docker", "container": "hub_postgres_1"},
    "new_db": {"type": "docker", "container": "hub_postgres_1", "tools_image": "blackducksoftware/blackduck-postgres:9.6-1.0"},
    "old_data": {"kind": "volume", "name": "hub_postgres96-data", "exists": True},
    "new_data": {"kind": "volume", "name": "hub_postgres96-data-2", "exists": False},
    "new_dir": "/opt/hub/4.2.1/docker-compose",
    "old_lock_key": "docker:engine1:compose:hub",
    "new_lock_key": "docker:engine1:compose:hub",
    "remove_old_data_hint": "docker volume rm hub_postgres96-data",
}
NOBODY = {"host": "", "port": 5432, "admin": "blackduck", "admin_password": "", "admin_password_file": "",
          "enable_ssl": False}
NEW_SERVER = dict(NOBODY, host="db96.example.com", admin_password_file="/etc/hub/admin")
OLD_SERVER = dict(NOBODY, host="db94.example.com", admin_password="old-secret")


def decide(**kw):
    args = dict(facts=FACTS, orchestration="compose", new_orchestration="compose", database="internal",
                postgres=NOBODY, old_postgres=NOBODY, dump_dir="/var/backups/hub")
    args.update(kw)
    return _sides.sides(**args)


def test_both_sides_the_hubs_own_databases():
    out = decide(old_db_container="hub-old-db")
    assert out["hub_source_db"] == dict(FACTS["old_db"], container="hub-old-db")
    assert out["hub_target_db"] == FACTS["new_db"]
    assert (out["hub_source_external"], out["hub_old_database"], out["hub_new_space_elsewhere"]) == (
        False, "internal", False)
    assert out["hub_data"]["old"] == dict(FACTS["old_data"], label="hub_postgres96-data",
                                          remove_hint="docker volume rm hub_postgres96-data",
                                          measure={"volume": "hub_postgres96-data"})
    assert out["hub_data"]["new"]["label"] == "hub_postgres96-data-2"
    assert out["hub_dump_mounts"] == {"old": "/blackduck-hub-dump", "new": "/blackduck-hub-dump"}  # auto: mounted
    assert out["hub_dump_format"] == "directory"
    assert out["hub_lock_keys"] == ["docker:engine1:compose:hub"]  # one hub: one key, once
    assert "remove_hint" not in FACTS["old_data"] and "label" not in FACTS["new_data"]  # hub_facts left as discover set


def test_a_folder_names_the_data_and_a_claim_is_space_elsewhere():
    facts = dict(FACTS, old_data={"kind": "path", "path": "/var/lib/hub/pg", "exists": True},
                 new_data={"kind": "claim", "name": "blackduck-postgres", "exists": False})
    out = decide(facts=facts, new_orchestration="kubernetes")
    assert out["hub_data"]["old"]["label"] == "/var/lib/hub/pg" and out["hub_new_space_elsewhere"] is True
    assert out["hub_data"]["old"]["measure"] == {"data_path": "/var/lib/hub/pg"}  # its real usage on this host


def test_a_claim_is_measured_by_its_server():
    """A claim's folder may be on another node: the upgrade role measures it by the server, as hub_sides says."""
    facts = dict(FACTS, old_data={"kind": "claim", "name": "blackduck-postgres", "exists": True})
    out = decide(facts=facts, orchestration="kubernetes", new_orchestration="kubernetes")
    assert out["hub_data"]["old"]["measure"] == {"database_size_from": "server"}
    assert "measure" not in out["hub_data"]["new"]


def test_the_new_external_server():
    out = decide(database="external", postgres=dict(NEW_SERVER, enable_ssl="'true'", port="5433"))
    assert out["hub_target_db"] == {"type": "tcp", "host": "db96.example.com", "port": 5433, "user": "blackduck",
                                    "sslmode": "require", "password_file": "/etc/hub/admin"}
    assert out["hub_new_space_elsewhere"] is True and out["hub_source_db"] == FACTS["old_db"]


def test_the_credentials_password_is_the_last_resort(tmp_path):
    """A fleet's AWX credential gives every hub a password by default (docs/awx.md); a hub's own password or password
    file (at any level of the inventory), or on Kubernetes the new bundle's password, is used instead of it - the
    credential's file not even read. Where nothing else gives one, the credential's is used (read on the controller,
    as lookup('file') reads it: its trailing newline dropped); the old server's the same. A password and a file both
    given: both handed on, the module reads the password (its rule)."""
    cred = tmp_path / "cred"
    cred.write_text("the-credentials\n")
    fallback = _sides.credential_fallback
    alone = fallback(dict(NOBODY, host="db96", credential_password_file=str(cred)), "HUB_NEW_X")
    assert alone["admin_password"] == "the-credentials" and "credential_password_file" not in alone
    gone = str(tmp_path / "gone")  # a stale environment variable: harmless where the hub gives its own password
    for own in ({"admin_password": "mine"}, {"admin_password_file": "/etc/hub/admin"}):
        for path in (str(cred), gone):
            server = fallback(dict(NOBODY, host="db96", credential_password_file=path, **own), "HUB_NEW_X")
            assert server["admin_password"] == own.get("admin_password", "") and "credential_password_file" not in server
            out = decide(database="external", postgres=server)
            assert "the-credentials" not in str(out["hub_target_db"])
    with pytest.raises(SettingsError, match=r"^the AWX credential's password file %s \(HUB_NEW_X, in the controller's "
                       r"environment\) cannot be read: No such file or directory\. .* unset HUB_NEW_X and give the "
                       r"hub's password in the inventory\); nothing was done\.$" % re.escape(gone)):
        fallback(dict(NOBODY, host="db96", credential_password_file=gone), "HUB_NEW_X")
    # no server named: the hub's database is its own container (the old one always but from an old external server);
    # or a server named (a group's hub_postgres_host) for a hub whose new database is its own (hub_database internal)
    assert fallback(dict(NOBODY, credential_password_file=gone), "HUB_OLD_X") == NOBODY
    assert fallback(dict(NOBODY, host="db96", credential_password_file=gone), "HUB_NEW_X", False) == dict(NOBODY, host="db96")
    # on Kubernetes the bundle's password (hpup-admin) is the hub's own: before the credential's
    given = _sides.server_settings(dict(NOBODY, host="db96", credential_password_file=gone), {}, "from-bundle", "x")
    assert fallback(given, "HUB_NEW_X")["admin_password"] == "from-bundle"
    both = fallback(dict(NEW_SERVER, admin_password="pw", credential_password_file=str(cred)), "HUB_NEW_X")
    assert decide(database="external", postgres=both)["hub_target_db"]["password"] == "pw"
    old = fallback(dict(OLD_SERVER, admin_password="", admin_password_file="/etc/hub/old",
                        credential_password_file=str(cred)), "HUB_OLD_X")
    out = decide(database="external", postgres=NEW_SERVER, old_postgres=old)
    assert out["hub_source_db"]["password_file"] == "/etc/hub/old" and "password" not in out["hub_source_db"]
    old = fallback(dict(OLD_SERVER, admin_password="", credential_password_file=str(cred)), "HUB_OLD_X")
    assert decide(database="external", postgres=NEW_SERVER, old_postgres=old)["hub_source_db"]["password"] == "the-credentials"


def test_a_port_that_is_no_number_is_refused():
    with pytest.raises(SettingsError, match=r"^the port of the external server db96.example.com is not a number "
                                            r"\('54x32'\): set hub_postgres_port"):
        decide(database="external", postgres=dict(NEW_SERVER, port="54x32"))
    with pytest.raises(SettingsError, match=r"^the port of the external server db94.example.com is not a number "
                                            r"\(''\): set hub_old_postgres_port"):
        decide(database="external", postgres=NEW_SERVER, old_postgres=dict(OLD_SERVER, port=""))


@pytest.mark.parametrize("server", [NOBODY, dict(NEW_SERVER, admin_password_file="")])
def test_an_external_database_without_host_or_password_is_refused(server):
    with pytest.raises(SettingsError, match="^hub_database is external: set hub_postgres_host"):
        decide(database="external", postgres=server)


def test_the_bundles_settings_file_names_the_server_the_inventory_does_not():
    env = {"HUB_POSTGRES_HOST": "rds.example.com", "HUB_POSTGRES_PORT": "6543", "HUB_POSTGRES_ADMIN": "admin",
           "HUB_POSTGRES_ENABLE_SSL": "true"}
    given = dict(NOBODY, admin_password="pw")
    src = "/b/kubernetes/pods.env"
    assert _sides.server_settings(given, env, "", src) == dict(given, host="rds.example.com", port="6543", admin="admin",
                                                               enable_ssl="true", named_in=src)
    mine = dict(given, host="mine")  # the inventory wins
    assert _sides.server_settings(mine, env, "", src) == dict(mine, named_in="hub_postgres_host")
    assert _sides.server_settings(given, {})["host"] == ""
    assert _sides.server_settings(given, None) == dict(given, named_in="hub_postgres_host")
    # the bundle's admin password (the one the new Hub logs in with) where the inventory gives none, whether the
    # server is the bundle's or the inventory's, and when the settings file could not be read - never over the
    # inventory's password or password file
    for own in ({}, {"host": "db96"}):
        for file_env in (env, None):
            assert _sides.server_settings(dict(NOBODY, **own), file_env, "from-file", src)["admin_password"] == "from-file"
    for own in ({"admin_password": "mine"}, {"admin_password_file": "/etc/hub/admin"}):
        for server in (dict(NOBODY, **own), dict(NOBODY, host="db96", **own)):
            assert _sides.server_settings(server, env, "from-file", src)["admin_password"] == own.get("admin_password", "")
    assert _sides.settings_file("/b/kubernetes", "kubernetes") == "/b/kubernetes/pods.env"
    assert _sides.settings_file("/b/docker-compose", "compose") == "/b/docker-compose/hub-postgres.env"


def test_what_kubernetes_external_rds_gives():
    rds = ("kind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: hpup-admin}\n  data:\n"
           "    HUB_POSTGRES_ADMIN_PASSWORD_FILE: |\n      pw one  \n"
           "- kind: ConfigMap\n  metadata: {name: hub-config}\n  data: {HUB_POSTGRES_HOST: db96, HUB_POSTGRES_PORT: 5433}\n")
    assert _sides.rds_given(rds) == {"admin_password": "pw one  ",  # only the line's end taken off
                                     "settings": {"HUB_POSTGRES_HOST": "db96", "HUB_POSTGRES_PORT": "5433"}}
    assert _sides.rds_given("kind: List\nitems: []\n") == {"admin_password": "", "settings": None}


def test_what_the_new_hub_will_read_is_checked_against_the_server_the_data_goes_into():
    src = "/opt/hub/4.2.1/docker-compose/hub-postgres.env"
    server = dict(NEW_SERVER, port=5432)
    # the vendor's file as shipped: no server named - refused before the Hub goes down
    said = _sides.new_hub_settings(server, {"HUB_POSTGRES_HOST": "", "HUB_POSTGRES_PORT": "5432"}, src)
    assert said["file"] == src and said["note"] == ""
    assert said["refusal"] == (
        "the new Hub's settings file %s names no database server (HUB_POSTGRES_HOST is empty): the new Hub started at "
        "step 9 would not find the data restored into db96.example.com:5432. Set HUB_POSTGRES_HOST and "
        "HUB_POSTGRES_PORT there to that server (docs/external-database.md), then run again; the Hub was not touched."
        % src)
    # the same server (the name's case, the port by default): nothing to say
    assert _sides.new_hub_settings(server, {"HUB_POSTGRES_HOST": "DB96.example.com"}, src) == {
        "file": src, "refusal": "", "note": ""}
    # another name or port: maybe the same server as the Hub's containers reach it - said, not refused
    for env in ({"HUB_POSTGRES_HOST": "10.0.0.5", "HUB_POSTGRES_PORT": "5432"},
                {"HUB_POSTGRES_HOST": "db96.example.com", "HUB_POSTGRES_PORT": "6432"}):
        said = _sides.new_hub_settings(server, env, src)
        assert said["refusal"] == "" and said["note"].startswith("the new Hub's settings file %s names the database "
                                                                 "server %s:%s and the data goes into db96.example.com"
                                                                 ":5432" % (src, env["HUB_POSTGRES_HOST"],
                                                                            env["HUB_POSTGRES_PORT"]))
    assert _sides.new_hub_settings(server, None, src) == {"file": "", "refusal": "", "note": ""}  # not read
    # the vendor's example server (kubernetes-external-rds.yml as shipped) copied into the file: refused like no server
    k8s_src = "/opt/hub/4.2.1/kubernetes/pods.env"
    said = _sides.new_hub_settings(server, {"HUB_POSTGRES_HOST": "blackduck.xyzh.us-east-1.rds.amazonaws.com"}, k8s_src)
    assert said["note"] == "" and said["refusal"] == (
        "the new Hub's settings file %s names the vendor's example database server "
        "blackduck.xyzh.us-east-1.rds.amazonaws.com: nobody's server. Set HUB_POSTGRES_HOST and HUB_POSTGRES_PORT "
        "there to the server the data goes into (db96.example.com:5432) (docs/external-database.md), then run again; "
        "the Hub was not touched." % k8s_src)
    # kubernetes-external-rds.yml's own hub-config, left out: said where it names another server, not where it names
    # the same one, or the vendor's example (as shipped)
    unused = {"HUB_POSTGRES_HOST": "db96.internal", "HUB_POSTGRES_PORT": "5432"}
    said = _sides.new_hub_settings(server, {"HUB_POSTGRES_HOST": ""}, k8s_src, unused)
    assert said["refusal"].startswith("the new Hub's settings file %s names no database server" % k8s_src)
    assert said["refusal"].endswith(
        "the Hub was not touched. (kubernetes-external-rds.yml's own ConfigMap hub-config names the database server "
        "db96.internal:5432, and is left out: as the vendor's kubectl create of both files (pods.env first) leaves it, "
        "the new Hub reads pods.env's: name the server in pods.env)")
    said = _sides.new_hub_settings(server, {"HUB_POSTGRES_HOST": "db96.example.com"}, k8s_src, unused)
    assert said["refusal"] == "" and said["note"].startswith("kubernetes-external-rds.yml's own ConfigMap hub-config "
                                                             "names the database server db96.internal:5432")
    for same in ({"HUB_POSTGRES_HOST": "DB96.example.com"}, {"HUB_POSTGRES_HOST": "blackduck.xyzh.us-east-1.rds.amazonaws.com"}):
        assert _sides.new_hub_settings(server, {"HUB_POSTGRES_HOST": "db96.example.com"}, k8s_src, same)["note"] == ""
    # in the sides: with an external database, on every orchestration (the file read is the action's, see below)
    for orchestration in ("compose", "swarm", "docker_run", "kubernetes"):
        out = decide(database="external", postgres=NEW_SERVER, settings_env={"HUB_POSTGRES_HOST": ""},
                     settings_src=src, new_orchestration=orchestration)
        assert out["hub_new_settings"]["file"] == src and out["hub_new_settings"]["refusal"]
    nothing = {"file": "", "refusal": "", "note": ""}
    assert decide(settings_env={"HUB_POSTGRES_HOST": ""}, settings_src=src)["hub_new_settings"] == nothing


def test_the_vendors_example_server_is_refused_before_any_connection_is_built():
    example = dict(NEW_SERVER, host="Blackduck.xyzh.us-east-1.rds.amazonaws.com")
    src = "/opt/hub/4.2.0/kubernetes/pods.env"
    with pytest.raises(SettingsError, match=r"^the new Hub's settings file %s names the vendor's example database "
                                            r"server Blackduck\.xyzh\S+: nobody's server\. Set HUB_POSTGRES_HOST" % src):
        decide(database="external", postgres=dict(example, named_in=src), new_orchestration="kubernetes")
    with pytest.raises(SettingsError, match=r"^hub_postgres_host names the vendor's example database server "
                                            r"Blackduck\.xyzh\S+: nobody's server\. Set hub_postgres_host to"):
        decide(database="external", postgres=example)


def test_an_old_external_server_is_the_old_side():
    out = decide(database="external", postgres=NEW_SERVER, old_postgres=OLD_SERVER, old_db_container="ignored")
    assert out["hub_source_db"] == {"type": "tcp", "host": "db94.example.com", "port": 5432, "user": "blackduck",
                                    "sslmode": "disable", "password": "old-secret"}
    assert (out["hub_source_external"], out["hub_old_database"]) == (True, "external")
    assert out["hub_data"]["old"] == {
        "kind": "server", "name": "db94.example.com:5432", "exists": True, "label": "db94.example.com:5432",
        "measure": {"database_size_from": "server"},
        "remove_hint": "nothing on this host: retire the old external server db94.example.com:5432 when you no "
                       "longer need it"}
    assert out["hub_lock_keys"] == ["docker:engine1:compose:hub", "postgres:db94.example.com:5432",
                                    "postgres:db96.example.com:5432"]


def test_the_new_external_server_is_a_lock_key():
    """Two hubs migrating into one external server at once would take each other's databases for their own: the
    server is locked like the hub, its host as DNS compares it (in lower case)."""
    out = decide(database="external", postgres=dict(NEW_SERVER, host="DB96.Example.com"))
    assert out["hub_lock_keys"] == ["docker:engine1:compose:hub", "postgres:db96.example.com:5432"]
    assert decide()["hub_lock_keys"] == ["docker:engine1:compose:hub"]  # an internal database: the hub's key only


@pytest.mark.parametrize("kw", [
    {"database": "internal"},  # the new database must be another external server
    {"database": "external", "postgres": dict(NEW_SERVER, host="db94.example.com")},  # not the old one
    {"database": "external", "postgres": NEW_SERVER, "old_postgres": dict(OLD_SERVER, admin_password="")},
])
def test_an_old_external_server_needs_another_new_one_and_its_password(kw):
    kw.setdefault("old_postgres", OLD_SERVER)
    with pytest.raises(SettingsError, match=r"^hub_old_postgres_host is set \(the old Hub runs on the external server "
                                            r"db94.example.com:5432\)"):
        decide(**kw)


def test_the_dump_folder_mounted_on_each_side_with_its_own_database():
    assert decide(dump_mount=True)["hub_dump_mounts"] == {"old": "/blackduck-hub-dump", "new": "/blackduck-hub-dump"}
    out = decide(dump_mount=True, dump_mount_target="/dump", database="external", postgres=NEW_SERVER)
    assert out["hub_dump_mounts"] == {"old": "/dump", "new": ""}
    for orchestration, new_orchestration in (("swarm", "swarm"), ("compose", "kubernetes"), ("kubernetes", "kubernetes")):
        out = decide(dump_mount=True, orchestration=orchestration, new_orchestration=new_orchestration)
        assert out["hub_dump_mounts"] == {"old": "/blackduck-hub-dump", "new": "/blackduck-hub-dump"}
    out = decide(dump_mount=True, orchestration="docker_run", new_orchestration="kubernetes", database="external",
                 postgres=NEW_SERVER, old_postgres=OLD_SERVER)  # no container on either side: nothing to mount
    assert out["hub_dump_mounts"] == {"old": "", "new": ""}


MOUNTED = {"old": "/blackduck-hub-dump", "new": "/blackduck-hub-dump"}
STREAMED = {"old": "", "new": ""}


@pytest.mark.parametrize("kw, mounts, why", [
    ({}, MOUNTED, "directory format, the dump folder mounted into both versions' database containers"),
    ({"orchestration": "swarm", "new_orchestration": "swarm"}, MOUNTED, None),
    ({"new_orchestration": "kubernetes", "facts": dict(FACTS, new_data={"kind": "path", "path": "/var/pg"})}, MOUNTED,
     None),
    ({"database": "external", "postgres": NEW_SERVER}, {"old": "/blackduck-hub-dump", "new": ""},
     "directory format, the dump folder mounted into the old database container, read on this host by the new "
     "server's pg_restore"),
    # the vendor's docker-run script: the collection runs its database container with the script's own docker run
    # line, the folder added (docker_run_actions)
    ({"orchestration": "docker_run", "new_orchestration": "docker_run"}, MOUNTED,
     "directory format, the dump folder mounted into both versions' database containers"),
    ({"orchestration": "docker_run"}, MOUNTED, None),
    ({"orchestration": "docker_run", "new_orchestration": "docker_run",
      "facts": dict(FACTS, docker_security_options=["name=rootless"])}, STREAMED,
     "streamed, custom format (the Docker engine runs with rootless: the container would not read a lent folder as "
     "the host has it)"),
    ({"dump_dir": "dumps"}, STREAMED, "streamed, custom format (hub_dump_dir (dumps) is not an absolute path)"),
    ({"new_orchestration": "kubernetes", "facts": dict(FACTS, new_data={"kind": "claim", "name": "pg"})}, STREAMED,
     "streamed, custom format (the new database keeps its data on a claim: its pod may run on another node than "
     "this host)"),
    ({"facts": dict(FACTS, docker_security_options=["name=seccomp,profile=builtin", "name=selinux", "name=userns"])},
     STREAMED, "streamed, custom format (the Docker engine runs with selinux and userns: the container would not "
               "read a lent folder as the host has it)"),
    ({"new_orchestration": "kubernetes",
      "facts": dict(FACTS, new_data={"kind": "path", "path": "/var/pg"}, node_selinux_enforcing=True)}, STREAMED,
     "streamed, custom format (this node enforces SELinux: the database pod would not read a lent folder that is not "
     "labelled for it)"),
    ({"database": "external", "postgres": NEW_SERVER, "old_postgres": OLD_SERVER, "orchestration": "docker_run"},
     STREAMED, "streamed, custom format (the old database is an external server)"),
    ({"dump_mount": "no"}, STREAMED, "streamed (hub_dump_mount is false)"),
    ({"dump_mount": False}, STREAMED, None),
])
def test_auto_mounts_the_dump_folder_where_both_ends_can_use_it(kw, mounts, why):
    out = decide(**dict({"dump_mount": "auto"}, **kw))
    assert out["hub_dump_mounts"] == mounts
    assert out["hub_dump_format"] == ("directory" if mounts["old"] else "custom")
    if why:
        assert out["hub_dump_transfer"] == why


def test_true_mounts_where_only_discover_sees_a_hindrance_and_a_bad_setting_is_refused():
    facts = dict(FACTS, docker_security_options=["name=selinux"])  # the administrator labelled the folder
    assert decide(dump_mount=True, facts=facts)["hub_dump_mounts"] == MOUNTED
    with pytest.raises(SettingsError, match=r"^hub_dump_mount is 'sometimes': set it to auto"):
        decide(dump_mount="sometimes")


def test_a_dump_folder_that_cannot_be_mounted_is_refused():
    with pytest.raises(SettingsError) as err:
        decide(dump_mount=True, dump_dir="relative/dump")
    assert str(err.value).startswith("hub_dump_mount mounts hub_dump_dir/dump into the old and the new database "
                                     "containers, which needs an absolute hub_dump_dir (here relative/dump).")
    for orchestration, new_orchestration in (("docker_run", "compose"), ("compose", "docker_run")):
        assert decide(dump_mount=True, orchestration=orchestration, new_orchestration=new_orchestration)[
            "hub_dump_mounts"] == MOUNTED


@pytest.mark.parametrize("stat, said", [
    ({"exists": True, "isdir": False, "writeable": True}, "a file, not a folder"),
    ({"exists": True, "isdir": True, "writeable": False}, "a folder this play may not write"),
])
def test_a_dump_folder_that_is_a_file_or_not_writable_is_refused(stat, said):
    with pytest.raises(SettingsError, match="^hub_dump_dir /d is %s: the dump, the state file" % said):
        _sides.check_dump_dir("/d", stat)
    _sides.check_dump_dir("/d", {"exists": False})
    _sides.check_dump_dir("/d", {"exists": True, "isdir": True, "writeable": True})


# ------------------------------------------------------------------------------------------------ the action plugin

class FakeAction(action.ActionModule):
    """The action's run with the controller's plumbing replaced: validated arguments given, modules answered."""

    def __init__(self, args, answers):  # pylint: disable=super-init-not-called
        self.args, self.answers, self.calls = args, answers, []

    def begin(self, tmp, task_vars):
        args = {"new_orchestration": None, "database": "internal", "postgres": dict(NOBODY),
                "old_postgres": dict(NOBODY), "old_db_container": "", "tools_path": "", "dump_mount": False,
                "dump_mount_target": "/blackduck-hub-dump"}
        args.update(self.args)
        return {}, args

    def _execute_module(self, module_name=None, module_args=None, task_vars=None):
        self.calls.append((module_name, module_args))
        answer = self.answers[module_name]
        return answer(module_args) if callable(answer) else answer


def test_the_action_reads_the_new_bundles_settings_and_hides_its_result():
    env = "HUB_POSTGRES_HOST=rds.example.com\nHUB_POSTGRES_ENABLE_SSL='true'\n"
    act = FakeAction({"facts": FACTS, "orchestration": "compose", "database": "external", "dump_dir": "/var/b",
                      "postgres": dict(NOBODY, admin_password="s3cret")},
                     {"ansible.builtin.slurp": {"content": base64.b64encode(env.encode()).decode()},
                      "ansible.builtin.stat": {"stat": {"exists": True, "isdir": True, "writeable": True}}})
    result = act.run(task_vars={})
    assert act.calls[0] == ("ansible.builtin.slurp", {"src": "/opt/hub/4.2.1/docker-compose/hub-postgres.env"})
    assert act.calls[1][0] == "ansible.builtin.stat" and act.calls[1][1]["path"] == "/var/b"
    target = result["sides"]["hub_target_db"]
    assert (target["host"], target["sslmode"], target["password"]) == ("rds.example.com", "require", "s3cret")
    assert result["_ansible_no_log"] is True and not result.get("failed") and "s3cret" not in result["msg"]
    assert "ansible_facts" not in result  # never into a fact cache: the role set_facts them for the run
    assert result["sides"]["hub_new_settings"] == {"file": "/opt/hub/4.2.1/docker-compose/hub-postgres.env",
                                                   "refusal": "", "note": ""}
    # with the server named in the inventory, the file is read still: what the new Hub will read
    act = FakeAction({"facts": FACTS, "orchestration": "compose", "database": "external", "dump_dir": "/var/b",
                      "postgres": dict(NEW_SERVER)},
                     {"ansible.builtin.slurp": {"content": base64.b64encode(env.encode()).decode()},
                      "ansible.builtin.stat": {"stat": {"exists": True, "isdir": True, "writeable": True}}})
    result = act.run(task_vars={})
    assert act.calls[0][0] == "ansible.builtin.slurp" and result["sides"]["hub_target_db"]["host"] == "db96.example.com"
    assert "names the database server rds.example.com:5432" in result["sides"]["hub_new_settings"]["note"]


def test_the_action_refuses_in_plain_words_and_shows_it():
    act = FakeAction({"facts": FACTS, "orchestration": "compose", "dump_dir": "/var/b"},
                     {"ansible.builtin.stat": {"stat": {"exists": True, "isdir": False, "writeable": True}}})
    result = act.run(task_vars={})
    assert result["failed"] is True and "_ansible_no_log" not in result and "sides" not in result
    assert result["msg"].startswith("hub_dump_dir /var/b is a file, not a folder")
    act = FakeAction({"facts": FACTS, "orchestration": "compose", "database": "external", "dump_dir": "/var/b"},
                     {"ansible.builtin.slurp": {"failed": True, "msg": "file not found"}})
    result = act.run(task_vars={})
    assert result["failed"] is True and result["msg"].startswith("hub_database is external: set hub_postgres_host")
    assert [c[0] for c in act.calls] == ["ansible.builtin.slurp"]  # refused before looking further


@pytest.mark.parametrize("kw", [dict(database="external", postgres=NEW_SERVER),
                                dict(new_orchestration="kubernetes"),
                                dict(database="external", postgres=NEW_SERVER, old_postgres=OLD_SERVER)])
def test_a_stream_where_both_databases_run_side_by_side(kw):
    out = decide(transfer="stream", dump_mount=True, **kw)
    assert (out["hub_dump_format"], out["hub_dump_mounts"]) == ("stream", {"old": "", "new": ""})  # no dump, no mount
    assert out["hub_dump_transfer"] == ("streamed from the old database straight into the new one, no dump file "
                                        "(hub_transfer: stream)")
    assert out["hub_old_apart_project"] == ""  # the old database where it always runs
    if "old_postgres" not in kw:
        assert out["hub_source_db"] == FACTS["old_db"]


def test_a_stream_between_two_compose_hubs_runs_the_old_database_apart():
    facts = dict(FACTS, old_db={"type": "docker", "project": "hub", "hub_version": "4.1.4"},
                 old_apart_project="hub-old-db", old_apart_lock_key="docker:engine1:compose:hub-old-db")
    out = decide(transfer="stream", facts=facts)
    assert out["hub_old_apart_project"] == "hub-old-db"
    assert out["hub_lock_keys"] == ["docker:engine1:compose:hub", "docker:engine1:compose:hub-old-db"]  # as a hub's
    assert decide(transfer="file", facts=facts)["hub_lock_keys"] == ["docker:engine1:compose:hub"]
    assert out["hub_source_db"] == {"type": "docker", "project": "hub-old-db", "hub_version": "4.1.4"}
    assert out["hub_target_db"] == FACTS["new_db"]  # the new one where the Hub will run
    assert out["hub_dump_transfer"].endswith("; the old database runs apart, as project hub-old-db, on the old data")
    assert facts["old_db"]["project"] == "hub"  # hub_facts left as discover set them
    # with a file, or into an external server, the old database runs where it always does
    assert decide(transfer="file", facts=facts)["hub_source_db"]["project"] == "hub"
    ext = decide(transfer="stream", facts=facts, database="external", postgres=NEW_SERVER)
    assert (ext["hub_old_apart_project"], ext["hub_source_db"]["project"]) == ("", "hub")
    # hub_old_db_container names a container under the hub's project: not the one apart
    assert "container" not in decide(transfer="stream", facts=facts, old_db_container="hub-postgres-1")["hub_source_db"]


def test_a_stream_apart_refused_on_one_volume_or_without_an_absolute_folder():
    facts = dict(FACTS, old_db={"type": "docker", "project": "hub"}, old_apart_project="hub-old-db")
    same = dict(facts, new_data=dict(FACTS["new_data"], name=FACTS["old_data"]["name"]))  # 4.2.0 -> 4.2.1
    with pytest.raises(SettingsError, match=r"^hub_transfer: stream starts the new database beside the old one, and "
                                            r"both versions keep their data in hub_postgres96-data here: two databases"):
        decide(transfer="stream", facts=same)
    assert decide(transfer="file", facts=same)["hub_dump_format"] == "directory"  # a dump: one database at a time
    with pytest.raises(SettingsError, match=r"^hub_transfer: stream runs the old database apart with an override file "
                                            r"written in hub_dump_dir, which needs an absolute path \(here dumps\)"):
        decide(transfer="stream", facts=facts, dump_dir="dumps")


@pytest.mark.parametrize("kw, here", [
    (dict(), "here both are database containers of compose, under the names of the same hub"),
    (dict(orchestration="kubernetes", new_orchestration="kubernetes"), "both are database containers of kubernetes"),
    (dict(orchestration="swarm", new_orchestration="swarm", facts=dict(FACTS, old_apart_project="")),
     "both are database containers of swarm"),
    (dict(orchestration="docker_run"), "an old docker_run hub's and a new compose hub's containers would meet on one "
                                       "Docker engine")])
def test_a_stream_where_they_cannot_is_refused_saying_why(kw, here):
    with pytest.raises(SettingsError, match="^hub_transfer: stream needs the old and the new database running side by "
                                            "side, .*" + here + r".*Set hub_transfer: file \(the default"):
        decide(transfer="stream", **kw)
    with pytest.raises(SettingsError, match="^hub_transfer is 'pipe': set it to file"):
        decide(transfer="pipe")
    assert decide(transfer="file", **kw)["hub_dump_format"] in ("directory", "custom")  # a dump, as before


EXTERNAL_RDS = """kind: List
apiVersion: v1
items:
- apiVersion: v1
  data:
    HUB_POSTGRES_ADMIN_PASSWORD_FILE: |
      s3cret-admin
  kind: ConfigMap
  metadata:
    name: hpup-admin
- apiVersion: v1
  data:
    HUB_POSTGRES_ENABLE_SSL: "false"
    HUB_POSTGRES_HOST: %s
    HUB_POSTGRES_PORT: "5432"
  kind: ConfigMap
  metadata:
    name: hub-config
"""


def k8s_files(files):
    """slurp's answers for a Kubernetes bundle's files: {name: text}; a missing one fails as slurp does."""
    def slurp(args):
        name = args["src"].rsplit("/", maxsplit=1)[-1]
        if name not in files:
            return {"failed": True, "msg": "file not found: %s" % args["src"]}
        return {"content": base64.b64encode(files[name].encode()).decode()}
    return slurp


def test_on_kubernetes_the_action_reads_what_the_new_hub_reads():
    facts = dict(FACTS, new_dir="/opt/hub/4.2.0/kubernetes")
    stat = {"stat": {"exists": True, "isdir": True, "writeable": True}}
    pods_env = "kind: ConfigMap\nmetadata: {name: hub-config}\ndata:\n  HUB_POSTGRES_HOST: from-pods-env\n"

    def run(files, postgres):
        act = FakeAction({"facts": facts, "orchestration": "compose", "new_orchestration": "kubernetes",
                          "database": "external", "dump_dir": "/var/b", "postgres": postgres},
                         {"ansible.builtin.slurp": k8s_files(files), "ansible.builtin.stat": stat})
        return act, act.run(task_vars={})

    # pods.env's hub-config - the one the new Hub reads - and the admin password of kubernetes-external-rds.yml's
    # hpup-admin, which the Hub's pods mount; its own hub-config (the vendor's example server) left out, unsaid
    act, result = run({"kubernetes-external-rds.yml": EXTERNAL_RDS % "blackduck.xyzh.us-east-1.rds.amazonaws.com",
                       "pods.env": pods_env}, NOBODY)
    assert [c[1]["src"] for c in act.calls if c[0] == "ansible.builtin.slurp"] == [
        "/opt/hub/4.2.0/kubernetes/pods.env", "/opt/hub/4.2.0/kubernetes/kubernetes-external-rds.yml"]
    target = result["sides"]["hub_target_db"]
    assert (target["host"], target["password"]) == ("from-pods-env", "s3cret-admin")
    assert result["sides"]["hub_new_settings"] == {"file": "/opt/hub/4.2.0/kubernetes/pods.env", "refusal": "",
                                                   "note": ""}
    assert result["_ansible_no_log"] is True and "s3cret" not in result["msg"]
    # the inventory's password wins; a server the inventory names without a password takes the one the new Hub
    # logs in with (hpup-admin's), and pods.env naming another host is said, as with any password
    act, result = run({"kubernetes-external-rds.yml": EXTERNAL_RDS % "db96.internal", "pods.env": pods_env},
                      dict(NOBODY, admin_password="pw"))
    assert result["sides"]["hub_target_db"]["password"] == "pw"
    act, result = run({"kubernetes-external-rds.yml": EXTERNAL_RDS % "db96.internal", "pods.env": pods_env},
                      dict(NOBODY, host="db96.example.com"))
    target = result["sides"]["hub_target_db"]
    assert (target["host"], target["password"]) == ("db96.example.com", "s3cret-admin") and not result.get("failed")
    assert "names the database server from-pods-env:5432" in result["sides"]["hub_new_settings"]["note"]
    assert "s3cret" not in result["msg"]
    # the server named only in kubernetes-external-rds.yml's own hub-config (left out): refused, saying so
    act, result = run({"kubernetes-external-rds.yml": EXTERNAL_RDS % "db96.internal",
                       "pods.env": "kind: ConfigMap\nmetadata: {name: hub-config}\ndata: {HUB_POSTGRES_HOST: ''}\n"},
                      NEW_SERVER)
    refusal = result["sides"]["hub_new_settings"]["refusal"]
    assert "names no database server" in refusal and "names the database server db96.internal:5432" in refusal
    act, result = run({"kubernetes-external-rds.yml": EXTERNAL_RDS % "db96.internal",
                       "pods.env": "kind: ConfigMap\nmetadata: {name: hub-config}\ndata: {HUB_POSTGRES_ENABLE_SSL: 'true'}\n"},
                      NOBODY)  # no server anywhere the Hub reads: refused at once, saying where it was named
    assert result["failed"] and result["msg"].startswith("hub_database is external: set hub_postgres_host")
    assert result["msg"].endswith("(kubernetes-external-rds.yml's own ConfigMap hub-config names the database server "
                                  "db96.internal:5432, and is left out: as the vendor's kubectl create of both files "
                                  "(pods.env first) leaves it, the new Hub reads pods.env's: name the server in pods.env)")
