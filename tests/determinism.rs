//! The same seed gives the same bits whatever the number of threads: large
//! ops run in parallel, but in fixed chunks and a fixed reduction order.

use descent::prelude::*;

/// A seeded computation large enough that every parallel path runs (more
/// than `PARALLEL_MIN_WORK` = 2^18 elements): element-wise ops, axis and full
/// reductions, GEMM, and a few training steps.
fn seeded_computation() -> Vec<Tensor> {
    let mut rng = seeded_rng(42);
    let x = Tensor::randn([1024, 600], &mut rng);
    let w1 = Param::new(Tensor::randn([600, 256], &mut rng).mul_scalar(0.05));
    let w2 = Param::new(Tensor::randn([256, 10], &mut rng).mul_scalar(0.05));
    let labels: Vec<usize> = (0..1024).map(|i| (i * 7) % 10).collect();
    let mut losses = Vec::new();
    for _ in 0..3 {
        let tape = Tape::new();
        let hidden = tape.constant(x.clone()).matmul(tape.param(&w1)).tanh();
        let loss = hidden
            .matmul(tape.param(&w2))
            .softmax_cross_entropy(&labels)
            .mean();
        loss.backward();
        losses.push(loss.value());
        for w in [&w1, &w2] {
            let step = w.grad().unwrap().mul_scalar(0.1);
            w.set_value(w.value().sub(&step));
            w.zero_grad();
        }
    }
    let big = x.exp().add(&x.sigmoid());
    vec![
        big.sum(),
        big.sum_axis(0, false),
        big.sum_axis(1, false),
        big.logsumexp_axis(1, false),
        x.matmul(&x.t()),
        w1.value(),
        w2.value(),
        Tensor::stack(&losses.iter().collect::<Vec<_>>(), 0),
    ]
}

fn run_with_threads(threads: usize) -> Vec<Tensor> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(seeded_computation)
}

#[test]
fn one_and_two_threads_give_identical_bits() {
    let one = run_with_threads(1);
    let two = run_with_threads(2);
    let three = run_with_threads(3);
    for (i, ((a, b), c)) in one.iter().zip(&two).zip(&three).enumerate() {
        assert!(a.bit_eq(b), "result {i} differs between 1 and 2 threads");
        assert!(a.bit_eq(c), "result {i} differs between 1 and 3 threads");
    }
}
