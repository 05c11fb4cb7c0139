//! Activations as layers: the [`Activation`] enum is a module, so
//! `Sequential::new().push(Dense::new(..)).push(Activation::Relu)` reads as
//! PyTorch's `nn.Sequential(nn.Linear(..), nn.ReLU())`. As functions they are
//! methods on `Var` (`x.relu()`, `x.gelu()`, `x.activation(a)`).

use descent_autograd::{Activation, Var};

use crate::module::Module;

impl Module for Activation {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        x.activation(*self)
    }

    fn describe(&self) -> String {
        match self {
            Activation::LeakyRelu(slope) => format!("LeakyRelu({slope})"),
            Activation::Elu(alpha) => format!("Elu({alpha})"),
            other => format!("{other:?}"),
        }
    }
}

/// Passes its input through unchanged (PyTorch's `nn.Identity`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl Module for Identity {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        x
    }
}

/// Softmax along an axis (PyTorch's `nn.Softmax(dim)`), usually `-1`.
#[derive(Clone, Copy, Debug)]
pub struct Softmax(pub isize);

impl Module for Softmax {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        x.softmax(self.0)
    }
}

/// Log-softmax along an axis (PyTorch's `nn.LogSoftmax(dim)`), usually `-1`.
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax(pub isize);

impl Module for LogSoftmax {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        x.log_softmax(self.0)
    }
}
