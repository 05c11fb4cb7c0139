"""The CNN flagship trained by PyTorch and by descent from the same random
draws: for seeds 0-2 (by default), data/interop/cnn_start.py writes PyTorch's
initial weights, batch order and per-epoch test accuracy into a temporary
directory, then descent's `same_start` benchmark trains from them and prints
both accuracies. With the draws equal, any gap is descent's arithmetic, not
the luck of a seed.

Run from the repository root (needs `pip install torch numpy`):
    python3 benches/compare/same_start.py [--seeds 0,1,2] [--epochs 5]
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dirs = []
        for seed in a.seeds.split(","):
            out = Path(tmp) / f"seed{seed}"
            print(f"PyTorch, seed {seed}: {a.epochs} epochs", flush=True)
            subprocess.run([sys.executable, str(ROOT / "data/interop/cnn_start.py"), "--seed", seed,
                            "--epochs", str(a.epochs), "--out", str(out)], check=True)
            dirs.append(str(out))
        subprocess.run(["cargo", "bench", "--bench", "same_start", "--"] + dirs, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
