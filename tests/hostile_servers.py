"""A loopback HTTP/1.1 server that misbehaves on request, for the fault and soak tests.

:class:`HostileServer` listens on 127.0.0.1 (an ephemeral port, kept across
:meth:`HostileServer.restart`), runs one thread per accepted connection and answers
``GET /r/<id>/<action>`` (requests carry no body) as ``<action>`` says:

==================  ==================================================================
``ok``              200, Content-Length body :func:`body_for` ``(id)``; keep-alive
``chunked``         the same body, chunked (three chunks) with a trailer
``idle-close``      a whole response, then the server closes the idle connection (FIN)
``close-before``    reads the request and closes without answering
``close-mid-head``  half a head, then closes
``close-mid-body``  the head and half the body, then closes
``close-mid-chunk`` the head and one chunk of a chunked body, then closes
``rst-mid-body``    the head and half the body, then a reset (``SO_LINGER`` 0)
``rst-before``      reads the request and resets the connection
``extra-bytes``     a whole response followed by bytes nobody asked for; the server
                    keeps the connection open and records a violation if another
                    request arrives on it (the client must never reuse it)
==================  ==================================================================

Everything is recorded: connections accepted, ``(connection, id, action)`` per request,
and ``violations``. :meth:`HostileServer.restart` closes every connection (with FIN, or
with RST when ``reset=True``) and the listener, then listens again on the same port: a
server restart as seen by a pool holding idle connections.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

HOST = "127.0.0.1"
POLL = 0.05  # seconds between checks of the stop flag while blocked
SHUTDOWN_TIMEOUT = 10.0
ACTIONS = (
    "ok", "chunked", "idle-close", "close-before", "close-mid-head", "close-mid-body",
    "close-mid-chunk", "rst-mid-body", "rst-before", "extra-bytes",
)  # fmt: skip
# actions after which the request fails on the client
FAILING = frozenset({
    "close-before", "close-mid-head", "close-mid-body", "close-mid-chunk", "rst-mid-body",
    "rst-before",
})  # fmt: skip


def body_for(request_id: int) -> bytes:
    """The body answering request ``request_id`` (its id repeated: misrouted bytes show)."""
    return b"<%d>" % request_id * (1 + request_id % 7) + b"end"


def path_for(request_id: int, action: str) -> str:
    return f"/r/{request_id}/{action}"


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP RST instead of a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class _Generation:
    """One run of the server between restarts: a listener and its connections."""

    def __init__(self, server: HostileServer, port: int) -> None:
        self.server = server
        self.stopping = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, port))
        self.listener.listen(128)
        self.listener.settimeout(POLL)
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.accept_thread = threading.Thread(target=self._accept, daemon=True)
        self.accept_thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # pragma: no cover - listener closed under us
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(POLL)
            with self.lock:
                index = self.server._next_connection()
                thread = threading.Thread(target=self._serve, args=(sock, index), daemon=True)
                self.sockets.append(sock)
                self.threads.append(thread)
            thread.start()

    def _read_head(self, sock: socket.socket, buffer: bytearray) -> bytes | None:
        """One request head (None when the client closed or the server stops)."""
        while b"\r\n\r\n" not in buffer:
            if self.stopping.is_set():
                return None
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return None
            if not data:
                return None
            buffer += data
        end = buffer.index(b"\r\n\r\n") + 4
        head = bytes(buffer[:end])
        del buffer[:end]
        return head

    def _serve(self, sock: socket.socket, index: int) -> None:
        server = self.server
        buffer = bytearray()
        closed = False
        try:
            for _ in range(100_000):  # bounded: one request per iteration
                head = self._read_head(sock, buffer)
                if head is None:
                    return
                target = head.split(b" ", 2)[1].decode("latin-1")
                parts = target.split("/")
                if len(parts) != 4 or parts[1] != "r" or parts[3] not in ACTIONS:
                    server._violation(f"connection {index}: unexpected request {head!r}")
                    return
                request_id, action = int(parts[2]), parts[3]
                server._record(index, request_id, action)
                if server._tainted(index):
                    server._violation(
                        f"connection {index} reused after unsolicited bytes (request {request_id})"
                    )
                closed = self._answer(sock, index, request_id, action)
                if closed:
                    return
        except OSError:
            return
        finally:
            if not closed:
                with contextlib.suppress(OSError):
                    sock.close()

    def _answer(self, sock: socket.socket, index: int, request_id: int, action: str) -> bool:
        """Send what ``action`` says; True if the connection was closed."""
        body = body_for(request_id)
        half = len(body) // 2
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
        chunked_head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunks = [body[:half], body[half:-1], body[-1:]]
        if action == "extra-bytes":
            # in the same send: the client has them when the response ends (bytes sent
            # later could reach a client that already reused the connection, on any client)
            self.server._taint(index)
            sock.sendall(head + body + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            return False
        if action in ("ok", "idle-close"):
            sock.sendall(head + body)
            if action == "idle-close":
                sock.close()
                return True
            return False
        if action == "chunked":
            sock.sendall(
                chunked_head
                + b"".join(b"%x\r\n%b\r\n" % (len(c), c) for c in chunks)
                + b"0\r\nX-Id: %d\r\n\r\n" % request_id
            )
            return False
        if action == "close-mid-head":
            sock.sendall(head[: len(head) // 2])
        elif action in ("close-mid-body", "rst-mid-body"):
            sock.sendall(head + body[:half])
        elif action == "close-mid-chunk":
            sock.sendall(chunked_head + b"%x\r\n%b\r\n" % (half, chunks[0]))
        if action.startswith("rst-"):
            if action == "rst-mid-body":
                time.sleep(0.002)  # let the partial body reach the client first
            _reset(sock)
        else:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        return True

    def stop(self, reset: bool = False) -> None:
        self.stopping.set()
        self.accept_thread.join(SHUTDOWN_TIMEOUT)
        with self.lock:
            sockets = list(self.sockets)
            threads = list(self.threads)
        for sock in sockets:  # wake the threads at once; the client sees FIN or RST
            if reset:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD if reset else socket.SHUT_RDWR)
        for thread in threads:
            thread.join(SHUTDOWN_TIMEOUT)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self.listener.close()


class HostileServer:
    """See the module docstring. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self.accepted = 0
        self.restarts = 0
        self.requests: list[tuple[int, int, str]] = []  # (connection, id, action)
        self.violations: list[str] = []
        self._lock = threading.Lock()
        self._tainted_connections: set[int] = set()
        self._generation: _Generation | None = None

    # called from the connection threads
    def _next_connection(self) -> int:
        with self._lock:
            self.accepted += 1
            return self.accepted - 1

    def _record(self, index: int, request_id: int, action: str) -> None:
        with self._lock:
            self.requests.append((index, request_id, action))

    def _violation(self, message: str) -> None:
        with self._lock:
            self.violations.append(message)

    def _taint(self, index: int) -> None:
        with self._lock:
            self._tainted_connections.add(index)

    def _tainted(self, index: int) -> bool:
        with self._lock:
            return index in self._tainted_connections

    # public
    def url(self, request_id: int, action: str = "ok") -> str:
        return f"http://{HOST}:{self.port}{path_for(request_id, action)}"

    def connections_of(self, request_ids: set[int]) -> set[int]:
        """The server-side connection indexes that carried these requests."""
        with self._lock:
            return {conn for conn, rid, _ in self.requests if rid in request_ids}

    def start(self) -> HostileServer:
        self._generation = _Generation(self, self.port)
        self.port = self._generation.port
        return self

    def restart(self, *, reset: bool = False) -> None:
        """Close every connection (FIN, or RST with ``reset``) and the listener, then
        listen again on the same port."""
        assert self._generation is not None
        self._generation.stop(reset=reset)
        self.restarts += 1
        self._generation = _Generation(self, self.port)

    def stop(self) -> None:
        if self._generation is not None:
            self._generation.stop()
            self._generation = None

    def __enter__(self) -> HostileServer:  # noqa: PYI034 - never subclassed
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
