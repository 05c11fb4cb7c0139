//! Matrix products. Gradients are products with one operand read transposed
//! through strides, so no operand is ever copied.

use descent_tensor::Tensor;

use crate::tape::{Function, InputGrads, OpValues, Var};

impl<'t> Var<'t> {
    /// The matrix product `self @ other` (2-D x 2-D, or batched 3-D x 3-D).
    /// A 3-D left operand with a 2-D right one applies the matrix to every
    /// batch, as a linear layer on a sequence does.
    ///
    /// # Panics
    /// If the shapes cannot be multiplied; the message names both shapes.
    pub fn matmul(self, other: Var<'t>) -> Var<'t> {
        self.product(false, other, false)
    }

    /// `self @ other^T`, reading `other` transposed without copying: the
    /// product of a linear layer whose weight is stored `[out, in]`.
    ///
    /// # Panics
    /// As [`Var::matmul`].
    pub fn matmul_t(self, other: Var<'t>) -> Var<'t> {
        self.product(false, other, true)
    }

    /// `self^T @ other`, reading `self` transposed without copying.
    ///
    /// # Panics
    /// As [`Var::matmul`].
    pub fn t_matmul(self, other: Var<'t>) -> Var<'t> {
        self.product(true, other, false)
    }

    fn product(self, transpose_a: bool, other: Var<'t>, transpose_b: bool) -> Var<'t> {
        if self.shape().rank() == 3 && other.shape().rank() == 2 && !transpose_a {
            return self.through_rows(|rows| rows.product(false, other, transpose_b));
        }
        let value = self.with_values(other, |a, b| {
            a.matmul_transposed(transpose_a, b, transpose_b)
        });
        let inputs = [self, other];
        // One zero-sized rule per transpose combination: boxing it allocates nothing.
        match (transpose_a, transpose_b) {
            (false, false) => self.tape.record(value, &inputs, [], MatMul::<false, false>),
            (false, true) => self.tape.record(value, &inputs, [], MatMul::<false, true>),
            (true, false) => self.tape.record(value, &inputs, [], MatMul::<true, false>),
            (true, true) => self.tape.record(value, &inputs, [], MatMul::<true, true>),
        }
    }
}

/// `C = op(A) op(B)`, where `op` transposes the operands whose flag is set.
struct MatMul<const TRANSPOSE_A: bool, const TRANSPOSE_B: bool>;

impl<const TRANSPOSE_A: bool, const TRANSPOSE_B: bool> Function
    for MatMul<TRANSPOSE_A, TRANSPOSE_B>
{
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let (a, b) = (values.input(0), values.input(1));
        let (ta, tb) = (TRANSPOSE_A, TRANSPOSE_B);
        if grads.wanted(0) {
            // dA = G op(B)^T, transposed back when A was read transposed.
            let da = if ta {
                b.matmul_transposed(tb, grad, true)
            } else {
                grad.matmul_transposed(false, b, !tb)
            };
            grads.add(0, da);
        }
        if grads.wanted(1) {
            // dB = op(A)^T G, transposed back when B was read transposed.
            let db = if tb {
                grad.matmul_transposed(true, a, ta)
            } else {
                a.matmul_transposed(!ta, grad, false)
            };
            grads.add(1, db);
        }
    }
}
