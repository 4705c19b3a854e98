"""``validate_request_fields``: ``serialize_request_head``'s checks without the head, in
both kernels (docs/kernel.md).

For every input, on each kernel, it returns exactly the last three items of what
``serialize_request_head`` returns, or raises the same exception type with the same
message; and the two kernels agree with each other. Inputs: generated methods, targets
and header lists (valid and hostile: control bytes, bad framing fields, duplicates, items
that are not pairs or not bytes), bounded and derandomised.
"""

from __future__ import annotations

import typing
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpcore_fast import _kernel, _kernel_py

KERNELS: list[ModuleType] = [_kernel_py]
if not _kernel.NO_EXTENSIONS:  # a Cython kernel that fails to import fails below
    from httpcore_fast import _kernel_c

    KERNELS.insert(0, _kernel_c)

SETTINGS = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

field_names = st.sampled_from([
    b"Host", b"host", b"HOST", b"Content-Length", b"content-length", b"Transfer-Encoding",
    b"Connection", b"Upgrade", b"upgrade", b"Accept", b"X-A", b"", b"Bad Name", b"N\x00",
]) | st.binary(max_size=6)  # fmt: skip
field_values = st.sampled_from([
    b"", b"example.com", b"0", b"5", b"5, 5", b"5,6", b"+5", b"1_0", b"0x5",
    b"9" * 19, b"chunked", b" chunked ", b"Chunked", b"gzip, chunked", b"close",
    b"keep-alive, Close", b"h2c", b",", b" , ", b" x", b"x ", b"a\r\nb", b"\x00", b"\x7f",
    b"\x80\xff", b"\t",
]) | st.binary(max_size=8)  # fmt: skip
fields = st.tuples(field_names, field_values)
odd_items: st.SearchStrategy[typing.Any] = st.sampled_from([
    [b"Host", b"a"], (b"Host",), (b"Host", b"a", b"b"), ("Host", "a"), (b"X", 1), 7,
    (bytearray(b"Host"), b"a"),
])  # fmt: skip
header_lists = st.lists(fields | odd_items, max_size=6)


def outcome(function: typing.Callable[..., typing.Any], *args: typing.Any) -> typing.Any:
    try:
        return ("ok", function(*args))
    except Exception as exc:  # noqa: BLE001 - compared by the callers
        return ("error", type(exc).__name__, str(exc))


def check(method: typing.Any, target: typing.Any, headers: list[typing.Any]) -> None:
    results = []
    for module in KERNELS:
        serialized = outcome(module.serialize_request_head, method, target, list(headers))
        validated = outcome(module.validate_request_fields, method, target, list(headers))
        if serialized[0] == "ok":
            assert validated == ("ok", serialized[1][1:]), module.KERNEL_NAME
        else:
            assert validated == serialized, module.KERNEL_NAME
        results.append(validated)
    assert all(result == results[0] for result in results)


@SETTINGS
@given(
    method=st.sampled_from([b"GET", b"POST", b"", b"G T", b"M\x00", "GET"]) | st.binary(max_size=4),
    target=st.sampled_from([b"/", b"*", b"", b"/a b", b"/\x7f", b"/\xff"]) | st.binary(max_size=4),
    headers=header_lists,
    host=st.booleans(),
)
def test_validate_matches_serialize(
    method: typing.Any, target: typing.Any, headers: list[typing.Any], host: bool
) -> None:
    if host:  # most requests carry a Host field: get past that check often
        headers = [(b"Host", b"example.com"), *headers]
    check(method, target, headers)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"Host", b"a")], (0, False, False)),
        ([(b"Host", b"a"), (b"Content-Length", b"12, 12")], (12, False, False)),
        ([(b"host", b"a"), (b"Transfer-Encoding", b"chunked")], (-1, False, False)),
        ([(b"Connection", b"keep-alive, close"), (b"Host", b"a")], (0, True, False)),
        ([(b"Host", b"a"), (b"Upgrade", b", ,")], (0, False, False)),
        ([(b"Host", b"a"), (b"Upgrade", b"h2c")], (0, False, True)),
    ],
)
def test_results(headers: list[tuple[bytes, bytes]], expected: tuple[int, bool, bool]) -> None:
    for module in KERNELS:
        assert module.validate_request_fields(b"GET", b"/", headers) == expected
        check(b"GET", b"/", headers)


@pytest.mark.parametrize(
    ("headers", "error", "message"),
    [
        ([], "LocalProtocolError", "Missing mandatory Host: header"),
        ([(b"Host", b"a"), (b"HOST", b"b")], "LocalProtocolError", "Multiple Host: headers"),
        ([(b"Host", b"a\r\nb")], "LocalProtocolError", "Illegal header value b'a\\r\\nb'"),
        ([(b"Host", b"a"), (b"Content-Length", b"1_0")], "LocalProtocolError",
         "Invalid Content-Length b'1_0'"),
        ([(b"Host", b"a"), (b"Content-Length", b"1"), (b"Transfer-Encoding", b"chunked")],
         "LocalProtocolError", "Content-Length and Transfer-Encoding both set"),
        ([(b"Host", b"a"), (b"X",)], "ValueError",
         "a header must be a (name, value) pair, not 1 items"),
        ([("Host", "a")], "TypeError", "header names and values must be bytes"),
    ],
)  # fmt: skip
def test_errors(headers: list[typing.Any], error: str, message: str) -> None:
    """Each kernel raises exactly what ``serialize_request_head`` raises."""
    for module in KERNELS:
        assert outcome(module.validate_request_fields, b"GET", b"/", headers) == (
            "error", error, message
        )
        check(b"GET", b"/", headers)


def test_no_head_is_built_but_every_item_is_read_once() -> None:
    """Items that are not tuples are read once (``tuple(item)``), as when serialising."""

    class Once:
        def __init__(self) -> None:
            self.reads = 0

        def __iter__(self) -> typing.Iterator[bytes]:
            self.reads += 1
            return iter([b"Host", b"a"])

    for module in KERNELS:
        item = Once()
        assert module.validate_request_fields(b"GET", b"/", [item]) == (0, False, False)
        assert item.reads == 1
