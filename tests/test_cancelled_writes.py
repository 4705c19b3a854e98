"""What a stream says about a write cut by a cancellation, checked against what the peer
receives (HTTP/2 keeps a connection after such a write only when the stream says every
byte was handed on: ``_cancelled_write_sent_all()``).

Each case opens a stream over TCP or a Unix socket, starts a write far larger than the
socket buffers while the peer reads nothing, cancels it once it is stuck, and then reads on
the peer side. A stream that answers True must deliver every byte; the answers themselves
are pinned per backend and transport.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time

import anyio
import pytest

from httpcore_fast._backends.anyio import AnyIOBackend
from httpcore_fast._backends.asyncio import AsyncIOBackend
from httpcore_fast._backends.base import AsyncNetworkBackend, AsyncNetworkStream
from httpcore_fast._backends.trio import TrioBackend

pytestmark = pytest.mark.network

PAYLOAD = b"x" * (8 * 1024 * 1024)  # far beyond the socket buffers on loopback
DRAIN_DEADLINE = 30.0  # seconds to receive what was handed on


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# (backend, transport, library) -> does a cancelled write hand all its bytes on?
EXPECTED = {
    ("native", "tcp", "asyncio"): True,
    ("native", "unix", "asyncio"): True,
    ("anyio", "tcp", "asyncio"): True,  # _HandOffFirst
    ("anyio", "unix", "asyncio"): False,  # anyio's Unix stream loops over sock.send
    ("native", "tcp", "trio"): False,
    ("native", "unix", "trio"): False,
    ("anyio", "tcp", "trio"): False,
    ("anyio", "unix", "trio"): False,
}


def make_backend(kind: str, library: str) -> AsyncNetworkBackend:
    if kind == "anyio":
        return AnyIOBackend()
    return AsyncIOBackend() if library == "asyncio" else TrioBackend()


@pytest.mark.anyio
@pytest.mark.parametrize("transport", ["tcp", "unix"])
@pytest.mark.parametrize("kind", ["native", "anyio"])
async def test_cancelled_write_and_what_the_peer_gets(
    kind: str, transport: str, anyio_backend: str
) -> None:
    backend = make_backend(kind, anyio_backend)
    with tempfile.TemporaryDirectory() as tmp:
        if transport == "tcp":
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
        else:
            path = os.path.join(tmp, "peer.sock")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(path)
        listener.listen(1)
        listener.settimeout(5)
        try:
            stream: AsyncNetworkStream
            if transport == "tcp":
                stream = await backend.connect_tcp("127.0.0.1", listener.getsockname()[1])
            else:
                stream = await backend.connect_unix_socket(path)
            peer, _ = listener.accept()
            try:
                with anyio.CancelScope() as scope:
                    async with anyio.create_task_group() as tasks:
                        tasks.start_soon(stream.write, PAYLOAD)
                        # Stuck once the peer's buffers are full: nothing more can go.
                        await anyio.sleep(0.2)
                        scope.cancel()
                sent_all = stream._cancelled_write_sent_all()
                assert sent_all is EXPECTED[(kind, transport, anyio_backend)]
                if sent_all:
                    # Every byte was handed on: the peer receives all of them.
                    received = 0
                    peer.setblocking(False)
                    deadline = time.monotonic() + DRAIN_DEADLINE
                    while received < len(PAYLOAD) and time.monotonic() < deadline:
                        try:
                            chunk = peer.recv(1 << 20)
                        except BlockingIOError:
                            await anyio.sleep(0.005)  # the event loop sends the rest
                            continue
                        if not chunk:
                            break
                        received += len(chunk)
                    assert received == len(PAYLOAD)
            finally:
                await stream.aclose()
                peer.close()
        finally:
            listener.close()


def test_the_default_is_httpcores_assumption() -> None:
    # httpcore keeps an HTTP/2 connection after a cancelled write on any stream (its own
    # suite's test streams rely on it); only streams known to stop part way say False.
    class Stream(AsyncNetworkStream):
        pass

    assert Stream()._cancelled_write_sent_all() is True
