"""Real servers on loopback for the client behaviour tests, and their pytest fixtures.

The fixtures live in ``tests/conftest_servers.py``: load them in a test module with
``pytest_plugins = ["tests.conftest_servers"]`` (pytest honours that in test modules and
registers the plugin once, so session-scoped servers are shared by every module). Do not
import ``tests.conftest_servers`` directly (pytest could then not assertion-rewrite it).

Three kinds of server, all bound to 127.0.0.1 on an ephemeral port (or a unix socket),
all stopped at fixture teardown with bounded waits:

* :class:`UvicornServer` -- uvicorn running :func:`asgi_app` in a background thread, over
  plain TCP (``http_server``) or TLS with a trustme CA (``https_server``; the client side
  context trusting that CA is ``client_ssl_context``).
* :class:`ScriptedServer` -- a raw socket server; every accepted connection is handed to a
  handler function (a "script") in its own thread, which reads requests and sends canned
  bytes through a :class:`ServerConnection`. Everything received is recorded. Used for the
  edge cases uvicorn will not produce (malformed responses, leftover bytes, disconnects,
  servers that never answer) and, on ``AF_UNIX``, for ``uds=``.

Endpoints of :func:`asgi_app` (every response carries ``x-client-port``, the client's
source port, so a test can tell which TCP connection served a request):

=======================  ==============================================================
``GET|HEAD /``           ``Hello, world!`` (text/plain, Content-Length 13)
``ANY /echo``            JSON: method, path, query, headers (list of [name, value]),
                         body (latin-1), client ([host, port])
``GET /stream``          chunked download: ``chunks`` (5) chunks of ``size`` (16) bytes
                         ``b"<i>"``-filled, ``delay`` (0) seconds between them
``GET /large``           ``size`` (1 MiB) bytes of :func:`large_body`, Content-Length
``GET /slow``            sleeps ``delay`` (1.0, at most 5) seconds, then ``slow``
``GET /headers``         ``n`` (50) header fields ``x-header-<i>: value-<i>``, body ``ok``
``GET /status/<code>``   that status; no body for 1xx/204/304, else ``status <code>``
=======================  ==============================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import uvicorn

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0
HELLO = b"Hello, world!"


def large_body(size: int) -> bytes:
    """The deterministic body of ``GET /large?size=<size>``."""
    pattern = bytes(range(256))
    return (pattern * (size // 256 + 1))[:size]


def stream_chunk(i: int, size: int) -> bytes:
    """Chunk ``i`` of ``GET /stream``: ``size`` bytes, all ``b"<i % 10>"``."""
    return str(i % 10).encode() * size


# ---------------------------------------------------------------------------------------
# Helpers for tests (shared by the sync and async client tests)

IDLE_POOL = "<ConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, {} idle]>"


def header(response: Any, name: bytes) -> bytes:
    """The one value of header ``name`` (lower-case) in ``response.headers``."""
    values = [v for k, v in response.headers if k.lower() == name]
    assert len(values) == 1, (name, response.headers)
    return values[0]


def client_port(response: Any) -> int:
    """The client port the server saw (``x-client-port``): which connection served it."""
    return int(header(response, b"x-client-port"))


def echo(response: Any) -> dict[str, Any]:
    """The JSON document of a (read) ``/echo`` response."""
    assert response.status == 200
    data: dict[str, Any] = json.loads(response.content)
    return data


def echoed_header(data: dict[str, Any], name: str) -> list[str]:
    """Every value of request header ``name`` (lower-case) that ``/echo`` received."""
    return [v for k, v in data["headers"] if k == name]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


# ---------------------------------------------------------------------------------------
# The ASGI application


def _int_arg(query: dict[str, list[str]], name: str, default: int) -> int:
    return int(query[name][0]) if name in query else default


def _float_arg(query: dict[str, list[str]], name: str, default: float) -> float:
    return float(query[name][0]) if name in query else default


async def _read_body(receive: Callable[[], Any]) -> bytes:
    body = bytearray()
    for _ in range(1_000_000):  # bounded: one message per received chunk
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return bytes(body)


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The test application served by :class:`UvicornServer` (see the module docstring)."""
    if scope["type"] != "http":  # pragma: no cover - lifespan is off, no websockets
        return
    method: str = scope["method"]
    path: str = scope["path"]
    query = parse_qs(scope["query_string"].decode("latin-1"))
    client = scope.get("client") or ("", 0)
    base = [(b"x-client-port", str(client[1]).encode())]
    body = await _read_body(receive)

    async def respond(
        status: int, headers: list[tuple[bytes, bytes]], content: bytes = b""
    ) -> None:
        await send({"type": "http.response.start", "status": status, "headers": base + headers})
        await send({"type": "http.response.body", "body": content})

    if path == "/":
        await respond(
            200,
            [(b"content-type", b"text/plain"), (b"content-length", str(len(HELLO)).encode())],
            b"" if method == "HEAD" else HELLO,
        )
    elif path == "/echo":
        payload = json.dumps(
            {
                "method": method,
                "path": path,
                "query": scope["query_string"].decode("latin-1"),
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
                "body": body.decode("latin-1"),
                "client": list(client),
            }
        ).encode()
        await respond(
            200,
            [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            payload,
        )
    elif path == "/stream":
        chunks = _int_arg(query, "chunks", 5)
        size = _int_arg(query, "size", 16)
        delay = min(_float_arg(query, "delay", 0.0), 1.0)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": base + [(b"content-type", b"application/octet-stream")],
            }
        )
        for i in range(chunks):
            await send({"type": "http.response.body", "body": stream_chunk(i, size), "more_body": True})
            if delay:
                await asyncio.sleep(delay)
        await send({"type": "http.response.body", "body": b""})
    elif path == "/large":
        content = large_body(_int_arg(query, "size", 1 << 20))
        await respond(200, [(b"content-length", str(len(content)).encode())], content)
    elif path == "/slow":
        await asyncio.sleep(min(_float_arg(query, "delay", 1.0), 5.0))
        await respond(200, [(b"content-length", b"4")], b"slow")
    elif path == "/headers":
        n = _int_arg(query, "n", 50)
        headers = [(f"x-header-{i}".encode(), f"value-{i}".encode()) for i in range(n)]
        await respond(200, headers + [(b"content-length", b"2")], b"ok")
    elif path.startswith("/status/"):
        code = int(path.rsplit("/", 1)[1])
        if code < 200 or code in (204, 304):
            headers = [(b"etag", b'"v1"')] if code == 304 else []
            await respond(code, headers)
        else:
            content = f"status {code}".encode()
            await respond(code, [(b"content-length", str(len(content)).encode())], content)
    else:
        await respond(404, [(b"content-length", b"9")], b"Not Found")


# ---------------------------------------------------------------------------------------
# uvicorn in a thread


class UvicornServer:
    """uvicorn serving ``app`` on 127.0.0.1:<ephemeral port> in a background thread."""

    def __init__(
        self,
        app: Any = asgi_app,
        *,
        certfile: str | None = None,
        keyfile: str | None = None,
    ) -> None:
        self.host = HOST
        self.scheme = "https" if certfile else "http"
        # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto
        # says TCP; with proto 0 uvicorn's separate head/body writes meet Nagle + delayed
        # ACK and every response takes ~40 ms.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, 0))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            host=HOST,
            port=self.port,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            loop="asyncio",
            timeout_graceful_shutdown=2,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self._sock]},
            name=f"uvicorn-{self.scheme}-{self.port}",
            daemon=True,
        )

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> UvicornServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.server.started:
            if not self._thread.is_alive():
                self._sock.close()
                raise RuntimeError("uvicorn exited during startup")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("uvicorn did not start in time")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(SHUTDOWN_TIMEOUT)
        if self._thread.is_alive():  # pragma: no cover - a hung shutdown
            self.server.force_exit = True
            self._thread.join(SHUTDOWN_TIMEOUT)
        self._sock.close()

    def __enter__(self) -> UvicornServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------
# Scripted raw-socket server


class ServerStopped(Exception):
    """Raised inside a script when the server is being stopped."""


class ScriptTimeout(Exception):
    """Raised inside a script that waited too long for the client (to send, or to read
    what the script sends). Deliberately not an ``OSError``: the server records it in
    ``errors``, so the test fails instead of the script ending quietly."""


class ServerConnection:
    """The server side of one accepted connection, as seen by a script."""

    POLL = 0.05

    def __init__(self, server: ScriptedServer, sock: socket.socket, index: int) -> None:
        self.server = server
        self.sock = sock
        self.index = index  # 0 for the first accepted connection
        self.received = bytearray()  # every byte read from the client
        self.requests: list[bytes] = []  # every complete request read
        self.eof = threading.Event()  # the client closed its side
        self._buffer = bytearray()
        self._closed = False
        sock.settimeout(self.POLL)
        if sock.family == socket.AF_INET:  # every send() goes out at once (no Nagle delay)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _recv_more(self, deadline: float) -> bool:
        """Read once into the buffer; False at EOF. Raises ScriptTimeout past ``deadline``."""
        while True:
            if self.server.stopping.is_set():
                raise ServerStopped()
            if time.monotonic() > deadline:
                raise ScriptTimeout("script waited too long for the client")
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                data = b""
            if not data:
                self.eof.set()
                return False
            self.received += data
            self._buffer += data
            return True

    def read_request(self, timeout: float = 5.0) -> bytes | None:
        """Read one whole request (head and Content-Length or chunked body).

        Returns its raw bytes, or None if the client closed the connection first.
        """
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self._buffer:
            if not self._recv_more(deadline):
                return None
        head_end = self._buffer.index(b"\r\n\r\n") + 4
        head = bytes(self._buffer[:head_end])
        fields = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        end = head_end
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            pos = head_end
            while True:
                while b"\r\n" not in self._buffer[pos:]:
                    if not self._recv_more(deadline):
                        return None
                line_end = self._buffer.index(b"\r\n", pos)
                size = int(bytes(self._buffer[pos:line_end]).split(b";")[0], 16)
                pos = line_end + 2
                if size == 0:
                    while b"\r\n\r\n" not in self._buffer[pos - 2 :]:
                        if not self._recv_more(deadline):
                            return None
                    end = self._buffer.index(b"\r\n\r\n", pos - 2) + 4
                    break
                while len(self._buffer) < pos + size + 2:
                    if not self._recv_more(deadline):
                        return None
                pos += size + 2
        else:
            end = head_end + int(fields.get(b"content-length", b"0"))
            while len(self._buffer) < end:
                if not self._recv_more(deadline):
                    return None
        request = bytes(self._buffer[:end])
        del self._buffer[:end]
        self.requests.append(request)
        return request

    def read_until(self, marker: bytes, timeout: float = 5.0) -> bytes | None:
        """Read until ``marker``; return everything up to and including it (None at EOF)."""
        deadline = time.monotonic() + timeout
        while marker not in self._buffer:
            if not self._recv_more(deadline):
                return None
        end = self._buffer.index(marker) + len(marker)
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data

    def send(self, data: bytes, timeout: float = 10.0) -> None:
        """Send all of ``data``; ScriptTimeout if the client does not take it within
        ``timeout`` seconds (a client that hangs up raises ``OSError`` instead)."""
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(data)
        except socket.timeout as exc:
            raise ScriptTimeout("the client did not read what the script sent") from exc
        finally:
            with contextlib.suppress(OSError):  # closed by stop() meanwhile
                self.sock.settimeout(self.POLL)

    def wait_for_eof(self, timeout: float = 5.0) -> bool:
        """Read (and record) until the client closes; False if it did not within ``timeout``."""
        deadline = time.monotonic() + timeout
        try:
            while self._recv_more(deadline):
                pass
        except ScriptTimeout:
            return False
        return True

    def hold(self, timeout: float = 30.0) -> None:
        """Do nothing until the server stops (or ``timeout``): a server that never answers."""
        self.server.stopping.wait(timeout)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()


Script = Callable[[ServerConnection], None]


class ScriptedServer:
    """A raw socket server running ``script(connection)`` per accepted connection."""

    def __init__(self, script: Script, *, uds_path: str | None = None) -> None:
        self.script = script
        self.uds_path = uds_path
        if uds_path is None:
            self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((HOST, 0))
            self.port: int = self._listener.getsockname()[1]
        else:
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(uds_path)
            self.port = 80
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.host = HOST
        self.stopping = threading.Event()
        self.connections: list[ServerConnection] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self.connections)

    def url(self, path: str = "/") -> str:
        if self.uds_path is not None:
            return f"http://localhost{path}"
        return f"http://{HOST}:{self.port}{path}"

    def start(self) -> ScriptedServer:
        self._accept_thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:  # pragma: no cover - listener closed under us
                return
            with self._lock:
                if self.stopping.is_set():  # pragma: no cover - race with stop()
                    sock.close()
                    return
                conn = ServerConnection(self, sock, len(self.connections))
                self.connections.append(conn)
                thread = threading.Thread(target=self._run_script, args=(conn,), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _run_script(self, conn: ServerConnection) -> None:
        try:
            self.script(conn)
        except (ServerStopped, OSError):  # stopped, or the client hung up
            pass
        except BaseException as exc:  # recorded (ScriptTimeout too); fails the test
            self.errors.append(exc)
        finally:
            conn.close()

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.connection_count < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def stop(self) -> None:
        self.stopping.set()
        self._accept_thread.join(SHUTDOWN_TIMEOUT)
        with self._lock:
            threads = list(self._threads)
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(SHUTDOWN_TIMEOUT)
        for conn in connections:
            conn.close()
        self._listener.close()
        if self.uds_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.uds_path)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# Canned responses and scripts -----------------------------------------------------------


def http_response(
    body: bytes = b"ok",
    *,
    status: bytes = b"200 OK",
    headers: list[tuple[bytes, bytes]] | None = None,
    version: bytes = b"HTTP/1.1",
) -> bytes:
    """A well-formed response with a Content-Length body."""
    lines = [version + b" " + status]
    for name, value in [(b"Content-Length", str(len(body)).encode())] + (headers or []):
        lines.append(name + b": " + value)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def keepalive_script(body: bytes = b"ok", max_requests: int = 1000) -> Script:
    """A script answering every request on the connection with ``http_response(body)``."""

    def script(conn: ServerConnection) -> None:
        for _ in range(max_requests):
            if conn.read_request() is None:
                return
            conn.send(http_response(body))

    return script


# ---------------------------------------------------------------------------------------
# A listener whose connects hang (Linux)


def tcp_info_queue(listener: socket.socket) -> tuple[int, int]:
    """(connections in the accept queue, its limit) of a Linux listening socket: for a
    listener, ``struct tcp_info``'s ``tcpi_unacked`` and ``tcpi_sacked`` hold these."""
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    queued, limit = struct.unpack_from("II", info, 24)
    return queued, limit


class BlackHole:
    """A listener on ``host`` whose accept queue is full (backlog 0, filled by
    connections nobody accepts): Linux then drops further SYNs, so a connect to it hangs
    until the client's own timeout, as to a host that black-holes packets."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.listener = socket.socket()
        self.listener.bind((host, 0))
        self.listener.listen(0)
        self.address = self.listener.getsockname()
        self.fillers: list[socket.socket] = []
        deadline = time.monotonic() + 5.0
        while True:
            queued, limit = tcp_info_queue(self.listener)
            if queued > limit:
                break  # full: the kernel drops SYNs from now on
            assert time.monotonic() < deadline and len(self.fillers) < 8, (queued, limit)
            if len(self.fillers) <= queued:
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(self.address)
                self.fillers.append(filler)
            else:
                time.sleep(0.001)  # the handshake of the last filler is under way

    def close(self) -> None:
        for filler in self.fillers:
            filler.close()
        self.listener.close()
