//! The fully connected layer.

use descent_autograd::{Param, Var};
use rand::Rng;

use crate::init::{Init, uniform};
use crate::module::{Module, ParamVisitor};

/// `y = x W^T + b`, with `W` stored `[out, in]` as PyTorch's `nn.Linear`, so
/// parameter names, shapes and checkpoints line up with PyTorch's.
pub struct Dense {
    weight: Param,
    bias: Option<Param>,
}

impl Dense {
    /// A layer with bias and PyTorch's default initialization.
    pub fn new<R: Rng + ?Sized>(inputs: usize, outputs: usize, rng: &mut R) -> Dense {
        Dense::with_init(inputs, outputs, Init::PyTorchDefault, true, rng)
    }

    /// A layer with the given weight initialization, with or without bias.
    /// The bias, when present, is initialized as PyTorch does:
    /// uniform in `+-1/sqrt(inputs)`.
    pub fn with_init<R: Rng + ?Sized>(
        inputs: usize,
        outputs: usize,
        init: Init,
        bias: bool,
        rng: &mut R,
    ) -> Dense {
        let weight = Param::new(init.weight(inputs, outputs, rng));
        let bias = bias.then(|| Param::new(uniform([outputs], 1.0 / (inputs as f32).sqrt(), rng)));
        Dense { weight, bias }
    }

    /// The weight, `[outputs, inputs]`.
    pub fn weight(&self) -> &Param {
        &self.weight
    }

    /// The bias, `[outputs]`, if the layer has one.
    pub fn bias(&self) -> Option<&Param> {
        self.bias.as_ref()
    }
}

impl Module for Dense {
    /// # Panics
    /// If the input's last dimension differs from the layer's input size.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        let tape = input.tape();
        let product = input.matmul_t(tape.param(&self.weight));
        match &self.bias {
            Some(bias) => product + tape.param(bias),
            None => product,
        }
    }

    fn visit_params(&self, visitor: &mut ParamVisitor<'_>) {
        visitor.param("weight", &self.weight);
        if let Some(bias) = &self.bias {
            visitor.param("bias", bias);
        }
    }

    fn describe(&self) -> String {
        let shape = self.weight.shape();
        format!("Dense({} -> {})", shape.dim(1), shape.dim(0))
    }
}
