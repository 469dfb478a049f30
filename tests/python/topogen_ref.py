"""A transcription of Topo-GEN's topological losses in PyTorch, written from
its definitions and kept in its style -- per-pair Python loops, values of the
learned cloud recomputed from its generator edges so autograd reaches the
points, the target's values read from its diagram -- for the cross-check
tests and the benchmark of core/topo.

Diagrams are dicts as giotto-ph's ripser_parallel returns them:
  dgm["dgms"][0]: (n0 + 1) x 2 (birth, death), the essential (0, inf) last
  dgm["gens"][0]: n0 x 3 (vertex, i, j): the death edge of each finite H0 bar
  dgm["dgms"][1]: n1 x 2;  dgm["gens"][1][0]: n1 x 4 (bi, bj, di, dj)
Two sources: `dgm_from_csv` (Toposcope's CSV with edges, e.g. from
`toposcope topoloss --diagrams`) and `dgm_from_gudhi` (GUDHI's
flag_persistence_generators, standing in for giotto-ph).

persim is not in Debian: the bottleneck losses take a `matcher(A, B, dim)` that
returns the longest edge (i, j) of an optimal matching (-1 = diagonal).
`exact_matcher` is an exact one (bisection over the candidate costs with a
maximum bipartite matching on the diagonal-augmented graph); the tests pass
Toposcope's own choice and check its cost against GUDHI's exact distance.
"""
import math

import numpy as np
import torch


def _dist(p1, p2):
    return torch.sqrt(torch.sum((p2 - p1) ** 2))


def _dist_sup(b1, d1, b2, d2):
    return torch.max(torch.abs(b1 - b2), torch.abs(d1 - d2))


def _dist_2(a, b, c, d):
    return (a - c) ** 2 + (b - d) ** 2


def _zero(pc):
    return torch.tensor(0.0, dtype=pc.dtype)


# ---- diagrams -------------------------------------------------------------

def dgm_from_csv(path, deg=1):
    """Bars in the file's order (the order the C losses index them)."""
    h0, g0, h1, g1 = [], [], [], []
    with open(path) as f:
        head = f.readline().strip()
        assert head.startswith("dim,birth,death"), head
        for line in f:
            v = line.strip().split(",")
            if not v or v == [""]:
                continue
            dim, b, d = int(v[0]), float(v[1]), float(v[2])
            e = [int(x) for x in v[3:7]] if len(v) >= 7 else [-1, -1, -1, -1]
            if dim == 0:
                h0.append((b, d))
                g0.append((min(e[2], e[3]), e[2], e[3]))
            elif dim == 1:
                h1.append((b, d))
                g1.append(tuple(e))
    dg0 = np.array(h0 + [(0.0, math.inf)], dtype=np.float64).reshape(-1, 2)
    out = {"dgms": [dg0], "gens": [np.array(g0, dtype=np.int64).reshape(-1, 3)]}
    if deg >= 1:
        out["dgms"].append(np.array(h1, dtype=np.float64).reshape(-1, 2))
        out["gens"].append([np.array(g1, dtype=np.int64).reshape(-1, 4)])
    return out


def dgm_from_gudhi(points, deg=1):
    """Rips diagram with generators from GUDHI (giotto-ph's layout)."""
    import gudhi

    pts = np.asarray(points, dtype=np.float64)
    st = gudhi.RipsComplex(points=pts).create_simplex_tree(max_dimension=deg + 1)
    st.compute_persistence()
    gens = st.flag_persistence_generators()  # (H0 regular, [H1.. regular], H0 essential, [..])

    def length(i, j):
        return float(np.linalg.norm(pts[i] - pts[j]))

    g0 = np.asarray(gens[0]).reshape(-1, 3)
    h0 = [(0.0, length(i, j)) for _, i, j in g0]
    keep0 = [k for k in range(len(h0)) if h0[k][1] > 0]
    out = {"dgms": [np.array([h0[k] for k in keep0] + [(0.0, math.inf)]).reshape(-1, 2)],
           "gens": [g0[keep0]]}
    if deg >= 1:
        g1 = np.asarray(gens[1][0]).reshape(-1, 4) if len(gens[1]) else np.zeros((0, 4), np.int64)
        h1 = [(length(a, b), length(c, d)) for a, b, c, d in g1]
        keep1 = [k for k in range(len(h1)) if h1[k][1] > h1[k][0]]
        out["dgms"].append(np.array([h1[k] for k in keep1]).reshape(-1, 2))
        out["gens"].append([g1[keep1]])
    return out


# ---- an exact bottleneck matching (persim's stand-in) ------------------------

def exact_matcher(A, B, dim=None):
    """Longest edge (i, j) of an optimal bottleneck matching of the finite
    diagrams A, B (k x 2 arrays; -1 = the diagonal)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    A = np.asarray(A, dtype=np.float64).reshape(-1, 2)
    B = np.asarray(B, dtype=np.float64).reshape(-1, 2)
    na, nb = len(A), len(B)
    C = np.maximum(np.abs(A[:, None, 0] - B[None, :, 0]), np.abs(A[:, None, 1] - B[None, :, 1]))
    da, db = (A[:, 1] - A[:, 0]) / 2, (B[:, 1] - B[:, 0]) / 2
    cands = np.unique(np.concatenate([C.ravel(), da, db, [0.0]]))

    def graph(r):
        # left: A_i (i < na), proj(B_j); right: B_j (j < nb), proj(A_i)
        rows, cols = [], []
        ai, bj = np.nonzero(C <= r)
        rows += list(ai); cols += list(bj)
        rows += list(na + bj); cols += list(nb + ai)
        for i in np.nonzero(da <= r)[0]:
            rows.append(i); cols.append(nb + i)
        for j in np.nonzero(db <= r)[0]:
            rows.append(na + j); cols.append(j)
        n = na + nb
        return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))

    lo, hi = 0, len(cands) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        m = maximum_bipartite_matching(graph(cands[mid]), perm_type="column")
        if (m >= 0).all():
            hi = mid
        else:
            lo = mid + 1
    m = maximum_bipartite_matching(graph(cands[lo]), perm_type="column")
    best, bi, bj = -1.0, -1, -1
    for u, v in enumerate(m):
        if u < na and v < nb:
            cost, i, j = C[u, v], u, v
        elif u < na:
            cost, i, j = da[u], u, -1
        elif v < nb:
            cost, i, j = db[v], -1, v
        else:
            continue
        if cost > best:
            best, bi, bj = cost, i, j
    return bi, bj


# ---- the losses (Topo-GEN's per-pair loops) --------------------------------

def loss_bottleneck0(pc, pc2, dgm, dgm2, matcher):
    if len(dgm["dgms"][0]) <= 1:
        return _zero(pc), False
    i, j = matcher(dgm["dgms"][0][:-1], dgm2["dgms"][0][:-1], 0)
    if i >= 0:
        d = _dist(pc[dgm["gens"][0][i][1]], pc[dgm["gens"][0][i][2]])
        if j >= 0:
            return torch.abs(d - dgm2["dgms"][0][j][1]), True
        return d / 2.0, True
    return _zero(pc), False


def loss_bottleneck1(pc, pc2, dgm, dgm2, matcher):
    if len(dgm["dgms"][1]) == 0:
        return _zero(pc), False
    i, j = matcher(dgm["dgms"][1], dgm2["dgms"][1], 1)
    if i < 0:
        return _zero(pc), False
    g = dgm["gens"][1][0][i]
    b = _dist(pc[g[0]], pc[g[1]])
    d = _dist(pc[g[2]], pc[g[3]])
    if j >= 0:
        tb = torch.tensor(dgm2["dgms"][1][j][0], dtype=pc.dtype)
        td = torch.tensor(dgm2["dgms"][1][j][1], dtype=pc.dtype)
        return _dist_sup(b, d, tb, td), True
    return (d - b) / 2.0, True


def _pers_learned(pc, dgm, dim, k):
    if dim == 0:
        return _dist(pc[dgm["gens"][0][k][1]], pc[dgm["gens"][0][k][2]])
    g = dgm["gens"][1][0][k]
    return _dist(pc[g[2]], pc[g[3]]) - _dist(pc[g[0]], pc[g[1]])


def loss_persentropy(pc, pc2, dgm, dgm2, dim, delta=0.001):
    nx = len(dgm["dgms"][0]) - 1 if dim == 0 else len(dgm["dgms"][1])
    if nx <= 0:
        return _zero(pc), False
    L = _zero(pc)
    pers = _zero(pc)
    for i in range(nx):
        p = _pers_learned(pc, dgm, dim, i)
        if p > delta:
            L = L + p
    if L.item() == 0.0:
        return _zero(pc), False
    for i in range(nx):
        p = _pers_learned(pc, dgm, dim, i)
        if p > delta:
            pers = pers + p * torch.log(p / L)
    rows = dgm2["dgms"][0][:-1] if dim == 0 else dgm2["dgms"][1]
    L2, pers2 = 0.0, 0.0
    for b, d in rows:
        if d - b > delta:
            L2 += d - b
    if L2 == 0.0:
        return (pers / L) ** 2, True
    for b, d in rows:
        if d - b > delta:
            pers2 += (d - b) * math.log((d - b) / L2)
    return (pers / L - pers2 / L2) ** 2, True


def _ksigma(pc, dgm, pts2, dim, sigma, pc_is_2=False, dgm2=None):
    """k(X, .) with X's points from its edges; pts2 either X again (pc_is_2)
    or the target's (b, d) values."""
    ks = _zero(pc)
    nx = len(dgm["dgms"][0]) - 1 if dim == 0 else len(dgm["dgms"][1])
    for i in range(nx):
        if dim == 0:
            b1, d1 = 0.0, _dist(pc[dgm["gens"][0][i][1]], pc[dgm["gens"][0][i][2]])
        else:
            g = dgm["gens"][1][0][i]
            b1, d1 = _dist(pc[g[0]], pc[g[1]]), _dist(pc[g[2]], pc[g[3]])
        n2 = nx if pc_is_2 else len(pts2)
        for j in range(n2):
            if pc_is_2:
                if dim == 0:
                    b2, d2 = 0.0, _dist(pc[dgm["gens"][0][j][1]], pc[dgm["gens"][0][j][2]])
                else:
                    g = dgm["gens"][1][0][j]
                    b2, d2 = _dist(pc[g[0]], pc[g[1]]), _dist(pc[g[2]], pc[g[3]])
            else:
                b2, d2 = pts2[j]
            ks = ks + torch.exp(-_dist_2(b1, d1, b2, d2) / (8 * sigma)) - torch.exp(-_dist_2(b1, d1, d2, b2) / (8 * sigma))
    return ks * 1 / (8 * math.pi * sigma)


def loss_dsigma(pc, pc2, dgm, dgm2, dim, sigma=0.05):
    nx = len(dgm["dgms"][0]) - 1 if dim == 0 else len(dgm["dgms"][1])
    if nx <= 0:
        return _zero(pc), False
    rows = [tuple(r) for r in (dgm2["dgms"][0][:-1] if dim == 0 else dgm2["dgms"][1])]
    kxx = _ksigma(pc, dgm, None, dim, sigma, pc_is_2=True)
    if dim == 1 and len(rows) == 0:
        return kxx, True
    return kxx - 2.0 * _ksigma(pc, dgm, rows, dim, sigma), True


def _density(pc, dgm, sigma, scale, x, learned):
    dx = _zero(pc)
    for i in range(len(dgm["dgms"][0]) - 1):
        if learned:
            d = _dist(pc[dgm["gens"][0][i][1]], pc[dgm["gens"][0][i][2]])
        else:
            d = torch.tensor(dgm["dgms"][0][i][1], dtype=pc.dtype)
        dx = dx + d ** 4 * torch.exp(-((d - x) / sigma) ** 2)
    return dx * scale


def loss_density(pc, pc2, dgm, dgm2, sigma=0.2, scale=0.002, maxrange=35.0, npoints=30):
    if len(dgm["dgms"][0]) <= 1:
        return _zero(pc), False
    xs = torch.linspace(0.0, maxrange, npoints, dtype=pc.dtype)
    loss = _zero(pc)
    for x in xs:
        loss = loss + (_density(pc, dgm, sigma, scale, x, True) - _density(pc, dgm2, sigma, scale, x, False)) ** 2
    return loss / npoints, True


def loss_push0(pc, dgm):
    if len(dgm["dgms"][0]) <= 1:
        return _zero(pc)
    loss = _zero(pc)
    for i in range(len(dgm["gens"][0])):
        loss = loss - torch.abs(_dist(pc[dgm["gens"][0][i][1]], pc[dgm["gens"][0][i][2]])) / 2.0
    return loss


NAMES = ["bottleneck0", "bottleneck1", "persentropy0", "persentropy1", "dsigma0", "dsigma1", "density"]


def all_losses(pc, dgm, dgm2, weights, deg, matcher):
    """Every weighted loss (name -> (value, depends)) and the total (Topo-GEN's
    TopologicalLoss.compute_loss). H1 losses are skipped at deg 0."""
    fns = [
        lambda: loss_bottleneck0(pc, None, dgm, dgm2, matcher),
        lambda: loss_bottleneck1(pc, None, dgm, dgm2, matcher),
        lambda: loss_persentropy(pc, None, dgm, dgm2, 0),
        lambda: loss_persentropy(pc, None, dgm, dgm2, 1),
        lambda: loss_dsigma(pc, None, dgm, dgm2, 0),
        lambda: loss_dsigma(pc, None, dgm, dgm2, 1),
        lambda: loss_density(pc, None, dgm, dgm2),
    ]
    out, total, got = {}, _zero(pc), False
    for k, w in enumerate(weights):
        if w == 0 or (deg == 0 and k in (1, 3, 5)):
            continue
        v, dep = fns[k]()
        out[NAMES[k]] = (v, dep)
        if dep:
            total = total + w * v
            got = True
    return out, total, got
