"""A long hypothesis campaign over both kernels (the engine that needs no libFuzzer).

Usage (normally through ``scripts/fuzz``)::

    .venv/bin/python fuzz/hypothesis_campaign.py --seconds 600 --findings DIR [--seed N]

Runs rounds of ``fuzz.strategies.inputs`` (structured responses, framing headers,
chunked bodies, request heads, raw bytes; mutated and split) with a fresh seed each
round until the time is up. Each drawn input is also amplified: ``--amplify`` cheap
variants (random byte flips, inserts, deletions, splices, other read splits and flags)
are checked too, so most inputs cost no hypothesis generation. Every input goes through
``fuzz.harness.check``; an input that takes longer than ``--input-timeout`` seconds is a
hang. A failure is shrunk by hypothesis and written to the findings directory as
``hyp-<sha1>`` (the input, replayable by ``scripts/fuzz --replay`` and by atheris) with
``hyp-<sha1>.txt`` (the message). Prints the number of inputs checked.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import HealthCheck, given, seed, settings

from fuzz import harness
from fuzz.strategies import inputs


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang("input took longer than the per-input time limit")


def variants(data: bytes, count: int) -> list[bytes]:
    """``count`` cheap mutations of ``data``, deterministic in ``data``."""
    rng = random.Random(hashlib.sha1(data).digest())
    out = []
    for _ in range(count):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(6)
            pos = rng.randrange(len(buf) + 1)
            if op == 0 and pos < len(buf):
                buf[pos] ^= 1 << rng.randrange(8)
            elif op == 1:
                buf.insert(pos, rng.choice(b"\r\n\t :;,0aF9\x00\x7f\x80HTP/1."))
            elif op == 2 and pos < len(buf):
                del buf[pos : pos + rng.randint(1, 4)]
            elif op == 3 and buf:
                start = rng.randrange(len(buf))
                buf[pos:pos] = buf[start : start + rng.randint(1, 32)]
            elif op == 4 and buf:
                buf[0] = rng.randrange(128)  # other flags: EOF, splits, cycles, limits
            elif buf:
                buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        out.append(bytes(buf))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--findings", default="fuzz-findings")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--amplify", type=int, default=20)
    parser.add_argument("--examples-per-round", type=int, default=500)
    parser.add_argument("--input-timeout", type=float, default=10.0)
    args = parser.parse_args()
    os.makedirs(args.findings, exist_ok=True)
    base = args.seed if args.seed is not None else random.randrange(1 << 30)
    signal.signal(signal.SIGALRM, _alarm)
    count = [0]
    last_failure: list[bytes] = []
    seen: set[str] = set()
    findings = 0

    def one(data: bytes) -> None:
        count[0] += 1
        signal.setitimer(signal.ITIMER_REAL, args.input_timeout)
        try:
            harness.check(data)
        except BaseException:
            last_failure[:] = [data]
            raise
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    ends = time.monotonic() + args.seconds
    round_ = 0
    while time.monotonic() < ends:

        @settings(
            max_examples=args.examples_per_round,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @seed(base + round_)
        @given(inputs)
        def campaign(data: bytes) -> None:
            one(data)
            for variant in variants(data, args.amplify):
                one(variant)

        try:
            campaign()
        except (AssertionError, Hang, Exception) as exc:  # noqa: BLE001 - recorded
            data = last_failure[0] if last_failure else b""
            message = f"{type(exc).__name__}: {exc}"
            key = message.split(" on ", 1)[0] + message.rsplit(":", 1)[-1][:80]
            name = "hyp-" + hashlib.sha1(data).hexdigest()[:16]
            if key not in seen:
                seen.add(key)
                findings += 1
                with open(os.path.join(args.findings, name), "wb") as f:
                    f.write(data)
                with open(os.path.join(args.findings, name + ".txt"), "w") as f:
                    f.write(message + "\n")
                print(f"finding {name}: {message[:500]}", flush=True)
        round_ += 1
    print(
        f"hypothesis: {count[0]} inputs checked in {round_} rounds "
        f"(seeds {base}..{base + round_ - 1}), {findings} distinct findings",
        flush=True,
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
