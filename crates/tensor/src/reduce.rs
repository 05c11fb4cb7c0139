//! Reductions over all elements or one axis, and `sum_to`, which undoes
//! broadcasting. Sums run in a fixed order (fixed chunks, eight lanes), so the
//! result does not depend on the number of threads.

use rayon::prelude::*;

use crate::elementwise::{nan_max, nan_min};
use crate::parallel::{CHUNK_WORK, PARALLEL_MIN_WORK, fill_chunks_weighted};
use crate::shape::Shape;
use crate::tensor::Tensor;

impl Tensor {
    /// The sum of all elements, as a scalar tensor (0 for an empty tensor).
    pub fn sum(&self) -> Tensor {
        Tensor::scalar(sum_all(self.data()))
    }

    /// The mean of all elements, as a scalar tensor (NaN for an empty
    /// tensor, as in PyTorch).
    pub fn mean(&self) -> Tensor {
        Tensor::scalar(sum_all(self.data()) / self.numel() as f32)
    }

    /// The largest element (NaN if any element is NaN), as a scalar tensor.
    ///
    /// # Panics
    /// If the tensor is empty: the maximum of nothing is undefined.
    pub fn max(&self) -> Tensor {
        check_not_empty("max", self.shape(), self.numel());
        Tensor::scalar(self.data().iter().copied().fold(f32::NEG_INFINITY, nan_max))
    }

    /// The smallest element (NaN if any element is NaN), as a scalar tensor.
    ///
    /// # Panics
    /// If the tensor is empty.
    pub fn min(&self) -> Tensor {
        check_not_empty("min", self.shape(), self.numel());
        Tensor::scalar(self.data().iter().copied().fold(f32::INFINITY, nan_min))
    }

    /// `ln(sum(exp(x)))` over all elements, computed without overflow
    /// (-inf for an empty tensor).
    pub fn logsumexp(&self) -> Tensor {
        self.reshape([self.numel()]).logsumexp_axis(0, false)
    }

    /// The unbiased variance of all elements (divides by `n - 1`, PyTorch's
    /// default), as a scalar tensor.
    pub fn var(&self) -> Tensor {
        self.reshape([self.numel()]).var_axis(0, false)
    }

    /// The unbiased standard deviation of all elements, as a scalar tensor.
    pub fn std(&self) -> Tensor {
        self.var().sqrt()
    }

    /// Sums over `axis` (negative counts from the end), PyTorch's
    /// `sum(dim, keepdim)`: `keepdim` keeps the axis with size 1. A sum over
    /// an empty axis is 0.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.sum_axis(0, false).to_vec(), vec![4.0, 6.0]);
    /// assert_eq!(x.sum_axis(-1, true).dims(), &[2, 1]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn sum_axis(&self, axis: isize, keepdim: bool) -> Tensor {
        self.fold_axis("sum_axis", axis, keepdim, 0.0, sum_lanes, |acc, x| acc + x)
    }

    /// The mean over `axis` (NaN over an empty axis).
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn mean_axis(&self, axis: isize, keepdim: bool) -> Tensor {
        let n = self.shape().dim(self.shape().axis("mean_axis", axis));
        self.sum_axis(axis, keepdim).div_scalar(n as f32)
    }

    /// The maximum over `axis` (NaN if any entry is NaN).
    ///
    /// # Panics
    /// If `axis` is out of range or has size 0.
    pub fn max_axis(&self, axis: isize, keepdim: bool) -> Tensor {
        self.check_axis_not_empty("max_axis", axis);
        let fold = |xs: &[f32]| xs.iter().copied().fold(f32::NEG_INFINITY, nan_max);
        self.fold_axis("max_axis", axis, keepdim, f32::NEG_INFINITY, fold, nan_max)
    }

    /// The minimum over `axis` (NaN if any entry is NaN).
    ///
    /// # Panics
    /// If `axis` is out of range or has size 0.
    pub fn min_axis(&self, axis: isize, keepdim: bool) -> Tensor {
        self.check_axis_not_empty("min_axis", axis);
        let fold = |xs: &[f32]| xs.iter().copied().fold(f32::INFINITY, nan_min);
        self.fold_axis("min_axis", axis, keepdim, f32::INFINITY, fold, nan_min)
    }

    /// `ln(sum(exp(x)))` along `axis`, shifted by the maximum so it never
    /// overflows (-inf over an empty axis).
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn logsumexp_axis(&self, axis: isize, keepdim: bool) -> Tensor {
        let resolved = self.shape().axis("logsumexp_axis", axis);
        let kept = self.shape().with_dim(resolved, 1);
        let lse = if self.shape().dim(resolved) == 0 {
            Tensor::full(kept, f32::NEG_INFINITY)
        } else {
            let shift = self
                .max_axis(axis, true)
                .map(|m| if m.is_finite() { m } else { 0.0 });
            self.sub(&shift).exp().sum_axis(axis, true).ln().add(&shift)
        };
        if keepdim {
            lse
        } else {
            lse.reshape(self.shape().without_dim(resolved))
        }
    }

    /// The unbiased variance along `axis` (divides by `n - 1`, like
    /// `torch.var`).
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[1.0, 3.0], [2.0, 6.0]]);
    /// assert_eq!(x.var_axis(1, false).to_vec(), vec![2.0, 8.0]);
    /// assert_eq!(x.var_axis_corrected(1, 0, false).to_vec(), vec![1.0, 4.0]);
    /// assert_eq!(x.std_axis(0, true).to_vec(), vec![0.5f32.sqrt(), 4.5f32.sqrt()]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn var_axis(&self, axis: isize, keepdim: bool) -> Tensor {
        self.var_axis_corrected(axis, 1, keepdim)
    }

    /// The variance along `axis` with the sum of squared deviations divided
    /// by `n - correction` (PyTorch's `correction`: 1 is the unbiased
    /// default, 0 the population variance); NaN or infinite when
    /// `n <= correction`, as in PyTorch.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn var_axis_corrected(&self, axis: isize, correction: usize, keepdim: bool) -> Tensor {
        let n = self.shape().dim(self.shape().axis("var_axis", axis));
        let centered = self.sub(&self.mean_axis(axis, true));
        centered
            .square()
            .sum_axis(axis, keepdim)
            .div_scalar(n.saturating_sub(correction) as f32)
    }

    /// The unbiased standard deviation along `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn std_axis(&self, axis: isize, keepdim: bool) -> Tensor {
        self.var_axis(axis, keepdim).sqrt()
    }

    /// The standard deviation along `axis` with PyTorch's `correction`
    /// (see [`Tensor::var_axis_corrected`]).
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn std_axis_corrected(&self, axis: isize, correction: usize, keepdim: bool) -> Tensor {
        self.var_axis_corrected(axis, correction, keepdim).sqrt()
    }

    /// Sums this tensor down to `shape`, which it must be a broadcast of: the
    /// inverse of broadcasting, used to reduce gradients to an input's shape.
    ///
    /// # Panics
    /// If `shape` does not broadcast to this tensor's shape.
    pub fn sum_to(&self, shape: impl Into<Shape>) -> Tensor {
        let target = shape.into();
        if target == self.shape() {
            return self.clone();
        }
        assert!(
            Shape::broadcast("sum_to", target, self.shape()) == self.shape(),
            "sum_to: shape {:?} cannot be reduced to {target:?}",
            self.shape()
        );
        let source = self.shape();
        if source.rank() == 0 {
            return self.reshape(target);
        }
        let strides = target.broadcast_strides(source);
        let row_len = source.dim(source.rank() - 1);
        if row_len == 0 {
            // Nothing to add up, and rows of length 0 cannot be chunked.
            return Tensor::zeros(target);
        }
        let row_step = strides[source.rank() - 1];
        let x = self.data();
        Tensor::build(target, |out| {
            for (row, src) in x.chunks_exact(row_len).enumerate() {
                let start = source.row_offset(&strides, row);
                if row_step == 0 {
                    out[start] += sum_lanes(src);
                } else {
                    for (o, &v) in out[start..start + row_len].iter_mut().zip(src) {
                        *o += v;
                    }
                }
            }
        })
    }

    /// Repeats this tensor to `shape` under broadcasting rules.
    ///
    /// # Panics
    /// If this tensor does not broadcast to `shape`.
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Tensor {
        let target = shape.into();
        assert!(
            Shape::broadcast("broadcast_to", self.shape(), target) == target,
            "broadcast_to: shape {:?} cannot be broadcast to {target:?}",
            self.shape()
        );
        Tensor::zeros(target).broadcast_map("broadcast_to", self, |_, x| x)
    }

    /// # Panics
    /// If `axis` is out of range or has size 0, naming `op`.
    fn check_axis_not_empty(&self, op: &str, axis: isize) {
        let n = self.shape().dim(self.shape().axis(op, axis));
        check_not_empty(op, self.shape(), n);
    }

    /// Folds along one axis, viewing the tensor as `[outer, n, inner]`:
    /// `fold_row` reduces a contiguous run (when `inner == 1`); otherwise whole
    /// inner rows are combined with `combine`, one axis step at a time.
    fn fold_axis(
        &self,
        op: &str,
        axis: isize,
        keepdim: bool,
        init: f32,
        fold_row: impl Fn(&[f32]) -> f32 + Sync,
        combine: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Tensor {
        let axis = self.shape().axis(op, axis);
        let (_, n, inner) = self.shape().split_at_axis(axis);
        let x = self.data();
        let shape = reduced_shape(self.shape(), axis, keepdim);
        if shape.numel() == 0 {
            return Tensor::zeros(shape);
        }
        Tensor::build_overwritten(shape, |out| {
            fill_chunks_weighted(out, inner, n, |start, chunk| {
                if inner == 1 {
                    for (i, o) in chunk.iter_mut().enumerate() {
                        let row = start + i;
                        *o = fold_row(&x[row * n..(row + 1) * n]);
                    }
                    return;
                }
                for (b, dst) in chunk.chunks_exact_mut(inner).enumerate() {
                    let block = (start / inner + b) * n * inner;
                    dst.fill(init);
                    for k in 0..n {
                        let src = &x[block + k * inner..block + (k + 1) * inner];
                        for (o, &v) in dst.iter_mut().zip(src) {
                            *o = combine(*o, v);
                        }
                    }
                }
            })
        })
    }
}

/// The sum of a slice with eight independent accumulators: vectorizes, and the
/// order of additions is fixed by the slice alone.
pub(crate) fn sum_lanes(xs: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    let pairs = [
        lanes[0] + lanes[4],
        lanes[1] + lanes[5],
        lanes[2] + lanes[6],
        lanes[3] + lanes[7],
    ];
    (pairs[0] + pairs[2]) + (pairs[1] + pairs[3]) + tail
}

fn sum_all(xs: &[f32]) -> f32 {
    if xs.len() < PARALLEL_MIN_WORK {
        return sum_lanes(xs);
    }
    let partials: Vec<f32> = xs.par_chunks(CHUNK_WORK).map(sum_lanes).collect();
    partials.iter().sum()
}

/// # Panics
/// If there is nothing to reduce, for reductions with no value for it.
fn check_not_empty(op: &str, shape: Shape, count: usize) {
    assert!(
        count > 0,
        "{op}: cannot reduce the empty shape {shape:?}: there is no identity for it"
    );
}

fn reduced_shape(shape: Shape, axis: usize, keepdim: bool) -> Shape {
    if keepdim {
        shape.with_dim(axis, 1)
    } else {
        shape.without_dim(axis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Tensor {
        Tensor::from([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    }

    #[test]
    fn axis_reductions_follow_numpy() {
        let x = sample();
        assert_eq!(x.sum().item(), 21.0);
        assert_eq!(x.sum_axis(0, false).to_vec(), vec![5.0, 7.0, 9.0]);
        assert_eq!(x.sum_axis(-1, true).dims(), &[2, 1]);
        assert_eq!(x.max_axis(1, false).to_vec(), vec![5.0, 6.0]);
        assert_eq!(x.min_axis(0, false).to_vec(), vec![1.0, 2.0, 3.0]);
        assert_eq!(x.mean_axis(0, false).to_vec(), vec![2.5, 3.5, 4.5]);
        assert_eq!(x.var_axis(1, false).to_vec(), vec![4.0, 4.0]);
    }

    #[test]
    fn reductions_of_nothing_follow_pytorch() {
        let empty = Tensor::zeros([0, 3]);
        assert_eq!(empty.sum().item(), 0.0);
        assert!(empty.mean().item().is_nan());
        assert_eq!(empty.sum_axis(0, false).to_vec(), vec![0.0; 3]);
        assert!(empty.mean_axis(0, false).data().iter().all(|v| v.is_nan()));
        assert_eq!(empty.sum_axis(1, false).dims(), &[0]);
        assert_eq!(empty.max_axis(1, true).dims(), &[0, 1]);
        assert_eq!(
            empty.logsumexp_axis(0, false).to_vec(),
            vec![f32::NEG_INFINITY; 3]
        );
        assert_eq!(Tensor::zeros([0]).logsumexp().item(), f32::NEG_INFINITY);
        assert!(empty.var().item().is_nan());
        assert_eq!(Tensor::zeros([2, 0]).sum_to([0]).dims(), &[0]);
        assert_eq!(Tensor::zeros([2, 0]).sum_to([2, 1]).to_vec(), vec![0.0; 2]);
    }

    #[test]
    #[should_panic(expected = "max_axis: cannot reduce the empty shape [0, 3]")]
    fn the_maximum_of_nothing_panics() {
        Tensor::zeros([0, 3]).max_axis(0, false);
    }

    #[test]
    #[should_panic(expected = "min: cannot reduce the empty shape [0]")]
    fn the_minimum_of_nothing_panics() {
        Tensor::zeros([0]).min();
    }

    #[test]
    fn variance_and_deviation_take_a_correction() {
        let x = Tensor::from([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]]);
        assert_eq!(x.var_axis(1, false).to_vec(), vec![5.0 / 3.0, 0.0]);
        assert_eq!(x.var_axis_corrected(1, 0, false).to_vec(), vec![1.25, 0.0]);
        assert_eq!(
            x.std_axis_corrected(1, 0, true).to_vec(),
            vec![1.25f32.sqrt(), 0.0]
        );
        assert_eq!(
            x.std_axis(1, false).to_vec(),
            vec![(5.0f32 / 3.0).sqrt(), 0.0]
        );
        assert_eq!(x.var().item(), x.reshape([-1]).var_axis(0, false).item());
        assert_eq!(x.std().item(), x.var().item().sqrt());
        assert!(
            Tensor::from([1.0]).var().item().is_nan(),
            "one element, n - 1 = 0"
        );
    }

    #[test]
    fn logsumexp_does_not_overflow() {
        let x = Tensor::from([1000.0, 1000.0]);
        let expected = 1000.0 + 2.0f32.ln();
        assert!((x.logsumexp().item() - expected).abs() < 1e-3);
        let all_neg_inf = Tensor::from([f32::NEG_INFINITY, f32::NEG_INFINITY]);
        assert_eq!(all_neg_inf.logsumexp().item(), f32::NEG_INFINITY);
    }

    #[test]
    fn sum_to_inverts_broadcasting() {
        let g = Tensor::ones([3, 4]);
        assert_eq!(g.sum_to([1, 4]).to_vec(), vec![3.0; 4]);
        assert_eq!(g.sum_to([3, 1]).to_vec(), vec![4.0; 3]);
        assert_eq!(g.sum_to([4]).to_vec(), vec![3.0; 4]);
        assert_eq!(g.sum_to(Shape::SCALAR).item(), 12.0);
        let b = Tensor::from([1.0, 2.0]).broadcast_to([3, 2]);
        assert_eq!(b.to_vec(), vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    }

    #[test]
    fn large_sums_match_f64_reference() {
        let x = Tensor::from_fn([1 << 20], |i| ((i[0] % 97) as f32) * 0.001);
        let reference: f64 = x.data().iter().map(|&v| v as f64).sum();
        assert!((x.sum().item() as f64 - reference).abs() / reference < 1e-5);
        let wide = x.reshape([1024, 1024]);
        let col_sums = wide.sum_axis(0, false);
        let expected: f64 = (0..1024).map(|r| wide.get(&[r, 7]) as f64).sum();
        assert!((col_sums.get(&[7]) as f64 - expected).abs() < 1e-3);
    }
}
