//! A recommender by matrix factorization on a seeded synthetic ratings
//! matrix: user and item embeddings plus biases, MSE on the observed entries,
//! Adam. Prints the held-out RMSE next to the noise level and to the RMSE of
//! predicting the global mean.
//!
//! Run: `cargo run --release --example matrix_factorization` (`-- --help`
//! for the options).

mod model;

use clap::Parser;
use descent::prelude::*;
use model::{MatrixFactorization, rmse, synthetic_ratings};

/// A recommender from user and item embeddings on synthetic ratings.
#[derive(Parser)]
struct Options {
    /// Users (rows of the ratings matrix).
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Items (columns).
    #[arg(long, default_value_t = 500)]
    items: usize,
    /// Rank of the true ratings and of the model.
    #[arg(long, default_value_t = 4)]
    rank: usize,
    /// Fraction of the matrix observed.
    #[arg(long, default_value_t = 0.2)]
    observed: f64,
    /// Standard deviation of the rating noise.
    #[arg(long, default_value_t = 0.5)]
    noise: f32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Options {
        users,
        items,
        rank,
        observed,
        noise,
    } = Options::parse();
    let data = synthetic_ratings(users, items, rank, observed, noise, 1);
    let n = data.ratings.numel();
    let split = train_test_split(n, 0.2, 2);
    let train = Dataset::new(
        data.pairs.index_select(0, &split.train),
        data.ratings.index_select(0, &split.train),
    )?;
    let test = Dataset::new(
        data.pairs.index_select(0, &split.test),
        data.ratings.index_select(0, &split.test),
    )?;
    println!(
        "{users} users x {items} items, rank {rank}, {n} observed ratings ({:.0}%), noise std {noise}",
        observed * 100.0
    );

    let mean = train.targets().values().mean().item();
    let baseline = rmse(
        &Tensor::full(test.targets().values().shape(), mean),
        test.targets().values(),
    );
    let model = MatrixFactorization::new(users, items, rank, mean, 3);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
    let mut loader = DataLoader::new(train, 1024)?.shuffle(4);
    Trainer::new(&model, &mut opt, Loss::MeanSquaredError)
        .epochs(25)
        .fit(&mut loader, Some(&test))?;

    let tape = Tape::no_grad();
    let prediction = model
        .forward(tape.constant(test.features().clone()))
        .value();
    let held_out = rmse(&prediction, test.targets().values());
    println!(
        "held-out RMSE {held_out:.4} (noise std {noise}: {:.1}% above it)",
        (held_out / noise - 1.0) * 100.0
    );
    println!(
        "global-mean RMSE {baseline:.4}: factorization is {:.1}% better",
        (1.0 - held_out / baseline) * 100.0
    );
    Ok(())
}
