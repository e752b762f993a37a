"""The example project (examples/project) against a lab hub, as a user runs it: the collection built and installed
into the project's collections/ folder, the user's hub in inventory.yml, ansible-playbook upgrade_hub.yml --check
from that folder. The output is concise (the project's ansible.cfg): the steps and their results, no header of a
task every hub skips; the plan names every step."""
import os
import shutil
import subprocess
import sys

import pytest
import yaml

import ansible_run
import collection_root
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")


def test_check_mode_from_the_example_project(lab_hubs, tmp_path):
    hub = lab_hubs("ex-project", "compose", scale=0.5, seed=41)
    project = str(tmp_path / "project")
    shutil.copytree(os.path.join(collection_root.REPO, "examples", "project"), project)
    env = dict(os.environ, PATH=ansible_run.BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    build = subprocess.run([os.path.join(ansible_run.BIN, "ansible-galaxy"), "collection", "build", "--output-path",
                            project, collection_root.REPO], cwd=project, env=env, capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = [f for f in os.listdir(project) if f.endswith(".tar.gz")][0]
    install = subprocess.run([os.path.join(ansible_run.BIN, "ansible-galaxy"), "collection", "install", "--no-deps",
                              "-p", "collections", tarball], cwd=project, env=env, capture_output=True, text=True, check=False)
    assert install.returncode == 0, install.stdout + install.stderr

    # the user's hub, written into the project's inventory as its comments show (here: the lab's engine, locally)
    host = ansible_run.hub_inventory([hub], str(tmp_path / "dumps"))["all"]["hosts"]["ex-project"]
    host.update(ansible_become=False, ansible_python_interpreter=sys.executable)
    with open(os.path.join(project, "inventory.yml")) as f:
        inventory = yaml.safe_load(f)
    inventory["all"]["children"]["hubs"]["hosts"] = {"ex-project": host}
    with open(os.path.join(project, "inventory.yml"), "w") as f:
        yaml.safe_dump(inventory, f)

    proc = subprocess.run([os.path.join(ansible_run.BIN, "ansible-playbook"), "upgrade_hub.yml", "--check"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for n, name in enumerate(["disk_space", "stop_hub", "start_old_migration", "dump", "stop_old_migration",
                              "start_new_migration", "restore", "stop_new_migration", "start_hub", "verify",
                              "remove_old_data"], 1):
        assert "step %d %s: " % (n, name) in out
    assert "skipping:" not in out  # concise: a task every hub skips shows nothing
    assert "ex-project: planned (check mode)" in out
    assert not os.path.exists(str(tmp_path / "dumps" / "ex-project" / "state.json"))
    assert labhub.containers(hub, "webapp")  # the Hub still runs
