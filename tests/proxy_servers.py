"""Real proxy servers on loopback for the proxy tests, and their pytest fixtures.

The fixtures are in ``tests/conftest_proxy_servers.py``: load them with
``pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers"]``.

* :class:`PProxyServer` -- the third-party ``pproxy`` (PyPI) in a subprocess: an HTTP
  proxy (forwarding and CONNECT), SOCKS4 and SOCKS5 on one port, optionally with
  credentials (``#user:pass``: HTTP 407 / SOCKS5 username/password), over TLS
  (``http+ssl``) or with a block rule. Started by ``python -m pproxy``, stopped by PID.
* :class:`TCPRelay` -- relays each client to a target (host, port), counting the
  connections and recording each client's address (what a server or proxy behind it
  sees), listening on TCP or on a Unix socket.
* :class:`SocksServer` -- a relaying SOCKS4 / SOCKS4a / SOCKS5 server written here for
  what pproxy does not do: SOCKS4a (pproxy takes the 0.0.0.x address literally),
  reply codes for refused targets and rejected credentials (pproxy just closes), and a
  record of what address form each client sent (to tell ``socks5`` from ``socks5h``).

Both relay to the real origin servers of ``tests.conftest_servers`` (uvicorn, TLS with
trustme). Every loop and wait is bounded; every socket is closed at stop.
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import typing
from dataclasses import dataclass, field


HOST = "127.0.0.1"
STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
PROXY_USER = "proxyuser"
PROXY_PASSWORD = "s3cret"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, deadline: float, process: subprocess.Popen[bytes]) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"pproxy exited during startup with code {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("pproxy did not start listening in time") from None
            time.sleep(0.02)


# ``python -m pproxy`` with uvloop hidden: pproxy calls uvloop.install() when it can import
# it, and with uvloop >= 0.22 (installed with the bench extra) its get_event_loop() then
# raises; the tests want pproxy on asyncio's own loop anyway.
_PPROXY_MAIN = (
    "import runpy, sys; sys.modules['uvloop'] = None; "
    "runpy.run_module('pproxy', run_name='__main__', alter_sys=True)"
)


class PProxyServer:
    """``pproxy`` listening on 127.0.0.1:<port> with ``protocols`` (e.g.
    ``"http+socks4+socks5"`` or ``"http+ssl"``); ``auth`` ``"user:pass"``; ``pem`` a
    certificate + key file for ``+ssl``; ``block`` a regex of target hosts refused."""

    def __init__(
        self,
        protocols: str,
        *,
        auth: str | None = None,
        pem: str | None = None,
        block: str | None = None,
    ) -> None:
        self.protocols = protocols
        self.auth = auth
        self.pem = pem
        self.block = block
        self.host = HOST
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    def url(self, scheme: str) -> str:
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> PProxyServer:
        for _attempt in range(3):  # the free port may be taken in between: try again
            self.port = _free_port()
            listen = f"{self.protocols}://{HOST}:{self.port}/"
            if self.auth:
                listen += f"#{self.auth}"
            args = [sys.executable, "-c", _PPROXY_MAIN, "-l", listen, "--auth=-1"]
            if self.pem:
                args += ["--ssl", self.pem]
            if self.block:
                args += ["-b", "{" + self.block + "}"]
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log
            )
            try:
                _wait_listening(self.port, time.monotonic() + STARTUP_TIMEOUT, self._process)
                return self
            except RuntimeError:
                self._stop_process()
        self._log.seek(0)
        raise RuntimeError(f"pproxy failed to start: {self._log.read().decode()[-2000:]}")

    def _stop_process(self) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:  # pragma: no cover - hung pproxy
                process.kill()
                process.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        self._stop_process()
        self._log.close()

    def __enter__(self) -> PProxyServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------
# A relaying SOCKS4 / SOCKS4a / SOCKS5 server


@dataclass
class SocksRequest:
    """What one client asked for: ``version`` 4 or 5, ``address_type`` (``"ipv4"``,
    ``"ipv6"``, ``"domain"``), ``host`` as sent, ``port``, ``user`` (SOCKS5 username or
    SOCKS4 user id)."""

    version: int
    address_type: str
    host: str
    port: int
    user: bytes = b""


@dataclass
class SocksRules:
    users: dict[bytes, bytes] | None = None  # SOCKS5 username -> password; None: no auth
    refuse_hosts: dict[str, int] = field(default_factory=dict)  # host as sent -> reply code
    close_after_connect: bool = False  # accept the CONNECT, then drop the connection


_R = typing.TypeVar("_R", bound="RelayingServer")


class RelayingServer:
    """Accepts on 127.0.0.1:<port> (or on the Unix socket ``uds_path``) and serves each
    client in its own thread with ``_serve(client, peer)``; ``peers`` records the address
    each client connected from, in arrival order. ``with`` starts and stops it; every
    wait is bounded and every socket is closed at stop."""

    def __init__(self, *, uds_path: str | None = None) -> None:
        self.host = HOST
        if uds_path is None:
            self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((HOST, 0))
            self.port: int = self._listener.getsockname()[1]
        else:
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(uds_path)
            self.port = 0
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.peers: list[typing.Any] = []
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)

    def url(self, scheme: str) -> str:
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def accepted(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return len(self.peers)

    def start(self: _R) -> _R:
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._accept_thread.join(STOP_TIMEOUT)
        with self._lock:
            threads = list(self._threads)
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(STOP_TIMEOUT)
        for sock in sockets:
            sock.close()
        self._listener.close()

    def __enter__(self: _R) -> _R:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
        return sock

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # pragma: no cover - listener closed under us
                return
            self._track(sock)
            thread = threading.Thread(target=self._serve_safely, args=(sock,), daemon=True)
            with self._lock:
                self.peers.append(peer)
                self._threads.append(thread)
            thread.start()

    def _serve_safely(self, client: socket.socket) -> None:
        client.settimeout(0.05)
        try:
            self._serve(client)
        except (ConnectionError, OSError):
            pass
        except BaseException as exc:  # recorded; the fixture fails the test with it
            self.errors.append(exc)

    def _serve(self, client: socket.socket) -> None:
        raise NotImplementedError

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        """Copy bytes both ways until both sides are done (or the server stops)."""
        upstream.settimeout(0.05)
        peers = {client: upstream, upstream: client}
        open_ends = {client, upstream}
        while open_ends and not self.stopping.is_set():
            readable, _, _ = select.select(list(open_ends), [], [], 0.05)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    data = b""
                if data:
                    peers[sock].sendall(data)
                else:
                    open_ends.discard(sock)
                    with contextlib.suppress(OSError):
                        peers[sock].shutdown(socket.SHUT_WR)
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class TCPRelay(RelayingServer):
    """Relays every client to ``target`` = (host, port): a counting, address-recording
    stand-in in front of any server or proxy (``accepted``, ``peers``)."""

    def __init__(self, target: tuple[str, int], *, uds_path: str | None = None) -> None:
        super().__init__(uds_path=uds_path)
        self.target = target

    def _serve(self, client: socket.socket) -> None:
        upstream = self._track(socket.create_connection(self.target, timeout=2.0))
        self._relay(client, upstream)


class SocksServer(RelayingServer):
    """SOCKS4, SOCKS4a and SOCKS5 (no-auth or username/password) CONNECT, relaying to the
    target; ``rules`` refuse hosts with a given reply code. ``requests`` records every
    request in arrival order."""

    def __init__(self, rules: SocksRules | None = None) -> None:
        super().__init__()
        self.rules = rules or SocksRules()
        self.requests: list[SocksRequest] = []

    # -- one client

    def _recv_exactly(self, sock: socket.socket, size: int) -> bytes:
        data = b""
        deadline = time.monotonic() + 5.0
        while len(data) < size:
            if self.stopping.is_set() or time.monotonic() > deadline:
                raise ConnectionError("stopped or timed out")
            try:
                chunk = sock.recv(size - len(data))
            except TimeoutError:
                continue
            if not chunk:
                raise ConnectionError("client closed")
            data += chunk
        return data

    def _recv_until_nul(self, sock: socket.socket) -> bytes:
        data = b""
        for _ in range(256):
            byte = self._recv_exactly(sock, 1)
            if byte == b"\x00":
                return data
            data += byte
        raise ConnectionError("field too long")

    def _serve(self, client: socket.socket) -> None:
        version = self._recv_exactly(client, 1)[0]
        if version == 5:
            target = self._socks5(client)
        elif version == 4:
            target = self._socks4(client)
        else:
            return
        if target is not None:
            self._relay(client, target)

    def _connect_target(self, host: str, port: int) -> socket.socket | None:
        try:
            upstream = socket.create_connection((host, port), timeout=2.0)
        except OSError:
            return None
        return self._track(upstream)

    def _socks5(self, client: socket.socket) -> socket.socket | None:
        rules = self.rules
        methods = self._recv_exactly(client, self._recv_exactly(client, 1)[0])
        user = b""
        if rules.users is None:
            if 0 not in methods:
                client.sendall(b"\x05\xff")
                return None
            client.sendall(b"\x05\x00")
        else:
            if 2 not in methods:
                client.sendall(b"\x05\xff")
                return None
            client.sendall(b"\x05\x02")
            self._recv_exactly(client, 1)  # sub-negotiation version (RFC 1929)
            user = self._recv_exactly(client, self._recv_exactly(client, 1)[0])
            password = self._recv_exactly(client, self._recv_exactly(client, 1)[0])
            if rules.users.get(user) != password:
                client.sendall(b"\x01\x01")
                return None
            client.sendall(b"\x01\x00")
        _ver, command, _rsv, atype = self._recv_exactly(client, 4)
        if atype == 1:
            host = socket.inet_ntop(socket.AF_INET, self._recv_exactly(client, 4))
            kind = "ipv4"
        elif atype == 4:
            host = socket.inet_ntop(socket.AF_INET6, self._recv_exactly(client, 16))
            kind = "ipv6"
        else:
            host = self._recv_exactly(client, self._recv_exactly(client, 1)[0]).decode()
            kind = "domain"
        port = struct.unpack(">H", self._recv_exactly(client, 2))[0]
        self.requests.append(SocksRequest(5, kind, host, port, user))
        code = rules.refuse_hosts.get(host)
        if command != 1:
            code = 7
        upstream = None
        if code is None:
            upstream = self._connect_target(host, port)
            if upstream is None:
                code = 5
        if code is not None:
            client.sendall(b"\x05" + bytes([code]) + b"\x00\x01" + b"\x00" * 6)
            return None
        client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton(HOST) + struct.pack(">H", 0))
        if rules.close_after_connect:
            return None
        return upstream

    def _socks4(self, client: socket.socket) -> socket.socket | None:
        command, port = struct.unpack(">BH", self._recv_exactly(client, 3))
        address = self._recv_exactly(client, 4)
        user = self._recv_until_nul(client)
        if address[:3] == b"\x00\x00\x00" and address[3] != 0:  # SOCKS4a
            host = self._recv_until_nul(client).decode()
            kind = "domain"
        else:
            host = socket.inet_ntoa(address)
            kind = "ipv4"
        self.requests.append(SocksRequest(4, kind, host, port, user))
        code = self.rules.refuse_hosts.get(host)
        upstream = None
        if code is None and command == 1:
            upstream = self._connect_target(host, port)
        if upstream is None:
            client.sendall(b"\x00" + bytes([code or 0x5B]) + b"\x00" * 6)
            return None
        client.sendall(b"\x00\x5a" + struct.pack(">H", port) + address)
        return upstream


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


__all__ = [
    "PROXY_PASSWORD",
    "PROXY_USER",
    "PProxyServer",
    "SocksRequest",
    "SocksRules",
    "SocksServer",
    "TCPRelay",
    "is_ip",
]
