//! One trained model shared by several threads: the flagship MLP, loaded
//! from a checkpoint into an `Arc`, classifies the MNIST test set from 1, 2
//! and 4 threads at once (forward passes on `Tape::eval()` tapes), printing
//! images per second for each and checking every thread count predicts
//! exactly the same digits.
//!
//! Run: `cargo run --release --example parallel_inference` (`-- --help`
//! for the options).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use descent::prelude::*;

const THREAD_COUNTS: [usize; 3] = [1, 2, 4];

/// Classifies the MNIST test set from 1, 2 and 4 threads sharing one model.
#[derive(Parser)]
struct Options {
    /// The model's checkpoint; trained for one epoch and saved there if missing.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/target/parallel_inference/mnist.ckpt"))]
    checkpoint: PathBuf,
    /// Directory of the four MNIST files.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))]
    data: PathBuf,
    /// Images per forward pass.
    #[arg(long, default_value_t = 100, value_parser = positive)]
    batch_size: usize,
    /// Passes over the test set per thread count.
    #[arg(long, default_value_t = 20, value_parser = positive)]
    passes: usize,
}

/// A whole number of at least 1.
fn positive(text: &str) -> Result<usize, String> {
    match text.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{text:?} is not a positive whole number")),
    }
}

/// The flagship 784-128-10 ReLU MLP, freshly initialized.
fn flagship() -> Sequential {
    let mut rng = seeded_rng(0);
    Sequential::new()
        .push(Dense::new(784, 128, &mut rng).with_activation(Activation::Relu))
        .push(Dense::new(128, 10, &mut rng))
}

/// Trains the flagship for one epoch and saves it to `path`.
fn train_and_save(mnist: &Mnist, path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    println!("no checkpoint at {}: training one epoch", path.display());
    let train = Dataset::classification(mnist.train_images.clone(), &mnist.train_labels)?;
    let model = flagship();
    let mut opt = Optim::new(model.parameters(), Adam::new(1e-3));
    let mut loader = DataLoader::new(train, 64)?.shuffle(0);
    Trainer::new(&model, &mut opt, Loss::CrossEntropy)
        .epochs(1)
        .fit(&mut loader, None)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    save_module(&model, path)?;
    Ok(())
}

/// The predicted digit of every image of `batches`, in order, computed by
/// `threads` threads that each take a contiguous share of the batches and
/// read the one shared model.
fn classify(model: &Arc<Sequential>, batches: &Arc<Vec<Tensor>>, threads: usize) -> Vec<usize> {
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (model, batches) = (Arc::clone(model), Arc::clone(batches));
            let share = t * batches.len() / threads..(t + 1) * batches.len() / threads;
            std::thread::spawn(move || {
                let mut digits = Vec::new();
                for batch in &batches[share] {
                    let tape = Tape::eval();
                    let logits = model.forward(tape.constant(batch.clone())).value();
                    digits.extend(logits.argmax_axis(1, false).to_vec());
                }
                digits
            })
        })
        .collect();
    workers
        .into_iter()
        .flat_map(|worker| worker.join().expect("a worker thread panicked"))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse();
    let mnist = Mnist::load(&options.data)?;
    if !options.checkpoint.exists() {
        train_and_save(&mnist, &options.checkpoint)?;
    }
    let model = flagship();
    load_module(&model, &options.checkpoint)?;
    let model = Arc::new(model);
    println!("loaded {}", options.checkpoint.display());

    let images = &mnist.test_images;
    let count = images.dims()[0];
    let batches: Arc<Vec<Tensor>> = Arc::new(
        (0..count)
            .step_by(options.batch_size)
            .map(|start| images.narrow(0, start, options.batch_size.min(count - start)))
            .collect(),
    );
    println!(
        "{count} test images in batches of {}, {} passes per thread count ({} cores)\n",
        options.batch_size,
        options.passes,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| threads | images/s | vs 1 thread |\n|---:|---:|---:|");
    let mut reference: Option<Vec<usize>> = None;
    let mut one_thread_rate = 0.0;
    for threads in THREAD_COUNTS {
        classify(&model, &batches, threads); // warm-up
        let started = Instant::now();
        let mut digits = Vec::new();
        for _ in 0..options.passes {
            digits = classify(&model, &batches, threads);
        }
        let rate = (count * options.passes) as f64 / started.elapsed().as_secs_f64();
        if threads == 1 {
            one_thread_rate = rate;
        }
        println!("| {threads} | {rate:.0} | {:.2}x |", rate / one_thread_rate);
        match &reference {
            None => reference = Some(digits),
            Some(expected) if *expected != digits => {
                return Err(
                    format!("{threads} threads predicted other digits than 1 thread").into(),
                );
            }
            Some(_) => {}
        }
    }
    let digits = reference.expect("at least one thread count");
    let correct = digits
        .iter()
        .zip(&mnist.test_labels)
        .filter(|(predicted, label)| predicted == label)
        .count();
    println!(
        "\npredictions identical for {THREAD_COUNTS:?} threads; test accuracy {:.2}%",
        100.0 * correct as f64 / count as f64
    );
    Ok(())
}
