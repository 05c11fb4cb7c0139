//! Ops that move elements without arithmetic: transpose, narrow, concat,
//! stack, and row gather / scatter for mini-batches and embeddings.

use crate::shape::Shape;
use crate::tensor::Tensor;

impl Tensor {
    /// Swaps two axes, copying into row-major order.
    ///
    /// # Panics
    /// If either axis is out of range.
    pub fn transpose(&self, axis_a: isize, axis_b: isize) -> Tensor {
        let shape = self.shape();
        let (a, b) = (
            shape.axis("transpose", axis_a),
            shape.axis("transpose", axis_b),
        );
        let mut dims = shape.dims().to_vec();
        dims.swap(a, b);
        let out_shape = Shape::new(&dims);
        let mut in_strides = shape.strides();
        in_strides.swap(a, b);
        let x = self.data();
        let rank = shape.rank();
        let mut index = [0usize; crate::shape::MAX_RANK];
        let values = (0..shape.numel()).map(move |_| {
            let offset: usize = (0..rank).map(|i| index[i] * in_strides[i]).sum();
            for axis in (0..rank).rev() {
                index[axis] += 1;
                if index[axis] < dims[axis] {
                    break;
                }
                index[axis] = 0;
            }
            x[offset]
        });
        Tensor::from_iter(out_shape, values)
    }

    /// The transpose of a matrix (the last two axes swapped).
    ///
    /// # Panics
    /// If the tensor has fewer than two dimensions.
    pub fn t(&self) -> Tensor {
        assert!(
            self.rank() >= 2,
            "t: shape {:?} has fewer than 2 dimensions",
            self.shape()
        );
        self.transpose(-2, -1)
    }

    /// The slice `start..start + len` along `axis`.
    ///
    /// # Panics
    /// If the axis is out of range or the slice runs past the end.
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Tensor {
        let axis = self.shape().axis("narrow", axis);
        let (_, n, inner) = self.shape().split_at_axis(axis);
        assert!(
            start.checked_add(len).is_some_and(|end| end <= n),
            "narrow: range {start}..{} is out of bounds for axis {axis} of shape {:?}",
            start.saturating_add(len),
            self.shape()
        );
        let x = self.data();
        let run = len * inner;
        Tensor::build_overwritten(self.shape().with_dim(axis, len), |out| {
            for (o, dst) in out.chunks_exact_mut(run.max(1)).enumerate() {
                let begin = (o * n + start) * inner;
                dst.copy_from_slice(&x[begin..begin + run]);
            }
        })
    }

    /// Joins tensors along an existing axis; all other dimensions must agree.
    ///
    /// # Panics
    /// If `parts` is empty or the shapes disagree off `axis`.
    pub fn concat(parts: &[&Tensor], axis: isize) -> Tensor {
        assert!(!parts.is_empty(), "concat: no tensors given");
        let first = parts[0].shape();
        let axis = first.axis("concat", axis);
        for part in parts {
            assert!(
                part.rank() == first.rank()
                    && part.shape().with_dim(axis, 1) == first.with_dim(axis, 1),
                "concat: shapes {first:?} and {:?} differ off axis {axis}",
                part.shape()
            );
        }
        let total = parts
            .iter()
            .try_fold(0usize, |sum, p| sum.checked_add(p.shape().dim(axis)))
            .unwrap_or_else(|| panic!("concat: the sizes along axis {axis} overflow usize"));
        let (outer, _, inner) = first.split_at_axis(axis);
        Tensor::build_overwritten(first.with_dim(axis, total), |out| {
            let mut at = 0;
            for o in 0..outer {
                for p in parts {
                    let run = p.shape().dim(axis) * inner;
                    out[at..at + run].copy_from_slice(&p.data()[o * run..(o + 1) * run]);
                    at += run;
                }
            }
        })
    }

    /// Stacks equally shaped tensors along a new axis.
    ///
    /// # Panics
    /// If `parts` is empty or the shapes differ.
    pub fn stack(parts: &[&Tensor], axis: isize) -> Tensor {
        assert!(!parts.is_empty(), "stack: no tensors given");
        let first = parts[0].shape();
        for part in parts {
            assert_eq!(
                part.shape(),
                first,
                "stack: shapes {first:?} and {:?} differ",
                part.shape()
            );
        }
        let axis = first.new_axis("stack", axis);
        let expanded = first.with_inserted_dim(axis, 1);
        let views: Vec<Tensor> = parts.iter().map(|p| p.reshape(expanded)).collect();
        let refs: Vec<&Tensor> = views.iter().collect();
        Tensor::concat(&refs, axis as isize)
    }

    /// Gathers the rows (slices along axis 0) at `indices`, in order: how a
    /// mini-batch is taken from a data set without copying the rest.
    ///
    /// # Panics
    /// If an index is out of bounds.
    pub fn index_select(&self, indices: &[usize]) -> Tensor {
        assert!(self.rank() >= 1, "index_select: scalar tensor has no rows");
        let rows = self.shape().dim(0);
        let row_len = self.numel() / rows.max(1);
        let x = self.data();
        if let Some(&bad) = indices.iter().find(|&&i| i >= rows) {
            panic!("index_select: index {bad} is out of bounds for {rows} rows");
        }
        // Whole rows are copied with copy_from_slice: an element-by-element
        // iterator here cost ~50 us per MNIST batch.
        Tensor::build_overwritten(self.shape().with_dim(0, indices.len()), |out| {
            for (dst, &i) in out.chunks_exact_mut(row_len.max(1)).zip(indices) {
                dst.copy_from_slice(&x[i * row_len..(i + 1) * row_len]);
            }
        })
    }

    /// A zero tensor of shape `[rows, ...]` with each row of `self` added at
    /// the row named by `indices` (repeats accumulate): the adjoint of
    /// [`Tensor::index_select`].
    ///
    /// # Panics
    /// If `indices` and the rows of `self` differ in number, or an index is
    /// out of bounds.
    pub fn index_add_rows(&self, indices: &[usize], rows: usize) -> Tensor {
        assert_eq!(
            indices.len(),
            self.shape().dim(0),
            "index_add_rows: {} indices for shape {:?}",
            indices.len(),
            self.shape()
        );
        let row_len = self.numel() / indices.len().max(1);
        let x = self.data();
        Tensor::build(self.shape().with_dim(0, rows), |out| {
            for (src, &i) in x.chunks_exact(row_len.max(1)).zip(indices) {
                assert!(
                    i < rows,
                    "index_add_rows: index {i} is out of bounds for {rows} rows"
                );
                for (o, &v) in out[i * row_len..(i + 1) * row_len].iter_mut().zip(src) {
                    *o += v;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_swaps_axes() {
        let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(x.t().to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let cube = Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 4]);
        let swapped = cube.transpose(0, 2);
        assert_eq!(swapped.dims(), &[4, 3, 2]);
        assert_eq!(swapped.get(&[3, 1, 1]), cube.get(&[1, 1, 3]));
    }

    #[test]
    fn concat_stack_and_narrow_round_trip() {
        let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let b = Tensor::from([[5.0], [6.0]]);
        let c = Tensor::concat(&[&a, &b], 1);
        assert_eq!(c.to_vec(), vec![1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
        assert_eq!(c.narrow(1, 2, 1), b);
        let s = Tensor::stack(&[&a, &a], 0);
        assert_eq!(s.dims(), &[2, 2, 2]);
        let s1 = Tensor::stack(&[&a, &a], -1);
        assert_eq!(s1.to_vec(), vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]);
    }

    #[test]
    fn gather_and_scatter_rows_are_adjoint() {
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let picked = x.index_select(&[2, 0, 2]);
        assert_eq!(picked.to_vec(), vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
        let back = picked.index_add_rows(&[2, 0, 2], 3);
        assert_eq!(back.to_vec(), vec![1.0, 2.0, 0.0, 0.0, 10.0, 12.0]);
    }

    #[test]
    #[should_panic(expected = "concat: shapes [2, 2] and [3, 1] differ off axis 1")]
    fn concat_checks_shapes() {
        Tensor::concat(&[&Tensor::zeros([2, 2]), &Tensor::zeros([3, 1])], 1);
    }
}
