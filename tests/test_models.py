"""Models: URL parsing table, reprs, equality, argument errors, Response reading."""

from __future__ import annotations

import asyncio
import typing

import pytest

from httpcore_fast._models import (
    URL,
    ByteStream,
    Origin,
    Proxy,
    Request,
    Response,
    enforce_bytes,
    enforce_headers,
    enforce_stream,
    enforce_url,
    include_request_headers,
)

# (input, scheme, host, port, target) -- values taken from httpcore 1.0.9.
URL_TABLE = [
    ("http://127.0.0.1:8000/path?q", b"http", b"127.0.0.1", 8000, b"/path?q"),
    ("https://user:pw@example.com/", b"https", b"example.com", None, b"/"),
    ("http://u@h:8080?", b"http", b"h", 8080, b"/"),
    ("http://a@b@c:1/", b"http", b"c", 1, b"/"),
    ("http://[::1]:80/a", b"http", b"::1", 80, b"/a"),
    ("http://[::1]/", b"http", b"::1", None, b"/"),
    ("http://[fe80::1%25eth0]:8/", b"http", b"fe80::1%25eth0", 8, b"/"),
    ("http://example.com", b"http", b"example.com", None, b"/"),
    ("http://example.com?x=1", b"http", b"example.com", None, b"/?x=1"),
    ("HTTP://Example.COM/", b"http", b"example.com", None, b"/"),
    ("http://AB%CD/", b"http", b"ab%CD", None, b"/"),
    ("http://ex.com:/", b"http", b"ex.com", None, b"/"),
    ("http://h:0/", b"http", b"h", 0, b"/"),
    ("http://h:00080/x", b"http", b"h", 80, b"/x"),
    ("http://h:65535/", b"http", b"h", 65535, b"/"),
    ("https://h:443", b"https", b"h", 443, b"/"),
    ("socks5h://P", b"socks5h", b"p", None, b"/"),
    ("wss://h/x?y#z", b"wss", b"h", None, b"/x?y"),
    ("http://ex.com/p?a#frag", b"http", b"ex.com", None, b"/p?a"),
    ("http://h/?", b"http", b"h", None, b"/"),
    ("http://h#", b"http", b"h", None, b"/"),
    ("http://h?a?b#c#d", b"http", b"h", None, b"/?a?b"),
    ("http://h/#?x", b"http", b"h", None, b"/"),
    ("http://h/a;b?c;d", b"http", b"h", None, b"/a?c;d"),  # urlparse drops ;params
    ("ws://h/a;b?c;d", b"ws", b"h", None, b"/a;b?c;d"),
    ("http://h/\t?a\n#b\r", b"http", b"h", None, b"/?a"),
    (" http://h/", b"http", b"h", None, b"/"),
    ("http://:80/", b"http", b"", 80, b"/"),
    ("//host/p", b"", b"host", None, b"/p"),
    ("/path", b"", b"", None, b"/path"),
    ("example.com", b"", b"", None, b"example.com"),
    ("http:/x", b"http", b"", None, b"/x"),
    ("ftp://x/", b"ftp", b"x", None, b"/"),
    (b"http://h/x", b"http", b"h", None, b"/x"),
    ("http://h/a%20b", b"http", b"h", None, b"/a%20b"),
]


@pytest.mark.parametrize("url,scheme,host,port,target", URL_TABLE)
def test_url_parsing(
    url: str | bytes, scheme: bytes, host: bytes, port: int | None, target: bytes
) -> None:
    for _ in range(2):  # second round is served by the parse cache
        parsed = URL(url)
        assert (parsed.scheme, parsed.host, parsed.port, parsed.target) == (
            scheme,
            host,
            port,
            target,
        )
        other = URL(url.encode("ascii") if isinstance(url, str) else url)
        assert other == parsed


@pytest.mark.parametrize(
    "url,exc,message",
    [
        ("http://ex.com:abc/", ValueError, "Port could not be cast to integer value as b'abc'"),
        ("http://ex.com:99999/", ValueError, "Port out of range 0-65535"),
        ("http://h:65536/", ValueError, "Port out of range 0-65535"),
        ("http://h:1:2/", ValueError, "Port could not be cast to integer value as b'1:2'"),
        ("http://h:-1/", ValueError, None),
        ("http://[::1/", ValueError, "Invalid IPv6 URL"),
        ("http://h]/", ValueError, "Invalid IPv6 URL"),
        ("http://h/é", TypeError, "url strings may not include unicode characters."),
        (b"http://h/\xff", UnicodeDecodeError, None),
        (123, TypeError, "url must be bytes or str, but got int."),
        (bytearray(b"http://h/"), TypeError, "url must be bytes or str, but got bytearray."),
    ],
)
def test_url_invalid(url: typing.Any, exc: type[Exception], message: str | None) -> None:
    with pytest.raises(exc) as info:
        URL(url)
    if message is not None:
        assert str(info.value) == message
    with pytest.raises(exc):  # failures are never cached
        URL(url)


def test_url_from_parts() -> None:
    url = URL(scheme="https", host="example.com", port=None, target="*")
    assert (url.scheme, url.host, url.port, url.target) == (b"https", b"example.com", None, b"*")
    assert repr(url) == "URL(scheme=b'https', host=b'example.com', port=None, target=b'*')"
    # Parts are taken as given, without parsing or lower-casing.
    assert URL(scheme=b"HTTP", host=b"A", port=1).target == b""
    assert URL(scheme=b"http", host=b"a").port is None
    # A falsy url means "use the parts"; a truthy one wins over them.
    assert URL(None, scheme=b"http", host=b"h") == URL(scheme=b"http", host=b"h")  # type: ignore[arg-type]
    assert URL("http://a/", scheme=b"https").scheme == b"http"
    assert URL() == URL(scheme=b"", host=b"", port=None, target=b"")
    for kwargs, message in [
        ({"scheme": 1}, "scheme must be bytes or str, but got int."),
        ({"host": "é"}, "host strings may not include unicode characters."),
        ({"target": 1.5}, "target must be bytes or str, but got float."),
    ]:
        with pytest.raises(TypeError) as info:
            URL(**kwargs)
        assert str(info.value) == message


def test_url_bytes_repr_eq_hash() -> None:
    url = URL("https://example.com:8443/a?b")
    assert bytes(url) == b"https://example.com:8443/a?b"
    assert bytes(URL("http://a/x?y")) == b"http://a/x?y"
    assert bytes(URL("http://[::1]:80/")) == b"http://::1:80/"  # as httpcore
    assert repr(URL("https://example.com")) == (
        "URL(scheme=b'https', host=b'example.com', port=None, target=b'/')"
    )
    assert url == URL(scheme=b"https", host=b"example.com", port=8443, target=b"/a?b")
    assert URL("http://a/") != URL("http://a:80/")
    assert URL("http://a/") != "http://a/"
    with pytest.raises(TypeError):
        hash(url)


def test_url_origin() -> None:
    assert URL("http://a").origin == Origin(b"http", b"a", 80)
    assert URL("https://a").origin == Origin(b"https", b"a", 443)
    assert URL("ws://a").origin == Origin(b"ws", b"a", 80)
    assert URL("wss://a:1").origin == Origin(b"wss", b"a", 1)
    assert URL("socks5://a").origin == Origin(b"socks5", b"a", 1080)
    assert URL("socks5h://a").origin == Origin(b"socks5h", b"a", 1080)
    assert URL("http://a:0").origin.port == 80  # port 0 counts as "no port", as in httpcore
    with pytest.raises(KeyError):
        URL("ftp://a").origin
    with pytest.raises(KeyError):
        URL(scheme=b"HTTP", host=b"a").origin


def test_origin() -> None:
    origin = Origin(b"https", b"example.com", 443)
    assert str(origin) == "https://example.com:443"
    assert origin == Origin(b"https", b"example.com", 443)
    assert origin != Origin(b"https", b"example.com", 444)
    assert origin != "https://example.com:443"
    with pytest.raises(TypeError):
        hash(origin)


def test_enforce_helpers() -> None:
    assert enforce_bytes("GET", name="method") == b"GET"
    assert enforce_bytes(b"GET", name="method") == b"GET"
    with pytest.raises(TypeError, match=r"^method must be bytes or str, but got int\.$"):
        enforce_bytes(1, name="method")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^x strings may not include unicode characters\.$"):
        enforce_bytes("é", name="x")
    assert enforce_url("http://a/", name="url") == URL("http://a/")
    url = URL("http://a/")
    assert enforce_url(url, name="url") is url
    with pytest.raises(TypeError, match=r"^proxy_url must be a URL, bytes, or str, but got int\.$"):
        enforce_url(1, name="proxy_url")  # type: ignore[arg-type]
    assert repr(enforce_stream(None, name="content")) == "<ByteStream [0 bytes]>"
    assert repr(enforce_stream(b"abc", name="content")) == "<ByteStream [3 bytes]>"
    it = iter([b"x"])
    assert enforce_stream(it, name="content") is it


HEADER_CASES: list[tuple[typing.Any, typing.Any]] = [
    (None, []),
    ([(b"a", b"b")], [(b"a", b"b")]),
    ([(b"a", "b"), ("c", b"d")], [(b"a", b"b"), (b"c", b"d")]),
    (((b"a", b"b"),), [(b"a", b"b")]),
    ([[b"a", b"b"]], [(b"a", b"b")]),
    ({"a": "b", b"c": b"d"}, [(b"a", b"b"), (b"c", b"d")]),
    (1, (TypeError, "headers must be a mapping or sequence of two-tuples, but got int.")),
    (iter([]), (TypeError, "headers must be a mapping or sequence of two-tuples, but got list_iterator.")),
    ([(1, b"a")], (TypeError, "header name must be bytes or str, but got int.")),
    ([(b"a", 1)], (TypeError, "header value must be bytes or str, but got int.")),
    ([(bytearray(b"a"), b"b")], (TypeError, "header name must be bytes or str, but got bytearray.")),
    ({"a": "é"}, (TypeError, "header value strings may not include unicode characters.")),
    ([(b"a",)], (ValueError, "not enough values to unpack (expected 2, got 1)")),
    ([(b"a", b"b", b"c")], (ValueError, "too many values to unpack (expected 2)")),
    # The first bad item decides the error, as in httpcore.
    ([(1, b"a"), (b"a",)], (TypeError, "header name must be bytes or str, but got int.")),
    ([(b"a", b"b"), (b"a",), (1, b"a")], (ValueError, "not enough values to unpack (expected 2, got 1)")),
    ("ab", (ValueError, "not enough values to unpack (expected 2, got 1)")),
]


@pytest.mark.parametrize("headers,expected", HEADER_CASES)
def test_enforce_headers(headers: typing.Any, expected: typing.Any) -> None:
    if isinstance(expected, tuple):
        exc, message = expected
        with pytest.raises(exc) as info:
            enforce_headers(headers, name="headers")
        assert str(info.value) == message
    else:
        result = enforce_headers(headers, name="headers")
        assert result == expected
        assert result is not headers  # always a new list


@pytest.mark.parametrize(
    "url,content,headers,expected",
    [
        ("http://a/", None, [], [(b"Host", b"a")]),
        ("http://a:80/", None, [], [(b"Host", b"a")]),
        ("http://a:8080/", b"ab", [], [(b"Host", b"a:8080"), (b"Content-Length", b"2")]),
        ("https://a:443/", b"", [], [(b"Host", b"a"), (b"Content-Length", b"0")]),
        ("https://a:80/", None, [], [(b"Host", b"a:80")]),
        ("wss://a:443/", None, [], [(b"Host", b"a")]),
        ("http://a/", iter([b"x"]), [], [(b"Host", b"a"), (b"Transfer-Encoding", b"chunked")]),
        (
            "http://a/",
            b"x",
            [(b"X", b"1")],
            [(b"Host", b"a"), (b"X", b"1"), (b"Content-Length", b"1")],
        ),
        ("http://a/", b"x", [(b"HOST", b"b"), (b"content-LENGTH", b"1")], [(b"HOST", b"b"), (b"content-LENGTH", b"1")]),
        (
            "http://a/",
            b"x",
            [(b"Transfer-Encoding", b"chunked")],
            [(b"Host", b"a"), (b"Transfer-Encoding", b"chunked")],
        ),
        ("http://[::1]:8080/", None, [], [(b"Host", b"::1:8080")]),  # as httpcore
    ],
)
def test_include_request_headers(
    url: str, content: typing.Any, headers: list[tuple[bytes, bytes]], expected: typing.Any
) -> None:
    original = list(headers)
    assert include_request_headers(headers, url=URL(url), content=content) == expected
    assert headers == original
    ftp = URL(scheme=b"ftp", host=b"f", port=21)
    assert include_request_headers([], url=ftp, content=None) == [(b"Host", b"f")]


def test_request() -> None:
    request = Request("GET", "https://example.com/x", headers={"Accept": "*/*"})
    assert request.method == b"GET"
    assert request.url == URL("https://example.com/x")
    assert request.headers == [(b"Accept", b"*/*")]  # no Host added here
    assert repr(request) == "<Request [b'GET']>"
    assert repr(request.stream) == "<ByteStream [0 bytes]>"
    assert request.extensions == {}
    assert list(request.stream) == [b""]  # type: ignore[arg-type]
    headers = [(b"a", b"b")]
    request = Request(b"POST", URL("http://a/"), headers=headers, content=b"abc")
    assert request.headers == headers and request.headers is not headers
    assert repr(request.stream) == "<ByteStream [3 bytes]>"
    extensions: dict[str, typing.Any] = {"timeout": {}}
    assert Request("GET", "http://a/", extensions=extensions).extensions is extensions
    body = iter([b"a"])
    assert Request("GET", "http://a/", content=body).stream is body
    # The "target" extension replaces the URL target.
    request = Request("GET", "http://a:1/x", extensions={"target": "/other"})
    assert request.url == URL(scheme=b"http", host=b"a", port=1, target=b"/other")
    # Requests compare and hash by identity.
    assert Request("GET", "http://a/") != Request("GET", "http://a/")
    hash(request)


@pytest.mark.parametrize(
    "kwargs,exc,message",
    [
        ({"method": 1, "url": "http://a/"}, TypeError, "method must be bytes or str, but got int."),
        ({"method": "é", "url": "http://a/"}, TypeError, "method strings may not include unicode characters."),
        ({"method": "GET", "url": 1}, TypeError, "url must be a URL, bytes, or str, but got int."),
        ({"method": "GET", "url": [1]}, TypeError, "url must be a URL, bytes, or str, but got list."),
        ({"method": "GET", "url": "http://a/", "headers": 1}, TypeError, "headers must be a mapping or sequence of two-tuples, but got int."),
        ({"method": "GET", "url": "http://a/", "extensions": {"target": 1}}, TypeError, "target must be bytes or str, but got int."),
    ],
)
def test_request_errors(kwargs: dict[str, typing.Any], exc: type[Exception], message: str) -> None:
    with pytest.raises(exc) as info:
        Request(**kwargs)
    assert str(info.value) == message


def test_bytestream() -> None:
    stream = ByteStream(b"abc")
    assert repr(stream) == "<ByteStream [3 bytes]>"
    assert list(stream) == [b"abc"]

    async def collect() -> list[bytes]:
        return [chunk async for chunk in stream]

    assert asyncio.run(collect()) == [b"abc"]


def test_response_sync() -> None:
    response = Response(200, headers=[(b"a", b"b")], content=b"abc", extensions={"x": 1})
    assert repr(response) == "<Response [200]>"
    assert response.headers == [(b"a", b"b")]
    assert response.extensions == {"x": 1}
    with pytest.raises(RuntimeError) as info:
        response.content
    assert str(info.value) == (
        "Attempted to access 'response.content' on a streaming response. "
        "Call 'response.read()' first."
    )
    assert response.read() == b"abc"
    assert response.read() == b"abc"
    assert response.content == b"abc"
    with pytest.raises(RuntimeError, match="more than once"):
        list(response.iter_stream())

    response = Response(200, content=[b"a", b"b"])
    assert list(response.iter_stream()) == [b"a", b"b"]
    with pytest.raises(RuntimeError) as info:
        response.read()
    assert str(info.value) == (
        "Attempted to call 'for ... in response.iter_stream()' more than once."
    )

    class Closable:
        closed = False

        def __iter__(self) -> typing.Iterator[bytes]:
            yield b"x"

        def close(self) -> None:
            self.closed = True

    stream = Closable()
    response = Response(200, content=stream)
    response.close()
    assert stream.closed
    Response(200, content=[b"x"]).close()  # a stream without close() is fine
    assert repr(Response(404)) == "<Response [404]>"
    assert Response(204).read() == b""


def test_response_async() -> None:
    async def body() -> typing.AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    async def main() -> None:
        response = Response(200, content=body())
        with pytest.raises(RuntimeError) as info:
            response.content
        assert str(info.value) == (
            "Attempted to access 'response.content' on a streaming response. "
            "Call 'await response.aread()' first."
        )
        assert await response.aread() == b"ab"
        assert response.content == b"ab"
        assert await response.aread() == b"ab"

        response = Response(200, content=body())
        assert [c async for c in response.aiter_stream()] == [b"a", b"b"]
        with pytest.raises(RuntimeError) as info:
            [c async for c in response.aiter_stream()]
        assert str(info.value) == (
            "Attempted to call 'async for ... in response.aiter_stream()' more than once."
        )

        class AClosable:
            closed = False

            def __aiter__(self) -> typing.AsyncIterator[bytes]:
                return body()

            async def aclose(self) -> None:
                self.closed = True

        stream = AClosable()
        await Response(200, content=stream).aclose()
        assert stream.closed
        # ByteStream supports both APIs.
        assert await Response(200, content=b"xy").aread() == b"xy"

    asyncio.run(main())


def test_response_wrong_api() -> None:
    async def body() -> typing.AsyncIterator[bytes]:
        yield b"a"

    sync_only = Response(200, content=[b"x"])
    gen = body()
    async_only = Response(200, content=gen)
    messages = {
        "read": "Attempted to read an asynchronous response using 'response.read()'. "
        "You should use 'await response.aread()' instead.",
        "iter": "Attempted to stream an asynchronous response using 'for ... in "
        "response.iter_stream()'. You should use 'async for ... in "
        "response.aiter_stream()' instead.",
        "close": "Attempted to close an asynchronous response using 'response.close()'. "
        "You should use 'await response.aclose()' instead.",
        "aread": "Attempted to read an synchronous response using 'await response.aread()'. "
        "You should use 'response.read()' instead.",
        "aiter": "Attempted to stream an synchronous response using 'async for ... in "
        "response.aiter_stream()'. You should use 'for ... in "
        "response.iter_stream()' instead.",
        "aclose": "Attempted to close a synchronous response using 'await response.aclose()'. "
        "You should use 'response.close()' instead.",
    }
    for name, call in [
        ("read", async_only.read),
        ("iter", lambda: list(async_only.iter_stream())),
        ("close", async_only.close),
    ]:
        with pytest.raises(RuntimeError) as info:
            call()
        assert str(info.value) == messages[name]

    async def main() -> None:
        for name, call in [
            ("aread", sync_only.aread),
            ("aiter", lambda: _collect(sync_only)),
            ("aclose", sync_only.aclose),
        ]:
            with pytest.raises(RuntimeError) as info:
                await call()
            assert str(info.value) == messages[name]
        await gen.aclose()

    asyncio.run(main())


async def _collect(response: Response) -> list[bytes]:
    return [chunk async for chunk in response.aiter_stream()]


def test_proxy() -> None:
    proxy = Proxy("http://proxy:8080/", auth=("user", "pass"), headers={"X-A": "1"})
    assert proxy.url == URL("http://proxy:8080/")
    assert proxy.auth == (b"user", b"pass")
    assert proxy.headers == [(b"Proxy-Authorization", b"Basic dXNlcjpwYXNz"), (b"X-A", b"1")]
    assert proxy.ssl_context is None
    plain = Proxy(URL("socks5://p:1080"))
    assert plain.auth is None and plain.headers == []
    with pytest.raises(TypeError, match=r"^auth must be bytes or str, but got int\.$"):
        Proxy("http://p/", auth=("u", 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^url must be a URL, bytes, or str, but got int\.$"):
        Proxy(1)  # type: ignore[arg-type]
