//! Feature scaling fitted on training data and applied to any data, so test
//! statistics never leak into training.

use descent_tensor::Tensor;

/// Standardization: `(x - mean) / std` per column, with statistics from the
/// data it was fitted on (population std, like scikit-learn's
/// `StandardScaler`). A constant column gets scale 1, as in scikit-learn, so
/// it is centred to 0 rather than divided by zero.
///
/// ```
/// use descent_data::Standardizer;
/// use descent_tensor::Tensor;
///
/// let train = Tensor::from([[1.0, 5.0], [3.0, 5.0]]);
/// let scaler = Standardizer::fit(&train);
/// assert_eq!(scaler.mean().to_vec(), [2.0, 5.0]);
/// assert_eq!(scaler.scale().to_vec(), [1.0, 1.0]);
/// let test = Tensor::from([[5.0, 6.0]]);
/// assert_eq!(scaler.transform(&test).to_vec(), [3.0, 1.0]);
/// ```
#[derive(Clone, Debug)]
pub struct Standardizer {
    mean: Tensor,
    scale: Tensor,
}

impl Standardizer {
    /// Fits per-column mean and standard deviation of `[rows, columns]` data,
    /// accumulated in `f64`.
    ///
    /// # Panics
    /// If `data` is not 2-D or has no rows.
    pub fn fit(data: &Tensor) -> Standardizer {
        let (rows, width) = fit_shape("Standardizer::fit", data);
        let n = rows as f64;
        // `chunks` refuses a size of 0; data without columns has no rows to visit.
        let row_len = width.max(1);
        let mut mean = vec![0.0f64; width];
        for row in data.data().chunks(row_len) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += x as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut variance = vec![0.0f64; width];
        for row in data.data().chunks(row_len) {
            for ((v, &m), &x) in variance.iter_mut().zip(&mean).zip(row) {
                *v += (x as f64 - m).powi(2);
            }
        }
        variance.iter_mut().for_each(|v| *v /= n);
        let scale = variance.iter().zip(&mean).map(|(&v, &m)| {
            if is_constant(v, m, n) {
                1.0
            } else {
                v.sqrt() as f32
            }
        });
        Standardizer {
            mean: Tensor::from_vec(mean.iter().map(|&m| m as f32).collect(), [width]),
            scale: Tensor::from_vec(scale.collect(), [width]),
        }
    }

    /// The fitted per-column means, `[columns]`.
    pub fn mean(&self) -> &Tensor {
        &self.mean
    }

    /// The fitted per-column divisors, `[columns]`: the standard deviation,
    /// or 1 for a constant column.
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }

    /// Applies the fitted scaling to `[rows, columns]` data.
    ///
    /// # Panics
    /// If `data` is not 2-D with as many columns as the fitted data; the
    /// message names the scaler, the fitted width and the data's shape.
    pub fn transform(&self, data: &Tensor) -> Tensor {
        check_width("Standardizer::transform", self.mean.numel(), data);
        data.sub(&self.mean).div(&self.scale)
    }
}

/// Min-max scaling of each column to [0, 1], fitted on training data (like
/// scikit-learn's `MinMaxScaler`). A constant column gets range 1, so it
/// maps to 0.
///
/// ```
/// use descent_data::MinMaxScaler;
/// use descent_tensor::Tensor;
///
/// let scaler = MinMaxScaler::fit(&Tensor::from([[0.0, 1.0], [10.0, 1.0]]));
/// let scaled = scaler.transform(&Tensor::from([[5.0, 1.0], [20.0, 2.0]]));
/// assert_eq!(scaled.to_vec(), [0.5, 0.0, 2.0, 1.0]);
/// ```
#[derive(Clone, Debug)]
pub struct MinMaxScaler {
    min: Tensor,
    range: Tensor,
}

impl MinMaxScaler {
    /// Fits per-column minimum and range of `[rows, columns]` data.
    ///
    /// # Panics
    /// If `data` is not 2-D or has no rows.
    pub fn fit(data: &Tensor) -> MinMaxScaler {
        fit_shape("MinMaxScaler::fit", data);
        let min = data.min_axis(0, false);
        let range = data
            .max_axis(0, false)
            .sub(&min)
            .map(|r| if r > 0.0 { r } else { 1.0 });
        MinMaxScaler { min, range }
    }

    /// Applies the fitted scaling to `[rows, columns]` data.
    ///
    /// # Panics
    /// If `data` is not 2-D with as many columns as the fitted data; the
    /// message names the scaler, the fitted width and the data's shape.
    pub fn transform(&self, data: &Tensor) -> Tensor {
        check_width("MinMaxScaler::transform", self.min.numel(), data);
        data.sub(&self.min).div(&self.range)
    }
}

/// Rows and columns of data to fit on.
fn fit_shape(op: &str, data: &Tensor) -> (usize, usize) {
    assert!(
        data.rank() == 2 && data.dims()[0] > 0,
        "{op}: expected [rows, columns] data with at least one row, got shape {:?}",
        data.shape()
    );
    (data.dims()[0], data.dims()[1])
}

fn check_width(op: &str, fitted: usize, data: &Tensor) {
    assert!(
        data.rank() == 2 && data.dims()[1] == fitted,
        "{op}: fitted on {fitted} columns, got data of shape {:?}",
        data.shape()
    );
}

/// scikit-learn's test for a zero-variance column (`_is_constant_feature`):
/// the variance is within the rounding error of computing it, so dividing
/// by its root would only amplify that error.
fn is_constant(variance: f64, mean: f64, n: f64) -> bool {
    let eps = f64::EPSILON;
    variance <= n * eps * variance + (n * mean * eps).powi(2)
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
    fn constant_columns_get_scale_one_and_map_to_zero() {
        // Seven rows of (0.1, i): in f32 arithmetic the mean of the first
        // column is off by an ulp, its "std" is rounding noise, and dividing
        // by it mapped every row to -1.
        let x = Tensor::from_vec((0..7).flat_map(|i| [0.1, i as f32]).collect(), [7, 2]);
        let scaler = Standardizer::fit(&x);
        assert_eq!(scaler.mean().to_vec(), vec![0.1, 3.0]);
        assert_eq!(scaler.scale().to_vec(), vec![1.0, 2.0]);
        let z = scaler.transform(&x);
        assert_eq!(z.narrow(1, 0, 1).to_vec(), vec![0.0; 7]);
        assert_eq!(
            z.narrow(1, 1, 1).to_vec(),
            vec![-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5]
        );

        let minmax = MinMaxScaler::fit(&x).transform(&x);
        assert_eq!(minmax.narrow(1, 0, 1).to_vec(), vec![0.0; 7]);
        assert_eq!(minmax.narrow(1, 1, 1).to_vec()[3], 0.5);
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

    #[test]
    #[should_panic(
        expected = "Standardizer::transform: fitted on 3 columns, got data of shape [2, 1]"
    )]
    fn standardizing_data_of_another_width_panics() {
        Standardizer::fit(&Tensor::zeros([4, 3])).transform(&Tensor::zeros([2, 1]));
    }

    #[test]
    #[should_panic(
        expected = "Standardizer::transform: fitted on 3 columns, got data of shape [3]"
    )]
    fn standardizing_a_single_row_without_its_row_axis_panics() {
        Standardizer::fit(&Tensor::zeros([4, 3])).transform(&Tensor::zeros([3]));
    }

    #[test]
    #[should_panic(
        expected = "MinMaxScaler::transform: fitted on 2 columns, got data of shape [5, 4]"
    )]
    fn min_max_scaling_data_of_another_width_panics() {
        MinMaxScaler::fit(&Tensor::zeros([4, 2])).transform(&Tensor::zeros([5, 4]));
    }

    #[test]
    #[should_panic(
        expected = "MinMaxScaler::fit: expected [rows, columns] data with at least one row, got shape [0, 3]"
    )]
    fn fitting_on_no_rows_panics() {
        MinMaxScaler::fit(&Tensor::zeros([0, 3]));
    }
}
