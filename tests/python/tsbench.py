"""Helpers for tests/bench: timing of commands and Python callables with
peak memory, and one table format for every benchmark."""
import os
import resource
import subprocess
import time


def run_cmd(args, repeat=3, env=None):
    """Best wall time (s) over `repeat` runs and the peak RSS (bytes) of a command.

    The peak comes from GNU time, whose own child starts from a small process:
    a child forked straight from Python would report Python's peak as its own
    (Linux keeps the high-water mark across fork and exec)."""
    best = float("inf")
    peak = 0
    timer = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(timer + list(map(str, args)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, env=env)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, args))} failed (exit {p.returncode}): {p.stderr[-500:]}")
        best = min(best, dt)
        if timer:
            kib = p.stderr.strip().splitlines()[-1]
            peak = max(peak, int(kib) * 1024 if kib.isdigit() else 0)
    return best, peak


def time_py(fn, repeat=3):
    """Best wall time (s) of fn() over `repeat` calls and the return value of the last."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_rss_self():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def table(title, rows, headers):
    """Prints rows (lists) under headers as an aligned text table."""
    cols = [headers] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cols) for i in range(len(headers))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(headers)))
    print("  ".join("-" * w[i] for i in range(len(headers))))
    for r in cols[1:]:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
