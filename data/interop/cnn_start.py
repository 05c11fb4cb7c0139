"""Writes PyTorch's start of the CNN flagship's training, so descent can be
trained from the same random draws and compared step by step:

- cnn_start.safetensors: the weights of `torch.manual_seed(SEED); cnn()`;
- cnn_start_10_steps.safetensors: the weights after 10 Adam steps (lr 1e-3,
  batches of 64 in the order below);
- cnn_start.json: that batch order (one `torch.randperm` of the training
  images per epoch, from `torch.Generator().manual_seed(SEED)`, as
  benches/compare/torch_peer.py draws it), the loss of each of the
  first 10 steps, and the test accuracy PyTorch reached after each epoch.

Run: python3 cnn_start.py [--seed 0] [--epochs 1] [--out .]   (needs PyTorch
and NumPy; reads ../mnist relative to this file). The shipped files are
seed 0, one epoch, PyTorch 2.15 on 1 thread.
"""
import argparse, json
from pathlib import Path
import numpy as np
import torch, torch.nn.functional as F

from common import cnn, idx, write_safetensors

HERE = Path(__file__).resolve().parent


def images(split):
    x = idx(HERE / f"../mnist/{split}-images-idx3-ubyte.gz").astype(np.float32) / np.float32(255)
    y = idx(HERE / f"../mnist/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(x).reshape(-1, 1, 28, 28), torch.from_numpy(y)


def weights(model):
    return {name: p.detach().numpy() for name, p in model.named_parameters()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE)
    a = ap.parse_args()
    torch.set_num_threads(1)
    x, y = images("train")
    xt, yt = images("t10k")
    torch.manual_seed(a.seed)
    model = cnn()
    a.out.mkdir(parents=True, exist_ok=True)
    write_safetensors(a.out / "cnn_start.safetensors", weights(model))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(a.seed)
    order, losses, accuracy, step = [], [], [], 0
    for _ in range(a.epochs):
        perm = torch.randperm(len(x), generator=gen)
        order.append(perm.tolist())
        for i in range(0, len(x), 64):
            batch = perm[i:i + 64]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            opt.step()
            step += 1
            if step <= 10:
                losses.append(loss.item())
            if step == 10:
                write_safetensors(a.out / "cnn_start_10_steps.safetensors", weights(model))
        with torch.no_grad():
            accuracy.append((model(xt).argmax(1) == yt).float().mean().item())
    with open(a.out / "cnn_start.json", "w") as f:
        json.dump({"seed": a.seed, "batch_size": 64, "lr": 1e-3, "losses": losses,
                   "accuracy": accuracy, "order": order}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
