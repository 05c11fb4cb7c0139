//! Adam and AdamW, following PyTorch's single-tensor implementation (moment
//! updates with `lerp` and `addcmul`, bias corrections computed in f64), in
//! one branch-free loop per configuration so that each vectorizes.

use crate::check;
use crate::options::rule_options;
use crate::rule::{UpdateRule, lerp};
use crate::state::param_state;
use crate::weight_decay::WeightDecay;
use crate::wide::widest;

rule_options! {
    /// Adam. Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
    /// L2 weight decay 0, no AMSGrad, minimize. [`AdamW`] is Adam with
    /// decoupled weight decay.
    pub struct Adam ["Adam", lr 1e-3, momentum betas] {
        /// Decay rates of the first and second moment estimates.
        betas: (f64, f64) = (0.9, 0.999) => check::betas,
        /// Added to the denominator.
        eps: f64 = 1e-8 => check::non_negative,
        /// Weight decay, L2 or decoupled.
        weight_decay: WeightDecay = WeightDecay::L2(0.0) => WeightDecay::check,
        /// Use the running maximum of the second moment (AMSGrad).
        amsgrad: bool = false => check::flag,
    }
}

/// AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay 0.01, as
/// PyTorch defines it (its AdamW is Adam with `decoupled_weight_decay`).
/// `AdamW::new(lr)` builds that [`Adam`]; PyTorch's default lr is 1e-3.
///
/// ```
/// use descent_optim::{AdamW, WeightDecay};
///
/// let adamw = AdamW::new(1e-3);
/// assert_eq!(adamw.weight_decay, WeightDecay::Decoupled(0.01));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AdamW;

impl AdamW {
    /// Adam with learning rate `lr`, decoupled weight decay 0.01 and
    /// PyTorch's other defaults.
    #[allow(clippy::new_ret_no_self)] // AdamW is Adam with other defaults
    pub fn new(lr: f64) -> Adam {
        Adam::new(lr).weight_decay(WeightDecay::Decoupled(0.01))
    }
}

param_state! {
    /// Adam's state, with PyTorch's names.
    pub struct AdamState {
        /// The first moment estimate `m`.
        exp_avg: Vec<f32>,
        /// The second moment estimate `v`.
        exp_avg_sq: Vec<f32>,
        /// The running maximum of `v`, kept once AMSGrad is on.
        max_exp_avg_sq: Option<Vec<f32>>,
    }
}

/// The moment updates of the Adam family, PyTorch's
/// `exp_avg.lerp_(grad, 1 - beta1)` and
/// `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)`, with the
/// coefficients computed in f64 and rounded once.
pub(crate) struct Moments {
    w1: f32,
    b2: f32,
    w2: f32,
}

impl Moments {
    pub(crate) fn new((b1, b2): (f64, f64)) -> Moments {
        Moments {
            w1: (1.0 - b1) as f32,
            b2: b2 as f32,
            w2: (1.0 - b2) as f32,
        }
    }

    /// Moves the moments `m` and `v` towards the gradient `g`.
    pub(crate) fn update(&self, g: f32, m: &mut f32, v: &mut f32) {
        *m = lerp(*m, g, self.w1);
        *v = *v * self.b2 + self.w2 * g * g;
    }
}

impl UpdateRule for Adam {
    type State = AdamState;

    fn update(&self, lr: f64, step: u64, param: &mut [f32], grad: &[f32], state: &mut AdamState) {
        let t = i32::try_from(step).unwrap_or(i32::MAX);
        let (b1, b2) = self.betas;
        self.weight_decay.decouple(lr, param);
        let c = AdamConstants {
            sign: if self.maximize { -1.0 } else { 1.0 },
            step_size: (lr / (1.0 - b1.powi(t))) as f32,
            bias_correction2_sqrt: (1.0 - b2.powi(t)).sqrt() as f32,
            eps: self.eps as f32,
            l2: self.weight_decay.l2(),
            w1: (1.0 - b1) as f32,
            b2: b2 as f32,
            w2: (1.0 - b2) as f32,
        };
        let (m, v) = (&mut state.exp_avg[..], &mut state.exp_avg_sq[..]);
        let v_max: &mut [f32] = if self.amsgrad {
            state
                .max_exp_avg_sq
                .get_or_insert_with(|| vec![0.0; param.len()])
        } else {
            &mut []
        };
        // The whole match goes into the wide copy: one feature check per
        // parameter.
        widest(
            #[inline(always)]
            || match (self.amsgrad, c.l2 != 0.0, c.w1 < 0.5) {
                (false, false, true) => {
                    adam_pass::<false, false, true>(&c, param, grad, m, v, v_max)
                }
                (false, false, false) => {
                    adam_pass::<false, false, false>(&c, param, grad, m, v, v_max)
                }
                (false, true, true) => adam_pass::<false, true, true>(&c, param, grad, m, v, v_max),
                (false, true, false) => {
                    adam_pass::<false, true, false>(&c, param, grad, m, v, v_max)
                }
                (true, false, true) => adam_pass::<true, false, true>(&c, param, grad, m, v, v_max),
                (true, false, false) => {
                    adam_pass::<true, false, false>(&c, param, grad, m, v, v_max)
                }
                (true, true, true) => adam_pass::<true, true, true>(&c, param, grad, m, v, v_max),
                (true, true, false) => adam_pass::<true, true, false>(&c, param, grad, m, v, v_max),
            },
        );
    }
}

/// Zero for subnormal values. Weights that never get a gradient (MNIST's
/// blank border pixels) see their moments decay geometrically into the
/// subnormal range, where every operation takes a slow path: epochs of the
/// flagship MLP slowed from 0.035 to 0.055 s. Flushing cannot change the
/// update: `sqrt(v) < 1.1e-19` vanishes next to `eps`, and `m` contributes
/// about 1e-34 to a weight. PyTorch's CPU Adam does not flush, so only the
/// moment buffers, never the parameters, can differ from it.
#[inline]
fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}

/// The per-step scalars of an Adam update.
struct AdamConstants {
    /// -1 to maximize, else 1: multiplying by it is exact.
    sign: f32,
    step_size: f32,
    bias_correction2_sqrt: f32,
    eps: f32,
    l2: f32,
    w1: f32,
    b2: f32,
    w2: f32,
}

/// The element loop of Adam for one configuration: AMSGrad or not, L2 weight
/// decay or not, and which of PyTorch's two `lerp` forms `1 - beta1` selects.
#[inline(always)]
fn adam_pass<const AMSGRAD: bool, const L2: bool, const SMALL_WEIGHT: bool>(
    c: &AdamConstants,
    param: &mut [f32],
    grad: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    v_max: &mut [f32],
) {
    let n = param.len();
    let (grad, m, v) = (&grad[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let g = if L2 {
            grad[i] * c.sign + c.l2 * param[i]
        } else {
            grad[i] * c.sign
        };
        m[i] = flush_subnormal(if SMALL_WEIGHT {
            m[i] + c.w1 * (g - m[i])
        } else {
            g - (g - m[i]) * (1.0 - c.w1)
        });
        v[i] = flush_subnormal(v[i] * c.b2 + c.w2 * g * g);
        let second = if AMSGRAD {
            v_max[i] = v_max[i].max(v[i]);
            v_max[i]
        } else {
            v[i]
        };
        let denom = second.sqrt() / c.bias_correction2_sqrt + c.eps;
        param[i] += -c.step_size * m[i] / denom;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values spanning signs and magnitudes, some subnormal.
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let exponent = (x % 140) as i32 - 130;
                let sign = if x & 1 == 0 { 1.0 } else { -1.0 };
                sign * 2f32.powi(exponent) * (1.0 + (x >> 8) as f32 / (1u32 << 24) as f32)
            })
            .collect()
    }

    #[test]
    fn the_wide_copy_gives_the_bits_of_the_baseline_loop() {
        let c = AdamConstants {
            sign: 1.0,
            step_size: 1e-3 / (1.0 - 0.9f32),
            bias_correction2_sqrt: (1.0f32 - 0.999).sqrt(),
            eps: 1e-8,
            l2: 0.01,
            w1: 0.1,
            b2: 0.999,
            w2: 0.001,
        };
        // Every tail length of an 8-lane loop, and some full blocks.
        for n in 0..40 {
            let grad = values(n, 1);
            let start = [
                values(n, 2),
                values(n, 3),
                values(n, 4).iter().map(|v| v.abs()).collect(),
            ];
            let run = |wide: bool| {
                let [mut p, mut m, mut v] = start.clone();
                let mut v_max = vec![0.0; n];
                let mut pass =
                    || adam_pass::<true, true, true>(&c, &mut p, &grad, &mut m, &mut v, &mut v_max);
                if wide {
                    widest(pass)
                } else {
                    pass()
                }
                [p, m, v, v_max].map(|x| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            };
            assert_eq!(run(true), run(false), "{n} elements");
        }
    }
}
