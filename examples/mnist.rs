//! The flagship: a 784-128-10 ReLU MLP trained on MNIST with Adam.
//!
//! Run: `cargo run --release --example mnist` (`-- --help` for the options).

mod common;

use std::path::PathBuf;

use clap::Parser;
use descent::prelude::*;

/// Trains the flagship 784-128-10 MLP on MNIST and reports test accuracy.
#[derive(Parser)]
struct Options {
    #[command(flatten)]
    training: common::Training,
    /// Where the best checkpoint and the plot go.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/target/mnist"))]
    out: PathBuf,
}

fn main() -> std::process::ExitCode {
    common::report(|| run(Options::parse()))
}

fn run(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    let Options { training, out } = options;
    let mnist = common::load_mnist(&training)?;
    let train = Dataset::classification(mnist.train_images, &mnist.train_labels)?;
    let test = Dataset::classification(mnist.test_images, &mnist.test_labels)?;

    let mut rng = seeded_rng(training.seed);
    let model = Sequential::new()
        .push(Dense::new(784, 128, &mut rng).with_activation(Activation::Relu))
        .push(Dense::new(128, 10, &mut rng));
    common::fit(&model, &training, train, &test, &out, "mnist")
}
