"""What only ``SyncBackend`` / ``SyncStream`` has, against real sockets on 127.0.0.1:
``_recv_into``, timeouts set on the socket only when they change, the exceptions' causes,
the ``ssl.SSLSocket`` under a TLS stream and the memory-BIO ``TLSinTLSStream``.

Everything every backend does is in ``tests/_async/test_backends.py`` (and its generated
sync twin ``tests/_sync/test_backends.py``).
"""

from __future__ import annotations

import socket
import ssl
import threading
import typing

import pytest
import trustme

from httpcore_fast._backends.sync import SyncBackend, SyncStream, TLSinTLSStream
from httpcore_fast._exceptions import (
    ConnectError,
    ReadTimeout,
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
            n = stream._recv_into(memoryview(buffer)[2:], 5.0)
            assert n == 5 and buffer[2:7] == b"world"
            sock = stream.get_extra_info("socket")
            sock.shutdown(socket.SHUT_WR)  # the echo server then closes
            assert stream.read(5, timeout=5.0) == b""
            assert stream._recv_into(memoryview(buffer), 5.0) == 0
        finally:
            stream.close()


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
                stream._recv_into(memoryview(bytearray(10)), 0.05)
        finally:
            done.set()
            stream.close()


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
                got += tls._recv_into(memoryview(buffer)[got:], 5.0)
            assert buffer == b"more!"
        finally:
            tls.close()


def test_start_tls_without_a_hostname_is_value_error(
    backend: SyncBackend, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    # As in httpcore, ssl's ValueError is not mapped (check_hostname needs a name). (The
    # async backends accept a missing name; the pool always passes one.)
    with Server(echo, ssl_context=server_context) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        with pytest.raises(ValueError):
            stream.start_tls(client_context, server_hostname=None, timeout=5.0)
        assert stream.get_extra_info("socket").fileno() == -1  # closed on failure


def test_start_tls_untrusted(backend: SyncBackend, server_context: ssl.SSLContext) -> None:
    with Server(echo, ssl_context=server_context) as server:
        stream = backend.connect_tcp("127.0.0.1", server.port, timeout=5.0)
        with pytest.raises(ConnectError) as info:
            stream.start_tls(ssl.create_default_context(), server_hostname="localhost")
        assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)


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
            assert inner._recv_into(memoryview(buffer), 5.0) == 5
            assert buffer == b"again"
            assert inner.get_extra_info("is_readable") is False
            assert inner.get_extra_info("server_addr") == ("127.0.0.1", server.port)
            with pytest.raises(NotImplementedError):
                inner.start_tls(inner_client)
            inner.write(end, timeout=5.0)
            assert inner.read(10, timeout=5.0) == b""  # clean or ragged EOF
            assert inner._recv_into(memoryview(buffer), 5.0) == 0
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
