"""The upgrade role asks discover and hub_sides, not the kind of things: it names no orchestration (each role's
discover says how to reach its side - hub_facts.old_services / new_services, old_db / new_db) and never branches on
the kind of the old data (hub_sides says how to measure it: hub_data.old.measure). A new orchestration or a new kind of
storage then needs no edit of roles/upgrade/tasks."""
import os
import re

from ansible_collections.blackduck.hub.tests.unit.test_argument_specs import orchestrations

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TASKS = os.path.join(ROOT, "roles", "upgrade", "tasks")


def task_lines():
    for folder, dummy, files in os.walk(TASKS):
        for name in sorted(files):
            if name.endswith(".yml"):
                path = os.path.join(folder, name)
                with open(path) as f:
                    for n, line in enumerate(f, 1):
                        code = line.split("#", 1)[0]  # a comment may name them
                        yield "%s:%d" % (os.path.relpath(path, ROOT), n), code


def test_no_orchestration_named():
    names = orchestrations()
    assert {"compose", "swarm", "kubernetes", "docker_run"} <= set(names)
    quoted = re.compile(r"""['"](%s)['"]""" % "|".join(map(re.escape, names)))
    found = [where for where, code in task_lines() if quoted.search(code)]
    assert not found, found


def test_no_branch_on_the_kind_of_data():
    kind = re.compile(r"""(\.kind|\[['"]kind['"]\])\s*(\|[^=]*)?(==|!=|\bin\b|\bis\b)""")  # also after a filter
    found = [where for where, code in task_lines() if kind.search(code)]
    assert not found, found
