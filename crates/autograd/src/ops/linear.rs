//! The fused linear layer, `act(x W^T + b)`, as one recorded op: the bias is
//! added in place to the product and the activation applied in the same
//! pass, so a layer costs one GEMM output and one activation buffer instead
//! of three nodes and three buffers. The values are bit-identical to
//! `act(x.matmul_t(w) + b)`; the backward pass is the chain rule of those
//! three ops in one rule.

use descent_tensor::Tensor;

use crate::UnaryOp;
use crate::ops::activation::{Activation, with_unary_op};
use crate::ops::unary::Relu;
use crate::tape::{Function, InputGrads, OpValues, Var};

impl<'t> Var<'t> {
    /// `self W^T + b` (PyTorch's `F.linear`) with `weight` stored
    /// `[out, in]`, as one op. `self` is `[batch, in]` or `[batch, seq, in]`.
    ///
    /// # Panics
    /// If the shapes do not fit; the message names them.
    pub fn linear(self, weight: Var<'t>, bias: Option<Var<'t>>) -> Var<'t> {
        self.fused_linear(weight, bias, None::<Relu>)
    }

    /// `activation(self W^T + b)` as one op, the bias and the activation
    /// applied in one pass over the product: what a `Dense` layer with an
    /// activation runs.
    ///
    /// ```
    /// use descent_autograd::{Activation, Param, Tape};
    /// use descent_tensor::Tensor;
    ///
    /// let w = Param::new(Tensor::from_vec(vec![1.0, -1.0, 2.0, 0.5], [2, 2]));
    /// let b = Param::new(Tensor::from([0.5, -4.0]));
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::from_vec(vec![1.0, 2.0], [1, 2]));
    /// let y = x.linear_activation(tape.param(&w), Some(tape.param(&b)), Activation::Relu);
    /// assert_eq!(y.value().to_vec(), vec![0.0, 0.0]); // relu([-0.5, -1.0])
    /// ```
    ///
    /// # Panics
    /// As [`Var::linear`].
    pub fn linear_activation(
        self,
        weight: Var<'t>,
        bias: Option<Var<'t>>,
        activation: Activation,
    ) -> Var<'t> {
        with_unary_op!(activation, op => self.fused_linear(weight, bias, Some(op)))
    }

    fn fused_linear<U: UnaryOp>(
        self,
        weight: Var<'t>,
        bias: Option<Var<'t>>,
        activation: Option<U>,
    ) -> Var<'t> {
        if self.shape().rank() == 3 {
            return self.through_rows(|rows| rows.fused_linear(weight, bias, activation));
        }
        if let Some(b) = bias {
            let (b, w) = (b.shape(), weight.shape());
            assert!(
                w.rank() == 2 && b.dims() == [w.dim(0)],
                "linear: bias of shape {b:?} for a weight of shape {w:?}"
            );
        }
        let mut product = self.with_values(weight, Tensor::matmul_t);
        let inputs: &[Var<'t>] = match &bias {
            Some(b) => &[self, weight, *b],
            None => &[self, weight],
        };
        let Some(f) = activation else {
            if let Some(b) = bias {
                b.with_value(|b| product.add_rows_assign(b));
            }
            return self.tape.record(product, inputs, [], Linear);
        };
        let value = match bias {
            Some(b) => b.with_value(|b| product.add_rows_then_map(b, f.cost(), |x| f.value(x))),
            None => product.map_weighted(f.cost(), |x| f.value(x)),
        };
        // The rule needs the pre-activation values for the activation's
        // derivative.
        self.tape
            .record(value, inputs, [product], LinearActivation(f))
    }
}

/// The backward rule of `x W^T + b`; inputs `[x, w]` or `[x, w, b]`.
struct Linear;

impl Function for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        linear_backward(values, grad.clone(), grads);
    }
}

/// The backward rule of `act(x W^T + b)`; inputs as [`Linear`], the
/// pre-activation values saved.
struct LinearActivation<U>(U);

impl<U: UnaryOp> Function for LinearActivation<U> {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let f = &self.0;
        // The gradient at the pre-activation values, as the activation's
        // own rule computes it.
        let grad = grad.zip3_map(f.name(), values.saved(0), values.output(), |g, x, y| {
            g * f.derivative(x, y)
        });
        linear_backward(values, grad, grads);
    }
}

/// Gradients of `x W^T + b` given the gradient at its output; the bias,
/// if present, is input 2.
fn linear_backward(values: &OpValues<'_>, grad: Tensor, grads: &mut InputGrads<'_>) {
    let (x, w) = (values.input(0), values.input(1));
    if grads.wanted(0) {
        grads.add(0, grad.matmul(w));
    }
    if grads.wanted(1) {
        grads.add(1, grad.t_matmul(x));
    }
    if values.len() > 2 {
        grads.add(2, grad);
    }
}
