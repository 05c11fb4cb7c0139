//! Feature scaling fitted on training data and applied to any data, so test
//! statistics never leak into training.

use descent_tensor::Tensor;

/// Standardization: `(x - mean) / std` per column, with statistics from the
/// data it was fitted on (population std, like scikit-learn's StandardScaler).
/// Constant columns are left centred, not divided by zero.
#[derive(Clone, Debug)]
pub struct Standardizer {
    mean: Tensor,
    std: Tensor,
}

impl Standardizer {
    /// Fits per-column mean and standard deviation of `[rows, columns]` data.
    pub fn fit(data: &Tensor) -> Standardizer {
        let mean = data.mean_axis(0, true);
        let variance = data.sub(&mean).square().mean_axis(0, true);
        let std = variance.map(|v| if v > 0.0 { v.sqrt() } else { 1.0 });
        Standardizer { mean, std }
    }

    /// Applies the fitted scaling.
    ///
    /// # Panics
    /// If `data` has a different number of columns than the fitted data.
    pub fn transform(&self, data: &Tensor) -> Tensor {
        data.sub(&self.mean).div(&self.std)
    }
}

/// Min-max scaling of each column to [0, 1], fitted on training data.
#[derive(Clone, Debug)]
pub struct MinMaxScaler {
    min: Tensor,
    range: Tensor,
}

impl MinMaxScaler {
    /// Fits per-column minimum and range of `[rows, columns]` data.
    pub fn fit(data: &Tensor) -> MinMaxScaler {
        let min = data.min_axis(0, true);
        let range = data
            .max_axis(0, true)
            .sub(&min)
            .map(|r| if r > 0.0 { r } else { 1.0 });
        MinMaxScaler { min, range }
    }

    /// Applies the fitted scaling.
    ///
    /// # Panics
    /// If `data` has a different number of columns than the fitted data.
    pub fn transform(&self, data: &Tensor) -> Tensor {
        data.sub(&self.min).div(&self.range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardized_training_columns_have_zero_mean_unit_std() {
        let x = Tensor::from([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0], [5.0, 20.0, 5.0]]);
        let z = Standardizer::fit(&x).transform(&x);
        for m in z.mean_axis(0, false).to_vec() {
            assert!(m.abs() < 1e-6);
        }
        let std = z.square().mean_axis(0, false).to_vec();
        assert!((std[0] - 1.0).abs() < 1e-5 && (std[1] - 1.0).abs() < 1e-5);
        assert_eq!(std[2], 0.0);
    }

    #[test]
    fn min_max_uses_training_range_on_new_data() {
        let train = Tensor::from([[0.0], [10.0]]);
        let scaler = MinMaxScaler::fit(&train);
        assert_eq!(
            scaler.transform(&Tensor::from([[5.0], [20.0]])).to_vec(),
            vec![0.5, 2.0]
        );
    }
}
