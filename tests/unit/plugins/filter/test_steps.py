"""plugins/filter/steps.py: the resume rule and the plan's line of a step, as the role uses them."""
from ansible_collections.blackduck.hub.plugins.filter.steps import FilterModule, plan_line, step_due
from ansible_collections.blackduck.hub.plugins.module_utils import _state


def states(*done_steps):
    return {"steps": {name: {"status": "done"} for name in done_steps}}


def test_exported():
    assert sorted(FilterModule().filters()) == ["plan_line", "step_due"]


def test_the_plan_line_of_each_step():
    table = _state.step_table()
    what = {"dump": "dump   bds_hub\n and more", "start_old_migration": "start 4.1.4"}
    assert plan_line(table[3], [], what) == "step 4 dump: dump bds_hub and more"
    assert plan_line(table[3], ["dump"], what) == "step 4 dump: done"
    assert plan_line(table[2], ["dump"], what) == "step 3 start_old_migration: not needed"
    assert plan_line(table[2], [], what) == "step 3 start_old_migration: start 4.1.4"
    assert step_due(table[3], states()) is True and step_due(table[3], states(), run_tags=["step9"]) is False
