//! The course example: linear regression fitted by batch, stochastic and
//! mini-batch gradient descent, which differ only in the batch size. First a
//! line through 1,000 noisy synthetic points, then the diabetes table; the
//! learned parameters are printed next to the least-squares solution, and the
//! three cost histories are plotted together.
//!
//! Run: `cargo run --release --example linear_regression` (`-- --help` for
//! the options).

use std::path::PathBuf;

use clap::Parser;
use descent::plot::{Chart, Series, write_svg};
use descent::prelude::*;

/// Batch, stochastic and mini-batch gradient descent on two regressions.
#[derive(Parser)]
struct Options {
    /// Where the plot of the cost histories goes.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/target/linear_regression.svg"))]
    out: PathBuf,
}

/// Trains `y = x w + b` with plain SGD; returns (w, b, mean cost per epoch).
fn fit(
    data: &Dataset,
    batch_size: usize,
    lr: f64,
    epochs: usize,
) -> (Tensor, f32, Vec<(f64, f64)>) {
    let features = data.features().dims()[1];
    let w = Param::new(Tensor::zeros([features, 1]));
    let b = Param::new(Tensor::zeros([1]));
    let mut opt = Optim::new([w.clone(), b.clone()], Sgd::new(lr));
    let mut loader = DataLoader::new(data.clone(), batch_size)
        .expect("batch size > 0")
        .shuffle(0);
    let mut costs = Vec::new();
    let mut tape = Tape::new();
    for epoch in 1..=epochs {
        for batch in loader.epoch() {
            tape.reset();
            let prediction =
                tape.constant(batch.features.clone()).matmul(tape.param(&w)) + tape.param(&b);
            mse_loss(prediction, batch.values(), Reduction::Mean).backward();
            opt.step();
            opt.zero_grad();
        }
        let cost = data
            .features()
            .matmul(&w.value())
            .add(&b.value())
            .sub(data.targets().values())
            .square()
            .mean();
        costs.push((epoch as f64, cost.item() as f64));
    }
    (w.value(), b.value().item(), costs)
}

fn r_squared(data: &Dataset, w: &Tensor, b: f32) -> f32 {
    let y = data.targets().values();
    let residual = data
        .features()
        .matmul(w)
        .add_scalar(b)
        .sub(y)
        .square()
        .sum()
        .item();
    let total = y.sub(&y.mean()).square().sum().item();
    1.0 - residual / total
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse();
    // y = 3x + 2 + noise, x in [-1, 1].
    let mut rng = seeded_rng(42);
    let x = Tensor::rand_uniform([1000, 1], -1.0, 1.0, &mut rng);
    let y =
        x.mul_scalar(3.0)
            .add_scalar(2.0)
            .add(&Tensor::rand_normal([1000, 1], 0.0, 0.5, &mut rng));
    let (mx, my) = (x.mean().item(), y.mean().item());
    let slope = x.sub_scalar(mx).mul(&y.sub_scalar(my)).sum().item()
        / x.sub_scalar(mx).square().sum().item();
    let line = Dataset::new(x, y)?;
    println!(
        "synthetic line: least squares w = {slope:.4}, b = {:.4}",
        my - slope * mx
    );

    let runs = [
        ("batch GD (1000)", 1000, 0.5, 200),
        ("stochastic GD (1)", 1, 0.01, 20),
        ("mini-batch GD (32)", 32, 0.1, 50),
    ];
    let mut series = Vec::new();
    for (name, batch, lr, epochs) in runs {
        let (w, b, costs) = fit(&line, batch, lr, epochs);
        println!(
            "  {name:<20} lr {lr:<5} {epochs:>3} epochs: w = {:.4}, b = {b:.4}",
            w.item()
        );
        series.push(Series {
            name,
            points: costs,
        });
    }

    let table = Table::read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tabular/diabetes.csv"
    ))?;
    let (raw, target) = table.features_and_target("target")?;
    let diabetes = Dataset::new(Standardizer::fit(&raw).transform(&raw), target)?;
    println!("diabetes: least-squares R^2 = 0.5177 (closed form)");
    let mut diabetes_series = Vec::new();
    for (name, batch, lr, epochs) in [
        ("batch GD (442)", 442, 0.2, 1000),
        ("stochastic GD (1)", 1, 0.002, 50),
        ("mini-batch GD (32)", 32, 0.05, 200),
    ] {
        let (w, b, costs) = fit(&diabetes, batch, lr, epochs);
        println!(
            "  {name:<20} lr {lr:<5} {epochs:>3} epochs: R^2 = {:.4}, intercept {b:.2}",
            r_squared(&diabetes, &w, b)
        );
        diabetes_series.push(Series {
            name,
            points: costs,
        });
    }

    let path = options.out;
    write_svg(
        &path,
        &[
            // Log x: runs of 20 and 1,000 epochs stay comparable.
            Chart {
                series,
                ..Chart::new("synthetic line: cost per epoch", "epoch", "MSE")
                    .log_x()
                    .log_y()
            },
            Chart {
                series: diabetes_series,
                ..Chart::new("diabetes: cost per epoch", "epoch", "MSE")
                    .log_x()
                    .log_y()
            },
        ],
    )?;
    println!("plot: {}", path.display());
    Ok(())
}
