//! Stochastic gradient descent with momentum, dampening, Nesterov momentum,
//! weight decay and maximize, as `torch.optim.SGD`.
//!
//! Batch, stochastic and mini-batch gradient descent are all this one rule:
//! what differs is how many samples the gradient is averaged over, which the
//! data loader's batch size decides.
//!
//! Momentum as many course notes write it, `v = g v + lr grad; theta -= v`,
//! is PyTorch's `b = mu b + grad; theta -= lr b` with `v = lr b`: the same
//! trajectory while the learning rate is constant. They differ when a
//! scheduler changes the learning rate: the course form keeps momentum
//! already scaled by old learning rates, PyTorch's form rescales the whole
//! buffer by the new one. This crate uses PyTorch's form.

use crate::rule::{ParamState, UpdateRule, check, check_lr_and_decay, decayed};

/// SGD options. `Sgd::new(lr)` gives PyTorch's defaults: no momentum,
/// dampening 0, no weight decay, no Nesterov, minimize.
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate (required).
    pub lr: f64,
    /// Momentum factor `mu`.
    pub momentum: f64,
    /// Dampening of the gradient added to the momentum buffer.
    pub dampening: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum (needs momentum > 0 and dampening 0).
    pub nesterov: bool,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f64) -> Sgd {
        Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }

    /// With momentum factor `mu`.
    pub fn momentum(mut self, mu: f64) -> Sgd {
        self.momentum = mu;
        self
    }

    /// With dampening.
    pub fn dampening(mut self, dampening: f64) -> Sgd {
        self.dampening = dampening;
        self
    }

    /// With Nesterov momentum.
    pub fn nesterov(mut self, nesterov: bool) -> Sgd {
        self.nesterov = nesterov;
        self
    }

    /// With L2 weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Sgd {
        self.weight_decay = weight_decay;
        self
    }

    /// Maximizing instead of minimizing.
    pub fn maximize(mut self, maximize: bool) -> Sgd {
        self.maximize = maximize;
        self
    }
}

impl UpdateRule for Sgd {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn buffers(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum_buffer"]
        } else {
            &[]
        }
    }

    fn validate(&self) -> Result<(), String> {
        check_lr_and_decay(self.lr, self.weight_decay)?;
        check("momentum", self.momentum, self.momentum >= 0.0, ">= 0")?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(format!(
                "invalid nesterov: needs momentum > 0 and dampening 0, got momentum {} and dampening {}",
                self.momentum, self.dampening
            ));
        }
        Ok(())
    }

    fn update(&self, param: &mut [f32], grad: &[f32], state: &mut ParamState) {
        let (lr, mu, wd) = (
            self.lr as f32,
            self.momentum as f32,
            self.weight_decay as f32,
        );
        let keep = 1.0 - self.dampening as f32;
        let first = state.step == 1;
        let mut no_buffer = Vec::new();
        let buffer = state.buffers.first_mut().unwrap_or(&mut no_buffer);
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = if self.maximize { -g } else { g };
            let mut g = decayed(g, *p, wd);
            if mu != 0.0 {
                let b = &mut buffer[i];
                *b = if first { g } else { *b * mu + keep * g };
                g = if self.nesterov { g + mu * *b } else { *b };
            }
            *p += -lr * g;
        }
    }
}
