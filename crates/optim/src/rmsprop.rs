//! RMSprop: steps scaled by a running root-mean-square of gradients, as
//! `torch.optim.RMSprop`.

use descent_io::CheckpointError;

use crate::builder::builder_methods;
use crate::check;
use crate::error::OptimError;
use crate::rule::{UpdateRule, effective_grad, flag, lerp};
use crate::state::{ParamState, StateReader, StateWriter};

/// RMSprop options. Defaults are PyTorch's: lr 0.01, alpha 0.99, eps 1e-8,
/// weight_decay 0, momentum 0, not centered, minimize.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp {
    lr: f64,
    /// Smoothing constant of the squared-gradient average.
    pub alpha: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Momentum factor (0: none).
    pub momentum: f64,
    /// Normalize by the estimated variance instead of the raw second moment.
    pub centered: bool,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl RmsProp {
    /// RMSprop with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> RmsProp {
        RmsProp {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

impl Default for RmsProp {
    fn default() -> RmsProp {
        RmsProp::new(0.01)
    }
}

builder_methods!(RmsProp {
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    maximize: bool,
});

/// RMSprop's state, with PyTorch's names. The buffers an option needs are
/// created when the option is first used, so options may change at any time.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsPropState {
    /// The running average of squared gradients.
    pub square_avg: Vec<f32>,
    /// The momentum buffer, once momentum is on.
    pub momentum_buffer: Option<Vec<f32>>,
    /// The running average of gradients, once `centered` is on.
    pub grad_avg: Option<Vec<f32>>,
}

impl ParamState for RmsPropState {
    fn save(&self, out: &mut StateWriter<'_>) {
        out.buffer("square_avg", &self.square_avg);
        out.optional_buffer("momentum_buffer", self.momentum_buffer.as_deref());
        out.optional_buffer("grad_avg", self.grad_avg.as_deref());
    }

    fn load(saved: &StateReader<'_>) -> Result<RmsPropState, CheckpointError> {
        Ok(RmsPropState {
            square_avg: saved.buffer("square_avg")?,
            momentum_buffer: saved.optional_buffer("momentum_buffer")?,
            grad_avg: saved.optional_buffer("grad_avg")?,
        })
    }
}

impl UpdateRule for RmsProp {
    type State = RmsPropState;
    const KIND: &'static str = "RmsProp";

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::unit_interval("alpha", self.alpha)?;
        check::non_negative("eps", self.eps)?;
        check::non_negative("weight_decay", self.weight_decay)?;
        check::non_negative("momentum", self.momentum)
    }

    fn options(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("alpha", self.alpha),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
            ("momentum_on", flag(self.momentum > 0.0)),
            ("centered", flag(self.centered)),
            ("maximize", flag(self.maximize)),
        ]
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.momentum)
    }

    fn set_momentum(&mut self, momentum: f64) {
        self.momentum = momentum;
    }

    fn init(&self, param: &[f32]) -> RmsPropState {
        RmsPropState {
            square_avg: vec![0.0; param.len()],
            momentum_buffer: None,
            grad_avg: None,
        }
    }

    fn update(&self, lr: f64, _: u64, param: &mut [f32], grad: &[f32], state: &mut RmsPropState) {
        let n = param.len();
        let (lr, alpha, eps) = (lr as f32, self.alpha as f32, self.eps as f32);
        // `1 - alpha` in f64, as PyTorch computes it with Python floats.
        let weight = (1.0 - self.alpha) as f32;
        let (wd, mu) = (self.weight_decay as f32, self.momentum as f32);
        let square_avg = &mut state.square_avg;
        let mut buffer = (mu > 0.0).then(|| {
            state
                .momentum_buffer
                .get_or_insert_with(|| vec![0.0; n])
                .as_mut_slice()
        });
        let mut grad_avg = self.centered.then(|| {
            state
                .grad_avg
                .get_or_insert_with(|| vec![0.0; n])
                .as_mut_slice()
        });
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = effective_grad(g, *p, self.maximize, wd);
            let v = &mut square_avg[i];
            *v = *v * alpha + weight * g * g;
            let avg = match grad_avg.as_deref_mut() {
                Some(grad_avg) => {
                    let m = &mut grad_avg[i];
                    *m = lerp(*m, g, weight);
                    (*v + -1.0 * *m * *m).sqrt() + eps
                }
                None => v.sqrt() + eps,
            };
            if let Some(buffer) = buffer.as_deref_mut() {
                let b = &mut buffer[i];
                *b = *b * mu + g / avg;
                *p += -lr * *b;
            } else {
                *p += -lr * g / avg;
            }
        }
    }
}
