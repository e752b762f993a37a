"""Run the collection's modules and playbooks for real, through ansible-core, as a user would."""
import json
import os
import subprocess
import sys

import collection_root

BIN = os.path.dirname(sys.executable)


def ansible_env(extra=None):
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=collection_root.collections_root(),
               ANSIBLE_HOST_KEY_CHECKING="0",
               ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.update(extra or {})
    return env


def module(name, args, check=False, env=None):
    """Run blackduck.hub.<name> on localhost; return its result."""
    return module_output(name, args, check, env)[0]


def module_output(name, args, check=False, env=None):
    """Run blackduck.hub.<name> on localhost; return (result dict, raw stdout+stderr)."""
    argv = [os.path.join(BIN, "ansible"), "localhost", "-o", "-m", "blackduck.hub.%s" % name, "-a", json.dumps(args)]
    if check:
        argv.append("--check")
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(env), timeout=1800, check=False)
    try:  # one line per host: "localhost | CHANGED => {...}"
        line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("localhost | "))
        status, body = line.split(" => ", 1)
        result = json.loads(body)
        result["failed"] = "FAILED" in status or "UNREACHABLE" in status
    except (StopIteration, ValueError, IndexError):
        raise AssertionError("ansible did not return a result (rc %d):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
    return result, proc.stdout + proc.stderr
