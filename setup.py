"""Build of the Cython kernel only; all metadata lives in pyproject.toml.

``HTTPCORE_FAST_NO_EXTENSIONS=1`` builds no extension (a pure-Python install that uses
``httpcore_fast._kernel_py``). Non-CPython interpreters never build the extension.
A failed compile fails the install and says how to get the pure-Python kernel instead.
"""

import os
import platform

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NO_EXTENSIONS = bool(os.environ.get("HTTPCORE_FAST_NO_EXTENSIONS")) or (
    platform.python_implementation() != "CPython"
)


class LoudBuildExt(build_ext):
    """Turn any compile failure into one clear message naming the env var."""

    def run(self):
        try:
            super().run()
        except Exception as exc:
            raise SystemExit(self._explain(exc)) from exc

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            raise SystemExit(self._explain(exc)) from exc

    @staticmethod
    def _explain(exc):
        return (
            f"\nhttpcore_fast: compiling the Cython kernel failed ({exc!r}).\n"
            "Install a C compiler and the Python headers, or set "
            "HTTPCORE_FAST_NO_EXTENSIONS=1 to install the pure-Python kernel instead.\n"
        )


ext_modules = []
if not NO_EXTENSIONS:
    from Cython.Build import cythonize

    ext_modules = cythonize(
        [
            Extension("httpcore_fast._kernel_c", ["_ext/_kernel_c.pyx"]),
            Extension("httpcore_fast._h2_c", ["_ext/_h2_c.pyx"]),
        ],
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
        annotate=bool(os.environ.get("HTTPCORE_FAST_ANNOTATE")),
    )

setup(ext_modules=ext_modules, cmdclass={"build_ext": LoudBuildExt})
