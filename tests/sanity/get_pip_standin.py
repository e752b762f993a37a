# -*- coding: utf-8 -*-
# Copyright: blackduck.hub maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test creates each sanity virtual environment without pip, then runs
``~/.ansible/test/cache/get_pip_<version>.py`` (for example ``get_pip_24_2.py``) with
``python get_pip_X.py --disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``.
The real script comes from a host that this machine cannot reach, so tests/sanity/run.sh
installs this file under that name instead. It:

1. saves the environment;
2. installs the pip wheel bundled with Python (``ensurepip.bootstrap()``), which needs no network;
3. runs ``pip install --upgrade --force-reinstall <the arguments>`` with the saved environment.

Step 3 must use the saved environment: ensurepip deletes every ``PIP_*`` variable and sets
``PIP_CONFIG_FILE=/dev/null``, which would drop this machine's pip settings (certificate
bundle, local wheel folders and indexes, constraints; see ``pip config list``).
The options ``--no-setuptools`` and ``--no-wheel`` are get-pip's own: they are honoured by
removing setuptools or wheel again when ensurepip brought them in.
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys

GET_PIP_OPTIONS = ('--no-setuptools', '--no-wheel')


def installed(env, name):
    """Return True if the distribution ``name`` is installed in this Python."""
    code = 'import importlib.metadata as m, sys\ntry:\n    m.version(sys.argv[1])\nexcept m.PackageNotFoundError:\n    sys.exit(1)\n'
    return subprocess.call([sys.executable, '-c', code, name], env=env) == 0


def main(argv):
    """Bootstrap pip offline, then install the requested packages with the machine's pip settings."""
    saved_env = os.environ.copy()
    args = [arg for arg in argv if arg not in GET_PIP_OPTIONS]
    options = [arg for arg in argv if arg in GET_PIP_OPTIONS]

    had = {name: installed(saved_env, name) for name in ('setuptools', 'wheel')}

    ensurepip.bootstrap(upgrade=True)

    if not any(arg == 'pip' or arg.startswith(('pip=', 'pip<', 'pip>', 'pip~', 'pip!')) for arg in args):
        args.append('pip')

    command = [sys.executable, '-m', 'pip', 'install', '--upgrade', '--force-reinstall'] + args
    result = subprocess.call(command, env=saved_env)

    if result != 0:
        return result

    for option, name in (('--no-setuptools', 'setuptools'), ('--no-wheel', 'wheel')):
        if option in options and not had[name] and installed(saved_env, name):
            result = subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet', name], env=saved_env)

            if result != 0:
                return result

    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
