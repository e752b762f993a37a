"""Run the collection's modules and playbooks for real, through ansible-core, as a user would."""
import json
import os
import subprocess
import sys

import collection_root
import labhub

BIN = os.path.dirname(sys.executable)


def ansible_env(extra=None):
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=collection_root.collections_root(),
               ANSIBLE_HOST_KEY_CHECKING="0",
               ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    # the collection's controller-side plugins (action, filter, test, callback) are loaded again in every task's
    # worker process: let Python keep their compiled code (__pycache__, ignored by git) rather than compile them anew
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    return env


def module(name, args, check=False, env=None, python=None):
    """Run blackduck.hub.<name> on localhost; return its result."""
    return module_output(name, args, check, env, python)[0]


def module_output(name, args, check=False, env=None, python=None):
    """Run blackduck.hub.<name> on localhost (with python as the managed host's Python: default this one); return
    (result dict, raw stdout+stderr)."""
    argv = [os.path.join(BIN, "ansible"), "localhost", "-o", "-m", "blackduck.hub.%s" % name, "-a", json.dumps(args)]
    if check:
        argv.append("--check")
    if python:
        argv += ["-e", json.dumps({"ansible_python_interpreter": python})]
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(env), timeout=1800, check=False)
    try:  # one line per host: "localhost | CHANGED => {...}"
        line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("localhost | "))
        status, body = line.split(" => ", 1)
        result = json.loads(body)
        result["failed"] = "FAILED" in status or "UNREACHABLE" in status
    except (StopIteration, ValueError, IndexError):
        raise AssertionError("ansible did not return a result (rc %d):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
    return result, proc.stdout + proc.stderr


# A hub's host reached as most teams reach theirs (tests/lab/ssh.sh, which make lab starts): over SSH, as an
# unprivileged user that becomes root with sudo. A hub's extra variables in hub_inventory.
OVER_SSH = {
    "ansible_connection": "ssh",
    "ansible_host": "127.0.0.1",
    "ansible_port": int(os.environ.get("LAB_SSH_PORT", "2222")),
    "ansible_user": "bdlab-admin",
    "ansible_ssh_private_key_file": os.path.join(labhub.LAB_HOME, "ssh", "id_ed25519"),
    "ansible_become": True,
}


def hub_inventory(hubs, dump_root, **extra):
    """An inventory (dict) with one host per lab hub, as a user would write it for upgrade_hub."""
    hosts = {}
    for hub in hubs:
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "hub_orchestration": hub["orchestration"],
            "hub_project": hub["project"],
            "hub_old_bundle": hub["bundles"][hub["old_version"]],
            "hub_new_bundle": hub["bundles"][hub["new_version"]],
            "hub_dump_dir": os.path.join(dump_root, hub["name"]),
            "hub_compose_pull": "never",
            # the lab's stand-in Hub has no jobrunner: its RUNNING jobs never end. 1 s runs the whole drain (listed,
            # cut off, reported) without the wait a real Hub's jobs deserve (the drain's own test waits)
            "hub_drain_timeout": 1,
            "hub_fleet_report_dir": os.path.join(dump_root, "fleet"),  # not the working folder (the checkout)
        }
        if hub.get("vendor"):  # the Hub's front door, its webserver, with the Hub's own certificate
            if hub.get("new_orchestration", hub["orchestration"]) in ("compose", "swarm"):
                host["hub_url"] = "https://127.0.0.1:%d" % hub["front_door_port"]
            host["hub_validate_certs"] = False
            if hub.get("new_orchestration", hub["orchestration"]) != hub["orchestration"]:
                host["hub_new_orchestration"] = hub["new_orchestration"]
        elif hub["orchestration"] in ("compose", "kubernetes"):
            host["hub_url"] = "http://127.0.0.1:%d" % hub["webapp_port"]
        if hub["orchestration"] == "kubernetes" or hub.get("new_orchestration") == "kubernetes":
            host.update(hub_namespace=hub["namespace"], hub_kubeconfig=labhub.KUBECONFIG)
            if not hub.get("vendor"):  # the lab's own manifests move the database to a loopback port
                host["hub_k8s_db_port"] = hub["k8s_pg_port"]
        if hub["orchestration"] == "swarm":
            host["hub_swarm_resolve_image"] = "never"
        host.update(extra.get(hub["name"], {}))
        hosts[hub["name"]] = host
    return {"all": {"hosts": hosts}}


def playbook(inventory, *args, name="blackduck.hub.upgrade_hub", env=None, tmpdir=None):
    """Run a playbook of the collection; return (rc, output, recap) where recap maps host -> counters."""
    import tempfile
    fd, inv = tempfile.mkstemp(suffix=".json", dir=tmpdir)
    with os.fdopen(fd, "w") as f:
        json.dump(inventory, f)
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", inv, name] + list(args)
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(env), timeout=3600, check=False)
    os.unlink(inv)
    out = proc.stdout + proc.stderr
    recap = {}
    in_recap = False
    for line in proc.stdout.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if in_recap and " : " in line:
            host, counters = line.split(" : ", 1)
            recap[host.strip()] = {k: int(v) for k, v in (c.split("=") for c in counters.split())}
    return proc.returncode, out, recap


def playbook_in_background(inventory, tmpdir, *args, **kwargs):
    """ansible-playbook of upgrade_hub (with args) in the background; returns the process (stdout+stderr to run-a.log
    in tmpdir). new_session=True: in a process group of its own, which a test may kill whole (a cancelled job)."""
    path = os.path.join(tmpdir, "inventory-a.json")
    with open(path, "w") as f:
        json.dump(inventory, f)
    log = open(os.path.join(tmpdir, "run-a.log"), "w")
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", path, "blackduck.hub.upgrade_hub"] + list(args)
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=ansible_env(),
                            start_new_session=kwargs.get("new_session", False))


def vaulted_host_vars(inventory_dir, host, variables, vault_password_file):
    """host_vars/<host>.yml beside the inventory that playbook(..., tmpdir=inventory_dir) writes, each value encrypted
    inline with ansible-vault encrypt_string (value on stdin, never on a command line), as docs/awx.md shows a team
    keeping one hub's secrets; the vault password, made up here, goes to vault_password_file."""
    import secrets
    os.makedirs(os.path.join(inventory_dir, "host_vars"), exist_ok=True)
    with open(vault_password_file, "w") as f:
        f.write(secrets.token_hex(16))
    os.chmod(vault_password_file, 0o600)
    blocks = []
    for name, value in sorted(variables.items()):
        proc = subprocess.run([os.path.join(BIN, "ansible-vault"), "encrypt_string", "--vault-password-file",
                               vault_password_file, "--stdin-name", name], input=value, capture_output=True,
                              text=True, env=ansible_env(None), check=True)
        assert "!vault |" in proc.stdout and value not in proc.stdout
        blocks.append(proc.stdout.strip())
    path = os.path.join(inventory_dir, "host_vars", host + ".yml")
    with open(path, "w") as f:
        f.write("\n".join(blocks) + "\n")
    os.chmod(path, 0o600)
    return path


def state(dump_root, name):
    """The upgrade role's state file of one hub (hub_dump_dir = dump_root/name, as hub_inventory sets it)."""
    with open(os.path.join(dump_root, name, "state.json")) as f:
        return json.load(f)
