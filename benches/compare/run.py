"""Runs descent's epoch benchmark and its PyTorch and numpy peers side by side,
interleaved, and prints each workload's median seconds per epoch with descent's
time as a ratio of each peer's: the only kind of figure this project compares
(the machines are shared and drift by up to 2x over minutes, so an absolute
figure from one run means little next to one from another).

Run from the repository root:
    python3 benches/compare/run.py [--rounds 3] [--threads 1,2] [--workloads small-adam,...]
The workloads small-gemms and large-gemms (descent only) time just the matrix
products of an MLP epoch: the floor under any training loop on that backend.
The peers need `pip install torch numpy`; a missing peer is skipped.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORKLOADS = ["small-adam", "small-sgd", "small-gemms", "large-adam", "large-sgd", "large-gemms",
             "cnn-adam", "linreg"]
# Which peers implement which workload.
PEERS = {
    "pytorch": (["torch_peer.py"], [w for w in WORKLOADS if not w.endswith("-gemms")]),
    "pytorch-fused": (["torch_peer.py", "--fused"], ["small-adam", "large-adam", "cnn-adam"]),
    "numpy": (["numpy_peer.py"], ["small-adam", "small-sgd", "linreg"]),
}


def descent_binary():
    """Builds the epoch benchmark (release) and returns its path."""
    out = subprocess.run(
        ["cargo", "bench", "--bench", "epochs", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "epochs" \
                and message.get("executable"):
            return message["executable"]
    sys.exit("run.py: cargo did not report the epochs benchmark's executable")


def available(module):
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0


def measure(command, threads, extra_env):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), **extra_env)
    out = subprocess.run(command + ["--threads", str(threads)], cwd=HERE, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    a = ap.parse_args()
    workloads = a.workloads.split(",")
    thread_counts = [int(t) for t in a.threads.split(",")]
    binary = descent_binary()
    peers = {name: spec for name, spec in PEERS.items()
             if available("torch" if name.startswith("pytorch") else "numpy")}
    runs = {}  # (workload, threads, impl) -> [seconds per round]
    for round_ in range(1, a.rounds + 1):
        for threads in thread_counts:
            for workload in workloads:
                # descent on its default backend (the gemm crate) and on the other one.
                commands = [("descent", [binary, "--workload", workload], {}),
                            ("descent-mm", [binary, "--workload", workload],
                             {"DESCENT_GEMM": "matrixmultiply"})]
                commands += [(name, [sys.executable, *args, "--workload", workload], {})
                             for name, (args, supported) in peers.items() if workload in supported]
                # Alternate the order each round so no one always runs on a warm machine.
                for impl, command, extra_env in (commands if round_ % 2 else commands[::-1]):
                    seconds = measure(command, threads, extra_env)
                    runs.setdefault((workload, threads, impl), []).append(seconds)
                    print(f"round {round_} threads {threads} {workload:<11} {impl:<14} {seconds:.4g} s/epoch",
                          file=sys.stderr, flush=True)
    print(f"# descent vs peers, {datetime.date.today()}, medians of {a.rounds} interleaved rounds "
          f"(`python3 benches/compare/run.py --rounds {a.rounds} --threads {a.threads}`); "
          "descent-mm is descent with DESCENT_GEMM=matrixmultiply\n")
    names = ["descent", "descent-mm", *peers]
    print("| workload | threads | " + " | ".join(f"{n} s/epoch" for n in names)
          + " | " + " | ".join(f"descent / {n}" for n in peers) + " |")
    print("|---|---:|" + "---:|" * (len(names) + len(peers)))
    for workload in workloads:
        for threads in thread_counts:
            median = {n: statistics.median(runs[(workload, threads, n)])
                      for n in names if (workload, threads, n) in runs}
            cells = [f"{median[n]:.4g}" if n in median else "" for n in names]
            ratios = [f"{median['descent'] / median[n]:.2f}x" if n in median else "" for n in peers]
            print(f"| {workload} | {threads} | " + " | ".join(cells + ratios) + " |")


if __name__ == "__main__":
    main()
