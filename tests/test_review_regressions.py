"""Regressions for what the library review found (mock backends: behaviour, not I/O)."""

from __future__ import annotations

import threading
import time
import typing

import pytest

import httpcore_fast
from httpcore_fast._limits import ResponseLimits

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_request_queued_when_the_pool_closes_is_served() -> None:
    """A request waiting for a slot when the pool is closed gets a fresh connection
    (as with httpcore) instead of waiting for a slot no closed connection gives back."""
    backend = httpcore_fast.MockBackend([OK])
    pool = httpcore_fast.ConnectionPool(max_connections=1, network_backend=backend)
    first = pool.handle_request(
        httpcore_fast.Request("GET", "http://a.com/", headers={"Host": "a.com"})
    )
    outcome: dict[str, typing.Any] = {}
    queued = threading.Event()

    def second() -> None:
        queued.set()
        try:
            outcome["status"] = pool.request(
                "GET", "http://a.com/", extensions={"timeout": {"pool": 5}}
            ).status
        except Exception as exc:  # pragma: no cover - the failure being guarded against
            outcome["status"] = repr(exc)

    thread = threading.Thread(target=second)
    thread.start()
    assert queued.wait(5)
    deadline = time.monotonic() + 5
    while "1 queued" not in repr(pool):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    pool.close()
    first.close()
    thread.join(10)
    assert not thread.is_alive()
    assert outcome["status"] == 200
    pool.close()


class _BrokenPipeStream(httpcore_fast.MockStream):
    """Accepts the request head, then fails writing the body (the server stopped reading)."""

    def __init__(self, buffer: list[bytes]) -> None:
        super().__init__(buffer)
        self.writes = 0

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.writes += 1
        if self.writes == 2:
            raise httpcore_fast.WriteError("broken pipe")


class _BrokenPipeBackend(httpcore_fast.MockBackend):
    def connect_tcp(self, *args: typing.Any, **kwargs: typing.Any) -> _BrokenPipeStream:
        return _BrokenPipeStream(list(self._buffer))


def test_early_response_to_a_partly_sent_body_is_read_but_not_reused() -> None:
    """A 413 read after a failed body write is returned, and the connection is closed:
    the server may still be expecting the rest of the body."""
    early = b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n"

    def body() -> typing.Iterator[bytes]:
        yield b"a" * 10
        yield b"b" * 10

    with httpcore_fast.ConnectionPool(network_backend=_BrokenPipeBackend([early])) as pool:
        response = pool.request(
            "POST", "http://a.com/", headers={"Content-Length": "20"}, content=body()
        )
        assert response.status == 413
        assert pool.connections == []


def test_http11_connection_from_an_http2_pool_is_listed_once() -> None:
    """A connection offered to others while it might turn out HTTP/2 is not listed
    twice once it is an idle HTTP/1.1 connection."""
    backend = httpcore_fast.MockBackend([OK, OK, OK])  # ALPN says http/1.1
    with httpcore_fast.ConnectionPool(http2=True, network_backend=backend) as pool:
        for _ in range(2):
            assert pool.request("GET", "https://example.com/").status == 200
        total = pool.stats().total
        assert (total.opened, total.reused, total.idle_connections) == (1, 1, 1)
        assert len(pool.connections) == 1


@pytest.mark.parametrize("proxy_url", ["http://proxy:8080", "socks5h://proxy:1080"])
@pytest.mark.parametrize("scheme", [b"http", b"https"])
def test_limits_reach_proxied_connections(proxy_url: str, scheme: bytes) -> None:
    """limits= applies behind proxies too (it bounds what the origin sends)."""
    limits = ResponseLimits(head_timeout=1.0)
    with httpcore_fast.ConnectionPool(
        proxy=httpcore_fast.Proxy(proxy_url), limits=limits
    ) as pool:
        connection = pool.create_connection(
            httpcore_fast.Origin(scheme, b"example.com", 443 if scheme == b"https" else 80)
        )
        # Forwarding: the plain connection to the proxy parses the origin's responses.
        # Tunnels and SOCKS: the connection parses them after the tunnel is set up.
        parser_owner = (
            connection._connection  # type: ignore[attr-defined]
            if type(connection).__name__ == "ForwardHTTPConnection"
            else connection
        )
        assert parser_owner._limits is limits


def test_tls_over_a_tunnel_refuses_bytes_that_came_before_it() -> None:
    """Bytes read past a CONNECT/101 response head cannot be fed to the TLS handshake:
    starting TLS then is a ProxyError, not a silent loss."""
    from httpcore_fast._sync.http11 import HTTP11UpgradeStream

    stream = HTTP11UpgradeStream(httpcore_fast.MockStream([]), b"early")
    with pytest.raises(httpcore_fast.ProxyError, match="5 bytes"):
        stream.start_tls(httpcore_fast.default_ssl_context(), "example.com")
    assert stream.read(100) == b"early"  # still there for a caller that wants them
    clean = HTTP11UpgradeStream(httpcore_fast.MockStream([]), b"")
    assert clean.start_tls(httpcore_fast.default_ssl_context(), "example.com") is not None
