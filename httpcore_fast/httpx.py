"""httpx transports running on httpcore_fast, with no import aliasing.

::

    import httpx
    from httpcore_fast.httpx import HTTPTransport, AsyncHTTPTransport

    client = httpx.Client(transport=HTTPTransport(http2=False, retries=1))
    async_client = httpx.AsyncClient(transport=AsyncHTTPTransport())

The constructors take httpx's ``HTTPTransport`` keywords (``verify, cert, trust_env, http1,
http2, limits, proxy, uds, local_address, retries, socket_options``) with the same meaning, and
httpcore_fast's exceptions come out as httpx's (``httpx.ReadTimeout`` for a read timeout, and
so on: the most specific httpx class, as httpx's own transport does).

The same classes serve httpx2 clients: each request carries its package (``httpx`` or
``httpx2``), and the response and exceptions are built from that package's classes. The
transport classes subclass ``httpx.BaseTransport`` / ``httpx.AsyncBaseTransport`` when httpx is
installed, else httpx2's.

Passing ``transport=`` to an httpx client turns off the proxies httpx would take from the
environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``): httpx only reads
them for the transports it builds itself. Pass ``proxy=`` here, or mount one transport per
proxy with ``mounts=`` (see ``docs/migration.md``).
"""

# No relative imports: "httpx" below must be the real httpx, never this module.
from __future__ import annotations

import importlib
import ssl
import typing
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from types import ModuleType, TracebackType

import httpcore_fast as _core

try:
    import httpx as _default_flavour_module
except ImportError:  # pragma: no cover - only httpx2 installed
    try:
        import httpx2 as _default_flavour_module  # type: ignore[no-redef]
    except ImportError:
        raise ImportError(
            "httpcore_fast.httpx needs httpx (pip install 'httpcore-fast[httpx]') or httpx2."
        ) from None

__all__ = ["HTTPTransport", "AsyncHTTPTransport", "DEFAULT_LIMITS"]

SOCKET_OPTION = _core.SOCKET_OPTION
DEFAULT_LIMITS = _default_flavour_module.Limits(max_connections=100, max_keepalive_connections=20)
"""httpx's default limits: 100 connections, 20 kept alive, 5 seconds keep-alive expiry."""

# The httpcore exception names httpx maps (httpx/_transports/default.py), all of which exist
# under the same name in httpx and httpx2.
_MAPPED_NAMES = (
    "TimeoutException",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "PoolTimeout",
    "NetworkError",
    "ConnectError",
    "ReadError",
    "WriteError",
    "ProxyError",
    "UnsupportedProtocol",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
)
_CORE_ERRORS: tuple[type[Exception], ...] = tuple(getattr(_core, name) for name in _MAPPED_NAMES)
_FLAVOUR_PACKAGES = ("httpx", "httpx2")


class _Flavour:
    """What a transport needs from one httpx package (httpx or httpx2)."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.Response = module.Response
        self.exceptions: dict[type[BaseException], type[Exception]] = {
            getattr(_core, name): getattr(module, name) for name in _MAPPED_NAMES
        }
        flavour = self

        class ResponseStream(module.SyncByteStream):  # type: ignore[misc,name-defined]
            """The body of an httpcore_fast response, as an httpx sync byte stream."""

            def __init__(self, stream: Iterable[bytes]) -> None:
                self._stream = stream

            def __iter__(self) -> Iterator[bytes]:
                try:
                    yield from self._stream
                except _CORE_ERRORS as exc:
                    raise flavour.translate(exc) from exc

            def close(self) -> None:
                close = getattr(self._stream, "close", None)
                if close is not None:
                    try:
                        close()
                    except _CORE_ERRORS as exc:
                        raise flavour.translate(exc) from exc

        class AsyncResponseStream(module.AsyncByteStream):  # type: ignore[misc,name-defined]
            """The body of an httpcore_fast response, as an httpx async byte stream."""

            def __init__(self, stream: AsyncIterable[bytes]) -> None:
                self._stream = stream

            async def __aiter__(self) -> AsyncIterator[bytes]:
                try:
                    async for part in self._stream:
                        yield part
                except _CORE_ERRORS as exc:
                    raise flavour.translate(exc) from exc

            async def aclose(self) -> None:
                aclose = getattr(self._stream, "aclose", None)
                if aclose is not None:
                    try:
                        await aclose()
                    except _CORE_ERRORS as exc:
                        raise flavour.translate(exc) from exc

        self.ResponseStream = ResponseStream
        self.AsyncResponseStream = AsyncResponseStream

    def response(self, response: _core.Response, stream_class: type) -> typing.Any:
        """This package's ``Response`` for an httpcore_fast response (body not read)."""
        return self.Response(
            status_code=response.status,
            headers=response.headers,
            stream=stream_class(response.stream),
            extensions=response.extensions,
        )

    def translate(self, exc: BaseException) -> Exception:
        """The httpx exception for httpcore_fast exception ``exc`` (most specific class)."""
        for cls in type(exc).__mro__:
            target = self.exceptions.get(cls)
            if target is not None:
                return target(str(exc))
        raise AssertionError(f"unmapped exception {exc!r}")  # pragma: no cover


_flavours: dict[str, _Flavour] = {}
_flavour_by_type: dict[type, _Flavour] = {}


def _flavour_named(package: str) -> _Flavour:
    flavour = _flavours.get(package)
    if flavour is None:
        flavour = _flavours.setdefault(package, _Flavour(importlib.import_module(package)))
    return flavour


def _flavour_of(obj: object) -> _Flavour:
    """The flavour of an httpx / httpx2 object (request, URL, Proxy): its class's package."""
    cls = type(obj)
    flavour = _flavour_by_type.get(cls)
    if flavour is None:
        package = _default_flavour_module.__name__
        for klass in cls.__mro__:
            top = klass.__module__.partition(".")[0]
            if top in _FLAVOUR_PACKAGES:
                package = top
                break
        flavour = _flavour_by_type.setdefault(cls, _flavour_named(package))
    return flavour


def _ssl_context(
    verify: ssl.SSLContext | str | bool, cert: typing.Any, trust_env: bool
) -> ssl.SSLContext:
    """The TLS context the installed httpx builds for ``verify`` / ``cert`` /
    ``trust_env`` (its ``create_ssl_context``; httpx2's when only httpx2 is installed), so
    that a client trusts the same certificates on this transport as on httpx's own: for
    httpx, the certifi bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` with ``trust_env``,
    read when the transport is built. Deprecated forms warn as httpx warns."""
    context: ssl.SSLContext = _default_flavour_module.create_ssl_context(
        verify=verify, cert=cert, trust_env=trust_env
    )
    return context


def _build_pool(
    sync: bool,
    *,
    verify: ssl.SSLContext | str | bool,
    cert: typing.Any,
    trust_env: bool,
    http1: bool,
    http2: bool,
    limits: typing.Any,
    proxy: typing.Any,
    uds: str | None,
    local_address: str | None,
    retries: int,
    socket_options: Iterable[SOCKET_OPTION] | None,
) -> tuple[typing.Any, _Flavour]:
    """The pool (or proxy pool) behind a transport, and the flavour for its errors."""
    ssl_context = _ssl_context(verify, cert, trust_env)
    limit_kwargs = dict(
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=http1,
        http2=http2,
    )
    if proxy is None:
        pool_class = _core.ConnectionPool if sync else _core.AsyncConnectionPool
        pool = pool_class(
            ssl_context=ssl_context,
            uds=uds,
            local_address=local_address,
            retries=retries,
            socket_options=socket_options,
            **limit_kwargs,
        )
        return pool, _flavour_named(_default_flavour_module.__name__)

    flavour = _flavour_of(proxy) if not isinstance(proxy, str) else _flavour_named(
        _default_flavour_module.__name__
    )
    if not hasattr(proxy, "raw_auth"):  # a str or an httpx URL, not an httpx Proxy
        proxy = flavour.module.Proxy(url=proxy)
    proxy_url = _core.URL(
        scheme=proxy.url.raw_scheme,
        host=proxy.url.raw_host,
        port=proxy.url.port,
        target=proxy.url.raw_path,
    )
    if proxy.url.scheme in ("http", "https"):
        proxy_class = _core.HTTPProxy if sync else _core.AsyncHTTPProxy
        pool = proxy_class(
            proxy_url=proxy_url,
            proxy_auth=proxy.raw_auth,
            proxy_headers=proxy.headers.raw,
            ssl_context=ssl_context,
            proxy_ssl_context=proxy.ssl_context,
            socket_options=socket_options,
            **limit_kwargs,
        )
    elif proxy.url.scheme in ("socks5", "socks5h"):
        socks_class = _core.SOCKSProxy if sync else _core.AsyncSOCKSProxy
        pool = socks_class(
            proxy_url=proxy_url,
            proxy_auth=proxy.raw_auth,
            ssl_context=ssl_context,
            **limit_kwargs,
        )
    else:
        raise ValueError(
            "Proxy protocol must be either 'http', 'https', 'socks5', or 'socks5h',"
            f" but got {proxy.url.scheme!r}."
        )
    return pool, flavour


def _core_request(request: typing.Any) -> _core.Request:
    url = request.url
    return _core.Request(
        method=request.method,
        url=_core.URL(
            scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
        ),
        headers=request.headers.raw,
        content=request.stream,
        extensions=request.extensions,
    )


_SyncBase: type = _default_flavour_module.BaseTransport
_AsyncBase: type = _default_flavour_module.AsyncBaseTransport


class _PoolTransport:
    """The constructor both transports share: builds the httpcore_fast pool behind them.

    Args:
        verify: True (verify with httpx's default CA bundle, certifi), False (no
            verification), an ``ssl.SSLContext``, or (deprecated, as in httpx) a CA file or
            directory path. The context is built by httpx's own ``create_ssl_context``.
        cert: (deprecated, as in httpx) client certificate file, or ``(certfile, keyfile)``
            or ``(certfile, keyfile, password)``.
        trust_env: honour ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` for ``verify=True``.
        http1, http2: protocols to offer (HTTP/2 needs the ``h2`` package).
        limits: an ``httpx.Limits`` (default 100 connections, 20 kept alive, keep-alive
            expiry 5 seconds).
        proxy: a proxy URL (``str`` or ``httpx.URL``) or ``httpx.Proxy``; ``http``/``https``
            go through httpcore_fast's ``HTTPProxy``, ``socks5``/``socks5h`` through its
            ``SOCKSProxy``.
        uds: path of a Unix domain socket to connect to instead of TCP.
        local_address: local IP address to bind outgoing connections to.
        retries: connection attempts to retry on ``ConnectError`` / ``ConnectTimeout``.
        socket_options: ``setsockopt`` triples applied to every new socket.

    Raises:
        ValueError: for a proxy scheme other than http, https, socks5, socks5h.
    """

    _sync: typing.ClassVar[bool]

    def __init__(
        self,
        verify: ssl.SSLContext | str | bool = True,
        cert: typing.Any = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: typing.Any = DEFAULT_LIMITS,
        proxy: typing.Any = None,
        uds: str | None = None,
        local_address: str | None = None,
        retries: int = 0,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> None:
        self._pool, self._flavour = _build_pool(
            self._sync,
            verify=verify,
            cert=cert,
            trust_env=trust_env,
            http1=http1,
            http2=http2,
            limits=limits,
            proxy=proxy,
            uds=uds,
            local_address=local_address,
            retries=retries,
            socket_options=socket_options,
        )


class HTTPTransport(_PoolTransport, _SyncBase):  # type: ignore[misc]
    """An httpx (or httpx2) sync transport sending requests through an
    :class:`httpcore_fast.ConnectionPool`. Arguments: see :class:`_PoolTransport`
    (httpx's ``HTTPTransport`` keywords).
    """

    _sync = True

    def __enter__(self) -> HTTPTransport:
        self._pool.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            self._pool.__exit__(exc_type, exc_value, traceback)
        except _CORE_ERRORS as exc:
            raise self._flavour.translate(exc) from exc

    def handle_request(self, request: typing.Any) -> typing.Any:
        """Send an ``httpx.Request`` (or ``httpx2.Request``); return the matching
        ``Response`` with its body not yet read.

        Raises:
            httpx.TimeoutException, httpx.NetworkError, httpx.ProtocolError, ... (the
            request's package's own classes) for the corresponding httpcore_fast errors.
        """
        flavour = _flavour_by_type.get(type(request)) or _flavour_of(request)
        try:
            response = self._pool.handle_request(_core_request(request))
        except _CORE_ERRORS as exc:
            raise flavour.translate(exc) from exc
        return flavour.response(response, flavour.ResponseStream)

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pool.close()


class AsyncHTTPTransport(_PoolTransport, _AsyncBase):  # type: ignore[misc]
    """An httpx (or httpx2) async transport sending requests through an
    :class:`httpcore_fast.AsyncConnectionPool` (asyncio natively, or trio). Arguments: see
    :class:`_PoolTransport` (httpx's ``AsyncHTTPTransport`` keywords).
    """

    _sync = False

    async def __aenter__(self) -> AsyncHTTPTransport:
        await self._pool.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            await self._pool.__aexit__(exc_type, exc_value, traceback)
        except _CORE_ERRORS as exc:
            raise self._flavour.translate(exc) from exc

    async def handle_async_request(self, request: typing.Any) -> typing.Any:
        """Send an ``httpx.Request`` (or ``httpx2.Request``); return the matching
        ``Response`` with its body not yet read.

        Raises:
            httpx.TimeoutException, httpx.NetworkError, httpx.ProtocolError, ... (the
            request's package's own classes) for the corresponding httpcore_fast errors.
        """
        flavour = _flavour_by_type.get(type(request)) or _flavour_of(request)
        try:
            response = await self._pool.handle_async_request(_core_request(request))
        except _CORE_ERRORS as exc:
            raise flavour.translate(exc) from exc
        return flavour.response(response, flavour.AsyncResponseStream)

    async def aclose(self) -> None:
        """Close every connection of the pool."""
        await self._pool.aclose()
