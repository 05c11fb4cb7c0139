//! The flagship: a 784-128-10 ReLU MLP trained on MNIST with Adam.
//!
//! Run: `cargo run --release --example mnist` (`-- --help` for the options).

mod common;

use std::path::PathBuf;
use std::time::Instant;

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
    let mnist = Mnist::load(&training.data)?;
    println!(
        "MNIST from {}: {} training and {} test images",
        training.data.display(),
        mnist.train_labels.len(),
        mnist.test_labels.len()
    );
    let train = Dataset::classification(mnist.train_images, &mnist.train_labels)?;
    let test = Dataset::classification(mnist.test_images, &mnist.test_labels)?;

    let mut rng = seeded_rng(training.seed);
    let model = Sequential::new()
        .push(Dense::new(784, 128, &mut rng).with_activation(Activation::Relu))
        .push(Dense::new(128, 10, &mut rng));
    let mut opt = common::optimizer(training.optimizer, model.named_parameters(), training.lr)?;
    let mut loader = DataLoader::new(train, training.batch_size)?.shuffle(training.seed);

    std::fs::create_dir_all(&out)?;
    let checkpoint = out.join("mnist.ckpt");
    let started = Instant::now();
    let history = Trainer::new(&model, opt.as_mut(), Loss::CrossEntropy)
        .epochs(training.epochs)
        .best_checkpoint(&checkpoint)
        .fit(&mut loader, Some(&test))?;
    let seconds = started.elapsed().as_secs_f64();

    let plot = out.join("mnist.svg");
    common::finish(&model, &test, &history, seconds, &checkpoint, &plot)
}
