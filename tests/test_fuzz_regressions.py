"""Regression tests for what the kernel fuzzing found.

Wire input: two campaigns here (10 minutes: atheris 444,952 + hypothesis 840,000 inputs;
5 more minutes on the grown corpus: atheris 290,013 + hypothesis 913,500) found no crash,
no disagreement, no unbounded buffering and no hang; the seeds are replayed by
``tests/test_fuzz_kernels.py`` (``fuzz/corpus``, ``fuzz/regressions``).

API arguments (found while probing the parser's methods with out-of-range arguments):
the kernels disagreed on integers beyond ``Py_ssize_t`` (the Cython kernel raised
OverflowError) and on buffers whose items are wider than a byte (sizes counted items, not
bytes). Both kernels were fixed; these tests keep them agreeing.

Memory safety of the Cython kernel's API (a review, then tests/test_kernel_buffer.py and
tests/test_kernel_request.py): a ``get_buffer()`` hint near ``sys.maxsize`` wrapped its size
arithmetic and ``buffer_updated()`` could move the buffer's end past the allocation; new
storage was uninitialised; ``serialize_request_head()`` read each header item twice, so an
item or a list that changed between the passes overflowed the output (or read a freed
list). The entries below keep the two kernels agreeing on those arguments.
"""

from __future__ import annotations

import array
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from httpcore_fast import _kernel, _kernel_py

pytestmark = [
    pytest.mark.usefixtures("kernel"),  # both kernels (tests/conftest.py)
    pytest.mark.skipif(
        _kernel.NO_EXTENSIONS,
        reason="HTTPCORE_FAST_NO_EXTENSIONS is set: there is no Cython kernel to compare with",
    ),
]


def outcome(module: ModuleType, call: Callable[[ModuleType], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", call(module))
    except Exception as exc:  # noqa: BLE001 - compared
        return (type(exc).__name__, str(exc))


def both(call: Callable[[ModuleType], Any]) -> list[tuple[Any, ...]]:
    return [outcome(_kernel._kernel_c, call), outcome(_kernel_py, call)]


def fed(data: Any) -> Callable[[ModuleType], Any]:
    def call(module: ModuleType) -> Any:
        parser = module.ResponseParser()
        parser.feed(data)
        return parser.pending()

    return call


AGREEING = {
    "float-limit": lambda m: m.ResponseParser(max_head_size=1.5),
    "negative-size-hint": lambda m: len(m.ResponseParser().get_buffer(-5)),
    "negative-nbytes": lambda m: m.ResponseParser().buffer_updated(-1),
    "bytearray-feed": fed(bytearray(b"HTTP")),
    "memoryview-feed": fed(memoryview(b"HTTP/1.1")),
    "huge-content-length": lambda m: _content_length_eof(m),
    "three-item-header": lambda m: m.serialize_request_head(b"GET", b"/", [(b"H", b"h", b"x")]),
    "one-item-header": lambda m: m.serialize_request_head(b"GET", b"/", [(b"H",)]),
    "generator-item-header": lambda m: m.serialize_request_head(
        b"GET", b"/", [(x for x in (b"Host", b"h"))]
    ),
    "huge-size-hint": lambda m: len(m.ResponseParser().get_buffer(sys.maxsize)),
    "huger-size-hint": lambda m: len(m.ResponseParser().get_buffer(2**100)),
    "float-size-hint": lambda m: m.ResponseParser().get_buffer(1.5),
    "float-nbytes": lambda m: m.ResponseParser().buffer_updated(1.5),
    "nbytes-beyond-view": lambda m: _beyond_view(m),
}


def _beyond_view(module: ModuleType) -> Any:
    parser = module.ResponseParser()
    view = parser.get_buffer(sys.maxsize - 1)
    del view
    try:
        parser.buffer_updated(sys.maxsize - 1)
    except ValueError as exc:
        return str(exc), parser.pending()
    return parser.pending()  # pragma: no cover - would be a bug, shown by the comparison


def _content_length_eof(module: ModuleType) -> Any:
    parser = module.ResponseParser()
    parser.start_response(False, False)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\nab")
    head = parser.receive_head()
    first = parser.receive_body()
    parser.feed(b"")
    try:
        parser.receive_body()
    except Exception as exc:  # noqa: BLE001 - compared
        return head, first, type(exc).__name__, str(exc)
    return head, first  # pragma: no cover - would be a bug, shown by the comparison


@pytest.mark.parametrize("name", list(AGREEING))
def test_argument_edges_agree(name: str) -> None:
    c_result, py_result = both(AGREEING[name])
    assert c_result == py_result




@pytest.mark.parametrize("value", [2**63, 2**70], ids=["2**63", "2**70"])
def test_limits_beyond_ssize_t_are_accepted_by_both(value: int) -> None:
    """docs/kernel.md: limits are ints >= 0, clamped at 2**60 by the Cython kernel; so an
    (unreachable) huge limit, e.g. ``ResponseLimits(max_head_size=2**64)``, must work on
    both. Cython: OverflowError; Python: accepted."""
    c_result, py_result = both(lambda m: m.ResponseParser(max_head_size=value) and 1)
    assert c_result == py_result == ("ok", 1)


def test_huge_negative_limit_is_a_value_error_on_both() -> None:
    c_result, py_result = both(lambda m: m.ResponseParser(max_head_size=-(2**70)))
    assert c_result == py_result == ("ValueError", "parser limits must be >= 0")


def test_huge_nbytes_is_the_same_value_error_on_both() -> None:
    c_result, py_result = both(lambda m: m.ResponseParser().buffer_updated(2**70))
    assert c_result == py_result
    assert c_result[0] == "ValueError"


def test_feed_takes_a_buffer_of_wide_items() -> None:
    """docs/kernel.md: feed() takes any contiguous bytes-like object. An ``array('i')``
    of 2 items is 8 bytes: Python kernel BufferError (it resizes its exported bytearray
    by len() = 2 items), Cython kernel ValueError (len() != byte size)."""
    data = array.array("i", [1, 2])
    c_result, py_result = both(fed(data))
    assert c_result == py_result == ("ok", data.itemsize * 2)
