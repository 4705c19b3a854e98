"""The sans-I/O core: protocol rules and configuration that never await.

Nothing here touches a socket, a clock, a lock or an event loop, and nothing here is
generated: ``_async/`` drives these state machines with I/O and is rewritten into
``_sync/``. Modules here import only the standard library, the kernel, the models,
exceptions and response limits, and the protocol libraries they wrap (h2, hpack,
socksio). See ``docs/architecture.md``.
"""
