//! The element-wise activations as one value, [`Activation`]: what a layer
//! stores, what `Var::activation` applies, and what the fused linear op
//! folds into its bias pass.

use crate::tape::Var;

/// An element-wise activation function, with PyTorch's definitions.
///
/// ```
/// use descent_autograd::{Activation, Tape};
/// use descent_tensor::Tensor;
///
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::from([-2.0, 0.5]));
/// assert_eq!(x.activation(Activation::Relu).value().to_vec(), vec![0.0, 0.5]);
/// assert_eq!(Activation::LeakyRelu(0.1).name(), "leaky_relu");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `max(x, 0)`; NaN stays NaN.
    Relu,
    /// `x` for positive `x`, else `slope * x` (PyTorch's default slope is 0.01).
    LeakyRelu(f32),
    /// `x` for positive `x`, else `alpha * (e^x - 1)` (PyTorch's default alpha is 1).
    Elu(f32),
    /// The logistic sigmoid.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// GELU, exact erf form (PyTorch's default).
    Gelu,
    /// `ln(1 + e^x)`.
    Softplus,
}

/// Evaluates `$body` with `$op` bound to the [`crate::UnaryOp`] of an
/// [`Activation`]: the one place that maps the enum to its ops, so generic
/// code (the fused linear kernel) is monomorphized per activation.
macro_rules! with_unary_op {
    ($activation:expr, $op:ident => $body:expr) => {
        match $activation {
            $crate::Activation::Relu => {
                let $op = $crate::ops::unary::Relu;
                $body
            }
            $crate::Activation::LeakyRelu(slope) => {
                let $op = $crate::ops::unary::LeakyRelu(slope);
                $body
            }
            $crate::Activation::Elu(alpha) => {
                let $op = $crate::ops::unary::Elu(alpha);
                $body
            }
            $crate::Activation::Sigmoid => {
                let $op = $crate::ops::unary::Sigmoid;
                $body
            }
            $crate::Activation::Tanh => {
                let $op = $crate::ops::unary::Tanh;
                $body
            }
            $crate::Activation::Gelu => {
                let $op = $crate::ops::unary::Gelu;
                $body
            }
            $crate::Activation::Softplus => {
                let $op = $crate::ops::unary::Softplus;
                $body
            }
        }
    };
}
pub(crate) use with_unary_op;

impl Activation {
    /// The activation's name, as its `Var` method is called.
    pub fn name(self) -> &'static str {
        use crate::UnaryOp;
        with_unary_op!(self, op => op.name())
    }
}

impl<'t> Var<'t> {
    /// Applies an [`Activation`].
    pub fn activation(self, activation: Activation) -> Var<'t> {
        with_unary_op!(activation, op => self.unary(op))
    }
}
