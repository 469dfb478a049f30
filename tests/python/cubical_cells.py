"""The V-construction as GUDHI can compute it.

Debian's GUDHI 3.7 has no `vertices=` cubical complexes, but the
V-construction of an array has the same diagram as the T-construction of the
doubled array that holds every cell's value: grid points at even positions,
the cells between them at the max of their vertices."""
import numpy as np


def doubled(a):
    """Every cell's V value (the max over its vertices), one axis at a time."""
    out = a
    for ax in range(a.ndim):
        n = out.shape[ax]
        shape = list(out.shape)
        shape[ax] = 2 * n - 1
        new = np.empty(shape)
        even = [slice(None)] * a.ndim
        odd = [slice(None)] * a.ndim
        even[ax] = slice(0, 2 * n - 1, 2)
        odd[ax] = slice(1, 2 * n - 1, 2)
        new[tuple(even)] = out
        new[tuple(odd)] = np.maximum(np.take(out, range(n - 1), axis=ax), np.take(out, range(1, n), axis=ax))
        out = new
    return out
