//! Races the optimizers on one problem: the 784-128-10 MNIST MLP, 3 epochs
//! each from the same initial weights and batch order, written as the plain
//! hand-made training loop. Prints final test accuracy and plots the training
//! loss curves together.
//!
//! Run: `cargo run --release --example optimizers` (`-- --help` for the
//! options).

use std::path::PathBuf;

use clap::Parser;
use descent::plot::{Chart, Series, write_svg};
use descent::prelude::*;

/// Races the optimizers on the MNIST MLP and plots their training loss.
#[derive(Parser)]
struct Options {
    /// Passes over the training set, for each optimizer.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Where the plot goes.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/target/optimizers.svg"))]
    out: PathBuf,
}

/// Steps between points of the loss curves.
const LOG_EVERY: usize = 25;

fn mlp() -> Sequential {
    let mut rng = seeded_rng(0);
    Sequential::new()
        .push(Dense::new(784, 128, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(128, 10, &mut rng))
}

/// Builds an optimizer over a model's parameters.
type MakeOptimizer = Box<dyn Fn(Vec<Param>) -> Box<dyn Optimizer>>;
/// Builds a scheduler for an optimizer, given the total number of steps.
type MakeScheduler = Box<dyn Fn(&mut dyn Optimizer, usize) -> Box<dyn LrScheduler>>;

/// Trains a fresh model; returns (smoothed loss every LOG_EVERY steps, test accuracy).
fn race(
    make: &MakeOptimizer,
    schedule: Option<&MakeScheduler>,
    epochs: usize,
    train: &Dataset,
    test: &Dataset,
) -> (Vec<(f64, f64)>, f64) {
    let model = mlp();
    let mut opt = make(model.parameters());
    let mut loader = DataLoader::new(train.clone(), 64)
        .expect("batch size > 0")
        .shuffle(0);
    let total_steps = epochs * loader.batches_per_epoch();
    let mut scheduler = schedule.map(|s| s(opt.as_mut(), total_steps));
    let (mut curve, mut window, mut step) = (Vec::new(), 0.0, 0);
    let mut tape = Tape::new();
    for _ in 0..epochs {
        for batch in loader.epoch() {
            tape.reset();
            let logits = model.forward(tape.constant(batch.features.clone()));
            let loss = cross_entropy_loss(logits, batch.classes(), Reduction::Mean);
            window += loss.item() as f64;
            loss.backward();
            opt.step();
            opt.zero_grad();
            if let Some(s) = scheduler.as_mut() {
                s.advance(opt.as_mut(), 0.0);
            }
            step += 1;
            if step % LOG_EVERY == 0 {
                curve.push((step as f64, window / LOG_EVERY as f64));
                window = 0.0;
            }
        }
    }
    let accuracy = evaluate(&model, test, 1000, Loss::CrossEntropy)
        .accuracy()
        .unwrap_or(0.0);
    (curve, accuracy)
}

fn warmup_then_cosine(opt: &mut dyn Optimizer, total: usize) -> Box<dyn LrScheduler> {
    let warmup = LinearLr {
        start_factor: 0.01,
        end_factor: 1.0,
        total_iters: 100,
    };
    let cosine = CosineAnnealingLr {
        t_max: total - 100,
        eta_min: 0.0,
    };
    let chain = Chain::new(vec![Box::new(warmup), Box::new(cosine)], vec![100]);
    Box::new(Scheduler::new(chain, opt))
}

/// An optimizer whose options are known to be valid.
fn boxed<R: UpdateRule + 'static>(params: Vec<Param>, rule: R) -> Box<dyn Optimizer> {
    Box::new(Optim::new(params, rule))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse();
    let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))?;
    let train = Dataset::classification(mnist.train_images, &mnist.train_labels)?;
    let test = Dataset::classification(mnist.test_images, &mnist.test_labels)?;

    let contenders: Vec<(&str, MakeOptimizer, Option<MakeScheduler>)> = vec![
        ("SGD lr 0.1", Box::new(|p| boxed(p, Sgd::new(0.1))), None),
        (
            "momentum 0.9, lr 0.01",
            Box::new(|p| boxed(p, Sgd::new(0.01).momentum(Momentum::Classic(0.9)))),
            None,
        ),
        (
            "Nesterov 0.9, lr 0.01",
            Box::new(|p| boxed(p, Sgd::new(0.01).momentum(Momentum::Nesterov(0.9)))),
            None,
        ),
        (
            "AdaGrad lr 0.05",
            Box::new(|p| boxed(p, Adagrad::new(0.05))),
            None,
        ),
        (
            "RMSprop lr 1e-3",
            Box::new(|p| boxed(p, RmsProp::new(1e-3))),
            None,
        ),
        (
            "Adam lr 1e-3",
            Box::new(|p| boxed(p, Adam::new(1e-3))),
            None,
        ),
        (
            "AdamW lr 1e-3",
            Box::new(|p| boxed(p, AdamW::new(1e-3))),
            None,
        ),
        (
            "Adam lr 3e-3, warm-up + cosine",
            Box::new(|p| boxed(p, Adam::new(3e-3))),
            Some(Box::new(warmup_then_cosine)),
        ),
        (
            "SGD one-cycle, max lr 0.5",
            Box::new(|p| boxed(p, Sgd::new(0.5).momentum(Momentum::Classic(0.9)))),
            Some(Box::new(|opt, total| {
                Box::new(Scheduler::new(OneCycleLr::new(0.5, total), opt))
            })),
        ),
    ];
    let mut series = Vec::new();
    println!(
        "{:<34} test accuracy after {} epochs",
        "optimizer", options.epochs
    );
    for (name, make, schedule) in &contenders {
        let (curve, accuracy) = race(make, schedule.as_ref(), options.epochs, &train, &test);
        println!("{name:<34} {:.2}%", accuracy * 100.0);
        series.push(Series {
            name,
            points: curve,
        });
    }

    let path = options.out;
    let chart = Chart {
        series,
        ..Chart::new("MNIST MLP: training loss", "step", "cross-entropy").log_y()
    };
    write_svg(&path, &[chart])?;
    println!("plot: {}", path.display());
    Ok(())
}
