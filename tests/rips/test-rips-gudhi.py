"""`toposcope rips` against GUDHI's RipsComplex: clouds under every metric
(GUDHI given the same distance matrix), Z/3 coefficients, and a sample of the
projective plane, where Z/2 and Z/3 differ."""
import os
import tempfile

from riputil import diagram, same, toposcope_rips
from tstest import Checks, require

np = require("numpy")
gudhi = require("gudhi")
c = Checks()
rng = np.random.default_rng(7)
_tmpdir = tempfile.TemporaryDirectory(prefix="rips-test-")  # removed at exit
tmp = _tmpdir.name


def gudhi_diagram(D, maxdim, p=2, thr=None):
    kw = {"distance_matrix": D}
    if thr is not None:
        kw["max_edge_length"] = thr
    st = gudhi.RipsComplex(**kw).create_simplex_tree(max_dimension=maxdim + 1)
    st.compute_persistence(homology_coeff_field=p, min_persistence=0)
    return [sorted((float(b), float(d)) for b, d in st.persistence_intervals_in_dimension(k) if d > b)
            for k in range(maxdim + 1)]


def metric(X, name):
    if name == "euclidean":
        return np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    if name == "manhattan":
        return np.abs(X[:, None] - X[None]).sum(-1)
    if name == "chebyshev":
        return np.abs(X[:, None] - X[None]).max(-1)
    if name == "cosine":
        Y = X / np.linalg.norm(X, axis=1, keepdims=True)
        return np.clip(1 - Y @ Y.T, 0, None)
    if name == "correlation":
        return np.clip(1 - np.abs(np.corrcoef(X)), 0, None)


for t, name in enumerate(["euclidean", "manhattan", "chebyshev", "cosine", "correlation"] * 2):
    n, d = 36, 3 + t % 3
    X = rng.normal(size=(n, d))
    p = os.path.join(tmp, f"c{t}.txt")
    np.savetxt(p, X, fmt="%.9g")
    D = metric(X, name)
    np.fill_diagonal(D, 0)
    mod = 3 if t >= 5 else 2
    a = toposcope_rips(p, "--metric", name, "--maxdim", "2", "--modulus", str(mod))
    g = gudhi_diagram(D, 2, mod)
    for k in range(3):
        ok, why = same(diagram(a, k), g[k], tol=2e-5)
        c.check(ok, f"{name} (Z/{mod}): H{k} differs from GUDHI: {why}")

# RP^2: antipodal points of a sphere identified (distance min(|x-y|, |x+y|));
# H1 and H2 exist over Z/2, not over Z/3.
S = rng.normal(size=(90, 3))
S /= np.linalg.norm(S, axis=1, keepdims=True)
D = np.minimum(np.sqrt(((S[:, None] - S[None]) ** 2).sum(-1)), np.sqrt(((S[:, None] + S[None]) ** 2).sum(-1)))
np.fill_diagonal(D, 0)
p = os.path.join(tmp, "rp2.txt")
np.savetxt(p, D, fmt="%.9g")
for mod in (2, 3):
    a = toposcope_rips(p, "--format", "distance", "--maxdim", "2", "--modulus", str(mod), "--threshold", "1")
    g = gudhi_diagram(D, 2, mod, 1.0)
    for k in range(3):
        ok, why = same(diagram(a, k), g[k], tol=2e-5)
        c.check(ok, f"RP2 (Z/{mod}): H{k} differs from GUDHI: {why}")
    longest = max([q[2] - q[1] for q in a if q[0] == 2] + [0])
    c.check((longest > 0.3) == (mod == 2), f"RP2: a long H2 bar over Z/2 only (Z/{mod}: {longest})")
c.finish()
