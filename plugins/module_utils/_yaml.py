# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML as the vendor's bundles are written: every document of a text, a repeated key taking its last value (as
kubectl and docker-compose of the day did) and each repetition noted, so a plan can say what was read."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core on the controller requires PyYAML
    yaml = None
    HAS_YAML = False


if HAS_YAML:
    class _Loader(yaml.SafeLoader):
        """A safe loader that records duplicate keys (the last one wins, as PyYAML does anyway)."""

        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, dummy in node.value:
                key = self.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
                if isinstance(key, str) and key in seen:
                    self.duplicates.append("duplicate key %r (line %d): the last value is used"
                                           % (key, key_node.start_mark.line + 1))
                seen.add(key)
            return yaml.SafeLoader.construct_mapping(self, node, deep=deep)


_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_TOKEN = re.compile(r"^(<[a-z ]+>|[][{},:?-])$")  # what the grammar expected or got, never a piece of the text


def _where(exc):
    """The parser's reason and where, never the text it quotes: PyYAML's own message copies the offending line (in a
    bundle's file, a password) and its reasons quote what they found (an alias, a character)."""
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or "the parser refused it"
    problem = _QUOTED.sub(lambda m: m.group(0) if _TOKEN.match(m.group(1) or m.group(2)) else "...",
                          " ".join(str(problem).split()))
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return problem
    return "%s (line %d, column %d)" % (problem, mark.line + 1, mark.column + 1)


def load_yaml(text):
    """(documents, notes on repeated keys) of a YAML text; empty documents are left out. ValueError if not YAML."""
    if not HAS_YAML:
        raise ValueError("PyYAML is needed to read the bundle's files")
    loader = _Loader(text)
    loader.duplicates = []
    try:
        docs = []
        while loader.check_data():
            doc = loader.get_data()
            if doc:
                docs.append(doc)
    except yaml.YAMLError as exc:
        raise ValueError("not a YAML manifest: %s" % _where(exc))
    finally:
        loader.dispose()
    return docs, loader.duplicates
