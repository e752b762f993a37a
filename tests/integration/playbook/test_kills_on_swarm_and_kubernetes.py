"""Faults in the middle of moving the data, on Swarm and on Kubernetes (issue 18), with the defaults: the dump folder
mounted into the database containers, pg_dump and pg_restore --jobs working there. The orchestrator starts a new
database container or pod by itself, as it would on a real cluster.

First the dump folder's file system fills while pg_dump writes there (hub_dump_dir on a small file system of its
own): step 4 fails saying so, nothing of the dump kept, the old data as it was (kills.fill_the_dump_folder). The file
system grown, the old database killed while pg_dump writes bds_hub: step 4 fails saying which container or pod went away and to
run again, nothing of the dump is kept. The rerun dumps anew; its new database killed while pg_restore reads the
dump: step 7 fails saying so, the dump is kept and the folder is root's again (lent to the container's postgres user
only while a tool runs). A third run restores over its own interrupted restore and completes, exact.
"""
import json
import os

import pytest

import ansible_run
import kills

pytestmark = pytest.mark.usefixtures("docker_lab")


@pytest.mark.parametrize("orch", ["swarm", "kubernetes"])
def test_the_database_killed_mid_dump_then_mid_restore(lab_hubs, tmp_path, request, orch):
    if orch == "kubernetes":
        request.getfixturevalue("k8s_lab")
    name = "kill-" + orch[:5]
    hub = lab_hubs(name, orch, scale=300.0, seed=35)  # a dump and a restore of seconds, to be caught
    expected = kills.untouched(hub)
    dumps = str(tmp_path)
    folder = os.path.join(dumps, name, "dump")
    inv = ansible_run.hub_inventory([hub], dumps)
    with kills.small_dump_filesystem(os.path.join(dumps, name)) as grow:
        filled = kills.fill_the_dump_folder(hub, dumps)  # first the dump folder's file system fills; then room, and kills
        grow("2g")

        proc = ansible_run.playbook_in_background(inv, dumps)
        message = kills.kill_while(hub, proc, dumps, name, "dump", "pg_dump")
        assert "Nothing of it was kept" in message and "run again" in message, message
        assert not os.path.exists(os.path.join(folder, "manifest.json"))
        assert not [e for e in os.listdir(folder) if e.endswith(".partial")]

        proc = ansible_run.playbook_in_background(inv, dumps)  # step 3 brings the old database back; dumped anew
        message = kills.kill_while(hub, proc, dumps, name, "restore", "pg_restore")
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
        assert kills.untouched(hub) == expected
        st = ansible_run.state(dumps, name)
        assert st["steps"]["verify"]["status"] == "done"
        assert st["steps"]["disk_space"] == filled["steps"]["disk_space"]  # steps 1 and 2 ran once, in the first run
        assert st["steps"]["stop_hub"] == filled["steps"]["stop_hub"]
        verification = st["steps"]["restore"]["data"]["verification"]
        assert sorted(verification) == ["bdio", "bds_hub", "bds_hub_report"]
        assert all(v["differences"] == [] for v in verification.values()), verification
        with open(os.path.join(folder, "manifest.json")) as f:
            assert json.load(f)["dump_id"] == manifest["dump_id"]  # the dump of the second run, restored as it was
