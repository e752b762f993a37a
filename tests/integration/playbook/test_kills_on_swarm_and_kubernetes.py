"""A database killed in the middle of moving the data, on Swarm and on Kubernetes (issue 18), with the defaults: the
dump folder mounted into the database containers, pg_dump and pg_restore --jobs working there. The orchestrator
starts a new database container or pod by itself, as it would on a real cluster.

The old database killed while pg_dump writes bds_hub: step 4 fails saying which container or pod went away and to
run again, nothing of the dump is kept. The rerun dumps anew; its new database killed while pg_restore reads the
dump: step 7 fails saying so, the dump is kept and the folder is root's again (lent to the container's postgres user
only while a tool runs). A third run restores over its own interrupted restore and completes, exact.
"""
import json
import os
import re

import pytest

import ansible_run
import dbcheck
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")


def untouched(hub):
    """bds_hub's row counts but of the tables the running Hub writes and of the one the Hub's post-restore fixups
    change (the reporting transfer's keys): step 7's exact verification compares those two with the dump."""
    return dict((t, n) for t, n in dbcheck.counts(hub, "bds_hub").items()
                if t not in ("st.hub_heartbeat", "st.policy_setting"))


def kill_the_database(hub):
    """The database as a failing node or an operator would take it: the Swarm task's container removed (docker rm -f,
    killed first), the Kubernetes pod deleted at once (no grace period). Returns what the message will name."""
    if hub["orchestration"] == "swarm":
        [container] = labhub.containers(hub, "postgres")
        labhub.run(["docker", "rm", "-f", container])
        return r"the database container \S+ was (removed|stopped)"
    pod = labhub.postgres_pod(hub)
    labhub.kubectl(hub, "delete", "pod", pod, "--grace-period=0", "--force", "--wait=false")
    return r"the database pod %s/%s was (deleted|stopped)" % (hub["namespace"], pod)


# What each tool's sessions run while it moves rows (the collection names all its sessions alike, PGAPPNAME)
COPYING = {"pg_dump": "COPY %% TO stdout%%", "pg_restore": "COPY %% FROM stdin%%"}


def tool_running(hub, proc, tool):
    """Whether the tool (pg_dump, pg_restore) copies rows on the hub's database now (pg_stat_activity)."""
    if proc.poll() is not None:
        return True
    try:
        return int(labhub.psql(hub, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%s'" % COPYING[tool],
                               db="postgres").strip() or 0) > 0
    except (labhub.LabError, ValueError):  # the database between two versions: not yet
        return False


def kill_while(hub, proc, dumps, name, step, tool):
    """Kill the database once the step's tool runs; the run must fail at that step. Returns its message."""
    labhub.wait("%s to run" % tool, lambda: tool_running(hub, proc, tool), timeout=600, interval=0.2)
    assert proc.poll() is None, "the run ended before its %s could be caught running" % tool
    what = kill_the_database(hub)
    assert proc.wait(timeout=600) != 0
    st = ansible_run.state(dumps, name)
    assert st["failed_step"] == {"dump": 4, "restore": 7}[step], st
    message = st["steps"][step]["message"]
    assert re.search(what, message), message
    return message


@pytest.mark.parametrize("orch", ["swarm", "kubernetes"])
def test_the_database_killed_mid_dump_then_mid_restore(lab_hubs, tmp_path, request, orch):
    if orch == "kubernetes":
        request.getfixturevalue("k8s_lab")
    name = "kill-" + orch[:5]
    hub = lab_hubs(name, orch, scale=300.0, seed=35)  # a dump and a restore of seconds, to be caught
    expected = untouched(hub)
    dumps = str(tmp_path)
    folder = os.path.join(dumps, name, "dump")
    inv = ansible_run.hub_inventory([hub], dumps)

    proc = ansible_run.playbook_in_background(inv, dumps)
    message = kill_while(hub, proc, dumps, name, "dump", "pg_dump")
    assert "Nothing of it was kept" in message and "run again" in message, message
    assert not os.path.exists(os.path.join(folder, "manifest.json"))
    assert not [e for e in os.listdir(folder) if e.endswith(".partial")]

    proc = ansible_run.playbook_in_background(inv, dumps)  # step 3 brings the old database back; dumped anew
    message = kill_while(hub, proc, dumps, name, "restore", "pg_restore")
    assert "The dump is untouched" in message, message
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    assert set(d["format"] for d in manifest["databases"].values()) == {"directory"}  # pg_dump --jobs, mounted
    for top, dirs, files in os.walk(folder):  # the folder lent to the container's postgres user is given back
        for entry in dirs + files:
            st = os.stat(os.path.join(top, entry))
            assert st.st_uid == 0, os.path.join(top, entry)

    rc, out, recap = ansible_run.playbook(inv)  # step 6 starts the new database again, step 7 restores over it
    assert rc == 0, out
    assert untouched(hub) == expected
    st = ansible_run.state(dumps, name)
    assert st["steps"]["verify"]["status"] == "done"
    verification = st["steps"]["restore"]["data"]["verification"]
    assert sorted(verification) == ["bdio", "bds_hub", "bds_hub_report"]
    assert all(v["differences"] == [] for v in verification.values()), verification
    with open(os.path.join(folder, "manifest.json")) as f:
        assert json.load(f)["dump_id"] == manifest["dump_id"]  # the dump of the second run, restored as it was
