# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML as the vendor's bundles are written: every document of a text, a repeated key taking its last value (as
kubectl and docker-compose of the day did) and each repetition noted, so a plan can say what was read."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
        raise ValueError("not a YAML manifest: %s" % " ".join(str(exc).split()))
    finally:
        loader.dispose()
    return docs, loader.duplicates
