"""The collection as its users get it, and the ecosystem files made from it (no lab needed, no network).

- ``ansible-galaxy collection build`` makes the tarball, without the lab, the CI scripts or caches (galaxy.yml's
  build_ignore); it is installed with ``ansible-galaxy collection install -p`` into a temporary collections path,
  and everything else runs from that installed copy, from a directory outside the repository:
  ``ansible-doc`` of every module (plugins/modules) and every role (roles/, from its argument specs), and
  ``ansible-playbook --syntax-check`` of every playbook (playbooks/), blackduck.hub.upgrade_hub above all.
- antsibull-changelog: the fragments lint clean, and a release made in a throw-away copy renders CHANGELOG.rst
  with every fragment, every new module and role (from version_added) and every playbook the fragments announce.
- ansible-builder: meta/execution-environment.yml is valid for ansible-builder 3; the AWX execution environment
  definition (docs/awx-ee/execution-environment.yml) makes a build context (``ansible-builder create``, which
  needs no registry) holding the built collection; and that context's own introspection script, run on the
  installed collection as the image build would run it, finds every requirement of meta/ee-requirements.txt and
  meta/ee-bindep.txt.

Modules, roles and playbooks are found when the tests are collected, so new ones are checked without a change here.
"""
import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from ansible_collections.blackduck.hub.plugins.filter import (
    compose_file, connection, docker_run, failure, fleet, k8s_manifest, readiness, steps)

pytestmark = pytest.mark.no_containers  # make test runs it beside the exclusive tests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

with open(os.path.join(REPO, "galaxy.yml")) as _f:
    GALAXY = yaml.safe_load(_f)
FQCN = "%s.%s" % (GALAXY["namespace"], GALAXY["name"])
VERSION = str(GALAXY["version"])


def _module_names():
    return sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py"))
                  if os.path.basename(p) != "__init__.py")


def _roles():
    root = os.path.join(REPO, "roles")
    return sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith(".")) \
        if os.path.isdir(root) else []


def _argument_specs_file(role):
    for ext in ("yml", "yaml"):
        path = os.path.join(REPO, "roles", role, "meta", "argument_specs." + ext)
        if os.path.isfile(path):
            return path
    return None


def _playbooks():
    return sorted(os.path.splitext(os.path.basename(p))[0]
                  for ext in ("yml", "yaml") for p in glob.glob(os.path.join(REPO, "playbooks", "*." + ext)))


def _module_doc(name):
    """The DOCUMENTATION of plugins/modules/<name>.py, parsed (without importing the module)."""
    with open(os.path.join(REPO, "plugins", "modules", name + ".py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            return yaml.safe_load(node.value.value)
    raise AssertionError("plugins/modules/%s.py has no DOCUMENTATION" % name)


def _version_tuple(text):
    return tuple(int(x) for x in re.findall(r"\d+", str(text))[:3])


def run(argv, cwd, env=None, timeout=600):
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def explain(proc):
    return "%s exited %s\n--- stdout\n%s\n--- stderr\n%s" % (
        " ".join(proc.args), proc.returncode, proc.stdout[-6000:], proc.stderr[-6000:])


def _env(collections_path=None):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_NOCOLOR="1", PAGER="cat")
    env.pop("ANSIBLE_CONFIG", None)
    if collections_path:
        # Replaces ~/.ansible/collections and /usr/share/ansible/collections: only the installed copy of this
        # collection is found (and the ansible package's collections, which the roles use).
        env["ANSIBLE_COLLECTIONS_PATH"] = collections_path
    return env


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    """A working directory outside the repository (no ansible.cfg, no adjacent collections)."""
    return str(tmp_path_factory.mktemp("outside"))


@pytest.fixture(scope="module")
def tarball(tmp_path_factory, outside):
    out = str(tmp_path_factory.mktemp("build"))
    proc = run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", out, REPO], outside, _env())
    assert proc.returncode == 0, explain(proc)
    path = os.path.join(out, "%s-%s-%s.tar.gz" % (GALAXY["namespace"], GALAXY["name"], VERSION))
    assert os.path.isfile(path), "ansible-galaxy did not make %s: %s" % (path, os.listdir(out))
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory, tarball, outside):
    """The collections path the tarball was installed into."""
    path = str(tmp_path_factory.mktemp("collections"))
    # --no-deps: Galaxy is not reachable; the collections the roles use come from the ansible package.
    proc = run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-p", path, tarball],
               outside, _env(path))
    assert proc.returncode == 0, explain(proc)
    root = os.path.join(path, "ansible_collections", GALAXY["namespace"], GALAXY["name"])
    assert os.path.isfile(os.path.join(root, "MANIFEST.json")), "no installed collection in %s" % root
    return path


def installed_root(installed):
    return os.path.join(installed, "ansible_collections", GALAXY["namespace"], GALAXY["name"])


# The build


def test_tarball_leaves_out_the_lab_ci_and_caches(tarball):
    with tarfile.open(tarball) as tar:
        names = [m.name.lstrip("./") for m in tar.getmembers()]
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    unwanted = [n for n in names
                if n == "tests/lab" or n.startswith("tests/lab/") or n == ".ci" or n.startswith(".ci/")
                or "__pycache__" in n.split("/") or ".pytest_cache" in n.split("/") or n.endswith(".pyc")
                or n.endswith(".tar.gz")]
    assert not unwanted, "the tarball holds files build_ignore should leave out: %s" % unwanted[:20]
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (GALAXY["namespace"], GALAXY["name"], VERSION)
    wanted = ["meta/runtime.yml", "meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-bindep.txt",
              "changelogs/config.yaml"] + ["plugins/modules/%s.py" % m for m in _module_names()]
    missing = [w for w in wanted if w not in names]
    assert not missing, "the tarball lacks %s" % missing


# ansible-doc and ansible-playbook, from the installed copy


@pytest.mark.parametrize("module", _module_names())
def test_ansible_doc_renders_every_module(module, installed, outside):
    fqcn = "%s.%s" % (FQCN, module)
    where = os.path.join(installed_root(installed), "plugins", "modules", module + ".py")
    proc = run([os.path.join(BIN, "ansible-doc"), fqcn], outside, _env(installed))
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.startswith("> MODULE %s (%s)" % (fqcn, where)), \
        "ansible-doc did not document %s from the installed copy:\n%s" % (fqcn, proc.stdout[:500])
    assert "[WARNING]" not in proc.stderr and "[ERROR]" not in proc.stderr, explain(proc)
    # ansible-core 2.19's text page leaves the short description out; the snippet (-s) names the task with it.
    short = " ".join(_module_doc(module)["short_description"].split())
    proc = run([os.path.join(BIN, "ansible-doc"), "-s", fqcn], outside, _env(installed))
    assert proc.returncode == 0, explain(proc)
    assert "- name: %s" % short in " ".join(proc.stdout.split()), \
        "ansible-doc -s %s does not show the short description %r:\n%s" % (fqcn, short, proc.stdout[:500])


FILTERS = sorted(f[:-4] for f in os.listdir(os.path.join(REPO, "plugins", "filter")) if f.endswith(".yml"))


def test_the_filters_are_documented_and_exported():
    exported = [name for m in (compose_file, connection, docker_run, failure, fleet, k8s_manifest, readiness, steps)
                for name in m.FilterModule().filters()]
    assert FILTERS == sorted(exported)


@pytest.mark.parametrize("name", FILTERS)
def test_ansible_doc_renders_every_filter(name, installed, outside):
    fqcn = "%s.%s" % (FQCN, name)
    proc = run([os.path.join(BIN, "ansible-doc"), "-t", "filter", fqcn], outside, _env(installed))
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.startswith("> FILTER %s" % fqcn), proc.stdout[:500]
    assert "[WARNING]" not in proc.stderr and "[ERROR]" not in proc.stderr, explain(proc)


def test_every_role_has_argument_specs():
    without = [r for r in _roles() if not _argument_specs_file(r)]
    assert not without, "roles without meta/argument_specs.yml (ansible-doc -t role cannot document them): %s" % without


_ROLES_WITH_SPECS = [r for r in _roles() if _argument_specs_file(r)] or [
    pytest.param(None, marks=pytest.mark.skip(reason="no role under roles/ has meta/argument_specs.yml yet"))]


@pytest.mark.parametrize("role", _ROLES_WITH_SPECS)
def test_ansible_doc_renders_every_role(role, installed, outside):
    fqcn = "%s.%s" % (FQCN, role)
    proc = run([os.path.join(BIN, "ansible-doc"), "-t", "role", fqcn], outside, _env(installed))
    assert proc.returncode == 0, explain(proc)
    assert "[WARNING]" not in proc.stderr and "[ERROR]" not in proc.stderr, explain(proc)
    text = proc.stdout.replace("*", "")  # bold, without colours
    assert text.startswith("> ROLE: %s (%s" % (fqcn, installed_root(installed))), \
        "ansible-doc did not document %s from the installed copy:\n%s" % (fqcn, text[:500])
    with open(_argument_specs_file(role)) as f:
        specs = yaml.safe_load(f)["argument_specs"]
    for entry_point, spec in specs.items():
        line = "ENTRY POINT: %s" % entry_point
        if spec.get("short_description"):
            line += " - %s" % spec["short_description"]
        assert line in text, "ansible-doc -t role %s does not show %r:\n%s" % (fqcn, line, text[:2000])


_PLAYBOOKS = _playbooks()
_PLAYBOOK_PARAMS = list(_PLAYBOOKS)
if "upgrade_hub" not in _PLAYBOOKS:
    _PLAYBOOK_PARAMS.append(pytest.param("upgrade_hub", marks=pytest.mark.skip(
        reason="playbooks/upgrade_hub.yml does not exist yet: blackduck.hub.upgrade_hub cannot be syntax-checked")))


@pytest.mark.parametrize("playbook", _PLAYBOOK_PARAMS)
def test_playbook_syntax_from_the_installed_copy(playbook, installed, outside):
    fqcn = "%s.%s" % (FQCN, playbook)
    proc = run([os.path.join(BIN, "ansible-playbook"), "--syntax-check", "-i", "localhost,", fqcn], outside,
               _env(installed))
    assert proc.returncode == 0, explain(proc)
    assert "playbook: %s" % os.path.join(installed_root(installed), "playbooks") in proc.stdout, explain(proc)


# Publishable, and usable from a project folder


def test_galaxy_names_where_the_collection_lives_and_its_licence():
    for key in ("repository", "documentation", "homepage", "issues"):
        assert re.match(r"^https://\S+$", GALAXY.get(key) or ""), "galaxy.yml has no %s address" % key
    assert GALAXY["license"] == ["GPL-3.0-or-later"]
    with open(os.path.join(REPO, "LICENSE")) as f:
        text = f.read()
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text and len(text) > 30000


def test_action_group_for_the_database_modules():
    with open(os.path.join(REPO, "meta", "runtime.yml")) as f:
        runtime = yaml.safe_load(f)
    assert runtime["action_groups"]["database"] == ["db_dump", "db_restore", "db_verify", "disk_space", "hub_jobs"]
    connection_modules = [m for m in _module_names() if "blackduck.hub.connection" in
                          (_module_doc(m).get("extends_documentation_fragment") or [])]
    assert sorted(connection_modules) == sorted(runtime["action_groups"]["database"])


LINK = re.compile(r"\[[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_installed_readme_works_where_it_is(installed):
    root = installed_root(installed)
    readme = os.path.join(root, GALAXY["readme"])
    assert os.path.isfile(readme), "the installed collection has no %s" % GALAXY["readme"]
    assert not os.path.exists(os.path.join(root, "README.md"))  # the repository's, with its developers' commands
    with open(readme) as f:
        text = f.read()
    assert not re.search(r"(^|\s)make \w", text), "the installed README names a make command it cannot run"
    links = [m.group(1) for m in LINK.finditer(text) if not re.match(r"^[a-z]+:", m.group(1))]
    assert links, "the README links to nothing"
    for link in links:
        target = os.path.normpath(os.path.join(os.path.dirname(readme), link))
        assert os.path.exists(target), "the installed README's link %s leads nowhere (%s)" % (link, target)


@pytest.fixture(scope="module")
def example_project(tmp_path_factory, tarball):
    """examples/project copied as a user takes it, with the collection installed into its collections/ folder."""
    project = os.path.join(str(tmp_path_factory.mktemp("example")), "project")
    shutil.copytree(os.path.join(REPO, "examples", "project"), project)
    shutil.copy(tarball, project)
    # as the project's README line says, without Galaxy (community.docker comes from the ansible package)
    proc = run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-p", "collections",
                os.path.basename(tarball)], project, _env())
    assert proc.returncode == 0, explain(proc)
    with open(os.path.join(project, "collections", "requirements.yml")) as f:
        wanted = yaml.safe_load(f)["collections"]
    assert wanted[0] == {"name": "./%s" % os.path.basename(tarball), "type": "file"}, wanted
    return project


def test_example_project_runs_as_users_type_it(example_project):
    env = _env()  # no ANSIBLE_COLLECTIONS_PATH: the project's ansible.cfg finds its collections/ folder
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    for playbook in ("upgrade_hub.yml", "rollback_hub.yml"):
        for args in (["--syntax-check"], ["--check"]):
            proc = run([os.path.join(BIN, "ansible-playbook"), playbook] + args, example_project, env)
            assert proc.returncode == 0, explain(proc)
    listed = run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", FQCN], example_project, env)
    assert os.path.join(example_project, "collections", "ansible_collections") in listed.stdout, explain(listed)
    with open(os.path.join(example_project, "inventory.yml")) as f:
        inventory = f.read()
    for kind in ("hub_orchestration: compose", "hub_orchestration: swarm", "hub_new_orchestration: kubernetes",
                 "hub_database: external", "hub_old_postgres_host:"):
        assert kind in inventory, kind


def test_every_required_setting_missing_is_named(installed, outside, tmp_path):
    required = ("hub_orchestration", "hub_old_bundle", "hub_new_bundle", "hub_dump_dir")
    full = {"ansible_connection": "local", "hub_orchestration": "compose", "hub_old_bundle": "/nonexistent/old",
            "hub_new_bundle": "/nonexistent/new", "hub_dump_dir": str(tmp_path / "dumps")}
    for name in required:
        host = dict((k, v) for k, v in full.items() if k != name)
        inv = str(tmp_path / ("inv-%s.json" % name))
        with open(inv, "w") as f:
            json.dump({"all": {"hosts": {"h1": host}}}, f)
        proc = run([os.path.join(BIN, "ansible-playbook"), "-i", inv, "%s.upgrade_hub" % FQCN, "--check"], outside,
                   _env(installed))
        assert proc.returncode != 0
        assert "missing required arguments: %s" % name in proc.stdout + proc.stderr, explain(proc)
        assert "is undefined" not in proc.stdout + proc.stderr, explain(proc)


def test_a_wait_too_short_is_refused_before_anything(installed, outside, tmp_path):
    """A timeout under its least value would skip a wait (a wait checks every few seconds): refused, by the upgrade and
    the rollback alike, before the hub is looked at (its bundles here do not exist: no discovery message), and nothing
    is written."""
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "hub_orchestration": "compose", "hub_old_bundle": "/nonexistent/old", "hub_new_bundle": "/nonexistent/new",
            "hub_dump_dir": str(tmp_path / "dumps")}
    for playbook, setting, value, least in (("upgrade_hub", "hub_stop_timeout", 2, 10),
                                            ("rollback_hub", "hub_start_timeout", 0, 10),
                                            ("upgrade_hub", "hub_drain_timeout", -5, 0)):
        inv = str(tmp_path / ("inv-%s.json" % setting))
        with open(inv, "w") as f:
            json.dump({"all": {"hosts": {"h1": dict(host, **{setting: value})}}}, f)
        proc = run([os.path.join(BIN, "ansible-playbook"), "-i", inv, "%s.%s" % (FQCN, playbook)], outside,
                   _env(installed))
        out = " ".join((proc.stdout + proc.stderr).split())
        assert proc.returncode != 0, explain(proc)
        assert "%s is %s, less than %d: the run would not wait as it must" % (setting, value, least) in out, explain(proc)
        assert "/nonexistent" not in out, explain(proc)  # refused before discovery
        assert not os.path.exists(str(tmp_path / "dumps")), explain(proc)
    # the defaults, and values at their least, pass the check (the run then fails at discovery, on the bundles)
    inv = str(tmp_path / "inv-least.json")
    with open(inv, "w") as f:
        json.dump({"all": {"hosts": {"h1": dict(host, hub_stop_timeout=10, hub_drain_timeout=0)}}}, f)
    proc = run([os.path.join(BIN, "ansible-playbook"), "-i", inv, "%s.upgrade_hub" % FQCN, "--check"], outside,
               _env(installed))
    out = " ".join((proc.stdout + proc.stderr).split())
    assert "less than" not in out and "/nonexistent/old" in out, explain(proc)


def test_a_rollout_that_stops_itself_and_a_fleet_report_that_names_every_hub(installed, outside, tmp_path):
    """Three hubs whose bundles are not there (each fails before step 1, nothing needs a lab): without a limit every
    one is tried and named; with hub_serial 1 and hub_max_failures 0 the first fails and the two later batches do
    not start, listed as such, not as failures (the same with hub_max_fail_percentage, a share of the hubs); a host
    outside --limit is not in the run, never a failure."""
    hosts = dict(("h%d" % i, {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                              "hub_orchestration": "compose", "hub_old_bundle": "/nonexistent/old-%d" % i,
                              "hub_new_bundle": "/nonexistent/new", "hub_dump_dir": str(tmp_path / ("d%d" % i))})
                 for i in (1, 2, 3))
    inv = str(tmp_path / "fleet.json")
    with open(inv, "w") as f:
        json.dump({"all": {"hosts": hosts}}, f)
    report_dir = str(tmp_path / "fleet-report")

    def fleet(*args):
        proc = run([os.path.join(BIN, "ansible-playbook"), "-i", inv, "%s.upgrade_hub" % FQCN, "--check",
                    "-e", "hub_fleet_report_dir=%s" % report_dir] + list(args), outside, _env(installed))
        with open(os.path.join(report_dir, "fleet.json")) as f:
            return proc, json.load(f)

    proc, report = fleet()
    assert proc.returncode != 0
    assert [(h["host"], h["outcome"]) for h in report["hubs"]] == [("h1", "failed"), ("h2", "failed"), ("h3", "failed")]
    assert all("/nonexistent/old-%s" % h["host"][1] in h["detail"] for h in report["hubs"]), report
    assert "h3: FAILED before step 1: " in proc.stdout, explain(proc)

    proc, report = fleet("-e", "hub_serial=1", "-e", "hub_max_failures=0")
    outcomes = [(h["host"], h["outcome"]) for h in report["hubs"]]
    assert outcomes == [("h1", "failed"), ("h2", "not started"), ("h3", "not started")], report
    assert report["hubs"][2]["detail"].startswith("1 hub(s) failed in earlier batches (h1), more than hub_max_failures (0)")
    assert report["totals"]["outcomes"]["failed"] == 1 and "/nonexistent/old-2" not in proc.stdout, explain(proc)
    with open(os.path.join(report_dir, "fleet.md")) as f:
        md = f.read()
    assert "3 hub(s): 1 failed, 2 not started." in md and "| h2 | not started: 1 hub(s) failed" in md, md

    # a share instead of a number: 1 of 3 failed is 33.3%, more than 30% allows; 50% lets every batch start
    proc, report = fleet("-e", "hub_serial=1", "-e", "hub_max_fail_percentage=30")
    assert [h["outcome"] for h in report["hubs"]] == ["failed", "not started", "not started"], report
    assert "more than hub_max_fail_percentage (30% of the 3 hubs; 33.3% failed)" in report["hubs"][1]["detail"], report
    proc, report = fleet("-e", "hub_serial=1", "-e", "hub_max_fail_percentage=50")
    assert [h["outcome"] for h in report["hubs"]] == ["failed", "failed", "not started"], report

    proc, report = fleet("--limit", "h2")
    outcomes = [(h["host"], h["outcome"]) for h in report["hubs"]]
    assert outcomes == [("h1", "not in this run"), ("h2", "failed"), ("h3", "not in this run")], report
    assert report["run"]["limit"] == "h2" and "h1: not in this run" in proc.stdout, explain(proc)


# antsibull-changelog


def test_changelog_fragments_lint():
    proc = run([os.path.join(BIN, "antsibull-changelog"), "lint"], REPO, _env())
    assert proc.returncode == 0 and not proc.stdout.strip(), explain(proc)


def _fragments():
    root = os.path.join(REPO, "changelogs", "fragments")
    return sorted(f for f in os.listdir(root) if f.endswith((".yml", ".yaml"))) if os.path.isdir(root) else []


def test_changelog_release_renders_in_a_copy(tmp_path):
    """A release consumes the fragments, so it is made in a copy: the repository keeps them until release time."""
    copy = str(tmp_path / "collection")
    shutil.copytree(REPO, copy, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "tests", ".ci", "__pycache__", ".pytest_cache", "*.tar.gz"))
    changes = os.path.join(copy, "changelogs", "changelog.yaml")
    released = False
    if os.path.isfile(changes):
        with open(changes) as f:
            released = VERSION in ((yaml.safe_load(f) or {}).get("releases") or {})
    if released and not _fragments():
        argv = [os.path.join(BIN, "antsibull-changelog"), "generate"]
    else:
        argv = [os.path.join(BIN, "antsibull-changelog"), "release", "--version", VERSION, "--date", "2000-01-01"]
    proc = run(argv, copy, _env())
    assert proc.returncode == 0, explain(proc)
    with open(os.path.join(copy, "CHANGELOG.rst")) as f:
        rst = f.read()
    assert "%s Release Notes" % FQCN in rst and "v%s" % VERSION in rst, rst[:1000]
    flat = " ".join(rst.split())

    # Every fragment's text made it in (a release consumes them; keep_fragments is off).
    for name in _fragments():
        with open(os.path.join(REPO, "changelogs", "fragments", name)) as f:
            fragment = yaml.safe_load(f) or {}
        for section, entries in fragment.items():
            if section == "trivial":
                continue
            if section.startswith("add object.") or section.startswith("add plugin."):
                for entry in entries:
                    if section == "add object.playbook":
                        assert entry["name"] in _playbooks(), \
                            "changelogs/fragments/%s announces playbook %s, but playbooks/%s.yml does not exist" % (
                                name, entry["name"], entry["name"])
                    assert "%s.%s" % (FQCN, entry["name"]) in flat, "%s (%s) is not in CHANGELOG.rst" % (
                        entry["name"], name)
                continue
            for entry in entries if isinstance(entries, list) else [entries]:
                words = " ".join(str(entry).split())[:60]
                assert words in flat, "changelogs/fragments/%s (%s) is not in CHANGELOG.rst: %r" % (name, section, words)
    assert not _fragments_in(copy), "the release left fragments behind: %s" % _fragments_in(copy)

    # New modules and roles come from version_added: every one added in this version is listed.
    for module in _module_names():
        added = _module_doc(module).get("version_added")
        assert added, "plugins/modules/%s.py has no version_added" % module  # never later: test_nothing_is_added_after...
        if _version_tuple(added) == _version_tuple(VERSION):
            assert "%s.%s - " % (FQCN, module) in flat, "new module %s is not in CHANGELOG.rst" % module
    for role in _roles():
        specs_file = _argument_specs_file(role)
        if specs_file:
            with open(specs_file) as f:
                added = ((yaml.safe_load(f)["argument_specs"].get("main") or {}).get("version_added"))
            if added and _version_tuple(added) == _version_tuple(VERSION):
                assert "%s.%s - " % (FQCN, role) in flat, "new role %s is not in CHANGELOG.rst" % role


def test_nothing_is_added_after_galaxys_version():
    """Every version_added (a module, a filter, a role, an option, a suboption) is at most galaxy.yml's version: the
    version being built is the one it was added in, or an earlier one, never a later one (ansible-doc would show
    `added in 0.4.0` in a 0.3.0 collection)."""
    later = []
    for top in ("plugins", "roles", "playbooks", "meta"):
        for folder, _dirs, files in os.walk(os.path.join(REPO, top)):
            for name in files:
                if not name.endswith((".py", ".yml", ".yaml")):
                    continue
                path = os.path.join(folder, name)
                with open(path) as f:
                    for number, line in enumerate(f, 1):
                        for added in re.findall(r"\bversion_added:\s*[\"']?([0-9][0-9.]*)", line):
                            if _version_tuple(added) > _version_tuple(VERSION):
                                later.append("%s:%d (%s)" % (os.path.relpath(path, REPO), number, added))
    assert not later, "version_added after galaxy.yml's version %s: %s" % (VERSION, ", ".join(later))


def _fragments_in(root):
    path = os.path.join(root, "changelogs", "fragments")
    return [f for f in os.listdir(path) if f.endswith((".yml", ".yaml"))] if os.path.isdir(path) else []


# ansible-builder


def _requirement_lines(path):
    with open(path) as f:
        return [ln.split("#", 1)[0].strip() for ln in f if ln.split("#", 1)[0].strip()]


def test_meta_execution_environment_is_valid_for_ansible_builder():
    from ansible_builder.ee_schema import validate_schema

    with open(os.path.join(REPO, "meta", "execution-environment.yml")) as f:
        ee = yaml.safe_load(f)
    validate_schema(ee)  # raises on an invalid definition
    assert ee["version"] == 3
    for kind in ("python", "system"):
        path = ee["dependencies"][kind]
        # ansible-builder resolves a collection's requirement files from the collection's root.
        assert isinstance(path, str) and not os.path.isabs(path), (kind, path)
        assert os.path.isfile(os.path.join(REPO, path)), "%s requirements %s: no such file in the collection" % (
            kind, path)


@pytest.fixture(scope="module")
def ee_context(tmp_path_factory, tarball, outside):
    """`ansible-builder create` of the AWX execution environment, with the built tarball beside its definition."""
    work = str(tmp_path_factory.mktemp("ee"))
    definition = os.path.join(work, "execution-environment.yml")
    shutil.copy(os.path.join(REPO, "docs", "awx-ee", "execution-environment.yml"), definition)
    shutil.copy(tarball, work)
    context = os.path.join(work, "context")
    proc = run([os.path.join(BIN, "ansible-builder"), "create", "-f", definition, "-c", context,
                "--output-filename", "Containerfile"], outside, _env())
    assert proc.returncode == 0, explain(proc)
    return context


def test_ee_context_holds_the_collection_ansible_and_runner(ee_context, tarball):
    with open(os.path.join(ee_context, "Containerfile")) as f:
        containerfile = f.read()
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile, re.M)
    assert refs and "ansible-core" in refs.group(1) and "ansible-runner" in refs.group(1), containerfile[:1500]
    copied = os.path.join(ee_context, "_build", "collections", os.path.basename(tarball))
    assert os.path.isfile(copied), "the build context lacks the collection tarball: %s" % copied
    with open(copied, "rb") as a, open(tarball, "rb") as b:
        assert a.read() == b.read(), "the tarball in the build context is not the one just built"
    assert re.search(r"^RUN ansible-galaxy collection install .*/build/collections/%s-%s-\*\.tar\.gz$" % (
        GALAXY["namespace"], GALAXY["name"]), containerfile, re.M), containerfile
    with open(os.path.join(ee_context, "_build", "requirements.yml")) as f:
        galaxy = yaml.safe_load(f)
    names = [c["name"] for c in galaxy["collections"]]
    assert "community.docker" in names, names  # the swarm role's docker_swarm_info
    # The image build runs ansible-builder's introspection over the installed collections.
    assert re.search(r"^RUN \$PYCMD /output/scripts/introspect.py introspect", containerfile, re.M), containerfile


def test_ee_introspection_finds_the_collection_requirements(ee_context, installed, outside):
    """The build context's own introspect.py, run on the installed collection as the image build runs it."""
    script = os.path.join(ee_context, "_build", "scripts", "introspect.py")
    proc = run([sys.executable, script, "introspect", "--sanitize", installed], outside, _env())
    assert proc.returncode == 0, explain(proc)
    found = yaml.safe_load(proc.stdout[proc.stdout.index("---"):])
    origin = "# from collection %s" % FQCN
    for kind, name in (("python", "ee-requirements.txt"), ("system", "ee-bindep.txt")):
        got = [ln.split("#", 1)[0].strip() for ln in (found.get(kind) or []) if origin in ln]
        for want in _requirement_lines(os.path.join(REPO, "meta", name)):
            simple = re.split(r"[<>=!~\[; ]", want, maxsplit=1)[0].lower()
            if kind == "python" and simple in ("pyyaml", "yaml", "ansible-core", "ansible"):
                continue  # ansible-builder leaves these out on purpose (always there)
            assert want in got, "ansible-builder's introspection misses %s requirement %r of meta/%s: %s" % (
                kind, want, name, found)


# docs/awx.md: its examples run


class _AnsibleYamlLoader(yaml.SafeLoader):
    """A safe loader that also reads Ansible's !unsafe and !vault tags (as plain strings)."""


_AnsibleYamlLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
_AnsibleYamlLoader.add_constructor("!vault", lambda loader, node: loader.construct_scalar(node))


def _doc_yaml_blocks(name):
    """The ```yaml blocks of docs/<name> (indented ones too): (text, parsed) pairs."""
    with open(os.path.join(REPO, "docs", name)) as f:
        text = f.read()
    blocks = []
    for match in re.finditer(r"^( *)```yaml\n(.*?)^\1```", text, re.M | re.S):
        body = "\n".join(line[len(match.group(1)):] for line in match.group(2).splitlines()) + "\n"
        blocks.append((body, yaml.load(body, Loader=_AnsibleYamlLoader)))
    return blocks


def _doc_block(name, predicate):
    found = [(body, data) for body, data in _doc_yaml_blocks(name) if predicate(data)]
    assert len(found) == 1, "docs/%s: expected one such example, found %d" % (name, len(found))
    return found[0]


def _is_play_with(data, test):
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and test(data[0])


def test_awx_doc_project_playbook_imports_the_installed_playbook(installed, outside, tmp_path):
    if "upgrade_hub" not in _PLAYBOOKS:
        pytest.skip("playbooks/upgrade_hub.yml does not exist yet")
    body, play = _doc_block("awx.md", lambda d: _is_play_with(d, lambda p: "ansible.builtin.import_playbook" in p))
    assert play[0]["ansible.builtin.import_playbook"] == "%s.upgrade_hub" % FQCN
    path = tmp_path / "upgrade_hub.yml"
    path.write_text(body)
    proc = run([os.path.join(BIN, "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(path)], outside,
               _env(installed))
    assert proc.returncode == 0, explain(proc)


def test_awx_doc_setup_playbook_uses_real_awx_options(outside, tmp_path):
    body, plays = _doc_block("awx.md", lambda d: _is_play_with(
        d, lambda p: any(k.startswith("awx.awx.") for t in p.get("tasks", []) for k in t)))
    path = tmp_path / "awx_setup.yml"
    path.write_text(body)
    proc = run([os.path.join(BIN, "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(path)], outside,
               _env())
    assert proc.returncode == 0, explain(proc)
    specs = {}
    for task in plays[0]["tasks"]:
        module = next(k for k in task if k.startswith("awx.awx."))
        if module not in specs:
            proc = run([os.path.join(BIN, "ansible-doc"), "--json", module], outside, _env())
            assert proc.returncode == 0, explain(proc)
            specs[module] = json.loads(proc.stdout)[module]["doc"]["options"]
        options = specs[module]
        unknown = sorted(set(task[module]) - set(options))
        assert not unknown, "docs/awx.md, task %r: %s has no option %s" % (task["name"], module, unknown)
        for key, value in task[module].items():
            choices = options[key].get("choices")
            if choices and isinstance(value, str) and "{{" not in value:
                assert value in choices, "docs/awx.md, task %r: %s=%s is not one of %s" % (
                    task["name"], key, value, choices)
        if module == "awx.awx.credential_type":
            # The credential type typed into the AWX UI (the page's two blocks) is the one made as code.
            inputs = _doc_block("awx.md", lambda d: isinstance(d, dict) and "fields" in d)[1]
            injectors = _doc_block("awx.md", lambda d: isinstance(d, dict) and "env" in d and "file" in d)[1]
            assert task[module]["inputs"] == inputs, "docs/awx.md: the credential type's inputs differ"
            assert task[module]["injectors"] == injectors, "docs/awx.md: the credential type's injectors differ"
            # Passwords reach the job as files only: the environment holds paths, never a secret field.
            secrets = {f["id"] for f in inputs["fields"] if f.get("secret")}
            for var, value in injectors["env"].items():
                assert not any("{{ %s }}" % s in value for s in secrets), "%s would put a password in the environment" % var
