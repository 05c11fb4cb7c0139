//! The fused linear layer, `act(x W^T + b)`, as one recorded op: the bias is
//! added in place to the product and the activation applied in the same
//! pass, so a layer costs one GEMM output and one activation buffer instead
//! of three nodes and three buffers. The values are bit-identical to
//! `act(x.matmul_t(w) + b)`; the backward pass is the chain rule of those
//! three ops in one rule.

use descent_tensor::Tensor;

use crate::UnaryOp;
use crate::ops::unary::{Elu, Gelu, LeakyRelu, Relu, Sigmoid, Softplus, Tanh};
use crate::tape::{Function, InputGrads, OpValues, Var};

/// An activation [`Var::linear_activation`] applies in the same pass as the
/// bias: the element-wise activations of `Var` (`relu`, `tanh`, ...).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x` for positive `x`, else `slope * x`.
    LeakyRelu(f32),
    /// `x` for positive `x`, else `alpha * (e^x - 1)`.
    Elu(f32),
    /// The logistic sigmoid.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// GELU, exact erf form.
    Gelu,
    /// `ln(1 + e^x)`.
    Softplus,
}

impl Activation {
    /// The activation's name, as its `Var` method is called.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => Relu.name(),
            Activation::LeakyRelu(slope) => LeakyRelu(slope).name(),
            Activation::Elu(alpha) => Elu(alpha).name(),
            Activation::Sigmoid => Sigmoid.name(),
            Activation::Tanh => Tanh.name(),
            Activation::Gelu => Gelu.name(),
            Activation::Softplus => Softplus.name(),
        }
    }
}

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
        match activation {
            Activation::Relu => self.fused_linear(weight, bias, Some(Relu)),
            Activation::LeakyRelu(slope) => self.fused_linear(weight, bias, Some(LeakyRelu(slope))),
            Activation::Elu(alpha) => self.fused_linear(weight, bias, Some(Elu(alpha))),
            Activation::Sigmoid => self.fused_linear(weight, bias, Some(Sigmoid)),
            Activation::Tanh => self.fused_linear(weight, bias, Some(Tanh)),
            Activation::Gelu => self.fused_linear(weight, bias, Some(Gelu)),
            Activation::Softplus => self.fused_linear(weight, bias, Some(Softplus)),
        }
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
        let Some(f) = activation else {
            return match bias {
                Some(b) => {
                    b.with_value(|b| product.add_rows_assign(b));
                    self.tape.record(product, &[self, weight, b], Linear)
                }
                None => self.tape.record(product, &[self, weight], Linear),
            };
        };
        let value = match bias {
            Some(b) => b.with_value(|b| product.add_rows_then_map(b, f.cost(), |x| f.value(x))),
            None => product.map_weighted(f.cost(), |x| f.value(x)),
        };
        if !self.tape.is_recording() {
            return self.tape.constant(value);
        }
        // The pre-activation values ride on the tape as a constant input, so
        // the rule holds no data and recording it allocates nothing.
        let pre = self.tape.constant(product);
        match bias {
            Some(b) => self
                .tape
                .record(value, &[self, weight, pre, b], LinearActivation(f)),
            None => self
                .tape
                .record(value, &[self, weight, pre], LinearActivation(f)),
        }
    }
}

/// The backward rule of `x W^T + b`; inputs `[x, w]` or `[x, w, b]`.
struct Linear;

impl Function for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        linear_backward(values, grad.clone(), grads, 2);
    }
}

/// The backward rule of `act(x W^T + b)`; inputs `[x, w, pre]` or
/// `[x, w, pre, b]`, where `pre` holds the pre-activation values.
struct LinearActivation<U>(U);

impl<U: UnaryOp> Function for LinearActivation<U> {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let f = &self.0;
        // The gradient at the pre-activation values, as the activation's
        // own rule computes it.
        let grad = grad.zip3_map(f.name(), values.input(2), values.output(), |g, x, y| {
            g * f.derivative(x, y)
        });
        linear_backward(values, grad, grads, 3);
    }
}

/// Gradients of `x W^T + b` given the gradient at its output; the bias,
/// if present, is input `bias`.
fn linear_backward(values: &OpValues<'_>, grad: Tensor, grads: &mut InputGrads<'_>, bias: usize) {
    let (x, w) = (values.input(0), values.input(1));
    if grads.wanted(0) {
        grads.add(0, grad.matmul(w));
    }
    if grads.wanted(1) {
        grads.add(1, grad.t_matmul(x));
    }
    if values.len() > bias {
        grads.add(bias, grad);
    }
}
