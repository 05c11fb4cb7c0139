#!/bin/sh
# The CNN flagship's training epoch next to PyTorch's, interleaved in one run
# on 1 and 2 threads, so that the ratios compare like with like on a shared,
# noisy machine. Each figure is a median of 3 epochs after a warm-up epoch
# (benches/cnn.rs --epochs and torch_cnn.py --time, PyTorch's default Adam).
#
# Usage: benches/cnn_vs_pytorch.sh [ROUNDS]
# PEERS: the directory holding torch_cnn.py (default ../shared/peers).
set -eu
cd "$(dirname "$0")/.."
PEERS=${PEERS:-../shared/peers}
ROUNDS=${1:-2}
cargo bench -q --bench cnn --no-run 2>/dev/null
for round in $(seq "$ROUNDS"); do
    for threads in 1 2; do
        ours=$(RAYON_NUM_THREADS=$threads cargo bench -q --bench cnn -- --epochs 2>/dev/null |
            sed -n 's/.*median \([0-9.]*\) s.*/\1/p')
        theirs=$(python3 "$PEERS/torch_cnn.py" --time --threads "$threads" |
            sed -n '1s/.*median \([0-9.]*\) s.*/\1/p')
        awk -v r="$round" -v t="$threads" -v a="$ours" -v b="$theirs" 'BEGIN {
            printf "round %s, %s thread(s): descent %.3f s/epoch, PyTorch %.3f s/epoch, ratio %.2f\n",
                r, t, a, b, a / b
        }'
    done
done
