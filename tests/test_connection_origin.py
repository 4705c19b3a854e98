"""A connection only carries requests for the origin it was opened to (httpcore's rule
and message), whichever kind of connection it is."""

from __future__ import annotations

import typing

import pytest

import httpcore_fast

ORIGIN = httpcore_fast.Origin(b"https", b"example.com", 443)
MESSAGE = (
    "Attempted to send request to https://other.com:443 on connection to "
    "https://example.com:443"
)


def connections() -> list[typing.Any]:
    stream = httpcore_fast.MockStream([])
    backend = httpcore_fast.MockBackend([])
    return [
        httpcore_fast.HTTP11Connection(origin=ORIGIN, stream=stream),
        httpcore_fast.HTTP2Connection(origin=ORIGIN, stream=httpcore_fast.MockStream([])),
        httpcore_fast.HTTPConnection(origin=ORIGIN, network_backend=backend),
    ]


@pytest.mark.parametrize("index", range(3), ids=["http11", "http2", "lazy"])
def test_request_to_another_origin_is_refused(index: int) -> None:
    connection = connections()[index]
    request = httpcore_fast.Request(
        "GET", "https://other.com/", headers=[(b"Host", b"other.com")]
    )
    with pytest.raises(RuntimeError) as info:
        connection.handle_request(request)
    assert str(info.value) == MESSAGE
    connection.close()


def test_same_origin_with_default_port_is_accepted() -> None:
    response = b"HTTP/1.1 204 No Content\r\n\r\n"
    connection = httpcore_fast.HTTP11Connection(
        origin=ORIGIN, stream=httpcore_fast.MockStream([response])
    )
    with connection:
        result = connection.request("GET", "https://example.com/")  # port 443 implied
        assert result.status == 204
