//! The CNN flagship trained from PyTorch's random draws: for each directory
//! `data/interop/cnn_start.py` wrote (initial weights, batch order, and the
//! test accuracy PyTorch reached after each epoch), train descent's CNN from
//! the same weights in the same order and print both accuracies per epoch.
//! Equal draws leave only the arithmetic to differ, so this tells a
//! difference in training from the spread between seeds.
//!
//! Run: `python3 benches/compare/same_start.py` (needs PyTorch), or
//! `cargo bench --bench same_start -- DIR...` on directories already written.

use descent::prelude::*;

// The tests also check the first 10 steps; this needs only the epochs.
#[allow(dead_code)]
#[path = "../tests/common/pytorch_start.rs"]
mod pytorch_start;
use pytorch_start::{Images, PytorchStart};

#[path = "../examples/cnn/model.rs"]
mod model;

fn main() {
    let dirs: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    if dirs.is_empty() {
        eprintln!(
            "usage: cargo bench --bench same_start -- DIR... (see benches/compare/same_start.py)"
        );
        std::process::exit(2);
    }
    let images = Images::load();
    let mut finals = Vec::new();
    for dir in &dirs {
        let start = PytorchStart::load(dir);
        let model = model::cnn(&mut seeded_rng(0));
        start.load_initial_weights(&model);
        let mut opt = Optim::try_new(model.named_parameters(), Adam::new(1e-3)).unwrap();
        println!("{dir}: test accuracy after each epoch, descent vs PyTorch");
        let mut ours = 0.0;
        for (epoch, order) in start.order.iter().enumerate() {
            images.train(&model, &mut opt, order, None);
            ours = images.test_accuracy(&model);
            let pytorchs = start.accuracy[epoch];
            println!(
                "  epoch {}: {:.2}% vs {:.2}%",
                epoch + 1,
                100.0 * ours,
                100.0 * pytorchs
            );
        }
        finals.push((ours, *start.accuracy.last().unwrap()));
    }
    let mean = |pick: fn(&(f64, f64)) -> f64| {
        100.0 * finals.iter().map(pick).sum::<f64>() / finals.len() as f64
    };
    println!(
        "mean final accuracy over {} starts: descent {:.2}%, PyTorch {:.2}%",
        finals.len(),
        mean(|f| f.0),
        mean(|f| f.1)
    );
}
