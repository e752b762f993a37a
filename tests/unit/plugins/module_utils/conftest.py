"""A fake target for the module_utils that run client tools: tool_argv runs a small Python script that logs
each call (tool, args, what came on stdin) and answers from rules, so no server, docker or kubectl is needed."""
import json
import os
import sys

import pytest

FAKE_TOOL = r'''
import hashlib, json, sys
here = sys.argv[1]
tool, args = sys.argv[2], sys.argv[3:]
data = sys.stdin.buffer.read()
with open(here + "/rules.json") as f:
    rules = json.load(f)
text = data.decode("utf-8", "replace")
call = {"tool": tool, "args": args, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "stdin": text if len(data) < 65536 else None}
with open(here + "/calls.jsonl", "a") as f:
    f.write(json.dumps(call) + "\n")
for rule in rules:
    if rule.get("tool", tool) == tool and rule.get("match", "") in " ".join(args) + "\n" + text:
        sys.stdout.write(rule.get("stdout", ""))
        sys.stderr.write(rule.get("stderr", ""))
        sys.exit(rule.get("rc", 0))
sys.stderr.write("fake tool: no rule for %s %s\n" % (tool, args))
sys.exit(99)
'''


class FakeTarget:
    kind = "fake"

    def __init__(self, directory, rules):
        self.dir = directory
        self.script = os.path.join(directory, "fake_tool.py")
        self.sql_connections = {}  # as a real target's: its queries run with the fake psql, so it stays empty
        with open(self.script, "w") as f:
            f.write(FAKE_TOOL)
        self.set_rules(rules)

    def set_rules(self, rules):
        with open(os.path.join(self.dir, "rules.json"), "w") as f:
            json.dump(rules, f)

    def tool_argv(self, tool, args, stdin=False, conn=True):
        return [sys.executable, self.script, self.dir, tool] + list(args)

    @property
    def env(self):
        return dict(os.environ, LC_ALL="C")

    def describe(self):
        return "the fake server"

    def sql_params(self, database):  # queries run with the fake psql
        return None

    def own_pids(self):  # queries run with the fake psql: no session kept open
        return []

    def close_sql(self, database=None):
        self.closed_sql = getattr(self, "closed_sql", []) + [database]

    def identity(self):
        return {"type": "fake", "where": self.describe()}

    def gone(self):
        return getattr(self, "gone_reason", "")

    def calls(self):
        path = os.path.join(self.dir, "calls.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]


@pytest.fixture
def fake_target(tmp_path):
    """fake_target(rules) -> FakeTarget. A rule: {tool?, match?, stdout?, stderr?, rc?}; the first rule whose tool
    (if given) is the tool run and whose match is in its args or stdin answers."""
    def make(rules):
        d = tmp_path / "fake-target"
        d.mkdir(exist_ok=True)
        return FakeTarget(str(d), rules)
    return make
