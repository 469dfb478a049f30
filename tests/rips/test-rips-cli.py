"""The rips and phdim commands: output formats, options, clear errors."""
import os
import tempfile

from tstest import Checks, run

c = Checks()
_tmpdir = tempfile.TemporaryDirectory(prefix="rips-test-")  # removed at exit
tmp = _tmpdir.name


def write(name, text):
    p = os.path.join(tmp, name)
    with open(p, "w") as f:
        f.write(text)
    return p


sq = write("square.txt", "# a unit square\n0,0\n1,0\n1,1\n0,1\n")
out = run(["rips", sq]).stdout.splitlines()
c.check(out[0] == "dim,birth,death", f"header: {out[0]}")
# the enclosing radius is the diagonal: the H1 class [1, sqrt 2) is inside
c.check(out[1:] == ["0,0,1", "0,0,1", "0,0,1", "0,0,inf", "1,1,1.41421354"], f"square: {out[1:]}")
out = run(["rips", sq, "--threshold", "2", "--edges"]).stdout.splitlines()
c.check(out[0] == "dim,birth,death,birth_i,birth_j,death_i,death_j", out[0])
h1 = [l for l in out if l.startswith("1,")]
c.check(len(h1) == 1 and h1[0].startswith("1,1,1.41421"), f"square H1: {h1}")
o = os.path.join(tmp, "out.csv")
run(["rips", sq, "-o", o, "--maxdim", "0", "--metric", "chebyshev"])
with open(o) as f:
    c.check(f.read().splitlines()[-1] == "0,0,inf", "-o writes the CSV")

# inf means "no edge": a path 0 - 1 - 2 - 3
p = write("path.txt", "0 1 inf inf\n1 0 2 inf\ninf 2 0 3\ninf inf 3 0\n")
out = run(["rips", p, "--format", "distance", "--edges"]).stdout.splitlines()
c.check(out[1:] == ["0,0,1,1,-1,0,1", "0,0,2,2,-1,1,2", "0,0,3,3,-1,2,3", "0,0,inf,0,-1,-1,-1"], f"path: {out}")
# stdin, and a graph in two components: two essential classes
r = run(["rips", "-", "--format", "sparse"], input="0 1 1\n2 3 2\n")
c.check(r.stdout.splitlines()[1:] == ["0,0,1", "0,0,2", "0,0,inf", "0,0,inf"], f"graph: {r.stdout}")

for text, fmt, needle in [("0 0\n1 1 1\n", "points", "ragged"), ("0 0\nnan 1\n", "points", "NaN"),
                          ("0 1 2\n1 0 2\n", "distance", "not square"), ("0 -1\n-1 0\n", "distance", "negative"),
                          ("1 2\n", "lower-distance", "triangle")]:
    p = write("bad.txt", text)
    r = run(["rips", p, "--format", fmt], check=False)
    c.check(r.returncode == 1 and needle in r.stderr and "bad.txt" in r.stderr and r.stderr.startswith("toposcope: rips:"),
            f"{needle}: exit {r.returncode}, {r.stderr!r}")
for args in (["--format", "xml"], ["--metric", "cosmic"], ["--maxdim", "-1"], ["--threshold", "x"], []):
    r = run(["rips", *([sq] if args else []), *args], check=False)
    c.check(r.returncode == 2 and "--help" in r.stderr, f"usage error for {args}: {r.returncode} {r.stderr!r}")

# phdim on a 2D square: about 2
import random
random.seed(3)
p = write("plane.txt", "".join(f"{random.random()} {random.random()}\n" for _ in range(1500)))
r = run(["phdim", p, "--n-start", "300", "--step", "300", "--seed", "5"])
lines = r.stdout.splitlines()
dim = float([l for l in lines if l.startswith("phdim:")][0].split()[1])
c.check(abs(dim - 2) < 0.35, f"phdim of a square: {dim}")
c.check("n,E" in lines and "300," in r.stdout and "1200," in r.stdout, f"(n, E) table: {r.stdout}")
r2 = run(["phdim", p, "--n-start", "300", "--step", "300", "--seed", "5", "--threads", "1"])
c.check(r2.stdout == r.stdout, "phdim does not depend on the thread count")
r = run(["phdim", p, "--n-start", "1000", "--step", "600"], check=False)
c.check(r.returncode == 1 and "at least 2" in r.stderr, f"phdim with too few sizes: {r.stderr!r}")
c.finish()
