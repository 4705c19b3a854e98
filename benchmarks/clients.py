"""The clients: one adapter per peer, and the registry of client specs (`CLIENTS`).

Each adapter wraps one library in the interface of harness.py (`SyncAdapter`,
`AsyncAdapter`): `full(url)` fetches a whole response for verification, `getter(url)` /
`task_getter(url)` returns the callable the timed loop calls (it returns the body length),
and `download(url, sink)` streams a large body. Every client uses its library's defaults
except the pool size. To add a peer:

* write its adapter class(es) below: import the library in `__init__` with
  `require("module")`, so a missing library shows as "unavailable" instead of failing;
* add a `ClientSpec` row to `CLIENTS` (key, label, sync and async factories, the scenario
  kinds it can do, optional=True); the factories are called with the `Job`;
* add its distribution to `report.PEER_DISTS` (the versions line) and a row to the clients
  table in benchmarks/README.md.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Awaitable, Callable

from harness import (
    REPO_ROOT,
    AsyncAdapter,
    ClientSpec,
    ClientTimeout,
    ClientUnavailable,
    DrivenAdapter,
    Job,
    SyncAdapter,
    VerificationError,
    require,
)
from scenarios import ALL_KINDS, SCENARIOS

# --------------------------------------------------------------------------------------
# Helpers shared by the adapters


def _path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _tls_kw(job: Job) -> dict[str, Any]:
    """`ssl_context=` for an httpcore-shaped pool in a TLS scenario (else nothing)."""
    return {"ssl_context": job.ssl_context()} if job.tls else {}


def _drain(chunks: Any, sink: Callable[[Any], None] | None) -> int:
    """Consume a body's chunks; return the byte count (sink, if any, sees every chunk)."""
    got = 0
    if sink is None:
        for chunk in chunks:
            got += len(chunk)
    else:
        for chunk in chunks:
            got += len(chunk)
            sink(chunk)
    return got


async def _adrain(chunks: Any, sink: Callable[[Any], None] | None) -> int:
    """`_drain` for an async iterator of chunks."""
    got = 0
    async for chunk in chunks:
        got += len(chunk)
        if sink is not None:
            sink(chunk)
    return got


async def _aiter_calls(read: Callable[[], Awaitable[Any]]) -> Any:
    """Async iterator over `await read()` until it returns None (bounded)."""
    for _ in range(100_000_000):
        chunk = await read()
        if chunk is None:
            return
        yield chunk


# ---- the ceilings: a raw socket (sync) and a bare asyncio protocol (async) -------------


def _request_bytes(host: str, port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n".encode()


def _read_head(sock: socket.socket) -> tuple[int, dict[bytes, bytes], int, bytes]:
    """Read a response head; return (status, fields by lower-case name, field count, the
    bytes already received after the head)."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > 65536:
            raise VerificationError("raw: response head too long")
        chunk = sock.recv(65536)
        if not chunk:
            raise VerificationError("raw: connection closed during the head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    fields = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        fields[k.strip().lower()] = v.strip()
    return status, fields, len(lines) - 1, rest


class RawSync(SyncAdapter):
    """The sync ceiling: sendall of a prebuilt request, recv_into until the known length."""

    def __init__(self, job: Job):
        self.job = job
        self.socks: list[socket.socket] = []
        self.lock = threading.Lock()
        self.dl_sock: socket.socket | None = None
        self.dl_buf = memoryview(bytearray(1 << 20))

    def _connect(self) -> socket.socket:
        job = self.job
        port = job.tls_port if job.tls else job.port
        sock = socket.create_connection((job.host, port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if job.tls:  # the ceiling over TLS: ssl.SSLSocket's recv_into / sendall
            if job.h2:
                raise ClientUnavailable("no HTTP/2")
            sock = job.ssl_context().wrap_socket(sock, server_hostname="localhost")
        with self.lock:
            self.socks.append(sock)
        return sock

    def _learn(self, sock: socket.socket, request: bytes) -> tuple[int, bytes, int, int]:
        sock.sendall(request)
        status, fields, n_fields, rest = _read_head(sock)
        length = int(fields[b"content-length"])
        body = rest
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise VerificationError("raw socket: connection closed during the body")
            body += chunk
        # Measure one more exchange's exact length: nginx's responses to the same URL are
        # byte-for-byte the same length (its Date header is fixed-width).
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk or len(data) > 65536:  # EOF, or no head end in 64 KiB
                raise VerificationError("raw socket: no complete response head")
            data += chunk
        head_len = data.index(b"\r\n\r\n") + 4
        total = head_len + length
        while len(data) < total:
            chunk = sock.recv(65536)
            if not chunk:
                raise VerificationError("raw socket: connection closed during the body")
            data += chunk
        return status, body, n_fields, total

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        sock = self._connect()
        status, body, n_fields, _ = self._learn(
            sock, _request_bytes(self.job.host, self.job.port, _path_of(url))
        )
        return status, body, n_fields, "HTTP/1.1"

    def getter(self, url: str) -> Callable[[], int]:
        sock = self._connect()
        request = _request_bytes(self.job.host, self.job.port, _path_of(url))
        _, body, _, total = self._learn(sock, request)
        body_len = len(body)
        view = memoryview(bytearray(max(65536, 2 * total)))
        sendall, recv_into = sock.sendall, sock.recv_into

        def get() -> int:
            sendall(request)
            got = 0
            while got < total:
                k = recv_into(view[got:])
                if not k:
                    raise VerificationError("raw socket: connection closed")
                got += k
            if got != total:
                raise VerificationError(f"raw socket: response length changed ({got})")
            return body_len

        return get

    thread_getter = getter  # each thread: its own connection (the ceiling has no pool)

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        if self.dl_sock is None:
            self.dl_sock = self._connect()
        sock = self.dl_sock
        sock.sendall(_request_bytes(self.job.host, self.job.port, _path_of(url)))
        status, fields, _, rest = _read_head(sock)
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            return status, self._chunked(sock, rest, sink)
        length = int(fields[b"content-length"])
        if sink is not None and rest:
            sink(rest)
        got = len(rest)
        view, recv_into = self.dl_buf, sock.recv_into
        while got < length:
            k = recv_into(view[: min(len(view), length - got)])
            if not k:
                raise VerificationError("raw socket: connection closed during the body")
            if sink is not None:
                sink(view[:k])
            got += k
        return status, got

    def _chunked(
        self, sock: socket.socket, rest: bytes, sink: Callable[[Any], None] | None
    ) -> int:
        """A minimal chunked decoder over one receive buffer (no copies of the data)."""
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        buf[: len(rest)] = rest
        start, end = 0, len(rest)
        recv_into = sock.recv_into

        def fill() -> None:
            nonlocal start, end
            if start == end:
                start = end = 0
            elif end > len(buf) - 65536:
                buf[: end - start] = buf[start:end]
                end, start = end - start, 0
            k = recv_into(view[end:])
            if not k:
                raise VerificationError("raw socket: connection closed in a chunked body")
            end += k

        got = 0
        for _ in range(10_000_000):  # bounded: one pass per chunk
            i = buf.find(b"\r\n", start, end)
            while i < 0:
                fill()
                i = buf.find(b"\r\n", start, end)
            size = int(bytes(buf[start:i]).split(b";")[0], 16)
            start = i + 2
            if size == 0:
                while buf.find(b"\r\n", start, end) < 0:  # no trailers from nginx
                    fill()
                return got
            left = size
            while left:
                if start == end:
                    fill()
                take = min(left, end - start)
                if sink is not None:
                    sink(view[start : start + take])
                got += take
                start += take
                left -= take
            while end - start < 2:
                fill()
            start += 2
        raise VerificationError("raw socket: too many chunks")

    def close(self) -> None:
        for s in self.socks:
            s.close()


class _RawProtocol(asyncio.BufferedProtocol):
    """Counts bytes into one buffer; wakes the waiting request at the expected total."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.buf = memoryview(bytearray(1 << 20))
        self.waiter: asyncio.Future[int] | None = None
        self.need = 0
        self.got = 0
        self.head: bytes | None = b""  # None once a download's head is parsed
        self.sink: Callable[[Any], None] | None = None
        self.status = 0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buf

    def buffer_updated(self, nbytes: int) -> None:
        if self.head is not None and self.sink is not None:  # a download: find the head
            data = self.head + bytes(self.buf[:nbytes])
            i = data.find(b"\r\n\r\n")
            if i < 0:
                self.head = data
                return
            self.head = None
            head = data[:i].decode("latin-1").lower()
            self.status = int(head[9:12])
            m = re.search(r"\r\ncontent-length:\s*(\d+)", head)
            if m is None:
                raise VerificationError("raw asyncio: only Content-Length bodies")
            self.need = i + 4 + int(m.group(1))
            body = data[i + 4 :]
            if body:
                self.sink(body)
            self.got += len(data)
        else:
            if self.sink is not None:
                self.sink(self.buf[:nbytes])
            self.got += nbytes
        if self.got >= self.need and self.waiter is not None:
            w, self.waiter = self.waiter, None
            if not w.done():
                w.set_result(self.got)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(VerificationError("raw asyncio: connection lost"))


class RawAsync(AsyncAdapter):
    """The async ceiling: a BufferedProtocol per connection, a Future per request."""

    def __init__(self, job: Job):
        self.job = job
        self.transports: list[Any] = []
        self.totals: dict[str, tuple[int, int]] = {}
        self.dl: _RawProtocol | None = None

    def _probe(self, url: str) -> tuple[int, bytes, int, int]:
        raw = RawSync(self.job)
        try:
            sock = raw._connect()
            return raw._learn(sock, _request_bytes(self.job.host, self.job.port, _path_of(url)))
        finally:
            raw.close()

    async def _connect(self) -> _RawProtocol:
        loop = asyncio.get_running_loop()
        job = self.job
        if job.tls:  # over the loop's own TLS transport (asyncio's sslproto, or uvloop's)
            transport, proto = await loop.create_connection(
                _RawProtocol,
                job.host,
                job.tls_port,
                ssl=job.ssl_context(),
                server_hostname="localhost",
            )
        else:
            transport, proto = await loop.create_connection(_RawProtocol, job.host, job.port)
        self.transports.append(transport)
        return proto

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        status, body, n_fields, total = self._probe(url)  # blocking, outside timing
        self.totals[url] = (total, len(body))
        return status, body, n_fields, "HTTP/1.1"

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        total, body_len = self.totals[url]
        proto = await self._connect()
        request = _request_bytes(self.job.host, self.job.port, _path_of(url))
        write = proto.transport.write
        create_future = asyncio.get_running_loop().create_future

        async def get() -> int:
            proto.got = 0
            proto.need = total
            fut = proto.waiter = create_future()
            write(request)
            got = await fut
            if got != total:
                raise VerificationError(f"raw asyncio: response length changed ({got})")
            return body_len

        return get

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        if self.dl is None:
            self.dl = await self._connect()
        proto = self.dl
        counted = [0]

        def count(chunk: Any) -> None:
            counted[0] += len(chunk)
            if sink is not None:
                sink(chunk)

        proto.got, proto.need, proto.head, proto.sink = 0, 1 << 62, b"", count
        proto.waiter = asyncio.get_running_loop().create_future()
        proto.transport.write(_request_bytes(self.job.host, self.job.port, _path_of(url)))
        got = await proto.waiter
        proto.sink = None
        if got != proto.need:
            raise VerificationError(f"raw asyncio: read {got} bytes, want {proto.need}")
        return proto.status, counted[0]

    async def close(self) -> None:
        for t in self.transports:
            t.close()
        await asyncio.sleep(0)


# ---- httpcore-shaped pools: httpcore_fast (both kernels), httpcore 1.0.9, httpcore2 ----


def _pool_size(job: Job) -> int:
    return max(10, job.sc.concurrency)


class PoolSync(SyncAdapter):
    def __init__(self, mod: Any, job: Job):
        self.pool = mod.ConnectionPool(max_connections=_pool_size(job), **_tls_kw(job))

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = self.pool.request(b"GET", url)
        return r.status, r.content, len(r.headers), r.extensions.get("http_version")

    def getter(self, url: str) -> Callable[[], int]:
        request = self.pool.request
        return lambda: len(request(b"GET", url).content)

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        with self.pool.stream(b"GET", url) as r:
            got = _drain(r.iter_stream(), sink)
        return r.status, got

    def close(self) -> None:
        self.pool.close()


class PoolAsync(AsyncAdapter):
    def __init__(self, mod: Any, job: Job):
        if job.h2:  # one HTTP/2 connection carries every stream (h2c: prior knowledge)
            self.pool = mod.AsyncConnectionPool(
                http1=False, http2=True, max_connections=1, **_tls_kw(job)
            )
        else:
            self.pool = mod.AsyncConnectionPool(max_connections=_pool_size(job), **_tls_kw(job))

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = await self.pool.request(b"GET", url)
        return r.status, r.content, len(r.headers), r.extensions.get("http_version")

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        request = self.pool.request

        async def get() -> int:
            return len((await request(b"GET", url)).content)

        return get

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        async with self.pool.stream(b"GET", url) as r:
            got = await _adrain(r.aiter_stream(), sink)
        return r.status, got

    async def close(self) -> None:
        await self.pool.aclose()


_FAST_IMPORT: tuple[Any, Any] | None = None


def _import_httpcore_fast() -> tuple[Any, Any]:
    """Import httpcore_fast (installed, else from the repo tree) and its kernel selector."""
    global _FAST_IMPORT
    if _FAST_IMPORT is None:
        try:
            import httpcore_fast  # noqa: F401
        except ImportError:
            if str(REPO_ROOT) not in sys.path:
                sys.path.insert(0, str(REPO_ROOT))
        try:
            import httpcore_fast
            from httpcore_fast import _kernel
        except Exception as exc:  # noqa: BLE001 - any failure means "unavailable"
            raise ClientUnavailable(f"{type(exc).__name__}: {exc}") from exc
        _FAST_IMPORT = (httpcore_fast, _kernel)
    return _FAST_IMPORT


def _fast(kernel: str | None, job: Job) -> Any:
    """httpcore_fast with the given kernel selected (None: leave the default)."""
    fast, selector = _import_httpcore_fast()
    if not hasattr(fast, "ConnectionPool"):
        raise ClientUnavailable("httpcore_fast has no ConnectionPool yet")
    if job.h2 and importlib.util.find_spec("httpcore_fast._async.http2") is None:
        raise ClientUnavailable("httpcore_fast has no HTTP/2 yet (httpcore_fast/_async/http2.py)")
    if kernel is not None:
        try:
            selector.set_kernel(kernel)
        except Exception as exc:  # noqa: BLE001
            raise ClientUnavailable(f"set_kernel({kernel!r}): {exc}") from exc
        if selector.kernel_name() != kernel:
            raise ClientUnavailable(f"asked for the {kernel} kernel, got {selector.kernel_name()}")
    return fast


def describe_fast() -> str:
    """One line on the httpcore_fast under test: where it is, its kernel, HTTP/2, httpx."""
    try:
        fast, selector = _import_httpcore_fast()
    except ClientUnavailable as exc:
        return f"unavailable ({exc})"
    extra = "" if hasattr(fast, "ConnectionPool") else ", no ConnectionPool yet"
    # Whether the compiled module exists (not a private name of the selector's).
    cy = importlib.util.find_spec("httpcore_fast._kernel_c")
    h2 = importlib.util.find_spec("httpcore_fast._async.http2") is not None
    hx = importlib.util.find_spec("httpcore_fast.httpx") is not None
    return (
        f"{fast.__file__} (cython kernel {'built' if cy is not None else 'NOT available'}"
        f"{extra}; http2 {'yes' if h2 else 'not yet'}; httpx transport "
        f"{'yes' if hx else 'not yet'})"
    )


# ---- httpx and httpx2: their own transports, or httpcore_fast's -----------------------


def _fast_transport(mod: Any, job: Job, asynchronous: bool, limits: Any) -> Any:
    _fast("cython", job)
    try:
        adapter = importlib.import_module("httpcore_fast.httpx")
    except Exception as exc:  # noqa: BLE001
        raise ClientUnavailable(
            f"httpcore_fast.httpx not importable yet ({type(exc).__name__}: {exc})"
        ) from exc
    cls = getattr(adapter, "AsyncHTTPTransport" if asynchronous else "HTTPTransport", None)
    if cls is None:
        raise ClientUnavailable("httpcore_fast.httpx has no (Async)HTTPTransport")
    kw: dict[str, Any] = {"limits": limits}
    if job.h2:
        kw.update(http1=False, http2=True)
    if job.tls:
        kw.update(verify=job.ssl_context())
    try:
        return cls(**kw)
    except TypeError as exc:
        raise ClientUnavailable(f"{cls.__name__}({', '.join(kw)}): {exc}") from exc


# curl_cffi reports libcurl's CURL_HTTP_VERSION_* codes (2 is HTTP/1.1, 3 HTTP/2), not text.
_CURL_VERSIONS = {
    1: "HTTP/1.0",
    2: "HTTP/1.1",
    3: "HTTP/2",
    4: "HTTP/2",
    5: "HTTP/2",
    30: "HTTP/3",
}


def _version(response: Any) -> str | None:
    """The HTTP version a response came over, as text ("HTTP/1.1"), or None if unknown."""
    version = getattr(response, "http_version", None)
    if isinstance(version, int):  # curl_cffi (an IntEnum)
        return _CURL_VERSIONS.get(int(version), f"curl code {int(version)}")
    return version


class _ClientSync(SyncAdapter):
    """A client with httpx's shape: get(url) -> .status_code/.content; stream("GET", url)."""

    client: Any
    iter_name = "iter_raw"

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = self.client.get(url)
        return r.status_code, r.content, len(r.headers), _version(r)

    def getter(self, url: str) -> Callable[[], int]:
        get = self.client.get
        return lambda: len(get(url).content)

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        with self.client.stream("GET", url) as r:
            got = _drain(getattr(r, self.iter_name)(), sink)
        return r.status_code, got

    def close(self) -> None:
        self.client.close()


class _ClientAsync(AsyncAdapter):
    """The async twin of _ClientSync."""

    client: Any
    aiter_name = "aiter_raw"

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = await self.client.get(url)
        return r.status_code, r.content, len(r.headers), _version(r)

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        get = self.client.get

        async def g() -> int:
            return len((await get(url)).content)

        return g

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        async with self.client.stream("GET", url) as r:
            got = await _adrain(getattr(r, self.aiter_name)(), sink)
        return r.status_code, got


def _verify_kw(job: Job) -> dict[str, Any]:
    return {"verify": job.ssl_context()} if job.tls else {}


class HttpxSync(_ClientSync):
    def __init__(self, mod: Any, job: Job, on_fast: bool):
        n = _pool_size(job)
        limits = mod.Limits(max_connections=n, max_keepalive_connections=n)
        if on_fast:
            self.client = mod.Client(transport=_fast_transport(mod, job, False, limits))
        else:
            self.client = mod.Client(limits=limits, **_verify_kw(job))


class HttpxAsync(_ClientAsync):
    def __init__(self, mod: Any, job: Job, on_fast: bool):
        n = 1 if job.h2 else _pool_size(job)
        limits = mod.Limits(max_connections=n, max_keepalive_connections=n)
        if on_fast:
            self.client = mod.AsyncClient(transport=_fast_transport(mod, job, True, limits))
        elif job.h2:  # h2c: httpx's http1=False means prior knowledge on http:// URLs
            self.client = mod.AsyncClient(
                http1=False, http2=True, limits=limits, **_verify_kw(job)
            )
        else:
            self.client = mod.AsyncClient(limits=limits, **_verify_kw(job))

    async def close(self) -> None:
        await self.client.aclose()


# ---- aiohttp ----------------------------------------------------------------------------


class AiohttpAsync(AsyncAdapter):
    def __init__(self, job: Job):
        if job.h2:
            raise ClientUnavailable("aiohttp speaks HTTP/1.1 only")
        self.aiohttp = require("aiohttp")
        self.limit = _pool_size(job)
        self.ssl: Any = job.ssl_context() if job.tls else True
        self.session: Any = None

    async def open(self) -> None:
        a = self.aiohttp
        self.session = a.ClientSession(connector=a.TCPConnector(limit=self.limit, ssl=self.ssl))

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        async with self.session.get(url) as r:
            body = await r.read()
            return r.status, body, len(r.headers), f"HTTP/{r.version.major}.{r.version.minor}"

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        get = self.session.get

        async def g() -> int:
            async with get(url) as r:
                return len(await r.read())

        return g

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        async with self.session.get(url) as r:
            got = await _adrain(r.content.iter_any(), sink)
            return r.status, got

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


# ---- urllib3 ------------------------------------------------------------------------------


class Urllib3Sync(SyncAdapter):
    def __init__(self, job: Job):
        urllib3 = require("urllib3")
        kw: dict[str, Any] = dict(
            maxsize=max(1, job.sc.concurrency), block=True, retries=False, timeout=30
        )
        if job.tls:
            self.pool = urllib3.HTTPSConnectionPool(
                "localhost", job.tls_port, ssl_context=job.ssl_context(), **kw
            )
        else:
            self.pool = urllib3.HTTPConnectionPool(job.host, job.port, **kw)

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = self.pool.request("GET", _path_of(url))
        return r.status, r.data, len(r.headers), f"HTTP/{r.version / 10}"

    def getter(self, url: str) -> Callable[[], int]:
        request, path = self.pool.request, _path_of(url)
        return lambda: len(request("GET", path).data)

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        r = self.pool.request("GET", _path_of(url), preload_content=False)
        try:
            got = _drain(r.stream(1 << 20, decode_content=False), sink)
        finally:
            r.release_conn()
        return r.status, got

    def close(self) -> None:
        self.pool.close()


# ---- pycurl (libcurl): one easy handle, a handle per thread, the multi interface ---------


def _curl_options(pycurl: Any, c: Any, job: Job) -> None:
    """What every pycurl handle of a scenario gets: a timeout, the protocol the scenario
    asks for (HTTP/1.1 unless HTTP/2: libcurl offers h2 by ALPN over TLS by default), and
    over TLS the test CA only, with peer and host verification on (libcurl's defaults,
    set explicitly)."""
    c.setopt(pycurl.TIMEOUT, 60)
    c.setopt(pycurl.NOSIGNAL, 1)
    if job.h2c:
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)
    elif job.h2:
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)
    else:
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
    if job.h2:
        c.setopt(pycurl.PIPEWAIT, 1)  # wait to multiplex on the one connection
    if job.tls:
        if job.ca_pem is None:
            raise ClientUnavailable("no TLS server (see the note at the start)")
        c.setopt(pycurl.CAINFO_BLOB, job.ca_pem)
        c.setopt(pycurl.SSL_VERIFYPEER, 1)
        c.setopt(pycurl.SSL_VERIFYHOST, 2)


def _require_curl_http2(pycurl: Any, job: Job) -> None:
    if job.h2 and not pycurl.version_info()[4] & pycurl.VERSION_HTTP2:
        raise ClientUnavailable(f"this libcurl has no HTTP/2 (no nghttp2): {pycurl.version}")


def _curl_version(pycurl: Any, c: Any) -> str:
    """The HTTP version libcurl used for the handle's last transfer, as text."""
    code = c.getinfo(pycurl.INFO_HTTP_VERSION)
    return _CURL_VERSIONS.get(code, f"curl code {code}")


def _curl_fields(lines: list[bytes]) -> int:
    """Header fields of the last response head among libcurl's header lines."""
    n = 0
    for ln in lines:
        if ln.startswith(b"HTTP/"):
            n = 0
        elif b":" in ln:
            n += 1
    return n


class PycurlSync(SyncAdapter):
    """One reused `Curl` handle (sequential, large bodies). In threads10: one `Curl` per
    thread (a handle must not be used by two threads at once), each keeping its own
    connection, all attached to one `CurlShare` for the DNS cache and TLS sessions (pycurl
    does the share's locking). Not the connection cache (`LOCK_DATA_CONNECT`): libcurl does
    not support sharing connections between concurrent threads, and here it crashed
    (SIGSEGV in `perform`, pycurl 7.49.0, libcurl 8.23.0)."""

    def __init__(self, job: Job):
        self.pycurl = p = require("pycurl")
        self.job = job
        self.share = p.CurlShare()
        for data in (p.LOCK_DATA_DNS, p.LOCK_DATA_SSL_SESSION):
            self.share.setopt(p.SH_SHARE, data)
        self.handles: list[Any] = []
        self.lock = threading.Lock()
        self.curl = self._handle()

    def _handle(self) -> Any:
        c = self.pycurl.Curl()
        c.setopt(self.pycurl.SHARE, self.share)
        _curl_options(self.pycurl, c, self.job)
        with self.lock:
            self.handles.append(c)
        return c

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        p, c = self.pycurl, self.curl
        chunks: list[bytes] = []
        lines: list[bytes] = []
        c.setopt(p.URL, url)
        c.setopt(p.WRITEFUNCTION, chunks.append)
        c.setopt(p.HEADERFUNCTION, lines.append)
        c.perform()
        c.unsetopt(p.HEADERFUNCTION)  # libcurl still parses them; we don't copy
        return (
            c.getinfo(p.RESPONSE_CODE),
            b"".join(chunks),
            _curl_fields(lines),
            _curl_version(p, c),
        )

    def _getter(self, c: Any, url: str) -> Callable[[], int]:
        chunks: list[bytes] = []
        c.setopt(self.pycurl.URL, url)
        c.setopt(self.pycurl.WRITEFUNCTION, chunks.append)
        perform, clear = c.perform, chunks.clear

        def get() -> int:
            clear()
            perform()
            got = 0
            for ch in chunks:
                got += len(ch)
            return got

        return get

    def getter(self, url: str) -> Callable[[], int]:
        return self._getter(self.curl, url)

    def thread_getter(self, url: str) -> Callable[[], int]:
        return self._getter(self._handle(), url)  # called in the thread that uses it

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        p, c = self.pycurl, self.curl
        got = [0]

        def write(chunk: bytes) -> None:
            got[0] += len(chunk)
            if sink is not None:
                sink(chunk)

        c.setopt(p.URL, url)
        c.setopt(p.BUFFERSIZE, 512 * 1024)  # libcurl's maximum; its default is 16 KiB
        c.setopt(p.WRITEFUNCTION, write)
        c.perform()
        return c.getinfo(p.RESPONSE_CODE), got[0]

    def close(self) -> None:
        for c in self.handles:
            c.close()
        self.share.close()


class PycurlMulti(DrivenAdapter):
    """pycurl's multi interface: one `CurlMulti` drives `concurrency` easy handles, each
    added again as soon as its transfer ends, until the count is done (perform, info_read,
    select; no event loop). The multi handle's connection cache is the pool: `MAXCONNECTS`,
    `MAX_HOST_CONNECTIONS` and `MAX_TOTAL_CONNECTIONS` at the concurrency (a pool of 50) for
    HTTP/1.1; for HTTP/2 one connection, `CURLPIPE_MULTIPLEX` and `PIPEWAIT` on every
    handle, so the streams share it as the other clients' pool of 1 does."""

    def __init__(self, job: Job):
        self.pycurl = p = require("pycurl")
        _require_curl_http2(p, job)
        self.job = job
        conns = 1 if job.h2 else max(1, job.sc.concurrency)
        m = self.multi = p.CurlMulti()
        m.setopt(p.M_MAXCONNECTS, conns)
        m.setopt(p.M_MAX_HOST_CONNECTIONS, conns)
        m.setopt(p.M_MAX_TOTAL_CONNECTIONS, conns)
        m.setopt(p.M_PIPELINING, p.PIPE_MULTIPLEX if job.h2 else p.PIPE_NOTHING)
        self.chunks: list[bytes] = []  # every handle's body bytes of the current run
        self.handles = []
        for _ in range(max(1, job.sc.concurrency)):
            c = p.Curl()
            _curl_options(p, c, job)
            c.setopt(p.WRITEFUNCTION, self.chunks.append)
            self.handles.append(c)
        self.url = ""
        self.added: set[Any] = set()  # handles in the multi now

    def _set_url(self, url: str) -> None:
        if url != self.url:
            for c in self.handles:
                c.setopt(self.pycurl.URL, url)
            self.url = url

    def _drive(self, count: int) -> None:
        """Complete `count` transfers with up to len(handles) in flight (bounded by the
        job's deadline and an iteration count)."""
        p, m, deadline = self.pycurl, self.multi, self.job.deadline
        started = done = 0
        for c in self.handles[:count]:
            m.add_handle(c)
            self.added.add(c)
            started += 1
        for i in range(100 * count + 100_000):
            for _ in range(1000):  # bounded: until libcurl has no more to do right now
                ret, _ = m.perform()
                if ret != p.E_CALL_MULTI_PERFORM:
                    break
            readded = False
            for _ in range(len(self.handles) + 1):  # bounded: every finished transfer
                queued, ok_list, err_list = m.info_read()
                if err_list:  # close() removes the handles still in the multi
                    _, errno, message = err_list[0]
                    raise VerificationError(f"pycurl multi: error {errno}: {message}")
                for c in ok_list:
                    m.remove_handle(c)
                    done += 1
                    if started < count:
                        m.add_handle(c)
                        started += 1
                        readded = True
                    else:
                        self.added.discard(c)
                if not queued:
                    break
            if done >= count:
                return
            if not i & 63 and time.monotonic() > deadline:
                raise ClientTimeout("pycurl multi passed the client deadline")
            if not readded:  # a new transfer starts in perform(), not on a socket
                m.select(1.0)
        raise ClientTimeout("pycurl multi: too many iterations")

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        p, c = self.pycurl, self.handles[0]
        lines: list[bytes] = []
        self._set_url(url)
        self.chunks.clear()
        c.setopt(p.HEADERFUNCTION, lines.append)
        try:
            self._drive(1)
        finally:
            c.unsetopt(p.HEADERFUNCTION)
        body = b"".join(self.chunks)
        return c.getinfo(p.RESPONSE_CODE), body, _curl_fields(lines), _curl_version(p, c)

    def run(self, url: str, count: int) -> int:
        self._set_url(url)
        self.chunks.clear()
        self._drive(count)
        if self.job.h2:  # the handles really spoke HTTP/2 in this run, on one connection
            used = self.handles[: min(count, len(self.handles))]
            for c in used:
                version = _curl_version(self.pycurl, c)
                if version != "HTTP/2":
                    raise VerificationError(f"pycurl multi: a transfer came over {version}")
            conn_id = getattr(self.pycurl, "CONN_ID", None)  # libcurl 8.2+
            if conn_id is not None and len({c.getinfo(conn_id) for c in used}) != 1:
                raise VerificationError(
                    "pycurl multi: HTTP/2 transfers on more than one connection"
                )
        got = 0
        for ch in self.chunks:
            got += len(ch)
        return got

    def close(self) -> None:
        for c in self.added:
            self.multi.remove_handle(c)
        for c in self.handles:
            c.close()
        self.multi.close()


# ---- h2load (nghttp2): the HTTP/2 ceiling ---------------------------------------------


def _h2load_binary() -> str:
    exe = shutil.which("h2load")
    if exe is None:
        raise ClientUnavailable("h2load not installed (apt-get install nghttp2-client)")
    return exe


def parse_h2load(text: str) -> dict[str, Any]:
    """The counters of h2load's summary: elapsed seconds, requests done/succeeded/failed/
    errored, 2xx responses, the application protocol ("h2", "h2c") and the DATA bytes.
    Raises VerificationError if a line is missing."""

    def grab(pattern: str) -> re.Match[str]:
        m = re.search(pattern, text, re.M)
        if m is None:
            raise VerificationError(f"h2load: no {pattern!r} in its output: {text[-400:]!r}")
        return m

    t = grab(r"^finished in ([\d.]+)(ms|s|us),")
    scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6}[t.group(2)]
    req = grab(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
               r"(\d+) failed, (\d+) errored")  # fmt: skip
    codes = grab(r"^status codes: (\d+) 2xx")
    traffic = grab(r"^traffic: .*\((\d+)\) data")
    proto = re.search(r"^Application protocol: (\S+)", text, re.M)
    return {
        "elapsed": float(t.group(1)) * scale,
        "total": int(req.group(1)),
        "done": int(req.group(3)),
        "succeeded": int(req.group(4)),
        "failed": int(req.group(5)),
        "errored": int(req.group(6)),
        "2xx": int(codes.group(1)),
        "protocol": proto.group(1) if proto else None,
        "data": int(traffic.group(1)),
    }


class H2load(DrivenAdapter):
    """The HTTP/2 ceiling: nghttp2's h2load, a C load generator, on one connection with
    `concurrency` streams (`h2load -c1 -m50 -n N URL`; prior knowledge for http://, ALPN
    h2 over TLS, where it does not verify the certificate). A new process per run, so its
    connection is set up inside the run (not warmed): its own "finished in" time (which
    starts with the connection, not with the process) and its CPU (the children's rusage)
    are the measurement. Checked by its counters: every request succeeded with a 2xx, the
    protocol was h2/h2c, and the DATA bytes equal the requests times the body length."""

    def __init__(self, job: Job):
        if not job.h2 or job.sc.kind != "h2":
            raise ClientUnavailable("h2load: only the HTTP/2 request scenarios")
        self.exe = _h2load_binary()
        self.job = job

    def _h2load(self, url: str, count: int) -> dict[str, Any]:
        c = max(1, self.job.sc.concurrency)
        argv = [self.exe, "-c1", "-t1", f"-m{c}", f"-n{count}", url]
        try:
            out = subprocess.run(argv, capture_output=True, timeout=self.job.remaining())
        except subprocess.TimeoutExpired as exc:
            raise ClientTimeout("h2load passed the client deadline") from exc
        text = out.stdout.decode(errors="replace")
        r = parse_h2load(text)
        want_proto = "h2c" if self.job.h2c else "h2"
        problems = []
        if out.returncode != 0:
            problems.append(f"exit status {out.returncode}")
        if r["succeeded"] != count or r["2xx"] != count or r["failed"] or r["errored"]:
            problems.append(f"{r['succeeded']} of {count} succeeded, {r['2xx']} 2xx")
        if r["protocol"] != want_proto:
            problems.append(f"protocol {r['protocol']!r}, want {want_proto!r}")
        if r["data"] != count * self.job.sc.body_len:
            problems.append(f"{r['data']} data bytes, want {count * self.job.sc.body_len}")
        if problems:
            raise VerificationError("h2load: " + "; ".join(problems))
        return r

    def verify(self, name: str, job: Job) -> None:
        self._h2load(job.url, max(1, job.sc.concurrency))

    def run(self, url: str, count: int) -> int:
        return int(self._h2load(url, count)["data"])

    def timed_run(self, url: str, count: int) -> tuple[float, float, int] | None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = self._h2load(url, count)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return r["elapsed"], cpu, int(r["data"])


# ---- pyreqwest (Rust reqwest) ----------------------------------------------------------


class PyreqwestSync(SyncAdapter):
    def __init__(self, job: Job):
        client = require("pyreqwest.client")
        b = client.SyncClientBuilder()
        if job.tls:
            b = b.http1_only().add_root_certificate_pem(job.ca_pem)
        self.client = b.build()

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = self.client.get(url).build().send()
        return r.status, bytes(r.bytes()), len(r.headers), r.version

    def getter(self, url: str) -> Callable[[], int]:
        get = self.client.get
        return lambda: len(get(url).build().send().bytes())

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        with self.client.get(url).build_streamed() as r:
            return r.status, _drain(iter(r.body_reader.read_chunk, None), sink)

    def close(self) -> None:
        self.client.close()


class PyreqwestAsync(AsyncAdapter):
    def __init__(self, job: Job):
        client = require("pyreqwest.client")
        b = client.ClientBuilder()
        if job.h2c:
            b = b.http2_prior_knowledge()
        elif job.h2:
            if job.ca_pem is None:
                raise ClientUnavailable("no TLS server")
            b = b.http2(True).add_root_certificate_pem(job.ca_pem)
        elif job.tls:
            b = b.http1_only().add_root_certificate_pem(job.ca_pem)
        self.client = b.build()

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = await self.client.get(url).build().send()
        return r.status, bytes(await r.bytes()), len(r.headers), r.version

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        get = self.client.get

        async def g() -> int:
            r = await get(url).build().send()
            return len(await r.bytes())

        return g

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        async with self.client.get(url).build_streamed() as r:
            return r.status, await _adrain(_aiter_calls(r.body_reader.read_chunk), sink)

    async def close(self) -> None:
        await self.client.close()


# ---- curl_cffi (libcurl via cffi) ------------------------------------------------------


def _curl_cffi_kw(job: Job) -> tuple[dict[str, Any], str | None]:
    """Session keywords for a scenario, and the CA file written for it (remove it at the end):
    over TLS, HTTP/1.1 (libcurl offers h2 by ALPN otherwise) and `verify=` the test CA's file
    (curl_cffi sets libcurl's CAINFO to it; verification stays on)."""
    if not job.tls:
        return {}, None
    if job.ca_pem is None:
        raise ClientUnavailable("no TLS server (see the note at the start)")
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as f:
        f.write(job.ca_pem)
    return {"verify": f.name, "http_version": "v1"}, f.name


def _remove(path: str | None) -> None:
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass


class CurlCffiSync(_ClientSync):
    """`Session()`: in threads10 every thread uses the one session, which keeps a libcurl
    handle per thread (its default, `use_thread_local_curl`)."""

    iter_name = "iter_content"

    def __init__(self, job: Job):
        kw, self.ca_file = _curl_cffi_kw(job)
        self.client = require("curl_cffi.requests").Session(**kw)

    def close(self) -> None:
        self.client.close()
        _remove(self.ca_file)


class CurlCffiAsync(_ClientAsync):
    aiter_name = "aiter_content"

    def __init__(self, job: Job):
        self.kw, self.ca_file = _curl_cffi_kw(job)
        self.requests = require("curl_cffi.requests")
        self.n = _pool_size(job)
        self.client: Any = None

    async def open(self) -> None:
        self.client = self.requests.AsyncSession(max_clients=self.n, **self.kw)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
        _remove(self.ca_file)


# ---- h11 over a socket ------------------------------------------------------------------


class H11Sync(SyncAdapter):
    def __init__(self, job: Job):
        self.h11 = require("h11")
        self.job = job
        port = job.tls_port if job.tls else job.port
        self.host = f"localhost:{port}" if job.tls else f"{job.host}:{port}"
        self.sock = socket.create_connection((job.host, port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if job.tls:  # offers no ALPN protocol: nginx answers HTTP/1.1
            self.sock = job.ssl_context().wrap_socket(self.sock, server_hostname="localhost")
        self.conn = self.h11.Connection(self.h11.CLIENT)

    def _one(self, path: str) -> tuple[int, int, list[bytes]]:
        h11, conn, sock = self.h11, self.conn, self.sock
        headers = [("Host", self.host), ("Accept", "*/*")]
        sock.sendall(
            conn.send(h11.Request(method="GET", target=path, headers=headers))
            + conn.send(h11.EndOfMessage())
        )
        status = n_headers = 0
        body: list[bytes] = []
        for _ in range(100_000):  # bounded event loop
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
            elif type(ev) is h11.Response:
                status, n_headers = ev.status_code, len(ev.headers)
            elif type(ev) is h11.Data:
                body.append(ev.data)
            elif type(ev) is h11.EndOfMessage:
                conn.start_next_cycle()
                return status, n_headers, body
            else:
                raise VerificationError(f"h11: unexpected event {ev!r}")
        raise VerificationError("h11: response did not end")

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        status, n_headers, body = self._one(_path_of(url))
        return status, b"".join(body), n_headers, "HTTP/1.1"

    def getter(self, url: str) -> Callable[[], int]:
        path, one = _path_of(url), self._one

        def get() -> int:
            return sum(len(b) for b in one(path)[2])

        return get

    def close(self) -> None:
        self.sock.close()


# --------------------------------------------------------------------------------------
# The registry: one spec per `--clients` key.


def _mod(name: str) -> Callable[[Job], Any]:
    return lambda job: require(name)


def _pool_spec(
    key: str, label: str, get_mod: Callable[[Job], Any], kinds: frozenset[str], optional: bool
) -> ClientSpec:
    return ClientSpec(
        key,
        label,
        lambda job: PoolSync(get_mod(job), job),
        lambda job: PoolAsync(get_mod(job), job),
        kinds,
        optional,
    )


def _httpx_spec(key: str, label: str, module: str, on_fast: bool) -> ClientSpec:
    kinds = frozenset({"seq", "threads", "big", "async", "abig", "h2", "h2big"})
    return ClientSpec(
        key,
        label,
        lambda job: HttpxSync(require(module), job, on_fast),
        lambda job: HttpxAsync(require(module), job, on_fast),
        kinds,
        True,
    )


_UVLOOP = frozenset(name for name, sc in SCENARIOS.items() if sc.loop == "uvloop")

CLIENTS = [
    _pool_spec("fast-cython", "httpcore_fast[cython]", lambda j: _fast("cython", j),
               ALL_KINDS, False),
    _pool_spec("fast-python", "httpcore_fast[python]", lambda j: _fast("python", j),
               ALL_KINDS, False),
    _pool_spec("httpcore", "httpcore 1.0.9", _mod("httpcore"), ALL_KINDS, False),
    _pool_spec("httpcore2", "httpcore2", _mod("httpcore2"), ALL_KINDS - {"trio"}, True),
    ClientSpec("raw", "raw socket (ceiling)", RawSync, RawAsync,
               frozenset({"seq", "threads", "big", "async", "abig"}), False,
               async_label="asyncio.Protocol (ceiling)", skip=frozenset({"abig-chunked"})),
    _httpx_spec("httpx", "httpx", "httpx", False),
    _httpx_spec("httpx-fast", "httpx on httpcore_fast", "httpx", True),
    _httpx_spec("httpx2", "httpx2", "httpx2", False),
    _httpx_spec("httpx2-fast", "httpx2 on httpcore_fast", "httpx2", True),
    # aiohttp's h2big row says "unavailable (HTTP/1.1 only)" next to HTTP/2's large body.
    ClientSpec("aiohttp", "aiohttp", None, AiohttpAsync,
               frozenset({"async", "abig", "h2big"}), True),
    ClientSpec("urllib3", "urllib3", Urllib3Sync, None,
               frozenset({"seq", "threads", "big"}), True),
    ClientSpec("pycurl", "pycurl", PycurlSync, None, frozenset({"seq", "threads", "big"}), True),
    # No event loop: the uvloop scenarios would repeat the asyncio ones.
    ClientSpec("pycurl-multi", "pycurl multi", None, None, frozenset({"async", "h2"}), True,
               skip=_UVLOOP, driven=PycurlMulti),
    ClientSpec("pyreqwest", "pyreqwest", PyreqwestSync, PyreqwestAsync,
               frozenset({"seq", "threads", "big", "async", "abig", "h2", "h2big"}), True,
               async_label="pyreqwest (async)"),
    ClientSpec("h2load", "h2load (ceiling)", None, None, frozenset({"h2"}), True,
               skip=_UVLOOP, driven=H2load),
    ClientSpec("curl_cffi", "curl_cffi", CurlCffiSync, CurlCffiAsync,
               frozenset({"seq", "threads", "big", "async", "abig"}), True,
               async_label="curl_cffi (async)"),
    ClientSpec("h11", "h11+socket", H11Sync, None, frozenset({"seq"}), True),
]  # fmt: skip
CLIENT_KEYS = {c.key: c for c in CLIENTS}
