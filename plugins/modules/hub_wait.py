#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hub_wait
short_description: Wait until what runs of a Black Duck Hub is up, or gone
version_added: 0.4.0
description:
  - Runs a read-only command (C(kubectl get pods), C(docker ps)) every O(interval)
    seconds until what it prints satisfies the named readiness predicate O(until), or O(timeout) seconds have passed
    (one monotonic clock).
  - The checks run inside this one module process, so a long wait costs one command per check, not a module per
    check as C(retries)/C(until) on M(ansible.builtin.command) does.
  - A check whose command fails (an API server that did not answer) counts as not ready, and the wait goes on; a
    command that fails three times in a row (a wrong kubeconfig, a user who may not list pods, an engine that is
    down) ends the wait with its error, rather than waiting out O(timeout) blind. So does a check that shows the
    predicate cannot hold any more (RV(hopeless)).
  - The predicates are those of the roles' filters of the same names (P(blackduck.hub.k8s_pods_ready#filter),
    P(blackduck.hub.swarm_stack_ready#filter), P(blackduck.hub.docker_run_ready#filter)).
author:
  - blackduck.hub contributors (!UNKNOWN)
extends_documentation_fragment:
  - blackduck.hub.read_only
options:
  argv:
    description: The read-only command that shows what runs, as a list (never a shell string).
    type: list
    elements: str
    required: true
  until:
    description:
      - What must hold of its output.
      - V(gone) - it prints nothing (no container or pod left).
      - V(k8s_pods_stopped) - C(kubectl get pods -o json) shows that no pod runs - none is left, or each one left
        has finished (phase C(Succeeded) or C(Failed) - evicted, completed) or is being deleted with every one of its
        containers stopped since the deletion was asked (the kubelet removes such a pod some seconds later; nothing
        of it holds a connection or the data any more). A container not started or not reported yet, or stopped
        before the deletion (it may have been started again since), counts as running.
      - V(k8s_pods_ready) - C(kubectl get pods -o json) shows one ready pod per app of O(wanted)'s C(apps) (a
        list), and nothing else runs - no other pod, none terminating unless all its containers have stopped.
      - V(docker_run_ready) - C(docker container inspect --format) lines, a JSON object per container with at least
        its C(Name), C(Config.Image) and C(State), show every container of O(wanted)'s C(images) (a dict, container
        name to image) running that image, none unhealthy - nor, with its C(healthy) (default true), still starting
        its health checks; a container of its C(running_enough) (a list, such as the C(4.x) webserver, whose health
        check asks a port it does not listen on) only has to run. Only names and images, never the script's settings
        (its C(-e) values).
      - V(swarm_stack_ready) - C(docker ps) lines C(<stack>_<service> <status>) show one container for every service
        of O(wanted)'s C(services) (a list) in its C(stack), none unhealthy - nor, with its C(healthy) (default
        true), still starting its health checks - and no other.
    type: str
    required: true
    choices: [docker_run_ready, gone, k8s_pods_ready, k8s_pods_stopped, swarm_stack_ready]
  wanted:
    description: What the predicate compares with (see O(until)).
    type: dict
    default: {}
  timeout:
    description: How many seconds to wait at most; there is always one check.
    type: int
    required: true
  interval:
    description: Seconds between two checks.
    type: float
    default: 3
seealso:
  - module: blackduck.hub.hub_services
"""

EXAMPLES = r"""
- name: Wait until no pod of the hub runs
  blackduck.hub.hub_wait:
    argv: [kubectl, -n, hub, get, pods, -o, json]
    until: k8s_pods_stopped
    timeout: 300
    interval: 2

- name: Wait until the database and cfssl pods are ready, alone
  blackduck.hub.hub_wait:
    argv: [kubectl, -n, hub, get, pods, -o, json]
    until: k8s_pods_ready
    wanted:
      apps: [cfssl, postgres]
    timeout: 600
"""

RETURN = r"""
ready:
  description: Whether the predicate held (false only with a failed result).
  returned: always
  type: bool
attempts:
  description: How many checks ran.
  returned: always
  type: int
seconds:
  description: How long the wait took.
  returned: always
  type: float
rc:
  description: The exit code of the last check's command.
  returned: always
  type: int
stdout:
  description:
    - What the last check's command printed - for V(k8s_pods_stopped) and V(k8s_pods_ready) told as a line per pod
      (its name, app, phase, whether it is ready and being deleted; empty when no pod is left), not the pods' JSON,
      which holds their specs (a container's C(env) may set a password inline). Output that is not that list is
      not shown either, only its length.
  returned: always
  type: str
stderr:
  description: What the last check's command said on stderr.
  returned: always
  type: str
wait_timed_out:
  description: True when O(timeout) ran out before the predicate held (not when the command kept failing, nor when
    it cannot hold any more).
  returned: always
  type: bool
hopeless:
  description:
    - Why the predicate cannot hold any more, as the last check showed it - for V(docker_run_ready), a container
      that stopped (exited or dead) and is not being restarted (the vendor's C(docker-hub.sh) sets no restart policy,
      so nothing starts it again) - the wait then fails at once, not at O(timeout). Empty otherwise.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.blackduck.hub.plugins.module_utils import _readiness as readiness
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            argv=dict(type="list", elements="str", required=True),
            until=dict(type="str", required=True, choices=sorted(readiness.PREDICATES)),
            wanted=dict(type="dict", default={}),
            timeout=dict(type="int", required=True),
            interval=dict(type="float", default=3.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["argv"]:
        module.fail_json(msg="argv is empty: give the command that shows what runs, as a list")

    def check(argv):
        try:
            return run(argv, timeout=max(p["interval"] * 10, 60))
        except OSError as exc:  # the tool itself is not there: no later check can do better
            module.fail_json(msg="%s cannot be run: %s" % (argv[0], exc))
        except CommandError as exc:  # a check that hung (timed out) is one check not ready
            return -1, "", exc.message

    found = readiness.wait(check, p["argv"], p["until"], p["wanted"], p["timeout"], p["interval"])
    broken = found.pop("failed_in_a_row") >= readiness.FAILED_IN_A_ROW
    found.update(wait_timed_out=not (found["ready"] or broken or found["hopeless"]), changed=False)
    if broken:
        said = [line.strip() for line in found["stderr"].splitlines() if line.strip()]
        module.fail_json(msg="%s failed %d times in a row, so what runs cannot be seen: %s" % (
            p["argv"][0], readiness.FAILED_IN_A_ROW, said[-1] if said else "exit code %s" % found["rc"]), **found)
    if found["hopeless"]:
        module.fail_json(msg="stopped waiting after %s s (%d checks of %s) for %s: %s" % (
            found["seconds"], found["attempts"], p["argv"][0], readiness.PREDICATES[p["until"]][0], found["hopeless"]),
            **found)
    if not found["ready"]:
        module.fail_json(msg="waited %s s (%d checks of %s) for %s: not so at the last check" % (
            found["seconds"], found["attempts"], p["argv"][0], readiness.PREDICATES[p["until"]][0]), **found)
    module.exit_json(**found)


if __name__ == "__main__":
    main()
