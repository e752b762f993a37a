# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Classify what pg_restore and psql say: every error fails the restore except a documented allowlist of
known-harmless ones, which come back as warnings.

Understands the messages of pg_restore 9.4 to 17 ("pg_restore: [archiver (db)] could not execute query: ERROR: ..."
and "pg_restore: error: could not execute query: ERROR: ...") and of psql ("psql:<stdin>:12: ERROR: ...").
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# (pattern, why it is harmless). Matched against the text of one ERROR.
HARMLESS = (
    (re.compile(r'role "blckdck" does not exist'),
     "dumps made by the older Hub appliance name a role blckdck that no Hub needs"),
    (re.compile(r'role "[^"]+" already exists'),
     "the new Hub's database image already created this role; its attributes are set by the ALTER ROLE that follows"),
    (re.compile(r'must be owner of extension (?:plpgsql|pgcrypto)$'),
     "the extension is there already, under another role - plpgsql as the server installs it, pgcrypto as the "
     "vendor's external-postgres-init.pgsql creates it in bds_hub (run by a DBA, as on Amazon RDS): the new server's "
     "version of it stays; only the dump's drop or comment of it could not be run"),
    (re.compile(r'schema "public" already exists'),
     "every new database has a public schema"),
    (re.compile(r'current user cannot be dropped'),
     "the role running the restore is not dropped and recreated"),
)

# The server could not write its files for want of room: its disk (the new Hub's database volume, claim or the
# server's own) is full or over its quota. A short write while extending a file is ENOSPC too; other failures to
# extend a file (a read-only or failing file system) are not.
_DISK_FULL = re.compile(r"No space left on device|disk quota exceeded|could not extend file .*wrote only \d+ of \d+ bytes",
                        re.I)

_ERROR = re.compile(r"(?:^|\s)(?:ERROR|FATAL|PANIC):\s+(.*)$")
# pg_restore up to 11 heads the errors of a stage or TOC entry with these lines: context, not errors.
_CONTEXT = re.compile(r"Error while (?:INITIALIZING|PROCESSING TOC|FINALIZING):|Error from TOC entry ")
_IGNORED_COUNT = re.compile(r"(?:WARNING: )?errors ignored on restore: (\d+)")


def classify(stderr):
    """Return (errors, warnings, ignored_count): errors fail the task; warnings are known-harmless errors."""
    errors, warnings = [], []
    for line in stderr.splitlines():
        m = _ERROR.search(line)
        if not m:
            # "could not execute query: <no server ERROR>" is a lost connection: an error too.
            if re.search(r"^(pg_restore|psql|pg_dump)(: error:|: \[[^\]]+\] )", line) and not _CONTEXT.search(line):
                errors.append(line.strip())
            continue
        text = m.group(1).strip()
        for pattern, why in HARMLESS:
            if pattern.search(text):
                warnings.append("ignored known-harmless error: %s (%s)" % (text, why))
                break
        else:
            errors.append(text)
    m = _IGNORED_COUNT.search(stderr)
    return errors, warnings, int(m.group(1)) if m else 0


def disk_full(errors):
    """The first of errors (as classify returns them, one text each) that says the server's disk is full, or None."""
    for text in errors:
        if _DISK_FULL.search(text):
            return text
    return None
