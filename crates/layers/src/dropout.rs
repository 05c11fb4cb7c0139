//! Dropout: zeroes random elements while training, nothing in evaluation.

use std::cell::{Cell, RefCell};

use descent_autograd::Var;
use descent_tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::module::Module;

/// Zeroes each element with probability `p` in training mode and scales the
/// rest by `1 / (1 - p)` (inverted dropout, as PyTorch); the identity in
/// evaluation mode. Seeded, so runs are reproducible.
pub struct Dropout {
    p: f32,
    training: Cell<bool>,
    rng: RefCell<StdRng>,
}

impl Dropout {
    /// Dropout with probability `p`, starting in training mode.
    ///
    /// # Panics
    /// If `p` is not in `[0, 1)`.
    pub fn new(p: f32, seed: u64) -> Dropout {
        assert!(
            (0.0..1.0).contains(&p),
            "Dropout: probability {p} is not in [0, 1)"
        );
        Dropout {
            p,
            training: Cell::new(true),
            rng: RefCell::new(StdRng::seed_from_u64(seed)),
        }
    }
}

impl Module for Dropout {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        if !self.training.get() || self.p == 0.0 {
            return x;
        }
        let keep = 1.0 - self.p;
        let mut rng = self.rng.borrow_mut();
        let shape = x.shape();
        let mask: Vec<f32> = (0..shape.numel())
            .map(|_| {
                if rng.random::<f32>() < keep {
                    1.0 / keep
                } else {
                    0.0
                }
            })
            .collect();
        x * x.tape().constant(Tensor::from_vec(mask, shape))
    }

    fn set_training(&self, training: bool) {
        self.training.set(training);
    }

    fn describe(&self) -> String {
        format!("Dropout(p={})", self.p)
    }
}
