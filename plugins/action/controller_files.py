# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files of the run's own output written on the controller, in the controller's process: no module starts for them
on any host (a copy or template task delegated to localhost runs two modules per file, on every run)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.blackduck.hub.plugins.module_utils._command import same_file, write_atomic
from ansible_collections.blackduck.hub.plugins.plugin_utils._action import HubAction

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "files": {"type": "dict", "default": {}},
    "mode": {"type": "raw", "default": "0600"},
    "dir_mode": {"type": "raw", "default": "0700"},
}


def octal(value, name):
    """A mode given as 0600, '0600' or 384 (an int is taken as it is): permission bits only, 0 to 07777."""
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        bits = value if isinstance(value, int) else int(str(value), 8)
        if not 0 <= bits <= 0o7777:
            raise ValueError(value)
    except ValueError:
        raise AnsibleActionFail("%s must be an octal mode such as 0600 (it is %r)" % (name, value))
    return bits


def write(directory, files, mode, dir_mode, check=False):
    """Make directory and the folders above it that are missing (each dir_mode) and write each file (name: text) into
    it (mode), each whole at once: a temporary file beside it renamed over it, so that a reader never sees half a
    file. A file whose content and mode are already so is left alone. Returns what changed (or, with check, would
    change): the directory and the files' paths."""
    directory = os.path.normpath(directory)
    for name in files:
        if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\0" in name:
            raise AnsibleActionFail("files names a file of %s, not a path: %r is not a file name" % (directory, name))
    changed = []
    if not os.path.isdir(directory):
        changed.append(directory)
        if check:
            return changed + [os.path.join(directory, name) for name in sorted(files)]
        missing, parent = [], directory
        while parent and not os.path.isdir(parent):  # each folder made here gets dir_mode, as the file module's do
            missing.append(parent)
            parent = os.path.dirname(parent)
        for folder in reversed(missing):
            try:
                os.mkdir(folder, dir_mode)
            except FileExistsError:  # another run sharing the folder made it meanwhile
                if not os.path.isdir(folder):
                    raise
            os.chmod(folder, dir_mode)
    if stat.S_IMODE(os.stat(directory).st_mode) != dir_mode:
        if directory not in changed:
            changed.append(directory)
        if not check:
            os.chmod(directory, dir_mode)
    for name in sorted(files):
        path, data = os.path.join(directory, name), to_bytes(files[name])
        if same_file(path, data, mode):
            continue
        changed.append(path)
        if not check:  # two runs may write one report folder at once: each its own temporary file
            write_atomic(path, data, mode, durable=False, unique=True)
    return changed


class ActionModule(HubAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC
    _requires_connection = False  # the controller's own files: no host is reached

    def run(self, tmp=None, task_vars=None):
        result, args = self.begin(tmp, task_vars)
        try:
            changed = write(args["path"], args["files"], octal(args["mode"], "mode"), octal(args["dir_mode"], "dir_mode"),
                            check=bool(self._task.check_mode))
        except OSError as e:
            raise AnsibleActionFail("could not write %s on the controller: %s" % (args["path"], e))
        result.update(changed=bool(changed), paths=changed,
                      files=[os.path.join(args["path"], name) for name in sorted(args["files"])])
        return result
