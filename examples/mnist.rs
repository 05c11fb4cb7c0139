//! The flagship: a 784-128-10 ReLU MLP trained on MNIST with Adam.
//!
//! Run: `cargo run --release --example mnist`
//! Options: `--data DIR` (the four MNIST files, .gz or raw; default: the
//! shipped 9,000-image subset), `--epochs N` (5), `--batch-size N` (64),
//! `--lr F` (1e-3), `--optimizer adam|adamw|sgd|momentum|nesterov|adagrad|rmsprop`,
//! `--seed N` (0), `--out DIR` (target/mnist: checkpoint and plot).

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
        out: root.join("target/mnist"),
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
                return Err(include_str!("mnist.rs")
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

fn optimizer(
    name: &str,
    params: Vec<(String, Param)>,
    lr: f64,
) -> Result<Box<dyn Optimizer>, Box<dyn std::error::Error>> {
    Ok(match name {
        "adam" => Box::new(Optim::new(params, Adam::new(lr))),
        "adamw" => Box::new(Optim::new(params, AdamW::new(lr))),
        "sgd" => Box::new(Optim::new(params, Sgd::new(lr))),
        "momentum" => Box::new(Optim::new(
            params,
            Sgd::new(lr).momentum(Momentum::Classic(0.9)),
        )),
        "nesterov" => Box::new(Optim::new(
            params,
            Sgd::new(lr).momentum(Momentum::Nesterov(0.9)),
        )),
        "adagrad" => Box::new(Optim::new(params, Adagrad::new(lr))),
        "rmsprop" => Box::new(Optim::new(params, RmsProp::new(lr))),
        other => return Err(format!("unknown optimizer {other:?}").into()),
    })
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
    let train = Dataset::classification(mnist.train_images, &mnist.train_labels)?;
    let test = Dataset::classification(mnist.test_images, &mnist.test_labels)?;

    let mut rng = seeded_rng(options.seed);
    let model = Sequential::new()
        .push(Dense::new(784, 128, &mut rng).with_activation(Activation::Relu))
        .push(Dense::new(128, 10, &mut rng));
    let mut opt = optimizer(&options.optimizer, model.named_parameters(), options.lr)?;
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
