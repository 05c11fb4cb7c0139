"""One benchmark workload written by hand in numpy (the way course notes do),
timed per epoch; prints one JSON line. Workloads as in torch_peer.py:
small-adam, small-sgd (784-128-10 MLP, batch 64) and linreg.

Run: python3 benches/compare/numpy_peer.py --workload small-adam --threads 2
"""
import argparse
import os
import sys

ARGS = argparse.ArgumentParser()
ARGS.add_argument("--workload", required=True)
ARGS.add_argument("--threads", type=int, default=2)
ARGS.add_argument("--epochs", type=int, default=3)
A = ARGS.parse_args()
# The BLAS reads its thread count when numpy is imported.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(A.threads)

import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from mnist import linreg_data, training_set  # noqa: E402

F32 = np.float32


class Mlp:
    """784-128-10 ReLU MLP with softmax cross-entropy, PyTorch's default init."""

    def __init__(self, rng, sizes=(784, 128, 10)):
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / np.sqrt(fan_in)
            self.params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(F32))
            self.params.append(rng.uniform(-bound, bound, (fan_out,)).astype(F32))

    def grads(self, x, y):
        w1, b1, w2, b2 = self.params
        n = x.shape[0]
        h = x @ w1
        h += b1
        a = np.maximum(h, 0)
        z = a @ w2
        z += b2
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        dz = e / e.sum(axis=1, keepdims=True)
        dz[np.arange(n), y] -= 1
        dz /= F32(n)
        da = dz @ w2.T
        da[h <= 0] = 0
        return [x.T @ da, da.sum(axis=0), a.T @ dz, dz.sum(axis=0)]


class Adam:
    """PyTorch's Adam update (lr 1e-3, betas 0.9 / 0.999, eps 1e-8)."""

    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        self.t += 1
        step_size = self.lr / (1 - self.b1 ** self.t)
        bias2_sqrt = np.sqrt(1 - self.b2 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= step_size * m / (np.sqrt(v) / bias2_sqrt + self.eps)


def sgd(params, grads, lr):
    for p, g in zip(params, grads):
        p -= F32(lr) * g


def mlp_epochs(optimizer):
    x, y = training_set()
    rng = np.random.default_rng(0)
    model = Mlp(rng)
    adam = Adam(model.params) if optimizer == "adam" else None

    def epoch():
        order = rng.permutation(len(x))
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            grads = model.grads(x[idx], y[idx])
            if adam:
                adam.step(model.params, grads)
            else:
                sgd(model.params, grads, 0.1)
    return epoch


def linreg_epochs():
    xs, ys = linreg_data()
    design = np.hstack([np.ones_like(xs), xs])
    theta = np.zeros((2, 1), dtype=F32)
    rng = np.random.default_rng(0)

    def epoch():
        order = rng.permutation(len(xs))
        for i in range(0, len(xs), 32):
            idx = order[i:i + 32]
            xb, yb = design[idx], ys[idx]
            theta[:] -= F32(0.01) * (2 / len(idx)) * xb.T @ (xb @ theta - yb)
    return epoch


def main():
    epoch = {"small-adam": lambda: mlp_epochs("adam"), "small-sgd": lambda: mlp_epochs("sgd"),
             "linreg": linreg_epochs}.get(A.workload)
    if epoch is None:
        sys.exit(f"numpy_peer: no numpy version of {A.workload}")
    epoch = epoch()
    epoch()  # warm-up
    times = []
    for _ in range(A.epochs):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    print(json.dumps({"impl": "numpy", "workload": A.workload, "threads": A.threads,
                      "seconds": statistics.median(times), "epochs": times}))


if __name__ == "__main__":
    main()
