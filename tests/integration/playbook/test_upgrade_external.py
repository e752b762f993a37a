"""An external database (the stand-in for Amazon RDS): the gate, and the migration into it.

The target is a separate PostgreSQL container of the newer major (the lab's stand-in for 9.6) on a local address.
1) Internal old hub -> external target, end to end, verified; the new Hub runs on the external server.
2) A target of the wrong major is refused before anything is stopped: the old hub still runs, unchanged.
3) A target that already holds Hub data is refused.
4) A wrong admin password gives a clear error and leaves no secret in the output.
"""
import os
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


def ext_psql(server, sql, db="bds_hub"):
    return labhub.run(["docker", "exec", "-i", "-u", "postgres", server["container"], "psql", "-X", "-q", "-A", "-t",
                       "-v", "ON_ERROR_STOP=1", "-d", db, "-f", "-"], input=sql)


def test_external_database_gate_and_migration(lab_hubs, tmp_path):
    hub = lab_hubs("pb-ext", "compose", scale=0.5, seed=21)
    dump_root = str(tmp_path / "dumps")
    pwfile = str(tmp_path / "admin-password")
    with open(pwfile, "w") as f:
        f.write("blackduck\n")
    os.chmod(pwfile, 0o600)
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

        # 2) the wrong major: refused at the gate, before anything is stopped
        old_major = labhub.external_server("pb-ext-old", "old", 26511)
        servers.append("pb-ext-old")
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
        ext_psql(used, "CREATE SCHEMA st; CREATE TABLE st.project (id int); INSERT INTO st.project VALUES (1);")
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

        # 1) the migration into the external server; the Hub's own settings (hub-postgres.env) point at it
        env = labhub.bundle_file(hub, labhub.NEW, "compose", "hub-postgres.env")
        with open(env) as f:
            lines = [ln for ln in f.read().splitlines() if not ln.startswith(("HUB_POSTGRES_HOST=", "HUB_POSTGRES_PORT="))]
        with open(env, "w") as f:
            f.write("\n".join(lines + ["HUB_POSTGRES_HOST=%s" % target["host"], "HUB_POSTGRES_PORT=%d" % target["port"]]) + "\n")
        rc, out, recap = ansible_run.playbook(settings(target))
        assert rc == 0, out
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
