//! Logistic regression (one linear layer + the logistic loss) on the
//! breast-cancer table, standardized with training statistics, evaluated on a
//! seeded 20% held-out split.
//!
//! Run: `cargo run --release --example logistic_regression` (`-- --help`
//! for the options).

use clap::Parser;
use descent::prelude::*;

/// Logistic regression on the breast-cancer table, scored on a held-out split.
#[derive(Parser)]
struct Options {
    /// Seed of the train/test split.
    #[arg(long, default_value_t = 42)]
    split_seed: u64,
    /// Passes over the training set.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse();
    let table = Table::read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tabular/breast_cancer.csv"
    ))?;
    let (x, y) = table.features_and_target("benign")?;
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

    let model = Dense::new(30, 1, &mut seeded_rng(0));
    // A small L2 penalty, applied through weight decay on the weight only.
    let mut opt = Optim::new([model.weight().clone()], Sgd::new(0.1).weight_decay(1e-3));
    opt.add_param_group(model.bias().cloned(), Sgd::new(0.1));
    let mut loader = DataLoader::new(train, 32)?.shuffle(0);
    let history = Trainer::new(&model, &mut opt, Loss::BinaryCrossEntropyWithLogits)
        .epochs(options.epochs)
        .quiet()
        .fit(&mut loader, Some(&test))?;

    let last = history.epochs.last().expect("trained at least one epoch");
    println!(
        "train accuracy {:.1}%, held-out accuracy {:.1}% on {} samples",
        last.train.accuracy().unwrap_or(0.0) * 100.0,
        last.validation
            .as_ref()
            .and_then(|v| v.accuracy())
            .unwrap_or(0.0)
            * 100.0,
        test.len()
    );
    let mut weights: Vec<(String, f32)> = table
        .columns
        .iter()
        .filter(|c| *c != "benign")
        .cloned()
        .zip(model.weight().value().to_vec())
        .collect();
    weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    println!("largest weights (standardized features):");
    for (name, w) in weights.iter().take(5) {
        println!("  {name:<24} {w:>7.3}");
    }
    Ok(())
}
