"""HTTP/2 servers on loopback for the HTTP/2 client tests, and their pytest fixtures.

Load the fixtures with ``pytest_plugins = ["tests.h2_servers"]`` in a test module.

* :class:`HypercornServer` -- hypercorn running :func:`asgi_app` in a background thread:
  over TLS with ALPN ``h2`` and ``http/1.1`` (``hypercorn_tls``), over TLS offering only
  ``http/1.1`` (``hypercorn_tls_http11``), or over plain TCP where HTTP/2 is spoken with
  prior knowledge (``hypercorn_h2c``).
* :class:`H2Server` -- a small server built on h2's server side, one thread per
  connection, plain TCP (h2c), for what a production server will not do on demand: a
  GOAWAY every N streams, a small ``SETTINGS_MAX_CONCURRENT_STREAMS`` (recording the most
  streams ever open at once), RST_STREAM, REFUSED_STREAM, trailers, responses that never
  come. It records the RST_STREAM frames it receives.

Paths of :class:`H2Server` (the body of a normal response is ``b"path=<path>"``):

=====================  ===============================================================
``/delay/<ms>``        respond after ``ms`` milliseconds
``/reset``             RST_STREAM INTERNAL_ERROR instead of a response
``/refuse-once/<k>``   REFUSED_STREAM the first time key ``k`` is seen, then respond
``/trailers``          a body, then trailer fields ``x-checksum: 42``
``/large/<n>``         ``n`` bytes of :func:`pattern`, within the flow-control windows
``/hang``              headers and one DATA frame, then nothing
``/echo``              the request body
``/big-head/<n>``      a response head with a field ``x-big`` of ``n`` bytes
``/fields/<n>``        a response head with ``n`` fields ``x-f<i>: <i>``
``/informational/<n>`` ``n`` 103 (Early Hints) responses, then the response
``/drip/<ms>``         a PING every 50 ms for ``ms`` milliseconds, then the response
``/big-trailers/<n>``  a body, then a trailer field ``x-t`` of ``n`` bytes
``/reset-early``       RST_STREAM INTERNAL_ERROR as soon as the request HEADERS arrive
=====================  ===============================================================

Endpoints of :func:`asgi_app`: ``/`` (``Hello, world!``), ``/echo`` (the request body),
``/large?size=N`` (``N`` bytes of :func:`pattern`), ``/slow?delay=S`` (``slow`` after ``S``
seconds, at most 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hyperframe.frame
import pytest
import trustme

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0
HELLO = b"Hello, world!"


def pattern(size: int) -> bytes:
    """``size`` deterministic bytes (the body of ``/large``)."""
    block = bytes(range(256))
    return (block * (size // 256 + 1))[:size]


# ---------------------------------------------------------------------------------------
# hypercorn


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The application served by :class:`HypercornServer` (see the module docstring)."""
    if scope["type"] != "http":  # pragma: no cover - lifespan is off
        return
    body = bytearray()
    for _ in range(1_000_000):  # bounded: one message per received chunk
        message = await receive()
        body += message.get("body", b"")
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            break
    path = scope["path"]
    query = parse_qs(scope["query_string"].decode("latin-1"))
    version = scope["http_version"].encode()
    if path == "/echo":
        content = bytes(body)
    elif path == "/large":
        content = pattern(int(query["size"][0]))
    elif path == "/slow":
        await asyncio.sleep(min(float(query.get("delay", ["1"])[0]), 5.0))
        content = b"slow"
    else:
        content = HELLO
    headers = [
        (b"content-length", str(len(content)).encode()),
        (b"x-http-version", version),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": content})


class HypercornServer:
    """hypercorn serving :func:`asgi_app` on 127.0.0.1 in a thread (``with`` starts and
    stops it). ``certfile``: PEM with key and chain (TLS), else plain TCP; ``alpn``: the
    protocols offered over TLS."""

    HELLO = HELLO
    pattern = staticmethod(pattern)

    def __init__(self, certfile: str | None = None, alpn: list[str] | None = None) -> None:
        import hypercorn.config

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        config = hypercorn.config.Config()
        # hypercorn takes over (and closes) the descriptor it is given: give it a copy.
        config.bind = [f"fd://{os.dup(self.sock.fileno())}"]
        config.accesslog = None
        config.errorlog = None
        config.graceful_timeout = 0.5
        if certfile is not None:
            config.certfile = certfile
            config.keyfile = certfile
            config.alpn_protocols = alpn or ["h2", "http/1.1"]
        self.config = config
        self.scheme = "https" if certfile else "http"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{HOST}:{self.port}{path}"

    def _run(self) -> None:
        import hypercorn.asyncio

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._started.set()
            await hypercorn.asyncio.serve(
                asgi_app, self.config, shutdown_trigger=self._stop.wait  # type: ignore[arg-type]
            )

        asyncio.run(main())

    def __enter__(self) -> HypercornServer:
        self._thread.start()
        if not self._started.wait(STARTUP_TIMEOUT):  # pragma: no cover
            raise RuntimeError("hypercorn did not start")
        # Wait until it accepts connections.
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0):
                    break
            except OSError:  # pragma: no cover
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        return self

    def __exit__(self, *args: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(SHUTDOWN_TIMEOUT)
        self.sock.close()


# ---------------------------------------------------------------------------------------
# A scriptable h2 server


class _Response:
    __slots__ = ("stream_id", "due", "data", "trailers", "hang", "headers")

    def __init__(
        self,
        stream_id: int,
        due: float,
        data: bytes,
        trailers: list[tuple[bytes, bytes]] | None = None,
        hang: bool = False,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.stream_id = stream_id
        self.due = due
        self.data = data
        self.trailers = trailers
        self.hang = hang
        self.headers = headers  # the whole response head, instead of :status 200


class H2Server:
    """An h2c server on 127.0.0.1 (``with`` starts and stops it; see the module
    docstring for its paths).

    ``max_streams``: its SETTINGS_MAX_CONCURRENT_STREAMS. ``goaway_every``: after that many
    streams on a connection, send GOAWAY with the last of them as ``last_stream_id``,
    finish those streams, ignore later ones and close the connection.

    Recorded: ``connections`` (accepted), ``max_open`` (most streams open at once on one
    connection), ``requests`` (paths answered), ``request_fields`` (per path: the request's
    header fields as decoded, ``HeaderTuple`` or ``NeverIndexedHeaderTuple``), ``resets``
    (RST_STREAM error codes received), ``reset_paths`` (``(path, error code)`` of each
    RST_STREAM received for a stream whose request arrived), ``client_settings`` (per
    connection, the client's SETTINGS as ``{code: value}``), ``window_updates``
    (``(stream_id, increment)`` of each WINDOW_UPDATE received, 0 for the connection's),
    ``errors`` (exceptions in connection threads).

    ``/bad-value`` answers with a field value holding a line feed, ``/bad-status`` with
    ``:status`` ``2x0``.
    """

    pattern = staticmethod(pattern)

    def __init__(self, max_streams: int = 100, goaway_every: int | None = None) -> None:
        self.max_streams = max_streams
        self.goaway_every = goaway_every
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((HOST, 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = 0
        self.max_open = 0
        self.requests: list[str] = []
        self.request_fields: dict[str, list[tuple[bytes, bytes]]] = {}
        self.resets: list[int] = []
        self.reset_paths: list[tuple[str, int]] = []
        self.client_settings: list[dict[int, int]] = []
        self.window_updates: list[tuple[int, int]] = []
        self.errors: list[BaseException] = []
        self._refused: set[str] = set()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def __enter__(self) -> H2Server:
        self._accept_thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            # Wake accept() with a connection of our own.
            socket.create_connection((HOST, self.port), timeout=1.0).close()
        self._accept_thread.join(SHUTDOWN_TIMEOUT)
        for thread in self._threads:
            thread.join(SHUTDOWN_TIMEOUT)
        self.sock.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:  # pragma: no cover
                return
            if self._stopping.is_set():
                conn.close()
                return
            with self.lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                self._serve_connection(conn)
                # Lingering close: a close with unread bytes would send a TCP reset,
                # and the client could lose the frames sent before it.
                conn.shutdown(socket.SHUT_WR)
                conn.settimeout(1.0)
                for _ in range(1000):
                    if not conn.recv(65536):
                        break
        except (OSError, h2.exceptions.ProtocolError) as exc:
            if not isinstance(exc, OSError):
                self.errors.append(exc)
        except BaseException as exc:  # pragma: no cover - reported by the fixture
            self.errors.append(exc)

    def _serve_connection(self, conn: socket.socket) -> None:
        h2_conn = h2.connection.H2Connection(
            # Validating what clients send; not combining cookie fields (request_fields
            # shows them as sent).
            config=h2.config.H2Configuration(
                client_side=False, validate_inbound_headers=True, normalize_inbound_headers=False
            )
        )
        h2_conn.local_settings = h2.settings.Settings(
            client=False,
            initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.max_streams},
        )
        h2_conn.initiate_connection()
        conn.sendall(h2_conn.data_to_send())
        paths: dict[int, str] = {}
        bodies: dict[int, bytearray] = {}
        pending: list[_Response] = []
        sending: dict[int, tuple[memoryview, list[tuple[bytes, bytes]] | None]] = {}
        open_streams: set[int] = set()
        drips: dict[int, float] = {}  # stream id -> time of the next PING
        settings: dict[int, int] = {}
        with self.lock:
            self.client_settings.append(settings)
        started = 0
        goaway_last: int | None = None
        deadline = time.monotonic() + 30.0  # no connection outlives a test
        while not self._stopping.is_set() and time.monotonic() < deadline:
            now = time.monotonic()
            for response in [r for r in pending if r.due <= now]:
                pending.remove(response)
                drips.pop(response.stream_id, None)
                self._start_response(h2_conn, response, sending)
            for stream_id, next_ping in list(drips.items()):
                if next_ping <= now:
                    h2_conn.ping(b"dripping")
                    drips[stream_id] = now + 0.05
            self._pump(h2_conn, sending, open_streams)
            for stream_id in list(open_streams):
                stream = h2_conn.streams.get(stream_id)
                if stream is None or stream.closed:
                    open_streams.discard(stream_id)
            out = h2_conn.data_to_send()
            if out:
                conn.sendall(out)
            if goaway_last is not None and not any(s <= goaway_last for s in open_streams):
                return  # every promised stream is done
            wait = min([r.due for r in pending] + list(drips.values()), default=now + 0.05) - now
            readable, _, _ = select.select([conn], [], [], max(0.0, min(wait, 0.05)))
            if not readable:
                continue
            data = conn.recv(65536)
            if not data:
                return
            for event in h2_conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    stream_id = event.stream_id
                    if goaway_last is not None and stream_id > goaway_last:
                        continue  # not processed: the client must retry it
                    started += 1
                    headers = dict(event.headers)
                    paths[stream_id] = headers[b":path"].decode()
                    with self.lock:
                        self.request_fields[paths[stream_id]] = list(event.headers)
                    bodies[stream_id] = bytearray()
                    open_streams.add(stream_id)
                    if paths[stream_id] == "/reset-early":
                        with self.lock:
                            self.requests.append(paths[stream_id])
                        h2_conn.reset_stream(stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
                        open_streams.discard(stream_id)
                        continue
                    with self.lock:
                        self.max_open = max(self.max_open, len(open_streams))
                    if self.goaway_every and started >= self.goaway_every and goaway_last is None:
                        goaway_last = stream_id
                        conn.sendall(h2_conn.data_to_send())
                        conn.sendall(
                            hyperframe.frame.GoAwayFrame(
                                stream_id=0, last_stream_id=stream_id, error_code=0
                            ).serialize()
                        )
                elif isinstance(event, h2.events.DataReceived):
                    if event.stream_id in bodies:
                        bodies[event.stream_id] += event.data
                    h2_conn.acknowledge_received_data(
                        event.flow_controlled_length, event.stream_id
                    )
                elif isinstance(event, h2.events.StreamEnded):
                    stream_id = event.stream_id
                    if stream_id in paths and stream_id in open_streams:
                        self._handle(h2_conn, stream_id, paths[stream_id],
                                     bytes(bodies[stream_id]), pending, open_streams, drips)
                elif isinstance(event, h2.events.WindowUpdated):
                    with self.lock:
                        self.window_updates.append((event.stream_id, event.delta))
                elif isinstance(event, h2.events.RemoteSettingsChanged):
                    for code, change in event.changed_settings.items():
                        settings[int(code)] = change.new_value
                elif isinstance(event, h2.events.StreamReset):
                    with self.lock:
                        self.resets.append(event.error_code)
                        if event.stream_id in paths:
                            self.reset_paths.append((paths[event.stream_id], event.error_code))
                    drips.pop(event.stream_id, None)
                    open_streams.discard(event.stream_id)
                    sending.pop(event.stream_id, None)
                    for response in [r for r in pending if r.stream_id == event.stream_id]:
                        pending.remove(response)

    def _handle(
        self,
        h2_conn: h2.connection.H2Connection,
        stream_id: int,
        path: str,
        body: bytes,
        pending: list[_Response],
        open_streams: set[int],
        drips: dict[int, float],
    ) -> None:
        with self.lock:
            self.requests.append(path)
        now = time.monotonic()
        route = path.split("?", 1)[0]
        if route == "/reset":
            h2_conn.reset_stream(stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
            open_streams.discard(stream_id)
            return
        if path.startswith("/refuse-once/"):
            with self.lock:
                first = path not in self._refused
                self._refused.add(path)
            if first:
                h2_conn.reset_stream(stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
                open_streams.discard(stream_id)
                return
        if route.startswith("/delay/"):
            pending.append(_Response(stream_id, now + int(route[7:]) / 1000, path.encode()))
        elif route.startswith("/drip/"):
            pending.append(_Response(stream_id, now + int(route[6:]) / 1000, path.encode()))
            drips[stream_id] = now
        elif route.startswith("/big-head/"):
            pending.append(_Response(stream_id, now, b"big", headers=[
                (b":status", b"200"), (b"x-big", b"b" * int(route[10:]))]))
        elif route.startswith("/fields/"):
            fields = [(b"x-f%d" % i, b"%d" % i) for i in range(int(route[8:]))]
            pending.append(_Response(stream_id, now, b"fields",
                                     headers=[(b":status", b"200"), *fields]))
        elif route.startswith("/informational/"):
            for _ in range(int(route[15:])):
                h2_conn.send_headers(stream_id, [(b":status", b"103"), (b"link", b"</a>")])
            pending.append(_Response(stream_id, now, path.encode()))
        elif route.startswith("/big-trailers/"):
            pending.append(_Response(stream_id, now, b"with trailers",
                                     trailers=[(b"x-t", b"t" * int(route[14:]))]))
        elif route == "/trailers":
            pending.append(_Response(stream_id, now, b"with trailers",
                                     trailers=[(b"x-checksum", b"42")]))
        elif route.startswith("/large/"):
            pending.append(_Response(stream_id, now, pattern(int(route[7:]))))
        elif route == "/hang":
            pending.append(_Response(stream_id, now, b"first part", hang=True))
        elif route == "/echo":
            pending.append(_Response(stream_id, now, body))
        elif route == "/bad-value":
            pending.append(_Response(stream_id, now, b"bad", headers=[
                (b":status", b"200"), (b"x-bad", b"line\nfeed")]))
        elif route == "/bad-status":
            pending.append(_Response(stream_id, now, b"bad", headers=[(b":status", b"2x0")]))
        else:
            pending.append(_Response(stream_id, now, b"path=" + path.encode()))

    @staticmethod
    def _start_response(
        h2_conn: h2.connection.H2Connection,
        response: _Response,
        sending: dict[int, tuple[memoryview, list[tuple[bytes, bytes]] | None]],
    ) -> None:
        stream = h2_conn.streams.get(response.stream_id)
        if stream is None or stream.closed:
            return
        if response.headers is not None:
            headers = response.headers
        elif not response.trailers and not response.hang:
            headers = [(b":status", b"200"), (b"content-length", str(len(response.data)).encode())]
        else:
            headers = [(b":status", b"200")]
        h2_conn.send_headers(response.stream_id, headers)
        if response.hang:
            h2_conn.send_data(response.stream_id, response.data)
            return
        sending[response.stream_id] = (memoryview(response.data), response.trailers)

    @staticmethod
    def _pump(
        h2_conn: h2.connection.H2Connection,
        sending: dict[int, tuple[memoryview, list[tuple[bytes, bytes]] | None]],
        open_streams: set[int],
    ) -> None:
        """Send queued bodies as far as the flow-control windows allow."""
        for stream_id in list(sending):
            data, trailers = sending[stream_id]
            stream = h2_conn.streams.get(stream_id)
            if stream is None or stream.closed:
                del sending[stream_id]
                continue
            while data:
                window = min(
                    h2_conn.local_flow_control_window(stream_id), h2_conn.max_outbound_frame_size
                )
                if window <= 0:
                    break
                h2_conn.send_data(stream_id, bytes(data[:window]))
                data = data[window:]
            if data:
                sending[stream_id] = (data, trailers)
                continue
            del sending[stream_id]
            if trailers:
                h2_conn.send_headers(stream_id, trailers, end_stream=True)
            else:
                h2_conn.end_stream(stream_id)


# ---------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session")
def h2_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def h2_client_ssl_context(h2_ca: trustme.CA) -> ssl.SSLContext:
    """Trusts :func:`h2_ca` only; the pool sets its ALPN protocols."""
    context = ssl.create_default_context()
    h2_ca.configure_trust(context)
    return context


@pytest.fixture(scope="session")
def h2_certfile(h2_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    pem = tmp_path_factory.mktemp("h2tls") / "server.pem"
    h2_ca.issue_cert("localhost", HOST).private_key_and_cert_chain_pem.write_to_path(str(pem))
    return str(pem)


@pytest.fixture(scope="session")
def hypercorn_tls(h2_certfile: str) -> Iterator[HypercornServer]:
    """hypercorn over TLS offering ``h2`` and ``http/1.1`` by ALPN."""
    with HypercornServer(certfile=h2_certfile) as server:
        yield server


@pytest.fixture(scope="session")
def hypercorn_tls_http11(h2_certfile: str) -> Iterator[HypercornServer]:
    """hypercorn over TLS offering only ``http/1.1``."""
    with HypercornServer(certfile=h2_certfile, alpn=["http/1.1"]) as server:
        yield server


@pytest.fixture(scope="session")
def hypercorn_h2c() -> Iterator[HypercornServer]:
    """hypercorn over plain TCP (HTTP/1.1, or HTTP/2 with prior knowledge)."""
    with HypercornServer() as server:
        yield server


@pytest.fixture
def h2_server() -> Iterator[Any]:
    """A factory: ``h2_server(max_streams=100, goaway_every=None)`` starts an
    :class:`H2Server`; all are stopped at teardown, and an error in one fails the test."""
    servers: list[H2Server] = []

    def start(**kwargs: Any) -> H2Server:
        server = H2Server(**kwargs).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()
    errors = [error for server in servers for error in server.errors]
    if errors:
        raise errors[0]
