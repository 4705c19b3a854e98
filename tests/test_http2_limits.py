"""``limits=`` on the HTTP/2 connection, against a hostile h2 server (asyncio, trio, sync).

What each ``ResponseLimits`` bound means for HTTP/2 is in ``AsyncHTTP2Connection``'s
docstring: the header list size is advertised (SETTINGS_MAX_HEADER_LIST_SIZE, RFC 9113
§6.5.2) and enforced per stream; field count and field size per header block; 1xx
responses counted; ``head_timeout`` a deadline for the response HEADERS. A block over a
bound fails its own request with ``RemoteProtocolError`` (RST_STREAM CANCEL) and the
connection goes on.
"""

from __future__ import annotations

import typing

import anyio
import pytest

import httpcore_fast as httpcore
from httpcore_fast._core.http2 import DECODED_HEADER_LIST_FACTOR, LOCAL_MAX_HEADER_LIST_SIZE
from httpcore_fast._backends.auto import AutoBackend
from httpcore_fast._backends.sync import SyncBackend
from httpcore_fast._limits import ResponseLimits
from tests.async_servers import anyio_backend  # noqa: F401 - asyncio and trio

if typing.TYPE_CHECKING:
    from tests.h2_servers import H2Server

pytest_plugins = ["tests.h2_servers"]
# Once per kernel: the Cython kernel brings the native HTTP/2 layer, the Python one h2.
pytestmark = [pytest.mark.network, pytest.mark.usefixtures("kernel")]

CANCEL = 0x8  # RST_STREAM error code (RFC 9113 §7)
SETTINGS_MAX_HEADER_LIST_SIZE = 0x6  # RFC 9113 §6.5.2


async def open_h2(
    server: H2Server, limits: ResponseLimits | None = None
) -> httpcore.AsyncHTTP2Connection:
    stream = await AutoBackend().connect_tcp("127.0.0.1", server.port, timeout=5)
    origin = httpcore.Origin(b"http", b"127.0.0.1", server.port)
    return httpcore.AsyncHTTP2Connection(origin, stream, limits=limits)


def open_h2_sync(server: H2Server, limits: ResponseLimits | None = None) -> httpcore.HTTP2Connection:
    stream = SyncBackend().connect_tcp("127.0.0.1", server.port, timeout=5)
    origin = httpcore.Origin(b"http", b"127.0.0.1", server.port)
    return httpcore.HTTP2Connection(origin, stream, limits=limits)


async def fails_alone(
    connection: httpcore.AsyncHTTP2Connection, server: H2Server, path: str, match: str
) -> None:
    """The request for ``path`` fails with ``RemoteProtocolError`` matching ``match``,
    and the connection takes the next one."""
    with pytest.raises(httpcore.RemoteProtocolError, match=match):
        await connection.request("GET", server.url(path))
    response = await connection.request("GET", server.url("/after"))
    assert response.content == b"path=/after"


@pytest.mark.anyio
@pytest.mark.parametrize(("limits", "advertised"), [
    (None, LOCAL_MAX_HEADER_LIST_SIZE),  # httpcore's 64 KiB
    (ResponseLimits(max_head_size=8000), 8000),
])
async def test_header_list_size_is_advertised(
    h2_server: typing.Any, limits: ResponseLimits | None, advertised: int
) -> None:
    server: H2Server = h2_server()
    async with await open_h2(server, limits) as connection:
        response = await connection.request("GET", server.url("/"))
        assert response.content == b"path=/"
    assert server.client_settings[0][SETTINGS_MAX_HEADER_LIST_SIZE] == advertised


@pytest.mark.anyio
@pytest.mark.parametrize(("limits", "size"), [
    (ResponseLimits(max_head_size=8000), 9000),
    (None, LOCAL_MAX_HEADER_LIST_SIZE + 1000),  # the default bound is per stream too
])
async def test_header_list_over_the_limit_fails_only_its_stream(
    h2_server: typing.Any, limits: ResponseLimits | None, size: int
) -> None:
    server: H2Server = h2_server()
    results: dict[str, object] = {}
    async with await open_h2(server, limits) as connection:
        await connection.request("GET", server.url("/warm-up"))  # SETTINGS exchanged

        async def big() -> None:
            with pytest.raises(httpcore.RemoteProtocolError) as info:
                await connection.request("GET", server.url(f"/big-head/{size}"))
            results["big"] = info.value

        async def other() -> None:
            results["other"] = (await connection.request("GET", server.url("/delay/200"))).content

        async with anyio.create_task_group() as tg:
            tg.start_soon(big)
            tg.start_soon(other)
        assert "SETTINGS_MAX_HEADER_LIST_SIZE" in str(results["big"])
        assert results["other"] == b"/delay/200"
        # The block was decoded (HPACK state kept): the connection goes on.
        response = await connection.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
        assert connection.is_available()
    assert server.connections == 1
    # The server had ended that stream: nothing to reset (RFC 9113 §5.1).
    assert server.reset_paths == []


@pytest.mark.anyio
async def test_header_list_beyond_the_decoding_bound_fails_the_connection(
    h2_server: typing.Any,
) -> None:
    server: H2Server = h2_server()
    limit = 8000
    async with await open_h2(server, ResponseLimits(max_head_size=limit)) as connection:
        await connection.request("GET", server.url("/warm-up"))
        size = limit * DECODED_HEADER_LIST_FACTOR + 1000
        with pytest.raises(httpcore.RemoteProtocolError):
            await connection.request("GET", server.url(f"/big-head/{size}"))
        assert not connection.is_available() and connection.has_expired()


@pytest.mark.anyio
async def test_field_count_and_field_size(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    limits = ResponseLimits(max_field_count=10, max_field_line_size=100)
    async with await open_h2(server, limits) as connection:
        response = await connection.request("GET", server.url("/fields/10"))
        assert response.content == b"fields"
        await fails_alone(connection, server, "/fields/11", "max_field_count")
        # "x-big: " + value: 7 + 93 = 100 bytes, as the HTTP/1.1 field line would be.
        response = await connection.request("GET", server.url("/big-head/93"))
        assert response.content == b"big"
        await fails_alone(connection, server, "/big-head/94", "max_field_line_size")
    assert server.connections == 1


@pytest.mark.anyio
async def test_informational_responses_are_counted(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    async with await open_h2(server, ResponseLimits(max_informational=2)) as connection:
        response = await connection.request("GET", server.url("/informational/2"))
        assert response.status == 200 and response.content == b"/informational/2"
        await fails_alone(connection, server, "/informational/3", "max_informational")
    assert server.connections == 1


@pytest.mark.anyio
async def test_trailers_are_bounded(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    async with await open_h2(server, ResponseLimits(max_trailer_size=100)) as connection:
        async with connection.stream("GET", server.url("/big-trailers/10")) as response:
            assert await response.aread() == b"with trailers"
        async with connection.stream("GET", server.url("/big-trailers/200")) as response:
            with pytest.raises(httpcore.RemoteProtocolError, match="MAX_HEADER_LIST_SIZE"):
                await response.aread()
        response = await connection.request("GET", server.url("/after"))
        assert response.content == b"path=/after"


@pytest.mark.anyio
@pytest.mark.parametrize("read_timeout", [5.0, 0.2])
async def test_head_timeout_is_a_deadline_for_the_response_head(
    h2_server: typing.Any, read_timeout: float
) -> None:
    """The server keeps the connection busy (a PING every 50 ms), so no read waits long:
    only the head deadline can end the request, whether the read timeout is longer than
    it or shorter (the deadline holds across reads)."""
    server: H2Server = h2_server()
    extensions = {"timeout": {"read": read_timeout}}
    results: dict[str, object] = {}
    async with await open_h2(server, ResponseLimits(head_timeout=0.5)) as connection:

        async def dripped() -> None:
            with pytest.raises(httpcore.ReadTimeout, match="head_timeout") as info:
                await connection.request("GET", server.url("/drip/5000"), extensions=extensions)
            results["dripped"] = info.value

        async def other() -> None:
            response = await connection.request("GET", server.url("/delay/100"))
            results["other"] = response.content

        async with anyio.create_task_group() as tg:
            tg.start_soon(dripped)
            tg.start_soon(other)
        assert results["other"] == b"/delay/100"
        response = await connection.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
    assert server.connections == 1
    assert server.reset_paths == [("/drip/5000", CANCEL)]


@pytest.mark.anyio
async def test_without_head_timeout_a_dripping_server_is_waited_for(
    h2_server: typing.Any,
) -> None:
    """The counterpart: each read gets bytes (PINGs) well within the read timeout."""
    server: H2Server = h2_server()
    async with await open_h2(server) as connection:
        response = await connection.request(
            "GET", server.url("/drip/600"), extensions={"timeout": {"read": 0.4}}
        )
        assert response.content == b"/drip/600"


def test_sync_limits(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    limits = ResponseLimits(max_head_size=8000, max_informational=1, head_timeout=0.3)
    with open_h2_sync(server, limits) as connection:
        assert connection.request("GET", server.url("/warm-up")).status == 200
        with pytest.raises(httpcore.RemoteProtocolError, match="SETTINGS_MAX_HEADER_LIST_SIZE"):
            connection.request("GET", server.url("/big-head/9000"))
        with pytest.raises(httpcore.RemoteProtocolError, match="max_informational"):
            connection.request("GET", server.url("/informational/2"))
        with pytest.raises(httpcore.ReadTimeout, match="head_timeout"):
            connection.request(
                "GET", server.url("/drip/5000"), extensions={"timeout": {"read": 5.0}}
            )
        assert connection.request("GET", server.url("/after")).content == b"path=/after"
    assert server.connections == 1
    assert server.client_settings[0][SETTINGS_MAX_HEADER_LIST_SIZE] == 8000
    assert server.reset_paths == [("/drip/5000", CANCEL)]  # the only stream left open
