//! A linear soft-margin SVM on the breast-cancer table: hinge loss, an L2
//! penalty through weight decay on the weights, mini-batch SGD with an
//! inverse-time decaying learning rate. The same tape, layer and optimizer
//! as every other model here.
//!
//! Run: `cargo run --release --example svm` (`-- --help` for the options).

use clap::Parser;
use descent::prelude::*;

/// A linear soft-margin SVM on the breast-cancer table.
#[derive(Parser)]
struct Options {
    /// Seed of the train/test split.
    #[arg(long, default_value_t = 42)]
    split_seed: u64,
    /// The L2 penalty lambda (weight decay on the weights).
    #[arg(long, default_value_t = 1e-3)]
    lambda: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse();
    let table = Table::read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tabular/breast_cancer.csv"
    ))?;
    let (x, benign) = table.features_and_target("benign")?;
    let y = benign.map(|b| if b > 0.5 { 1.0 } else { -1.0 });
    let split = train_test_split(table.rows(), 0.2, options.split_seed);
    let scaler = Standardizer::fit(&x.index_select(0, &split.train));
    let x = scaler.transform(&x);
    let train = Dataset::new(
        x.index_select(0, &split.train),
        y.index_select(0, &split.train),
    )?;
    let test = Dataset::new(
        x.index_select(0, &split.test),
        y.index_select(0, &split.test),
    )?;

    let svm = Dense::new(30, 1, &mut seeded_rng(0));
    // lambda ||w||^2 / 2 as weight decay lambda on w; the bias is not penalized.
    let lambda = options.lambda;
    let mut opt = Optim::try_new([svm.weight().clone()], Sgd::new(0.05).weight_decay(lambda))?;
    opt.add_param_group(svm.bias().cloned(), Sgd::new(0.05));
    let mut loader = DataLoader::new(train.clone(), 32)?.shuffle(0);
    let decay = InverseTimeDecay {
        decay_rate: 1.0,
        decay_steps: 200.0,
        staircase: false,
    };
    let mut scheduler = Scheduler::new(decay, &mut opt);
    for epoch in 1..=40 {
        let mut total = 0.0;
        for batch in loader.epoch() {
            let tape = Tape::new();
            let scores = svm.forward(tape.constant(batch.features.clone()));
            let loss = hinge_loss(scores, batch.values(), Reduction::Mean);
            total += loss.item() * batch.values().numel() as f32;
            loss.backward();
            opt.step();
            opt.zero_grad();
            scheduler.step(&mut opt);
        }
        if epoch % 10 == 0 {
            println!(
                "epoch {epoch:>2}  hinge loss {:.4}  lr {:.4}",
                total / train.len() as f32,
                opt.lr(0)
            );
        }
    }

    let scores = |data: &Dataset| {
        let tape = Tape::no_grad();
        svm.forward(tape.constant(data.features().clone())).value()
    };
    let held_out = binary_accuracy(&scores(&test), test.targets().values(), 0.0);
    let margins = scores(&train).mul(train.targets().values());
    let violations = margins.data().iter().filter(|&&m| m < 1.0).count();
    let misclassified = margins.data().iter().filter(|&&m| m <= 0.0).count();
    println!(
        "held-out accuracy {:.1}% on {} samples",
        held_out * 100.0,
        test.len()
    );
    println!(
        "margin violations on the training set: {violations} of {} (y f(x) < 1), {misclassified} misclassified",
        train.len()
    );
    println!(
        "||w|| = {:.3}, margin width 2/||w|| = {:.3}",
        svm.weight().value().square().sum().item().sqrt(),
        2.0 / svm.weight().value().square().sum().item().sqrt()
    );
    Ok(())
}
