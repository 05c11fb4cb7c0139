//! Seconds per training epoch of the workloads `benches/compare/run.py`
//! races against PyTorch and numpy (the same models, batch sizes, optimizers
//! and data): prints one JSON line, the median of a few epochs after a
//! warm-up.
//!
//! Run: `cargo bench --bench epochs -- --workload small-adam [--threads 2] [--epochs 3]`
//! Workloads: small-adam, small-sgd (784-128-10 MLP, batch 64), large-adam,
//! large-sgd (784-1024-1024-10, batch 256), cnn-adam (the CNN flagship,
//! batch 64), linreg (one feature, batch 32); and small-gemms, large-gemms:
//! only the matrix products of an MLP epoch, the floor no training loop on
//! this backend can go below.

use std::time::Instant;

use descent::prelude::*;
use descent::tensor::parallel::on_pool;

// Each benchmark binary uses part of the shared code.
#[allow(dead_code)]
mod common;
use common::{cnn, mlp};

/// One workload: a model, its optimizer, its batches and its loss.
struct Workload {
    model: Box<dyn Module>,
    optimizer: Box<dyn Optimizer>,
    loader: DataLoader,
    loss: Loss,
}

impl Workload {
    fn new(name: &str) -> Workload {
        let (net, optimizer) = name.split_once('-').unwrap_or((name, "sgd"));
        if net == "linreg" {
            return Workload::linear_regression();
        }
        let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))
            .expect("the shipped MNIST subset");
        let images = match net {
            "cnn" => mnist.train_images.reshape([-1, 1, 28, 28]),
            _ => mnist.train_images,
        };
        let train =
            Dataset::classification(images, &mnist.train_labels).expect("a non-empty data set");
        let (model, batch): (Box<dyn Module>, usize) = match net {
            "small" => (Box::new(mlp(&[784, 128, 10])), 64),
            "large" => (Box::new(mlp(&[784, 1024, 1024, 10])), 256),
            "cnn" => (Box::new(cnn()), 64),
            other => panic!("epochs: unknown workload {other:?}"),
        };
        let optimizer: Box<dyn Optimizer> = match optimizer {
            "adam" => Box::new(Optim::new(model.parameters(), Adam::new(1e-3))),
            "sgd" => Box::new(Optim::new(model.parameters(), Sgd::new(0.1))),
            other => panic!("epochs: unknown optimizer {other:?}"),
        };
        Workload {
            model,
            optimizer,
            loader: DataLoader::new(train, batch).expect("batch > 0").shuffle(0),
            loss: Loss::CrossEntropy,
        }
    }

    /// The seed's line, `y = 4 + 3x + N(0, 1)` for 1,000 `x` in [0, 2).
    fn linear_regression() -> Workload {
        let mut rng = seeded_rng(42);
        let x = Tensor::rand_uniform([1000, 1], 0.0, 2.0, &mut rng);
        let noise = Tensor::randn([1000, 1], &mut rng);
        let y = x.mul_scalar(3.0).add_scalar(4.0).add(&noise);
        let model = Dense::new(1, 1, &mut seeded_rng(0));
        let optimizer = Box::new(Optim::new(model.parameters(), Sgd::new(0.01)));
        Workload {
            model: Box::new(model),
            optimizer,
            loader: DataLoader::new(Dataset::new(x, y).expect("1,000 rows"), 32)
                .expect("batch > 0")
                .shuffle(0),
            loss: Loss::MeanSquaredError,
        }
    }

    fn epoch(&mut self) {
        let mut tape = Tape::new();
        for batch in self.loader.epoch() {
            tape.reset();
            let output = self.model.forward(tape.constant(batch.features.clone()));
            self.loss.compute(output, &batch).backward();
            self.optimizer.step();
            self.optimizer.zero_grad();
        }
    }
}

/// The matrix products of one MLP training epoch and nothing else: per
/// batch, each layer's forward `x W^T`, its weight gradient `dy^T x` and,
/// above the first layer, its input gradient `dy W`.
struct GemmFloor {
    /// Per layer: weight `[out, in]`, and per batch size its input
    /// `[batch, in]` and output gradient `[batch, out]`.
    layers: Vec<(Tensor, Vec<(Tensor, Tensor)>)>,
    batches: Vec<usize>,
}

impl GemmFloor {
    fn new(sizes: &[usize], batch: usize) -> GemmFloor {
        let images = 8_000;
        let mut batches = vec![batch; images / batch];
        if images % batch > 0 {
            batches.push(images % batch);
        }
        let rng = &mut seeded_rng(0);
        let mut distinct = batches.clone();
        distinct.dedup();
        let layers = sizes
            .windows(2)
            .map(|pair| {
                let operands = distinct
                    .iter()
                    .map(|&b| {
                        (
                            Tensor::randn([b, pair[0]], rng),
                            Tensor::randn([b, pair[1]], rng),
                        )
                    })
                    .collect();
                (Tensor::randn([pair[1], pair[0]], rng), operands)
            })
            .collect();
        GemmFloor { layers, batches }
    }

    fn epoch(&self) {
        for &batch in &self.batches {
            for (depth, (weight, operands)) in self.layers.iter().enumerate() {
                let (x, dy) = operands
                    .iter()
                    .find(|(x, _)| x.dims()[0] == batch)
                    .expect("operands of every batch size");
                std::hint::black_box(x.matmul_t(weight));
                std::hint::black_box(dy.t_matmul(x));
                if depth > 0 {
                    std::hint::black_box(dy.matmul(weight));
                }
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut workload, mut threads, mut epochs) = (None, None, 3);
    while let Some(flag) = args.next() {
        let value = args.next();
        match (flag.as_str(), value) {
            ("--workload", Some(v)) => workload = Some(v),
            ("--threads", Some(v)) => threads = Some(v.parse().expect("--threads N")),
            ("--epochs", Some(v)) => epochs = v.parse().expect("--epochs N"),
            // `cargo bench` passes --bench to every benchmark binary.
            ("--bench", _) => {}
            (other, _) => panic!("epochs: unexpected argument {other:?}"),
        }
    }
    let name = workload.expect("epochs: --workload NAME is required");
    if let Some(threads) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .expect("the first pool");
    }
    // On a pool thread, as `Trainer::fit` runs: the loop's thread joins the
    // parallel ops.
    let mut times = on_pool(|| time_epochs(&name, epochs));
    let all = format!("{times:?}");
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"impl\": \"descent\", \"workload\": \"{name}\", \"threads\": {}, \"seconds\": {}, \"epochs\": {all}}}",
        rayon::current_num_threads(),
        times[times.len() / 2]
    );
}

/// Seconds of each of `epochs` epochs of workload `name`, after a warm-up.
fn time_epochs(name: &str, epochs: usize) -> Vec<f64> {
    let mut epoch: Box<dyn FnMut()> = match name {
        "small-gemms" => {
            let floor = GemmFloor::new(&[784, 128, 10], 64);
            Box::new(move || floor.epoch())
        }
        "large-gemms" => {
            let floor = GemmFloor::new(&[784, 1024, 1024, 10], 256);
            Box::new(move || floor.epoch())
        }
        _ => {
            let mut run = Workload::new(name);
            Box::new(move || run.epoch())
        }
    };
    epoch();
    (0..epochs)
        .map(|_| {
            let start = Instant::now();
            epoch();
            start.elapsed().as_secs_f64()
        })
        .collect()
}
