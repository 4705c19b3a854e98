"""Default TLS contexts.

* :func:`default_ssl_context` builds a NEW verifying client context on every call, as
  httpcore does (public API; users mutate what they get).
* :func:`shared_ssl_context` returns one process-wide context per ALPN list, built
  lazily on first use and then reused. Connections use it when the user passed
  ``ssl_context=None``: loading the CA bundle costs milliseconds, far more than a
  whole request. The shared contexts must be treated as read-only. Because they are
  built once, changes to ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` after the first TLS
  connection of the process are not seen by them (``default_ssl_context()`` always
  reads the environment afresh).
"""

from __future__ import annotations

import os
import threading
import typing

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

__all__ = ["default_ssl_context", "origin_ssl_context", "shared_ssl_context"]


def default_ssl_context(*, _trust_env: bool = True) -> ssl.SSLContext:
    """Return a new client ``ssl.SSLContext`` that verifies certificates and host names.

    Trust anchors: the certifi CA bundle (plus OpenSSL's default locations, as
    ``ssl.create_default_context()`` loads them). With ``_trust_env`` (the httpcore2
    keyword, default True), a non-empty ``SSL_CERT_FILE`` environment variable
    replaces them with that PEM file, else a non-empty ``SSL_CERT_DIR`` with that
    directory of hashed certificates. With ``_trust_env=False`` neither variable is read,
    not even by OpenSSL: its compiled-in default locations are loaded by name instead
    (``ssl.create_default_context()`` alone would read them, through
    ``set_default_verify_paths()``), as httpcore2 does.

    Raises:
        OSError / ssl.SSLError: if the configured CA file or directory cannot be loaded.
    """
    import ssl  # here, not at the top: a program that never makes a context never loads it

    if _trust_env:
        cafile = os.environ.get("SSL_CERT_FILE")
        if cafile:
            return ssl.create_default_context(cafile=cafile)
        capath = os.environ.get("SSL_CERT_DIR")
        if capath:
            return ssl.create_default_context(capath=capath)
        context = ssl.create_default_context()
    else:
        # Given a cafile, create_default_context() loads no default paths at all.
        context = ssl.create_default_context(cafile=_certifi_bundle())
        paths = ssl.get_default_verify_paths()
        cafile = paths.openssl_cafile if os.path.isfile(paths.openssl_cafile) else None
        capath = paths.openssl_capath if os.path.isdir(paths.openssl_capath) else None
        if cafile or capath:
            context.load_verify_locations(cafile, capath)
        return context
    context.load_verify_locations(_certifi_bundle())
    return context


def _certifi_bundle() -> str:
    """The path of certifi's CA bundle. certifi is imported here, on the first default
    context, not with httpcore_fast (about 7 ms of import time: importlib.resources)."""
    import certifi

    return certifi.where()


_H11_ALPN = ["http/1.1"]
_H2_ALPN = ["http/1.1", "h2"]
_shared: dict[bool, ssl.SSLContext] = {}
_shared_lock = threading.Lock()


def shared_ssl_context(http2: bool) -> ssl.SSLContext:
    """Return the process-wide default context for ALPN ``["http/1.1"]`` (``http2``
    false) or ``["http/1.1", "h2"]`` (``http2`` true).

    Built once per process and ALPN list with :func:`default_ssl_context` (thread-safe),
    then returned as is. Callers must not modify it.
    """
    context = _shared.get(http2)
    if context is None:
        with _shared_lock:
            context = _shared.get(http2)
            if context is None:
                context = default_ssl_context()
                context.set_alpn_protocols(_H2_ALPN if http2 else _H11_ALPN)
                _shared[http2] = context
    return context


def origin_ssl_context(ssl_context: ssl.SSLContext | None, http2: bool) -> ssl.SSLContext:
    """The context for TLS to an origin: ALPN ``http/1.1``, plus ``h2`` when ``http2``
    (RFC 7301). ``ssl_context`` None: the process-wide default context
    (:func:`shared_ssl_context`); a caller's context gets its ALPN protocols set, as
    httpcore does."""
    if ssl_context is None:
        return shared_ssl_context(http2=http2)
    ssl_context.set_alpn_protocols(["http/1.1", "h2"] if http2 else ["http/1.1"])
    return ssl_context
