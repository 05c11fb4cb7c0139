//! Ops that move values: reshape and the other views (flatten, squeeze,
//! unsqueeze), permute, transpose, narrow, concat and stack. Their
//! gradients move the incoming gradient back.

use descent_tensor::{ReshapeSpec, Tensor};

use crate::tape::{Function, InputGrads, OpValues, Var};

impl<'t> Var<'t> {
    /// The same values with another shape (no copy); one dimension may be
    /// `-1`, inferred from the others, as in PyTorch.
    ///
    /// ```
    /// use descent_autograd::Tape;
    /// use descent_tensor::Tensor;
    ///
    /// let tape = Tape::new();
    /// let images = tape.constant(Tensor::zeros([32, 28, 28]));
    /// assert_eq!(images.reshape([-1, 784]).shape().dims(), &[32, 784]);
    /// ```
    ///
    /// # Panics
    /// If the element counts differ or the `-1` cannot be inferred.
    pub fn reshape(self, shape: impl ReshapeSpec) -> Var<'t> {
        self.view(|x| x.reshape(shape))
    }

    /// Merges axes `start..=end` into one, as PyTorch's `flatten`.
    ///
    /// # Panics
    /// If an axis is out of range or `start` comes after `end`.
    pub fn flatten(self, start: isize, end: isize) -> Var<'t> {
        self.view(|x| x.flatten(start, end))
    }

    /// Removes `axis` if its size is 1 (else keeps the shape), as PyTorch's
    /// `squeeze(dim)`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn squeeze(self, axis: isize) -> Var<'t> {
        self.view(|x| x.squeeze(axis))
    }

    /// Inserts an axis of size 1 before `axis` (`-1` appends one).
    ///
    /// # Panics
    /// If `axis` is outside `-(rank + 1)..=rank`.
    pub fn unsqueeze(self, axis: isize) -> Var<'t> {
        self.view(|x| x.unsqueeze(axis))
    }

    /// Records `f`, an op that only gives the value another shape; its
    /// gradient is the incoming one with the input's shape.
    fn view(self, f: impl FnOnce(&Tensor) -> Tensor) -> Var<'t> {
        let value = self.with_value(f);
        self.tape.record(value, &[self], [], Reshape)
    }

    /// The axes in the order `axes` gives, as PyTorch's `permute`.
    ///
    /// ```
    /// use descent_autograd::Tape;
    /// use descent_tensor::Tensor;
    ///
    /// let tape = Tape::new();
    /// let nhwc = tape.constant(Tensor::zeros([8, 28, 28, 3]));
    /// assert_eq!(nhwc.permute(&[0, 3, 1, 2]).shape().dims(), &[8, 3, 28, 28]);
    /// ```
    ///
    /// # Panics
    /// If `axes` is not a permutation of the axes.
    pub fn permute(self, axes: &[isize]) -> Var<'t> {
        let value = self.with_value(|x| x.permute(axes));
        // The inverse permutation puts every axis of the gradient back.
        let rank = axes.len();
        let mut inverse = vec![0isize; rank];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a.rem_euclid(rank as isize) as usize] = i as isize;
        }
        self.tape.record(value, &[self], [], Permute(inverse))
    }

    /// Applies `f`, an op on `[rows, features]` matrices, to a
    /// `[batch, seq, features]` value as to its `batch * seq` rows, and gives
    /// the result its batch and sequence dimensions back.
    pub(crate) fn through_rows(self, f: impl FnOnce(Var<'t>) -> Var<'t>) -> Var<'t> {
        let shape = self.shape();
        let (batches, rows) = (shape.dim(0), shape.dim(1));
        let out = f(self.reshape([batches * rows, shape.dim(2)]));
        let cols = out.shape().dim(1);
        out.reshape([batches, rows, cols])
    }

    /// Swaps two axes.
    ///
    /// # Panics
    /// If an axis is out of range.
    pub fn transpose(self, axis_a: isize, axis_b: isize) -> Var<'t> {
        let value = self.value().transpose(axis_a, axis_b);
        self.tape
            .record(value, &[self], [], Transpose(axis_a, axis_b))
    }

    /// The transpose of a matrix (last two axes swapped).
    ///
    /// # Panics
    /// If the value has fewer than two dimensions.
    pub fn t(self) -> Var<'t> {
        self.transpose(-2, -1)
    }

    /// The slice `start..start + len` along `axis`.
    ///
    /// # Panics
    /// If the axis is out of range or the slice runs past the end.
    pub fn narrow(self, axis: isize, start: usize, len: usize) -> Var<'t> {
        let x = self.value();
        let axis = x.shape().axis("narrow", axis);
        let value = x.narrow(axis as isize, start, len);
        self.tape.record(value, &[self], [], Narrow { axis, start })
    }

    /// Joins values along an existing axis.
    ///
    /// # Panics
    /// If `parts` is empty or the shapes disagree off `axis`.
    pub fn concat(parts: &[Var<'t>], axis: isize) -> Var<'t> {
        assert!(!parts.is_empty(), "concat: no values given");
        let values: Vec<Tensor> = parts.iter().map(|p| p.value()).collect();
        let refs: Vec<&Tensor> = values.iter().collect();
        let out = Tensor::concat(&refs, axis);
        let axis = values[0].shape().axis("concat", axis);
        parts[0].tape.record(out, parts, [], Concat { axis })
    }

    /// Stacks equally shaped values along a new axis.
    ///
    /// # Panics
    /// If `parts` is empty or the shapes differ.
    pub fn stack(parts: &[Var<'t>], axis: isize) -> Var<'t> {
        assert!(!parts.is_empty(), "stack: no values given");
        let shape = parts[0].shape();
        let axis = shape.new_axis("stack", axis);
        let expanded = shape.with_inserted_dim(axis, 1);
        let views: Vec<Var<'t>> = parts
            .iter()
            .map(|p| {
                assert_eq!(
                    p.shape(),
                    shape,
                    "stack: shapes {shape:?} and {:?} differ",
                    p.shape()
                );
                p.reshape(expanded)
            })
            .collect();
        Var::concat(&views, axis as isize)
    }
}

struct Reshape;

impl Function for Reshape {
    fn name(&self) -> &'static str {
        "reshape"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        grads.add(0, grad.reshape(values.input(0).shape()));
    }
}

struct Permute(Vec<isize>);

impl Function for Permute {
    fn name(&self) -> &'static str {
        "permute"
    }
    fn backward(&self, _: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        grads.add(0, grad.permute(&self.0));
    }
}

struct Transpose(isize, isize);

impl Function for Transpose {
    fn name(&self) -> &'static str {
        "transpose"
    }
    fn backward(&self, _: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        grads.add(0, grad.transpose(self.0, self.1));
    }
}

struct Narrow {
    axis: usize,
    start: usize,
}

impl Function for Narrow {
    fn name(&self) -> &'static str {
        "narrow"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let shape = values.input(0).shape();
        let len = grad.shape().dim(self.axis);
        let after = shape.dim(self.axis) - self.start - len;
        let before = Tensor::zeros(shape.with_dim(self.axis, self.start));
        let rest = Tensor::zeros(shape.with_dim(self.axis, after));
        grads.add(
            0,
            Tensor::concat(&[&before, grad, &rest], self.axis as isize),
        );
    }
}

struct Concat {
    axis: usize,
}

impl Function for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let mut start = 0;
        for i in 0..values.len() {
            let len = values.input(i).shape().dim(self.axis);
            if grads.wanted(i) {
                grads.add(i, grad.narrow(self.axis as isize, start, len));
            }
            start += len;
        }
    }
}
