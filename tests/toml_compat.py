"""TOML for the tests on every supported Python: ``tomllib`` from 3.11, its backport ``tomli``
(the test extra installs it on 3.10 only) before that."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from tomllib import loads
else:  # Python 3.10: .ci/pythons runs the suite there too
    from tomli import loads

__all__ = ["loads"]
