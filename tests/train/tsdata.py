"""Helpers for the training tests: IDX files, safetensors in plain numpy."""
import json
import struct

import numpy as np


def write_idx(path, array):
    a = np.ascontiguousarray(array, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, a.ndim]))
        for d in a.shape:
            f.write(struct.pack(">I", d))
        f.write(a.tobytes())


def read_safetensors(path):
    """Returns (tensors as numpy arrays by name, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    dt = {"F32": np.float32, "I64": np.int64, "F64": np.float64}
    out = {}
    for name, h in header.items():
        b, e = h["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=dt[h["dtype"]]).reshape(h["shape"]).copy()
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> numpy array (float32 or int64)."""
    names = list(tensors)
    header, blobs, at = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in names:
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        b = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def bars(n, seed):
    """n 28x28 grey images of four classes of bars (like the demo's)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 90, size=(n, 28, 28))
    y = np.arange(n) % 4
    yy, xx = np.mgrid[0:28, 0:28]
    for i in range(n):
        off = rng.integers(-8, 8)
        d = [yy - 14 - off, xx - 14 - off, xx - yy - off, xx + yy - 27 - off][y[i]]
        x[i][np.abs(d) <= 1] += 150
    return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.uint8)
