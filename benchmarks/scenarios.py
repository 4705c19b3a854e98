"""What the comparison asks and what nginx answers: the payloads, the scenarios, the config.

A scenario is a row of `SCENARIOS`: a name (the `--scenarios` key), a `kind` (how a client is
driven, see below; the runners in harness.py), the URL path, a title for the report, and what
a correct response looks like. To add one:

* a row in `SCENARIOS` (and in `QUICK_SCENARIOS` if `--quick` should run it);
* if it asks a new path, a `location` in `render_nginx_conf` below;
* if it needs a new kind, a runner in harness.py (`run_client`) and that kind in the
  `kinds` of every client spec in clients.py that can do it;
* optionally a target in report.py (`TARGETS`).

The scenarios are documented for users in benchmarks/README.md ("Scenarios").
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

# --------------------------------------------------------------------------------------
# Server payloads. Plain ASCII without '"', '$', '\\' or ';' so they sit safely inside an
# nginx quoted string.

SMALL_BODY = (b"httpcore_fast benchmark payload: " + b"0123456789abcdefghij" * 4)[:99] + b"\n"
BODY_2K = (b"2k-payload-" + b"abcdefghijklmnopqrstuvwxyz0123456789" * 57)[:2047] + b"\n"
N_EXTRA_HEADERS = 50
EXTRA_HEADERS = [
    (f"X-Bench-Field-{i:02d}", f"value-{i:02d}-lorem-ipsum-dolor-sit-amet-{i * 7919:06d}")
    for i in range(1, N_EXTRA_HEADERS + 1)
]
assert len(SMALL_BODY) == 100 and len(BODY_2K) == 2048
BIG_SIZE = 100 * 1024 * 1024  # the large-body scenarios: 100 MiB
BIG_BLOCK = 64 * 1024


def big_block(i: int, base: bytes) -> bytes:
    """Block i of the large file: its index, then fixed pseudo-random bytes."""
    return i.to_bytes(8, "big") + base[8:]


def write_big_file(path: Path) -> int:
    """Write the 100 MiB file nginx serves; return its CRC-32 (checked once per client)."""
    base = bytes(range(256)) * (BIG_BLOCK // 256)
    base = bytes((b * 131 + 7) & 0xFF for b in base)
    crc = 0
    with open(path, "wb") as f:
        for i in range(BIG_SIZE // BIG_BLOCK):
            block = big_block(i, base)
            crc = zlib.crc32(block, crc)
            f.write(block)
    return crc


# --------------------------------------------------------------------------------------
# Scenarios. `kind` says how a client is driven:
#   seq      sync, one connection, each request after the previous response is read
#   threads  sync, `concurrency` threads sharing one client/pool
#   async    asyncio, `concurrency` tasks sharing one client/pool of that size
#   trio     trio, the same
#   big      sync, stream one 100 MiB body (MB/s)
#   abig     asyncio, the same
#   h2       asyncio over HTTP/2, `concurrency` streams on one connection (over TLS, or
#            cleartext with prior knowledge when `h2c`)
#   h2big    asyncio over TLS + HTTP/2, stream one 100 MiB body on one stream (MB/s)
# `tls`: HTTP/1.1 over TLS to nginx's TLS server (connections opened and warmed before the
# clock starts, so the record layer is measured, not handshakes); `loop`: the asyncio event
# loop the async kinds run on ("asyncio", or "uvloop", as a user would install it).
# Clients that drive their own concurrency (pycurl's CurlMulti, h2load) do the async kinds
# without an event loop (harness.DrivenAdapter).

SYNC_KINDS = frozenset({"seq", "threads", "big"})
ASYNC_KINDS = frozenset({"async", "abig", "h2", "h2big"})
ALL_KINDS = SYNC_KINDS | ASYNC_KINDS | {"trio"}
BODY_KINDS = frozenset({"big", "abig", "h2big"})  # one 100 MiB body per download: MB/s
HTTP2_KINDS = frozenset({"h2", "h2big"})


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str
    path: str
    title: str
    concurrency: int = 1
    body_len: int = 100
    min_headers: int = 1
    body: bytes | None = SMALL_BODY  # exact body to check (None: CRC-32 of the big file)
    tls: bool = False  # HTTP/1.1 over TLS (the HTTP/2 kinds are over TLS unless h2c)
    loop: str = "asyncio"  # the event loop of the async kinds: asyncio | uvloop
    h2c: bool = False  # HTTP/2 in cleartext with prior knowledge (RFC 9113 §3.3), no TLS

    @property
    def unit(self) -> str:
        return "MB/s" if self.kind in BODY_KINDS else "req/s"

    @property
    def http2(self) -> bool:
        return self.kind in HTTP2_KINDS


SCENARIOS = {
    s.name: s
    for s in [
        Scenario("small", "seq", "/small", "sequential keep-alive GET, 100 B body, sync"),
        Scenario("2k", "seq", "/2k", "sequential keep-alive GET, 2 KB body, sync",
                 body_len=2048, body=BODY_2K),
        Scenario("headers50", "seq", "/headers50",
                 f"sequential GET, {N_EXTRA_HEADERS} extra header fields + 100 B body, sync",
                 min_headers=N_EXTRA_HEADERS),
        Scenario("threads10", "threads", "/small", "10 threads on one sync pool, GET 100 B",
                 concurrency=10),
        Scenario("async50", "async", "/small",
                 "50 concurrent asyncio requests, pool of 50, GET 100 B", concurrency=50),
        Scenario("async1", "async", "/small", "1 asyncio request at a time, GET 100 B",
                 concurrency=1),
        Scenario("trio50", "trio", "/small",
                 "50 concurrent trio requests, pool of 50, GET 100 B", concurrency=50),
        Scenario("big", "big", "/big", "100 MiB body, Content-Length, sync (streamed)",
                 body_len=BIG_SIZE, body=None),
        Scenario("big-chunked", "big", "/big-chunked", "100 MiB body, chunked, sync (streamed)",
                 body_len=BIG_SIZE, body=None),
        Scenario("abig", "abig", "/big", "100 MiB body, Content-Length, asyncio (streamed)",
                 body_len=BIG_SIZE, body=None),
        Scenario("abig-chunked", "abig", "/big-chunked",
                 "100 MiB body, chunked, asyncio (streamed)", body_len=BIG_SIZE, body=None),
        Scenario("h2-50", "h2", "/small",
                 "HTTP/2 over TLS: 50 concurrent streams, one connection", concurrency=50),
        # The Content-Length body sent as /big-chunked is (sendfile off, 32 KiB output
        # buffers): abig against abig-chunked mixes framing with nginx's send path.
        Scenario("abig-nosendfile", "abig", "/big-nosendfile",
                 "100 MiB body, Content-Length, sendfile off, asyncio (streamed)",
                 body_len=BIG_SIZE, body=None),
        # TLS (HTTP/1.1; warm connections)
        Scenario("small-tls", "seq", "/small", "sequential GET over TLS, 100 B body, sync",
                 tls=True),
        Scenario("threads10-tls", "threads", "/small",
                 "10 threads on one sync pool over TLS, GET 100 B", concurrency=10, tls=True),
        Scenario("async50-tls", "async", "/small",
                 "50 concurrent asyncio requests over TLS, pool of 50, GET 100 B",
                 concurrency=50, tls=True),
        Scenario("abig-tls", "abig", "/big",
                 "100 MiB body over TLS, Content-Length, asyncio (streamed)",
                 body_len=BIG_SIZE, body=None, tls=True),
        # uvloop
        Scenario("async50-uvloop", "async", "/small",
                 "50 concurrent requests, pool of 50, GET 100 B, uvloop", concurrency=50,
                 loop="uvloop"),
        Scenario("async50-tls-uvloop", "async", "/small",
                 "50 concurrent requests over TLS, pool of 50, GET 100 B, uvloop",
                 concurrency=50, tls=True, loop="uvloop"),
        Scenario("abig-uvloop", "abig", "/big",
                 "100 MiB body, Content-Length, uvloop (streamed)", body_len=BIG_SIZE,
                 body=None, loop="uvloop"),
        Scenario("h2-50-uvloop", "h2", "/small",
                 "HTTP/2 over TLS: 50 concurrent streams, one connection, uvloop",
                 concurrency=50, loop="uvloop"),
        # HTTP/2 in cleartext (prior knowledge: nginx's plain `http2` port), and one large
        # body over one HTTP/2 stream: compare with abig-tls, the same body over HTTP/1.1.
        Scenario("h2c-50", "h2", "/small",
                 "HTTP/2 cleartext (prior knowledge): 50 concurrent streams, one connection",
                 concurrency=50, h2c=True),
        Scenario("h2-big", "h2big", "/big",
                 "100 MiB body over one HTTP/2 stream over TLS, asyncio (streamed)",
                 body_len=BIG_SIZE, body=None),
    ]
}  # fmt: skip
FULL_SCENARIOS = list(SCENARIOS)
QUICK_SCENARIOS = ["small", "headers50", "async50", "async1"]


# --------------------------------------------------------------------------------------
# The nginx config: one location per scenario path (nginx.py runs it).


def _nginx_quote(data: bytes) -> str:
    text = data.decode("ascii")
    assert not set(text) & set('"$\\;{}'), "payload must be nginx-safe"
    return '"' + text.replace("\n", "\\n") + '"'


def nginx_version(text: str) -> tuple[int, ...]:
    """(1, 22, 1) from `nginx -v`'s "nginx version: nginx/1.22.1" ((0,) if not found)."""
    m = re.search(r"nginx/(\d+(?:\.\d+)*)", text)
    return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)


def _http2_listen(version: tuple[int, ...]) -> tuple[str, str]:
    """(what `listen` adds, a directive for the server block) to turn HTTP/2 on: nginx
    1.25.1 made `http2 on;` the way (`listen ... http2` is deprecated there)."""
    if version >= (1, 25, 1):
        return "", "\n        http2 on;"
    return " http2", ""


def render_nginx_conf(
    tmp: Path,
    port: int,
    tls_port: int | None,
    temp_path_directives: list[str],
    h2c_port: int | None = None,
    version: tuple[int, ...] = (0,),
) -> str:
    headers = "\n".join(
        f"            add_header {name} {_nginx_quote(value.encode())};"
        for name, value in EXTRA_HEADERS
    )
    temp_paths = "\n".join(
        f"    {d} {tmp / ('tmp_' + d.split('_')[0])};" for d in temp_path_directives
    )
    h2_listen, h2_on = _http2_listen(version)
    tls = ""
    if tls_port:
        tls = f"""
    server {{
        listen 127.0.0.1:{tls_port} ssl{h2_listen};{h2_on}
        server_name localhost;
        default_type text/plain;
        ssl_certificate {tmp / "server.pem"};
        ssl_certificate_key {tmp / "server.key"};
        ssl_protocols TLSv1.2 TLSv1.3;
        http2_max_concurrent_streams 128;
        location = /small {{
            return 200 {_nginx_quote(SMALL_BODY)};
        }}
        location = /big {{
            default_type application/octet-stream;
            alias {tmp / "big.bin"};
        }}
        location / {{
            return 404;
        }}
    }}"""
    if h2c_port:  # HTTP/2 without TLS: only clients with prior knowledge talk to this port
        tls += f"""
    server {{
        listen 127.0.0.1:{h2c_port}{h2_listen};{h2_on}
        server_name localhost;
        default_type text/plain;
        http2_max_concurrent_streams 128;
        location = /small {{
            return 200 {_nginx_quote(SMALL_BODY)};
        }}
        location / {{
            return 404;
        }}
    }}"""
    return f"""# generated by benchmarks/compare.py; lives only in this temp dir
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} warn;
events {{
    worker_connections 512;
}}
http {{
    access_log off;
    server_tokens off;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    tcp_nodelay on;
    gzip off;
{temp_paths}
    server {{
        listen 127.0.0.1:{port} reuseport;
        server_name localhost;
        default_type text/plain;
        location = /small {{
            return 200 {_nginx_quote(SMALL_BODY)};
        }}
        location = /2k {{
            return 200 {_nginx_quote(BODY_2K)};
        }}
        location = /headers50 {{
{headers}
            return 200 {_nginx_quote(SMALL_BODY)};
        }}
        # 100 MiB with Content-Length, straight from the page cache (sendfile).
        location = /big {{
            default_type application/octet-stream;
            alias {tmp / "big.bin"};
            sendfile on;
        }}
        # The same file with Content-Length, sent as /big-chunked is (sendfile off, 32 KiB
        # output buffers): the apples-to-apples partner of the chunked scenarios.
        location = /big-nosendfile {{
            default_type application/octet-stream;
            alias {tmp / "big.bin"};
            sendfile off;
            output_buffers 2 32k;
        }}
        # The same file, chunked: the addition filter (an empty add_after_body) drops
        # Content-Length, so nginx sends Transfer-Encoding: chunked; sendfile off with 32 KiB
        # output buffers gives chunks of 32-64 KiB, as a dynamic source would.
        location = /big-chunked {{
            default_type application/octet-stream;
            alias {tmp / "big.bin"};
            sendfile off;
            output_buffers 2 32k;
            addition_types application/octet-stream;
            add_after_body /empty;
        }}
        location = /empty {{
            default_type application/octet-stream;
            alias {tmp / "empty.bin"};
        }}
        location / {{
            return 404;
        }}
    }}{tls}
}}
"""
