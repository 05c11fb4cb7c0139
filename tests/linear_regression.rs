//! Linear regression written directly on the tape and fitted by full-batch
//! gradient descent reaches the least-squares optimum on the diabetes table.

use descent::prelude::*;

const DIABETES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/tabular/diabetes.csv");

fn r_squared(prediction: &Tensor, target: &Tensor) -> f64 {
    let y: Vec<f64> = target.data().iter().map(|&v| v as f64).collect();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let total: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let residual: f64 = prediction
        .data()
        .iter()
        .zip(&y)
        .map(|(&p, v)| (p as f64 - v).powi(2))
        .sum();
    1.0 - residual / total
}

/// Ordinary least squares with an intercept, in f64 by the normal equations
/// and Gauss-Jordan elimination: the closed-form reference.
fn closed_form_r_squared(x: &Tensor, y: &Tensor) -> f64 {
    let (rows, cols) = (x.dims()[0], x.dims()[1] + 1);
    let row = |i: usize| -> Vec<f64> {
        let mut r: Vec<f64> = x.data()[i * (cols - 1)..(i + 1) * (cols - 1)]
            .iter()
            .map(|&v| v as f64)
            .collect();
        r.push(1.0);
        r
    };
    let mut system = vec![vec![0.0; cols + 1]; cols];
    for i in 0..rows {
        let r = row(i);
        for a in 0..cols {
            for b in 0..cols {
                system[a][b] += r[a] * r[b];
            }
            system[a][cols] += r[a] * y.data()[i] as f64;
        }
    }
    for pivot in 0..cols {
        let p = system[pivot][pivot];
        for v in system[pivot].iter_mut() {
            *v /= p;
        }
        for other in 0..cols {
            if other != pivot {
                let factor = system[other][pivot];
                let pivot_row = system[pivot].clone();
                for (v, pv) in system[other].iter_mut().zip(&pivot_row) {
                    *v -= factor * pv;
                }
            }
        }
    }
    let beta: Vec<f64> = system.iter().map(|r| r[cols]).collect();
    let prediction: Vec<f32> = (0..rows)
        .map(|i| row(i).iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>() as f32)
        .collect();
    r_squared(&Tensor::from_vec(prediction, [rows, 1]), y)
}

#[test]
fn full_batch_gradient_descent_reaches_the_least_squares_optimum() {
    let table = Table::read_csv(DIABETES).unwrap();
    let (raw, y) = table.features_and_target("target").unwrap();
    let x = Standardizer::fit(&raw).transform(&raw);

    let reference = closed_form_r_squared(&raw, &y);
    assert!(
        (reference - 0.5177).abs() < 1e-4,
        "closed form R^2 = {reference}"
    );

    let w = Param::new(Tensor::zeros([10, 1]));
    let b = Param::new(Tensor::zeros([1]));
    let learning_rate = 0.2;
    for _ in 0..3000 {
        let tape = Tape::new();
        let prediction = tape.constant(x.clone()).matmul(tape.param(&w)) + tape.param(&b);
        let loss = (prediction - tape.constant(y.clone())).square().mean();
        loss.backward();
        for p in [&w, &b] {
            let step = p.grad().unwrap().mul_scalar(learning_rate);
            p.set_value(p.value().sub(&step));
            p.zero_grad();
        }
    }
    let prediction = x.matmul(&w.value()).add(&b.value());
    let fitted = r_squared(&prediction, &y);
    assert!(
        (fitted - 0.5177).abs() < 0.001,
        "gradient descent R^2 = {fitted}, closed form {reference}"
    );
}
