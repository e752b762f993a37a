"""The orchestration contract as one definition: an option the roles share means the same everywhere.

Ansible has no include for argument specs, so an option that several entry points read (hub_project, hub_side,
hub_stop_timeout...) is declared in each; its description may say what it means to that entry point, but its type,
default, choices and elements may not drift apart (a timeout of 120 s in one role and 300 s in the others was such a
drift). Its default value lives in one defaults file: the contract role's for the options the orchestration roles
share, the role's own otherwise - and that value is the one its argument specs declare.
"""
import collections
import glob
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIELDS = ("type", "default", "choices", "elements")


def _load(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}


def declarations():
    """option name -> [(role:entry point, its spec)] over every role's meta/argument_specs.yml."""
    found = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))):
        role = path.split(os.sep)[-3]
        for entry_point, spec in _load(path)["argument_specs"].items():
            for name, option in (spec.get("options") or {}).items():
                found[name].append(("%s:%s" % (role, entry_point), option))
    return found


def defaults():
    """role -> its defaults/main.yml."""
    return {path.split(os.sep)[-3]: _load(path)
            for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "defaults", "main.yml")))}


def disagreements(found):
    """(option, field, {value: [where]}) for each field an option's declarations give different values of."""
    out = []
    for name, places in sorted(found.items()):
        for field in FIELDS:
            values = collections.defaultdict(list)
            for where, option in places:
                if field in option:
                    values[repr(option[field])].append(where)
            if len(values) > 1:
                out.append((name, field, dict(values)))
    return out


def test_the_roles_declare_each_shared_option_alike():
    found = declarations()
    assert sum(len(p) > 1 for p in found.values()) > 10  # the roles do share options: the check has something to do
    assert disagreements(found) == []


def test_the_check_sees_a_drift():
    found = {"hub_stop_timeout": [("compose:stop", {"type": "int", "default": 120}),
                                  ("swarm:stop", {"type": "int", "default": 300}),
                                  ("kubernetes:stop", {"type": "int"})]}
    assert disagreements(found) == [("hub_stop_timeout", "default", {"120": ["compose:stop"], "300": ["swarm:stop"]})]


def test_each_default_is_set_once_and_is_the_declared_one():
    found = declarations()
    files = defaults()
    shared = set(files.get("contract", {}))
    assert shared, "roles/contract/defaults/main.yml declares the defaults the orchestration roles share"
    for role, values in files.items():
        if role != "contract":
            assert not shared & set(values), "%s sets again defaults the contract role sets: %s" % (
                role, sorted(shared & set(values)))
        for name, value in values.items():
            if isinstance(value, str) and "{{" in value:
                continue  # computed from other settings (an internal value, or a spec that says so in words)
            places = [(w, o) for w, o in found.get(name, []) if w.startswith(role + ":")]
            assert places, "roles/%s/defaults/main.yml sets %s, which no entry point of the role declares" % (role, name)
            for where, option in places:
                if "default" in option:
                    assert option["default"] == value, (role, name, where, option["default"], value)


def orchestrations():
    """The orchestration roles: the choices of the upgrade role's hub_orchestration."""
    specs = _load(os.path.join(ROOT, "roles", "upgrade", "meta", "argument_specs.yml"))["argument_specs"]
    return specs["main"]["options"]["hub_orchestration"]["choices"]


def tasks(items):
    """Every task of a task list, those inside blocks (block, rescue, always) too, at any depth."""
    for task in items:
        yield task
        for part in ("block", "rescue", "always"):
            yield from tasks(task.get(part) or [])


def contract_entry_points():
    """The entry points the upgrade role includes from the orchestration role it is given (include_role of
    blackduck.hub.{{ ... }} with a literal tasks_from), and those the step table names (steps/orchestrate.yml)."""
    from ansible_collections.blackduck.hub.plugins.module_utils import _state
    found = {step["entry"] for step in _state.step_table() if step["entry"]}
    for path in glob.glob(os.path.join(ROOT, "roles", "upgrade", "tasks", "**", "*.yml"), recursive=True):
        items = _load(path)
        for task in tasks(items if isinstance(items, list) else []):
            include = task.get("ansible.builtin.include_role") or {}
            if str(include.get("name", "")).startswith("blackduck.hub.{{") and "{{" not in include.get("tasks_from", "{{"):
                found.add(include["tasks_from"])
    return found


def test_every_orchestration_role_declares_every_entry_point_of_the_contract():
    entry_points = contract_entry_points()
    assert {"discover", "preflight", "stop", "start_migration", "stop_migration", "start", "hub_version",
            "remove_old_data"} <= entry_points
    assert sorted(orchestrations()) == ["compose", "docker_run", "kubernetes", "swarm"]
    missing = []
    for role in orchestrations():
        specs = _load(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"))["argument_specs"]
        for entry_point in sorted(entry_points):
            if not os.path.isfile(os.path.join(ROOT, "roles", role, "tasks", entry_point + ".yml")):
                missing.append("roles/%s/tasks/%s.yml" % (role, entry_point))
            if entry_point not in specs:
                missing.append("roles/%s/meta/argument_specs.yml: %s" % (role, entry_point))
    assert missing == []


def test_each_orchestration_roles_main_names_every_entry_point():
    """Used as a plain role, an orchestration role fails with the list of its entry points: all of the contract's,
    nothing else (the list is written in each role's message, and once it lagged behind the contract)."""
    entry_points = contract_entry_points()
    for role in orchestrations():
        (task,) = _load(os.path.join(ROOT, "roles", role, "tasks", "main.yml"))
        msg = " ".join(task["ansible.builtin.fail"]["msg"].split())
        listed = msg.split(" tasks_from ", 1)[1].split(" (", 1)[0]
        assert sorted(listed.replace(" or ", ", ").split(", ")) == sorted(entry_points), (role, listed)


def included_entry_points():
    """(role, entry point, where) for every include_role / import_role of a role of this collection by a literal name
    and tasks_from, in every role's tasks and in the playbooks."""
    paths = glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "**", "*.yml"), recursive=True)
    paths += glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))
    found = []
    for path in sorted(paths):
        items = _load(path)
        plays = items if isinstance(items, list) else []
        if path.startswith(os.path.join(ROOT, "playbooks")):  # a playbook: its plays' tasks
            plays = [task for play in plays for part in ("pre_tasks", "tasks", "post_tasks") for task in play.get(part) or []]
        for task in tasks(plays):
            include = task.get("ansible.builtin.include_role") or task.get("ansible.builtin.import_role") or {}
            name, entry = str(include.get("name", "")), str(include.get("tasks_from", "main"))
            if name.startswith("blackduck.hub.") and "{{" not in name + entry:
                found.append((name.rsplit(".", maxsplit=1)[-1], entry, os.path.relpath(path, ROOT)))
    return found


def test_every_entry_point_a_role_is_called_by_is_declared():
    found = included_entry_points()
    assert ("docker_common", "preflight", "roles/compose/tasks/preflight.yml") in found  # the check sees the calls
    missing = []
    for role, entry, where in found:
        specs = _load(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"))["argument_specs"]
        if entry not in specs:
            missing.append("%s: %s's %s is not in roles/%s/meta/argument_specs.yml" % (where, role, entry, role))
    assert missing == []


def test_each_orchestration_role_depends_on_the_contract():
    """The shared defaults reach an orchestration role through its dependency on blackduck.hub.contract (its
    meta/main.yml): a role without it would run with those options undefined."""
    for role in orchestrations() + ["upgrade"]:
        deps = _load(os.path.join(ROOT, "roles", role, "meta", "main.yml")).get("dependencies") or []
        names = [d["role"] if isinstance(d, dict) else d for d in deps]
        assert "blackduck.hub.contract" in names, (role, names)
