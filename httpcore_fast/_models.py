"""Request/response models of httpcore 1.0.x: ``Origin``, ``URL``, ``Request``,
``Response``, ``Proxy``, the private ``ByteStream`` and the argument checks used by
the request interface.

Behaviour (attributes, reprs, equality, error types and messages) follows httpcore
1.0.x; the implementation is tuned for the per-request hot path:

* ``URL("http://host:port/path?query")`` is split by one precompiled regular
  expression for the common shapes (lower-case ``http``/``https``/``ws``/``wss``/
  ``socks5``/``socks5h`` scheme, plain host, decimal port) and falls back to
  ``urllib.parse.urlparse`` -- which is what httpcore uses -- for everything else, so
  unusual input (IPv6 literals, upper-case schemes, ``;params``, odd ports, control
  characters) is parsed or rejected exactly as httpcore does on the running Python.
  Recently parsed URL strings are memoised in a small bounded cache.
* header lists that are already ``list[tuple[bytes, bytes]]`` are validated without a
  per-item function call; anything else goes through the general (httpcore-identical)
  path, which also produces the exact exception of httpcore for bad input.

Nothing here imports from ``_async`` / ``_sync``: dependencies point down.
"""

from __future__ import annotations

import binascii
import re
import types
import typing
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence

from ._core.origin import HOST_HEADER_PORTS, URL_ORIGIN_PORTS

if typing.TYPE_CHECKING:  # pragma: no cover - annotations only: ssl loads with TLS
    import ssl
    import urllib.parse

ByteOrStr = typing.Union[bytes, str]
HeadersAsSequence = typing.Sequence[typing.Tuple[ByteOrStr, ByteOrStr]]
HeadersAsMapping = typing.Mapping[ByteOrStr, ByteOrStr]
HeaderTypes = typing.Union[HeadersAsSequence, HeadersAsMapping, None]

Extensions = typing.MutableMapping[str, typing.Any]

__all__ = [
    "URL",
    "AsyncBodyStream",
    "BodyStream",
    "ByteStream",
    "Extensions",
    "HeaderTypes",
    "Origin",
    "Proxy",
    "Request",
    "Response",
    "basic_proxy_authorization",
    "build_request",
    "connection_info",
    "connection_repr",
    "enforce_auth",
    "enforce_bytes",
    "enforce_headers",
    "enforce_stream",
    "enforce_url",
    "include_request_headers",
    "merge_headers",
]


# ---------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------


def enforce_bytes(value: bytes | str, *, name: str) -> bytes:
    """Return ``value`` as bytes.

    ``str`` values must be pure ASCII (``chr(0)``-``chr(127)``) and are encoded; bytes
    (and bytes subclasses) are returned unchanged.

    Raises:
        TypeError: ``"<name> strings may not include unicode characters."`` for
            non-ASCII text, ``"<name> must be bytes or str, but got <type>."`` for
            any other type.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return value.encode("ascii")
        except UnicodeEncodeError:
            raise TypeError(f"{name} strings may not include unicode characters.") from None
    raise TypeError(f"{name} must be bytes or str, but got {type(value).__name__}.")


def enforce_url(value: URL | bytes | str, *, name: str) -> URL:
    """Return ``value`` as a :class:`URL` (parsing bytes / str).

    Raises:
        TypeError: ``"<name> must be a URL, bytes, or str, but got <type>."``.
        ValueError: for unparseable URLs (see :class:`URL`).
    """
    if isinstance(value, URL):
        return value
    if isinstance(value, (bytes, str)):
        return URL(value)
    raise TypeError(f"{name} must be a URL, bytes, or str, but got {type(value).__name__}.")


def enforce_auth(
    value: tuple[bytes | str, bytes | str] | None, *, name: str
) -> tuple[bytes, bytes] | None:
    """Return proxy credentials ``(username, password)`` as bytes (None stays None).

    Raises:
        TypeError: as :func:`enforce_bytes` (with ``name``), username first.
    """
    if value is None:
        return None
    return enforce_bytes(value[0], name=name), enforce_bytes(value[1], name=name)


def basic_proxy_authorization(username: bytes, password: bytes) -> tuple[bytes, bytes]:
    """The ``Proxy-Authorization`` field for Basic credentials: ``Basic`` and the base64
    of ``username:password`` (RFC 7617 §2, RFC 9110 §11.7.2)."""
    credentials = binascii.b2a_base64(username + b":" + password, newline=False)
    return (b"Proxy-Authorization", b"Basic " + credentials)


def _headers_slow(value: typing.Any, name: str) -> list[tuple[bytes, bytes]]:
    # The general path: any mapping or sequence of pairs, str or bytes items.
    if isinstance(value, Mapping):
        items: typing.Iterable[typing.Any] = value.items()
    elif isinstance(value, Sequence):
        items = value
    else:
        raise TypeError(
            f"{name} must be a mapping or sequence of two-tuples, "
            f"but got {type(value).__name__}."
        )
    result = []
    for k, v in items:
        result.append(
            (enforce_bytes(k, name="header name"), enforce_bytes(v, name="header value"))
        )
    return result


def enforce_headers(
    value: HeadersAsMapping | HeadersAsSequence | None = None, *, name: str
) -> list[tuple[bytes, bytes]]:
    """Return the headers as a new ``list[tuple[bytes, bytes]]``.

    Accepts None (no headers), a mapping, or a sequence of ``(name, value)`` pairs,
    names and values as bytes or ASCII str.

    Raises:
        TypeError: for another container type
            (``"<name> must be a mapping or sequence of two-tuples, but got <type>."``)
            or a bad item type (see :func:`enforce_bytes`).
        ValueError: for an item that is not a pair.
    """
    if value is None:
        return []
    if value.__class__ is list:
        # Fast path: every item is already a (bytes, bytes) tuple. Nothing in this
        # comprehension can raise, so bad input falls through to the general path,
        # which raises exactly what httpcore raises.
        fast = [
            item
            for item in value
            if item.__class__ is tuple
            and len(item) == 2
            and item[0].__class__ is bytes
            and item[1].__class__ is bytes
        ]
        if len(fast) == len(value):
            return fast
    return _headers_slow(value, name)


class ByteStream:
    """Non-streaming content: iterates (sync or async) as one ``bytes`` chunk.

    :attr:`content` is the bytes, read-only by convention: the connections send it as
    is (in the same write as the request head when it is small)."""

    __slots__ = ("content",)

    def __init__(self, content: bytes) -> None:
        self.content = content

    @property
    def _content(self) -> bytes:
        """httpcore's name for :attr:`content`."""
        return self.content

    def __iter__(self) -> typing.Iterator[bytes]:
        yield self.content

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        yield self.content

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{len(self.content)} bytes]>"


class BodyStream:
    """A response body of this library (a connection's, the pool's): an iterable of
    ``bytes`` chunks with ``close()``, that can also be read whole in one call
    (:meth:`_read_all`, what :meth:`Response.read` uses). Any iterable of bytes is a
    valid ``Response.stream``; this class only declares the faster read."""

    def __iter__(self) -> typing.Iterator[bytes]:
        raise NotImplementedError()  # pragma: nocover

    def close(self) -> None:
        """Release what the body holds (the connection, for a connection's body)."""

    def _read_all(self) -> bytes:
        """The rest of the body, as one ``bytes``. Default: the chunks joined."""
        return b"".join(self)


class AsyncBodyStream:
    """The async twin of :class:`BodyStream`: an async iterable with ``aclose()`` and
    :meth:`_aread_all` (what :meth:`Response.aread` uses)."""

    def __aiter__(self) -> typing.AsyncIterator[bytes]:
        raise NotImplementedError()  # pragma: nocover

    async def aclose(self) -> None:
        """Release what the body holds (the connection, for a connection's body)."""

    async def _aread_all(self) -> bytes:
        """The rest of the body, as one ``bytes``. Default: the chunks joined."""
        return b"".join([chunk async for chunk in self])


def enforce_stream(
    value: bytes | typing.Iterable[bytes] | typing.AsyncIterable[bytes] | None,
    *,
    name: str,
) -> typing.Iterable[bytes] | typing.AsyncIterable[bytes]:
    """Wrap None / bytes content in a :class:`ByteStream`; return anything else as is."""
    if value is None:
        return ByteStream(b"")
    if isinstance(value, bytes):
        return ByteStream(value)
    return value


DEFAULT_PORTS = HOST_HEADER_PORTS
"""Default ports used to decide whether ``Host`` carries an explicit port (httpcore's
name; the table is ``_core.origin``'s)."""


def include_request_headers(
    headers: list[tuple[bytes, bytes]],
    *,
    url: URL,
    content: None | bytes | typing.Iterable[bytes] | typing.AsyncIterable[bytes],
) -> list[tuple[bytes, bytes]]:
    """Return ``headers`` with the ``Host`` and body-framing headers httpcore adds.

    * ``Host`` (first) unless a ``host`` header is present: the URL host, plus
      ``:port`` when the URL has a port other than the scheme's default.
    * when ``content`` is not None and neither ``Content-Length`` nor
      ``Transfer-Encoding`` is present: ``Content-Length: <len>`` for bytes content,
      ``Transfer-Encoding: chunked`` otherwise (appended last).

    Header names are matched case-insensitively. The input list is not modified when
    something is added (a new list is returned).
    """
    has_host = has_framing = False
    for k, _ in headers:
        lk = k.lower()
        if lk == b"host":
            has_host = True
        elif lk == b"content-length" or lk == b"transfer-encoding":
            has_framing = True

    if not has_host:
        port = url.port
        if port is None or port == HOST_HEADER_PORTS.get(url.scheme):
            host_value = url.host
        else:
            host_value = b"%b:%d" % (url.host, port)
        headers = [(b"Host", host_value), *headers]

    if content is not None and not has_framing:
        if isinstance(content, bytes):
            headers = [*headers, (b"Content-Length", b"%d" % len(content))]
        else:
            headers = [*headers, (b"Transfer-Encoding", b"chunked")]

    return headers


# ---------------------------------------------------------------------------------
# Origin and URL
# ---------------------------------------------------------------------------------


class Origin:
    """The ``(scheme, host, port)`` a connection is bound to.

    Attributes ``scheme`` (bytes), ``host`` (bytes), ``port`` (int). Compares equal to
    an ``Origin`` with the same three values; unhashable. ``str()`` gives
    ``"https://example.com:443"``.
    """

    def __init__(self, scheme: bytes, host: bytes, port: int) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port

    def __eq__(self, other: typing.Any) -> bool:
        return (
            isinstance(other, Origin)
            and self.scheme == other.scheme
            and self.host == other.host
            and self.port == other.port
        )

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"{self.scheme.decode('ascii')}://{self.host.decode('ascii')}:{self.port}"


# The common shapes of absolute URL, parsed in one C-level match. Anything this does
# not match (or that it matches with a port out of range) goes to urllib.parse, like
# httpcore, so rare input behaves identically on every Python version.
#   scheme :// [userinfo@] host [:port] [/path] [?query] [#fragment]
# The userinfo group is greedy and the host excludes "@", so the host is what
# follows the LAST "@" of the authority, as urllib.parse does.
_FAST_URL = re.compile(
    rb"(https?|wss?|socks5h?)://"
    rb"(?:[^/?#\[\]\t\r\n]*@)?"
    rb"([^/?#@\[\]%:\t\r\n]*)"
    rb"(?::([0-9]*))?"
    rb"(/[^?#;\t\r\n]*)?"
    rb"(?:\?([^#\t\r\n]*))?"
    rb"(?:#.*)?",
    re.DOTALL,
).fullmatch

# Memo of recently parsed URL strings (cleared when full); str and bytes keys are
# kept apart so that no str/bytes comparison ever happens (``python -b``).
_STR_URL_CACHE: dict[str, tuple[bytes, bytes, int | None, bytes]] = {}
_BYTES_URL_CACHE: dict[bytes, tuple[bytes, bytes, int | None, bytes]] = {}
_URL_CACHE_SIZE = 256


# urllib.parse (about 3 ms to import) is loaded by the first URL the pattern above does
# not take.
_urlparse: typing.Callable[[bytes], urllib.parse.ParseResultBytes] | None = None


def _load_urlparse() -> typing.Callable[[bytes], urllib.parse.ParseResultBytes]:
    global _urlparse
    import urllib.parse

    _urlparse = urllib.parse.urlparse
    return _urlparse


def _parse_url(raw: bytes) -> tuple[bytes, bytes, int | None, bytes]:
    """Split ``raw`` into ``(scheme, host, port, target)`` like httpcore does."""
    if raw.isascii():
        m = _FAST_URL(raw)
        if m is not None:
            scheme, host, port_s, path, query = m.groups()
            port: int | None = None
            if port_s:
                port = int(port_s)
                if port > 65535:
                    port = -1  # let urllib.parse raise its own error
            if port is None or port >= 0:
                if query:
                    target = (path or b"/") + b"?" + query
                else:
                    target = path or b"/"
                return scheme, host.lower(), port, target
    parsed = (_urlparse or _load_urlparse())(raw)
    query = parsed.query
    return (
        parsed.scheme,
        parsed.hostname or b"",
        parsed.port,
        (parsed.path or b"/") + (b"?" + query if query else b""),
    )


class URL:
    """The URL a request is made to, as four bytes components.

    ``URL(url)`` parses a ``str`` (ASCII only) or ``bytes`` URL; with an empty / falsy
    ``url`` the keyword parts are used instead (``scheme``, ``host``, ``target`` as
    bytes or ASCII str; ``port`` an int or None) and are taken as given, which allows
    targets such as ``*`` or an absolute URL for proxies.

    Attributes: ``scheme`` (lower-case when parsed), ``host`` (lower-case when parsed,
    IPv6 literals without brackets, userinfo dropped), ``port`` (int or None when
    absent), ``target`` (path plus ``?query``; ``b"/"`` when the path is empty; the
    fragment dropped).

    Raises:
        TypeError: ``url``/part of a wrong type or non-ASCII str (see
            :func:`enforce_bytes`).
        ValueError: an unparseable URL: invalid port (``"Port could not be cast to
            integer value as ..."``, ``"Port out of range 0-65535"``), malformed
            bracketed host (``"Invalid IPv6 URL"`` ...), non-ASCII bytes
            (``UnicodeDecodeError``).
    """

    def __init__(
        self,
        url: bytes | str = "",
        *,
        scheme: bytes | str = b"",
        host: bytes | str = b"",
        port: int | None = None,
        target: bytes | str = b"",
    ) -> None:
        if url:
            cls = url.__class__
            if cls is str or cls is bytes:
                cache: dict[typing.Any, tuple[bytes, bytes, int | None, bytes]] = (
                    _STR_URL_CACHE if cls is str else _BYTES_URL_CACHE
                )
                parts = cache.get(url)
                if parts is None:
                    parts = _parse_url(enforce_bytes(url, name="url"))
                    if len(cache) >= _URL_CACHE_SIZE:
                        cache.clear()
                    cache[url] = parts
            else:
                parts = _parse_url(enforce_bytes(url, name="url"))
            self.scheme, self.host, self.port, self.target = parts
        else:
            self.scheme = enforce_bytes(scheme, name="scheme")
            self.host = enforce_bytes(host, name="host")
            self.port = port
            self.target = enforce_bytes(target, name="target")

    @property
    def origin(self) -> Origin:
        """The :class:`Origin`, the scheme's default port filled in when ``port`` is
        None (http/ws 80, https/wss 443, socks5/socks5h 1080).

        Raises:
            KeyError: for any other scheme.
        """
        default_port = URL_ORIGIN_PORTS[self.scheme]
        return Origin(self.scheme, self.host, self.port or default_port)

    def __eq__(self, other: typing.Any) -> bool:
        return (
            isinstance(other, URL)
            and other.scheme == self.scheme
            and other.host == self.host
            and other.port == self.port
            and other.target == self.target
        )

    __hash__ = None  # type: ignore[assignment]

    def __bytes__(self) -> bytes:
        if self.port is None:
            return b"%b://%b%b" % (self.scheme, self.host, self.target)
        return b"%b://%b:%d%b" % (self.scheme, self.host, self.port, self.target)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(scheme={self.scheme!r}, host={self.host!r}, "
            f"port={self.port!r}, target={self.target!r})"
        )


# ---------------------------------------------------------------------------------
# Request and Response
# ---------------------------------------------------------------------------------


class Request:
    """An HTTP request.

    Args:
        method: e.g. ``"GET"`` (bytes or ASCII str).
        url: a :class:`URL`, or a URL as bytes / str.
        headers: mapping or sequence of ``(name, value)`` pairs (bytes or ASCII str),
            or None. Stored as a new ``list[tuple[bytes, bytes]]``. (``Host`` and
            framing headers are added by the request interface, not here.)
        content: bytes (wrapped in a ``ByteStream``), an iterable / async iterable of
            bytes, or None (empty body).
        extensions: dict of request extensions (``timeout``, ``trace``,
            ``sni_hostname``, ``target``); kept by reference. A ``"target"`` extension
            replaces the URL target.

    Raises:
        TypeError, ValueError: see :func:`enforce_bytes`, :func:`enforce_url`,
            :func:`enforce_headers`.
    """

    def __init__(
        self,
        method: bytes | str,
        url: URL | bytes | str,
        *,
        headers: HeaderTypes = None,
        content: bytes | typing.Iterable[bytes] | typing.AsyncIterable[bytes] | None = None,
        extensions: Extensions | None = None,
    ) -> None:
        self.method: bytes = (
            method if method.__class__ is bytes else enforce_bytes(method, name="method")
        )
        self.url: URL = url if isinstance(url, URL) else enforce_url(url, name="url")
        self.headers: list[tuple[bytes, bytes]] = enforce_headers(headers, name="headers")
        if content is None:
            self.stream: typing.Iterable[bytes] | typing.AsyncIterable[bytes] = ByteStream(b"")
        elif content.__class__ is bytes:
            self.stream = ByteStream(content)  # type: ignore[arg-type, unused-ignore]
        else:
            self.stream = enforce_stream(content, name="content")
        self.extensions: Extensions = {} if extensions is None else extensions
        if "target" in self.extensions:
            u = self.url
            self.url = URL(
                scheme=u.scheme, host=u.host, port=u.port, target=self.extensions["target"]
            )

    @classmethod
    def _from_checked(
        cls,
        method: bytes,
        url: URL,
        headers: list[tuple[bytes, bytes]],
        content: typing.Any,
        extensions: Extensions | None,
    ) -> Request:
        """Build a request from arguments already checked by ``enforce_*`` (the request
        interface's hot path), skipping the second round of checks."""
        request = cls.__new__(cls)
        request.method = method
        request.url = url
        request.headers = headers
        if content is None:
            request.stream = ByteStream(b"")
        elif content.__class__ is bytes:
            request.stream = ByteStream(content)
        else:
            request.stream = enforce_stream(content, name="content")
        request.extensions = {} if extensions is None else extensions
        if "target" in request.extensions:
            request.url = URL(
                scheme=url.scheme, host=url.host, port=url.port,
                target=request.extensions["target"],
            )
        return request

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.method!r}]>"


class Response:
    """An HTTP response.

    Args:
        status: the status code, e.g. ``200``.
        headers: as for :class:`Request`.
        content: bytes, an iterable (sync API) or async iterable (async API) of bytes,
            or None.
        extensions: dict of response extensions (``http_version``, ``reason_phrase``,
            ``network_stream``, ``stream_id``).

    The body is read with :meth:`read` / :meth:`aread` (then available as
    :attr:`content`) or streamed once with :meth:`iter_stream` / :meth:`aiter_stream`.
    """

    # The body once read (None until then): a class default, so that the read on every
    # request is a plain attribute test rather than a caught AttributeError.
    _content: bytes | None = None

    def __init__(
        self,
        status: int,
        *,
        headers: HeaderTypes = None,
        content: bytes | typing.Iterable[bytes] | typing.AsyncIterable[bytes] | None = None,
        extensions: Extensions | None = None,
    ) -> None:
        self.status: int = status
        self.headers: list[tuple[bytes, bytes]] = enforce_headers(headers, name="headers")
        if content is None:
            self.stream: typing.Iterable[bytes] | typing.AsyncIterable[bytes] = ByteStream(b"")
        else:
            self.stream = enforce_stream(content, name="content")
        self.extensions: Extensions = {} if extensions is None else extensions
        self._stream_consumed = False

    @classmethod
    def _from_parser(
        cls,
        status: int,
        headers: list[tuple[bytes, bytes]],
        stream: typing.Any,
        extensions: Extensions,
    ) -> Response:
        """Build a response from a fresh header list the parser made (no copy, no
        checks): the connections' hot path."""
        response = cls.__new__(cls)
        response.status = status
        response.headers = headers
        response.stream = stream
        response.extensions = extensions
        response._stream_consumed = False
        return response

    @property
    def content(self) -> bytes:
        """The body, once read.

        Raises:
            RuntimeError: if :meth:`read` / :meth:`aread` has not been called.
        """
        content = self._content
        if content is not None:
            return content
        if isinstance(self.stream, Iterable):
            hint = "Call 'response.read()' first."
        else:
            hint = "Call 'await response.aread()' first."
        raise RuntimeError(
            f"Attempted to access 'response.content' on a streaming response. {hint}"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status}]>"

    # -- sync -----------------------------------------------------------------------

    def _check_sync(self, action: str) -> None:
        if not hasattr(self.stream.__class__, "__iter__") and not isinstance(
            self.stream, Iterable
        ):
            raise RuntimeError(_SYNC_ON_ASYNC[action])

    def _consume(self, name: str) -> None:
        if self._stream_consumed:
            raise RuntimeError(f"Attempted to call {name} more than once.")
        self._stream_consumed = True

    def read(self) -> bytes:
        """Read and return the whole body (bytes); cached in :attr:`content`.

        Raises:
            RuntimeError: on an async-only stream, or if the body was already streamed.
        """
        content = self._content
        if content is not None:
            return content
        stream = self.stream
        # Our own body streams read the whole body in one call, without generators.
        if isinstance(stream, BodyStream):
            self._consume("'for ... in response.iter_stream()'")
            self._content = stream._read_all()
            return self._content
        self._check_sync("read")
        self._consume("'for ... in response.iter_stream()'")
        self._content = b"".join(stream)  # type: ignore[arg-type]
        return self._content

    def iter_stream(self) -> typing.Iterator[bytes]:
        """Yield the body chunks (bytes); may be called once.

        Raises:
            RuntimeError: on an async-only stream, or when called a second time
                (raised when iteration starts).
        """
        return _BodyChunks(self)

    def close(self) -> None:
        """Close the stream (calls its ``close()`` if it has one).

        Raises:
            RuntimeError: on an async-only stream.
        """
        self._check_sync("close")
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()

    # -- async ----------------------------------------------------------------------

    def _check_async(self, action: str) -> None:
        if not hasattr(self.stream.__class__, "__aiter__") and not isinstance(
            self.stream, AsyncIterable
        ):
            raise RuntimeError(_ASYNC_ON_SYNC[action])

    async def aread(self) -> bytes:
        """Read and return the whole body (bytes); cached in :attr:`content`.

        Raises:
            RuntimeError: on a sync-only stream, or if the body was already streamed.
        """
        content = self._content
        if content is not None:
            return content
        stream = self.stream
        if isinstance(stream, AsyncBodyStream):
            self._consume("'async for ... in response.aiter_stream()'")
            self._content = await stream._aread_all()
            return self._content
        self._check_async("read")
        self._consume("'async for ... in response.aiter_stream()'")
        self._content = b"".join([part async for part in stream])  # type: ignore[union-attr]
        return self._content

    def aiter_stream(self) -> typing.AsyncIterator[bytes]:
        """Yield the body chunks (bytes); may be called once.

        Raises:
            RuntimeError: on a sync-only stream, or when called a second time
                (raised when iteration starts).
        """
        return _AsyncBodyChunks(self)

    async def aclose(self) -> None:
        """Close the stream (awaits its ``aclose()`` if it has one).

        Raises:
            RuntimeError: on a sync-only stream.
        """
        self._check_async("close")
        aclose = getattr(self.stream, "aclose", None)
        if aclose is not None:
            await aclose()


class _BodyChunks:
    """``Response.iter_stream()``: an iterator object rather than a generator, so a
    caller that stops early leaves nothing suspended behind (the checks run when
    iteration starts, as they would in a generator)."""

    __slots__ = ("_response", "_iterator")

    def __init__(self, response: Response) -> None:
        self._response = response
        self._iterator: typing.Iterator[bytes] | None = None

    def __iter__(self) -> _BodyChunks:
        return self

    def __next__(self) -> bytes:
        iterator = self._iterator
        if iterator is None:
            response = self._response
            response._check_sync("iter")
            response._consume("'for ... in response.iter_stream()'")
            iterator = self._iterator = iter(response.stream)  # type: ignore[arg-type]
        return next(iterator)

    def close(self) -> None:
        """Stop iterating (as a generator's ``close()``); the response stays open until
        ``Response.close()``. A generator stream underneath is closed."""
        iterator = self._iterator
        if isinstance(iterator, types.GeneratorType):
            iterator.close()


class _AsyncBodyChunks:
    """``Response.aiter_stream()``: the async twin of :class:`_BodyChunks`."""

    __slots__ = ("_response", "_iterator")

    def __init__(self, response: Response) -> None:
        self._response = response
        self._iterator: typing.AsyncIterator[bytes] | None = None

    def __aiter__(self) -> _AsyncBodyChunks:
        return self

    async def __anext__(self) -> bytes:
        iterator = self._iterator
        if iterator is None:
            response = self._response
            response._check_async("iter")
            response._consume("'async for ... in response.aiter_stream()'")
            iterator = self._iterator = response.stream.__aiter__()  # type: ignore[union-attr]
        return await iterator.__anext__()

    async def aclose(self) -> None:
        """Stop iterating (as an async generator's ``aclose()``, so ``aclosing()``
        works); the response stays open until ``Response.aclose()``."""
        iterator = self._iterator
        if isinstance(iterator, types.AsyncGeneratorType):
            await iterator.aclose()


_SYNC_ON_ASYNC = {
    "read": "Attempted to read an asynchronous response using 'response.read()'. "
    "You should use 'await response.aread()' instead.",
    "iter": "Attempted to stream an asynchronous response using 'for ... in "
    "response.iter_stream()'. "
    "You should use 'async for ... in response.aiter_stream()' instead.",
    "close": "Attempted to close an asynchronous response using 'response.close()'. "
    "You should use 'await response.aclose()' instead.",
}

_ASYNC_ON_SYNC = {
    "read": "Attempted to read an synchronous response using 'await response.aread()'. "
    "You should use 'response.read()' instead.",
    "iter": "Attempted to stream an synchronous response using 'async for ... in "
    "response.aiter_stream()'. "
    "You should use 'for ... in response.iter_stream()' instead.",
    "close": "Attempted to close a synchronous response using 'await response.aclose()'. "
    "You should use 'response.close()' instead.",
}


def build_request(
    method: bytes | str,
    url: URL | bytes | str,
    headers: HeaderTypes,
    content: typing.Any,
    extensions: Extensions | None,
) -> Request:
    """The ``Request`` that the request interface's ``request()`` / ``stream()`` send:
    arguments checked once (the exceptions of ``enforce_bytes`` / ``enforce_url`` /
    ``enforce_headers``), ``Host`` and Content-Length / Transfer-Encoding added when
    missing."""
    method = enforce_bytes(method, name="method")
    url = enforce_url(url, name="url")
    checked = enforce_headers(headers, name="headers")
    checked = include_request_headers(checked, url=url, content=content)
    return Request._from_checked(method, url, checked, content, extensions)


def merge_headers(
    defaults: typing.Sequence[tuple[bytes, bytes]] | None,
    overrides: typing.Sequence[tuple[bytes, bytes]] | None,
) -> list[tuple[bytes, bytes]]:
    """``defaults`` whose names (case-insensitively) are not in ``overrides``, followed by
    every field of ``overrides``."""
    overrides = list(overrides or ())
    if not defaults:
        return overrides
    overridden = {name.lower() for name, _ in overrides}
    return [field for field in defaults if field[0].lower() not in overridden] + overrides


def connection_info(origin: Origin, protocol: str, state: str, request_count: int) -> str:
    """httpcore's ``info()`` of a protocol connection, e.g. ``'http://example.com:80',
    HTTP/1.1, IDLE, Request Count: 3``."""
    return f"{str(origin)!r}, {protocol}, {state}, Request Count: {request_count}"


def connection_repr(connection: object, origin: Origin, state: str, request_count: int) -> str:
    """httpcore's ``repr()`` of a protocol connection, e.g. ``<HTTP11Connection
    ['http://example.com:80', IDLE, Request Count: 3]>``."""
    name = type(connection).__name__
    return f"<{name} [{str(origin)!r}, {state}, Request Count: {request_count}]>"


# ---------------------------------------------------------------------------------
# Proxy
# ---------------------------------------------------------------------------------


class Proxy:
    """Proxy configuration for a connection pool.

    Args:
        url: the proxy URL (``http``/``https`` for HTTP proxies, ``socks5``/``socks5h``
            for SOCKS), as :class:`URL`, bytes or str.
        auth: ``(username, password)`` as bytes or ASCII str, or None. With auth a
            ``Proxy-Authorization: Basic ...`` header is put first in ``headers``.
        headers: extra headers sent to the proxy (mapping or sequence of pairs).
        ssl_context: ``ssl.SSLContext`` for TLS to the proxy itself (https proxies).

    Attributes: ``url`` (URL), ``auth`` (``(bytes, bytes)`` or None), ``headers``
    (``list[tuple[bytes, bytes]]``), ``ssl_context``.

    Raises:
        TypeError: for arguments of the wrong type.
    """

    def __init__(
        self,
        url: URL | bytes | str,
        auth: tuple[bytes | str, bytes | str] | None = None,
        headers: HeadersAsMapping | HeadersAsSequence | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.url = enforce_url(url, name="url")
        self.headers = enforce_headers(headers, name="headers")
        self.ssl_context = ssl_context
        self.auth = enforce_auth(auth, name="auth")
        if self.auth is not None:
            self.headers = [basic_proxy_authorization(*self.auth), *self.headers]
