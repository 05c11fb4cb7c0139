//! The CNN flagship's speed: each convolution of `examples/cnn/model.rs` at batch
//! 64, forward and backward, next to the raw GEMM of the same product
//! (matrixmultiply called directly on ready operands: the least that
//! im2col plus GEMM could spend, before building any column matrix); then
//! whole training epochs. Figures are medians after a warm-up.
//!
//! Run: `cargo bench --bench cnn` (`-- --quick` for fewer runs, `-- --epochs`
//! for the epoch line only; `RAYON_NUM_THREADS=1` for one thread).
//! `benches/compare/run.py --workloads cnn-adam` races the epochs against
//! PyTorch's.

use std::hint::black_box;
use std::time::Instant;

use descent::prelude::*;
use descent::tensor::LayerGradsWanted;
use descent::tensor::matmul::{MatRef, gemm};

// Each benchmark binary uses part of the shared code.
#[allow(dead_code)]
mod common;
use common::cnn;

/// Median time of `f` in milliseconds over `runs` runs after one warm-up.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// One convolution of the flagship: 5x5, padding 2, on `[64, in, size, size]`.
struct Layer {
    name: &'static str,
    channels: usize,
    out: usize,
    size: usize,
    /// Whether training needs the input's gradient (not for the first layer).
    input_grad: bool,
}

const LAYERS: [Layer; 2] = [
    Layer {
        name: "conv1 1->16, 28x28",
        channels: 1,
        out: 16,
        size: 28,
        input_grad: false,
    },
    Layer {
        name: "conv2 16->32, 14x14",
        channels: 16,
        out: 32,
        size: 14,
        input_grad: true,
    },
];

const BATCH: usize = 64;

impl Layer {
    /// `(m, k, n)` of the forward product `W [out, in * 25] x cols [in * 25, batch * pixels]`.
    fn product(&self) -> (usize, usize, usize) {
        (self.out, self.channels * 25, BATCH * self.size * self.size)
    }

    fn gflops(&self, ms: f64, products: usize) -> f64 {
        let (m, k, n) = self.product();
        2.0 * (m * k * n * products) as f64 / (ms * 1e6)
    }

    fn report(&self, runs: usize) {
        let mut rng = seeded_rng(1);
        let x = Tensor::randn([BATCH, self.channels, self.size, self.size], &mut rng);
        let w = Tensor::randn([self.out, self.channels, 5, 5], &mut rng);
        let b = Tensor::randn([self.out], &mut rng);
        let options = Conv2dOptions {
            padding: Pair::from(2),
            ..Conv2dOptions::default()
        };
        let grad = Tensor::randn([BATCH, self.out, self.size, self.size], &mut rng);
        let wanted = LayerGradsWanted {
            input: self.input_grad,
            weight: true,
            bias: true,
        };
        let forward = median_ms(runs, || {
            black_box(x.conv2d(&w, Some(&b), options));
        });
        let backward = median_ms(runs, || {
            black_box(x.conv2d_backward(&w, &grad, options, wanted));
        });
        let (m, k, n) = self.product();
        let (a, cols, dy) = (
            Tensor::randn([m, k], &mut rng),
            Tensor::randn([k, n], &mut rng),
            Tensor::randn([m, n], &mut rng),
        );
        let mut out = vec![0.0; m * n];
        let gemm_forward = median_ms(runs, || {
            gemm(matrix(&a, false), matrix(&cols, false), &mut out, 1.0, 0.0);
            black_box(&out);
        });
        let mut dw = vec![0.0; m * k];
        let mut dcols = vec![0.0; k * n];
        let gemm_backward = median_ms(runs, || {
            gemm(matrix(&dy, false), matrix(&cols, true), &mut dw, 1.0, 0.0);
            if self.input_grad {
                gemm(matrix(&a, true), matrix(&dy, false), &mut dcols, 1.0, 0.0);
            }
            black_box((&dw, &dcols));
        });
        let backward_products = 1 + self.input_grad as usize;
        println!(
            "| {} | forward | {forward:.2} ms ({:.0} GFLOP/s) | {gemm_forward:.2} ms ({:.0} GFLOP/s) | {:.2} |",
            self.name,
            self.gflops(forward, 1),
            self.gflops(gemm_forward, 1),
            forward / gemm_forward
        );
        println!(
            "| {} | backward | {backward:.2} ms ({:.0} GFLOP/s) | {gemm_backward:.2} ms ({:.0} GFLOP/s) | {:.2} |",
            self.name,
            self.gflops(backward, backward_products),
            self.gflops(gemm_backward, backward_products),
            backward / gemm_backward
        );
    }
}

/// One 2x2 max pooling of the flagship (after each convolution's ReLU):
/// forward and backward times, with the bytes each pass must move (read
/// the input, write the maxima and their positions; read those, write the
/// input's gradient) as an effective bandwidth.
fn report_pooling(channels: usize, size: usize, runs: usize) {
    let mut rng = seeded_rng(3);
    let x = Tensor::randn([BATCH, channels, size, size], &mut rng);
    let options = Pool2dOptions::new(2);
    let forward = median_ms(runs, || {
        black_box(x.max_pool2d(options));
    });
    let (maxima, at) = x.max_pool2d(options);
    let backward = median_ms(runs, || {
        black_box(maxima.max_pool2d_backward(&at, x.shape()));
    });
    let bytes = 4.0 * (x.numel() + 2 * maxima.numel()) as f64;
    println!(
        "| max_pool2d 2x2 on [64, {channels}, {size}, {size}] | {forward:.2} ms ({:.1} GB/s) | {backward:.2} ms ({:.1} GB/s) |",
        bytes / (forward * 1e6),
        bytes / (backward * 1e6)
    );
}

/// A 2-D tensor as a GEMM operand.
fn matrix(t: &Tensor, transposed: bool) -> MatRef<'_> {
    MatRef {
        data: t.data(),
        rows: t.dims()[0],
        cols: t.dims()[1],
        transposed,
    }
}

/// Seconds per training epoch (Adam, batch 64, the shipped 8,000 images):
/// the median of `epochs` after one warm-up epoch, as `torch_cnn.py --time`.
fn epoch_seconds(epochs: usize) -> (f64, f64, f64) {
    let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))
        .expect("the shipped MNIST subset");
    let n = mnist.train_labels.len();
    let images = mnist.train_images.reshape([n, 1, 28, 28]);
    let train = Dataset::classification(images, &mnist.train_labels).expect("non-empty");
    let model = cnn();
    let mut opt = Optim::new(model.parameters(), Adam::new(1e-3));
    let mut loader = DataLoader::new(train, BATCH).expect("batch > 0").shuffle(0);
    let mut epoch = || {
        let mut tape = Tape::new();
        for batch in loader.epoch() {
            tape.reset();
            let logits = model.forward(tape.constant(batch.features.clone()));
            cross_entropy_loss(logits, batch.classes(), Reduction::Mean).backward();
            opt.step();
            opt.zero_grad();
        }
    };
    epoch();
    let mut times: Vec<f64> = (0..epochs)
        .map(|_| {
            let start = Instant::now();
            epoch();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0], times[times.len() - 1])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let threads = rayon::current_num_threads();
    if !args.iter().any(|a| a == "--epochs") {
        println!(
            "rayon threads: {threads}{}",
            if quick { " (quick)" } else { "" }
        );
        println!(
            "\n| convolution, batch 64 | pass | descent | raw GEMM of the same product | ratio |"
        );
        println!("|---|---|---|---|---|");
        for layer in &LAYERS {
            layer.report(if quick { 5 } else { 20 });
        }
        println!("\n| pooling, batch 64 | forward | backward |");
        println!("|---|---|---|");
        for (channels, size) in [(16, 28), (32, 14)] {
            report_pooling(channels, size, if quick { 5 } else { 20 });
        }
    }
    let (median, min, max) = epoch_seconds(3);
    println!(
        "cnn/adam batch 64, {threads} thread(s): median {median:.4} s/epoch (min {min:.4}, max {max:.4})"
    );
}
