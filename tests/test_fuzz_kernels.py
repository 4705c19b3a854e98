"""The CI slice of the kernel fuzzing (``fuzz/``; long campaigns: ``scripts/fuzz``).

* a bounded, seeded hypothesis run of the campaign's generator (``fuzz.strategies``):
  structured status lines, field lines, framing headers, chunked bodies and request
  heads, byte-level mutation and random read splits, through ``fuzz.harness.check``: no
  crash, identical events or identical exception type and message from both kernels,
  sticky errors, and a buffer bounded by the limits whenever a kernel waits for bytes;
* every seed of ``fuzz/corpus`` and every saved finding of ``fuzz/regressions`` replayed;
* the input format itself, and the harness catching what it must catch.

The ``kernel`` fixture (module mark) runs each test twice; the harness always drives both
kernels, so the two runs use different hypothesis seeds to cover more inputs.
"""

from __future__ import annotations

import os
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, seed, settings

from fuzz import harness
from fuzz.strategies import inputs
from httpcore_fast import _kernel_py

# Runs on both kernels (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("kernel")

FUZZ_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fuzz")
SAVED = sorted(
    os.path.join(FUZZ_DIR, folder, name)
    for folder in ("corpus", "regressions")
    for name in os.listdir(os.path.join(FUZZ_DIR, folder))
    if not name.endswith((".txt", ".md"))
)
SEEDS = {"cython": 20240601, "python": 20240602}


def test_seeded_slice(kernel: ModuleType) -> None:
    """A few seconds of the long campaign, with a fixed seed per kernel id."""
    checked = []

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(SEEDS[kernel.KERNEL_NAME])
    @given(inputs)
    def slice_(data: bytes) -> None:
        checked.append(harness.check(data))  # a hang is caught by pytest-timeout

    slice_()
    assert len(checked) >= 150
    # the generator reaches both sides and both outcomes
    assert any(isinstance(case, harness.RequestCase) for case in checked)
    assert sum(isinstance(case, harness.ResponseCase) for case in checked) > 75


@pytest.mark.parametrize("path", SAVED, ids=[os.path.basename(p) for p in SAVED])
def test_saved_inputs(path: str) -> None:
    with open(path, "rb") as f:
        harness.check(f.read())


def test_corpus_is_there() -> None:
    assert len([p for p in SAVED if "corpus" in p]) >= 30


# --- the input format -------------------------------------------------------------------


def test_encode_decode_round_trip() -> None:
    case = harness.ResponseCase(
        payload=b"HTTP/1.1 200 OK\r\n\r\n",
        eof=False,
        use_buffer=True,
        responses=2,
        head_request=True,
        limits={"max_head_size": 40, "max_field_count": 3, "max_trailer_size": 10},
        sizes=[1, 2, 3],
    )
    assert harness.decode(harness.encode_response(case)) == case
    for kind in ("head_request", "connect_request", "upgrade_request"):
        single = harness.ResponseCase(b"HTTP/1.1 101 x\r\n\r\n", **{kind: True})
        assert harness.decode(harness.encode_response(single)) == single
    whole = harness.ResponseCase(b"abc")
    assert harness.decode(harness.encode_response(whole)) == whole
    assert harness.decode(
        harness.encode_response(harness.ResponseCase(b"ab", bytewise=True))
    ).chunks() == [b"a", b"b"]
    assert harness.ResponseCase(b"abcdef", sizes=[1, 2]).chunks() == [b"a", b"bc", b"def"]
    request = harness.decode(harness.encode_request(b"GET", b"/", [(b"Host", b"h")]))
    assert request == harness.RequestCase(b"GET", b"/", [(b"Host", b"h")])


def test_any_bytes_decode() -> None:
    for data in (b"", b"\x00", b"\xff", b"\x7f\x00", b"\x80\x05ab", b"\x60\xff" * 9):
        harness.check(data)


# --- the harness catches what it must ---------------------------------------------------


class _Leaky:
    """A kernel stand-in whose parser buffers without limit and raises IndexError."""

    KERNEL_NAME = "leaky"
    MAX_HEAD_SIZE = 10
    MAX_CHUNK_SIZE_LINE = 10
    MAX_TRAILER_SIZE = 10

    class ResponseParser:
        def __init__(self, **limits: int) -> None:
            self.data = b""
            self.keep_alive = True
            self.trailers: list[tuple[bytes, bytes]] = []

        def feed(self, data: bytes) -> None:
            self.data += data

        def start_response(self, head: bool, connect: bool, *, upgrade_request: bool) -> None:
            pass

        def receive_head(self) -> None:
            if b"!" in self.data:
                raise IndexError("boom")

        def pending(self) -> int:
            return len(self.data)


def test_harness_flags_unbounded_buffering_and_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    case = harness.ResponseCase(b"x" * 50, eof=False)
    events = harness.run_response(_Leaky, case)  # type: ignore[arg-type]
    assert ("bound-violation", "leaky: 50 bytes buffered waiting for a head (limit 10)") in events
    monkeypatch.setattr(harness, "kernels", lambda: [_Leaky, _Leaky])
    with pytest.raises(AssertionError, match="bound-violation"):
        harness.check(harness.encode_response(case))
    with pytest.raises(AssertionError, match="IndexError"):
        harness.check(harness.encode_response(harness.ResponseCase(b"!", eof=False)))


def test_harness_flags_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    real = _kernel_py.serialize_request_head

    class Other:
        KERNEL_NAME = "other"

        @staticmethod
        def serialize_request_head(method: bytes, target: bytes, headers: object) -> object:
            head, *rest = real(method, target, headers)
            return (head.upper(), *rest)

    monkeypatch.setattr(harness, "kernels", lambda: [_kernel_py, Other])
    with pytest.raises(AssertionError, match="kernels disagree"):
        harness.check(harness.encode_request(b"GET", b"/a", [(b"Host", b"h")]))
