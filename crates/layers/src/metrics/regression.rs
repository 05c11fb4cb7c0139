//! Regression scores with scikit-learn's definitions, accumulated in f64.

use descent_tensor::Tensor;

fn check(op: &str, prediction: &Tensor, target: &Tensor) {
    assert_eq!(
        prediction.shape(),
        target.shape(),
        "{op}: prediction has shape {:?}, target has shape {:?}",
        prediction.shape(),
        target.shape()
    );
    assert!(prediction.numel() > 0, "{op}: no elements to score");
}

fn pairs<'a>(prediction: &'a Tensor, target: &'a Tensor) -> impl Iterator<Item = (f64, f64)> + 'a {
    prediction
        .data()
        .iter()
        .zip(target.data())
        .map(|(&p, &t)| (p as f64, t as f64))
}

/// The mean of `(prediction - target)^2`.
///
/// # Panics
/// If the shapes differ or there are no elements.
pub fn mean_squared_error(prediction: &Tensor, target: &Tensor) -> f64 {
    check("mean_squared_error", prediction, target);
    pairs(prediction, target)
        .map(|(p, t)| (p - t) * (p - t))
        .sum::<f64>()
        / target.numel() as f64
}

/// The mean of `|prediction - target|`.
///
/// # Panics
/// If the shapes differ or there are no elements.
pub fn mean_absolute_error(prediction: &Tensor, target: &Tensor) -> f64 {
    check("mean_absolute_error", prediction, target);
    pairs(prediction, target)
        .map(|(p, t)| (p - t).abs())
        .sum::<f64>()
        / target.numel() as f64
}

/// The coefficient of determination, `1 - SS_res / SS_tot`: 1 for a perfect
/// fit, 0 for predicting the mean, negative for worse. Over all elements, as
/// scikit-learn's `r2_score` for one output; a constant target gives 1 for
/// a perfect fit and 0 otherwise, as scikit-learn does.
///
/// ```
/// use descent_layers::r2_score;
/// use descent_tensor::Tensor;
///
/// let target = Tensor::from([1.0, 2.0, 3.0]);
/// assert_eq!(r2_score(&target, &target), 1.0);
/// assert_eq!(r2_score(&Tensor::from([2.0, 2.0, 2.0]), &target), 0.0);
/// ```
///
/// # Panics
/// If the shapes differ or there are no elements.
pub fn r2_score(prediction: &Tensor, target: &Tensor) -> f64 {
    check("r2_score", prediction, target);
    let n = target.numel() as f64;
    let mean = target.data().iter().map(|&t| t as f64).sum::<f64>() / n;
    let residual: f64 = pairs(prediction, target)
        .map(|(p, t)| (t - p) * (t - p))
        .sum();
    let total: f64 = target
        .data()
        .iter()
        .map(|&t| (t as f64 - mean).powi(2))
        .sum();
    match (residual == 0.0, total == 0.0) {
        (true, _) => 1.0,
        (false, true) => 0.0,
        (false, false) => 1.0 - residual / total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn: `r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])` = 0.9486081,
    /// `mean_squared_error` = 0.375, `mean_absolute_error` = 0.5.
    #[test]
    fn scores_match_scikit_learn() {
        let target = Tensor::from([3.0, -0.5, 2.0, 7.0]);
        let prediction = Tensor::from([2.5, 0.0, 2.0, 8.0]);
        assert!((r2_score(&prediction, &target) - 0.948_608_1).abs() < 1e-6);
        assert_eq!(mean_squared_error(&prediction, &target), 0.375);
        assert_eq!(mean_absolute_error(&prediction, &target), 0.5);
    }

    #[test]
    #[should_panic(expected = "r2_score: prediction has shape [2], target has shape [3]")]
    fn mismatched_shapes_are_named() {
        r2_score(&Tensor::from([1.0, 2.0]), &Tensor::from([1.0, 2.0, 3.0]));
    }
}
