"""ansible-playbook blackduck.hub.upgrade_hub on Swarm lab hubs: the same playbook, hub_orchestration: swarm.

End to end with verification, rerun changes nothing, old-volume removal only on request, check mode changes
nothing, an upgrade after the new version was started without migrating, and one Compose hub with one Swarm hub
in the same run.
"""

import pytest

import ansible_run
import dbcheck
import hubgen
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")


state = ansible_run.state


def stack_volumes(stack):
    return set(labhub.run(["docker", "volume", "ls", "-q", "--filter", "label=com.docker.stack.namespace=%s" % stack]).split())


def snapshot(hub):
    services = labhub.run(["docker", "service", "ls", "--filter", "label=com.docker.stack.namespace=%s" % hub["project"],
                           "--format", "{{.ID}} {{.Name}} {{.Image}} {{.Replicas}}"])
    return sorted(services.splitlines()), stack_volumes(hub["project"])


def test_swarm_and_compose_in_one_run_then_rerun_and_removal(lab_hubs, tmp_path):
    sw = lab_hubs("pb-swarm", "swarm", scale=1.0, seed=8)
    co = lab_hubs("pb-mixed", "compose", scale=0.5, seed=9)
    dump_root = str(tmp_path)

    # check mode first: nothing changes
    labhub.run(["docker", "service", "scale", "pb-swarm_webapp=0"])  # so the data stands still while we compare
    labhub.wait("the webapp task to stop", lambda: not labhub.containers(sw, "webapp"), timeout=60)
    before = snapshot(sw), dbcheck.fingerprint(sw)
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([sw], dump_root), "--check")
    assert rc == 0 and recap["pb-swarm"]["changed"] == 0, out
    assert "step 2 stop_hub: drain: " in out and "; bring down " in out
    assert (snapshot(sw), dbcheck.fingerprint(sw)) == before
    expected = dbcheck.fingerprint_without_fixups(sw)

    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([sw, co], dump_root))
    assert rc == 0, out
    for hub in (sw, co):
        st = state(dump_root, hub["name"])
        assert st["steps"]["verify"]["status"] == "done", hub["name"]
        for db, v in st["steps"]["restore"]["data"]["verification"].items():
            assert v["differences"] == [], (hub["name"], db)
        assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    assert int(labhub.psql(sw, "SHOW server_version_num", db="postgres")) // 10000 == int(labhub.VERSIONS["PG_NEW_MAJOR"])
    counts = dbcheck.counts(sw, "bds_hub")
    assert counts["st.project"] == hubgen.expected_row_counts(1.0, 8)["bds_hub"]["st.project"]
    assert counts["st.bom_entry"] == expected["bds_hub"]["counts"]["st.bom_entry"]
    assert {"pb-swarm_data-volume", "pb-swarm_postgres96-data-volume"} <= stack_volumes("pb-swarm")
    services = labhub.run(["docker", "stack", "services", "pb-swarm", "--format", "{{.Name}} {{.Image}}"]).split("\n")
    assert sorted(s for s in services if s) == sorted("pb-swarm_%s blackducksoftware/hub-%s:%s" % (n, n, labhub.NEW)
                                                      for n in ("cfssl", "logstash", "postgres", "webapp"))

    # a rerun changes nothing; removal only on request
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([sw, co], dump_root))
    assert rc == 0 and recap["pb-swarm"]["changed"] == 0 and recap["pb-mixed"]["changed"] == 0, out
    assert "pb-swarm_data-volume" in stack_volumes("pb-swarm")
    rc, out, recap = ansible_run.playbook(
        ansible_run.hub_inventory([sw], dump_root, **{"pb-swarm": {"hub_remove_old_data": True}}))
    assert rc == 0, out
    assert "pb-swarm_data-volume" not in stack_volumes("pb-swarm")
    assert "pb-swarm_postgres96-data-volume" in stack_volumes("pb-swarm")


def test_swarm_upgrade_after_starting_the_new_version_without_migrating(lab_hubs, tmp_path):
    hub = lab_hubs("pb-swarm-empty", "swarm", scale=0.5, seed=3)
    labhub.run(["docker", "stack", "rm", "pb-swarm-empty"])
    labhub.wait("the old stack to be gone", lambda: not labhub.containers(hub, all_states=True), timeout=120)
    labhub.run(["docker", "stack", "deploy", "--resolve-image", "never", "-c",
                labhub.bundle_file(hub, labhub.NEW, "swarm", "docker-compose.yml"), "pb-swarm-empty"])
    labhub.wait("the new, empty hub", lambda: labhub.version_endpoint(hub) == {"version": labhub.NEW}, timeout=180)
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], str(tmp_path)))
    assert rc == 0, out
    got = dbcheck.counts(hub, "bds_hub")
    assert got["st.project"] == hubgen.expected_row_counts(0.5, 3)["bds_hub"]["st.project"]
    assert state(str(tmp_path), "pb-swarm-empty")["steps"]["restore"]["data"]["replaced_empty_hub"]
