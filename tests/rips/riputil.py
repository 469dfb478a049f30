"""Shared helpers of the Rips tests: run `toposcope rips` and the `ripser`
command on the same file and compare diagrams."""
import math
import re
import subprocess

from tstest import run

RIPSER = "/usr/bin/ripser"


def toposcope_rips(path, *opts):
    """Pairs (dim, birth, death, bi, bj, di, dj) from `toposcope rips --edges`."""
    out = run(["rips", path, "--edges", *opts]).stdout.strip().splitlines()
    assert out[0] == "dim,birth,death,birth_i,birth_j,death_i,death_j", out[0]
    pairs = []
    for line in out[1:]:
        f = line.split(",")
        pairs.append((int(f[0]), float(f[1]), math.inf if f[2] == "inf" else float(f[2]), *map(int, f[3:])))
    return pairs


def ripser(path, fmt, maxdim, threshold=None, modulus=None):
    args = [RIPSER, "--format", fmt, "--dim", str(maxdim)]
    if threshold is not None:
        args += ["--threshold", str(threshold)]
    if modulus is not None:
        args += ["--modulus", str(modulus)]
    out = subprocess.run(args + [path], capture_output=True, text=True, check=True).stdout
    pairs, dim = [], None
    for line in out.splitlines():
        m = re.match(r"persistence intervals in dim (\d+):", line)
        if m:
            dim = int(m.group(1))
            continue
        m = re.match(r"\s*\[([^,]+),\s*([^)]*)\)", line)
        if m and dim is not None:
            b = float(m.group(1))
            d = math.inf if m.group(2).strip() == "" else float(m.group(2))
            pairs.append((dim, b, d))
    return pairs


def diagram(pairs, dim, min_pers=0.0):
    """Sorted (birth, death) of one dimension, zero-length pairs dropped."""
    return sorted((p[1], p[2]) for p in pairs if p[0] == dim and not (p[2] - p[1] <= min_pers))


def close(x, y, tol):
    for u, v in zip(x, y):
        if math.isinf(u) or math.isinf(v):
            if u != v:
                return False
        elif abs(u - v) > tol * max(1.0, abs(u)):
            return False
    return True


def same(a, b, tol=1e-5):
    """Two sorted diagrams are equal up to float rounding (ripser prints 6
    digits, so near-equal births may sort either way: each pair of a is
    matched to an unused pair of b within tol); returns (ok, why)."""
    if len(a) != len(b):
        return False, f"{len(a)} vs {len(b)} pairs"
    used = [False] * len(b)
    lo = 0
    for x in a:
        while lo < len(b) and used[lo]:
            lo += 1
        for k in range(lo, len(b)):
            if not used[k] and close(x, b[k], tol):
                used[k] = True
                break
            if b[k][0] > x[0] + tol * max(1.0, abs(x[0])):
                return False, f"{x} has no match"
        else:
            return False, f"{x} has no match"
    return True, ""
