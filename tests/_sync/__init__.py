"""The client's tests, written once.

Every ``test_*.py`` of ``tests/_async/`` (run on asyncio and on trio) becomes the sync test
module of the same name in ``tests/_sync/``, through the library's rewriting rules, a few
test rules and the marked async-only and sync-only blocks (``scripts/unasync.py``). Each
side has its own ``conftest.py``.

Generated from ``tests/_async/__init__.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""
