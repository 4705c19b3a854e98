"""The private parts of h2 and hpack that the HTTP/2 framing layer relies on, checked once
per process (``_core.http2_framing.h2_hooks``): with the installed versions every hook is
there; a hook that a release renames turns its feature off (plain h2/hpack behaviour) with
one ``RuntimeWarning`` naming it and the installed version, and requests still work.

A rename is simulated on h2's or hpack's own classes with ``monkeypatch``: an instance
attribute becomes a property stored under another name (h2/hpack keep working, the
attribute is no longer where we look), a method is deleted and h2's dispatch pointed at
the same code under a new name.
"""

from __future__ import annotations

import typing

import anyio
import h2
import h2.connection
import hpack
import hpack.table
import pytest

import httpcore_fast as httpcore
from httpcore_fast._backends.auto import AutoBackend
from httpcore_fast._core import http2_framing
from httpcore_fast._core.http2_framing import H2Framing, H2GoawayFraming, h2_hooks
from httpcore_fast._core.http2_hpack import Decoder, Encoder, LimitDecoder
from tests.async_servers import anyio_backend  # noqa: F401 - asyncio and trio

if typing.TYPE_CHECKING:
    from tests.h2_servers import H2Server

pytest_plugins = ["tests.h2_servers"]
# These tests are about h2 and hpack (our hooks into them): h2 even with the Cython kernel.
pytestmark = [pytest.mark.network, pytest.mark.usefixtures("h2_only")]

H2Connection = h2.connection.H2Connection
HeaderTable = hpack.table.HeaderTable


@pytest.fixture
def fresh_hooks() -> typing.Iterator[None]:
    """The hooks are checked again in this test, and again after it (with h2 and hpack
    as installed: no warning)."""
    http2_framing.check_h2_hooks_once.cache_clear()
    yield
    http2_framing.check_h2_hooks_once.cache_clear()


def rename_attribute(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> None:
    """``cls`` instances keep ``name`` working, stored as ``_renamed_<name>``: as if a
    release had renamed the attribute (``vars(instance)`` no longer has ``name``)."""
    key = f"_renamed_{name}"

    def get(self: typing.Any) -> typing.Any:
        return self.__dict__[key]

    def set_(self: typing.Any, value: typing.Any) -> None:
        self.__dict__[key] = value

    monkeypatch.setattr(cls, name, property(get, set_), raising=False)


def recording(encoder: typing.Any) -> list[tuple[list[typing.Any], bool, bytes]]:
    """Record every header block ``encoder`` codes: ``(headers, huffman, block)``."""
    calls: list[tuple[list[typing.Any], bool, bytes]] = []
    encode = encoder.encode

    def record(headers: typing.Any, huffman: bool = True) -> bytes:
        block: bytes = encode(headers, huffman)
        calls.append((list(headers), huffman, block))
        return block

    encoder.encode = record
    return calls


def assert_same_blocks_as_hpack(calls: list[tuple[list[typing.Any], bool, bytes]]) -> None:
    reference = hpack.Encoder()
    assert calls
    for headers, huffman, block in calls:
        assert reference.encode(headers, huffman) == block


async def requests_work(server: H2Server) -> httpcore.AsyncHTTP2Connection:
    """Concurrent and repeated requests (the dynamic table in use) on one connection
    (checking the hooks when it is made), their fields decoded by the server as sent, and
    every header block equal to hpack's own. Returns the connection (closed)."""
    stream = await AutoBackend().connect_tcp("127.0.0.1", server.port, timeout=5)
    origin = httpcore.Origin(b"http", b"127.0.0.1", server.port)
    connection = httpcore.AsyncHTTP2Connection(origin, stream)
    calls = recording(connection._core.framing.encoder)
    headers = [(b"x-repeated", b"a value for the dynamic table")]

    async def fetch(i: int) -> None:
        response = await connection.request("GET", server.url(f"/{i}"), headers=headers)
        assert response.content == f"path=/{i}".encode()

    async with connection:
        async with anyio.create_task_group() as tg:
            for i in range(5):
                tg.start_soon(fetch, i)
        for i in range(5, 10):
            await fetch(i)
    assert (b"x-repeated", b"a value for the dynamic table") in server.request_fields["/9"]
    assert server.connections == 1
    assert_same_blocks_as_hpack(calls)
    return connection


def test_installed_versions_have_every_hook(fresh_hooks: None) -> None:
    hooks = h2_hooks()  # warnings are errors here
    assert hooks.state_class is H2GoawayFraming
    assert hooks.codec == (Encoder, Decoder)
    assert hooks.peek is True
    assert h2_hooks() is hooks  # checked once


@pytest.mark.anyio
async def test_with_every_hook_blocks_equal_hpacks(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    connection = await requests_work(server)
    assert type(connection._core.framing.encoder) is Encoder


@pytest.mark.anyio
async def test_goaway_hook_renamed(
    h2_server: typing.Any, fresh_hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """h2 dispatches GOAWAY frames to a method of another name: no override (plain h2: a
    GOAWAY closes its state machine, so a stream it promised to finish fails)."""
    original = H2Connection._receive_goaway_frame
    monkeypatch.delattr(H2Connection, "_receive_goaway_frame")
    monkeypatch.setattr(H2Connection, "_on_goaway", original, raising=False)
    init = H2Connection.__init__

    def renamed_init(self: typing.Any, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._receive_goaway_frame = self._on_goaway  # what h2's dispatch table names
        init(self, *args, **kwargs)
        del self.__dict__["_receive_goaway_frame"]

    monkeypatch.setattr(H2Connection, "__init__", renamed_init)
    server: H2Server = h2_server()
    with pytest.warns(RuntimeWarning) as record:
        connection = await requests_work(server)
    assert len(record) == 1
    message = str(record[0].message)
    assert "_receive_goaway_frame" in message and f"h2 {h2.__version__}" in message
    assert type(connection._core.framing) is H2Framing
    # A sync connection uses the same check: no second warning.
    with httpcore.ConnectionPool(http1=False, http2=True) as sync_pool:
        assert sync_pool.request("GET", server.url("/sync")).content == b"path=/sync"

    goaway_server: H2Server = h2_server(goaway_every=2)
    async with httpcore.AsyncConnectionPool(http1=False, http2=True) as pool:
        assert (await pool.request("GET", goaway_server.url("/1"))).status == 200
        with pytest.raises(httpcore.RemoteProtocolError):
            await pool.request("GET", goaway_server.url("/2"))  # GOAWAY, then its response
        assert (await pool.request("GET", goaway_server.url("/3"))).status == 200
    assert goaway_server.connections == 2


@pytest.mark.anyio
async def test_data_to_send_renamed(
    h2_server: typing.Any, fresh_hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    rename_attribute(monkeypatch, H2Connection, "_data_to_send")
    server: H2Server = h2_server()
    with pytest.warns(RuntimeWarning, match=f"h2 {h2.__version__} lacks .*_data_to_send"):
        connection = await requests_work(server)
    assert connection._core.framing._peek is False


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["_maxsize", "dynamic_entries", "resized"])
async def test_hpack_table_attribute_renamed(
    h2_server: typing.Any, fresh_hooks: None, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """No block caches: hpack's own encoder, and the decoder that only bounds header
    lists; the bytes are hpack's."""
    rename_attribute(monkeypatch, HeaderTable, name)
    server: H2Server = h2_server()
    with pytest.warns(RuntimeWarning, match=f"hpack {hpack.__version__} lacks .*{name}"):
        connection = await requests_work(server)
    assert type(connection._core.framing.encoder) is hpack.Encoder
    assert type(connection._core.framing.decoder) is LimitDecoder


def test_hpack_table_no_longer_calls_add(
    fresh_hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hpack still has ``HeaderTable.add`` but adds entries another way: the caches
    would miss table changes, and the probe sees it."""
    add = HeaderTable.add

    def add_elsewhere(self: typing.Any, name: bytes, value: bytes) -> None:
        add(self, name, value)  # hpack's code, not a subclass's override

    def encode_literal(self: typing.Any, *args: typing.Any, **kwargs: typing.Any) -> bytes:
        self.header_table.add = add_elsewhere.__get__(self.header_table)
        return original_add_literal(self, *args, **kwargs)

    original_add_literal = hpack.Encoder.add
    monkeypatch.setattr(hpack.Encoder, "add", encode_literal)
    with pytest.warns(RuntimeWarning, match="HeaderTable.add"):
        hooks = h2_hooks()
    assert hooks.codec == (hpack.Encoder, LimitDecoder)


@pytest.mark.anyio
async def test_h2_coders_renamed(
    h2_server: typing.Any, fresh_hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """h2 keeps its coders elsewhere: its own are used, and a header list over the
    advertised size fails the connection, as in plain h2."""
    rename_attribute(monkeypatch, H2Connection, "encoder")
    server: H2Server = h2_server()
    with pytest.warns(RuntimeWarning, match="H2Connection.encoder"):
        await requests_work(server)
    big_server: H2Server = h2_server()
    async with httpcore.AsyncConnectionPool(http1=False, http2=True) as pool:
        await pool.request("GET", big_server.url("/warm-up"))
        with pytest.raises(httpcore.RemoteProtocolError):
            await pool.request("GET", big_server.url("/big-head/70000"))
        assert pool.connections == []  # the failed connection is gone
