//! The performance benchmarks behind BENCHMARKS.md, measured in one run so
//! ratios compare like with like on a noisy machine. Each figure is the
//! median of repeated runs after a warm-up.
//!
//! Run: `cargo bench --bench perf` (add `-- --quick` for fewer repetitions;
//! `RAYON_NUM_THREADS=1` for one-thread figures). Allocation counts and peak
//! heap are in `benches/allocations.rs`, whose counting allocator would slow
//! these timings.

use std::hint::black_box;
use std::time::Instant;

use descent::prelude::*;
use descent::tensor::matmul::{Backend, MatRef};

// Each benchmark binary uses part of the shared code.
#[allow(dead_code)]
mod common;
use common::StepBench;

/// Median time of `f` in microseconds over `runs` runs after `runs / 4 + 1` warm-ups.
fn median_us(runs: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..runs / 4 + 1 {
        f();
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// A GEMM of the benchmark: `op(A) op(B)` with the stored shapes.
#[derive(Clone, Copy)]
struct Product {
    a: [usize; 2],
    transpose_a: bool,
    b: [usize; 2],
    transpose_b: bool,
}

impl Product {
    fn label(&self) -> String {
        let t = |flag: bool| if flag { "^T" } else { "" };
        format!(
            "{:?}{} x {:?}{}",
            self.a,
            t(self.transpose_a),
            self.b,
            t(self.transpose_b)
        )
    }

    fn operands(&self) -> (Tensor, Tensor) {
        let mut rng = seeded_rng(1);
        (
            Tensor::randn(self.a, &mut rng),
            Tensor::randn(self.b, &mut rng),
        )
    }

    /// The stored operands as the backends read them.
    fn operand_refs<'a>(&self, a: &'a Tensor, b: &'a Tensor) -> (MatRef<'a>, MatRef<'a>) {
        let matrix = |t: &'a Tensor, transposed| MatRef {
            data: t.data(),
            rows: t.dims()[0],
            cols: t.dims()[1],
            transposed,
        };
        (matrix(a, self.transpose_a), matrix(b, self.transpose_b))
    }

    /// The backend called directly on the same buffers, on one thread.
    fn raw_us(&self, runs: usize) -> f64 {
        let (a, b) = self.operands();
        let (lhs, rhs) = self.operand_refs(&a, &b);
        let mut out = vec![0.0f32; lhs.op_rows() * rhs.op_cols()];
        median_us(runs, || {
            raw_sgemm(lhs, rhs, &mut out);
            black_box(&out);
        })
    }

    /// The `gemm` crate called directly on the same buffers, on one thread.
    fn raw_gemm_crate_us(&self, runs: usize) -> f64 {
        let (a, b) = self.operands();
        let (lhs, rhs) = self.operand_refs(&a, &b);
        let (m, k, n) = (lhs.op_rows(), lhs.op_cols(), rhs.op_cols());
        let ((rsa, csa), (rsb, csb)) = (lhs.strides(), rhs.strides());
        let mut out = vec![0.0f32; m * n];
        median_us(runs, || {
            // SAFETY: the strides describe the operands' own buffers; `out` holds m x n.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    out.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    lhs.data.as_ptr(),
                    csa,
                    rsa,
                    rhs.data.as_ptr(),
                    csb,
                    rsb,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            black_box(&out);
        })
    }

    /// Through the framework's tensor API.
    fn framework_us(&self, runs: usize) -> f64 {
        let (a, b) = self.operands();
        median_us(runs, || {
            black_box(a.matmul_transposed(self.transpose_a, &b, self.transpose_b));
        })
    }
}

/// `matrixmultiply::sgemm` on one thread, no framework in between.
fn raw_sgemm(a: MatRef<'_>, b: MatRef<'_>, out: &mut [f32]) {
    let (rows, inner, cols) = (a.op_rows(), a.op_cols(), b.op_cols());
    let ((rsa, csa), (rsb, csb)) = (a.strides(), b.strides());
    // SAFETY: the strides describe the operands' own buffers; `out` holds rows x cols.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            inner,
            cols,
            1.0,
            a.data.as_ptr(),
            rsa,
            csa,
            b.data.as_ptr(),
            rsb,
            csb,
            0.0,
            out.as_mut_ptr(),
            cols as isize,
            1,
        );
    }
}

/// The GEMMs of one training step of an MLP with `sizes` at batch `batch`:
/// forward `x W^T`, backward `dW = G^T x` and `dX = G W` (not for the first layer).
fn step_products(sizes: &[usize], batch: usize) -> Vec<Product> {
    let mut products = Vec::new();
    for (layer, pair) in sizes.windows(2).enumerate() {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        products.push(Product {
            a: [batch, fan_in],
            transpose_a: false,
            b: [fan_out, fan_in],
            transpose_b: true,
        });
        products.push(Product {
            a: [batch, fan_out],
            transpose_a: true,
            b: [batch, fan_in],
            transpose_b: false,
        });
        if layer > 0 {
            products.push(Product {
                a: [batch, fan_out],
                transpose_a: false,
                b: [fan_out, fan_in],
                transpose_b: false,
            });
        }
    }
    products
}

fn section(title: &str) {
    println!("\n### {title}\n");
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = |n: usize| if quick { (n / 5).max(3) } else { n };
    println!(
        "rayon threads: {}{}",
        rayon::current_num_threads(),
        if quick { " (quick)" } else { "" }
    );

    // The training-loop and tape figures run first, in a fresh process:
    // after minutes of large products the allocator's state slows them
    // (0.034 s per epoch measured first, 0.053 s measured last, and 115
    // against 140 ns per tape op, in the same binary).
    section("4. one epoch of the flagship MNIST configuration (8,000 images, batch 64, Adam)");
    let (model, mut opt, mut loader) = common::mnist_setup();
    let epoch_us = median_us(runs(10), || {
        common::mnist_epoch(&model, &mut opt, &mut loader)
    });
    println!("{:.4} s per epoch", epoch_us / 1e6);

    section("5. linear regression (1,000 points, batch 32, SGD), us per step");
    let x = Tensor::rand_uniform([1000, 1], -1.0, 1.0, &mut seeded_rng(3));
    let y = x.mul_scalar(3.0).add_scalar(2.0);
    let data = Dataset::new(x, y).expect("non-empty");
    let wl = Param::new(Tensor::zeros([1, 1]));
    let bl = Param::new(Tensor::zeros([1]));
    let mut sgd = Optim::new([wl.clone(), bl.clone()], Sgd::new(0.1));
    let mut loader = DataLoader::new(data, 32).expect("batch > 0").shuffle(0);
    let mut tape = Tape::new();
    let steps = loader.batches_per_epoch() as f64;
    let epoch = median_us(runs(200), || {
        for batch in loader.epoch() {
            tape.reset();
            let prediction = tape
                .constant(batch.features.clone())
                .matmul(tape.param(&wl))
                + tape.param(&bl);
            mse_loss(prediction, batch.values(), Reduction::Mean).backward();
            sgd.step();
            sgd.zero_grad();
        }
    });
    println!("{:.2} us per step", epoch / steps);

    section("3. tape overhead: 1,000 element-wise ops on [4] tensors, forward + backward");
    let w = Param::new(Tensor::from([0.5, -0.25, 1.0, 2.0]));
    let mut tape = Tape::new();
    let chain_us = median_us(runs(200), || {
        tape.reset();
        let mut x = tape.param(&w);
        for _ in 0..500 {
            x = (x * 1.0001) + 0.0001;
        }
        x.sum().backward();
        w.zero_grad();
    });
    println!(
        "{:.0} ns per recorded op ({chain_us:.0} us per chain)",
        chain_us * 1000.0 / 1001.0
    );

    let gemm_crate = descent::tensor::matmul::backend() == Backend::Gemm;
    let backend = if gemm_crate {
        "gemm crate"
    } else {
        "matrixmultiply"
    };
    section(&format!(
        "1. matmul: framework ({backend} backend) vs the raw backend calls on one thread, median us"
    ));
    println!(
        "| product | raw matrixmultiply | raw gemm crate | framework | raw {backend} / framework |\n|---|---:|---:|---:|---:|"
    );
    let square = [64, 128, 256, 512, 1024].map(|n| Product {
        a: [n, n],
        transpose_a: false,
        b: [n, n],
        transpose_b: false,
    });
    let mut training = step_products(&[784, 128, 10], 64);
    training.extend(step_products(&[784, 1024, 1024, 10], 256));
    for p in square.iter().chain(&training) {
        let reps =
            runs((2e8 / (p.a[0] * p.a[1] * p.b[0].max(p.b[1])) as f64).clamp(20.0, 400.0) as usize);
        let (raw, raw_gemm) = (p.raw_us(reps), p.raw_gemm_crate_us(reps));
        let framework = p.framework_us(reps);
        let own = if gemm_crate { raw_gemm } else { raw };
        println!(
            "| {} | {raw:.1} | {raw_gemm:.1} | {framework:.1} | {:.2}x |",
            p.label(),
            own / framework
        );
    }

    section("2. one training step (forward, cross-entropy, backward, Adam) vs its raw GEMMs");
    println!(
        "| model | batch | raw one-thread GEMMs of the backend (us) | the same GEMMs through the framework (us) | step (us) | step / raw GEMMs | step / framework GEMMs |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for (name, sizes, batch, reps) in [
        ("784-128-10", vec![784, 128, 10], 64, 400),
        ("784-1024-1024-10", vec![784, 1024, 1024, 10], 256, 20),
    ] {
        let raw = |p: &Product| {
            if gemm_crate {
                p.raw_gemm_crate_us(runs(reps))
            } else {
                p.raw_us(runs(reps))
            }
        };
        let gemm_us: f64 = step_products(&sizes, batch).iter().map(raw).sum();
        // On several threads the framework splits large products, so the
        // step is also compared with its own GEMMs on this run's threads.
        let framework_gemm_us: f64 = step_products(&sizes, batch)
            .iter()
            .map(|p| p.framework_us(runs(reps)))
            .sum();
        let mut bench = StepBench::new(&sizes, batch);
        let step_us = median_us(runs(reps), || {
            bench.step();
        });
        println!(
            "| {name} | {batch} | {gemm_us:.0} | {framework_gemm_us:.0} | {step_us:.0} | {:.2}x | {:.2}x |",
            step_us / gemm_us,
            step_us / framework_gemm_us
        );
    }
}
