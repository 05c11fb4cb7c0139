"""One benchmark workload in PyTorch (CPU), timed per epoch; prints one JSON line.

The workloads match benches/epochs.rs (descent) and numpy_peer.py:
  small-adam, small-sgd   784-128-10 ReLU MLP, batch 64, one shuffled epoch of 8,000 images
  large-adam, large-sgd   784-1024-1024-10 ReLU MLP, batch 256
  cnn-adam                Conv(1,16,5,p2) ReLU MaxPool2 Conv(16,32,5,p2) ReLU MaxPool2
                          Flatten Linear(1568,128) ReLU Linear(128,10), batch 64
  linreg                  1,000 points, Linear(1,1), batch 32, SGD lr 0.01; one epoch
Adam is lr 1e-3 (`--fused` for PyTorch's fused kernel), SGD lr 0.1 (0.01 for linreg).

Run: python3 benches/compare/torch_peer.py --workload small-adam --threads 2 [--fused]
     python3 benches/compare/torch_peer.py --workload cnn-adam --epochs 5 --accuracy-seeds 10
"""
import argparse
import sys
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from mnist import linreg_data, test_set, training_set


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10))


def setup(workload, fused):
    """(model, optimizer, x, y, batch, loss function) for a workload."""
    net, _, optimizer = workload.partition("-")
    if net == "linreg":
        xs, ys = linreg_data()
        model = nn.Linear(1, 1)
        return model, torch.optim.SGD(model.parameters(), lr=0.01), torch.from_numpy(xs), \
            torch.from_numpy(ys), 32, F.mse_loss
    xn, yn = training_set()
    x, y = torch.from_numpy(xn), torch.from_numpy(yn)
    model, batch = {"small": (lambda: mlp([784, 128, 10]), 64),
                    "large": (lambda: mlp([784, 1024, 1024, 10]), 256),
                    "cnn": (cnn, 64)}[net]
    model = model()
    if net == "cnn":
        x = x.reshape(-1, 1, 28, 28)
    optimizers = {"adam": lambda: torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused),
                  "sgd": lambda: torch.optim.SGD(model.parameters(), lr=0.1)}
    if optimizer not in optimizers:
        sys.exit(f"torch_peer.py: unknown workload {workload!r}")
    opt = optimizers[optimizer]()
    return model, opt, x, y, batch, F.cross_entropy


def epoch(model, opt, x, y, batch, loss_fn, gen):
    perm = torch.randperm(len(x), generator=gen)
    for i in range(0, len(x), batch):
        idx = perm[i:i + batch]
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x[idx]), y[idx]).backward()
        opt.step()


def accuracies(a):
    """Test accuracy after a.epochs epochs for seeds 0..a.accuracy_seeds-1, as
    descent's examples report it (the model the last epoch left)."""
    xt, yt = test_set()
    xt, yt = torch.from_numpy(xt), torch.from_numpy(yt)
    results = []
    for seed in range(a.accuracy_seeds):
        torch.manual_seed(seed)
        model, opt, x, y, batch, loss_fn = setup(a.workload, a.fused)
        if x.dim() == 4:
            xt = xt.reshape(-1, 1, 28, 28)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(a.epochs):
            epoch(model, opt, x, y, batch, loss_fn, gen)
        with torch.no_grad():
            results.append(100 * (model(xt).argmax(1) == yt).float().mean().item())
        print(f"seed {seed}: test accuracy {results[-1]:.2f}%", flush=True)
    print(f"mean {statistics.mean(results):.2f}%" + (
        f", stdev {statistics.stdev(results):.2f}" if len(results) > 1 else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--fused", action="store_true")
    ap.add_argument("--accuracy-seeds", type=int, default=0,
                    help="instead of timing, train --epochs epochs from each of seeds 0..N-1 and "
                         "print the test accuracy of each")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.accuracy_seeds:
        accuracies(a)
        return
    torch.manual_seed(0)
    model, opt, x, y, batch, loss_fn = setup(a.workload, a.fused)
    gen = torch.Generator().manual_seed(0)
    epoch(model, opt, x, y, batch, loss_fn, gen)  # warm-up
    times = []
    for _ in range(a.epochs):
        start = time.perf_counter()
        epoch(model, opt, x, y, batch, loss_fn, gen)
        times.append(time.perf_counter() - start)
    name = "pytorch-fused" if a.fused else "pytorch"
    print(json.dumps({"impl": name, "workload": a.workload, "threads": a.threads,
                      "seconds": statistics.median(times), "epochs": times}))


if __name__ == "__main__":
    main()
