"""A collections root for tests: <tmp>/ansible_collections/blackduck/hub -> this repository (a symlink)."""
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ROOT = None


def collections_root():
    global _ROOT
    if _ROOT is None:
        _ROOT = tempfile.mkdtemp(prefix="bdhub-collections-")
        os.makedirs(os.path.join(_ROOT, "ansible_collections", "blackduck"))
        os.symlink(REPO, os.path.join(_ROOT, "ansible_collections", "blackduck", "hub"))
    return _ROOT


def install_on_sys_path():
    root = collections_root()
    if root not in sys.path:
        sys.path.insert(0, root)
    return root
