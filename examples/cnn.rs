//! The CNN flagship: PyTorch's MNIST tutorial network (two 5x5 convolutions
//! with ReLU and 2x2 max pooling, then a 1568-128-10 MLP) trained with Adam.
//!
//! Run: `cargo run --release --example cnn`
//! Options: `--data DIR` (the four MNIST files, .gz or raw; default: the
//! shipped 9,000-image subset), `--epochs N` (5), `--batch-size N` (64),
//! `--lr F` (1e-3), `--optimizer adam|adamw|sgd|momentum|nesterov|adagrad|rmsprop`,
//! `--seed N` (0), `--out DIR` (target/cnn: checkpoint and plot).

use std::path::PathBuf;
use std::time::Instant;

use descent::prelude::*;

struct Options {
    data: PathBuf,
    epochs: usize,
    batch_size: usize,
    lr: f64,
    optimizer: String,
    seed: u64,
    out: PathBuf,
}

fn parse_options() -> Result<Options, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut options = Options {
        data: root.join("data/mnist"),
        epochs: 5,
        batch_size: 64,
        lr: 1e-3,
        optimizer: "adam".into(),
        seed: 0,
        out: root.join("target/cnn"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<f64>()
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        match flag.as_str() {
            "--data" => options.data = value()?.into(),
            "--epochs" => options.epochs = number(value()?)? as usize,
            "--batch-size" => options.batch_size = number(value()?)? as usize,
            "--lr" => options.lr = number(value()?)?,
            "--optimizer" => options.optimizer = value()?,
            "--seed" => options.seed = number(value()?)? as u64,
            "--out" => options.out = value()?.into(),
            "--help" | "-h" => {
                return Err(include_str!("cnn.rs")
                    .lines()
                    .take(8)
                    .collect::<Vec<_>>()
                    .join("\n"));
            }
            other => return Err(format!("unknown option {other:?}; try --help")),
        }
    }
    Ok(options)
}

fn optimizer(name: &str, params: Vec<Param>, lr: f64) -> Result<Box<dyn Optimizer>, String> {
    Ok(match name {
        "adam" => Box::new(Optim::new(params, Adam::new(lr))),
        "adamw" => Box::new(Optim::new(
            params,
            Adam {
                lr,
                ..Adam::adamw()
            },
        )),
        "sgd" => Box::new(Optim::new(params, Sgd::new(lr))),
        "momentum" => Box::new(Optim::new(params, Sgd::new(lr).momentum(0.9))),
        "nesterov" => Box::new(Optim::new(
            params,
            Sgd::new(lr).momentum(0.9).nesterov(true),
        )),
        "adagrad" => Box::new(Optim::new(
            params,
            Adagrad {
                lr,
                ..Adagrad::default()
            },
        )),
        "rmsprop" => Box::new(Optim::new(
            params,
            RmsProp {
                lr,
                ..RmsProp::default()
            },
        )),
        other => return Err(format!("unknown optimizer {other:?}")),
    })
}

/// PyTorch's `Sequential(Conv2d(1, 16, 5, padding=2), ReLU(), MaxPool2d(2),
/// Conv2d(16, 32, 5, padding=2), ReLU(), MaxPool2d(2), Flatten(),
/// Linear(1568, 128), ReLU(), Linear(128, 10))`, with the same parameter
/// names (`0.weight`, `3.weight`, `7.weight`, `9.weight`).
fn cnn(rng: &mut impl descent::tensor::rand::Rng) -> Sequential {
    Sequential::new()
        .push(Conv2d::new(1, 16, 5, rng).padding(2))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::new(16, 32, 5, rng).padding(2))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Flatten::new())
        .push(Dense::new(32 * 7 * 7, 128, rng))
        .push(Activation::Relu)
        .push(Dense::new(128, 10, rng))
}

/// `[n, 784]` pixel rows as `[n, 1, 28, 28]` images (no copy).
fn images(pixels: Tensor) -> Tensor {
    let n = pixels.dims()[0];
    pixels.reshape([n, 1, 28, 28])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse_options()?;
    let mnist = Mnist::load(&options.data)?;
    println!(
        "MNIST from {}: {} training and {} test images",
        options.data.display(),
        mnist.train_labels.len(),
        mnist.test_labels.len()
    );
    let train = Dataset::classification(images(mnist.train_images), &mnist.train_labels)?;
    let test = Dataset::classification(images(mnist.test_images), &mnist.test_labels)?;

    let mut rng = seeded_rng(options.seed);
    let model = cnn(&mut rng);
    println!("{}", summary(&model, [1, 1, 28, 28]));
    let mut opt = optimizer(&options.optimizer, model.parameters(), options.lr)?;
    let mut loader = DataLoader::new(train, options.batch_size)?.shuffle(options.seed);

    std::fs::create_dir_all(&options.out)?;
    let checkpoint = options.out.join("cnn.ckpt");
    let started = Instant::now();
    let history = Trainer::new(&model, opt.as_mut(), Loss::CrossEntropy)
        .epochs(options.epochs)
        .best_checkpoint(&checkpoint)
        .fit(&mut loader, Some(&test))?;
    let seconds = started.elapsed().as_secs_f64();

    load_module(&model, &checkpoint)?;
    // Batches of 256, as the trainer's validation: an inference tape keeps
    // each layer's output until it drops, 50 MB for conv1 at 1,000 images.
    let result = evaluate(&model, &test, 256, Loss::CrossEntropy);
    let plot = options.out.join("cnn.svg");
    history.plot(&plot)?;
    println!(
        "test accuracy {:.2}% (loss {:.4}) after {} epochs in {seconds:.2} s ({:.3} s per epoch)",
        result.accuracy.unwrap_or(0.0) * 100.0,
        result.loss,
        history.epochs.len(),
        seconds / history.epochs.len().max(1) as f64
    );
    println!(
        "best checkpoint: {}\nplot: {}",
        checkpoint.display(),
        plot.display()
    );
    Ok(())
}
