"""atheris (libFuzzer) target over both kernels: ``fuzz/harness.py`` checks each input.

Run it through ``scripts/fuzz`` (which sets the corpus, findings directory and time
limit), or directly::

    .venv/bin/python fuzz/atheris_kernel.py WORK_CORPUS fuzz/corpus -max_total_time=600 \
        -timeout=5 -rss_limit_mb=2048 -artifact_prefix=findings/

Coverage feedback comes from the Python code atheris instruments at import (the
reference kernel ``_kernel_py``, whose branches mirror the Cython kernel's check for
check, and the harness). The Cython kernel runs on every input and is compared with the
reference; it is not itself instrumented (that needs clang's ``-fsanitize=fuzzer-no-link``
build of the extension, which this target does not require).
"""

from __future__ import annotations

import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

with atheris.instrument_imports(include=["httpcore_fast", "fuzz", "tests"]):
    from fuzz import harness

COUNT = [0]


def test_one_input(data: bytes) -> None:
    COUNT[0] += 1
    harness.check(data)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        print(f"atheris: {COUNT[0]} inputs checked", file=sys.stderr)


if __name__ == "__main__":
    main()
