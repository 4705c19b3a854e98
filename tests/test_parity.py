"""Our public surface against the installed httpcore 1.0.9, the behaviour reference.

Names, constructor and method signatures (parameter names, kinds, defaults), class
attributes, exception subclassing, the module paths tools patch by name, reprs, response
extensions, trace events and DEBUG log lines. Every check compares with httpcore itself, so
a gap shows up as a failure naming the item.

Items still being built elsewhere exist as
stand-ins without the real signatures: their checks are ``xfail(strict=True)``, listed in
``PENDING``, so they turn red the moment the real classes land and the marker must go.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import pickle
import re
import typing

import httpcore
import httpx
import pytest

import httpcore_fast
from tests.async_servers import anyio_backend  # noqa: F401 - asyncio and trio

PENDING: dict[str, str] = {}  # name -> reason, for stand-ins still being built (none now)
# Deliberate, documented extensions (docs/design-notes.md, docs/migration.md), allowed only
# as keyword-only parameters with a default, so that every httpcore call still means the same:
# default_ssl_context() takes httpcore2's ``_trust_env`` (httpx2 passes it); pools (proxies
# included) and connections take ``limits`` (the parser's ResponseLimits).
_LIMITS = {"limits"}
EXTRA_PARAMETERS = {
    "default_ssl_context": {"_trust_env"},
    "ConnectionPool": _LIMITS,
    "AsyncConnectionPool": _LIMITS,
    "HTTPConnection": _LIMITS,
    "AsyncHTTPConnection": _LIMITS,
    "HTTP11Connection": _LIMITS,
    "AsyncHTTP11Connection": _LIMITS,
    "HTTPProxy": _LIMITS,
    "AsyncHTTPProxy": _LIMITS,
    "SOCKSProxy": _LIMITS,
    "AsyncSOCKSProxy": _LIMITS,
}

REFERENCE = httpcore
EXCEPTIONS = [
    name
    for name in REFERENCE.__all__
    if inspect.isclass(getattr(REFERENCE, name))
    and issubclass(getattr(REFERENCE, name), BaseException)
]
CLASSES = [
    name
    for name in REFERENCE.__all__
    if inspect.isclass(getattr(REFERENCE, name)) and name not in EXCEPTIONS
]
FUNCTIONS = [name for name in REFERENCE.__all__ if inspect.isfunction(getattr(REFERENCE, name))]


def params(names: typing.Iterable[str]) -> list[typing.Any]:
    """``names`` as pytest params; the PENDING ones marked strict xfail."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=PENDING[name]))
        if name in PENDING
        else name
        for name in names
    ]


def shape(obj: typing.Callable[..., typing.Any]) -> list[tuple[str, str, str]]:
    """Parameter names, kinds and default reprs of a callable (annotations ignored)."""
    signature = inspect.signature(obj)
    return [
        (p.name, p.kind.name, "<required>" if p.default is p.empty else repr(p.default))
        for p in signature.parameters.values()
    ]


def public_members(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def defining_module(cls: type) -> str:
    """The httpcore submodule whose file defines ``cls`` (httpcore rewrites ``__module__``)."""
    package_dir = os.path.dirname(REFERENCE.__file__)
    for value in vars(cls).values():
        if inspect.isfunction(value):
            relative = os.path.relpath(value.__code__.co_filename, package_dir)
            return os.path.splitext(relative)[0].replace(os.sep, ".")
    return "_exceptions"


# --- names -------------------------------------------------------------------------------


def test_all_names() -> None:
    assert sorted(httpcore_fast.__all__) == sorted(REFERENCE.__all__)
    assert len(httpcore_fast.__all__) == len(set(httpcore_fast.__all__))
    for name in REFERENCE.__all__:
        assert hasattr(httpcore_fast, name), name


def test_socket_option_type() -> None:
    assert httpcore_fast.SOCKET_OPTION == REFERENCE.SOCKET_OPTION


def test_no_extra_exceptions_at_top_level() -> None:
    """httpx requires a same-named httpx class for every exception class in vars(httpcore)."""
    ours = {
        name
        for name, value in vars(httpcore_fast).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }
    assert ours == set(EXCEPTIONS)
    for name in ours - {"ConnectionNotAvailable"}:
        assert inspect.isclass(getattr(httpx, name, None)), name


@pytest.mark.parametrize("name", REFERENCE.__all__)
def test_module_and_pickle(name: str) -> None:
    obj = getattr(httpcore_fast, name)
    if name == "SOCKET_OPTION":
        return
    assert obj.__module__ == "httpcore_fast"
    assert getattr(importlib.import_module(obj.__module__), obj.__qualname__) is obj
    assert pickle.loads(pickle.dumps(obj)) is obj


# --- signatures --------------------------------------------------------------------------


@pytest.mark.parametrize("name", params(CLASSES + FUNCTIONS))
def test_signature(name: str) -> None:
    """Constructor / function parameters: the same names, kinds and defaults, in order."""
    ours = shape(getattr(httpcore_fast, name))
    extra = EXTRA_PARAMETERS.get(name, set())
    for parameter in ours:
        if parameter[0] in extra:  # allowed only as keyword-only with a default
            assert parameter[1] == "KEYWORD_ONLY" and parameter[2] != "<required>"
    assert [p for p in ours if p[0] not in extra] == shape(getattr(REFERENCE, name))


@pytest.mark.parametrize("name", params(CLASSES))
def test_members(name: str) -> None:
    """Every public method/attribute, with the same signature or value."""
    reference, ours = getattr(REFERENCE, name), getattr(httpcore_fast, name)
    missing = public_members(reference) - public_members(ours)
    assert not missing, f"{name} lacks {sorted(missing)}"
    for member in sorted(public_members(reference)):
        expected = inspect.getattr_static(reference, member)
        actual = inspect.getattr_static(ours, member)
        if isinstance(expected, property):
            assert isinstance(actual, property), member
        elif callable(expected):
            assert callable(actual), member
            assert inspect.iscoroutinefunction(actual) == inspect.iscoroutinefunction(
                expected
            ), member
            assert shape(getattr(ours, member)) == shape(getattr(reference, member)), member
        elif member != "CONFIG":  # HTTP2Connection.CONFIG: an h2 object, compared below
            assert actual == expected, member


@pytest.mark.parametrize("name", params(["AsyncHTTP2Connection", "HTTP2Connection"]))
def test_h2_config(name: str) -> None:
    reference, ours = getattr(REFERENCE, name).CONFIG, getattr(httpcore_fast, name).CONFIG
    assert type(ours) is type(reference)
    assert ours.client_side and ours.validate_inbound_headers == reference.validate_inbound_headers


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_exception_hierarchy(name: str) -> None:
    reference, ours = getattr(REFERENCE, name), getattr(httpcore_fast, name)
    expected = [c.__name__ for c in reference.__mro__]
    assert [c.__name__ for c in ours.__mro__] == expected
    for base in ours.__mro__[1:]:
        if base.__name__ in EXCEPTIONS:
            assert base is getattr(httpcore_fast, base.__name__)
    assert public_members(ours) == public_members(reference)
    error = ours("boom")
    assert str(error) == "boom" and error.args == ("boom",)
    assert type(pickle.loads(pickle.dumps(error))) is ours


# --- module paths (mock.patch targets of respx, instrumentation) -------------------------


@pytest.mark.parametrize("name", params(CLASSES))
def test_module_paths(name: str) -> None:
    """``httpcore.<module>.<Name>`` exists as ``httpcore_fast.<module>.<Name>``, the same
    object as the top-level one (respx patches e.g. ``httpcore._sync.http_proxy.HTTPProxy``)."""
    path = defining_module(getattr(REFERENCE, name))
    module = importlib.import_module(f"httpcore_fast.{path}")
    assert getattr(module, name) is getattr(httpcore_fast, name)


@pytest.mark.parametrize(
    "name",
    params(n for n in CLASSES if defining_module(getattr(REFERENCE, n)).startswith(("_a", "_s"))),
)
def test_package_reexports(name: str) -> None:
    """httpcore's ``_async`` / ``_sync`` packages re-export their classes."""
    package = defining_module(getattr(REFERENCE, name)).partition(".")[0]
    assert name in vars(importlib.import_module(f"httpcore.{package}"))
    module = importlib.import_module(f"httpcore_fast.{package}")
    assert getattr(module, name, None) is getattr(httpcore_fast, name)


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_exception_module_path(name: str) -> None:
    assert getattr(httpcore_fast._exceptions, name) is getattr(httpcore_fast, name)


@pytest.mark.parametrize(
    "path",
    ["_api.request", "_api.stream", "_ssl.default_ssl_context", "_backends.auto.AutoBackend"],
)
def test_helper_paths(path: str) -> None:
    module, _, attribute = path.rpartition(".")
    reference = getattr(importlib.import_module(f"httpcore.{module}"), attribute)
    ours = getattr(importlib.import_module(f"httpcore_fast.{module}"), attribute)
    if path != "_ssl.default_ssl_context":
        assert shape(ours) == shape(reference)


# --- behaviour seen through the API: reprs, extensions, trace events, log lines ----------

RESPONSE = [b"HTTP/1.1 200 OK\r\n", b"Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n", b"hello"]


def test_model_reprs() -> None:
    for lib in (REFERENCE, httpcore_fast):
        assert repr(lib.URL("https://example.com/a?b")) == repr(
            REFERENCE.URL("https://example.com/a?b")
        )
    cases = [
        lambda lib: lib.URL("https://example.com:8443/path?q=1"),
        lambda lib: lib.Request("GET", "https://example.com/"),
        lambda lib: lib.Request("GET", "https://example.com/").stream,
        lambda lib: lib.Response(204),
        lambda lib: lib.ConnectionPool(),
        lambda lib: lib.AsyncConnectionPool(),
        lambda lib: lib.MockStream([]),
        lambda lib: lib.AsyncMockStream([]),
    ]
    for case in cases:
        assert repr(case(httpcore_fast)) == repr(case(REFERENCE))
    assert str(httpcore_fast.Origin(b"https", b"example.com", 443)) == "https://example.com:443"


def test_mock_backend_private_attributes() -> None:
    for cls_name in ("MockBackend", "AsyncMockBackend"):
        backend = getattr(httpcore_fast, cls_name)([b"x"], http2=True)
        assert backend._buffer == [b"x"] and backend._http2 is True
    assert httpcore_fast.MockStream([b"x"], http2=True)._http2 is True


def run_sync(lib: typing.Any, url: str) -> tuple[list[tuple[str, list[str]]], dict[str, typing.Any]]:
    events: list[tuple[str, list[str]]] = []

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append((name, sorted(info)))

    with lib.ConnectionPool(network_backend=lib.MockBackend(RESPONSE)) as pool:
        response = pool.request("GET", url, extensions={"trace": trace})
        assert response.content == b"hello"
    return events, response.extensions


@pytest.mark.parametrize("url", ["http://example.com/", "https://example.com/"])
def test_trace_events_and_extensions_sync(url: str) -> None:
    expected_events, expected_extensions = run_sync(REFERENCE, url)
    events, extensions = run_sync(httpcore_fast, url)
    assert events == expected_events
    assert sorted(extensions) == sorted(expected_extensions)
    for key in ("http_version", "reason_phrase"):
        assert extensions[key] == expected_extensions[key]


@pytest.mark.anyio
async def test_trace_events_and_extensions_async() -> None:
    async def run(lib: typing.Any) -> tuple[list[tuple[str, list[str]]], list[str]]:
        events: list[tuple[str, list[str]]] = []

        async def trace(name: str, info: dict[str, typing.Any]) -> None:
            events.append((name, sorted(info)))

        async with lib.AsyncConnectionPool(network_backend=lib.AsyncMockBackend(RESPONSE)) as pool:
            response = await pool.request("GET", "https://example.com/", extensions={"trace": trace})
            assert response.content == b"hello"
        return events, sorted(response.extensions)

    assert await run(httpcore_fast) == await run(REFERENCE)


def test_debug_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    """Both libraries log to the same ``httpcore.*`` loggers, with the same lines."""

    def lines(lib: typing.Any) -> list[tuple[str, str]]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="httpcore"):
            run_sync(lib, "https://example.com/")
        return [
            (record.name, re.sub(r"0x[0-9a-f]+", "0x?", record.getMessage()))
            for record in caplog.records
        ]

    expected = lines(REFERENCE)
    assert expected  # the reference does log at DEBUG
    assert lines(httpcore_fast) == expected


def mock_request(lib: typing.Any, chunks: list[bytes], **kwargs: typing.Any) -> typing.Any:
    with lib.ConnectionPool(network_backend=lib.MockBackend(chunks)) as pool:
        return pool.request("GET", "http://example.com/", **kwargs)


@pytest.mark.parametrize(
    ("call", "same_message"),
    [
        (lambda lib: lib.request("GET", "ftp://example.com/"), True),
        (lambda lib: lib.request("GET", "example.com"), True),
        (lambda lib: lib.Request("GET", "https://example.com/", headers={"a": object()}), True),
        (lambda lib: lib.URL(123), True),
        (lambda lib: lib.Response(200, content=iter([b"x"])).content, True),
        (lambda lib: mock_request(lib, [], headers=[(b"a", b"b\n")]), False),
        (lambda lib: mock_request(lib, [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"]), False),
        (lambda lib: mock_request(lib, [b"garbage\r\n\r\n"]), False),
        (lambda lib: mock_request(lib, []), True),
    ],
    ids=[
        "unsupported-scheme",
        "no-scheme",
        "bad-header-type",
        "bad-url-type",
        "unread-content",
        "newline-in-header",
        "short-body",
        "bad-status-line",
        "no-response",
    ],
)
def test_error_types(call: typing.Callable[[typing.Any], typing.Any], same_message: bool) -> None:
    with pytest.raises(Exception) as expected:
        call(REFERENCE)
    with pytest.raises(Exception) as actual:
        call(httpcore_fast)
    assert type(actual.value).__name__ == type(expected.value).__name__
    if same_message:
        assert str(actual.value) == str(expected.value)
