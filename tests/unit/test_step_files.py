"""Every step of the table has its work somewhere: a task file of its own in the upgrade role, or - a step that is only
an entry point of the orchestration contract - that entry point in every orchestration role."""
import os

import yaml

from ansible_collections.blackduck.hub.plugins.module_utils import _state

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def orchestrations():
    """The orchestration roles: the choices of the upgrade role's hub_orchestration (as test_argument_specs reads them)."""
    with open(os.path.join(ROOT, "roles", "upgrade", "meta", "argument_specs.yml")) as f:
        return yaml.safe_load(f)["argument_specs"]["main"]["options"]["hub_orchestration"]["choices"]


def test_every_step_has_its_work():
    missing = []
    for step in _state.step_table():
        if step["entry"]:
            missing += ["roles/%s/tasks/%s.yml" % (r, step["entry"]) for r in orchestrations()
                        if not os.path.isfile(os.path.join(ROOT, "roles", r, "tasks", step["entry"] + ".yml"))]
        elif not os.path.isfile(os.path.join(ROOT, "roles", "upgrade", "tasks", "steps", step["name"] + ".yml")):
            missing.append("roles/upgrade/tasks/steps/%s.yml" % step["name"])
    assert not missing, missing


def test_no_task_file_of_a_step_the_table_runs_through_the_contract():
    own = {s["name"] for s in _state.step_table() if not s["entry"]} | {"orchestrate"}
    files = {f[:-4] for f in os.listdir(os.path.join(ROOT, "roles", "upgrade", "tasks", "steps")) if f.endswith(".yml")}
    assert files == own
