"""The server under the benchmark: one nginx that this process starts, pins and stops by PID.

`NginxServer` writes the config (`scenarios.render_nginx_conf`) and its inputs (the 100 MiB
file, a throw-away CA and certificate for TLS) into a temp dir, starts nginx pinned to its own
CPU, waits until it answers, and stops it (and its worker) at the end, also when this process
is killed. Nothing here knows about clients or scenarios beyond what nginx serves.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scenarios import SMALL_BODY, nginx_version, render_nginx_conf, write_big_file


def find_nginx(explicit: str | None) -> str:
    if explicit:
        return explicit
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit(
        "nginx not found: install it (apt-get install -y nginx-light) or run scripts/bench, "
        "or pass --nginx /path/to/nginx"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children_of(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids.extend(int(x) for x in f.read().split())
    except OSError:
        pass
    return kids


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def _die_with_parent() -> None:
    """Linux: have the kernel send nginx's master SIGTERM if this process dies, even by
    SIGKILL, so no nginx outlives the runner (the master then stops its worker)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the finally-blocks in run() are the only guard


class NginxServer:
    """One nginx master (+1 worker) that this process starts and stops by PID."""

    def __init__(
        self,
        binary: str,
        cpu: int | None,
        port: int | None,
        start_timeout: float,
        want_big: bool,
        want_tls: bool,
        want_h2c: bool = False,
    ):
        self.binary = binary
        self.cpu = cpu
        self.requested_port = port
        self.start_timeout = start_timeout
        self.want_big = want_big
        self.want_tls = want_tls
        self.want_h2c = want_h2c
        self.tmp = Path(tempfile.mkdtemp(prefix="httpcore_fast_bench_nginx_"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.tls_port: int | None = None
        self.h2c_port: int | None = None  # HTTP/2 in cleartext (prior knowledge only)
        self.version = ""
        self.big_crc: int | None = None
        self.ca_pem: bytes | None = None  # the throw-away CA that signed the TLS server
        self.tls_note = ""

    # -- inputs -----------------------------------------------------------------------
    def _prepare(self) -> None:
        # nginx's worker drops root to an unprivileged user: it must be able to read these.
        os.chmod(self.tmp, 0o755)
        (self.tmp / "empty.bin").write_bytes(b"")
        if self.want_big:
            self.big_crc = write_big_file(self.tmp / "big.bin")
        if self.want_tls:
            try:
                import trustme

                ca = trustme.CA()
                cert = ca.issue_cert("127.0.0.1", "localhost")
                cert.private_key_pem.write_to_path(str(self.tmp / "server.key"))
                with open(self.tmp / "server.pem", "wb") as f:
                    for blob in cert.cert_chain_pems:
                        f.write(blob.bytes())
                self.ca_pem = ca.cert_pem.bytes()
            except Exception as exc:  # noqa: BLE001 - no TLS scenario then, with a note
                self.tls_note = f"no TLS server: trustme failed ({type(exc).__name__}: {exc})"
                self.want_tls = False

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        out = subprocess.run([self.binary, "-v"], capture_output=True, timeout=10)
        self.version = (out.stderr or out.stdout).decode(errors="replace").strip()
        self._prepare()
        directives = [
            "client_body_temp_path",
            "proxy_temp_path",
            "fastcgi_temp_path",
            "uwsgi_temp_path",
            "scgi_temp_path",
        ]

        def write_conf() -> Path:
            self.port = self.requested_port or free_port()
            self.tls_port = free_port() if self.want_tls else None
            self.h2c_port = free_port() if self.want_h2c else None
            conf = self.tmp / "nginx.conf"
            # Drop temp-path directives of modules this nginx build lacks (bounded).
            for _ in range(len(directives) + 3):
                conf.write_text(
                    render_nginx_conf(
                        self.tmp,
                        self.port,
                        self.tls_port,
                        directives,
                        self.h2c_port,
                        nginx_version(self.version),
                    )
                )
                test = subprocess.run(
                    self._argv(conf) + ["-t", "-q"], capture_output=True, timeout=20
                )
                if test.returncode == 0:
                    break
                err = test.stderr.decode(errors="replace")
                unknown = re.search(r'unknown directive "(\w+_temp_path)"', err)
                if unknown and unknown.group(1) in directives:
                    directives.remove(unknown.group(1))
                    continue
                if self.tls_port and ("ssl" in err or "http2" in err):
                    self.tls_note = f"no TLS/HTTP/2 server: nginx said {err.strip()[:200]}"
                    self.want_tls, self.tls_port = False, None
                    self.want_h2c, self.h2c_port = False, None
                    continue
                if self.h2c_port and "http2" in err:
                    self.tls_note = f"no h2c server: nginx said {err.strip()[:200]}"
                    self.want_h2c, self.h2c_port = False, None
                    continue
                raise RuntimeError(f"nginx rejected the generated config:\n{err}")
            return conf

        self._launch(write_conf)

    def _launch(self, write_conf: Callable[[], Path]) -> None:
        """Start nginx with the config ``write_conf()`` writes (choosing ports, checking
        it with ``nginx -t``) and wait until it answers; up to 3 attempts, since a port
        chosen free can be taken before nginx binds it."""
        last_error = ""
        for attempt in range(3):  # bounded: a port race
            conf = write_conf()
            self._spawn(conf)
            try:
                self._wait_ready()
                return
            except RuntimeError as exc:
                last_error = str(exc)
                self.stop()
                if self.requested_port:
                    break
                print(f"note: nginx start attempt {attempt + 1} failed, retrying: {exc}")
        raise RuntimeError(f"nginx did not start: {last_error}")

    def _argv(self, conf: Path) -> list[str]:
        log = str(self.tmp / "error.log")
        return [self.binary, "-p", str(self.tmp), "-c", str(conf), "-e", log]

    def _spawn(self, conf: Path) -> None:
        cpu = self.cpu

        def pin() -> None:  # runs in the child before exec; the worker inherits it
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})
            _die_with_parent()

        with open(self.tmp / "stderr.log", "wb") as stderr:  # nginx keeps its own copy
            self.proc = subprocess.Popen(
                self._argv(conf) + ["-g", "daemon off; master_process on;"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # Ctrl-C reaches us, and we stop nginx ourselves
                preexec_fn=pin,
            )

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        request = b"GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: {self.logs()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(request)
                    data = b""
                    while len(data) < 1_000_000:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                if data.startswith(b"HTTP/1.1 200") and data.endswith(SMALL_BODY):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nginx not answering within {self.start_timeout}s: {self.logs()}")

    def logs(self) -> str:
        text = []
        for name in ("error.log", "stderr.log"):
            p = self.tmp / name
            if p.exists():
                text.append(p.read_text(errors="replace")[-2000:])
        return "\n".join(t for t in text if t.strip()) or "(no log output)"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        workers = _children_of(proc.pid)
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)  # nginx: fast shutdown
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        for pid in workers:  # normally gone with the master; never leave one behind
            deadline = time.monotonic() + 2
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if _pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
