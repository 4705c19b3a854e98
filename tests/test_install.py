"""The install switch (httpcore_fast._install): ``import httpcore`` / ``import httpcore2``
resolve to httpcore_fast, one module object per file; refusal when the real core is loaded;
``uninstall()`` restores; the ``python -m httpcore_fast._install`` runner.

Every case runs in a fresh interpreter (sys.modules and sys.meta_path of the test process are
never touched), with the kernel of the current ``kernel`` parameter: the ``py`` run sets
``HTTPCORE_FAST_NO_EXTENSIONS=1`` in the child.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_httpx_behaviour import LIBRARIES

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT = 60.0


@pytest.fixture
def run(kernel, tmp_path: Path):  # noqa: ANN001, ANN201 - pytest fixture
    """``run(code, *args)``: run ``code`` in a child Python; return its stdout.

    The child runs with ``-W error`` and fails the test on a non-zero exit status.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("HTTPCORE_FAST_NO_EXTENSIONS", None)
    if kernel.__name__.endswith("_py"):
        env["HTTPCORE_FAST_NO_EXTENSIONS"] = "1"

    def run(code: str, *args: str, module: bool = False) -> str:
        if module:
            argv = [sys.executable, "-W", "error", "-m", "httpcore_fast._install", *args]
        else:
            argv = [sys.executable, "-W", "error", "-c", textwrap.dedent(code), *args]
        result = subprocess.run(
            argv,
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


def test_aliases_every_module_once(run) -> None:  # noqa: ANN001
    out = run(
        """
        import importlib, sys
        import httpcore_fast
        from httpcore_fast._install import install, is_installed
        assert not is_installed()
        install()
        install()  # idempotent
        assert is_installed()
        import httpcore, httpcore2
        assert httpcore is httpcore_fast and httpcore2 is httpcore_fast
        import httpcore._sync.connection_pool as pool_module
        assert pool_module is httpcore_fast._sync.connection_pool
        assert pool_module.ConnectionPool is httpcore.ConnectionPool
        import httpcore._async.connection_pool
        assert sys.modules["httpcore._async"] is httpcore_fast._async
        assert sys.modules["httpcore2._backends.base"] is httpcore_fast._backends.base
        from httpcore._models import Request
        from httpcore._exceptions import ReadTimeout
        assert Request is httpcore_fast.Request and ReadTimeout is httpcore_fast.ReadTimeout
        # a submodule first imported after install(), through the alias: the same object
        # (every core module is loaded by the package itself; httpcore_fast.httpx is not)
        assert "httpcore_fast.httpx" not in sys.modules
        late = importlib.import_module("httpcore.httpx")
        assert late is sys.modules["httpcore_fast.httpx"]
        assert late.__name__ == late.__spec__.name == "httpcore_fast.httpx"
        assert importlib.import_module("httpcore2.httpx") is late
        # a name httpcore_fast does not have is missing, never found in the real httpcore
        try:
            import httpcore._no_such_module
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError("imported a module that does not exist")
        # nothing of the real packages, and no httpcore_fast file executed twice
        files = {}
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] in ("httpcore", "httpcore2", "httpcore_fast"):
                assert module.__name__.startswith("httpcore_fast"), name
                file = getattr(module, "__file__", None)
                assert files.setdefault(file, module) is module, name
        print("ok")
        """
    )
    assert out == "ok\n"


def test_mock_patch_by_name_hits_the_real_class(run) -> None:  # noqa: ANN001
    run(
        """
        from unittest import mock
        from httpcore_fast._install import install
        install()
        import httpcore_fast
        sentinel = object()
        with mock.patch(
            "httpcore._sync.connection_pool.ConnectionPool.handle_request",
            return_value=sentinel,
        ):
            with httpcore_fast.ConnectionPool() as pool:
                assert pool.handle_request(httpcore_fast.Request("GET", "http://x/")) is sentinel
        assert not isinstance(httpcore_fast.ConnectionPool.handle_request, mock.Mock)
        """
    )


# httpcore2 comes with httpx2, which the dev extra installs on Python >= 3.11 only.
REAL_CORES = ["httpcore", "httpcore._models"] + (
    ["httpcore2"] if importlib.util.find_spec("httpcore2") else []
)


@pytest.mark.parametrize("real", REAL_CORES)
def test_refuses_when_the_real_core_is_loaded(run, real: str) -> None:  # noqa: ANN001
    out = run(
        f"""
        import importlib, sys
        importlib.import_module({real!r})
        before_modules = dict(sys.modules)
        before_path = list(sys.meta_path)
        from httpcore_fast._install import install, is_installed
        before_modules = {{k: v for k, v in sys.modules.items() if k.startswith("httpcore")}}
        try:
            install()
        except RuntimeError as exc:
            print(exc)
        else:
            raise AssertionError("install() did not refuse")
        assert not is_installed()
        assert sys.meta_path == before_path
        after = {{k: v for k, v in sys.modules.items() if k.startswith("httpcore")}}
        assert after == before_modules
        import httpcore_fast
        assert sys.modules[{real!r}] is not httpcore_fast
        """
    )
    assert "must run before httpcore is imported" in out
    assert real in out


def test_uninstall_restores_and_resets_httpx_exception_map(run) -> None:  # noqa: ANN001
    out = run(
        """
        import socket, sys
        import httpx
        from httpcore_fast._install import install, uninstall, is_installed
        meta_path = list(sys.meta_path)
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}/"

        install()
        try:
            httpx.get(url)
        except httpx.ConnectError as exc:
            assert type(exc.__cause__).__module__ == "httpcore_fast", exc.__cause__
        else:
            raise AssertionError("expected ConnectError")
        uninstall()
        uninstall()  # idempotent
        assert not is_installed() and sys.meta_path == meta_path
        assert not [k for k in sys.modules if k.split(".")[0] in ("httpcore", "httpcore2")]

        import httpcore
        from pathlib import Path
        assert Path(httpcore.__file__).parts[-3:] == (
            "site-packages", "httpcore", "__init__.py"
        ), httpcore.__file__
        try:
            httpx.get(url)  # the real httpcore's errors are mapped again
        except httpx.ConnectError as exc:
            assert type(exc.__cause__) is httpcore.ConnectError
        else:
            raise AssertionError("expected ConnectError")
        # and the switch now refuses, since the real httpcore is loaded
        try:
            install()
        except RuntimeError:
            print("refused")
        """
    )
    assert out == "refused\n"


@pytest.mark.parametrize("lib", LIBRARIES)
def test_clients_build_on_httpcore_fast(run, lib: str) -> None:  # noqa: ANN001
    """httpx2 calls ``httpcore2.default_ssl_context(_trust_env=...)`` when building clients."""
    run(
        f"""
        from httpcore_fast._install import install
        install()
        import {lib} as lib, httpcore_fast
        for trust_env in (True, False):
            with lib.Client(trust_env=trust_env) as client:
                assert type(client._transport._pool) is httpcore_fast.ConnectionPool
        """
    )


def test_runner_module_and_script(run, tmp_path: Path) -> None:  # noqa: ANN001
    program = "import sys, httpcore; print(httpcore.__name__, sys.argv[1:], __name__)\n"
    (tmp_path / "prog.py").write_text(program)
    (tmp_path / "progmod.py").write_text(program)
    assert run("", "prog.py", "a", "-b", module=True) == "httpcore_fast ['a', '-b'] __main__\n"
    assert run("", "-m", "progmod", "x", module=True) == "httpcore_fast ['x'] __main__\n"
    # the program's own install() call sees the runner's state: no second hook
    (tmp_path / "again.py").write_text(
        "import sys\nfrom httpcore_fast._install import install, is_installed\n"
        "assert is_installed()\ninstall()\n"
        "print(sum(type(f).__name__ == '_AliasFinder' for f in sys.meta_path))\n"
    )
    assert run("", "again.py", module=True) == "1\n"
    assert run("", "--help", module=True).startswith("usage:")


def test_respx_mocks_through_the_alias(run) -> None:  # noqa: ANN001
    """respx (default mocker: httpcore) patches ``httpcore._sync.*`` / ``httpcore._async.*``
    classes by name; after install() those are httpcore_fast's, and its mocks apply."""
    out = run(
        """
        import asyncio
        from httpcore_fast._install import install
        install()
        import httpx, respx
        with respx.mock(assert_all_called=True) as router:
            router.get("http://example.test/x").respond(201, text="mocked")
            assert httpx.get("http://example.test/x").text == "mocked"

            async def main():
                async with httpx.AsyncClient() as client:
                    return (await client.get("http://example.test/x")).status_code

            assert asyncio.run(main()) == 201
        print("ok")
        """
    )
    assert out == "ok\n"
