//! A recommender by matrix factorization on a seeded synthetic ratings
//! matrix: user and item embeddings plus biases, MSE on the observed entries,
//! Adam. Prints the held-out RMSE next to the noise level and to the RMSE of
//! predicting the global mean.
//!
//! Run: `cargo run --release --example matrix_factorization`

mod model;

use descent::prelude::*;
use model::{MatrixFactorization, rmse, synthetic_ratings};

const USERS: usize = 1000;
const ITEMS: usize = 500;
const RANK: usize = 4;
const OBSERVED: f64 = 0.2;
const NOISE: f32 = 0.5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = synthetic_ratings(USERS, ITEMS, RANK, OBSERVED, NOISE, 1);
    let n = data.ratings.numel();
    let split = train_test_split(n, 0.2, 2);
    let train = Dataset::new(
        data.pairs.index_select(&split.train),
        data.ratings.index_select(&split.train),
    )?;
    let test = Dataset::new(
        data.pairs.index_select(&split.test),
        data.ratings.index_select(&split.test),
    )?;
    println!(
        "{USERS} users x {ITEMS} items, rank {RANK}, {n} observed ratings ({:.0}%), noise std {NOISE}",
        OBSERVED * 100.0
    );

    let mean = train.targets().values().mean().item();
    let baseline = rmse(
        &Tensor::full(test.targets().values().shape(), mean),
        test.targets().values(),
    );
    let model = MatrixFactorization::new(USERS, ITEMS, RANK, mean, 3);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.01))?;
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
        "held-out RMSE {held_out:.4} (noise std {NOISE}: {:.1}% above it)",
        (held_out / NOISE - 1.0) * 100.0
    );
    println!(
        "global-mean RMSE {baseline:.4}: factorization is {:.1}% better",
        (1.0 - held_out / baseline) * 100.0
    );
    Ok(())
}
