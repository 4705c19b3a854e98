"""The origin rules of ``httpcore_fast/_core/origin.py``: the one default-port table, the
scheme sets each use takes from it, and every place they show, checked against httpcore
1.0.9 itself (no sockets: the pools run on mock backends)."""

from __future__ import annotations

import typing

import httpcore
import pytest

import httpcore_fast
from httpcore_fast import _models
from httpcore_fast._async import http11 as async_http11
from httpcore_fast._core import origin
from httpcore_fast._sync import http11 as sync_http11

OK = [b"HTTP/1.1 204 No Content\r\n\r\n"]
# Every scheme of the table, one httpcore knows nowhere, and no scheme at all.
SCHEMES = [*origin.DEFAULT_PORTS, b"gopher", b""]


def test_the_one_table() -> None:
    assert origin.DEFAULT_PORTS == {
        b"http": 80,
        b"https": 443,
        b"ws": 80,
        b"wss": 443,
        b"ftp": 21,
        b"socks5": 1080,
        b"socks5h": 1080,
        b"socks4": 1080,
        b"socks4a": 1080,
    }
    # Each use is a set of schemes with the table's ports (never a port of its own).
    uses = {
        "request": (origin.REQUEST_PORTS, {b"http", b"https", b"ws", b"wss"}),
        "host": (origin.HOST_HEADER_PORTS, {b"http", b"https", b"ws", b"wss", b"ftp"}),
        "url": (origin.URL_ORIGIN_PORTS, {b"http", b"https", b"ws", b"wss", b"socks5", b"socks5h"}),
        "socks": (origin.SOCKS_PORTS, {b"socks5", b"socks5h", b"socks4", b"socks4a"}),
    }
    for name, (ports, schemes) in uses.items():
        assert set(ports) == schemes, name
        assert all(ports[scheme] == origin.DEFAULT_PORTS[scheme] for scheme in schemes), name
    assert set(origin.REQUEST_SCHEMES) == set(origin.REQUEST_PORTS)
    assert origin.TLS_SCHEMES == (b"https", b"wss")


def test_one_port_table_under_httpcores_name() -> None:
    """``_models.DEFAULT_PORTS`` (httpcore's name) is the origin table's Host-header view;
    the connections import the origin rules from ``_core.origin`` and re-export nothing."""
    assert _models.DEFAULT_PORTS is origin.HOST_HEADER_PORTS
    for module in (async_http11, sync_http11):
        assert "DEFAULT_PORTS" not in vars(module)


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.decode() or "none")
def test_url_origin_as_httpcore(scheme: bytes) -> None:
    """``URL.origin``: the default port for http(s), ws(s), socks5(h); ``KeyError`` for
    every other scheme, socks4 and socks4a included (httpcore's table lacks them)."""
    for port in (None, 8080):
        ours = httpcore_fast.URL(scheme=scheme, host=b"example.com", port=port, target=b"/")
        theirs = httpcore.URL(scheme=scheme, host=b"example.com", port=port, target=b"/")
        try:
            expected = str(theirs.origin)
        except KeyError as exc:
            with pytest.raises(KeyError) as info:
                ours.origin
            assert info.value.args == exc.args
        else:
            assert str(ours.origin) == expected
            assert (port or origin.URL_ORIGIN_PORTS[scheme]) == ours.origin.port


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.decode() or "none")
def test_host_header_as_httpcore(scheme: bytes) -> None:
    """``Host`` leaves out the port only when it is the scheme's default (ftp included,
    socks not: httpcore's table)."""
    ports = {None, 1, *origin.DEFAULT_PORTS.values()}
    for port in sorted(ports, key=lambda p: -1 if p is None else p):
        kwargs: dict[str, typing.Any] = {"scheme": scheme, "host": b"h", "port": port}
        ours = _models.include_request_headers(
            [], url=httpcore_fast.URL(**kwargs, target=b"/"), content=None
        )
        theirs = httpcore._models.include_request_headers(
            [], url=httpcore.URL(**kwargs, target=b"/"), content=None
        )
        assert ours == theirs, port
        default = origin.HOST_HEADER_PORTS.get(scheme)
        assert ours[0][1] == (b"h" if port in (None, default) else b"h:%d" % port)


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.decode() or "none")
def test_request_schemes_as_httpcore(scheme: bytes) -> None:
    """A pool sends requests to http(s) and ws(s) URLs only; httpcore's messages."""
    url = scheme + b"://example.com/" if scheme else b"//example.com/"

    def outcome(lib: typing.Any) -> str:
        with lib.ConnectionPool(network_backend=lib.MockBackend(list(OK))) as pool:
            try:
                return f"{pool.request('GET', url).status}"
            except lib.UnsupportedProtocol as exc:
                return f"UnsupportedProtocol: {exc}"

    expected = outcome(httpcore)
    assert outcome(httpcore_fast) == expected
    assert (expected == "204") == (scheme in origin.REQUEST_SCHEMES)
    if scheme not in origin.REQUEST_SCHEMES:
        assert expected == f"UnsupportedProtocol: {origin.unsupported_scheme(scheme)}"


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://example.com/", True),  # 443 implied
        ("https://example.com:443/", True),
        ("https://example.com:8443/", False),
        ("http://example.com:443/", False),  # the scheme differs
        ("https://other.com/", False),
        ("wss://example.com/", False),
    ],
)
def test_same_origin(url: str, same: bool) -> None:
    target = httpcore_fast.Origin(b"https", b"example.com", 443)
    assert origin.same_origin(httpcore_fast.URL(url), target) is same
    if same:
        origin.check_origin(httpcore_fast.URL(url), target)
        return
    with pytest.raises(RuntimeError) as info:
        origin.check_origin(httpcore_fast.URL(url), target)
    parsed = httpcore_fast.URL(url)
    assert str(info.value) == (
        f"Attempted to send request to {parsed.origin} on connection to "
        "https://example.com:443"
    )


def test_same_origin_default_ports_of_every_request_scheme() -> None:
    for scheme, port in origin.REQUEST_PORTS.items():
        url = httpcore_fast.URL(scheme=scheme, host=b"h", target=b"/")
        assert origin.same_origin(url, httpcore_fast.Origin(scheme, b"h", port))
        assert not origin.same_origin(url, httpcore_fast.Origin(scheme, b"h", port + 1))


def test_a_connection_refuses_another_origin_as_httpcore() -> None:
    """The message as httpcore words it, from a connection of each library."""
    messages = []
    for lib in (httpcore, httpcore_fast):
        connection = lib.HTTPConnection(
            origin=lib.Origin(b"https", b"example.com", 443),
            network_backend=lib.MockBackend(list(OK)),
        )
        with pytest.raises(RuntimeError) as info:
            connection.request("GET", "https://example.com:8443/")
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (b"example.com", b"example.com:443"),
        (b"127.0.0.1", b"127.0.0.1:443"),
        (b"::1", b"[::1]:443"),
        (b"2001:db8::2", b"[2001:db8::2]:443"),
    ],
)
def test_connect_authority(host: bytes, expected: bytes) -> None:
    """RFC 9110 §9.3.6: CONNECT's target is ``host:port``, an IPv6 literal bracketed."""
    assert origin.authority(host, 443) == expected


def test_unsupported_scheme_messages() -> None:
    assert str(origin.unsupported_scheme(b"")) == (
        "Request URL is missing an 'http://' or 'https://' protocol."
    )
    assert str(origin.unsupported_scheme(b"ftp")) == (
        "Request URL has an unsupported protocol 'ftp://'."
    )
    assert isinstance(origin.unsupported_scheme(b"ftp"), httpcore_fast.UnsupportedProtocol)
