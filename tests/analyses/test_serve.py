"""`carbonscope serve` starts an analysis worker beside the site, and the worker ends with the site
even when the site ends by a signal (uvicorn re-raises it, so no clean-up code of `serve` runs)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def test_the_embedded_worker_starts_and_stops_with_the_site(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONSCOPE_")}
    env["CARBONSCOPE_DATA_DIR"] = str(tmp_path)
    site = subprocess.Popen(
        [sys.executable, "-m", "carbonscope.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while not workers:
            assert time.monotonic() < deadline, "serve started no worker"
            workers = [c for c in _children(site.pid) if b"worker" in Path(f"/proc/{c}/cmdline").read_bytes()]
            time.sleep(0.2)
        assert f"--exit-with\x00{site.pid}".encode() in Path(f"/proc/{workers[0]}/cmdline").read_bytes()
        site.send_signal(signal.SIGTERM)
        site.wait(timeout=30)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{workers[0]}").exists() and b"zombie" not in Path(f"/proc/{workers[0]}/status").read_bytes():
            assert time.monotonic() < deadline, "the worker outlived the site"
            time.sleep(0.2)
    finally:
        if site.poll() is None:
            site.kill()
