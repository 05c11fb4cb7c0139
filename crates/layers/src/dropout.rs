//! Dropout: zeroes random elements while training, nothing in evaluation.

use std::sync::atomic::{AtomicBool, Ordering};

use descent_autograd::Var;
use descent_autograd::parking_lot::Mutex;
use descent_tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::module::Module;

/// Zeroes each element with probability `p` in training mode and scales the
/// rest by `1 / (1 - p)` (inverted dropout, as PyTorch); the identity in
/// evaluation mode and on a `Tape::eval` tape. Seeded, so runs are
/// reproducible.
#[derive(Debug)]
pub struct Dropout {
    p: f32,
    training: AtomicBool,
    rng: Mutex<StdRng>,
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
            training: AtomicBool::new(true),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }
}

impl Module for Dropout {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        if !self.is_training() || x.tape().is_evaluating() || self.p == 0.0 {
            return x;
        }
        let keep = 1.0 - self.p;
        let shape = x.shape();
        let mask = {
            let mut rng = self.rng.lock();
            Tensor::from_iter(
                shape,
                std::iter::repeat_with(|| {
                    if rng.random::<f32>() < keep {
                        1.0 / keep
                    } else {
                        0.0
                    }
                }),
            )
        };
        x * x.tape().constant(mask)
    }

    fn set_training(&self, training: bool) {
        self.training.store(training, Ordering::Relaxed);
    }

    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }

    fn describe(&self) -> String {
        format!("Dropout(p={})", self.p)
    }
}
