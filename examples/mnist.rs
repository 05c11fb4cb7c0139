//! The flagship: a 784-128-10 ReLU MLP trained on MNIST with Adam.
//!
//! Run: `cargo run --release --example mnist` (`-- --help` for the options).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use descent::prelude::*;

/// Trains the flagship 784-128-10 MLP on MNIST and reports test accuracy.
#[derive(Parser)]
struct Options {
    /// Directory of the four MNIST files, .gz or raw (full MNIST works too).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))]
    data: PathBuf,
    /// Passes over the training set.
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Samples per gradient step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// The optimizer.
    #[arg(long, value_enum, default_value_t = Choice::Adam)]
    optimizer: Choice,
    /// Seed of the initial weights and the batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the best checkpoint and the plot go.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/target/mnist"))]
    out: PathBuf,
}

/// The optimizers the flagship can train with.
#[derive(Clone, Copy, ValueEnum)]
enum Choice {
    Adam,
    Adamw,
    Sgd,
    Momentum,
    Nesterov,
    Adagrad,
    Rmsprop,
}

/// The chosen optimizer over `params`; the learning rate comes from the
/// command line, so an invalid one is an error, not a panic.
fn optimizer(
    choice: Choice,
    params: Vec<(String, Param)>,
    lr: f64,
) -> Result<Box<dyn Optimizer>, OptimError> {
    Ok(match choice {
        Choice::Adam => Box::new(Optim::try_new(params, Adam::new(lr))?),
        Choice::Adamw => Box::new(Optim::try_new(params, AdamW::new(lr))?),
        Choice::Sgd => Box::new(Optim::try_new(params, Sgd::new(lr))?),
        Choice::Momentum => Box::new(Optim::try_new(
            params,
            Sgd::new(lr).momentum(Momentum::Classic(0.9)),
        )?),
        Choice::Nesterov => Box::new(Optim::try_new(
            params,
            Sgd::new(lr).momentum(Momentum::Nesterov(0.9)),
        )?),
        Choice::Adagrad => Box::new(Optim::try_new(params, Adagrad::new(lr))?),
        Choice::Rmsprop => Box::new(Optim::try_new(params, RmsProp::new(lr))?),
    })
}

fn main() -> std::process::ExitCode {
    match run(Options::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    let mnist = Mnist::load(&options.data)?;
    println!(
        "MNIST from {}: {} training and {} test images",
        options.data.display(),
        mnist.train_labels.len(),
        mnist.test_labels.len()
    );
    let train = Dataset::classification(mnist.train_images, &mnist.train_labels)?;
    let test = Dataset::classification(mnist.test_images, &mnist.test_labels)?;

    let mut rng = seeded_rng(options.seed);
    let model = Sequential::new()
        .push(Dense::new(784, 128, &mut rng).with_activation(Activation::Relu))
        .push(Dense::new(128, 10, &mut rng));
    let mut opt = optimizer(options.optimizer, model.named_parameters(), options.lr)?;
    let mut loader = DataLoader::new(train, options.batch_size)?.shuffle(options.seed);

    std::fs::create_dir_all(&options.out)?;
    let checkpoint = options.out.join("mnist.ckpt");
    let started = Instant::now();
    let history = Trainer::new(&model, opt.as_mut(), Loss::CrossEntropy)
        .epochs(options.epochs)
        .best_checkpoint(&checkpoint)
        .fit(&mut loader, Some(&test))?;
    let seconds = started.elapsed().as_secs_f64();

    load_module(&model, &checkpoint)?;
    let result = evaluate(&model, &test, 1000, Loss::CrossEntropy);
    let plot = options.out.join("mnist.svg");
    history.plot(&plot)?;
    println!(
        "test accuracy {:.2}% (loss {:.4}) after {} epochs in {seconds:.2} s ({:.3} s per epoch)",
        result.accuracy().unwrap_or(0.0) * 100.0,
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
