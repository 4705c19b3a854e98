"""httpx transports running on httpcore_fast, with no import aliasing.

::

    import httpx
    from httpcore_fast.httpx import HTTPTransport, AsyncHTTPTransport

    client = httpx.Client(transport=HTTPTransport(http2=False, retries=1))
    async_client = httpx.AsyncClient(transport=AsyncHTTPTransport())

The constructors take httpx's ``HTTPTransport`` keywords (``verify, cert, trust_env, http1,
http2, limits, proxy, uds, local_address, retries, socket_options``) with the same meaning, and
httpcore_fast's exceptions come out as httpx's (``httpx.ReadTimeout`` for a read timeout, and
so on: the most specific httpx class, as httpx's own transport does). Keyword-only after
them, the pool options of httpcore_fast (``max_connections_per_origin``,
``retry_stale_connections``, ``resolve``, ``dns_cache_ttl``, ``tls_session_cache``,
``network_backend``, and ``response_limits``: a ``ResponseLimits``, the pools' ``limits=``,
renamed here because ``limits=`` is httpx's ``Limits``); ``stats()`` is the pool's.

The same classes serve httpx2 clients: each request carries its package (``httpx`` or
``httpx2``), and the response and exceptions are built from that package's classes. The
transport classes subclass ``httpx.BaseTransport`` / ``httpx.AsyncBaseTransport`` when httpx is
installed, else httpx2's.

Passing ``transport=`` to an httpx client turns off the proxies httpx would take from the
environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``): httpx only reads
them for the transports it builds itself. ``mounts_from_env`` gives them back::

    options = {"http2": True, "max_connections_per_origin": 6}
    client = httpx.Client(
        transport=HTTPTransport(**options), mounts=HTTPTransport.mounts_from_env(**options)
    )

(see ``docs/migration.md``).
"""

# No relative imports: "httpx" below must be the real httpx, never this module.
from __future__ import annotations

import importlib
import ipaddress
import ssl
import typing
import urllib.request
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from types import ModuleType, TracebackType

import httpcore_fast as _core
from httpcore_fast._core.pool import PoolStats

try:
    import httpx as _default_flavour_module
except ImportError:  # pragma: no cover - only httpx2 installed
    try:
        import httpx2 as _default_flavour_module  # type: ignore[no-redef]
    except ImportError:
        raise ImportError(
            "httpcore_fast.httpx needs httpx (pip install 'httpcore-fast[httpx]') or httpx2."
        ) from None

__all__ = ["HTTPTransport", "AsyncHTTPTransport", "DEFAULT_LIMITS", "environment_proxies"]

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
        self.ByteStream: typing.Any = module.ByteStream
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
    pool_options: dict[str, typing.Any],
) -> tuple[typing.Any, _Flavour]:
    """The pool (or proxy pool) behind a transport, and the flavour for its errors.

    Each pool gets the keywords httpx's own transport gives httpcore's pool of that kind
    (so the proxy pools get no ``uds``, ``local_address`` or ``retries``, as in httpx),
    plus ``pool_options``: httpcore_fast's keyword-only pool options, for every kind."""
    if not hasattr(limits, "max_keepalive_connections"):
        hint = (
            " (response limits go in response_limits=)"
            if isinstance(limits, _core.ResponseLimits)
            else ""
        )
        raise TypeError(f"limits= takes an httpx.Limits, not {type(limits).__name__}{hint}")
    ssl_context = _ssl_context(verify, cert, trust_env)
    common_kwargs = dict(
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=http1,
        http2=http2,
        **pool_options,
    )
    if proxy is None:
        pool_class = _core.ConnectionPool if sync else _core.AsyncConnectionPool
        pool = pool_class(
            ssl_context=ssl_context,
            uds=uds,
            local_address=local_address,
            retries=retries,
            socket_options=socket_options,
            **common_kwargs,
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
            **common_kwargs,
        )
    elif proxy.url.scheme in ("socks5", "socks5h"):
        socks_class = _core.SOCKSProxy if sync else _core.AsyncSOCKSProxy
        pool = socks_class(
            proxy_url=proxy_url,
            proxy_auth=proxy.raw_auth,
            ssl_context=ssl_context,
            **common_kwargs,
        )
    else:
        raise ValueError(
            "Proxy protocol must be either 'http', 'https', 'socks5', or 'socks5h',"
            f" but got {proxy.url.scheme!r}."
        )
    return pool, flavour


def _core_request(request: typing.Any, flavour: _Flavour) -> _core.Request:
    """The httpcore_fast request for an httpx (``flavour``) request. A body httpx holds
    as bytes (its ``ByteStream``: no body, ``content=bytes``, ``json=``, ``data=``) goes
    as bytes, so the pool may send it again when a kept-alive connection turns out stale
    (``retry_stale_connections``); others go as the stream they are."""
    url = request.url
    stream: typing.Any = request.stream
    return _core.Request(
        method=request.method,
        url=_core.URL(
            scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
        ),
        headers=request.headers.raw,
        content=b"".join(stream) if type(stream) is flavour.ByteStream else stream,
        extensions=request.extensions,
    )


_SyncBase: type = _default_flavour_module.BaseTransport
_AsyncBase: type = _default_flavour_module.AsyncBaseTransport


def environment_proxies(package: str | None = None) -> dict[str, str | None]:
    """The proxies a client of ``package`` (``"httpx"`` or ``"httpx2"``; None: httpx if
    installed, else httpx2) takes from the environment when it builds its own transports
    (``trust_env=True`` and no ``transport=``): a dict from a mount pattern
    (``"http://"``, ``"https://"``, ``"all://"``, ``"all://*example.com"``, ...) to a proxy
    URL (str), or to None for a ``NO_PROXY`` entry (go direct).

    The package's own rules, reimplemented (httpx keeps them private): the variables are
    read by ``urllib.request.getproxies()`` (``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY``, ``NO_PROXY``; the lower-case name wins over the upper-case one; on
    Windows and macOS the system settings when none is set); a proxy without a scheme is
    ``http://``; in ``NO_PROXY`` (comma-separated, see curl's ``CURLOPT_NOPROXY``) ``*``
    means no proxies at all, an entry with ``://`` is a pattern as it stands, an IP address
    (or network ``address/prefix``) or ``localhost`` matches that host, another name
    matches that domain and its subdomains (``example.com``: ``all://*example.com``;
    ``.example.com``: subdomains only). httpx2 also brackets IPv6 addresses (and reads
    ``[::1]`` and ``*.example.com`` as they stand) and leaves out entries it cannot
    parse. Raises ``ImportError`` if ``package`` is not installed.
    """
    module = _flavour_named(package or _default_flavour_module.__name__).module
    httpx2_rules = module.__name__ == "httpx2"
    proxies = urllib.request.getproxies()
    mounts: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        url = proxies.get(scheme)
        if url:
            mounts[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    for entry in proxies.get("no", "").split(","):
        host = entry.strip()
        if host == "*":
            return {}
        if not host:
            continue
        if "://" in host:
            mounts[host] = None
        elif _is_address(host, ipaddress.IPv4Address):
            mounts[f"all://{host}"] = None
        elif _is_address(host, ipaddress.IPv6Address):
            if not httpx2_rules:
                mounts[f"all://[{host}]"] = None
            elif "/" in host:
                address, _, prefix = host.partition("/")
                mounts[f"all://[{address}]/{prefix}"] = None
            else:
                mounts[f"all://[{host.replace('%', '%25')}]"] = None
        elif host.lower() == "localhost":
            mounts[f"all://{host}"] = None
        elif not httpx2_rules:
            mounts[f"all://*{host}"] = None
        elif host.startswith("[") or (host.startswith("*.") and "/" not in host):
            mounts[f"all://{host}"] = None
        elif "/" not in host:
            mounts[f"all://*{host}"] = None
    if httpx2_rules:
        mounts = {key: value for key, value in mounts.items() if _parses(module, key)}
    return mounts


def _is_address(host: str, kind: type[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> bool:
    """Whether ``host`` (an address, or a network ``address/prefix``) is one of ``kind``."""
    try:
        kind(host.split("/")[0])
    except ValueError:
        return False
    return True


def _parses(module: ModuleType, pattern: str) -> bool:
    """Whether httpx2 (``module``) accepts mount ``pattern``: a URL it parses, and for an
    IP host with a path, a network (``all://10.0.0.0/8``, ``all://[::1]/64``) it reads as
    such. httpx2 leaves other ``NO_PROXY`` entries out, as curl and Go do."""
    try:
        url = module.URL(pattern)
    except module.InvalidURL:
        return False
    prefix = url.path.removeprefix("/")
    if not prefix or not (
        _is_address(url.host, ipaddress.IPv4Address)
        or _is_address(url.host, ipaddress.IPv6Address)
    ):
        return True
    host = f"[{url.host}]" if ":" in url.host else url.host
    if "@" in pattern or "%" in pattern or not prefix.isdigit():
        return False
    if not pattern.endswith(f"{host}/{prefix}"):
        return False
    try:
        ipaddress.ip_network(f"{url.host}/{prefix}", strict=False)
    except ValueError:
        return False
    return True


_T = typing.TypeVar("_T", bound="_PoolTransport")


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

    Keyword-only, httpcore_fast's pool options (see ``ConnectionPool``), for the pool and
    for the proxy pools alike:

    Args:
        max_connections_per_origin: connections one origin may hold (int >= 1; None: no
            limit besides ``limits.max_connections``).
        retry_stale_connections: send an idempotent request again, once, on a new
            connection when a reused HTTP/1.1 connection fails before any response byte
            (RFC 9110 §9.2.2). Default True.
        resolve: host name (str) -> IP address strings used instead of DNS, like curl's
            ``--resolve``; for the names this transport connects to (the proxy's, with
            ``proxy=``).
        dns_cache_ttl: seconds a resolved name is reused (None: no cache).
        tls_session_cache: resume TLS sessions per origin (RFC 8446 §2.2). Default True.
        network_backend: a ``NetworkBackend`` (``HTTPTransport``) or
            ``AsyncNetworkBackend`` (``AsyncHTTPTransport``); None: the default.
        response_limits: a ``ResponseLimits`` bounding response heads, chunk-size lines,
            trailers and 1xx responses (the pools' ``limits=``); None: the defaults, which
            accept whatever httpcore accepts.

    Raises:
        ValueError: for a proxy scheme other than http, https, socks5, socks5h, or
            ``max_connections_per_origin`` below 1.
        TypeError: for ``limits`` that is not an ``httpx.Limits`` (a ``ResponseLimits``
            belongs in ``response_limits``), or ``response_limits`` that is not a
            ``ResponseLimits``.
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
        *,
        max_connections_per_origin: int | None = None,
        retry_stale_connections: bool = True,
        resolve: Mapping[str, Sequence[str]] | None = None,
        dns_cache_ttl: float | None = None,
        tls_session_cache: bool = True,
        network_backend: _core.NetworkBackend | _core.AsyncNetworkBackend | None = None,
        response_limits: _core.ResponseLimits | None = None,
    ) -> None:
        if response_limits is not None and not isinstance(response_limits, _core.ResponseLimits):
            raise TypeError(
                f"response_limits= takes a ResponseLimits or None, not {response_limits!r}"
            )
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
            pool_options=dict(
                max_connections_per_origin=max_connections_per_origin,
                retry_stale_connections=retry_stale_connections,
                resolve=resolve,
                dns_cache_ttl=dns_cache_ttl,
                tls_session_cache=tls_session_cache,
                network_backend=network_backend,
                limits=response_limits,
            ),
        )

    def stats(self) -> PoolStats:
        """The statistics of the pool behind this transport (``ConnectionPool.stats()``):
        a ``PoolStats``, ``total`` and per-origin counts of requests and connections."""
        return self._pool.stats()  # type: ignore[no-any-return]

    @classmethod
    def mounts_from_env(
        cls: type[_T], *, package: str | None = None, **transport_options: typing.Any
    ) -> dict[str, _T | None]:
        """The ``mounts=`` an httpx client needs to keep the environment's proxies
        (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``; see
        :func:`environment_proxies`) when it is given ``transport=``, which turns them off:
        a dict from mount pattern to a transport of this class through that proxy, built
        with ``transport_options`` (this class's keywords but ``proxy``), or to None for a
        ``NO_PROXY`` pattern. None is httpx's "the client's ``transport=``", so give the
        client a transport of this class too::

            client = httpx.Client(
                transport=HTTPTransport(**options),
                mounts=HTTPTransport.mounts_from_env(**options),
            )

        ``package``: the client's package, ``"httpx"`` or ``"httpx2"``, whose rules read
        ``NO_PROXY`` (None: httpx if installed, else httpx2). The variables are read now,
        once, as httpx reads them when a client is built. ``trust_env=False`` in
        ``transport_options`` returns ``{}``, as httpx then ignores them; so does an
        environment without proxy variables.

        Raises:
            TypeError: ``proxy`` in ``transport_options`` (an explicit proxy and the
                environment's are exclusive, as in httpx), or a keyword the transport
                does not take.
            ValueError: a proxy URL whose scheme is not http, https, socks5, socks5h.
        """
        if "proxy" in transport_options:
            raise TypeError(
                "mounts_from_env() takes the transport options but proxy=: the proxies"
                " come from the environment"
            )
        if not transport_options.get("trust_env", True):
            return {}
        module = _flavour_named(package or _default_flavour_module.__name__).module
        return {
            pattern: None if url is None else cls(proxy=module.Proxy(url), **transport_options)
            for pattern, url in environment_proxies(package).items()
        }


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
            response = self._pool.handle_request(_core_request(request, flavour))
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
            response = await self._pool.handle_async_request(_core_request(request, flavour))
        except _CORE_ERRORS as exc:
            raise flavour.translate(exc) from exc
        return flavour.response(response, flavour.AsyncResponseStream)

    async def aclose(self) -> None:
        """Close every connection of the pool."""
        await self._pool.aclose()
