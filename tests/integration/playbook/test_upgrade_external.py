"""An external database (the stand-in for Amazon RDS): the gate, and the migration into it.

The target is a separate PostgreSQL container of the newer major (the lab's stand-in for 9.6) on a local address.
1) Internal old hub -> external target, end to end, verified; the new Hub runs on the external server.
2) A target of the wrong major is refused before anything is stopped: the old hub still runs, unchanged.
3) A target that already holds Hub data is refused.
4) A wrong admin password gives a clear error and leaves no secret in the output.
5) An old Hub already on an external server (of the old major) -> a new external server: dumped over TCP from the
   old server, restored and verified on the new one, the new Hub writing there; the old server is never touched,
   not even by step 11; check mode first changes nothing; a rerun changes nothing.
6) Two hubs into two external servers with different admin passwords in one run, one password from a file named
   in the inventory, the other a vault-encrypted value in a host_vars file.
7) Swarm and Kubernetes hubs into an external server (the new bundle's external-database variant); on Kubernetes,
   step 11 on request then deletes the old hostPath folder on the node, and nothing else.
"""
import json
import os
import signal
import time

import pytest

import ansible_run
import dbcheck
import hubgen
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")


state = ansible_run.state


def containers(hub):
    out = labhub.run(["docker", "ps", "-a", "--no-trunc", "--filter", "label=com.docker.compose.project=%s" % hub["project"],
                      "--format", "{{.ID}} {{.Names}} {{.State}}"])
    return sorted(out.splitlines())


ext_psql = labhub.psql  # an external server's record is one labhub.psql takes


pg_version = dbcheck.data_folder_major


def admin_password_file(tmp_path):
    """The lab servers' admin password in a 0600 file, as a user keeps HUB_POSTGRES_ADMIN_PASSWORD_FILE."""
    path = str(tmp_path / "admin-password")
    with open(path, "w") as f:
        f.write("blackduck\n")
    os.chmod(path, 0o600)
    return path


def test_external_database_gate_and_migration(lab_hubs, tmp_path):
    hub = lab_hubs("pb-ext", "compose", scale=0.5, seed=21)
    dump_root = str(tmp_path / "dumps")
    pwfile = admin_password_file(tmp_path)
    new_major = labhub.VERSIONS["PG_NEW_MAJOR"]
    servers = []

    def settings(server, **kw):
        host = {"hub_database": "external", "hub_postgres_host": server["host"], "hub_postgres_port": server["port"],
                "hub_postgres_admin_password_file": pwfile, "hub_postgres_required_major": new_major}
        host.update(kw)
        return ansible_run.hub_inventory([hub], dump_root, **{"pb-ext": host})

    try:
        labhub.compose(hub, labhub.OLD, "docker-compose.yml", "stop", "webapp")  # so the data stands still to compare
        before = containers(hub), dbcheck.fingerprint(hub)
        labhub.compose(hub, labhub.OLD, "docker-compose.yml", "start", "webapp")
        labhub.wait("the old webapp", lambda: labhub.version_endpoint(hub) == {"version": labhub.OLD}, timeout=60)
        running = containers(hub)

        # 1b) the new Hub's own settings name no server (hub-postgres.env as the vendor ships it): the new Hub would
        #     not find its data at step 9 - refused at step 1, before anything is stopped
        old_major = labhub.external_server("pb-ext-old", "old", 26511)
        servers.append("pb-ext-old")
        rc, out, recap = ansible_run.playbook(settings(old_major))
        assert rc != 0
        st = state(dump_root, "pb-ext")
        assert st["failed_step"] == 1 and "names no database server (HUB_POSTGRES_HOST is empty): the new Hub started at " \
            "step 9 would not find the data restored into %s:%d" % (old_major["host"], old_major["port"]) \
            in st["steps"]["disk_space"]["message"], st["steps"]["disk_space"]["message"]
        assert "stop_hub" not in st["steps"]
        assert containers(hub) == running and labhub.version_endpoint(hub) == {"version": labhub.OLD}
        labhub.point_bundle_at(hub, labhub.NEW, old_major)  # (the other refusals: another server only noted)

        # 2) the wrong major: refused at the gate, before anything is stopped
        rc, out, recap = ansible_run.playbook(settings(old_major))
        assert rc != 0
        st = state(dump_root, "pb-ext")
        assert st["failed_step"] == 1 and "PostgreSQL %s is required" % new_major in st["steps"]["disk_space"]["message"]
        assert "%s:%d" % (old_major["host"], old_major["port"]) in st["steps"]["disk_space"]["message"]
        assert "stop_hub" not in st["steps"]
        assert containers(hub) == running and labhub.version_endpoint(hub) == {"version": labhub.OLD}

        # 3) a target that already holds Hub data
        used = labhub.external_server("pb-ext-used", "new", 26512)
        servers.append("pb-ext-used")
        ext_psql(used, "CREATE SCHEMA IF NOT EXISTS st; CREATE TABLE st.project (id int); INSERT INTO st.project VALUES (1);")
        rc, out, recap = ansible_run.playbook(settings(used))
        assert rc != 0 and "already holds Hub data" in state(dump_root, "pb-ext")["steps"]["disk_space"]["message"]
        assert containers(hub) == running

        # 4) a wrong admin password: a clear error, and the secret nowhere in the output
        target = labhub.external_server("pb-ext-target", "new", 26513)
        servers.append("pb-ext-target")
        # (handed over as AWX does: a credential writes the password into a file and names it in the environment)
        secret = "N0t-The-Adm1n-Pw"
        awx_file = str(tmp_path / "awx-credential")
        with open(awx_file, "w") as f:
            f.write(secret)
        rc, out, recap = ansible_run.playbook(settings(target, hub_postgres_admin_password_file=""),
                                              env={"HUB_NEW_POSTGRES_ADMIN_PASSWORD_FILE": awx_file})
        assert rc != 0 and "refused the credentials" in out
        assert secret not in out and secret not in open(os.path.join(dump_root, "pb-ext", "state.json")).read()
        assert containers(hub) == running

        # 1) the migration into the external server; the Hub's own settings (hub-postgres.env) point at it. In the
        #    same run, a second hub goes into a second server whose admin password differs, kept per host in a
        #    vault-encrypted host_vars file (docs/awx.md, per-hub secrets); the fleet's AWX credential is there too,
        #    with a password that is neither server's: each hub's own password file or password wins over it (its
        #    file is not even read; nor the old server's, named by a stale variable: neither hub's old database is
        #    an external server)
        labhub.point_bundle_at(hub, labhub.NEW, target)
        hub_b = lab_hubs("pb-ext-b", "compose", scale=0.25, seed=22)
        other = labhub.external_server("pb-ext-b", "new", 26516)
        servers.append("pb-ext-b")
        other_secret = "0ther-Server-Adm1n"
        # that server is an on-premises one whose admin role is a superuser (postgres), where Amazon RDS gives a
        # CREATEROLE one (the first hub's), and the Hub's roles were made there beforehand with passwords of their
        # own: the roles' passwords can be read, those the server had are kept (hub_role_passwords: target), and
        # neither step 7 nor step 10 holds them against the dump's
        ext_psql(other, "ALTER ROLE blackduck PASSWORD '%s'; ALTER ROLE postgres PASSWORD '%s'; "
                        "ALTER ROLE blackduck_reporter PASSWORD 'its-own'" % (other_secret, other_secret), db="postgres")
        labhub.point_bundle_at(hub_b, labhub.NEW, other)
        with open(labhub.bundle_file(hub_b, labhub.NEW, "compose", "hub-postgres.env"), "a") as f:
            f.write("HUB_POSTGRES_ADMIN_PASSWORD=%s\n" % other_secret)  # the new Hub's own setting for its server
        inv = settings(target)
        inv["all"]["hosts"].update(ansible_run.hub_inventory([hub_b], dump_root, **{"pb-ext-b": {
            "hub_database": "external", "hub_postgres_host": other["host"], "hub_postgres_port": other["port"],
            "hub_postgres_admin": "postgres", "hub_postgres_required_major": new_major}})["all"]["hosts"])
        inv_dir, vault_pw = tmp_path / "inventory", tmp_path / "vault-password"
        ansible_run.vaulted_host_vars(str(inv_dir), "pb-ext-b", {"hub_postgres_admin_password": other_secret}, str(vault_pw))
        rc, out, recap = ansible_run.playbook(inv, "--vault-password-file", str(vault_pw), tmpdir=str(inv_dir),
                                              env={"HUB_NEW_POSTGRES_ADMIN_PASSWORD_FILE": awx_file,
                                                   "HUB_OLD_POSTGRES_ADMIN_PASSWORD_FILE": str(tmp_path / "gone")})
        assert rc == 0, out
        assert secret not in out and other_secret not in out and other_secret not in open(os.path.join(dump_root, "pb-ext-b", "state.json")).read()
        assert labhub.version_endpoint(hub_b) == {"version": labhub.NEW}
        b_steps = state(dump_root, "pb-ext-b")["steps"]
        assert b_steps["restore"]["data"]["target"]["port"] == other["port"] and b_steps["verify"]["status"] == "done"
        # read by the superuser, and kept as the server had it: not compared (the first hub's admin may not read them)
        assert b_steps["restore"]["data"]["roles"]["blackduck_reporter"] == "not compared (the target's passwords are kept)"
        assert int(ext_psql(other, "SELECT count(*) FROM st.project")) == hubgen.expected_row_counts(0.25, 22)["bds_hub"]["st.project"]
        st = state(dump_root, "pb-ext")
        assert st["steps"]["verify"]["status"] == "done"
        for db, v in st["steps"]["restore"]["data"]["verification"].items():
            assert v["differences"] == [], db
        assert st["steps"]["restore"]["data"]["target"]["host"] == target["host"]
        assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
        assert not labhub.containers(hub, "postgres")  # the new Hub has no database container of its own
        assert int(ext_psql(target, "SHOW server_version_num", db="postgres")) // 10000 == int(new_major)
        expected = hubgen.expected_row_counts(0.5, 21)["bds_hub"]
        assert int(ext_psql(target, "SELECT count(*) FROM st.project")) == expected["st.project"]
        assert int(ext_psql(target, "SELECT count(*) FROM st.bom_entry")) == before[1]["bds_hub"]["counts"]["st.bom_entry"]
        beats = int(ext_psql(target, "SELECT count(*) FROM st.hub_heartbeat"))
        time.sleep(3)
        assert int(ext_psql(target, "SELECT count(*) FROM st.hub_heartbeat")) > beats  # the new Hub writes there
        assert "pb-ext_data-volume" in labhub.run(["docker", "volume", "ls", "-q"]).split()  # old data kept
        rc, out, recap = ansible_run.playbook(settings(target))
        assert rc == 0 and recap["pb-ext"]["changed"] == 0, out
    finally:
        for name in servers:
            labhub.remove_external_server(name)


def test_old_external_server_to_new_external_server(lab_hubs, tmp_path):
    dump_root = str(tmp_path / "dumps")
    pwfile = admin_password_file(tmp_path)
    new_major = labhub.VERSIONS["PG_NEW_MAJOR"]
    try:
        source = labhub.external_server("pb-x2x-old", "old", 26514)
        labhub.load_data(source, 0.5, 23)
        hub = lab_hubs("pb-x2x", "compose", load=False, full=False)
        labhub.run_on_external_server(hub, labhub.OLD, source)
        target = labhub.external_server("pb-x2x-new", "new", 26515)
        labhub.point_bundle_at(hub, labhub.NEW, target)
        host = {"hub_database": "external", "hub_postgres_host": target["host"], "hub_postgres_port": target["port"],
                "hub_postgres_admin_password_file": pwfile, "hub_postgres_required_major": new_major,
                "hub_old_postgres_host": source["host"], "hub_old_postgres_port": source["port"],
                "hub_old_postgres_admin_password_file": pwfile, "hub_remove_old_data": True}
        inv = ansible_run.hub_inventory([hub], dump_root, **{"pb-x2x": host})
        assert not labhub.containers(hub, "postgres")  # the old Hub has no database container of its own

        # check mode: the plan names the old server, and nothing changes
        running = containers(hub)
        rc, out, recap = ansible_run.playbook(inv, "--check")
        assert rc == 0, out
        assert "step 3 start_old_migration: nothing to start: the old database is the external server %s:%d" % (
            source["host"], source["port"]) in out
        assert "step 11 remove_old_data: nothing on this host: retire the old external server" in out
        assert containers(hub) == running and not os.path.exists(os.path.join(dump_root, "pb-x2x", "dump"))

        # the old Hub stands still from here, to compare: its webapp stops writing (step 2 brings the rest down)
        labhub.compose(hub, labhub.OLD, "docker-compose.externaldb.yml", "stop", "webapp")
        before = dbcheck.fingerprint(source)

        rc, out, recap = ansible_run.playbook(inv)
        assert rc == 0, out
        st = state(dump_root, "pb-x2x")
        assert st["steps"]["remove_old_data"]["status"] == "done"
        assert "keeps its databases" in st["steps"]["remove_old_data"]["message"]
        assert st["steps"]["dump"]["data"]["source"]["host"] == source["host"]
        for db, v in st["steps"]["restore"]["data"]["verification"].items():
            assert v["differences"] == [], db
        assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
        # the new server holds the old server's rows (but for the heartbeats the new Hub adds, and the two settings
        # the Hub's post-restore fixups delete, which the role's exact verification accounted for); the Hub writes there
        after = {db: dbcheck.counts(target, db) for db in dbcheck.DATABASES}
        for db in ("bds_hub", "bds_hub_report", "bdio"):
            assert set(after[db]) == set(before[db]["counts"]), db
            for table, n in before[db]["counts"].items():
                if table not in ("st.hub_heartbeat", "st.policy_setting"):
                    assert after[db][table] == n, (db, table)
        beats = int(ext_psql(target, "SELECT count(*) FROM st.hub_heartbeat"))
        time.sleep(3)
        assert int(ext_psql(target, "SELECT count(*) FROM st.hub_heartbeat")) > beats
        # the old server was never touched, even with hub_remove_old_data: every table's rows and content the same
        assert dbcheck.fingerprint(source) == before
        report = open(os.path.join(dump_root, "pb-x2x", "report.md")).read()
        assert "stay on the old external server `%s:%d`, untouched" % (source["host"], source["port"]) in report

        rc, out, recap = ansible_run.playbook(inv)
        assert rc == 0 and recap["pb-x2x"]["changed"] == 0, out

        # going back, even after step 11 (it left the old server as it was): the old Hub, with the old bundle's
        # external-database file, serves again from the old server; the new server keeps what was restored
        rc, out, recap = ansible_run.playbook(inv, name="blackduck.hub.rollback_hub")
        assert rc == 0, out
        assert labhub.version_endpoint(hub) == {"version": labhub.OLD}
        beats = int(ext_psql(source, "SELECT count(*) FROM st.hub_heartbeat"))
        labhub.wait("the old Hub to write to the old server again",
                    lambda: int(ext_psql(source, "SELECT count(*) FROM st.hub_heartbeat")) > beats, timeout=30)
        again = dbcheck.fingerprint(source)
        for db in ("bds_hub", "bds_hub_report", "bdio"):
            for part in ("counts", "digests"):
                assert {t: v for t, v in again[db][part].items() if t != "st.hub_heartbeat"} == {
                    t: v for t, v in before[db][part].items() if t != "st.hub_heartbeat"}, (db, part)
        assert int(ext_psql(target, "SELECT count(*) FROM st.project")) == after["bds_hub"]["st.project"]
        rolled_back = state(dump_root, "pb-x2x")
        assert rolled_back["status"] == "rolled back"

        # and upgrading again: step 1's gate lets the new server's data be, as it is the rolled-back attempt's
        # (its restore marker names that dump), and step 7 replaces it with the new dump's
        first_dump = rolled_back["attempts"][-1]["dump_id"]
        rc, out, recap = ansible_run.playbook(inv)
        assert rc == 0, out
        st = state(dump_root, "pb-x2x")
        assert st["steps"]["disk_space"]["message"] == (
            "the new external server holds the data of the rolled-back attempt %s: the restore (step 7, or step 4 of a "
            "stream) replaces it, with whatever the new Hub stored there since" % first_dump)
        assert st["steps"]["dump"]["data"]["dump_id"] != first_dump
        for db, v in st["steps"]["restore"]["data"]["verification"].items():
            assert v["differences"] == [] and v["marker"]["dump_id"] == st["steps"]["dump"]["data"]["dump_id"], db
        assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    finally:
        for name in ("pb-x2x-old", "pb-x2x-new"):
            labhub.remove_external_server(name)


@pytest.mark.parametrize("orch", ["swarm", "kubernetes"])
def test_into_an_external_server_on_swarm_and_kubernetes(lab_hubs, tmp_path, orch):
    """Step 9 starts the bundle's external-database variant: docker-compose.externaldb.yml as a stack, or
    kubernetes-external-rds.yml; the new Hub runs without a database of its own and writes to the server. The server
    is taken from the new bundle's hub-postgres.env (pods.env), not from variables - on Kubernetes the admin password
    too, from kubernetes-external-rds.yml's ConfigMap hpup-admin (also when the inventory names the server). That
    file's own hub-config is left out, as the vendor's kubectl create after pods.env leaves it: a server named only
    there is refused, saying so, and the Hub's hub-config is pods.env's."""
    name = "pb-ext-%s" % orch
    hub = lab_hubs(name, orch, scale=0.5, seed=22)
    dump_root = str(tmp_path / "dumps")
    try:
        target = labhub.external_server(name, "new", 26518 if orch == "swarm" else 26519)
        host = {"hub_database": "external", "hub_postgres_required_major": labhub.VERSIONS["PG_NEW_MAJOR"]}
        if orch == "swarm":  # on Kubernetes the admin password is the new Hub's: kubernetes-external-rds.yml's hpup-admin
            host["hub_postgres_admin_password_file"] = admin_password_file(tmp_path)
        if orch == "kubernetes":  # named in kubernetes-external-rds.yml's own hub-config only: refused, nothing done
            labhub.point_bundle_at(hub, labhub.NEW, target, "kubernetes-external-rds.yml")
            rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root, **{name: host}))
            assert rc != 0 and "hub_database is external: set hub_postgres_host" in out, out
            assert ("own ConfigMap hub-config names the database server %s:%d, and is left out" % (
                target["host"], target["port"]) in " ".join(out.split())), out
            assert not os.path.exists(os.path.join(dump_root, name, "state.json")), out
            assert labhub.version_endpoint(hub) == {"version": labhub.OLD}  # the old Hub serves on
        # the server is named only where the vendor has you name it, in the new bundle's settings: the role reads it
        labhub.point_bundle_at(hub, labhub.NEW, target)
        marker = None
        if orch == "kubernetes":  # the vendor's kubernetes-external-rds.yml holds the passwords, in ConfigMaps
            marker = "rds-file-secret-%d" % os.getpid()
            with open(labhub.bundle_file(hub, labhub.NEW, orch, "kubernetes-external-rds.yml"), "a") as f:
                f.write("- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: hpup-lab}\n"
                        "  data: {HUB_POSTGRES_ADMIN_PASSWORD_FILE: %s}\n" % marker)
        rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root, **{name: host}), "-v")
        assert rc == 0, out
        if marker:  # applied, yet never in the output, even with -v
            assert marker not in out, out[max(0, out.find(marker) - 2500):out.find(marker) + 300]
            assert marker in labhub.kubectl(hub, "get", "configmap", "hpup-lab", "-o", "jsonpath={.data}")
            # the Hub's hub-config is pods.env's, whole (kubernetes-external-rds.yml's own, without it, left out)
            config = json.loads(labhub.kubectl(hub, "get", "configmap", "hub-config", "-o", "jsonpath={.data}"))
            assert (config["HUB_POSTGRES_PORT"], config["HUB_WRITE_INTERVAL"]) == (str(target["port"]), "1"), config
        st = state(dump_root, name)
        assert st["steps"]["verify"]["status"] == "done"
        assert st["steps"]["restore"]["data"]["target"]["port"] == target["port"]
        for db, v in st["steps"]["restore"]["data"]["verification"].items():
            assert v["differences"] == [], db
        assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
        if orch == "kubernetes":
            assert labhub.kubectl(hub, "get", "pods", "-l", "app=postgres", "-o", "name").strip() == ""
        else:
            assert not labhub.containers(hub, "postgres")
        expected = hubgen.expected_row_counts(0.5, 22)["bds_hub"]
        assert int(ext_psql(target, "SELECT count(*) FROM st.project")) == expected["st.project"]
        beats = int(ext_psql(target, "SELECT count(*) FROM st.hub_heartbeat"))
        labhub.wait("the new Hub to write to the external server",
                    lambda: int(ext_psql(target, "SELECT count(*) FROM st.hub_heartbeat")) > beats, timeout=30)
        if orch == "kubernetes":  # step 11 on request: the old hostPath folder deleted on this node, nothing else
            assert pg_version(hub["hostpath"]) == labhub.VERSIONS["PG_OLD_MAJOR"]
            host["hub_remove_old_data"] = True
            # the server named by the inventory this time, still without a password: hpup-admin's is taken, not refused
            host.update(hub_postgres_host=target["host"], hub_postgres_port=target["port"])
            rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root, **{name: host}))
            assert rc == 0, out
            assert not os.path.exists(hub["hostpath"]), out
            assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
            assert int(ext_psql(target, "SELECT count(*) FROM st.project")) == expected["st.project"]
    finally:
        labhub.remove_external_server(name)


def test_stream_into_an_external_server_without_a_dump_file(lab_hubs, tmp_path):
    """hub_transfer: stream - step 4 pipes each database from the old container straight into the external server: no
    dump file (only the record of the old side), step 1 asks room for the new data only, step 7 compares every table
    with the record; a rerun changes nothing. A stream between two Compose hubs whose override file would have no
    absolute folder (a relative hub_dump_dir) is refused before anything is done. The first run is cancelled (its
    processes killed, as AWX cancels a job) once step 4's stream began: the stream goes on and completes on its own,
    the state still says step 4 started, and the next run resumes it - the restore markers it finds name this
    attempt's record, not another run's migration."""
    name = "pb-ext-stream"
    hub = lab_hubs(name, "compose", scale=0.25, seed=23)
    dump_root = str(tmp_path / "dumps")
    try:
        relative = os.path.join("dumps", name)
        rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory(
            [hub], dump_root, **{name: {"hub_transfer": "stream", "hub_dump_dir": relative}}))
        assert rc != 0 and "needs an absolute path (here %s)" % relative in out, out
        assert not os.path.exists(relative)
        assert labhub.version_endpoint(hub) == {"version": labhub.OLD}

        target = labhub.external_server(name, "new", 26522)
        labhub.point_bundle_at(hub, labhub.NEW, target)
        inv = ansible_run.hub_inventory([hub], dump_root, **{name: {
            "hub_database": "external", "hub_transfer": "stream", "hub_postgres_admin_password_file":
            admin_password_file(tmp_path), "hub_postgres_required_major": labhub.VERSIONS["PG_NEW_MAJOR"]}})
        rc, out, recap = ansible_run.playbook(inv, "--check")
        assert rc == 0, out
        assert "then stream bds_hub, bds_hub_report, bdio and the roles from the old database straight into it" in out
        assert "step 7 restore: nothing to restore (step 4 streamed the data)" in out
        assert labhub.version_endpoint(hub) == {"version": labhub.OLD}

        record = os.path.join(dump_root, name, "dump", "manifest.json")
        proc = ansible_run.playbook_in_background(inv, str(tmp_path), new_session=True)
        try:
            labhub.wait("step 4's stream to begin (its record)", lambda: proc.poll() is not None or os.path.exists(record),
                        timeout=600, interval=0.1)
            assert proc.poll() is None, "the run ended before its stream could be caught"
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        assert state(dump_root, name)["steps"]["dump"]["status"] == "started"
        complete = "SELECT count(*) FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE '%\"complete\": true%'"
        labhub.wait("the stream to complete on its own (its record too: the job ended)", lambda: int(
            ext_psql(target, complete, db="postgres")) == 3 and "completed" in json.load(open(record)), timeout=300)
        streamed = json.load(open(record))["dump_id"]

        rc, out, recap = ansible_run.playbook(inv)
        assert rc == 0, out
        st = state(dump_root, name)
        assert st["steps"]["dump"]["data"]["dump_id"] == streamed  # resumed, not begun anew
        assert st["steps"]["dump"]["data"]["transfer"] == "stream"
        assert st["steps"]["dump"]["data"]["total_bytes"] > 0
        assert all("dump" not in fs["for"] for fs in st["steps"]["disk_space"]["data"]["filesystems"])  # no room asked
        assert os.listdir(os.path.join(dump_root, name, "dump")) == ["manifest.json"]  # the record, no dump file
        for db, v in st["steps"]["restore"]["data"]["verification"].items():
            assert v["differences"] == [] and v["tables"], db
        assert st["steps"]["restore"]["data"]["dump_id"] == st["steps"]["dump"]["data"]["dump_id"]
        assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
        expected = hubgen.expected_row_counts(0.25, 23)["bds_hub"]
        assert int(ext_psql(target, "SELECT count(*) FROM st.project")) == expected["st.project"]
        with open(os.path.join(dump_root, name, "report.md")) as f:
            assert "## Stream (no dump file; the record of the old side)" in f.read()
        rc, out, recap = ansible_run.playbook(inv)
        assert rc == 0 and recap[name]["changed"] == 0, out
    finally:
        labhub.remove_external_server(name)
