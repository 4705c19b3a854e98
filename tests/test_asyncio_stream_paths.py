"""The native asyncio backend's receive paths for large bodies and TLS records (asyncio and,
where it is installed, uvloop: the same protocol code on both loops).

* A receive that fills the whole buffer grows it once to ``_LARGE_BUFFER_SIZE`` (so one
  loop iteration serves several 64 KiB reads); a reader that keeps up never pauses the
  transport; small messages keep the initial buffer.
* The TLS stream decrypts every record already received into one ``_recv_into`` buffer,
  ``read()`` returns bytes that later reads never change, and close_notify ends the stream.

Peers are plain and TLS sockets served by threads; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
import typing

import pytest
import trustme

from httpcore_fast._backends import asyncio as asyncio_backend
from httpcore_fast._backends.asyncio import AsyncIOBackend, AsyncIOStream, AsyncIOTLSStream

pytestmark = pytest.mark.network

DEADLINE = 10.0  # seconds for any one wait


def _uvloop_factory() -> typing.Callable[[], asyncio.AbstractEventLoop]:
    uvloop = pytest.importorskip("uvloop")
    return typing.cast(typing.Callable[[], asyncio.AbstractEventLoop], uvloop.new_event_loop)


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def run(loop_kind: str) -> typing.Callable[[typing.Awaitable[None]], None]:
    """Run a coroutine to its end on a new loop of the parametrised kind."""
    factory = asyncio.new_event_loop if loop_kind == "asyncio" else _uvloop_factory()

    def runner(coro: typing.Awaitable[None]) -> None:
        loop = factory()
        try:
            loop.run_until_complete(asyncio.wait_for(coro, DEADLINE * 3))
        finally:
            loop.close()

    return runner


class Server:
    """A listening socket on 127.0.0.1 whose one connection ``serve`` handles in a thread
    (``tls``: wrapped with ``context`` first)."""

    def __init__(
        self, serve: typing.Callable[[socket.socket], None], context: ssl.SSLContext | None = None
    ) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(DEADLINE)
        self.port = self.sock.getsockname()[1]
        self.errors: list[BaseException] = []
        self.context = context
        self.thread = threading.Thread(target=self._run, args=(serve,), daemon=True)
        self.thread.start()

    def _run(self, serve: typing.Callable[[socket.socket], None]) -> None:
        try:
            conn, _ = self.sock.accept()
            conn.settimeout(DEADLINE)
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            with conn:
                serve(conn)
        except BaseException as exc:  # noqa: BLE001 - reported by close()
            self.errors.append(exc)

    def close(self) -> None:
        self.thread.join(DEADLINE)
        self.sock.close()
        assert not self.thread.is_alive()
        assert not self.errors, self.errors


async def _wait_until(predicate: typing.Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


PAYLOAD = bytes(range(256)) * (12 * 1024)  # 3 MiB


class CountingSocket:
    """Stands in for the stream's socket: counts the reader's own receives."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = 0

    def recv_into(self, buffer: memoryview) -> int:
        n = self.sock.recv_into(buffer)
        self.received += n
        return n


def test_large_body_is_received_straight_into_the_reader_buffer(
    run: typing.Callable[[typing.Awaitable[None]], None], loop_kind: str
) -> None:
    """On asyncio, once a read fills the reader's buffer, the next reads receive from the
    socket into it (no loop iteration, no copy through the protocol's buffer), in order
    with what the transport receives; the protocol's buffer grows at most once and reading
    never pauses. uvloop (libuv) receives until the socket is empty and keeps its socket:
    there the buffer may grow further and pause, and only the bytes are checked."""
    asyncio_loop = loop_kind == "asyncio"

    def serve(conn: socket.socket) -> None:
        conn.sendall(PAYLOAD)

    server = Server(serve)

    async def main() -> None:
        stream = await AsyncIOBackend().connect_tcp("127.0.0.1", server.port)
        assert isinstance(stream, AsyncIOStream)
        protocol = stream._protocol
        assert (stream._sock is not None) == asyncio_loop
        counting = None
        if stream._sock is not None:
            counting = CountingSocket(stream._sock)
            stream._sock = counting  # type: ignore[assignment]
        received = bytearray()
        buffer = memoryview(bytearray(65536))  # what the HTTP/1.1 parser offers
        sizes = set()
        try:
            for _ in range(len(PAYLOAD)):  # bounded: each read returns >= 1 byte
                n = await stream._recv_into(buffer, timeout=DEADLINE)
                assert n > 0
                received += buffer[:n]
                sizes.add(len(protocol._buf))
                assert not (asyncio_loop and protocol._reading_paused)
                if len(received) == len(PAYLOAD):
                    break
            assert received == PAYLOAD
            assert await stream._recv_into(buffer, timeout=DEADLINE) == 0  # the peer closed
        finally:
            await stream.aclose()
        if asyncio_loop:
            assert max(sizes) <= asyncio_backend._LARGE_BUFFER_SIZE
            assert counting is not None and counting.received > 0
        else:
            assert max(sizes) >= asyncio_backend._LARGE_BUFFER_SIZE

    run(main())
    server.close()


def test_small_messages_keep_the_initial_buffer(
    run: typing.Callable[[typing.Awaitable[None]], None],
) -> None:
    def serve(conn: socket.socket) -> None:
        for _ in range(50):
            request = conn.recv(16)
            assert request == b"ping"
            conn.sendall(b"x" * 100)

    server = Server(serve)

    async def main() -> None:
        stream = await AsyncIOBackend().connect_tcp("127.0.0.1", server.port)
        assert isinstance(stream, AsyncIOStream)
        try:
            for _ in range(50):
                await stream.write(b"ping")
                got = b""
                while len(got) < 100:
                    got += await stream.read(65536, timeout=DEADLINE)
                assert got == b"x" * 100
            assert len(stream._protocol._buf) == asyncio_backend._INITIAL_BUFFER_SIZE
        finally:
            await stream.aclose()

    run(main())
    server.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _contexts(ca: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    return server_context, client_context


RECORD = 10_000  # plaintext bytes per server write: one TLS record each


def test_tls_decrypts_every_received_record_into_one_read(
    run: typing.Callable[[typing.Awaitable[None]], None], ca: trustme.CA
) -> None:
    server_context, client_context = _contexts(ca)
    sent = threading.Event()

    def serve(conn: socket.socket) -> None:
        assert isinstance(conn, ssl.SSLSocket)
        assert conn.recv(16) == b"go"
        for i in range(5):  # 5 records, 50,000 bytes
            conn.sendall(bytes([i]) * RECORD)
        sent.set()
        assert conn.recv(16) == b"more"
        conn.sendall(b"a" * 3000)
        conn.sendall(b"b" * 3000)
        try:
            conn.unwrap()  # close_notify; the client closes without answering it
        except (ssl.SSLEOFError, ConnectionError):
            pass

    server = Server(serve, server_context)

    async def main() -> None:
        plain = await AsyncIOBackend().connect_tcp("127.0.0.1", server.port)
        stream = await plain.start_tls(client_context, "127.0.0.1", timeout=DEADLINE)
        assert isinstance(stream, AsyncIOTLSStream)
        protocol = stream._protocol
        try:
            await stream.write(b"go")
            await _wait_until(sent.is_set)
            # every record's ciphertext is buffered (each record adds a few bytes)
            await _wait_until(lambda: protocol._end - protocol._start >= 5 * RECORD)
            buffer = memoryview(bytearray(65536))
            n = await stream._recv_into(buffer, timeout=DEADLINE)
            assert n == 5 * RECORD
            assert bytes(buffer[:n]) == b"".join(bytes([i]) * RECORD for i in range(5))

            await stream.write(b"more")
            got: list[bytes] = []
            for _ in range(100):  # bounded; ends at close_notify
                data = await stream.read(4000, timeout=DEADLINE)
                assert type(data) is bytes and len(data) <= 4000
                if not data:
                    break
                got.append(data)
            # earlier results are not views of the reused decryption buffer
            assert b"".join(got) == b"a" * 3000 + b"b" * 3000
            assert await stream.read(4000, timeout=DEADLINE) == b""
        finally:
            await stream.aclose()

    run(main())
    server.close()
