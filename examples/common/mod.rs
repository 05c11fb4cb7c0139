//! What the two MNIST flagships (`mnist`, `cnn`) share: their training
//! options on the command line, the optimizers they offer, the training
//! run and its report, and how they report an error.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use descent::prelude::*;

/// The options of an MNIST training run.
#[derive(Args)]
pub struct Training {
    /// Directory of the four MNIST files, .gz or raw (full MNIST works too).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))]
    pub data: PathBuf,
    /// Passes over the training set.
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Samples per gradient step.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// The optimizer.
    #[arg(long, value_enum, default_value_t = Choice::Adam)]
    pub optimizer: Choice,
    /// Seed of the initial weights and the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The optimizers the flagships can train with.
#[derive(Clone, Copy, ValueEnum)]
pub enum Choice {
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
pub fn optimizer(
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

/// Runs `main`, printing an error in its readable (`Display`) form.
pub fn report(
    main: impl FnOnce() -> Result<(), Box<dyn std::error::Error>>,
) -> std::process::ExitCode {
    match main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// MNIST from `training.data`, with a line saying what it holds.
pub fn load_mnist(training: &Training) -> Result<Mnist, Box<dyn std::error::Error>> {
    let mnist = Mnist::load(&training.data)?;
    println!(
        "MNIST from {}: {} training and {} test images",
        training.data.display(),
        mnist.train_labels.len(),
        mnist.test_labels.len()
    );
    Ok(mnist)
}

/// Trains `model` on `train` as `training` says (optimizer, learning rate,
/// batch size, epochs; the seed orders the batches), validating on `test`
/// after every epoch and keeping the epoch of lowest test loss in
/// `out/NAME.ckpt`; then reports (see [`finish`]) and plots the history
/// to `out/NAME.svg`.
pub fn fit(
    model: &dyn Module,
    training: &Training,
    train: Dataset,
    test: &Dataset,
    out: &Path,
    name: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut opt = optimizer(training.optimizer, model.named_parameters(), training.lr)?;
    let mut loader = DataLoader::new(train, training.batch_size)?.shuffle(training.seed);
    std::fs::create_dir_all(out)?;
    let checkpoint = out.join(format!("{name}.ckpt"));
    let started = Instant::now();
    let history = Trainer::new(model, opt.as_mut(), Loss::CrossEntropy)
        .epochs(training.epochs)
        .best_checkpoint(&checkpoint)
        .fit(&mut loader, Some(test))?;
    let seconds = started.elapsed().as_secs_f64();
    finish(
        model,
        test,
        &history,
        seconds,
        &checkpoint,
        &out.join(format!("{name}.svg")),
    )
}

/// Prints the test accuracy of the model as the last epoch left it (what
/// PyTorch's MNIST examples report), the time per epoch, and where the
/// epoch of lowest test loss was saved; plots the history to `plot`.
fn finish(
    model: &dyn Module,
    test: &Dataset,
    history: &History,
    seconds: f64,
    checkpoint: &Path,
    plot: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    // Batches of 64, as the trainer's validation: an evaluation tape keeps
    // each layer's output until it drops (50 MB for the CNN's first
    // convolution at 1,000 images).
    let result = evaluate(model, test, 64, Loss::CrossEntropy);
    history.plot(plot)?;
    let epochs = history.epochs.len();
    println!(
        "test accuracy {:.2}% (loss {:.4}) after {epochs} epochs in {seconds:.2} s ({:.3} s per epoch)",
        result.accuracy().unwrap_or(0.0) * 100.0,
        result.loss,
        seconds / epochs.max(1) as f64
    );
    let best = history
        .epochs
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i + 1, e.validation.as_ref()?.loss)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((epoch, loss)) = best {
        println!(
            "lowest test loss {loss:.4} at epoch {epoch}, saved in {}",
            checkpoint.display()
        );
    }
    println!("plot: {}", plot.display());
    Ok(())
}
