"""The shipped MNIST subset (data/mnist, IDX + gzip) as float32 arrays, for the
peer workloads; MNIST_DIR points elsewhere (e.g. the full MNIST)."""
import gzip
import os
import struct
from pathlib import Path

import numpy as np

DATA = Path(os.environ.get("MNIST_DIR", Path(__file__).resolve().parents[2] / "data" / "mnist"))


def _idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    _, code, rank = struct.unpack(">HBB", raw[:4])
    assert code == 0x08, f"{path}: not an IDX file of unsigned bytes"
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def training_set():
    """(x float32 [8000, 784] in [0, 1], y int64 [8000])."""
    x = _idx(DATA / "train-images-idx3-ubyte.gz")
    y = _idx(DATA / "train-labels-idx1-ubyte.gz")
    return x.reshape(len(x), -1).astype(np.float32) / np.float32(255), y.astype(np.int64)


def test_set():
    """(x float32 [1000, 784] in [0, 1], y int64 [1000])."""
    x = _idx(DATA / "t10k-images-idx3-ubyte.gz")
    y = _idx(DATA / "t10k-labels-idx1-ubyte.gz")
    return x.reshape(len(x), -1).astype(np.float32) / np.float32(255), y.astype(np.int64)


def linreg_data():
    """The seed's line: y = 4 + 3x + N(0, 1), x ~ U[0, 2), 1,000 points."""
    rng = np.random.default_rng(42)
    xs = 2 * rng.random((1000, 1))
    ys = 4 + 3 * xs + rng.standard_normal((1000, 1))
    return xs.astype(np.float32), ys.astype(np.float32)
