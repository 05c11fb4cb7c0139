//! Activations as modules, for use in [`crate::Sequential`]. As functions they
//! are methods on `Var` (`x.relu()`, `x.gelu()`, ...).

use descent_autograd::Var;

use crate::module::Module;

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, |$x:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Module for $name {
            fn forward<'t>(&self, $x: Var<'t>) -> Var<'t> {
                $body
            }
        }
    };
}

activation!(
    /// `max(x, 0)`.
    ReLU, |x| x.relu());
activation!(
    /// The logistic sigmoid.
    Sigmoid, |x| x.sigmoid());
activation!(
    /// Hyperbolic tangent.
    Tanh, |x| x.tanh());
activation!(
    /// GELU, exact erf form (PyTorch's default).
    GELU, |x| x.gelu());
activation!(
    /// Passes its input through unchanged.
    Identity, |x| x);

/// `x` for positive `x`, else `slope * x` (PyTorch default slope 0.01).
#[derive(Clone, Copy, Debug)]
pub struct LeakyReLU(pub f32);

impl Default for LeakyReLU {
    fn default() -> LeakyReLU {
        LeakyReLU(0.01)
    }
}

impl Module for LeakyReLU {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        x.leaky_relu(self.0)
    }
}

/// `x` for positive `x`, else `alpha * (e^x - 1)` (PyTorch default alpha 1).
#[derive(Clone, Copy, Debug)]
pub struct ELU(pub f32);

impl Default for ELU {
    fn default() -> ELU {
        ELU(1.0)
    }
}

impl Module for ELU {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        x.elu(self.0)
    }
}

/// Softmax along an axis (PyTorch's `dim`), usually `-1`.
#[derive(Clone, Copy, Debug)]
pub struct Softmax(pub isize);

impl Module for Softmax {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        x.softmax(self.0)
    }
}

/// Log-softmax along an axis, usually `-1`.
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax(pub isize);

impl Module for LogSoftmax {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        x.log_softmax(self.0)
    }
}
