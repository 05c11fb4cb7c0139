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

use crate::check;
use crate::error::OptimError;
use crate::options::{Cycled, OptionValue, rule_options};
use crate::rule::{UpdateRule, effective_grad};
use crate::state::param_state;

/// SGD's momentum, one of three exclusive forms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Momentum {
    /// Plain gradient steps (PyTorch's `momentum=0`).
    None,
    /// Heavy-ball momentum with factor `mu`: `b = mu b + (1 - dampening) g`,
    /// step along `b`.
    Classic(f64),
    /// Nesterov momentum with factor `mu`: step along `g + mu b`.
    Nesterov(f64),
}

impl Momentum {
    /// The factor `mu`, 0 without momentum.
    pub fn factor(self) -> f64 {
        match self {
            Momentum::None => 0.0,
            Momentum::Classic(mu) | Momentum::Nesterov(mu) => mu,
        }
    }

    fn check(name: &'static str, momentum: Momentum) -> Result<(), OptimError> {
        match momentum {
            Momentum::Nesterov(mu) => check::positive("Nesterov momentum", mu),
            _ => check::non_negative(name, momentum.factor()),
        }
    }
}

/// Recorded as the factor and `{name}.nesterov`.
impl OptionValue for Momentum {
    fn record(&self, name: &str, out: &mut Vec<(String, f64)>) {
        self.factor().record(name, out);
        matches!(self, Momentum::Nesterov(_)).record(&format!("{name}.nesterov"), out);
    }
}

/// A factor other than 0 turns classic momentum on in plain SGD, as
/// setting a PyTorch group's `momentum` does.
impl Cycled for Momentum {
    fn momentum(&self) -> f64 {
        self.factor()
    }

    fn set_momentum(&mut self, mu: f64) {
        *self = match *self {
            Momentum::Nesterov(_) => Momentum::Nesterov(mu),
            Momentum::None if mu == 0.0 => Momentum::None,
            Momentum::None | Momentum::Classic(_) => Momentum::Classic(mu),
        };
    }
}

rule_options! {
    /// SGD options. `Sgd::new(lr)` gives PyTorch's defaults: no momentum,
    /// dampening 0, no weight decay, minimize; `Sgd::default()` has PyTorch's
    /// default learning rate 1e-3.
    pub struct Sgd ["Sgd", lr 1e-3, momentum momentum, check Sgd::check_nesterov] {
        /// Momentum: none, classic or Nesterov.
        momentum: Momentum = Momentum::None => Momentum::check,
        /// Dampening of the gradient added to a classic momentum buffer (must
        /// be 0 with Nesterov momentum).
        dampening: f64 = 0.0 => check::non_negative,
        /// L2 penalty added to the gradient.
        weight_decay: f64 = 0.0 => check::non_negative,
    }
}

impl Sgd {
    /// Nesterov momentum needs dampening 0, as PyTorch requires.
    fn check_nesterov(&self) -> Result<(), OptimError> {
        let nesterov = matches!(self.momentum, Momentum::Nesterov(_));
        check::holds(
            "dampening",
            self.dampening,
            !nesterov || self.dampening == 0.0,
            "0 with Nesterov momentum",
        )
    }
}

param_state! {
    /// SGD's state: the momentum buffer, created on the first step with
    /// momentum (PyTorch's `momentum_buffer`, which starts as the gradient).
    pub struct SgdState {
        /// The momentum buffer `b`.
        momentum_buffer: Option<Vec<f32>>,
    }
}

impl UpdateRule for Sgd {
    type State = SgdState;

    fn update(&self, lr: f64, _: u64, param: &mut [f32], grad: &[f32], state: &mut SgdState) {
        let (lr, wd) = (lr as f32, self.weight_decay as f32);
        let mu = self.momentum.factor() as f32;
        let nesterov = matches!(self.momentum, Momentum::Nesterov(_));
        let keep = (1.0 - self.dampening) as f32;
        // PyTorch's buffer starts as the first gradient it sees, whenever
        // momentum is turned on.
        let first = mu != 0.0 && state.momentum_buffer.is_none();
        let buffer: &mut [f32] = if mu != 0.0 {
            state
                .momentum_buffer
                .get_or_insert_with(|| vec![0.0; param.len()])
        } else {
            &mut []
        };
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = effective_grad(g, *p, self.maximize, wd);
            if mu != 0.0 {
                let b = &mut buffer[i];
                *b = if first { g } else { *b * mu + keep * g };
                g = if nesterov { g + mu * *b } else { *b };
            }
            *p += -lr * g;
        }
    }
}
