"""atheris (libFuzzer) target over the native HTTP/2 framing layer: each input is decoded
into a program of client calls and server frames (:func:`program`) that
``fuzz/h2_native.py`` runs on ``httpcore_fast._h2_c.CFraming`` and on h2, failing on any
difference (events, exception classes, bytes to send).

    pip install atheris
    .venv/bin/python fuzz/atheris_h2.py WORK_CORPUS -max_total_time=600 -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix=findings/

Coverage feedback comes from the Python code atheris instruments (h2, hyperframe, hpack
and the harness: every branch of the reference the native layer must follow); the native
layer runs on every input and is compared with it. ``program(data)`` also serves the
hypothesis tests' regressions: a finding's bytes replay with ``run(program(data))``.
"""

from __future__ import annotations

import os
import sys
import typing

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_SIZES = (0, 1, 100, 1000, 16000, 20000, 70000)
_CODES = (0, 1, 2, 3, 7, 8, 0xFF)
_SETTINGS = (0, 1, 2, 100, 4096, 16384, 65535, 2**24, 2**31 - 1, 2**31)


def program(data: bytes) -> tuple[list[tuple[typing.Any, ...]], int]:
    """A program for ``h2_native.run`` from bytes: one opcode byte per step, then its
    arguments (missing bytes read as 0); returns ``(steps, seed)``."""
    position = 0

    def take(count: int = 1) -> int:
        nonlocal position
        chunk = data[position:position + count]
        position += count
        return int.from_bytes(chunk.ljust(count, b"\0"), "big")

    seed = take(2)
    steps: list[tuple[typing.Any, ...]] = [("open", False)]
    while position < len(data) and len(steps) < 60:
        op = take() % 14
        if op == 0:
            steps.append(("open", bool(take() & 1)))
        elif op == 1:
            steps.append(("data", take(), _SIZES[take() % len(_SIZES)]))
        elif op == 2:
            steps.append(("end", take()))
        elif op == 3:
            steps.append(("reset", take(), _CODES[take() % len(_CODES)]))
        elif op == 4:
            steps.append(("ack", take(), _SIZES[take() % len(_SIZES)]))
        elif op == 5:
            status = (b"200", b"204", b"103", b"100", b"1", b"")[take() % 6]
            steps.append(("server", "respond", take(), bool(take() & 1), status, take() % 50))
        elif op == 6:
            pad = take()
            steps.append(("server", "data", take(), _SIZES[take() % 5],
                          None if pad & 1 else pad >> 1, bool(take() & 1)))
        elif op == 7:
            steps.append(("server", "trailers", take()))
        elif op == 8:
            steps.append(("server", "reset", take(), _CODES[take() % len(_CODES)]))
        elif op == 9:
            steps.append(("server", "ping"))
        elif op == 10:
            count = take() % 4
            steps.append(("server", "settings",
                          {take() % 10: _SETTINGS[take() % len(_SETTINGS)]
                           for _ in range(count)}))
        elif op == 11:
            steps.append(("server", "window", take() % 9 - 1,
                          (1, 1000, 2**31 - 1)[take() % 3]))
        elif op == 12:
            length = take() % 48
            kind, flags, stream = take(), take(), take()
            payload = data[position:position + length]
            position += length
            steps.append(("raw", kind % 16, flags, stream - 1 if stream < 128 else stream * 1000,
                          payload))
        else:
            steps.append(("flush", [take() / 255 for _ in range(take() % 5)]))
    steps.append(("flush", []))
    return steps, seed


def main() -> None:
    import atheris

    with atheris.instrument_imports(include=["h2", "hyperframe", "hpack", "fuzz"]):
        from fuzz import h2_native

    def test_one_input(data: bytes) -> None:
        steps, seed = program(data)
        h2_native.run(steps, seed)

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
