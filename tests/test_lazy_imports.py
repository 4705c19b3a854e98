"""What ``import httpcore_fast`` and a first request load (issue 15, point 4).

``import httpcore_fast`` loads the exceptions and models only; the rest of ``__all__`` is
imported on first use (PEP 562 ``__getattr__`` in ``httpcore_fast``, ``_async`` and
``_sync``). A sync program never loads asyncio, the async half, HTTP/2 (h2, hpack,
hyperframe), socksio, trio or anyio; an asyncio program never loads the sync half, trio,
anyio, HTTP/2 or socksio; logging and ssl load when a program uses them. None of this may
change the public surface: ``__all__``, ``dir()``, ``from httpcore_fast import *``,
``install()``, pickling, ``isinstance``, and the DEBUG log lines.

Every case runs in a fresh interpreter (``sys.modules`` of the test process is full of
everything), with ``-W error``, on each HTTP/1.1 kernel where a request is made
(``HTTPCORE_FAST_NO_EXTENSIONS=1`` selects the pure-Python one in the child).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ScriptedServer, keepalive_script

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT = 60.0  # seconds one child interpreter may take

# Never loaded by `import httpcore_fast` (module names and their submodules).
NOT_AT_IMPORT = (
    "asyncio", "ssl", "logging", "h2", "hpack", "hyperframe", "socksio", "trio", "anyio",
    "sniffio", "certifi", "httpcore_fast._async.", "httpcore_fast._sync.",
    "httpcore_fast._backends", "httpcore_fast._core.http2", "httpcore_fast._core.socks",
    "httpcore_fast._core.config", "httpcore_fast._trace", "httpcore_fast._synchronization",
)  # fmt: skip
# Never loaded by a sync program making plain HTTP/1.1 requests.
NOT_IN_SYNC = (
    "asyncio", "h2", "hpack", "hyperframe", "socksio", "trio", "anyio", "sniffio",
    "httpcore_fast._async.", "httpcore_fast._backends.auto", "httpcore_fast._backends.asyncio",
    "httpcore_fast._backends.trio", "httpcore_fast._backends.anyio",
    "httpcore_fast._core.http2", "httpcore_fast._core.http2_framing",
    "httpcore_fast._sync.http2",
)  # fmt: skip
# Never loaded by an asyncio program making plain HTTP/1.1 requests.
NOT_IN_ASYNCIO = (
    "h2", "hpack", "hyperframe", "socksio", "trio", "anyio", "httpcore_fast._sync.",
    "httpcore_fast._backends.trio", "httpcore_fast._backends.anyio",
    "httpcore_fast._core.http2", "httpcore_fast._core.http2_framing",
    "httpcore_fast._async.http2",
)  # fmt: skip

# dir(httpcore_fast) minus dunders and private names, as it was with eager imports, plus
# AnyIOBackend and TrioBackend (in __all__, loaded on first use; httpcore lists them).
PUBLIC_DIR = sorted(
    """AnyIOBackend AsyncConnectionInterface AsyncConnectionPool AsyncHTTP11Connection
    AsyncHTTP2Connection AsyncHTTPConnection AsyncHTTPProxy AsyncMockBackend AsyncMockStream
    AsyncNetworkBackend AsyncNetworkStream AsyncSOCKSProxy ConnectError ConnectTimeout
    ConnectionInterface ConnectionNotAvailable ConnectionPool HTTP11Connection
    HTTP2Connection HTTPConnection HTTPProxy LocalProtocolError MockBackend MockStream
    NetworkBackend NetworkError NetworkStream Origin PoolTimeout ProtocolError Proxy
    ProxyError ReadError ReadTimeout RemoteProtocolError Request Response ResponseLimits
    SOCKET_OPTION SOCKSProxy SyncBackend TimeoutException TrioBackend URL
    UnsupportedProtocol WriteError WriteTimeout annotations default_ssl_context request
    stream typing""".split()
)

# The child's helper: which of `names` (or their submodules) are in sys.modules; a name
# ending in "." stands for the submodules only.
_LOADED = """
import sys
def loaded(names):
    return sorted(
        m for m in list(sys.modules)
        if any(m.startswith(n) if n.endswith(".") else m == n or m.startswith(n + ".")
               for n in names)
    )
"""


def run_child(code: str, *, kernel: str = "c", env: dict[str, str] | None = None) -> str:
    """Run ``code`` (dedented) in a fresh ``python -W error``; return its stdout. The
    child fails the test with a non-zero exit status. ``kernel`` "py" forces the
    pure-Python kernel."""
    child_env = {k: v for k, v in os.environ.items() if k != "HTTPCORE_FAST_NO_EXTENSIONS"}
    child_env["PYTHONPATH"] = os.pathsep.join([str(ROOT), child_env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    if kernel == "py":
        child_env["HTTPCORE_FAST_NO_EXTENSIONS"] = "1"
    child_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", _LOADED + textwrap.dedent(code)],
        env=child_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(keepalive_script(b"ok")) as srv:
        yield srv


KERNELS = pytest.mark.parametrize("kernel", ["c", "py"])
KERNEL_NAMES = {"c": "cython", "py": "python"}  # httpcore_fast.KERNEL in the child


def test_import_loads_only_exceptions_and_models() -> None:
    out = run_child(
        f"""
        import httpcore_fast
        print(loaded({NOT_AT_IMPORT!r}))
        """
    )
    assert out.strip() == "[]"


@KERNELS
def test_sync_request_loads_no_async_http2_or_socks(server: ScriptedServer, kernel: str) -> None:
    out = run_child(
        f"""
        import json, httpcore_fast
        with httpcore_fast.ConnectionPool() as pool:
            for _ in range(2):
                response = pool.request("GET", {server.url()!r})
                assert response.status == 200 and response.content == b"ok", response
        assert httpcore_fast.request("GET", {server.url()!r}).content == b"ok"
        print(json.dumps([httpcore_fast.KERNEL, loaded({NOT_IN_SYNC!r})]))
        """,
        kernel=kernel,
    )
    assert json.loads(out) == [KERNEL_NAMES[kernel], []]


@KERNELS
def test_asyncio_request_loads_no_sync_trio_anyio_http2_or_socks(
    server: ScriptedServer, kernel: str
) -> None:
    out = run_child(
        f"""
        import asyncio, json, httpcore_fast

        async def main():
            async with httpcore_fast.AsyncConnectionPool() as pool:
                for _ in range(2):
                    response = await pool.request("GET", {server.url()!r})
                    assert response.status == 200 and response.content == b"ok", response

        asyncio.run(main())
        print(json.dumps([httpcore_fast.KERNEL, loaded({NOT_IN_ASYNCIO!r})]))
        """,
        kernel=kernel,
    )
    assert json.loads(out) == [KERNEL_NAMES[kernel], []]


def test_public_surface_unchanged() -> None:
    """``__all__`` is httpcore's, ``dir()`` lists every public name before any is used,
    each resolves to the class of the module defining it (isinstance works across both
    paths), is named ``httpcore_fast.<name>`` and pickles by reference; ``import *``
    gives them all."""
    import httpcore

    out = run_child(
        """
        import importlib, json, pickle, sys
        import httpcore_fast

        public_dir = [n for n in dir(httpcore_fast) if not n.startswith("_")]
        report = {"all": httpcore_fast.__all__, "dir": public_dir, "bad": []}
        for name in httpcore_fast.__all__:
            value = getattr(httpcore_fast, name)
            if name == "SOCKET_OPTION":
                continue
            ok = (
                value.__module__ == "httpcore_fast"
                and pickle.loads(pickle.dumps(value)) is value
                and name in vars(httpcore_fast)  # resolved once, kept
            )
            if not ok:
                report["bad"].append(name)
        # the same objects as the defining modules', so isinstance agrees either way
        from httpcore_fast._sync.connection_pool import ConnectionPool
        from httpcore_fast._async import AsyncConnectionPool, AsyncHTTP2Connection
        from httpcore_fast._backends.mock import MockBackend
        assert ConnectionPool is httpcore_fast.ConnectionPool
        assert AsyncConnectionPool is httpcore_fast.AsyncConnectionPool
        assert AsyncHTTP2Connection is httpcore_fast.AsyncHTTP2Connection
        pool = ConnectionPool(network_backend=MockBackend([]))
        assert isinstance(pool, httpcore_fast.ConnectionPool)
        assert not isinstance(pool, httpcore_fast.AsyncConnectionPool)
        limits = httpcore_fast.ResponseLimits()
        assert pickle.loads(pickle.dumps(limits)) == limits
        try:
            httpcore_fast.NoSuchName
        except AttributeError as exc:
            assert "NoSuchName" in str(exc)
        else:
            raise AssertionError("no AttributeError")
        print(json.dumps(report))
        """
    )
    report = json.loads(out)
    assert report["all"] == httpcore.__all__
    assert report["dir"] == PUBLIC_DIR
    assert report["bad"] == []


def test_import_star_gives_every_name() -> None:
    out = run_child(
        """
        import json
        from httpcore_fast import *
        import httpcore_fast
        print(json.dumps(
            [n for n in httpcore_fast.__all__ if globals()[n] is not getattr(httpcore_fast, n)]
        ))
        """
    )
    assert json.loads(out) == []


def test_subpackages_resolve_lazily() -> None:
    """``httpcore_fast._async`` / ``_sync`` (imported by the package) load nothing until a
    name is used; then just that name's module."""
    out = run_child(
        """
        import json
        import httpcore_fast._async as a, httpcore_fast._sync as s
        before = loaded(["httpcore_fast._async", "httpcore_fast._sync"])
        assert s.ConnectionInterface is s.interfaces.ConnectionInterface
        after_interface = loaded(["httpcore_fast._async", "httpcore_fast._sync"])
        names = sorted(n for n in dir(a) if not n.startswith("_"))
        print(json.dumps([before, after_interface, names, sorted(a.__all__)]))
        """
    )
    before, after_interface, names, all_ = json.loads(out)
    assert before == ["httpcore_fast._async", "httpcore_fast._sync"]
    assert after_interface == [*before, "httpcore_fast._sync.interfaces"]
    assert set(all_) <= set(names)


def test_proxies_work_after_a_bare_import() -> None:
    """``ConnectionPool(proxy=...)`` finds the HTTP and SOCKS proxy support although
    nothing imported those modules by name; socksio loads with the first SOCKS pool."""
    out = run_child(
        """
        import json
        import httpcore_fast
        http_pool = httpcore_fast.ConnectionPool(proxy=httpcore_fast.Proxy("http://127.0.0.1:9"))
        assert isinstance(http_pool, httpcore_fast.ConnectionPool)
        no_socksio = loaded(["socksio"])
        socks = httpcore_fast.ConnectionPool(proxy=httpcore_fast.Proxy("socks5://127.0.0.1:9"))
        assert isinstance(socks, httpcore_fast.ConnectionPool)
        socks_proxy = httpcore_fast.SOCKSProxy(proxy_url="socks5://127.0.0.1:9")
        print(json.dumps([no_socksio, loaded(["socksio"]) != []]))
        """
    )
    assert json.loads(out) == [[], True]


def test_install_aliases_lazily_loaded_modules() -> None:
    out = run_child(
        """
        import json, sys
        import httpcore_fast
        httpcore_fast.install()
        import httpcore
        installed_loads = loaded(["asyncio", "h2", "socksio", "httpcore_fast._async."])
        import httpcore._async.connection_pool as aliased
        from httpcore import ConnectionPool, AsyncHTTP2Connection
        assert httpcore is httpcore_fast
        assert aliased is sys.modules["httpcore_fast._async.connection_pool"]
        assert aliased.AsyncConnectionPool is httpcore.AsyncConnectionPool
        assert ConnectionPool is httpcore_fast.ConnectionPool
        assert AsyncHTTP2Connection is httpcore_fast._async.http2.AsyncHTTP2Connection
        import httpcore2._sync as sync2
        assert sync2 is httpcore_fast._sync
        print(json.dumps(installed_loads))
        """
    )
    assert json.loads(out) == []


@pytest.mark.parametrize("configure", ["before", "after_import", "after_first_request"])
def test_debug_log_lines_as_before(server: ScriptedServer, configure: str) -> None:
    """The ``httpcore.*`` DEBUG lines appear wherever logging is configured: before
    ``import httpcore_fast``, after it, or after a first request made while logging was
    not even imported."""
    out = run_child(
        f"""
        import io, json, sys
        configure = {configure!r}
        stream = io.StringIO()

        def configure_logging():
            import logging
            logging.basicConfig(level=logging.DEBUG, stream=stream, format="%(name)s %(message)s")

        if configure == "before":
            configure_logging()
        import httpcore_fast
        not_loaded = loaded(["logging"]) == [] or configure == "before"
        pool = httpcore_fast.ConnectionPool()
        if configure == "after_import":
            configure_logging()
        assert pool.request("GET", {server.url()!r}).content == b"ok"
        if configure == "after_first_request":
            assert stream.getvalue() == ""
            configure_logging()
            pool.close()
            assert pool.request("GET", {server.url()!r}).content == b"ok"
        pool.close()
        print(json.dumps([not_loaded, stream.getvalue().splitlines()]))
        """
    )
    not_loaded, lines = json.loads(out)
    assert not_loaded is True
    assert "httpcore.connection connect_tcp.started" in " ".join(lines)
    assert any(line.startswith("httpcore.http11 send_request_headers.started") for line in lines)
    assert any(line.startswith("httpcore.connection close.started") for line in lines), lines


def test_without_h2_the_http2_classes_raise_on_use(server: ScriptedServer) -> None:
    """With h2 missing (a ``None`` entry in ``sys.modules`` makes its import fail), the
    HTTP/2 classes are stand-ins raising ``RuntimeError`` when made, as httpcore's are,
    and HTTP/1.1 requests work."""
    out = run_child(
        f"""
        import json, sys
        sys.modules["h2"] = None
        import httpcore_fast
        errors = []
        for cls in (httpcore_fast.HTTP2Connection, httpcore_fast.AsyncHTTP2Connection):
            try:
                cls(httpcore_fast.Origin(b"https", b"example.com", 443), None)
            except RuntimeError as exc:
                errors.append(str(exc))
        assert httpcore_fast.request("GET", {server.url()!r}).content == b"ok"
        print(json.dumps(errors))
        """
    )
    errors = json.loads(out)
    assert len(errors) == 2
    assert all("`h2` package is not installed" in error for error in errors)
