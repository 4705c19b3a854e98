"""Our public surface against the behaviour references: httpcore 1.0.9 (httpx's core) and
httpcore2 (httpx2's core, the 2.16.2 surface).

Names, constructor and method signatures (parameter names, kinds, defaults), class
attributes, exception subclassing, the module paths tools patch by name, reprs, response
extensions, trace events and DEBUG log lines. Every check compares with the reference
itself, so a gap shows up as a failure naming the item (and the reference, in the test id).

httpcore2 2.16.2 has httpcore 1.0.9's surface plus (found by diffing the two sources):

* ``is_connected()`` and ``can_multiplex()`` on ``ConnectionInterface`` /
  ``AsyncConnectionInterface`` and on the ``HTTPConnection``, ``HTTP11Connection`` and
  ``HTTP2Connection`` classes (sync and async): checked by signature and by their values
  through a connection's life, against httpcore2's (``test_httpcore2_methods``,
  ``test_connection_states_*``);
* ``default_ssl_context(*, _trust_env=True)``: signature, and what it loads for
  ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` with and without ``_trust_env``
  (``test_default_ssl_context_trust_env``);
* ``SOCKET_OPTION`` spelled with PEP 604 unions: the same type (``test_socket_option_type``).

httpcore2 2.17.0, the version httpx2 installs now, has the same public surface as 2.16.2
(its changes are inside the pool, proxies and backends), so the installed httpcore2 is the
reference, and it must be 2.16.2 or later. httpx2 and httpcore2 are dev dependencies on
Python >= 3.11 only: there a missing httpcore2 fails this module; on 3.10 the httpcore2
cases are skipped.

Items still being built elsewhere are ``xfail(strict=True)``, listed in ``PENDING``, so they
turn red the moment they land and the marker must go.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import pickle
import re
import ssl
import sys
import types
import typing
from pathlib import Path

import httpcore
import httpx
import pytest

import httpcore_fast
from tests.async_servers import anyio_backend  # noqa: F401 - asyncio and trio

HTTPCORE2_REQUIRED = sys.version_info >= (3, 11)
httpcore2: typing.Any = importlib.import_module("httpcore2") if HTTPCORE2_REQUIRED else None

# name -> reason, for items still being built elsewhere. Names are top-level names, or
# "Class.method" for a method httpcore2 added (test_httpcore2_methods).
PENDING: dict[str, str] = {}
# Deliberate, documented extensions (docs/design-notes.md, docs/migration.md), allowed only
# as keyword-only parameters with a default, so that every httpcore call still means the same,
# and only where the reference lacks them:
# * default_ssl_context() takes httpcore2's ``_trust_env`` (httpx2 passes it; httpcore 1.0.9
#   has no such parameter);
# * pools (proxies included) and connections, HTTP/2 ones too, take ``limits`` (the
#   parser's ResponseLimits: sizes and counts a hostile server cannot exceed);
# * the SOCKS proxies take ``local_dns``: resolve a ``socks5://`` origin's name locally, as
#   curl and requests do, instead of sending it to the proxy (httpcore's default, kept);
# * pools and proxies take the crawl options (issue 14): ``max_connections_per_origin``
#   (a per-origin connection limit, aiohttp's ``limit_per_host``), ``retry_stale_connections``
#   (send an idempotent request again when a reused keep-alive connection turns out closed,
#   RFC 9110 §9.2.2, as Go's net/http does), ``resolve`` (host name -> addresses, curl's
#   ``--resolve``), ``dns_cache_ttl`` (a per-pool resolver cache) and ``tls_session_cache``
#   (TLS session resumption per origin).
_LIMITS = {"limits"}
# The one response extension we add (issue 14 point 7): "trailers", the trailer section's
# field lines once the body has been read to its end ([] without any).
ADDED_EXTENSIONS = {"trailers"}
_POOL = _LIMITS | {
    "max_connections_per_origin",
    "retry_stale_connections",
    "resolve",
    "dns_cache_ttl",
    "tls_session_cache",
}
EXTRA_PARAMETERS = {
    "default_ssl_context": {"_trust_env"},
    "ConnectionPool": _POOL,
    "AsyncConnectionPool": _POOL,
    "HTTPConnection": _LIMITS,
    "AsyncHTTPConnection": _LIMITS,
    "HTTP11Connection": _LIMITS,
    "AsyncHTTP11Connection": _LIMITS,
    "HTTP2Connection": _LIMITS,
    "AsyncHTTP2Connection": _LIMITS,
    "HTTPProxy": _POOL,
    "AsyncHTTPProxy": _POOL,
    "SOCKSProxy": _POOL | {"local_dns"},
    "AsyncSOCKSProxy": _POOL | {"local_dns"},
}

REFERENCE = httpcore  # the names to check come from here; httpcore2's are the same
REFERENCES = [
    pytest.param(httpcore, id="httpcore"),
    pytest.param(
        httpcore2,
        id="httpcore2",
        marks=pytest.mark.skipif(not HTTPCORE2_REQUIRED, reason="httpcore2 needs Python >= 3.11"),
    ),
]
needs_httpcore2 = pytest.mark.skipif(
    not HTTPCORE2_REQUIRED, reason="httpcore2 (httpx2) needs Python >= 3.11"
)
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


def pending(value: str, key: str | None = None) -> typing.Any:
    """``value`` as a pytest param, marked strict xfail if ``key`` (default: ``value``) is
    PENDING."""
    key = value if key is None else key
    marks = [pytest.mark.xfail(strict=True, reason=PENDING[key])] if key in PENDING else []
    return pytest.param(value, marks=marks, id=value)


def params(names: typing.Iterable[str]) -> list[typing.Any]:
    """``names`` as pytest params; the PENDING ones marked strict xfail."""
    return [pending(name) for name in names]


def shape(obj: typing.Callable[..., typing.Any]) -> list[tuple[str, str, str]]:
    """Parameter names, kinds and default reprs of a callable (annotations ignored)."""
    signature = inspect.signature(obj)
    return [
        (p.name, p.kind.name, "<required>" if p.default is p.empty else repr(p.default))
        for p in signature.parameters.values()
    ]


def public_members(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def defining_module(cls: type, reference: types.ModuleType = httpcore) -> str:
    """The ``reference`` submodule whose file defines ``cls`` (httpcore and httpcore2
    rewrite ``__module__``)."""
    package_dir = os.path.dirname(typing.cast(str, reference.__file__))
    for value in vars(cls).values():
        if inspect.isfunction(value):
            relative = os.path.relpath(value.__code__.co_filename, package_dir)
            return os.path.splitext(relative)[0].replace(os.sep, ".")
    return "_exceptions"


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize("reference", REFERENCES)
def test_all_names(reference: types.ModuleType) -> None:
    assert sorted(httpcore_fast.__all__) == sorted(reference.__all__)
    assert len(httpcore_fast.__all__) == len(set(httpcore_fast.__all__))
    for name in reference.__all__:
        assert hasattr(httpcore_fast, name), name


@needs_httpcore2
def test_httpcore2_is_at_least_2_16_2() -> None:
    """The reference surface is 2.16.2's (2.17.0's is the same): an older httpcore2 lacks
    parts of it, and the checks against it would pass for the wrong reason."""
    version = tuple(int(part) for part in httpcore2.__version__.split(".")[:3])
    assert version >= (2, 16, 2), httpcore2.__version__


def canonical_type(hint: typing.Any) -> typing.Any:
    """A type hint with ``typing.Union``/``X | Y``, ``Tuple``/``tuple`` and ``None``/
    ``NoneType`` spelled one way, for comparing httpcore's hints with httpcore2's."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return ("union", frozenset(canonical_type(arg) for arg in args))
    if origin is tuple:
        return ("tuple", tuple(canonical_type(arg) for arg in args))
    return None if hint is type(None) else hint


@pytest.mark.parametrize("reference", REFERENCES)
def test_socket_option_type(reference: types.ModuleType) -> None:
    assert canonical_type(httpcore_fast.SOCKET_OPTION) == canonical_type(reference.SOCKET_OPTION)
    if reference is httpcore:
        assert httpcore_fast.SOCKET_OPTION == reference.SOCKET_OPTION


def test_no_extra_exceptions_at_top_level() -> None:
    """httpx (and httpx2) require a same-named class of theirs for every exception class
    in vars(httpcore)."""
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


@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize("name", params(CLASSES + FUNCTIONS))
def test_signature(name: str, reference: types.ModuleType) -> None:
    """Constructor / function parameters: the same names, kinds and defaults, in order;
    our EXTRA_PARAMETERS the reference lacks only as keyword-only with a default."""
    expected = shape(getattr(reference, name))
    ours = shape(getattr(httpcore_fast, name))
    extra = EXTRA_PARAMETERS.get(name, set()) - {p[0] for p in expected}
    for parameter in ours:
        if parameter[0] in extra:
            assert parameter[1] == "KEYWORD_ONLY" and parameter[2] != "<required>"
    assert [p for p in ours if p[0] not in extra] == expected


# Methods httpcore2 added to the connection interfaces and classes: checked one by one by
# test_httpcore2_methods (so that one still being built elsewhere can be PENDING alone).
HTTPCORE2_METHODS = ("is_connected", "can_multiplex")


@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize("name", params(CLASSES))
def test_members(name: str, reference: types.ModuleType) -> None:
    """Every public method/attribute, with the same signature or value."""
    expected_class, ours = getattr(reference, name), getattr(httpcore_fast, name)
    members = public_members(expected_class) - set(HTTPCORE2_METHODS)
    missing = members - public_members(ours)
    assert not missing, f"{name} lacks {sorted(missing)}"
    for member in sorted(members):
        assert_same_member(expected_class, ours, member)


def assert_same_member(reference: type, ours: type, member: str) -> None:
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


def httpcore2_methods() -> list[str]:
    """``Class.method`` for every class of httpcore2's with a method 1.0.9 lacks."""
    if httpcore2 is None:
        return [f"HTTPConnection.{m}" for m in HTTPCORE2_METHODS]  # skipped there anyway
    return [
        f"{name}.{method}"
        for name in CLASSES
        for method in HTTPCORE2_METHODS
        if method in vars(getattr(httpcore2, name))
    ]


@needs_httpcore2
def test_httpcore2_methods_are_the_known_ones() -> None:
    """The methods httpcore2 has and httpcore 1.0.9 lacks, on any public class."""
    added = {
        (name, member)
        for name in CLASSES
        for member in public_members(getattr(httpcore2, name))
        - public_members(getattr(httpcore, name))
    }
    assert {member for _, member in added} == set(HTTPCORE2_METHODS)
    assert sorted(f"{name}.{member}" for name, member in added if member in vars(
        getattr(httpcore2, name)
    )) == sorted(httpcore2_methods())
    assert {name for name, _ in added} == {
        f"{prefix}{base}"
        for prefix in ("", "Async")
        for base in ("ConnectionInterface", "HTTPConnection", "HTTP11Connection", "HTTP2Connection")
    }


@needs_httpcore2
@pytest.mark.parametrize("item", params(httpcore2_methods()))
def test_httpcore2_methods(item: str) -> None:
    """``is_connected()`` / ``can_multiplex()`` on each class where httpcore2 defines it,
    with the same signature (their values: test_connection_states_*)."""
    name, _, method = item.partition(".")
    ours = getattr(httpcore_fast, name)
    assert method in public_members(ours), f"{name} lacks {method}"
    assert_same_member(getattr(httpcore2, name), ours, method)


@pytest.mark.parametrize("reference_module", REFERENCES)
@pytest.mark.parametrize("name", params(["AsyncHTTP2Connection", "HTTP2Connection"]))
def test_h2_config(name: str, reference_module: types.ModuleType) -> None:
    reference = getattr(reference_module, name).CONFIG
    ours = getattr(httpcore_fast, name).CONFIG
    assert type(ours) is type(reference)
    assert ours.client_side and ours.validate_inbound_headers == reference.validate_inbound_headers


@pytest.mark.parametrize("reference_module", REFERENCES)
@pytest.mark.parametrize("name", EXCEPTIONS)
def test_exception_hierarchy(name: str, reference_module: types.ModuleType) -> None:
    reference, ours = getattr(reference_module, name), getattr(httpcore_fast, name)
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


@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize("name", params(CLASSES))
def test_module_paths(name: str, reference: types.ModuleType) -> None:
    """``httpcore.<module>.<Name>`` (``httpcore2.<module>.<Name>``) exists as
    ``httpcore_fast.<module>.<Name>``, the same object as the top-level one (respx patches
    e.g. ``httpcore._sync.http_proxy.HTTPProxy``)."""
    path = defining_module(getattr(reference, name), reference)
    module = importlib.import_module(f"httpcore_fast.{path}")
    assert getattr(module, name) is getattr(httpcore_fast, name)


@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize(
    "name",
    params(n for n in CLASSES if defining_module(getattr(REFERENCE, n)).startswith(("_a", "_s"))),
)
def test_package_reexports(name: str, reference: types.ModuleType) -> None:
    """httpcore's (httpcore2's) ``_async`` / ``_sync`` packages re-export their classes."""
    package = defining_module(getattr(reference, name), reference).partition(".")[0]
    assert name in vars(importlib.import_module(f"{reference.__name__}.{package}"))
    module = importlib.import_module(f"httpcore_fast.{package}")
    assert getattr(module, name, None) is getattr(httpcore_fast, name)


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_exception_module_path(name: str) -> None:
    assert getattr(httpcore_fast._exceptions, name) is getattr(httpcore_fast, name)


@pytest.mark.parametrize("reference_module", REFERENCES)
@pytest.mark.parametrize(
    "path",
    ["_api.request", "_api.stream", "_ssl.default_ssl_context", "_backends.auto.AutoBackend"],
)
def test_helper_paths(path: str, reference_module: types.ModuleType) -> None:
    module, _, attribute = path.rpartition(".")
    package = reference_module.__name__
    reference = getattr(importlib.import_module(f"{package}.{module}"), attribute)
    ours = getattr(importlib.import_module(f"httpcore_fast.{module}"), attribute)
    if path != "_ssl.default_ssl_context" or reference_module is httpcore2:
        assert shape(ours) == shape(reference)


# --- behaviour seen through the API: reprs, extensions, trace events, log lines ----------

RESPONSE = [b"HTTP/1.1 200 OK\r\n", b"Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n", b"hello"]


def same_spelling(text: str) -> str:
    """``text`` with httpcore2's own name spelled as httpcore's: the mock streams' reprs
    name their package (``<httpcore2.MockStream>``); ours say ``<httpcore.MockStream>`` as
    httpcore's do, served as either."""
    return re.sub(r"\bhttpcore2\.", "httpcore.", text)


@pytest.mark.parametrize("reference", REFERENCES)
def test_model_reprs(reference: types.ModuleType) -> None:
    cases = [
        lambda lib: lib.URL("https://example.com/a?b"),
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
        assert repr(case(httpcore_fast)) == same_spelling(repr(case(reference)))
    assert str(httpcore_fast.Origin(b"https", b"example.com", 443)) == "https://example.com:443"


def test_mock_backend_private_attributes() -> None:
    for cls_name in ("MockBackend", "AsyncMockBackend"):
        backend = getattr(httpcore_fast, cls_name)([b"x"], http2=True)
        assert backend._buffer == [b"x"] and backend._http2 is True
    assert httpcore_fast.MockStream([b"x"], http2=True)._http2 is True


@pytest.mark.usefixtures("h2_only")
def test_http2_connection_private_attributes() -> None:
    """httpcore's own suite reads ``_h2_state`` (the h2 state machine) and ``_max_streams``
    (min of both sides' SETTINGS_MAX_CONCURRENT_STREAMS) of an HTTP/2 connection."""
    import h2.connection

    origin = httpcore_fast.Origin(b"https", b"example.com", 443)
    for lib_stream, cls in (
        (httpcore_fast.MockStream, httpcore_fast.HTTP2Connection),
        (httpcore_fast.AsyncMockStream, httpcore_fast.AsyncHTTP2Connection),
    ):
        connection = cls(origin, lib_stream([]))
        assert isinstance(connection._h2_state, h2.connection.H2Connection)
        assert connection._max_streams == 1  # until the server's SETTINGS say more


def test_http2_connection_private_attributes_on_the_default_layer() -> None:
    """What httpcore's suite reads of ``_h2_state`` (both sides' SETTINGS) is there on the
    default layer too: the native one (``_h2_c.CFraming``) with the Cython kernel."""
    origin = httpcore_fast.Origin(b"https", b"example.com", 443)
    for lib_stream, cls in (
        (httpcore_fast.MockStream, httpcore_fast.HTTP2Connection),
        (httpcore_fast.AsyncMockStream, httpcore_fast.AsyncHTTP2Connection),
    ):
        connection = cls(origin, lib_stream([]))
        state = connection._h2_state
        assert state.local_settings.max_concurrent_streams == 100  # ours, RFC 9113 §6.5.2
        assert state.remote_settings.max_concurrent_streams > 0  # until the server's SETTINGS
        assert connection._max_streams == 1


def run_sync(lib: typing.Any, url: str) -> tuple[list[tuple[str, list[str]]], dict[str, typing.Any]]:
    events: list[tuple[str, list[str]]] = []

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append((name, sorted(info)))

    with lib.ConnectionPool(network_backend=lib.MockBackend(RESPONSE)) as pool:
        response = pool.request("GET", url, extensions={"trace": trace})
        assert response.content == b"hello"
    return events, response.extensions


@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize("url", ["http://example.com/", "https://example.com/"])
def test_trace_events_and_extensions_sync(url: str, reference: types.ModuleType) -> None:
    expected_events, expected_extensions = run_sync(reference, url)
    events, extensions = run_sync(httpcore_fast, url)
    assert events == expected_events
    assert sorted(extensions) == sorted({*expected_extensions, *ADDED_EXTENSIONS})
    assert extensions["trailers"] == []
    for key in ("http_version", "reason_phrase"):
        assert extensions[key] == expected_extensions[key]


@pytest.mark.anyio
@pytest.mark.parametrize("reference", REFERENCES)
async def test_trace_events_and_extensions_async(reference: types.ModuleType) -> None:
    async def run(lib: typing.Any) -> tuple[list[tuple[str, list[str]]], list[str]]:
        events: list[tuple[str, list[str]]] = []

        async def trace(name: str, info: dict[str, typing.Any]) -> None:
            events.append((name, sorted(info)))

        async with lib.AsyncConnectionPool(network_backend=lib.AsyncMockBackend(RESPONSE)) as pool:
            response = await pool.request("GET", "https://example.com/", extensions={"trace": trace})
            assert response.content == b"hello"
        return events, sorted(response.extensions)

    events, extensions = await run(httpcore_fast)
    expected_events, expected_extensions = await run(reference)
    assert events == expected_events
    assert extensions == sorted({*expected_extensions, *ADDED_EXTENSIONS})


@pytest.mark.parametrize("reference", REFERENCES)
def test_debug_log_lines(caplog: pytest.LogCaptureFixture, reference: types.ModuleType) -> None:
    """The same DEBUG lines on the same loggers, but for the first name part: httpcore logs
    to ``httpcore.*``, httpcore2 to ``httpcore2.*``, we to ``httpcore.*`` (and, served as
    httpcore2 by install(), to ``httpcore2.*`` too: tests/test_install.py)."""

    def lines(lib: typing.Any) -> list[tuple[str, str]]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger=lib.__name__.replace("_fast", "")):
            run_sync(lib, "https://example.com/")
        return [
            (record.name.partition(".")[2], same_spelling(re.sub(r"0x[0-9a-f]+", "0x?", record.getMessage())))
            for record in caplog.records
            if record.name.startswith(lib.__name__.replace("_fast", "") + ".")
        ]

    expected = lines(reference)
    assert expected  # the reference does log at DEBUG
    assert lines(httpcore_fast) == expected


def mock_request(lib: typing.Any, chunks: list[bytes], **kwargs: typing.Any) -> typing.Any:
    with lib.ConnectionPool(network_backend=lib.MockBackend(chunks)) as pool:
        return pool.request("GET", "http://example.com/", **kwargs)


@pytest.mark.parametrize("reference", REFERENCES)
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
def test_error_types(
    call: typing.Callable[[typing.Any], typing.Any], same_message: bool, reference: types.ModuleType
) -> None:
    with pytest.raises(Exception) as expected:
        call(reference)
    with pytest.raises(Exception) as actual:
        call(httpcore_fast)
    assert type(actual.value).__name__ == type(expected.value).__name__
    if same_message:
        assert str(actual.value) == str(expected.value)


# --- httpcore2's additions, by behaviour -------------------------------------------------


def h2_response() -> list[bytes]:
    """A server's side of one HTTP/2 exchange on stream 1: SETTINGS, HEADERS, DATA."""
    import hpack
    import hyperframe.frame

    headers = hpack.Encoder().encode([(b":status", b"200"), (b"content-type", b"text/plain")])
    return [
        hyperframe.frame.SettingsFrame().serialize(),
        hyperframe.frame.HeadersFrame(stream_id=1, data=headers, flags=["END_HEADERS"]).serialize(),
        hyperframe.frame.DataFrame(stream_id=1, data=b"hello", flags=["END_STREAM"]).serialize(),
    ]


ORIGIN = (b"https", b"example.com", 443)
STATE_METHODS = ["is_connected", "can_multiplex"]


def states(connection: typing.Any, methods: list[str]) -> list[bool | str]:
    """Each method's value, or the name of the exception it raised."""
    values: list[bool | str] = []
    for method in methods:
        try:
            values.append(getattr(connection, method)())
        except Exception as exc:  # pragma: no cover - shown in the failure
            values.append(type(exc).__name__)
    return values


def connection_states_sync(lib: typing.Any, http2: bool, methods: list[str]) -> list[typing.Any]:
    """``methods``' values through the life of an ``HTTPConnection`` (new, after a request,
    closed) and of a connection over an open stream (``HTTP11Connection`` /
    ``HTTP2Connection``: new, after a request, closed)."""
    chunks = h2_response() if http2 else RESPONSE
    origin = lib.Origin(*ORIGIN)
    seen = []
    connection = lib.HTTPConnection(
        origin, network_backend=lib.MockBackend(chunks, http2=http2), http2=http2
    )
    seen.append(states(connection, methods))
    assert connection.request("GET", "https://example.com/").content == b"hello"
    seen.append(states(connection, methods))
    connection.close()
    seen.append(states(connection, methods))
    direct_class = lib.HTTP2Connection if http2 else lib.HTTP11Connection
    direct = direct_class(origin, lib.MockStream(list(chunks), http2=http2))
    seen.append(states(direct, methods))
    assert direct.request("GET", "https://example.com/").content == b"hello"
    seen.append(states(direct, methods))
    direct.close()
    seen.append(states(direct, methods))
    return seen


async def connection_states_async(
    lib: typing.Any, http2: bool, methods: list[str]
) -> list[typing.Any]:
    """:func:`connection_states_sync` on the async classes."""
    chunks = h2_response() if http2 else RESPONSE
    origin = lib.Origin(*ORIGIN)
    seen = []
    connection = lib.AsyncHTTPConnection(
        origin, network_backend=lib.AsyncMockBackend(chunks, http2=http2), http2=http2
    )
    seen.append(states(connection, methods))
    assert (await connection.request("GET", "https://example.com/")).content == b"hello"
    seen.append(states(connection, methods))
    await connection.aclose()
    seen.append(states(connection, methods))
    direct_class = lib.AsyncHTTP2Connection if http2 else lib.AsyncHTTP11Connection
    direct = direct_class(origin, lib.AsyncMockStream(list(chunks), http2=http2))
    seen.append(states(direct, methods))
    assert (await direct.request("GET", "https://example.com/")).content == b"hello"
    seen.append(states(direct, methods))
    await direct.aclose()
    seen.append(states(direct, methods))
    return seen


def state_params() -> list[typing.Any]:
    """One case per method: ``can_multiplex`` cases are PENDING while it is."""
    return [pending(method, f"HTTPConnection.{method}") for method in STATE_METHODS]


@needs_httpcore2
@pytest.mark.parametrize("http2", [False, True], ids=["http11", "http2"])
@pytest.mark.parametrize("method", state_params())
def test_connection_states_sync(method: str, http2: bool) -> None:
    expected = connection_states_sync(httpcore2, http2, [method])
    assert connection_states_sync(httpcore_fast, http2, [method]) == expected


@needs_httpcore2
@pytest.mark.anyio
@pytest.mark.parametrize("http2", [False, True], ids=["http11", "http2"])
@pytest.mark.parametrize("method", state_params())
async def test_connection_states_async(method: str, http2: bool) -> None:
    expected = await connection_states_async(httpcore2, http2, [method])
    assert await connection_states_async(httpcore_fast, http2, [method]) == expected


@needs_httpcore2
def test_is_connected_after_a_failed_connect() -> None:
    """A connection whose connect failed is closed and not connected, as in httpcore2."""
    import socket

    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    def after_failure(lib: typing.Any) -> list[bool]:
        connection = lib.HTTPConnection(lib.Origin(b"http", b"127.0.0.1", port))
        with pytest.raises(lib.ConnectError):
            connection.request("GET", f"http://127.0.0.1:{port}/")
        return [connection.is_connected(), connection.is_closed()]

    assert after_failure(httpcore_fast) == after_failure(httpcore2) == [False, True]


@needs_httpcore2
@pytest.mark.parametrize(
    "variable",
    [
        pending("SSL_CERT_FILE", "default_ssl_context._trust_env"),
        "SSL_CERT_DIR",  # read lazily: only the count is compared (no CA is listed)
    ],
)
def test_default_ssl_context_trust_env(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``default_ssl_context(*, _trust_env=True)``: with ``_trust_env`` the variable's CA
    file (directory) replaces the default trust anchors; without it the variable is
    ignored. The default anchors themselves differ on purpose (certifi here, the system's
    in httpcore2: docs/migration.md), so only the variable's effect is compared."""
    import trustme

    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv(variable, str(ca_file if variable == "SSL_CERT_FILE" else tmp_path))

    def loaded(lib: typing.Any, trust_env: bool) -> tuple[int, bool]:
        context = lib.default_ssl_context(_trust_env=trust_env)
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        count = context.cert_store_stats()["x509_ca"]
        return count, ca.cert_pem.bytes() in {
            ssl.DER_cert_to_PEM_cert(der).encode() for der in context.get_ca_certs(True)
        }

    for trust_env in (True, False):
        expected = loaded(httpcore2, trust_env)
        ours = loaded(httpcore_fast, trust_env)
        if trust_env:  # only the variable's CAs: the file's one, or none yet (a directory)
            assert ours == expected
        else:  # the variable ignored: the default anchors, not the test CA
            assert ours[1] is expected[1] is False and ours[0] > 10
    assert loaded(httpcore_fast, True) == loaded(httpcore_fast, True)
