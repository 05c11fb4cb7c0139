//! A matrix-factorization recommender: rating(u, i) = mean + b_u + b_i + p_u . q_i,
//! with user and item embeddings, and synthetic ratings to train it on.
//! Shared by the example and its test.

use descent::prelude::*;

/// Predicts ratings from learned user and item factors and biases.
pub struct MatrixFactorization {
    users: Embedding,
    items: Embedding,
    user_bias: Embedding,
    item_bias: Embedding,
    global_mean: f32,
}

impl MatrixFactorization {
    /// Factors of width `rank` drawn from N(0, 0.1^2), zero biases.
    pub fn new(
        users: usize,
        items: usize,
        rank: usize,
        global_mean: f32,
        seed: u64,
    ) -> MatrixFactorization {
        let mut rng = seeded_rng(seed);
        MatrixFactorization {
            users: Embedding::with_std(users, rank, 0.1, &mut rng),
            items: Embedding::with_std(items, rank, 0.1, &mut rng),
            user_bias: Embedding::with_std(users, 1, 0.0, &mut rng),
            item_bias: Embedding::with_std(items, 1, 0.0, &mut rng),
            global_mean,
        }
    }

    /// Predicted ratings `[n, 1]` for `(user, item)` pairs.
    pub fn predict<'t>(&self, tape: &'t Tape, users: &[usize], items: &[usize]) -> Var<'t> {
        let p = self.users.lookup(tape, users);
        let q = self.items.lookup(tape, items);
        (p * q).sum_axis(1, true)
            + self.user_bias.lookup(tape, users)
            + self.item_bias.lookup(tape, items)
            + self.global_mean
    }
}

impl Module for MatrixFactorization {
    /// Input: `[n, 2]` rows of (user, item) indices stored as `f32`.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        let pairs = input.value();
        let column = |c: usize| {
            pairs
                .data()
                .chunks(2)
                .map(|r| r[c] as usize)
                .collect::<Vec<_>>()
        };
        self.predict(input.tape(), &column(0), &column(1))
    }

    fn visit_params(&self, v: &mut ParamVisitor<'_>) {
        v.module("users", &self.users);
        v.module("items", &self.items);
        v.module("user_bias", &self.user_bias);
        v.module("item_bias", &self.item_bias);
    }
}

/// Observed ratings of a seeded synthetic low-rank matrix plus Gaussian noise.
pub struct Ratings {
    /// `[n, 2]` (user, item) pairs.
    pub pairs: Tensor,
    /// `[n, 1]` ratings.
    pub ratings: Tensor,
}

/// Ratings `3 + b_u + b_i + p_u . q_i + noise`, with factors of unit total
/// variance, each entry of the `users x items` matrix observed with
/// probability `observed`.
pub fn synthetic_ratings(
    users: usize,
    items: usize,
    rank: usize,
    observed: f64,
    noise: f32,
    seed: u64,
) -> Ratings {
    use descent::tensor::rand::{RngExt, SeedableRng, rngs::StdRng};
    let mut rng = StdRng::seed_from_u64(seed);
    let scale = 1.0 / (rank as f32).sqrt().sqrt();
    let p = Tensor::randn([users, rank], &mut rng).mul_scalar(scale);
    let q = Tensor::randn([items, rank], &mut rng).mul_scalar(scale);
    let bu = Tensor::rand_normal([users], 0.0, 0.3, &mut rng);
    let bi = Tensor::rand_normal([items], 0.0, 0.3, &mut rng);
    let truth = p.matmul_t(&q);
    let (mut pairs, mut ratings) = (Vec::new(), Vec::new());
    let normal = Tensor::rand_normal([users * items], 0.0, noise, &mut rng);
    for u in 0..users {
        for i in 0..items {
            if rng.random::<f64>() < observed {
                pairs.extend([u as f32, i as f32]);
                ratings.push(
                    3.0 + bu.data()[u]
                        + bi.data()[i]
                        + truth.get(&[u, i])
                        + normal.data()[u * items + i],
                );
            }
        }
    }
    let n = ratings.len();
    Ratings {
        pairs: Tensor::from_vec(pairs, [n, 2]),
        ratings: Tensor::from_vec(ratings, [n, 1]),
    }
}

/// Root-mean-square error of predictions against ratings.
pub fn rmse(prediction: &Tensor, ratings: &Tensor) -> f32 {
    prediction.sub(ratings).square().mean().item().sqrt()
}
