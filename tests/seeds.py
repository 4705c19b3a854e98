"""The seed of a soak's random choices.

Fixed by default, so that every run (CI included) makes the same choices and a failure
comes back when the test runs again; ``HCF_SOAK_SEED=<n>`` runs other choices (and replays
a failure seen with them). The seed is printed: pytest shows the captured line with a
failure, and every soak's own failure messages carry it too.
"""

from __future__ import annotations

import os

DEFAULT_SEED = 20261207


def soak_seed(what: str) -> int:
    """The seed for the soak named ``what``: ``HCF_SOAK_SEED`` if set, else
    :data:`DEFAULT_SEED`."""
    seed = int(os.environ.get("HCF_SOAK_SEED") or DEFAULT_SEED)
    print(f"{what} seed={seed} (HCF_SOAK_SEED=<n> runs other choices)")
    return seed
