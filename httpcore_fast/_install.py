"""The install switch: make ``import httpcore`` (and ``import httpcore2``) give httpcore_fast.

After :func:`install`, ``sys.modules["httpcore"]`` *is* the ``httpcore_fast`` module object,
``sys.modules["httpcore._async"]`` is ``httpcore_fast._async``, and so on: one module object
per implementation file, reachable under two names. httpx (and httpx2, whose vendored core is
called ``httpcore2``) import httpcore lazily, inside the functions that build a transport, so
every client built after :func:`install` runs on httpcore_fast without any change to httpx.

How the aliasing works:

* every ``httpcore_fast.*`` module already imported is entered under each alias name at once
  (so ``mock.patch("httpcore._sync.connection_pool.ConnectionPool.handle_request")`` patches
  the class the pool really uses);
* a finder put first on ``sys.meta_path`` answers later imports of ``httpcore.X.Y`` by
  importing ``httpcore_fast.X.Y`` and returning *that* module object (never executing a file a
  second time under another name). An ``httpcore.*`` name with no httpcore_fast module behind
  it raises ``ModuleNotFoundError``, even though the real httpcore is installed. Modules
  httpcore_fast loads on first use after :func:`install` (``_async.http2``, the backends...)
  are entered under an alias name when first imported under it, not before.

Logging follows the names: while installed, the DEBUG lines of our ``httpcore.*`` loggers
also go out as ``httpcore2.*`` records to whoever configured those names (httpx2's docs tell
users to turn on the ``httpcore2`` loggers), each line once per handler: see
:func:`httpcore_fast._trace.serve_logs_as`.

Without changing code, run a program with the switch on (``httpcore_fast/__main__.py``)::

    python -m httpcore_fast -m package.module [args...]
    python -m httpcore_fast path/to/script.py [args...]

(the program sees the same ``sys.argv`` as with ``python -m package.module`` / ``python
script.py``). ``python -m httpcore_fast._install ...``, the runner's first name, still works.
There is deliberately no environment variable: acting on one at interpreter start-up needs a
``.pth`` file or ``sitecustomize`` hook that runs in every process; a two-line
``sitecustomize.py`` of your own is the way to get that (see ``docs/migration.md``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

from . import _trace

__all__ = ["install", "uninstall", "is_installed"]

_PACKAGE = __name__.rpartition(".")[0]  # "httpcore_fast"
_ALIASES = ("httpcore", "httpcore2")
# httpx modules that cache a map {httpcore exception class: httpx exception class} built at
# the first request; it must be rebuilt after the classes behind the httpcore names change.
_EXCEPTION_MAP_CACHES = (
    ("httpx._transports.default", "HTTPCORE_EXC_MAP"),
    ("httpx2._transports.default", "HTTPCORE_EXC_MAP"),
)

_lock = threading.RLock()
_finder: _AliasFinder | None = None


def _is_ours(module: object) -> bool:
    name = getattr(module, "__name__", None)
    return isinstance(name, str) and (name == _PACKAGE or name.startswith(_PACKAGE + "."))


def _alias_names(fullname: str) -> str | None:
    """The httpcore_fast module name behind alias ``fullname``, or None if not an alias."""
    for alias in _ALIASES:
        if fullname == alias or fullname.startswith(alias + "."):
            return _PACKAGE + fullname[len(alias) :]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Hands the import system the already-existing httpcore_fast module object."""

    def __init__(self, real_name: str) -> None:
        self._real_name = real_name
        self._real_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self._real_name)
        self._real_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias spec on the module; put the real one back so
        # that the module keeps describing the file it came from (pickle, reload, pkgutil).
        module.__spec__ = self._real_spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Resolves ``httpcore.*`` / ``httpcore2.*`` imports to ``httpcore_fast.*`` modules."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        real_name = _alias_names(fullname)
        if real_name is None:
            return None
        if real_name not in sys.modules and importlib.util.find_spec(real_name) is None:
            # No such httpcore_fast module: the next finders search the parent's __path__
            # (httpcore_fast's directory, where the file does not exist either), so the
            # import fails with ModuleNotFoundError and never reaches the real httpcore.
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(real_name))


def _foreign_modules() -> list[str]:
    """Names under the alias prefixes that are held by modules other than httpcore_fast's."""
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if _alias_names(name) is not None and module is not None and not _is_ours(module)
    )


def _reset_exception_map_caches() -> None:
    for module_name, attribute in _EXCEPTION_MAP_CACHES:
        module = sys.modules.get(module_name)
        if module is not None and getattr(module, attribute, None):
            setattr(module, attribute, {})


def is_installed() -> bool:
    """True while :func:`install` is in effect."""
    return _finder is not None


def install() -> None:
    """Make ``httpcore``, ``httpcore2`` and all their submodules resolve to httpcore_fast.

    Call it before anything imports httpcore / httpcore2 (httpx and httpx2 themselves may
    already be imported: they import their core lazily). Calling it again while installed
    does nothing.

    Raises:
        RuntimeError: if the real ``httpcore`` or ``httpcore2`` (or any of its submodules)
            has already been imported in this process. Two copies would mean two exception
            hierarchies, and httpx maps exceptions by class, so that is refused instead of
            half-working; nothing is changed in that case.
    """
    global _finder
    import httpcore_fast  # noqa: F401  (the package itself; already imported as our parent)

    with _lock:
        if _finder is not None:
            return
        foreign = _foreign_modules()
        if foreign:
            raise RuntimeError(
                "httpcore_fast.install() must run before httpcore is imported, but these "
                f"modules are already loaded: {', '.join(foreign)}. Call install() earlier "
                "(before importing libraries such as respx that import httpcore at import "
                "time), or pass transport=httpcore_fast.httpx.HTTPTransport() to httpx instead."
            )
        finder = _AliasFinder()
        sys.meta_path.insert(0, finder)
        for name, module in list(sys.modules.items()):
            if module is not None and _is_ours(module):
                suffix = name[len(_PACKAGE) :]
                for alias in _ALIASES:
                    sys.modules[alias + suffix] = module
        _finder = finder
        _reset_exception_map_caches()
        _trace.serve_logs_as(_ALIASES)


def uninstall() -> None:
    """Undo :func:`install`: ``import httpcore`` gives the real httpcore again.

    Removes every ``httpcore*`` entry of ``sys.modules`` that points at an httpcore_fast
    module, removes the import hook, and clears httpx's / httpx2's cached exception maps so
    they are rebuilt from whichever httpcore is imported next, and stops logging under the
    ``httpcore2.*`` names. Modules that kept a reference to the aliased module (``import
    httpcore`` at their top level while installed) keep httpcore_fast. Does nothing if not
    installed.
    """
    global _finder
    with _lock:
        if _finder is None:
            return
        try:
            sys.meta_path.remove(_finder)
        except ValueError:  # pragma: no cover - someone else removed it
            pass
        for name, module in list(sys.modules.items()):
            if _alias_names(name) is not None and _is_ours(module):
                del sys.modules[name]
        _finder = None
        _reset_exception_map_caches()
        _trace.stop_serving_logs()


USAGE = """\
usage: python -m httpcore_fast -m module [args...]
       python -m httpcore_fast script.py [args...]

Run a module (as python -m would) or a script with httpcore_fast.install() in effect:
'import httpcore' and 'import httpcore2' (httpx, httpx2) get httpcore_fast."""


def _main(argv: list[str]) -> None:
    """The runner: ``python -m httpcore_fast (-m module | script.py) [args...]`` (also
    ``python -m httpcore_fast._install ...``). ``-h`` / ``--help`` prints the usage; no
    arguments print it to stderr and exit with status 2."""
    usage = USAGE
    if argv[:1] in (["-h"], ["--help"]):
        print(usage)
        raise SystemExit(0)
    if not argv or argv == ["-m"]:
        print(usage, file=sys.stderr)
        raise SystemExit(2)
    install()
    if argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(argv)
        # As ``python script.py``: the script's directory first on sys.path (the runner,
        # started with -m, has the current directory there), so sibling imports work.
        sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    # ``python -m httpcore_fast._install``, the runner's first name (the public one is
    # ``python -m httpcore_fast``). Run the copy imported as httpcore_fast._install, not this
    # __main__ copy, so that the program's own install()/uninstall() calls see the state set
    # here.
    from httpcore_fast._install import _main as _run

    _run(sys.argv[1:])
