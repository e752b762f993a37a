# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a started Hub counts as up: one named, unit-tested predicate per orchestration, for the roles' waits
(retries/until), instead of expressions in the tasks. Each looks at what runs itself (containers, pods), never only
at the counts an orchestrator reports: a Deployment at 0 replicas whose pods still terminate is not down yet."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


def swarm_stack_ready(ps_lines, services, stack, healthy=True):
    """docker ps lines '<stack>_<service> <status>' of a stack: every service of the file has one container, none is
    unhealthy - nor, with healthy, still starting its health checks - and no other container is there."""
    running = {}
    for line in ps_lines or []:
        name, dummy, status = line.partition(" ")
        service = name[len(stack) + 1:] if name.startswith(stack + "_") else name
        running.setdefault(service, []).append(status)
    if sorted(running) != sorted(services) or any(len(v) != 1 for v in running.values()):
        return False
    bad = ("(health: starting)", "(unhealthy)") if healthy else ("(unhealthy)",)
    return not any(marker in status for statuses in running.values() for status in statuses for marker in bad)


def k8s_pods_ready(pods, wanted):
    """The pods of a namespace (kubectl get pods -o json's items): exactly one pod per wanted app (label app), each
    ready, none terminating, and no other pod."""
    pods = pods or []
    if any((p.get("metadata") or {}).get("deletionTimestamp") for p in pods):
        return False
    apps = sorted(((p.get("metadata") or {}).get("labels") or {}).get("app", "") for p in pods)
    if apps != sorted(wanted):
        return False
    for pod in pods:
        conditions = dict((c.get("type"), c.get("status")) for c in (pod.get("status") or {}).get("conditions") or [])
        if conditions.get("Ready") != "True":
            return False
    return True


class FilterModule(object):
    def filters(self):
        return {"swarm_stack_ready": swarm_stack_ready, "k8s_pods_ready": k8s_pods_ready}
