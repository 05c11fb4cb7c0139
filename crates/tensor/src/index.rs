//! Indexing: `slice` and `select` along an axis, `index_select` and its
//! adjoint `index_add`, `gather` and its adjoint `scatter_add`, and the ops
//! that find positions, `argmax`, `argmin` and `topk`. Positions travel as
//! `usize` ([`IndexTensor`]), never as `f32`.

use std::cmp::Ordering;
use std::ops::RangeBounds;

use crate::index_tensor::IndexTensor;
use crate::shape::Shape;
use crate::tensor::Tensor;

impl Tensor {
    /// The entries `range` along `axis`, like PyTorch's `x[:, 2:5]`
    /// (`x.slice(1, 2..5)`); any Rust range works: `..`, `3..`, `..=4`.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]);
    /// assert_eq!(x.slice(1, 1..3).to_vec(), vec![1.0, 2.0, 5.0, 6.0]);
    /// assert_eq!(x.slice(-1, 3..).to_vec(), vec![3.0, 7.0]);
    /// assert_eq!(x.slice(0, ..1).dims(), &[1, 4]);
    /// ```
    ///
    /// # Panics
    /// If the axis is out of range, or the range is reversed or runs past
    /// the end.
    pub fn slice(&self, axis: isize, range: impl RangeBounds<usize>) -> Tensor {
        let range = self
            .shape()
            .slice_range("slice", self.shape().axis("slice", axis), range);
        self.narrow(axis, range.start, range.len())
    }

    /// The entry `index` along `axis`, with that axis removed, like PyTorch's
    /// `x[:, 2]` (`x.select(1, 2)`).
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.select(0, 1).to_vec(), vec![3.0, 4.0]);
    /// assert_eq!(x.select(1, 0).to_vec(), vec![1.0, 3.0]);
    /// assert_eq!(x.select(1, 0).dims(), &[2]);
    /// ```
    ///
    /// # Panics
    /// If the axis is out of range or `index` is not below its size.
    pub fn select(&self, axis: isize, index: usize) -> Tensor {
        let resolved = self.shape().axis("select", axis);
        check_index("select", index, self.shape(), resolved);
        self.narrow(axis, index, 1)
            .reshape(self.shape().without_dim(resolved))
    }

    /// The entries at `indices` along `axis`, in order, repeats allowed
    /// (PyTorch's `index_select`): how a mini-batch is taken from a data set.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(x.index_select(0, &[1, 1]).to_vec(), vec![4.0, 5.0, 6.0, 4.0, 5.0, 6.0]);
    /// assert_eq!(x.index_select(1, &[2, 0]).to_vec(), vec![3.0, 1.0, 6.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If the axis is out of range or an index is not below its size.
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Tensor {
        let axis = self.shape().axis("index_select", axis);
        let (outer, n, inner) = self.shape().split_at_axis(axis);
        for &i in indices {
            check_index("index_select", i, self.shape(), axis);
        }
        let x = self.data();
        // Whole runs are copied with copy_from_slice: an element-by-element
        // iterator here cost ~50 us per MNIST batch.
        Tensor::build_overwritten(self.shape().with_dim(axis, indices.len()), |out| {
            let mut at = 0;
            for o in 0..outer {
                for &i in indices {
                    let from = (o * n + i) * inner;
                    out[at..at + inner].copy_from_slice(&x[from..from + inner]);
                    at += inner;
                }
            }
        })
    }

    /// This tensor with the entries of `source` along `axis` added at
    /// `indices` (repeats accumulate), PyTorch's `index_add`: the adjoint of
    /// [`Tensor::index_select`].
    ///
    /// # Panics
    /// If the axis is out of range, an index is not below its size, or
    /// `source` is not this shape with `indices.len()` entries along `axis`.
    pub fn index_add(&self, axis: isize, indices: &[usize], source: &Tensor) -> Tensor {
        let axis = self.shape().axis("index_add", axis);
        let expected = self.shape().with_dim(axis, indices.len());
        assert_eq!(
            source.shape(),
            expected,
            "index_add: source of shape {:?} for {} indices into shape {:?} along axis {axis}",
            source.shape(),
            indices.len(),
            self.shape()
        );
        for &i in indices {
            check_index("index_add", i, self.shape(), axis);
        }
        let (outer, n, inner) = self.shape().split_at_axis(axis);
        let src = source.data();
        let mut out = self.clone();
        let dst = out.data_mut();
        let mut at = 0;
        for o in 0..outer {
            for &i in indices {
                let to = (o * n + i) * inner;
                for (d, &s) in dst[to..to + inner].iter_mut().zip(&src[at..at + inner]) {
                    *d += s;
                }
                at += inner;
            }
        }
        out
    }

    /// Picks, at each position of `index`, the entry along `axis` that the
    /// index names (PyTorch's `gather`): for a matrix and `axis` 1,
    /// `out[i][j] = self[i][index[i][j]]`. `index` has this tensor's rank
    /// and no larger a size on any other axis; the output has its shape.
    ///
    /// ```
    /// use descent_tensor::{IndexTensor, Tensor};
    ///
    /// let scores = Tensor::from([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]);
    /// let labels = IndexTensor::from([[1], [0]]);
    /// assert_eq!(scores.gather(1, &labels).to_vec(), vec![0.7, 0.5]);
    /// ```
    ///
    /// # Panics
    /// If the axis is out of range, the shapes do not fit, or an index is
    /// not below the size of `axis`.
    pub fn gather(&self, axis: isize, index: &IndexTensor) -> Tensor {
        let axis = self.shape().axis("gather", axis);
        check_index_shape("gather", index.shape(), self.shape(), axis);
        let strides = self.shape().strides();
        let x = self.data();
        let values = index_walk(index, self.shape(), axis).map(|(_, base, i)| {
            check_index("gather", i, self.shape(), axis);
            x[base + i * strides[axis]]
        });
        Tensor::from_iter(index.shape(), values)
    }

    /// This tensor with each entry of `src` added at the position along
    /// `axis` that `index` names for it (PyTorch's `scatter_add`): for a
    /// matrix and `axis` 1, `out[i][index[i][j]] += src[i][j]`; the adjoint
    /// of [`Tensor::gather`]. `index` and `src` have the same shape (PyTorch
    /// also allows a smaller index), of this tensor's rank and no larger a
    /// size on any other axis.
    ///
    /// ```
    /// use descent_tensor::{IndexTensor, Tensor};
    ///
    /// let counts = Tensor::zeros([3]);
    /// let votes = IndexTensor::from([2, 0, 2]);
    /// let out = counts.scatter_add(0, &votes, &Tensor::ones([3]));
    /// assert_eq!(out.to_vec(), vec![1.0, 0.0, 2.0]);
    /// ```
    ///
    /// # Panics
    /// If the axis is out of range, the shapes do not fit, or an index is
    /// not below the size of `axis`.
    pub fn scatter_add(&self, axis: isize, index: &IndexTensor, src: &Tensor) -> Tensor {
        let axis = self.shape().axis("scatter_add", axis);
        assert_eq!(
            index.shape(),
            src.shape(),
            "scatter_add: index of shape {:?} and src of shape {:?} differ",
            index.shape(),
            src.shape()
        );
        check_index_shape("scatter_add", index.shape(), self.shape(), axis);
        let stride = self.shape().strides()[axis];
        let mut out = self.clone();
        let dst = out.data_mut();
        for (position, base, i) in index_walk(index, self.shape(), axis) {
            check_index("scatter_add", i, self.shape(), axis);
            dst[base + i * stride] += src.data()[position];
        }
        out
    }

    /// The flat (row-major) position of the largest element, the first
    /// one on a tie; a NaN counts as the largest, as in PyTorch.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[1.0, 9.0], [9.0, 3.0]]);
    /// assert_eq!(x.argmax(), 1);
    /// assert_eq!(x.argmax_axis(0, false).to_vec(), vec![1, 0]);
    /// assert_eq!(x.argmin_axis(1, true).dims(), &[2, 1]);
    /// ```
    ///
    /// # Panics
    /// If the tensor is empty.
    pub fn argmax(&self) -> usize {
        self.reshape([self.numel()]).argmax_axis(0, false).item()
    }

    /// The flat position of the smallest element, the first one on a tie;
    /// a NaN counts as the smallest, as in PyTorch.
    ///
    /// # Panics
    /// If the tensor is empty.
    pub fn argmin(&self) -> usize {
        self.reshape([self.numel()]).argmin_axis(0, false).item()
    }

    /// The position along `axis` of the largest entry of each slice, the
    /// first one on a tie, NaN counting as the largest; `keepdim` keeps the
    /// axis with size 1.
    ///
    /// # Panics
    /// If `axis` is out of range or has size 0.
    pub fn argmax_axis(&self, axis: isize, keepdim: bool) -> IndexTensor {
        self.arg_extremum("argmax", axis, keepdim, |x, best| x > best)
    }

    /// The position along `axis` of the smallest entry of each slice, the
    /// first one on a tie, NaN counting as the smallest.
    ///
    /// # Panics
    /// If `axis` is out of range or has size 0.
    pub fn argmin_axis(&self, axis: isize, keepdim: bool) -> IndexTensor {
        self.arg_extremum("argmin", axis, keepdim, |x, best| x < best)
    }

    /// The position of the first entry along `axis` that `better` prefers
    /// to all before it, or of the first NaN.
    fn arg_extremum(
        &self,
        op: &str,
        axis: isize,
        keepdim: bool,
        better: impl Fn(f32, f32) -> bool,
    ) -> IndexTensor {
        let axis = self.shape().axis(op, axis);
        let (outer, n, inner) = self.shape().split_at_axis(axis);
        assert!(
            n > 0,
            "{op}: axis {axis} of shape {:?} is empty",
            self.shape()
        );
        let x = self.data();
        let positions = (0..outer * inner).map(|lane| {
            let at = |k: usize| x[((lane / inner) * n + k) * inner + lane % inner];
            let mut best = 0;
            for k in 1..n {
                if at(best).is_nan() {
                    break;
                }
                if at(k).is_nan() || better(at(k), at(best)) {
                    best = k;
                }
            }
            best
        });
        let shape = self.shape();
        let out = if keepdim {
            shape.with_dim(axis, 1)
        } else {
            shape.without_dim(axis)
        };
        IndexTensor::from_vec(positions.collect(), out)
    }

    /// The `k` largest entries along `axis`, largest first, and their
    /// positions (PyTorch's `topk(k, dim)` with its defaults `largest` and
    /// `sorted`); NaN counts as the largest, ties keep the lower position
    /// first.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[0.1, 0.6, 0.3], [0.8, 0.0, 0.2]]);
    /// let (values, indices) = x.topk(2, -1);
    /// assert_eq!(values.to_vec(), vec![0.6, 0.3, 0.8, 0.2]);
    /// assert_eq!(indices.to_vec(), vec![1, 2, 0, 2]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is out of range or `k` is larger than its size.
    pub fn topk(&self, k: usize, axis: isize) -> (Tensor, IndexTensor) {
        let axis = self.shape().axis("topk", axis);
        let (outer, n, inner) = self.shape().split_at_axis(axis);
        assert!(
            k <= n,
            "topk: k = {k} is larger than axis {axis} of shape {:?}",
            self.shape()
        );
        let x = self.data();
        let shape = self.shape().with_dim(axis, k);
        let mut positions = vec![0; shape.numel()];
        let mut lane_order: Vec<usize> = Vec::with_capacity(n);
        for lane in 0..outer * inner {
            let (o, i) = (lane / inner, lane % inner);
            let at = |p: usize| x[(o * n + p) * inner + i];
            lane_order.clear();
            lane_order.extend(0..n);
            // A stable sort keeps equal entries in position order.
            lane_order.sort_by(|&a, &b| descending_nan_first(at(a), at(b)));
            for (rank, &p) in lane_order[..k].iter().enumerate() {
                positions[(o * k + rank) * inner + i] = p;
            }
        }
        let indices = IndexTensor::from_vec(positions, shape);
        (self.gather(axis as isize, &indices), indices)
    }
}

/// The order of `topk`: larger first, NaN before everything.
fn descending_nan_first(a: f32, b: f32) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => b.partial_cmp(&a).expect("neither is NaN"),
    }
}

/// # Panics
/// If `index` is not below the size of `axis`, naming `op` and the shape.
fn check_index(op: &str, index: usize, shape: Shape, axis: usize) {
    assert!(
        index < shape.dim(axis),
        "{op}: index {index} is out of bounds for axis {axis} of shape {shape:?}"
    );
}

/// Checks PyTorch's rule for `gather` and `scatter_add`: `index` has the
/// rank of `shape` and no larger a size on any axis but `axis`.
///
/// # Panics
/// If it does not, naming `op` and both shapes.
fn check_index_shape(op: &str, index: Shape, shape: Shape, axis: usize) {
    let fits = index.rank() == shape.rank()
        && (0..shape.rank()).all(|d| d == axis || index.dim(d) <= shape.dim(d));
    assert!(
        fits,
        "{op}: index of shape {index:?} does not fit shape {shape:?} along axis {axis}"
    );
}

/// For each position of `index` (row-major): that position's flat offset in
/// `index`, the offset in a tensor of `shape` of the same multi-index with
/// the `axis` coordinate set to 0, and the index stored there.
fn index_walk(
    index: &IndexTensor,
    shape: Shape,
    axis: usize,
) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let mut strides = shape.strides();
    strides[axis] = 0;
    index
        .shape()
        .offsets(strides)
        .zip(index.data())
        .enumerate()
        .map(|(position, (base, &i))| (position, base, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Tensor {
        Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 4])
    }

    #[test]
    fn slice_and_select_cut_any_axis() {
        let x = grid();
        assert_eq!(x.slice(2, 1..3).dims(), &[2, 3, 2]);
        assert_eq!(x.slice(2, 1..3).get(&[1, 2, 1]), 22.0);
        assert_eq!(x.slice(1, ..=0).to_vec(), x.narrow(1, 0, 1).to_vec());
        assert_eq!(x.slice(0, ..), x);
        assert_eq!(x.slice(1, 3..).dims(), &[2, 0, 4]);
        let s = x.select(1, 2);
        assert_eq!(s.dims(), &[2, 4]);
        assert_eq!(s.get(&[1, 3]), x.get(&[1, 2, 3]));
        assert_eq!(x.select(-1, 0).get(&[1, 1]), 16.0);
    }

    #[test]
    #[should_panic(expected = "slice: range 2..5 is out of bounds for axis 1 of shape [2, 3, 4]")]
    fn slice_checks_its_range() {
        grid().slice(1, 2..5);
    }

    #[test]
    #[should_panic(expected = "select: index 3 is out of bounds for axis 1 of shape [2, 3, 4]")]
    fn select_checks_its_index() {
        grid().select(1, 3);
    }

    #[test]
    fn index_select_and_index_add_are_adjoint_on_every_axis() {
        let x = grid();
        for axis in 0..3 {
            let n = x.dims()[axis];
            let picks = [n - 1, 0, n - 1];
            let picked = x.index_select(axis as isize, &picks);
            assert_eq!(picked.dims()[axis], 3);
            for (k, &p) in picks.iter().enumerate() {
                assert_eq!(
                    picked.narrow(axis as isize, k, 1),
                    x.narrow(axis as isize, p, 1)
                );
            }
            // <index_select(x), y> == <x, index_add(0, y)> for any y.
            let y = picked.map(|v| v * 0.5 - 1.0);
            let back = x.zeros_like().index_add(axis as isize, &picks, &y);
            let lhs: f32 = picked.mul(&y).sum().item();
            let rhs: f32 = x.mul(&back).sum().item();
            assert_eq!(lhs, rhs);
        }
        let rows = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let back = Tensor::zeros([3, 2]).index_add(0, &[2, 0, 2], &rows);
        assert_eq!(back.to_vec(), vec![3.0, 4.0, 0.0, 0.0, 6.0, 8.0]);
        assert_eq!(Tensor::zeros([3, 0]).index_select(0, &[1]).dims(), &[1, 0]);
    }

    #[test]
    #[should_panic(expected = "index_select: index 3 is out of bounds for axis 0 of shape [3, 2]")]
    fn index_select_checks_its_indices() {
        Tensor::zeros([3, 2]).index_select(0, &[0, 3]);
    }

    #[test]
    fn gather_picks_along_an_axis_and_scatter_add_returns_it() {
        let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let rows = IndexTensor::from([[2, 0], [1, 1]]);
        assert_eq!(x.gather(1, &rows).to_vec(), vec![3.0, 1.0, 5.0, 5.0]);
        let cols = IndexTensor::from([[1, 0, 1]]);
        assert_eq!(x.gather(0, &cols).to_vec(), vec![4.0, 2.0, 6.0]);
        let src = Tensor::from([[10.0, 20.0], [30.0, 40.0]]);
        let out = x.scatter_add(1, &rows, &src);
        assert_eq!(out.to_vec(), vec![21.0, 2.0, 13.0, 4.0, 75.0, 6.0]);
        let cube = grid();
        let idx = IndexTensor::from_vec(vec![3, 0, 1, 2, 2, 2], [2, 3, 1]);
        let picked = cube.gather(2, &idx);
        assert_eq!(picked.dims(), &[2, 3, 1]);
        assert_eq!(picked.to_vec(), vec![3.0, 4.0, 9.0, 14.0, 18.0, 22.0]);
    }

    #[test]
    #[should_panic(expected = "gather: index 3 is out of bounds for axis 1 of shape [2, 3]")]
    fn gather_checks_its_indices() {
        Tensor::zeros([2, 3]).gather(1, &IndexTensor::from([[0], [3]]));
    }

    #[test]
    #[should_panic(
        expected = "gather: index of shape [3, 1] does not fit shape [2, 3] along axis 1"
    )]
    fn gather_checks_the_index_shape() {
        Tensor::zeros([2, 3]).gather(1, &IndexTensor::from([[0], [1], [2]]));
    }

    #[test]
    fn argmax_and_argmin_take_the_first_extremum_and_nan() {
        let x = Tensor::from([[1.0, 5.0, 5.0], [2.0, 0.0, 0.0]]);
        assert_eq!(x.argmax(), 1);
        assert_eq!(x.argmin(), 4);
        assert_eq!(x.argmax_axis(1, false).to_vec(), vec![1, 0]);
        assert_eq!(x.argmin_axis(1, false).to_vec(), vec![0, 1]);
        assert_eq!(x.argmax_axis(0, true).dims(), &[1, 3]);
        assert_eq!(x.argmax_axis(-2, false).to_vec(), vec![1, 0, 0]);
        let nan = Tensor::from([1.0, f32::NAN, 3.0, f32::NAN]);
        assert_eq!(nan.argmax(), 1);
        assert_eq!(nan.argmin(), 1);
    }

    #[test]
    #[should_panic(expected = "argmax: axis 0 of shape [0] is empty")]
    fn argmax_of_nothing_panics() {
        Tensor::zeros([0]).argmax();
    }

    #[test]
    fn topk_sorts_each_slice_and_gathers_its_values() {
        let x = Tensor::from([[3.0, 1.0, 4.0, 1.0], [5.0, 9.0, 2.0, 6.0]]);
        let (values, indices) = x.topk(3, 1);
        assert_eq!(values.to_vec(), vec![4.0, 3.0, 1.0, 9.0, 6.0, 5.0]);
        assert_eq!(indices.to_vec(), vec![2, 0, 1, 1, 3, 0]);
        let (values, indices) = x.topk(1, 0);
        assert_eq!(values.to_vec(), vec![5.0, 9.0, 4.0, 6.0]);
        assert_eq!(indices.dims(), &[1, 4]);
        let (values, _) = Tensor::from([1.0, f32::NAN, 2.0]).topk(2, 0);
        assert!(values.data()[0].is_nan() && values.data()[1] == 2.0);
        assert_eq!(x.topk(0, 1).0.dims(), &[2, 0]);
    }

    #[test]
    #[should_panic(expected = "topk: k = 5 is larger than axis 1 of shape [2, 4]")]
    fn topk_checks_k() {
        Tensor::zeros([2, 4]).topk(5, 1);
    }
}
