//! RAdam: Adam with a rectified adaptive learning rate, plain momentum SGD
//! while the variance estimate is unreliable, as `torch.optim.RAdam`.

use descent_io::CheckpointError;

use crate::adam::check_betas_and_eps;
use crate::builder::builder_methods;
use crate::error::OptimError;
use crate::rule::{UpdateRule, effective_grad, flag, lerp};
use crate::state::{ParamState, StateReader, StateWriter};
use crate::weight_decay::WeightDecay;

/// RAdam options. Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999),
/// eps 1e-8, L2 weight decay 0, minimize.
#[derive(Clone, Debug, PartialEq)]
pub struct RAdam {
    lr: f64,
    /// Decay rates of the moment estimates.
    pub betas: (f64, f64),
    /// Added to the denominator.
    pub eps: f64,
    /// Weight decay, L2 or decoupled (PyTorch's `decoupled_weight_decay`).
    pub weight_decay: WeightDecay,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl RAdam {
    /// RAdam with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> RAdam {
        RAdam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: WeightDecay::L2(0.0),
            maximize: false,
        }
    }
}

impl Default for RAdam {
    fn default() -> RAdam {
        RAdam::new(1e-3)
    }
}

builder_methods!(RAdam {
    betas: (f64, f64),
    eps: f64,
    weight_decay: WeightDecay,
    maximize: bool,
});

/// RAdam's state, with PyTorch's names.
#[derive(Clone, Debug, PartialEq)]
pub struct RAdamState {
    /// The first moment estimate `m`.
    pub exp_avg: Vec<f32>,
    /// The second moment estimate `v`.
    pub exp_avg_sq: Vec<f32>,
}

impl ParamState for RAdamState {
    fn save(&self, out: &mut StateWriter<'_>) {
        out.buffer("exp_avg", &self.exp_avg);
        out.buffer("exp_avg_sq", &self.exp_avg_sq);
    }

    fn load(saved: &StateReader<'_>) -> Result<RAdamState, CheckpointError> {
        Ok(RAdamState {
            exp_avg: saved.buffer("exp_avg")?,
            exp_avg_sq: saved.buffer("exp_avg_sq")?,
        })
    }
}

impl UpdateRule for RAdam {
    type State = RAdamState;
    const KIND: &'static str = "RAdam";

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        check_betas_and_eps(self.betas, self.eps)?;
        self.weight_decay.validate()
    }

    fn options(&self) -> Vec<(&'static str, f64)> {
        let mut options = vec![
            ("beta2", self.betas.1),
            ("eps", self.eps),
            ("maximize", flag(self.maximize)),
        ];
        options.extend(self.weight_decay.options());
        options
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.betas.0)
    }

    fn set_momentum(&mut self, beta1: f64) {
        self.betas.0 = beta1;
    }

    fn init(&self, param: &[f32]) -> RAdamState {
        RAdamState {
            exp_avg: vec![0.0; param.len()],
            exp_avg_sq: vec![0.0; param.len()],
        }
    }

    fn update(&self, lr: f64, step: u64, param: &mut [f32], grad: &[f32], state: &mut RAdamState) {
        let t = step as f64;
        let (b1, b2) = self.betas;
        let bias_correction1 = (1.0 - b1.powf(t)) as f32;
        let bias_correction2 = 1.0 - b2.powf(t);
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * b2.powf(t) / bias_correction2;
        let rectified = (rho_t > 5.0).then(|| {
            let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt();
            (rect as f32, bias_correction2.sqrt() as f32)
        });
        let (l2, eps) = (self.weight_decay.l2(), self.eps as f32);
        let (w1, b2, w2) = ((1.0 - b1) as f32, b2 as f32, (1.0 - b2) as f32);
        self.weight_decay.decouple(lr, param);
        let lr = lr as f32;
        let (m, v) = (&mut state.exp_avg, &mut state.exp_avg_sq);
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = effective_grad(g, *p, self.maximize, l2);
            m[i] = lerp(m[i], g, w1);
            v[i] = v[i] * b2 + w2 * g * g;
            let corrected = m[i] / bias_correction1;
            let step = match rectified {
                Some((rect, bc2_sqrt)) => corrected * lr * (bc2_sqrt / (v[i].sqrt() + eps)) * rect,
                None => corrected * lr,
            };
            *p += -step;
        }
    }
}
