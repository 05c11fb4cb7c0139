//! Embeddings: a learnable row per index.

use descent_autograd::{Param, Tape, Var};
use rand::Rng;

use crate::module::{Module, ParamVisitor};

/// A `[count, dim]` table whose rows are looked up by index, as PyTorch's
/// `nn.Embedding` (initialized from N(0, 1) like it). The backward pass
/// scatters gradient into the looked-up rows only: every other row gets an
/// exact zero, so plain SGD leaves unseen rows untouched.
#[derive(Debug)]
pub struct Embedding {
    weight: Param,
}

impl Embedding {
    /// `count` rows of width `dim`, drawn from N(0, 1).
    pub fn new<R: Rng + ?Sized>(count: usize, dim: usize, rng: &mut R) -> Embedding {
        Embedding::with_std(count, dim, 1.0, rng)
    }

    /// `count` rows of width `dim`, drawn from N(0, std^2).
    pub fn with_std<R: Rng + ?Sized>(count: usize, dim: usize, std: f32, rng: &mut R) -> Embedding {
        Embedding {
            weight: Param::new(descent_tensor::Tensor::rand_normal(
                [count, dim],
                0.0,
                std,
                rng,
            )),
        }
    }

    /// The table, `[count, dim]`.
    pub fn weight(&self) -> &Param {
        &self.weight
    }

    /// The rows at `indices`, `[indices.len(), dim]`.
    ///
    /// # Panics
    /// If an index is not below the number of rows.
    pub fn lookup<'t>(&self, tape: &'t Tape, indices: &[usize]) -> Var<'t> {
        let rows = self.weight.shape().dim(0);
        if let Some(bad) = indices.iter().find(|&&i| i >= rows) {
            panic!("Embedding: index {bad} is out of range for {rows} rows");
        }
        tape.param(&self.weight).index_select(0, indices)
    }
}

impl Module for Embedding {
    /// Looks up the rows named by a `[n]` input of indices stored as `f32`.
    ///
    /// # Panics
    /// If the input is not 1-D or holds a negative, fractional or
    /// out-of-range index.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        let values = input.value();
        assert_eq!(
            values.rank(),
            1,
            "Embedding: input must be [n] indices, got shape {:?}",
            values.shape()
        );
        let indices: Vec<usize> = values
            .data()
            .iter()
            .map(|&v| {
                assert!(
                    v >= 0.0 && v.fract() == 0.0,
                    "Embedding: {v} is not a valid index"
                );
                v as usize
            })
            .collect();
        self.lookup(input.tape(), &indices)
    }

    fn visit_params(&self, visitor: &mut ParamVisitor<'_>) {
        visitor.param("weight", &self.weight);
    }

    fn describe(&self) -> String {
        let shape = self.weight.shape();
        format!("Embedding({}, {})", shape.dim(0), shape.dim(1))
    }
}
