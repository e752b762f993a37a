"""plugins/action/migration_state.py: the state file in the controller's own process when the managed host is the
controller, as this process's user; the module everywhere else - the same result either way."""
import json
import os
import types

from ansible_collections.blackduck.hub.plugins.action import migration_state as action
from ansible_collections.blackduck.hub.plugins.module_utils import _state


class FakeAction(action.ActionModule):
    """The action's run with the controller's plumbing replaced: a connection, become or not, check mode or not."""

    def __init__(self, args, transport="local", become=False, check_mode=False):  # pylint: disable=super-init-not-called
        self.calls = []
        self._connection = types.SimpleNamespace(transport=transport)
        self._play_context = types.SimpleNamespace(become=become)
        self._task = types.SimpleNamespace(args=args, check_mode=check_mode)

    def begin(self, tmp, task_vars):
        args = dict((k, None) for k in _state.ARGUMENT_SPEC)
        args.update(self._task.args)
        return {}, args

    def _execute_module(self, module_name=None, module_args=None, task_vars=None):
        self.calls.append((module_name, module_args))
        return {"changed": False, "from": "module"}


def test_on_the_controller_it_records_in_this_process_and_logs(tmp_path):
    path, log = str(tmp_path / "state.json"), str(tmp_path / "logs" / "run.log")
    act = FakeAction({"path": path, "hub": "hub1", "step": "dump", "status": "started", "log_file": log})
    result = act.run(task_vars={})
    assert act.calls == [] and result["changed"] is True and not result.get("failed")
    assert result["state"]["steps"]["dump"]["status"] == "started" and result["next_step"] == 1
    assert [row["name"] for row in result["steps"]] == [name for dummy, name, dummy2 in _state.STEPS]
    with open(path) as f:
        assert json.load(f)["steps"]["dump"]["status"] == "started"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    with open(log) as f:
        assert "dump" in f.read()
    assert "warnings" not in result


def test_in_check_mode_it_records_nothing(tmp_path):
    path = str(tmp_path / "state.json")
    result = FakeAction({"path": path, "hub": "hub1", "step": 4, "status": "done"}, check_mode=True).run(task_vars={})
    assert result["state"]["steps"]["dump"]["status"] == "done" and not os.path.exists(path)


def test_a_failure_is_the_modules_message(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(dict(_state.new_state("other"), hub="other")))
    result = FakeAction({"path": str(path), "hub": "hub1"}).run(task_vars={})
    assert result["failed"] is True and "other" in result["msg"]
    path.write_text("{not json")
    result = FakeAction({"path": str(path), "hub": "hub1"}).run(task_vars={})
    assert result["failed"] is True and result["msg"].startswith("migration state %s: " % path)


def test_elsewhere_or_with_become_the_module_runs_with_the_tasks_arguments(tmp_path):
    args = {"path": str(tmp_path / "state.json"), "hub": "hub1"}
    for act in (FakeAction(args, transport="ssh"), FakeAction(args, become=True)):
        assert act.run(task_vars={}) == {"changed": False, "from": "module"}
        assert act.calls == [("blackduck.hub.migration_state", args)]
    assert not os.path.exists(args["path"])
