"""The install switch (httpcore_fast._install): ``import httpcore`` / ``import httpcore2``
resolve to httpcore_fast, one module object per file; refusal when the real core is loaded;
``uninstall()`` restores; DEBUG lines under the ``httpcore2.*`` logger names when served as
httpcore2; the ``python -m httpcore_fast`` runner (and its old name,
``python -m httpcore_fast._install``).

Every case runs in a fresh interpreter (sys.modules and sys.meta_path of the test process are
never touched) with this process's environment, so on the default kernel: the kernel plays
no part in installing (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.servers import ScriptedServer, keepalive_script
from tests.test_httpx_behaviour import HTTPX2_REQUIRED, LIBRARIES

pytest_plugins = ["tests.conftest_servers"]

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT = 60.0


@pytest.fixture
def run(tmp_path: Path):  # noqa: ANN201 - pytest fixture
    """``run(code, *args)``: run ``code`` in a child Python; return its stdout.

    The child runs with ``-W error`` and fails the test on a non-zero exit status.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)

    def run(code: str, *args: str, module: bool | str = False) -> str:
        """``module``: True runs ``python -m httpcore_fast *args``; a string runs that
        module instead (``"httpcore_fast._install"``, the runner's old name)."""
        if module:
            runner = "httpcore_fast" if module is True else module
            argv = [sys.executable, "-W", "error", "-m", runner, *args]
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
        assert sys.modules["httpcore2._models"] is httpcore_fast._models  # loaded before
        # loaded after install() (on first use), entered under the alias when imported so
        base = importlib.import_module("httpcore2._backends.base")
        assert base is httpcore_fast._backends.base
        from httpcore._models import Request
        from httpcore._exceptions import ReadTimeout
        assert Request is httpcore_fast.Request and ReadTimeout is httpcore_fast.ReadTimeout
        # a submodule first imported after install(), through the alias: the same object
        # (httpcore_fast.httpx is never loaded by the package)
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


# httpcore2 comes with httpx2, which the dev extra installs on Python >= 3.11 only (where
# a missing httpcore2 makes the httpcore2 case fail, not vanish).
REAL_CORES = ["httpcore", "httpcore._models"] + (["httpcore2"] if HTTPX2_REQUIRED else [])


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

        import logging
        from httpcore_fast._trace import LOGGER_NAMES
        loggers = [logging.getLogger(name) for name in LOGGER_NAMES]

        install()
        assert all("isEnabledFor" in vars(logger) for logger in loggers)  # served as httpcore2
        try:
            httpx.get(url)
        except httpx.ConnectError as exc:
            assert type(exc.__cause__).__module__ == "httpcore_fast", exc.__cause__
        else:
            raise AssertionError("expected ConnectError")
        uninstall()
        uninstall()  # idempotent
        assert not is_installed() and sys.meta_path == meta_path
        assert not any({"isEnabledFor", "handle"} & set(vars(logger)) for logger in loggers)
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


RUNNERS = [True, "httpcore_fast._install"]  # python -m httpcore_fast; its old name


@pytest.mark.parametrize("runner", RUNNERS, ids=["httpcore_fast", "httpcore_fast._install"])
def test_runner_module_and_script(run, tmp_path: Path, runner: bool | str) -> None:  # noqa: ANN001
    program = "import sys, httpcore; print(httpcore.__name__, sys.argv[1:], __name__)\n"
    (tmp_path / "prog.py").write_text(program)
    (tmp_path / "progmod.py").write_text(program)
    assert run("", "prog.py", "a", "-b", module=runner) == "httpcore_fast ['a', '-b'] __main__\n"
    assert run("", "-m", "progmod", "x", module=runner) == "httpcore_fast ['x'] __main__\n"
    # the program's own install() call sees the runner's state: no second hook
    (tmp_path / "again.py").write_text(
        "import sys\nfrom httpcore_fast._install import install, is_installed\n"
        "assert is_installed()\ninstall()\n"
        "print(sum(type(f).__name__ == '_AliasFinder' for f in sys.meta_path))\n"
    )
    assert run("", "again.py", module=runner) == "1\n"
    # as with `python sub/script.py`: the script's directory comes first on sys.path
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "helper.py").write_text("VALUE = 'sibling'\n")
    (tmp_path / "sub" / "main.py").write_text("import helper\nprint(helper.VALUE)\n")
    assert run("", os.path.join("sub", "main.py"), module=runner) == "sibling\n"
    assert run("", "--help", module=runner).startswith("usage: python -m httpcore_fast ")


# A program that knows nothing of httpcore_fast: one GET through httpx to a loopback server.
# It prints the body and where the connection's stream class and `httpcore` come from.
HTTPX_PROGRAM = """\
import sys
import httpx
response = httpx.get(sys.argv[1])
stream = response.extensions["network_stream"]
print(response.text, type(stream).__module__, sys.modules["httpcore"].__name__)
"""


@pytest.mark.parametrize("runner", RUNNERS, ids=["httpcore_fast", "httpcore_fast._install"])
def test_runner_serves_an_unchanged_httpx_program(
    run, tmp_path: Path, scripted_server, runner: bool | str  # noqa: ANN001
) -> None:
    """``python -m httpcore_fast app.py`` / ``-m app``: httpx in the program runs on
    httpcore_fast (and, run plainly, the same program runs on the real httpcore)."""
    server = scripted_server(keepalive_script(b"hello"))
    (tmp_path / "app.py").write_text(HTTPX_PROGRAM)
    served = "hello httpcore_fast._backends.sync httpcore_fast\n"
    assert run("", "app.py", server.url("/"), module=runner) == served
    assert run("", "-m", "app", server.url("/"), module=runner) == served
    plain = run(HTTPX_PROGRAM, server.url("/"))
    assert plain == "hello httpcore._backends.sync httpcore\n"


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


# --- DEBUG lines under httpcore2.* names when served as httpcore2 ------------------------

# A child making one GET through ``client`` (httpx or httpx2) with logging set up the way
# ``config`` says, on the real core (``mode`` "real") or on httpcore_fast (``install``).
# Prints {handler name: [[logger name, message], ...]}; messages with addresses masked and
# the stream class's package ("httpcore", "httpcore2", "httpcore_fast") replaced by CORE.
LOG_CHILD = r"""
import importlib, json, logging, logging.config, re, sys
mode, client, config, url = sys.argv[1:]
if mode == "install":
    from httpcore_fast._install import install
    install()
lib = importlib.import_module(client)
core, other = ("httpcore2", "httpcore") if client == "httpx2" else ("httpcore", "httpcore2")
seen = {}

class Collect(logging.Handler):
    def emit(self, record):
        message = re.sub(r"0x[0-9a-f]+", "0x?", record.getMessage())
        message = re.sub(r"<httpcore(2|_fast)?\._backends", "<CORE._backends", message)
        seen.setdefault(self.get_name(), []).append([record.name, message])

def collect(name):
    handler = Collect()
    handler.set_name(name)
    return handler

if config == "setlevel":  # a level and a handler on the client's core; a handler elsewhere
    logging.getLogger(core).setLevel(logging.DEBUG)
    logging.getLogger(core).addHandler(collect("core"))
    logging.getLogger(other).addHandler(collect("other"))
    logging.getLogger().addHandler(collect("root"))
elif config == "dictconfig":  # httpx's documented recipe (disable_existing_loggers too)
    logging.config.dictConfig({
        "version": 1,
        "handlers": {"core": {"()": lambda: collect("core")}},
        "loggers": {core: {"handlers": ["core"], "level": "DEBUG"}},
    })
elif config == "basic":  # only a DEBUG root logger with a handler
    logging.getLogger().setLevel(logging.DEBUG)
    logging.getLogger().addHandler(collect("root"))
with lib.Client() as http:
    assert http.get(url).text == "hello"
print(json.dumps(seen))
"""

# Cases through httpx2 run wherever httpx2 is a dev dependency (and then fail if it is
# missing); they are skipped only on Python 3.10, where httpx2 does not install.
NEEDS_HTTPX2 = pytest.mark.skipif(not HTTPX2_REQUIRED, reason="httpx2 needs Python >= 3.11")


def log_lines(run, mode: str, client: str, config: str, server: ScriptedServer) -> dict:  # noqa: ANN001
    return json.loads(run(LOG_CHILD, mode, client, config, server.url("/")))


@pytest.mark.parametrize(
    ("client", "config"),
    [
        ("httpx", "setlevel"),
        pytest.param("httpx2", "setlevel", marks=NEEDS_HTTPX2),
        pytest.param("httpx2", "dictconfig", marks=NEEDS_HTTPX2),
    ],
)
def test_debug_lines_under_the_served_names(run, scripted_server, client: str, config: str) -> None:  # noqa: ANN001
    """Logging configured for ``httpcore2`` (httpx2's docs) or ``httpcore`` sees, under
    install(), exactly what it sees with the real httpcore2 / httpcore: the same records
    under the same logger names, once per handler, nothing under the other names."""
    server = scripted_server(keepalive_script(b"hello"))
    expected = log_lines(run, "real", client, config, server)
    core = "httpcore2" if client == "httpx2" else "httpcore"
    assert expected["core"] and {name for name, _ in expected["core"]} == {
        f"{core}.connection",
        f"{core}.http11",
    }
    assert log_lines(run, "install", client, config, server) == expected


@NEEDS_HTTPX2
def test_debug_lines_on_a_debug_root_logger_only(run, scripted_server) -> None:  # noqa: ANN001
    """With only the root logger at DEBUG (no httpcore* namespace configured), each line
    reaches the root handler once, under our ``httpcore.*`` names (docs/migration.md)."""
    server = scripted_server(keepalive_script(b"hello"))
    expected = log_lines(run, "real", "httpx2", "basic", server)["root"]
    ours = [
        entry
        for entry in log_lines(run, "install", "httpx2", "basic", server)["root"]
        if entry[0].startswith("httpcore")
    ]
    assert [[name.replace("httpcore.", "httpcore2."), m] for name, m in ours] == [
        entry for entry in expected if entry[0].startswith("httpcore2")
    ]
