"""The comparison benchmark's harness (benchmarks/compare.py and its modules): the parts that
decide what is measured and reported, and one real run of the HTTP/2 scenarios on nginx.

The benchmark modules import each other as top-level modules (compare.py's directory is on
sys.path when it runs), so they are loaded here the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import clients  # noqa: E402
import harness  # noqa: E402
import report  # noqa: E402
import scenarios  # noqa: E402

H2LOAD_OUTPUT = """starting benchmark...
spawning thread #0: 1 total client(s). 100 total requests
Application protocol: h2c
progress: 100% done

finished in 6.19ms, 16144.66 req/s, 2.52MB/s
requests: 100 total, 100 started, 100 done, 100 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 100 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 15.97KB (16349) total, 4.39KB (4500) headers (space savings 51.61%), 9.77KB (10000) data
                     min         max         mean         sd        +/- sd
time for request:      103us      3.14ms      1.92ms       749us    72.00%
"""


def test_parse_h2load_reads_the_summary() -> None:
    r = clients.parse_h2load(H2LOAD_OUTPUT)
    assert r["elapsed"] == pytest.approx(0.00619)
    assert (r["succeeded"], r["2xx"], r["failed"], r["errored"]) == (100, 100, 0, 0)
    assert r["protocol"] == "h2c"
    assert r["data"] == 10000  # the DATA bytes, not the total or the headers


def test_parse_h2load_without_a_summary_is_a_verification_error() -> None:
    with pytest.raises(harness.VerificationError, match="finished in"):
        clients.parse_h2load("starting benchmark...\nprogress: 10% done\n")


@pytest.mark.parametrize(
    ("version", "listen", "directive"),
    [((1, 22, 1), " http2;", ""), ((1, 25, 1), ";", "http2 on;")],
)
def test_nginx_conf_h2c_server_per_nginx_version(
    version: tuple[int, ...], listen: str, directive: str, tmp_path: Path
) -> None:
    conf = scenarios.render_nginx_conf(tmp_path, 8000, 8443, [], h2c_port=8002, version=version)
    assert f"listen 127.0.0.1:8002{listen}" in conf
    assert f"listen 127.0.0.1:8443 ssl{listen}" in conf
    assert conf.count("http2 on;") == (2 if directive else 0)
    assert "8002 ssl" not in conf  # cleartext: prior knowledge only


def test_nginx_version_parses_nginx_dash_v() -> None:
    assert scenarios.nginx_version("nginx version: nginx/1.22.1") == (1, 22, 1)
    assert scenarios.nginx_version("nginx version: openresty/1.25.3.1") == (0,)


def test_new_scenarios_are_http2_and_their_jobs_pick_the_right_origin() -> None:
    h2c, big = scenarios.SCENARIOS["h2c-50"], scenarios.SCENARIOS["h2-big"]
    assert h2c.http2 and h2c.h2c and h2c.unit == "req/s"
    assert big.http2 and not big.h2c and big.unit == "MB/s"
    job = harness.Job("127.0.0.1", 1, h2c, 100, 0, True, 0.0, tls_port=2, h2c_port=3)
    assert (job.h2, job.h2c, job.tls, job.url) == (True, True, False, "http://127.0.0.1:3/small")
    job = harness.Job("127.0.0.1", 1, big, 1, 0, True, 0.0, tls_port=2, h2c_port=3)
    assert (job.h2, job.tls, job.url) == (True, True, "https://localhost:2/big")
    job = harness.Job("127.0.0.1", 1, h2c, 100, 0, True, 0.0)
    with pytest.raises(harness.ClientUnavailable, match="no h2c server"):
        _ = job.url


def test_http2_scenarios_reject_http11_and_unknown_versions() -> None:
    sc = scenarios.SCENARIOS["h2c-50"]
    body = scenarios.SMALL_BODY
    harness._check("x", sc, 200, body, 3, "HTTP/2")
    with pytest.raises(harness.VerificationError, match="not HTTP/2"):
        harness._check("x", sc, 200, body, 3, "HTTP/1.1")
    with pytest.raises(harness.VerificationError, match="did not report"):
        harness._check("x", sc, 200, body, 3, None)


def test_every_concurrent_http2_scenario_has_pycurl_multi_and_h2load() -> None:
    keys = clients.CLIENT_KEYS
    for name in ("async50", "async50-tls", "h2-50", "h2c-50"):
        assert keys["pycurl-multi"].supports(scenarios.SCENARIOS[name]), name
    for name in ("h2-50", "h2c-50"):
        assert keys["h2load"].supports(scenarios.SCENARIOS[name]), name
    for name in ("async50-uvloop", "h2-50-uvloop", "h2-big", "abig"):
        assert not keys["pycurl-multi"].supports(scenarios.SCENARIOS[name]), name
    for name in ("threads10", "threads10-tls", "small-tls"):
        assert keys["pycurl"].supports(scenarios.SCENARIOS[name]), name
    for key in ("fast-cython", "httpcore2", "pyreqwest"):
        assert keys[key].supports(scenarios.SCENARIOS["h2-big"]), key


def _row(label: str, median: float) -> dict[str, Any]:
    return {"label": label, "median": median}


def test_summary_table_best_other_peer_and_ceiling() -> None:
    doc = {
        "h2-50": {
            "title": "HTTP/2",
            "unit": "req/s",
            "clients": {
                "fast-cython": _row("httpcore_fast[cython]", 15000),
                "httpx-fast": _row("httpx on httpcore_fast", 16000),
                "httpcore": _row("httpcore 1.0.9", 1500),
                "h2load": _row("h2load (ceiling)", 40000),
                "pycurl-multi": _row("pycurl multi", 30000),
                "httpcore2": _row("httpcore2", 1700),
                "httpx": {"label": "httpx", "status": "failed"},
            },
        },
        "small": {
            "title": "S",
            "unit": "req/s",
            "clients": {
                "fast-cython": _row("httpcore_fast[cython]", 6000),
                "httpcore": _row("httpcore 1.0.9", 3000),
                "raw": _row("raw socket (ceiling)", 9000),
                "pycurl": _row("pycurl", 7000),
            },
        },
    }
    table = report.summary_table(doc).splitlines()
    assert table[2] == (
        "| h2-50: HTTP/2 (req/s) | 15,000 | 1,500 | 10.0x | 40,000 | "
        "pycurl multi 30,000; httpcore2 1,700 |"
    )  # httpcore2: the peer of the HTTP/2 target; the fast clients are never "other"
    # The small GET's target is against the ceiling: the ceiling is not listed as a peer.
    assert table[3] == "| small: S (req/s) | 6,000 | 3,000 | 2.00x | 9,000 | pycurl 7,000 |"


@pytest.mark.network
@pytest.mark.skipif(
    shutil.which("nginx") is None, reason="needs nginx (scripts/bench installs it)"
)
def test_compare_runs_the_http2_scenarios_on_nginx(tmp_path: Path) -> None:
    """One short real run: h2c and HTTP/2 over TLS with httpcore_fast, and h2-big; every
    client that runs must post a number (a failed one would make the exit status 1)."""
    out = tmp_path / "run.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "compare.py"),
            "--scenarios", "h2c-50,h2-50,h2-big",
            "--clients", "fast-cython,pycurl-multi,h2load",
            "--rounds", "1", "--requests", "200", "--warmup", "50", "--big-downloads", "1",
            "--no-pin", "--no-png", "--no-targets", "--json", str(out),
        ],
        capture_output=True,
        text=True,
        timeout=110,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    for name in ("h2c-50", "h2-50", "h2-big"):
        row = doc["scenarios"][name]["clients"]["fast-cython"]
        assert row["median"] > 0, (name, row)
    for key in ("pycurl-multi", "h2load"):  # optional peers: a number, or "unavailable"
        for name in ("h2c-50", "h2-50"):
            row = doc["scenarios"][name]["clients"][key]
            assert "median" in row or row["status"] == "unavailable", (name, key, row)
    assert "| h2c-50:" in doc["summary_table"]


@pytest.mark.network
@pytest.mark.skipif(
    shutil.which("nginx") is None, reason="needs nginx (scripts/bench installs it)"
)
def test_libcurl_peers_verify_the_certificate_over_tls() -> None:
    """The TLS rows are fair only if libcurl checks the server as Python's ssl does: the
    test CA is accepted, another CA is refused (pycurl, its multi interface, curl_cffi)."""
    pytest.importorskip("pycurl")
    pytest.importorskip("curl_cffi")
    import time

    import trustme
    from nginx import NginxServer, find_nginx

    server = NginxServer(find_nginx(None), None, None, 15.0, want_big=False, want_tls=True)
    server.start()
    try:
        assert server.ca_pem is not None and server.tls_port is not None
        for ca, ok in ((server.ca_pem, True), (trustme.CA().cert_pem.bytes(), False)):
            for name, make in (
                ("small-tls", clients.PycurlSync),
                ("small-tls", clients.CurlCffiSync),
                ("async50-tls", clients.PycurlMulti),
            ):
                job = harness.Job(
                    "127.0.0.1", server.port, scenarios.SCENARIOS[name], 10, 0, True,
                    time.monotonic() + 20, tls_port=server.tls_port, ca_pem=ca,
                )  # fmt: skip
                ad = make(job)
                try:
                    if ok:
                        status, body, _, version = ad.full(job.url)
                        assert (status, body, version) == (200, scenarios.SMALL_BODY, "HTTP/1.1")
                    else:
                        with pytest.raises(Exception, match=r"\b60\b|certificate"):
                            ad.full(job.url)
                finally:
                    ad.close()
    finally:
        server.cleanup()
