"""Every step of the table has its work somewhere: a task file of its own in the upgrade role, or - a step that is only
an entry point of the orchestration contract - that entry point in every orchestration role."""
import os

from ansible_collections.blackduck.hub.plugins.module_utils import _state
from ansible_collections.blackduck.hub.tests.unit.test_argument_specs import orchestrations

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_step_has_its_work():
    missing, roles = [], orchestrations()
    assert len(roles) >= 4, roles  # Compose, Swarm, docker-run, Kubernetes at least
    for step in _state.step_table():
        if step["entry"]:
            missing += ["roles/%s/tasks/%s.yml" % (r, step["entry"]) for r in roles
                        if not os.path.isfile(os.path.join(ROOT, "roles", r, "tasks", step["entry"] + ".yml"))]
        elif not os.path.isfile(os.path.join(ROOT, "roles", "upgrade", "tasks", "steps", step["name"] + ".yml")):
            missing.append("roles/upgrade/tasks/steps/%s.yml" % step["name"])
    assert not missing, missing


def test_no_task_file_of_a_step_the_table_runs_through_the_contract():
    own = {s["name"] for s in _state.step_table() if not s["entry"]} | {"orchestrate"}
    files = {f[:-4] for f in os.listdir(os.path.join(ROOT, "roles", "upgrade", "tasks", "steps")) if f.endswith(".yml")}
    assert files == own
