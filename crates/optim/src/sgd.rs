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

use descent_io::CheckpointError;

use crate::builder::builder_methods;
use crate::check;
use crate::error::OptimError;
use crate::rule::{UpdateRule, effective_grad, flag};
use crate::state::{ParamState, StateReader, StateWriter};

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
}

/// SGD options. `Sgd::new(lr)` gives PyTorch's defaults: no momentum,
/// dampening 0, no weight decay, minimize; `Sgd::default()` has PyTorch's
/// default learning rate 1e-3.
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    lr: f64,
    /// Momentum: none, classic or Nesterov.
    pub momentum: Momentum,
    /// Dampening of the gradient added to a classic momentum buffer (must be
    /// 0 with Nesterov momentum).
    pub dampening: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f64) -> Sgd {
        Sgd {
            lr,
            momentum: Momentum::None,
            dampening: 0.0,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

impl Default for Sgd {
    fn default() -> Sgd {
        Sgd::new(1e-3)
    }
}

builder_methods!(Sgd {
    momentum: Momentum,
    dampening: f64,
    weight_decay: f64,
    maximize: bool,
});

/// SGD's state: the momentum buffer, created on the first step with
/// momentum (PyTorch's `momentum_buffer`, which starts as the gradient).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SgdState {
    /// The momentum buffer `b`.
    pub momentum_buffer: Option<Vec<f32>>,
}

impl ParamState for SgdState {
    fn save(&self, out: &mut StateWriter<'_>) {
        out.optional_buffer("momentum_buffer", self.momentum_buffer.as_deref());
    }

    fn load(saved: &StateReader<'_>) -> Result<SgdState, CheckpointError> {
        Ok(SgdState {
            momentum_buffer: saved.optional_buffer("momentum_buffer")?,
        })
    }
}

impl UpdateRule for Sgd {
    type State = SgdState;
    const KIND: &'static str = "Sgd";

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::non_negative("momentum", self.momentum.factor())?;
        check::non_negative("dampening", self.dampening)?;
        check::non_negative("weight_decay", self.weight_decay)?;
        if let Momentum::Nesterov(mu) = self.momentum {
            check::positive("Nesterov momentum", mu)?;
            if self.dampening != 0.0 {
                return Err(OptimError::InvalidOption {
                    option: "dampening",
                    value: self.dampening,
                    expected: "0 with Nesterov momentum",
                });
            }
        }
        Ok(())
    }

    fn options(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("momentum_on", flag(self.momentum != Momentum::None)),
            (
                "nesterov",
                flag(matches!(self.momentum, Momentum::Nesterov(_))),
            ),
            ("dampening", self.dampening),
            ("weight_decay", self.weight_decay),
            ("maximize", flag(self.maximize)),
        ]
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.momentum.factor())
    }

    /// A factor other than 0 turns classic momentum on in plain SGD, as
    /// setting a PyTorch group's `momentum` does.
    fn set_momentum(&mut self, mu: f64) {
        self.momentum = match self.momentum {
            Momentum::Nesterov(_) => Momentum::Nesterov(mu),
            Momentum::None if mu == 0.0 => Momentum::None,
            Momentum::None | Momentum::Classic(_) => Momentum::Classic(mu),
        };
    }

    fn init(&self, _: &[f32]) -> SgdState {
        SgdState::default()
    }

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
