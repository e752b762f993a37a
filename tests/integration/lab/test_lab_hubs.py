"""The lab proves itself: an old hub on each orchestration answers with the generated data.

For each of Compose, Swarm and Kubernetes a lab hub of the old version is deployed with Hub-like data; its
database must be the old PostgreSQL major and hold exactly the generated rows, its webapp must answer the
version endpoint with the old version and keep writing, and its data must sit where the vendor puts it.
"""
import json
import time

import pytest

import hubgen
import labhub

SCALE = 1.0
SEED = 7
LIVE_TABLE = "st.hub_heartbeat"  # the webapp stand-in writes here while the hub runs


def row_counts(hub, db, tables):
    sql = "\n".join("SELECT '%s', count(*) FROM %s;" % (t, t) for t in sorted(tables))
    out = labhub.psql(hub, sql, db=db)
    return {line.split("|")[0]: int(line.split("|")[1]) for line in out.splitlines() if line.strip()}


def check_generated_data(hub):
    expected = hubgen.expected_row_counts(SCALE, SEED)
    assert set(expected) == {"bds_hub", "bds_hub_report", "bdio"}
    for db, tables in expected.items():
        got = row_counts(hub, db, tables)
        for table, n in tables.items():
            if table == LIVE_TABLE:
                assert got[table] >= n, (db, table)
            else:
                assert got[table] == n, (db, table, got[table], n)
    assert labhub.psql(hub, "SELECT count(*) FROM pg_largeobject_metadata").strip() != "0"
    roles = labhub.psql(hub, "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles "
                             "WHERE rolname LIKE 'blackduck%'").strip()
    assert roles.split(",") == ["blackduck", "blackduck_reporter", "blackduck_user"]


def server_major(hub):
    return int(labhub.psql(hub, "SHOW server_version_num", db="postgres").strip()) // 10000


def heartbeats(hub):
    return int(labhub.psql(hub, "SELECT count(*) FROM st.hub_heartbeat").strip())


def check_still_writing(hub):
    before = heartbeats(hub)
    labhub.wait("the webapp of %s to write" % hub["name"], lambda: heartbeats(hub) >= before + 2, timeout=30)


def container_labels(container):
    return json.loads(labhub.run(["docker", "inspect", "-f", "{{json .Config.Labels}}", container]))


@pytest.mark.usefixtures("docker_lab")
def test_compose_old_hub(lab_hubs):
    hub = lab_hubs("lab-compose", "compose", scale=SCALE, seed=SEED)
    assert server_major(hub) == int(labhub.VERSIONS["PG_OLD_MAJOR"])
    check_generated_data(hub)
    assert labhub.version_endpoint(hub) == {"version": labhub.OLD}
    check_still_writing(hub)
    (pg,) = labhub.containers(hub, "postgres")
    labels = container_labels(pg)
    assert labels["com.blackducksoftware.hub.version"] == labhub.OLD
    assert labels["com.blackducksoftware.hub.image"] == "postgres"
    mounts = json.loads(labhub.run(["docker", "inspect", "-f", "{{json .Mounts}}", pg]))
    assert [(m["Name"], m["Destination"]) for m in mounts] == [("lab-compose_data-volume", "/var/lib/postgresql/data")]
    # the vendor's reporting port, published on loopback only
    ports = json.loads(labhub.run(["docker", "inspect", "-f", "{{json .NetworkSettings.Ports}}", pg]))
    assert ports["5432/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(hub["pg_port"])}]


@pytest.mark.usefixtures("docker_lab")
def test_swarm_old_hub(lab_hubs):
    hub = lab_hubs("lab-swarm", "swarm", scale=SCALE, seed=SEED)
    assert server_major(hub) == int(labhub.VERSIONS["PG_OLD_MAJOR"])
    check_generated_data(hub)
    assert labhub.version_endpoint(hub) == {"version": labhub.OLD}
    check_still_writing(hub)
    (pg,) = labhub.containers(hub, "postgres")
    assert container_labels(pg)["com.blackducksoftware.hub.version"] == labhub.OLD
    mounts = json.loads(labhub.run(["docker", "inspect", "-f", "{{json .Mounts}}", pg]))
    assert [m["Name"] for m in mounts] == ["lab-swarm_data-volume"]
    mode = labhub.run(["docker", "service", "inspect", "-f", "{{.Spec.EndpointSpec.Mode}}", "lab-swarm_postgres"]).strip()
    assert mode == "dnsrr"


@pytest.mark.usefixtures("docker_lab", "k8s_lab")
def test_kubernetes_old_hub(lab_hubs):
    hub = lab_hubs("lab-k8s", "kubernetes", scale=SCALE, seed=SEED)
    assert server_major(hub) == int(labhub.VERSIONS["PG_OLD_MAJOR"])
    check_generated_data(hub)
    assert labhub.version_endpoint(hub) == {"version": labhub.OLD}
    check_still_writing(hub)
    pod = json.loads(labhub.kubectl(hub, "get", "pod", labhub.postgres_pod(hub), "-o", "json"))
    assert pod["status"]["phase"] == "Running"
    node = json.loads(labhub.run(["kubectl", "--kubeconfig", labhub.KUBECONFIG, "get", "node",
                                  pod["spec"]["nodeName"], "-o", "json"]))
    assert node["metadata"]["labels"].get("blackduck.hub.postgres") == "true"
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"
    # the data is on the node's hostPath, as in the vendor's 4.2 layout
    vol = pod["spec"]["volumes"][0]["hostPath"]["path"]
    assert vol == hub["hostpath"]
    with open(vol + "/PG_VERSION") as f:
        assert f.read().strip() == labhub.VERSIONS["PG_OLD_MAJOR"]


@pytest.mark.usefixtures("docker_lab")
def test_two_hubs_side_by_side_and_the_vendors_empty_upgrade(lab_hubs):
    """Two hubs share the engine; starting the new version without migrating comes up empty (vendor's warning)."""
    a = lab_hubs("lab-side-a", "compose", scale=0, seed=1)
    b = lab_hubs("lab-side-b", "compose", scale=0, seed=2)
    assert a["pg_port"] != b["pg_port"] and a["webapp_port"] != b["webapp_port"]
    assert labhub.version_endpoint(a) == labhub.version_endpoint(b) == {"version": labhub.OLD}
    projects_before = heartbeats(a), heartbeats(b)
    assert all(n > 0 for n in projects_before)

    # upgrade hub b the wrong way: bring it down, start the new bundle's full Hub
    labhub.compose(b, labhub.OLD, "docker-compose.yml", "down", "-t", "5")
    labhub.compose(b, labhub.NEW, "docker-compose.yml", "up", "-d", "--pull", "never", "--wait", "--wait-timeout", "240")
    assert labhub.version_endpoint(b) == {"version": labhub.NEW}
    assert server_major(b) == int(labhub.VERSIONS["PG_NEW_MAJOR"])
    tables = labhub.psql(b, "SELECT string_agg(table_name, ',') FROM information_schema.tables "
                            "WHERE table_schema = 'st' AND table_type = 'BASE TABLE'").strip()
    assert tables == "hub_heartbeat"  # the new Hub is empty: only what a fresh Hub creates
    vols = labhub.run(["docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=lab-side-b"]).split()
    assert {"lab-side-b_data-volume", "lab-side-b_postgres96-data-volume"} <= set(vols)  # the old data is safe
    # hub a was not disturbed
    assert labhub.version_endpoint(a) == {"version": labhub.OLD}
    time.sleep(2)
    assert heartbeats(a) > projects_before[0]
