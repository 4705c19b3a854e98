"""``python -m httpcore_fast``: run a program with :func:`httpcore_fast.install` in effect.

::

    python -m httpcore_fast -m package.module [args...]   # as python -m package.module
    python -m httpcore_fast path/to/script.py [args...]   # as python path/to/script.py

``import httpcore`` / ``import httpcore2`` in the program (and in httpx / httpx2, which
import them lazily) then give httpcore_fast, with no change to the program. The program
sees the ``sys.argv`` it would see when run directly. ``-h`` / ``--help`` prints this usage.
``python -m httpcore_fast._install ...`` is the same runner under its older name.
"""

from __future__ import annotations

import sys

# The runner of httpcore_fast._install, imported under its own name so that the program's
# own install() / uninstall() / is_installed() calls see the state it sets.
from httpcore_fast._install import _main

if __name__ == "__main__":
    _main(sys.argv[1:])
