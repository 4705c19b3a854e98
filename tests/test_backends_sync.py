"""SyncBackend / SyncStream against real sockets on 127.0.0.1 (and Unix sockets)."""

from __future__ import annotations

import os
import socket
import ssl
import sys
import tempfile
import threading
import typing

import pytest
import trustme

from httpcore_fast._backends.sync import SyncBackend, SyncStream, TLSinTLSStream
from httpcore_fast._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)

Handler = typing.Callable[[socket.socket], None]
JOIN_TIMEOUT = 10.0


class Server:
    """Accepts connections in a thread and runs ``handler(conn)`` for each one (the
    connection is closed afterwards). Bound to 127.0.0.1, or to a Unix socket path."""

    def __init__(
        self,
        handler: Handler,
        *,
        ssl_context: ssl.SSLContext | None = None,
        unix_path: str | None = None,
    ) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        if unix_path is None:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("127.0.0.1", 0))
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix_path)
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.address = self.sock.getsockname()
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return typing.cast(int, self.address[1])

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                conn.settimeout(JOIN_TIMEOUT)
                if self.ssl_context is not None:
                    try:
                        conn = self.ssl_context.wrap_socket(conn, server_side=True)
                    except (OSError, ssl.SSLError):
                        conn.close()
                        continue
                self.handler(conn)
            except OSError:
                pass
            except BaseException as exc:  # pragma: no cover - surfaced in stop()
                self.errors.append(exc)
            finally:
                conn.close()

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *args: typing.Any) -> None:
        self.stopping.set()
        self.thread.join(JOIN_TIMEOUT)
        self.sock.close()
        assert not self.thread.is_alive()
        assert not self.errors, self.errors


def echo(conn: socket.socket) -> None:
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def wait_for(event: threading.Event) -> None:
    assert event.wait(JOIN_TIMEOUT)


@pytest.fixture
def backend() -> SyncBackend:
    return SyncBackend()


def test_roundtrip_and_eof(backend: SyncBackend) -> None:
    with Server(echo) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        try:
            assert isinstance(stream, SyncStream)
            stream.write(b"hello", timeout=5.0)
            stream.write(b"")  # no-op
            assert stream.read(5, timeout=5.0) == b"hello"
            stream.write(b"world", timeout=5.0)
            buffer = bytearray(16)
            n = stream._recv_into(memoryview(buffer)[2:], 5.0)  # type: ignore[attr-defined]
            assert n == 5 and buffer[2:7] == b"world"
            sock = stream.get_extra_info("socket")
            sock.shutdown(socket.SHUT_WR)  # the echo server then closes
            assert stream.read(5, timeout=5.0) == b""
            assert stream._recv_into(memoryview(buffer), 5.0) == 0  # type: ignore[attr-defined]
        finally:
            stream.close()


def test_large_write_is_complete(backend: SyncBackend) -> None:
    payload = os.urandom(4 * 1024 * 1024)
    received = bytearray()

    def sink(conn: socket.socket) -> None:
        while len(received) < len(payload):
            data = conn.recv(65536)
            if not data:
                return
            received.extend(data)
        conn.sendall(b"ok")

    with Server(sink) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        try:
            stream.write(payload, timeout=5.0)
            assert stream.read(2, timeout=5.0) == b"ok"
        finally:
            stream.close()
    assert bytes(received) == payload


def test_timeouts_are_applied_only_when_changed(backend: SyncBackend) -> None:
    with Server(echo) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        try:
            sock = stream.get_extra_info("socket")
            assert sock.gettimeout() == 5.0
            stream.write(b"a", timeout=None)
            assert sock.gettimeout() is None
            assert stream.read(1, timeout=2.5) == b"a"
            assert sock.gettimeout() == 2.5
            calls: list[typing.Any] = []
            real = sock.settimeout

            class Spy:
                def __getattr__(self, name: str) -> typing.Any:
                    return getattr(sock, name)

                def settimeout(self, value: typing.Any) -> None:
                    calls.append(value)
                    real(value)

            stream._sock = Spy()  # type: ignore[attr-defined]
            stream.write(b"b", timeout=2.5)
            assert stream.read(1, timeout=2.5) == b"b"
            assert calls == []
            stream.write(b"c", timeout=1.0)
            assert calls == [1.0]
            stream._sock = sock  # type: ignore[attr-defined]
            assert stream.read(1, timeout=1.0) == b"c"
        finally:
            stream.close()


def test_read_timeout(backend: SyncBackend) -> None:
    done = threading.Event()

    def silent(conn: socket.socket) -> None:
        wait_for(done)

    with Server(silent) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port)
        try:
            with pytest.raises(ReadTimeout) as info:
                stream.read(10, timeout=0.05)
            assert isinstance(info.value.__cause__, socket.timeout)
            with pytest.raises(ReadTimeout):
                stream._recv_into(memoryview(bytearray(10)), 0.05)  # type: ignore[attr-defined]
        finally:
            done.set()
            stream.close()


def test_write_timeout(backend: SyncBackend) -> None:
    done = threading.Event()

    def not_reading(conn: socket.socket) -> None:
        wait_for(done)

    with Server(not_reading) as server:
        stream = backend.connect_tcp(
            "127.0.0.1",
            server.port,
            socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)],
        )
        try:
            with pytest.raises(WriteTimeout):
                stream.write(b"x" * (32 * 1024 * 1024), timeout=0.2)
        finally:
            done.set()
            stream.close()


def test_read_write_errors(backend: SyncBackend) -> None:
    def reset(conn: socket.socket) -> None:
        conn.recv(1)
        # SO_LINGER 0: close() sends RST.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    with Server(reset) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        try:
            with pytest.raises((ReadError, WriteError)):
                for _ in range(100):
                    stream.write(b"x" * 65536, timeout=5.0)
                    stream.read(1, timeout=5.0)
        finally:
            stream.close()
    with pytest.raises(ReadError):
        stream.read(1)
    with pytest.raises(WriteError):
        stream.write(b"x")
    stream.close()  # idempotent


def test_connect_refused(backend: SyncBackend) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(ConnectError) as info:
        backend.connect_tcp("127.0.0.1", port, timeout=5.0)
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux drops the SYNs")
def test_connect_timeout(backend: SyncBackend) -> None:
    from tests.test_happy_eyeballs import BlackHole  # a listener whose connects hang

    hole = BlackHole()
    try:
        with pytest.raises(ConnectTimeout):
            backend.connect_tcp(*hole.address, timeout=0.05)
    finally:
        hole.close()


def test_connect_bad_host(backend: SyncBackend) -> None:
    with pytest.raises(ConnectError):
        backend.connect_tcp("host.invalid.", 80, timeout=5.0)


def test_socket_options_and_nodelay(backend: SyncBackend) -> None:
    with Server(echo) as server:
        stream = backend.connect_tcp(
            "127.0.0.1",
            server.port,
            socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)],
        )
        try:
            sock = stream.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            stream.close()
        with pytest.raises(ConnectError):  # an invalid option closes the socket
            backend.connect_tcp("127.0.0.1", server.port, socket_options=[(-1, -1, 1)])


def test_local_address_and_extra_info(backend: SyncBackend) -> None:
    with Server(echo) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, local_address="127.0.0.1")
        try:
            client_addr = stream.get_extra_info("client_addr")
            assert client_addr[0] == "127.0.0.1" and client_addr[1] > 0
            assert stream.get_extra_info("server_addr") == ("127.0.0.1", server.port)
            assert isinstance(stream.get_extra_info("socket"), socket.socket)
            assert stream.get_extra_info("ssl_object") is None
            assert stream.get_extra_info("unknown") is None
        finally:
            stream.close()


def test_is_readable(backend: SyncBackend) -> None:
    may_write = threading.Event()
    may_close = threading.Event()

    def script(conn: socket.socket) -> None:
        wait_for(may_write)
        conn.sendall(b"x")
        wait_for(may_close)

    def readable(stream: typing.Any) -> bool:
        # The pool's fast path (a poll object kept per stream) must agree every time.
        answer = stream.get_extra_info("is_readable")
        assert stream._is_readable() is answer
        return typing.cast(bool, answer)

    with Server(script) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        try:
            assert readable(stream) is False
            may_write.set()
            assert stream.read(1, timeout=5.0) == b"x"  # proves the byte arrived
            stream.write(b"", timeout=5.0)
            assert readable(stream) is False
            may_close.set()
            sock = stream.get_extra_info("socket")
            sock.settimeout(5.0)
            # Wait for the FIN without consuming it.
            assert sock.recv(1, socket.MSG_PEEK) == b""
            assert readable(stream) is True
        finally:
            may_write.set()
            may_close.set()
            stream.close()
    assert readable(stream) is True  # closed: readable (EOF)


def test_is_readable_with_pending_data(backend: SyncBackend) -> None:
    def push(conn: socket.socket) -> None:
        conn.sendall(b"data")
        conn.recv(1)  # wait for the client to go away

    with Server(push) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        try:
            sock = stream.get_extra_info("socket")
            assert sock.recv(4, socket.MSG_PEEK) == b"data"
            assert stream.get_extra_info("is_readable") is True
            assert stream._is_readable() is True
        finally:
            stream.close()


@pytest.mark.skipif(sys.platform == "win32", reason="Unix domain sockets")
def test_unix_socket(backend: SyncBackend) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "sock")
        with Server(echo, unix_path=path):
            stream = backend.connect_unix_socket(
                path, timeout=5.0, socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)]
            )
            try:
                stream.write(b"unix", timeout=5.0)
                assert stream.read(4, timeout=5.0) == b"unix"
            finally:
                stream.close()
        with pytest.raises(ConnectError):
            backend.connect_unix_socket(os.path.join(directory, "missing"), timeout=1.0)


# -- TLS ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_start_tls(
    backend: SyncBackend, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    client_context.set_alpn_protocols(["http/1.1", "h2"])
    with Server(echo, ssl_context=server_context) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        tls = stream.start_tls(client_context, server_hostname="localhost", timeout=5.0)
        try:
            assert isinstance(tls, SyncStream)
            ssl_object = tls.get_extra_info("ssl_object")
            assert ssl_object.selected_alpn_protocol() == "h2"
            assert ssl_object.server_hostname == "localhost"
            assert isinstance(tls.get_extra_info("socket"), ssl.SSLSocket)
            tls.write(b"secret", timeout=5.0)
            assert tls.read(6, timeout=5.0) == b"secret"
            assert tls.get_extra_info("is_readable") is False
            tls.write(b"more!", timeout=5.0)
            buffer = bytearray(5)
            got = 0
            while got < 5:
                got += tls._recv_into(memoryview(buffer)[got:], 5.0)  # type: ignore[attr-defined]
            assert buffer == b"more!"
        finally:
            tls.close()


def test_start_tls_http11_alpn(
    backend: SyncBackend, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    client_context.set_alpn_protocols(["http/1.1"])
    with Server(echo, ssl_context=server_context) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        tls = stream.start_tls(client_context, server_hostname="127.0.0.1", timeout=5.0)
        try:
            assert tls.get_extra_info("ssl_object").selected_alpn_protocol() == "http/1.1"
        finally:
            tls.close()


@pytest.mark.parametrize(
    "hostname,exc",
    [
        ("example.org", ConnectError),
        # As in httpcore, ssl's ValueError is not mapped (check_hostname needs a name).
        (None, ValueError),
    ],
)
def test_start_tls_bad_hostname(
    backend: SyncBackend,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    hostname: str | None,
    exc: type[Exception],
) -> None:
    with Server(echo, ssl_context=server_context) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        with pytest.raises(exc):
            stream.start_tls(client_context, server_hostname=hostname, timeout=5.0)
        assert stream.get_extra_info("socket").fileno() == -1  # closed on failure


def test_start_tls_untrusted(backend: SyncBackend, server_context: ssl.SSLContext) -> None:
    with Server(echo, ssl_context=server_context) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        with pytest.raises(ConnectError) as info:
            stream.start_tls(ssl.create_default_context(), server_hostname="localhost")
        assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)


def test_start_tls_timeout(backend: SyncBackend, client_context: ssl.SSLContext) -> None:
    done = threading.Event()

    def no_handshake(conn: socket.socket) -> None:
        wait_for(done)

    with Server(no_handshake) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        try:
            with pytest.raises(ConnectTimeout):
                stream.start_tls(client_context, server_hostname="localhost", timeout=0.1)
        finally:
            done.set()
            stream.close()


def _tls_in_tls_server(inner_context: ssl.SSLContext) -> Handler:
    """Over the (outer) TLS connection, run a second TLS session with memory BIOs and
    echo what arrives inside it; ``bye`` ends the inner session (close_notify), ``cut``
    closes the connection without it."""

    def handler(conn: socket.socket) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        inner = inner_context.wrap_bio(incoming, outgoing, server_side=True)

        def run(operation: typing.Callable[..., typing.Any], *args: typing.Any) -> typing.Any:
            while True:
                try:
                    result = operation(*args)
                except ssl.SSLWantReadError:
                    want = True
                else:
                    want = False
                data = outgoing.read()
                if data:
                    conn.sendall(data)
                if not want:
                    return result
                data = conn.recv(65536)
                if not data:
                    raise ConnectionResetError
                incoming.write(data)

        run(inner.do_handshake)
        while True:
            try:
                data = run(inner.read, 65536)
            except (ssl.SSLZeroReturnError, ConnectionResetError):
                return
            if not data or data == b"cut":
                return
            if data == b"bye":
                try:
                    inner.unwrap()
                except ssl.SSLWantReadError:
                    pass
                conn.sendall(outgoing.read())
                return
            run(inner.write, data)

    return handler


@pytest.mark.parametrize("end", [b"bye", b"cut"])
def test_tls_in_tls(
    end: bytes,
    backend: SyncBackend,
    ca: trustme.CA,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    inner_server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("target.example").configure_cert(inner_server)
    inner_server.set_alpn_protocols(["http/1.1"])
    inner_client = ssl.create_default_context()
    ca.configure_trust(inner_client)
    inner_client.set_alpn_protocols(["http/1.1", "h2"])

    with Server(_tls_in_tls_server(inner_server), ssl_context=server_context) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        outer = stream.start_tls(client_context, server_hostname="localhost", timeout=5.0)
        inner = outer.start_tls(inner_client, server_hostname="target.example", timeout=5.0)
        try:
            assert isinstance(inner, TLSinTLSStream)
            ssl_object = inner.get_extra_info("ssl_object")
            assert isinstance(ssl_object, ssl.SSLObject)
            assert ssl_object.server_hostname == "target.example"
            assert ssl_object.selected_alpn_protocol() == "http/1.1"
            inner.write(b"nested", timeout=5.0)
            assert inner.read(6, timeout=5.0) == b"nested"
            inner.write(b"again", timeout=5.0)
            buffer = bytearray(5)
            assert inner._recv_into(memoryview(buffer), 5.0) == 5  # type: ignore[attr-defined]
            assert buffer == b"again"
            assert inner.get_extra_info("is_readable") is False
            assert inner.get_extra_info("server_addr") == ("127.0.0.1", server.port)
            with pytest.raises(NotImplementedError):
                inner.start_tls(inner_client)
            inner.write(end, timeout=5.0)
            assert inner.read(10, timeout=5.0) == b""  # clean or ragged EOF
            assert inner._recv_into(memoryview(buffer), 5.0) == 0  # type: ignore[attr-defined]
        finally:
            inner.close()


def test_close_after_fork_closes_the_socket_under_every_layer(
    backend: SyncBackend,
    ca: trustme.CA,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    """``_close_after_fork()`` (without a fork here) on TLS-in-TLS, TLS and plain
    streams closes their socket; twice is fine, and so is close() afterwards."""
    inner_server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("target.example").configure_cert(inner_server)
    inner_client = ssl.create_default_context()
    ca.configure_trust(inner_client)
    with Server(_tls_in_tls_server(inner_server), ssl_context=server_context) as server:
        plain = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        outer = plain.start_tls(client_context, server_hostname="localhost", timeout=5.0)
        inner = outer.start_tls(inner_client, server_hostname="target.example", timeout=5.0)
        for stream in (inner, outer, plain):
            sock = stream.get_extra_info("socket")
            stream._close_after_fork()
            stream._close_after_fork()
            assert sock.fileno() == -1
            stream.close()  # harmless afterwards


def test_tls_in_tls_handshake_failure(
    backend: SyncBackend,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    with Server(echo, ssl_context=server_context) as server:  # no inner TLS server
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        outer = stream.start_tls(client_context, server_hostname="localhost", timeout=5.0)
        with pytest.raises((ConnectError, ConnectTimeout)):
            outer.start_tls(client_context, server_hostname="localhost", timeout=1.0)
        outer.close()


def test_sleep(backend: SyncBackend) -> None:
    backend.sleep(0)
