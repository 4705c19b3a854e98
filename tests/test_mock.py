"""Mock backends: replayed chunks, reprs, ALPN stand-in, subclassing hooks."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from httpcore_fast._backends.mock import (
    AsyncMockBackend,
    AsyncMockStream,
    MockBackend,
    MockStream,
)
from httpcore_fast._exceptions import ReadError


def test_mock_backend() -> None:
    buffer = [b"a", b"bc"]
    backend = MockBackend(buffer)
    assert backend._buffer is buffer and backend._http2 is False
    stream = backend.connect_tcp("example.com", 80, timeout=1.0, local_address=None)
    assert isinstance(stream, MockStream)
    assert repr(stream) == "<httpcore.MockStream>"
    assert stream.read(1) == b"a"  # whole chunks, whatever max_bytes is
    assert stream.read(1) == b"bc"
    assert stream.read(10) == b""
    assert buffer == [b"a", b"bc"]  # each stream works on a copy
    stream.write(b"ignored")
    assert stream.start_tls(ssl.create_default_context()) is stream
    assert stream.get_extra_info("ssl_object").selected_alpn_protocol() == "http/1.1"
    assert stream.get_extra_info("server_addr") is None
    stream.close()
    with pytest.raises(ReadError, match="Connection closed"):
        stream.read(1)
    unix = backend.connect_unix_socket("/tmp/x")
    assert unix.read(10) == b"a"
    backend.sleep(100)  # returns at once


def test_mock_http2_and_subclass() -> None:
    stream = MockBackend([], http2=True).connect_tcp("h", 443)
    assert stream.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"

    class UpgradingStream(MockStream):
        def start_tls(self, *args: object, **kwargs: object) -> MockStream:
            self._http2 = True
            return self

    upgraded = UpgradingStream([])
    assert upgraded.get_extra_info("ssl_object").selected_alpn_protocol() == "http/1.1"
    upgraded.start_tls(ssl.create_default_context())
    assert upgraded.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"


def test_async_mock_backend() -> None:
    async def main() -> None:
        backend = AsyncMockBackend([b"x", b"y"], http2=True)
        assert backend._buffer == [b"x", b"y"] and backend._http2 is True
        stream = await backend.connect_tcp("h", 443)
        assert isinstance(stream, AsyncMockStream)
        assert repr(stream) == "<httpcore.AsyncMockStream>"
        assert await stream.read(100) == b"x"
        await stream.write(b"ignored")
        assert await stream.start_tls(ssl.create_default_context()) is stream
        assert stream.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
        assert stream.get_extra_info("socket") is None
        assert await stream.read(100) == b"y"
        assert await stream.read(100) == b""
        await stream.aclose()
        with pytest.raises(ReadError):
            await stream.read(1)
        unix = await backend.connect_unix_socket("/tmp/x")
        assert await unix.read(1) == b"x"
        await backend.sleep(100)

    asyncio.run(main())
