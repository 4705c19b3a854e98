"""Which HTTP/2 layer a connection gets (``_core.http2_framing.h2_layer``): the native
framing layer by default, h2 and hpack with ``HTTPCORE_FAST_H2_NATIVE=h2`` (or ``0``), the
native HPACK coders under h2 with ``HTTPCORE_FAST_H2_NATIVE=hpack``, each native choice
only with the Cython kernel active; h2 and hpack otherwise. Requests over a loopback h2 server with each (header blocks equal to hpack's,
the dynamic table in use, limits as on the h2 path).
"""

from __future__ import annotations

import typing

import hpack
import pytest

import httpcore_fast as httpcore
from httpcore_fast import _kernel
from httpcore_fast._backends.auto import AutoBackend
from httpcore_fast._core import http2_framing
from httpcore_fast._core.http2_framing import (
    NATIVE_ENV,
    h2_hooks,
    h2_layer,
    native_codec,
    native_framing,
)
from httpcore_fast._core.http2_hpack import DECODED_HEADER_LIST_FACTOR, Decoder, Encoder
from tests.async_servers import anyio_backend  # noqa: F401 - asyncio and trio
from tests.test_http2_hooks import requests_work

if typing.TYPE_CHECKING:
    from tests.h2_servers import H2Server

_h2_c = pytest.importorskip("httpcore_fast._h2_c", reason="the Cython build is required")

pytest_plugins = ["tests.h2_servers"]


@pytest.fixture
def cython_kernel() -> typing.Iterator[None]:
    previous = _kernel.kernel_name()
    _kernel.set_kernel("cython")
    yield
    _kernel.set_kernel(previous)


@pytest.fixture
def native(monkeypatch: pytest.MonkeyPatch, cython_kernel: None) -> None:
    monkeypatch.setenv(NATIVE_ENV, "hpack")


@pytest.fixture
def native_layer(monkeypatch: pytest.MonkeyPatch, cython_kernel: None) -> None:
    monkeypatch.setenv(NATIVE_ENV, "1")


def test_default_is_native(monkeypatch: pytest.MonkeyPatch, cython_kernel: None) -> None:
    monkeypatch.delenv(NATIVE_ENV, raising=False)
    assert native_codec() is None and native_framing() is _h2_c.CFraming
    assert h2_layer() == "native"
    assert type(h2_hooks().new_state()) is _h2_c.CFraming


@pytest.mark.parametrize("value", ["h2", "0"])
def test_h2_on_request(value: str, monkeypatch: pytest.MonkeyPatch, cython_kernel: None) -> None:
    monkeypatch.setenv(NATIVE_ENV, value)
    assert native_codec() is None and native_framing() is None
    assert h2_layer() == "h2"
    state = h2_hooks().new_state()
    assert type(state.encoder) is Encoder and type(state.decoder) is Decoder


def test_native_layer_asked_for(native_layer: None) -> None:
    assert h2_layer() == "native"
    assert native_codec() is None
    state = h2_hooks().new_state()
    assert type(state) is _h2_c.CFraming
    assert type(state.encoder) is _h2_c.Encoder


def test_native_layer_needs_the_cython_kernel(native_layer: None) -> None:
    _kernel.set_kernel("python")  # the fixture restores the kernel
    assert native_framing() is None
    assert h2_layer() == "h2"


def test_hpack_opt_in(native: None) -> None:
    assert h2_layer() == "native-hpack"
    state = h2_hooks().new_state()
    assert type(state.encoder) is _h2_c.Encoder and type(state.decoder) is _h2_c.Decoder
    # h2's default advertised size, decoded up to DECODED_HEADER_LIST_FACTOR times it.
    assert state.decoder.max_header_list_size == (
        hpack.Decoder().max_header_list_size * DECODED_HEADER_LIST_FACTOR
    )
    state.start(max_concurrent_streams=100, max_header_list_size=1000, window=2**16)
    assert state.decoder.max_header_list_size == 1000 * DECODED_HEADER_LIST_FACTOR


def test_python_kernel_keeps_h2(native: None) -> None:
    _kernel.set_kernel("python")  # the fixture restores the kernel
    assert native_codec() is None
    assert h2_layer() == "h2"


def test_no_extensions_keeps_h2(native: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http2_framing, "NO_EXTENSIONS", True)
    http2_framing._native_module.cache_clear()
    try:
        assert native_codec() is None and native_framing() is None
    finally:
        monkeypatch.undo()
        http2_framing._native_module.cache_clear()


def test_resync_with_native_encoder(native: None) -> None:
    """A write cut short: the next block empties both tables (0, then the size)."""
    state = h2_hooks().new_state()
    state.start(max_concurrent_streams=100, max_header_list_size=65536, window=2**16)
    state.data_to_send()
    fields = [(b":method", b"GET"), (b":path", b"/"), (b"x-a", b"1")]
    state.send_headers(1, fields, end_stream=True)
    state.data_to_send()
    state.resync_hpack()
    state.resync_hpack()  # pending already: nothing more
    state.send_headers(3, fields, end_stream=True)
    block = state.data_to_send()[9:]
    assert block.startswith(b"\x20\x3f\xe1\x1f\x82")  # size 0, size 4096, :method GET
    assert hpack.Decoder().decode(block, raw=True) == fields


@pytest.mark.anyio
@pytest.mark.network
async def test_requests_with_native_coders(h2_server: typing.Any, native: None) -> None:
    server: H2Server = h2_server()
    # Concurrent and repeated requests, every block equal to hpack's.
    connection = await requests_work(server)
    assert type(connection._core.framing.encoder) is _h2_c.Encoder
    stream = await AutoBackend().connect_tcp("127.0.0.1", server.port, timeout=5)
    origin = httpcore.Origin(b"http", b"127.0.0.1", server.port)
    limits = httpcore.ResponseLimits(max_head_size=4096)
    connection = httpcore.AsyncHTTP2Connection(origin, stream, limits=limits)
    async with connection:
        response = await connection.request(
            "GET", server.url("/fields/20"), headers=[(b"authorization", b"Bearer s")]
        )
        assert (b"x-f19", b"19") in response.headers
        # Over the advertised list size but within the factor: only the stream fails.
        with pytest.raises(httpcore.RemoteProtocolError, match="SETTINGS_MAX_HEADER_LIST"):
            await connection.request("GET", server.url("/big-head/6000"))
        response = await connection.request("GET", server.url("/trailers"))
        assert response.extensions["trailers"] == [(b"x-checksum", b"42")]
    assert server.connections == 2
    secret = [field for field in server.request_fields["/fields/20"]
              if field[0] == b"authorization"]
    assert type(secret[0]) is hpack.NeverIndexedHeaderTuple


@pytest.mark.anyio
@pytest.mark.network
async def test_requests_with_native_layer(h2_server: typing.Any, native_layer: None) -> None:
    server: H2Server = h2_server()
    connection = await requests_work(server)
    assert type(connection._core.framing) is _h2_c.CFraming
    stream = await AutoBackend().connect_tcp("127.0.0.1", server.port, timeout=5)
    origin = httpcore.Origin(b"http", b"127.0.0.1", server.port)
    limits = httpcore.ResponseLimits(max_head_size=4096)
    connection = httpcore.AsyncHTTP2Connection(origin, stream, limits=limits)
    async with connection:
        response = await connection.request("GET", server.url("/large/300000"))
        assert len(response.content) == 300000
        with pytest.raises(httpcore.RemoteProtocolError, match="SETTINGS_MAX_HEADER_LIST"):
            await connection.request("GET", server.url("/big-head/6000"))
        with pytest.raises(httpcore.RemoteProtocolError, match="StreamReset"):
            await connection.request("GET", server.url("/reset"))
        response = await connection.request("GET", server.url("/trailers"))
        assert response.extensions["trailers"] == [(b"x-checksum", b"42")]
        assert connection._h2_state.remote_settings.max_concurrent_streams == 100
