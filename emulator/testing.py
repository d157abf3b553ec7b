"""Start the emulator as a subprocess for tests and fixtures.

with start_emulator(tmp_path) as emu:
    emu.admin("/config", "POST", {"send_delay_ms": 0})
    EmailClient.from_connection_string(conn, connection_verify=emu.ca_path)
"""

from __future__ import annotations

import json as jsonlib
import os
import selectors
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports() -> tuple[int, int, int]:
    """HTTP, SMTP and DNS ports (the DNS port free for both TCP and UDP)."""
    http, smtp = free_port(), free_port()
    while True:
        dns = free_port(socket.SOCK_DGRAM)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", dns))
        except OSError:
            continue
        if dns not in (http, smtp):
            return http, smtp, dns


class EmulatorProcess:
    def __init__(
        self,
        proc: subprocess.Popen[str],
        state_dir: Path,
        port: int,
        smtp_port: int,
        dns_port: int,
        stderr_path: Path,
    ) -> None:
        self.proc = proc
        self.state_dir = state_dir
        self.port = port
        self.smtp_port = smtp_port
        self.dns_port = dns_port
        self.stderr_path = stderr_path
        self.url = f"https://127.0.0.1:{port}"
        self.ca_path = str(state_dir / "ca.pem")
        self._ssl: ssl.SSLContext | None = None

    def admin(self, path: str, method: str = "GET", json: Any = None) -> Any:
        """Call ``/_emulator{path}``; returns the decoded JSON (or None)."""
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith("/_emulator"):
            path = "/_emulator" + path
        data = None if json is None else jsonlib.dumps(json).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=self.ca_path)
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(
                f"admin {method} {path} -> {exc.code}: {exc.read()[:500]!r}"
            ) from exc
        return jsonlib.loads(raw) if raw else None

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_emulator(
    state_dir: Path,
    *,
    admin: bool = True,
    port: int | None = None,
    smtp_port: int | None = None,
    dns_port: int | None = None,
    timeout: float = 30,
    extra_args: list[str] | None = None,
) -> EmulatorProcess:
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    h, s, d = free_ports()
    port, smtp_port, dns_port = port or h, smtp_port or s, dns_port or d
    cmd = [
        sys.executable,
        "-m",
        "emulator",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--smtp-port",
        str(smtp_port),
        "--dns-port",
        str(dns_port),
        "--state",
        str(state_dir),
        *(["--admin"] if admin else []),
        *(extra_args or []),
    ]
    stderr_path = state_dir / "emulator-stderr.log"
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(root), env.get("PYTHONPATH", "")) if p
    )
    with open(stderr_path, "w") as err:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=str(root),
            env=env,
        )
    emu = EmulatorProcess(proc, state_dir, port, smtp_port, dns_port, stderr_path)
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if sel.select(timeout=0.1):
            line = proc.stdout.readline()
            if line.startswith("emulator ready"):
                sel.close()
                return emu
    sel.close()
    emu.stop()
    raise RuntimeError(
        f"emulator did not become ready within {timeout}s (last stdout line "
        f"{line!r}); stderr:\n{emu.stderr()[-4000:]}"
    )
