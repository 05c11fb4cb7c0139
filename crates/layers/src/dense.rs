//! The fully connected layer.

use descent_autograd::{Activation, Param, Var};
use rand::Rng;

use crate::init::{Init, uniform};
use crate::module::{Module, ParamVisitor};

/// `y = x W^T + b`, with `W` stored `[out, in]` as PyTorch's `nn.Linear`, so
/// parameter names, shapes and checkpoints line up with PyTorch's.
///
/// An activation given with [`Dense::with_activation`] (Keras'
/// `Dense(128, activation="relu")`) is applied in the same op, one pass
/// over the product with the bias: faster than a separate activation layer,
/// with the same values. A [`crate::Sequential`] fuses a `Dense` followed by
/// an [`Activation`] layer the same way, so PyTorch-style models get the
/// speed too.
#[derive(Debug)]
pub struct Dense {
    weight: Param,
    bias: Option<Param>,
    activation: Option<Activation>,
}

impl Dense {
    /// A layer with bias and PyTorch's default initialization.
    pub fn new<R: Rng + ?Sized>(inputs: usize, outputs: usize, rng: &mut R) -> Dense {
        Dense::with_init(inputs, outputs, Init::PyTorchDefault, true, rng)
    }

    /// A layer with the given weight initialization, with or without bias.
    /// The bias, when present, is initialized as PyTorch does:
    /// uniform in `+-1/sqrt(inputs)`, or zeros for a layer without inputs.
    pub fn with_init<R: Rng + ?Sized>(
        inputs: usize,
        outputs: usize,
        init: Init,
        bias: bool,
        rng: &mut R,
    ) -> Dense {
        let weight = Param::new(init.weight(inputs, outputs, rng));
        let bound = if inputs > 0 {
            1.0 / (inputs as f32).sqrt()
        } else {
            0.0
        };
        let bias = bias.then(|| Param::new(uniform([outputs], bound, rng)));
        Dense {
            weight,
            bias,
            activation: None,
        }
    }

    /// The same layer followed by `activation`, fused into its op. In a
    /// [`crate::Sequential`] the activation takes a position of its own, as
    /// in PyTorch's `Linear, ReLU, Linear`, so parameter names match
    /// PyTorch's (`0.weight`, `2.weight`).
    ///
    /// ```
    /// use descent_autograd::Activation;
    /// use descent_layers::{Dense, Module, Sequential};
    /// use descent_tensor::seeded_rng;
    ///
    /// let mut rng = seeded_rng(0);
    /// let model = Sequential::new()
    ///     .push(Dense::new(784, 128, &mut rng).with_activation(Activation::Relu))
    ///     .push(Dense::new(128, 10, &mut rng));
    /// assert_eq!(model.num_parameters(), 784 * 128 + 128 + 128 * 10 + 10);
    /// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    /// ```
    pub fn with_activation(mut self, activation: Activation) -> Dense {
        self.activation = Some(activation);
        self
    }

    /// The activation applied after the bias, if any.
    pub fn activation(&self) -> Option<Activation> {
        self.activation
    }

    /// Another handle on the same parameters with `activation` (none for
    /// `None`): how a `Sequential` splits and fuses layers. Not public, as a
    /// public `Clone` would read as a deep copy.
    pub(crate) fn share_with_activation(&self, activation: Option<Activation>) -> Dense {
        Dense {
            weight: self.weight.clone(),
            bias: self.bias.clone(),
            activation,
        }
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
        let weight = tape.param(&self.weight);
        let bias = self.bias.as_ref().map(|b| tape.param(b));
        match self.activation {
            Some(activation) => input.linear_activation(weight, bias, activation),
            None => input.linear(weight, bias),
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
        let activation = self
            .activation
            .map_or(String::new(), |a| format!(", {}", a.name()));
        format!("Dense({} -> {}{activation})", shape.dim(1), shape.dim(0))
    }
}
