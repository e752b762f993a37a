#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hub_services
short_description: What runs of a Black Duck Hub, how healthy it is, and why not
version_added: 0.3.0
description:
  - Lists every container of a Hub's Compose project or Swarm stack (running or not), the containers the vendor's
    C(docker-run/docker-hub.sh) names (O(containers)), or every container of every pod in its Kubernetes namespace,
    with its state, its health (Docker health check) or readiness (Kubernetes), its restarts, and for those that
    are not well what their health check said last and the last lines of their log.
  - The upgrade role calls it when a step that starts or stops the Hub fails, so the failure names the service
    that failed and why, not only that a wait timed out.
  - Only reads.
author:
  - blackduck.hub contributors (!UNKNOWN)
extends_documentation_fragment:
  - blackduck.hub.read_only
options:
  orchestration:
    description: Where the Hub runs.
    type: str
    required: true
    choices: [compose, swarm, kubernetes, docker_run]
  project:
    description: The Compose project or Swarm stack (V(compose), V(swarm)).
    type: str
  containers:
    description:
      - The container names of a Hub run by C(docker-run/docker-hub.sh) (V(docker_run)); those that carry a Hub
        version label are listed.
    type: list
    elements: str
    version_added: 0.3.0
  namespace:
    description: The namespace (V(kubernetes)).
    type: str
  kubeconfig:
    description: The kubeconfig file (V(kubernetes); default is kubectl's own rules).
    type: path
  context:
    description: The kubeconfig context (V(kubernetes)).
    type: str
  log_lines:
    description: How many of the last log lines to keep of each service that is not well.
    type: int
    default: 20
  docker_cli:
    description: The docker CLI (default is the first on E(PATH)).
    type: path
  kubectl_cli:
    description: kubectl (default is the first on E(PATH)).
    type: path
seealso:
  - module: blackduck.hub.db_verify
"""

EXAMPLES = r"""
- name: Say why the Hub did not come up
  blackduck.hub.hub_services:
    orchestration: compose
    project: hub
  register: hub_services

- name: Show it
  ansible.builtin.debug:
    msg: "{{ hub_services.summary }}"
"""

RETURN = r"""
services:
  description:
    - Every container - name, service, state (running, exited, terminating...), health (healthy, unhealthy,
      starting, ready, not ready, or empty without a health check), exit_code, restarts, health_output (what its
      health check or Kubernetes said last), log_tail (the last log lines, for those not well).
  returned: always
  type: list
  elements: dict
problems:
  description: The entries of RV(services) that are not running well.
  returned: always
  type: list
  elements: dict
summary:
  description: What is wrong, in sentences (empty when everything runs well).
  returned: always
  type: str
"""

import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.blackduck.hub.plugins.module_utils import _services as services
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            orchestration=dict(type="str", required=True, choices=["compose", "swarm", "kubernetes", "docker_run"]),
            project=dict(type="str"),
            containers=dict(type="list", elements="str"),
            namespace=dict(type="str"),
            kubeconfig=dict(type="path"),
            context=dict(type="str"),
            log_lines=dict(type="int", default=20),
            docker_cli=dict(type="path"),
            kubectl_cli=dict(type="path"),
        ),
        required_if=[("orchestration", "compose", ["project"]), ("orchestration", "swarm", ["project"]),
                     ("orchestration", "kubernetes", ["namespace"]), ("orchestration", "docker_run", ["containers"])],
        supports_check_mode=True,
    )
    p = module.params
    try:
        if p["orchestration"] == "kubernetes":
            cli = p["kubectl_cli"] or shutil.which("kubectl")
            if not cli:
                module.fail_json(msg="kubectl was not found on the managed host: install it or set kubectl_cli")
            base = [cli] + (["--kubeconfig", p["kubeconfig"]] if p["kubeconfig"] else []) + (
                ["--context", p["context"]] if p["context"] else []) + ["-n", p["namespace"]]
            found = services.kubernetes_services(base, p["log_lines"])
        else:
            cli = p["docker_cli"] or shutil.which("docker")
            if not cli:
                module.fail_json(msg="the docker CLI was not found on the managed host: install it or set docker_cli")
            found = services.docker_services(cli, p["orchestration"], p["project"], p["log_lines"], p["containers"])
    except (CommandError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, services=found, problems=services.problems(found),
                     summary=services.summary(found))


if __name__ == "__main__":
    main()
