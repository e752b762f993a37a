"""docs/troubleshooting.md and the code say the same: every message the page quotes is one the code can give, and every
error message the code can give is on the page.

The page's format: each message is a level-3 heading made of one inline code span, on a line of its own::

    ### `the dump in ... cannot be restored: ...`

Inside the code span, ``...`` stands where the code puts a value (a ``%s`` of a Python message, a ``{{ }}`` of a role's
message); everything else is the message's fixed text, exactly as in the code (whitespace normalised). A heading may stop
before the message ends. Every other line of the page is free text.

The code's messages:
- plugins/ (Python, read with ``ast``, so adjacent string literals are one string): the ``msg`` of every ``fail_json``,
  the first argument of every ``raise SomeError(...)``, and the message an exception class passes to ``__init__``;
- roles/ and playbooks/ (YAML): the ``msg`` of every ``fail`` task and the ``fail_msg`` of every ``assert`` task, in
  blocks, rescues and always sections too.
A page heading may also quote any other string of plugins/ (for example a message a function builds and a module fails
with), but not the modules' documentation.
"""
import ast
import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(REPO, "docs", "troubleshooting.md")
PYTHON_DIRS = ("plugins",)
YAML_DIRS = ("roles", "playbooks")

GAP = "..."  # what the page writes where the code puts a value
HEADING = re.compile(r"^###\s+`([^`]+)`\s*$")
PY_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]")
JINJA_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
SIGNATURE_LENGTH = 30  # how much of a code message (its fixed text, ... for values) the page must quote at least
MODULE_DOCS = ("DOCUMENTATION", "EXAMPLES", "RETURN")
FAIL_ACTIONS = ("fail", "ansible.builtin.fail", "ansible.legacy.fail")
ASSERT_ACTIONS = ("assert", "ansible.builtin.assert", "ansible.legacy.assert")


def norm(text):
    return " ".join(text.split())


def render_percent(text):
    """A %-format string as the page writes it: ... for each placeholder, %% as %."""
    return norm(PY_PLACEHOLDER.sub(GAP, text).replace("%%", "%"))


# ------------------------------------------------------------------------------------------------ Python messages

def python_template(node):
    """The message an expression makes, with ... for the values; None when it has no fixed text (str(exc), a name)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return norm(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
            and isinstance(node.left.value, str):
        return render_percent(node.left.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = python_template(node.left), python_template(node.right)
        if left is None and right is None:
            return None
        return norm((GAP if left is None else left) + (GAP if right is None else right))
    if isinstance(node, ast.JoinedStr):
        return norm("".join(v.value if isinstance(v, ast.Constant) else GAP for v in node.values))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
        return norm(re.sub(r"\{[^{}]*\}", GAP, node.func.value.value))
    return None


def _message_nodes(tree):
    """The expressions that are error messages: fail_json(msg=...), raise X(...), an exception's __init__(...)."""
    found = []
    exception_classes = [c for c in ast.walk(tree) if isinstance(c, ast.ClassDef)
                         and any(isinstance(b, ast.Name) and b.id.endswith(("Error", "Exception")) for b in c.bases)]
    init_calls = set()
    for cls in exception_classes:
        for node in ast.walk(cls):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__":
                # super(C, self).__init__(message) / Base.__init__(self, message)
                args = node.args if isinstance(node.func.value, ast.Call) else node.args[1:]
                if args:
                    found.append(args[0])
                    init_calls.add(id(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name == "fail_json":
                found += [k.value for k in node.keywords if k.arg == "msg"]
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            found.append(node.exc.args[0])
    return found


def _documentation_nodes(tree):
    """Docstrings and the modules' DOCUMENTATION / EXAMPLES / RETURN: text, not messages."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                skip.add(id(first.value))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in MODULE_DOCS for t in node.targets):
            skip.add(id(node.value))
    return skip


def python_messages(source, where):
    """(messages, strings) of one Python source: [(where, template)] and every other string, rendered."""
    tree = ast.parse(source)
    messages = []
    for node in _message_nodes(tree):
        template = python_template(node)
        if template is not None:
            messages.append(("%s:%d" % (where, node.lineno), template))
    skip = _documentation_nodes(tree)
    strings = [render_percent(n.value) for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip]
    return messages, strings


# -------------------------------------------------------------------------------------------------- YAML messages

def yaml_template(text):
    return norm(JINJA_PLACEHOLDER.sub(GAP, text))


def _yaml_message_texts(data):
    """Every fail msg and assert fail_msg in loaded YAML, wherever the task is (blocks, rescue, always)."""
    texts = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict):
                if key in FAIL_ACTIONS:
                    texts.append(value.get("msg"))
                elif key in ASSERT_ACTIONS:
                    texts.append(value.get("fail_msg", value.get("msg")))
            texts += _yaml_message_texts(value)
    elif isinstance(data, list):
        for item in data:
            texts += _yaml_message_texts(item)
    out = []
    for text in texts:
        out += text if isinstance(text, list) else [text]
    return [t for t in out if isinstance(t, str)]


def yaml_messages(source, where):
    return [(where, yaml_template(text)) for text in _yaml_message_texts(yaml.safe_load(source))]


# ------------------------------------------------------------------------------------------------ the code, the page

def _files(dirs, suffixes):
    for top in dirs:
        for root, dummy, files in os.walk(os.path.join(REPO, top)):
            for name in sorted(files):
                if name.endswith(suffixes):
                    path = os.path.join(root, name)
                    with open(path, encoding="utf-8") as f:
                        yield os.path.relpath(path, REPO), f.read()


def code_messages():
    """([(where, template)] of every error message of the code, [every string a page heading may quote])."""
    messages, strings = [], []
    for where, source in _files(PYTHON_DIRS, (".py",)):
        found, texts = python_messages(source, where)
        messages += found
        strings += texts
    for where, source in _files(YAML_DIRS, (".yml", ".yaml")):
        messages += yaml_messages(source, where)
    strings += [template for dummy, template in messages]
    return messages, strings


def signature(template):
    """The start of a message that the page must quote; None when the message is all values (a re-raised error)."""
    if not re.search(r"[A-Za-z]", template.replace(GAP, "")):
        return None
    return template[:SIGNATURE_LENGTH].rstrip()


def page_messages(text):
    """[(line number, quoted message)] of the page's message headings."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        m = HEADING.match(line)
        if m:
            out.append((number, norm(m.group(1))))
    return out


def quoted_in(quote, strings):
    """Whether the page's quote is the start of one of the code's strings (a trailing ... may end it early)."""
    start = quote[:-len(GAP)].rstrip() if quote.endswith(GAP) and quote != GAP else quote
    return any(s.startswith(start) for s in strings)


def _page():
    with open(PAGE, encoding="utf-8") as f:
        return page_messages(f.read())


# ----------------------------------------------------------------------------------------------------------- tests

def test_the_extraction_sees_every_shape_of_message():
    source = '''
class DiskError(Exception):
    def __init__(self, path):
        super(DiskError, self).__init__("the disk holding %s is full: "
                                        "free space" % path)

def f(module, exc, name):
    module.fail_json(msg="database %s not found on %s. Check "
                         "the databases option." % (name, "x"), changed=False)
    module.fail_json(msg=str(exc))
    raise ValueError("step %r: one of %s" % (name, ", ".join("ab")))
    raise DiskError(name)
'''
    messages, strings = python_messages(source, "x.py")
    assert sorted(t for dummy, t in messages) == [
        "database ... not found on .... Check the databases option.", "step ...: one of ...",
        "the disk holding ... is full: free space"]
    assert "database ... not found on .... Check the databases option." in strings
    tasks = '''
- name: A block
  block:
    - name: Check
      ansible.builtin.assert:
        that: x
        fail_msg: >-
          {{ item }} cannot be read ({{ item.msg | default('missing') }}):
          give the bundle
  rescue:
    - name: Fail
      ansible.builtin.fail:
        msg: "The migration of {{ hub_name }} stopped"
'''
    assert [t for dummy, t in yaml_messages(tasks, "t.yml")] == [
        "... cannot be read (...): give the bundle", "The migration of ... stopped"]
    assert signature("... holds a complete dump whose files no longer match") == "... holds a complete dump whos"
    assert signature("...") is None
    assert quoted_in("the disk holding ... is full: ...", ["the disk holding ... is full: ... free"])
    assert not quoted_in("the disk holding ... is empty", ["the disk holding ... is full: ... free"])


def test_the_page_has_its_messages():
    quotes = _page()
    assert len(quotes) >= 40, "docs/troubleshooting.md: expected a ### `message` heading per message, found %d" % len(quotes)
    seen, twice = set(), []
    for number, quote in quotes:
        if quote in seen:
            twice.append("line %d: %s" % (number, quote))
        seen.add(quote)
    assert not twice, "docs/troubleshooting.md quotes these more than once:\n" + "\n".join(twice)


def test_every_message_on_the_page_is_in_the_code():
    dummy, strings = code_messages()
    missing = ["docs/troubleshooting.md line %d: %s" % (number, quote) for number, quote in _page()
               if not quoted_in(quote, strings)]
    assert not missing, ("these headings quote no message of plugins/ or roles/ (the code's fixed text, with ... for "
                         "each value):\n" + "\n".join(missing))


def test_every_message_of_the_code_is_on_the_page():
    messages, dummy = code_messages()
    assert len(messages) >= 40  # the extraction found the code's messages
    quotes = [quote for dummy, quote in _page()]
    missing = sorted(set("%s: %s" % (where, template) for where, template in messages
                         if signature(template) and not any(q.startswith(signature(template)) for q in quotes)))
    assert not missing, ("docs/troubleshooting.md lacks these messages (add a ### `...` heading quoting at least their "
                         "first %d characters, ... for each value):\n%s" % (SIGNATURE_LENGTH, "\n".join(missing)))
