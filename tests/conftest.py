"""Shared pytest setup: the lab's Python helpers and the collection (as ansible_collections.blackduck.hub) importable."""
import os
import sys

LAB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lab")
for sub in ("", "bundles", "datagen"):
    path = os.path.join(LAB, sub)
    if path not in sys.path:
        sys.path.insert(0, path)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import collection_root  # noqa: E402

collection_root.install_on_sys_path()  # ansible_collections.blackduck.hub.* importable in unit tests
