"""Run a Python callable in a fresh process and report its wall time and peak memory (RSS)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time, importlib
mod, fn, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
f = getattr(importlib.import_module(mod), fn)
t0 = time.perf_counter()
result = f(*args)
elapsed = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("@@RESULT@@" + json.dumps({"seconds": elapsed, "peak_rss_mb": peak_mb, "result": result}, default=str))
"""


def in_child(module: str, function: str, *args, env: dict | None = None) -> dict:
    """``module.function(*args)`` in a new interpreter; its own time excludes interpreter start-up."""
    import os

    proc = subprocess.run(
        [sys.executable, "-c", CHILD, module, function, json.dumps(list(args))],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{module}.{function} failed:\n{proc.stderr[-4000:]}")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("@@RESULT@@"))
    return json.loads(line[len("@@RESULT@@") :])


def _hwm_mb(pid: int) -> float | None:
    """A process's peak resident set size in MiB (Linux ``VmHWM``), None where the kernel does not say."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class TreeMemory:
    """Samples the memory of this process and all its children (dask workers) in a thread.

    ``peak_rss_mb``: the largest sum of resident set sizes (counts shared pages once per process,
    so it overstates); ``peak_pss_mb``: the largest sum of proportional set sizes (shared pages
    split between the processes sharing them): the memory the job really holds. Both are sampled;
    ``peak_hwm_mb`` is the sum of each process's own peak RSS as the kernel records it (VmHWM),
    a bound no sampling can miss (the processes' peaks need not coincide). Reading PSS walks the
    page tables of each process, so a long job is better sampled every second or two.
    """

    def __init__(self, interval: float = 0.5):
        import threading

        self.interval = interval
        self.peak_rss_mb = 0.0
        self.peak_pss_mb = 0.0
        self._hwm: dict[int, float] = {}
        self._names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        import psutil

        me = psutil.Process()
        rss = pss = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                info = p.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            self._hwm[p.pid] = max(self._hwm.get(p.pid, 0.0), _hwm_mb(p.pid) or info.rss / 2**20)
            self._names.setdefault(p.pid, "this process" if p.pid == me.pid else f"child {p.pid}")
        self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20)
        self.peak_pss_mb = max(self.peak_pss_mb, pss / 2**20)

    @property
    def peak_hwm_mb(self) -> float:
        return sum(self._hwm.values())

    @property
    def hwm_by_process_mb(self) -> dict[str, float]:
        """Each process's own peak RSS (VmHWM), by process: which one holds the memory."""
        return {self._names[pid]: round(mb, 1) for pid, mb in self._hwm.items()}

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()
