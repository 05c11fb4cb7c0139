//! L-BFGS against batch gradient descent on logistic regression: the
//! breast-cancer table, standardized with training statistics, a seeded 20%
//! held out. Both minimize the objective scikit-learn's `LogisticRegression`
//! minimizes with C = 1 (it uses L-BFGS too): the mean logistic loss plus
//! `||w||^2 / (2 n)`. Prints the objective against the number of loss
//! evaluations (one forward and backward pass over the training set each),
//! then the held-out accuracy of both.
//!
//! Run: `cargo run --release --example lbfgs` (`-- --help` for the options).

use clap::Parser;
use descent::prelude::*;

/// L-BFGS against batch gradient descent on logistic regression.
#[derive(Parser)]
struct Options {
    /// Evaluations each method may spend.
    #[arg(long, default_value_t = 300)]
    budget: usize,
    /// Batch gradient descent's learning rate: 12 is the fastest of those
    /// tried from 0.5 to 32 (from 16 on it oscillates and stalls).
    #[arg(long, default_value_t = 12.0)]
    gd_lr: f64,
}

/// Logistic regression's weights and bias, and its training data.
struct Problem {
    w: Param,
    b: Param,
    x: Tensor,
    y: Tensor,
}

impl Problem {
    fn new(x: Tensor, y: Tensor) -> Problem {
        let features = x.shape().dims()[1];
        Problem {
            w: Param::new(Tensor::zeros([features, 1])),
            b: Param::new(Tensor::zeros([1])),
            x,
            y,
        }
    }

    /// The objective, with its gradients accumulated into the parameters.
    fn objective(&self) -> f32 {
        let tape = Tape::new();
        let w = tape.param(&self.w);
        let logits = tape.constant(self.x.clone()).matmul(w) + tape.param(&self.b);
        let n = self.x.shape().dims()[0] as f32;
        let penalty = w.square().sum() * (0.5 / n);
        let loss = bce_with_logits_loss(logits, &self.y, Reduction::Mean) + penalty;
        loss.backward();
        loss.item()
    }

    fn accuracy(&self, x: &Tensor, y: &Tensor) -> f32 {
        let logits = x.matmul(&self.w.value()).add(&self.b.value());
        binary_accuracy(&logits, y, 0.0)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Options { budget, gd_lr } = Options::parse();
    let table = Table::read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tabular/breast_cancer.csv"
    ))?;
    let (x, y) = table.features_and_target("benign")?;
    let split = train_test_split(table.rows(), 0.2, 42);
    let scaler = Standardizer::fit(&x.index_select(0, &split.train));
    let x = scaler.transform(&x);
    let (x_train, y_train) = (
        x.index_select(0, &split.train),
        y.index_select(0, &split.train),
    );
    let (x_test, y_test) = (
        x.index_select(0, &split.test),
        y.index_select(0, &split.test),
    );

    // L-BFGS: one step of up to `budget` iterations, recording every
    // evaluation the line search makes.
    let lbfgs = Problem::new(x_train.clone(), y_train.clone());
    let options = Lbfgs::default()
        .line_search(LineSearch::StrongWolfe)
        .max_iter(budget)
        .max_eval(Some(budget));
    let mut opt = LbfgsOptim::new([lbfgs.w.clone(), lbfgs.b.clone()], options);
    let mut lbfgs_curve = Vec::new();
    opt.step(|| {
        let value = lbfgs.objective();
        lbfgs_curve.push(value);
        value
    });

    // Batch gradient descent: one evaluation per step.
    let gd = Problem::new(x_train.clone(), y_train.clone());
    let mut sgd = Optim::try_new([gd.w.clone(), gd.b.clone()], Sgd::new(gd_lr))?;
    let mut gd_curve = Vec::new();
    for _ in 0..budget {
        gd_curve.push(gd.objective());
        sgd.step();
        sgd.zero_grad();
    }

    println!(
        "training objective (mean logistic loss + ||w||^2 / 2n) after k evaluations, {} training samples",
        split.train.len()
    );
    println!("{:>6} {:>14} {:>14}", "k", "L-BFGS", "gradient desc.");
    let at = |curve: &[f32], k: usize| curve[(k - 1).min(curve.len() - 1)];
    for k in [1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300] {
        println!(
            "{k:>6} {:>14.8} {:>14.8}",
            at(&lbfgs_curve, k),
            at(&gd_curve, k)
        );
    }
    let best = lbfgs_curve.iter().copied().fold(f32::INFINITY, f32::min);
    let within = |curve: &[f32]| curve.iter().position(|&v| v - best <= 1e-4 * best);
    let show = |k: Option<usize>| k.map_or(format!("more than {budget}"), |k| (k + 1).to_string());
    println!(
        "\nL-BFGS stopped after {} iterations and {} evaluations.",
        opt.iterations(),
        opt.evaluations()
    );
    println!(
        "evaluations to come within 0.01% of the optimum: L-BFGS {}, gradient descent (lr {gd_lr}) {}",
        show(within(&lbfgs_curve)),
        show(within(&gd_curve))
    );
    println!(
        "held-out accuracy on {} samples: L-BFGS {:.1}%, gradient descent {:.1}%",
        split.test.len(),
        lbfgs.accuracy(&x_test, &y_test) * 100.0,
        gd.accuracy(&x_test, &y_test) * 100.0
    );
    Ok(())
}
