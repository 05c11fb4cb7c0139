//! Flattening a range of dimensions into one.

use descent_autograd::Var;

use crate::module::Module;

/// Merges the dimensions `start_dim..=end_dim` into one, as PyTorch's
/// `nn.Flatten`, whose default (dimension 1 to the last) turns
/// `[batch, channels, h, w]` into `[batch, channels * h * w]` for a
/// following `Dense` layer. Negative dimensions count from the end.
///
/// ```
/// use descent_layers::{Flatten, Module};
/// use descent_autograd::Tape;
/// use descent_tensor::Tensor;
///
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::zeros([64, 32, 7, 7]));
/// assert_eq!(Flatten::new().forward(x).shape().dims(), &[64, 1568]);
/// assert_eq!(Flatten::with_dims(0, 1).forward(x).shape().dims(), &[2048, 7, 7]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Flatten {
    start_dim: isize,
    end_dim: isize,
}

impl Default for Flatten {
    fn default() -> Flatten {
        Flatten::new()
    }
}

impl Flatten {
    /// Flattens every dimension but the first (the batch).
    pub fn new() -> Flatten {
        Flatten::with_dims(1, -1)
    }

    /// Flattens dimensions `start_dim..=end_dim`.
    pub fn with_dims(start_dim: isize, end_dim: isize) -> Flatten {
        Flatten { start_dim, end_dim }
    }
}

impl Module for Flatten {
    /// # Panics
    /// If a dimension is out of range or `start_dim` comes after `end_dim`.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        let shape = input.shape();
        let start = shape.axis("Flatten", self.start_dim);
        let end = shape.axis("Flatten", self.end_dim);
        assert!(
            start <= end,
            "Flatten: start_dim {} comes after end_dim {} for shape {shape:?}",
            self.start_dim,
            self.end_dim
        );
        let dims = shape.dims();
        let mut flat = dims[..start].to_vec();
        flat.push(dims[start..=end].iter().product());
        flat.extend_from_slice(&dims[end + 1..]);
        input.reshape(flat)
    }

    fn describe(&self) -> String {
        format!(
            "Flatten(start_dim={}, end_dim={})",
            self.start_dim, self.end_dim
        )
    }
}
