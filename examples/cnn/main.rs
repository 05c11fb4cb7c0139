//! The CNN flagship: PyTorch's MNIST tutorial network (two 5x5 convolutions
//! with ReLU and 2x2 max pooling, then a 1568-128-10 MLP) trained with Adam.
//!
//! Run: `cargo run --release --example cnn` (`-- --help` for the options).

#[path = "../common/mod.rs"]
mod common;
mod model;

use std::path::PathBuf;

use clap::Parser;
use descent::prelude::*;
use model::cnn;

/// Trains the CNN flagship on MNIST and reports test accuracy.
#[derive(Parser)]
struct Options {
    #[command(flatten)]
    training: common::Training,
    /// Where the best checkpoint and the plot go.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/target/cnn"))]
    out: PathBuf,
}

/// `[n, 784]` pixel rows as `[n, 1, 28, 28]` images (no copy).
fn images(pixels: Tensor) -> Tensor {
    let n = pixels.dims()[0];
    pixels.reshape([n, 1, 28, 28])
}

fn main() -> std::process::ExitCode {
    common::report(|| run(Options::parse()))
}

fn run(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    let Options { training, out } = options;
    let mnist = common::load_mnist(&training)?;
    let train = Dataset::classification(images(mnist.train_images), &mnist.train_labels)?;
    let test = Dataset::classification(images(mnist.test_images), &mnist.test_labels)?;

    let mut rng = seeded_rng(training.seed);
    let model = cnn(&mut rng);
    println!("{}", summary(&model, [1, 1, 28, 28]));
    common::fit(&model, &training, train, &test, &out, "cnn")
}
