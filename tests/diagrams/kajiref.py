"""Kaji's PH-label pipeline (PHdict.py's steps) in NumPy, SciPy and GUDHI:
the slow, obviously transcribed reference for tests and benchmarks.
GUDHI 3.7 has only the T-construction, so the V-construction is computed on
the doubled array (every cell's value = the max over its vertices)."""
import numpy as np

from cubical_cells import doubled


def otsu(v):
    from skimage.filters import threshold_otsu
    return threshold_otsu(v)


def signed_distance(grey):
    """Kaji's default filtration: edt(bw) - edt(~bw), scaled by 256 / height;
    None for a constant picture (an empty diagram)."""
    from scipy.ndimage import distance_transform_edt as edt
    if grey.max() == grey.min():
        return None
    bw = grey >= otsu(grey)
    return (edt(bw) - edt(~bw)) * (256.0 / grey.shape[0])


def cubical_v(field):
    """(dim, birth, death) rows of the V-construction sublevel diagram, H0 and H1."""
    import gudhi
    cc = gudhi.CubicalComplex(top_dimensional_cells=doubled(field))
    rows = [(d, b, e) for d, (b, e) in cc.persistence(homology_coeff_field=2, min_persistence=0) if d <= 1]
    return np.array(rows, dtype=float).reshape(-1, 3)


def kaji_grid(B, L, nb):
    s = np.sqrt(B * L / nb)
    p, q = int(np.floor(B / s + 1e-9)), int(np.floor(L / s + 1e-9))
    while p * q < nb:
        s = max(B / (p + 1), L / (q + 1))
        p, q = int(np.floor(B / s + 1e-9)), int(np.floor(L / s + 1e-9))
    return p, q, s


def kaji_pi(ph, nd, max_life, signed=True, sigma=1.0):
    from scipy.stats import norm
    out = []
    for d in range(2):
        nb = nd // 2 if d == 0 else nd - nd // 2
        L = max_life[d]
        minb, maxb = (-L if signed else 0), L
        p, q, s = kaji_grid(maxb - minb, L, nb)
        pts = ph[ph[:, 0] == d][:, 1:3]
        life = np.minimum(pts[:, 1] - pts[:, 0], L)
        be = minb + s * np.arange(p + 1)
        qe = s * np.arange(q + 1)
        sd = np.sqrt(sigma)
        img = np.zeros((p, q))
        for b, l in zip(pts[:, 0], life):
            img += l * np.outer(np.diff(norm.cdf((be - b) / sd)), np.diff(norm.cdf((qe - l) / sd)))
        out.append(np.sqrt(np.abs(img.ravel()[:nb])))
    return np.concatenate(out)


def kaji_life_curve(ph, nd, max_life, signed=True):
    res = []
    for d in range(2):
        nb = nd // 2 if d == 0 else nd - nd // 2
        L = max_life[d]
        pds = ph[ph[:, 0] == d, 1:3]
        mlife = np.clip(pds[:, 1] - pds[:, 0], 0, L)
        v = np.zeros(nb)
        for i, th in enumerate(np.linspace(-L if signed else 0, L, nb)):
            v[i] = np.sum(mlife[np.logical_and(pds[:, 0] < th, pds[:, 1] > th)])
        res.append(np.sqrt(v))
    return np.concatenate(res)


def label_image(grey, nd=200, max_life=(50, 50)):
    """Kaji's persistence-image label of a grey picture (float array)."""
    f = signed_distance(grey.astype(float))
    ph = np.zeros((0, 3)) if f is None else cubical_v(f)
    return kaji_pi(ph, nd, max_life)


def write_pgm(path, a):
    a = np.asarray(a, dtype=np.uint8)
    with open(path, "wb") as fh:
        fh.write(b"P5\n%d %d\n255\n" % (a.shape[1], a.shape[0]))
        fh.write(a.tobytes())


def smooth_picture(rng, h, w, beta=2.0):
    """A random 1/f^beta picture as uint8 (blobs and holes at several scales)."""
    k = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    r = np.sqrt(k[0] ** 2 + k[1] ** 2)
    r[0, 0] = 1
    f = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((h, w))) / r ** (beta / 2)))
    f = (f - f.min()) / (f.max() - f.min())
    return (255 * f).astype(np.uint8)
