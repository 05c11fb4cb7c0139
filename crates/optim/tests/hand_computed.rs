//! Every optimizer and option against the documented update formula,
//! evaluated independently here in f64, for the first 5 steps of a fixed
//! problem with fixed gradients.

use descent_autograd::Param;
use descent_optim::*;
use descent_tensor::Tensor;

const THETA0: [f64; 3] = [1.0, -2.0, 0.5];

/// The gradient fed at step `t` (1-based): fixed, varied in sign and size.
fn gradient(t: usize) -> [f64; 3] {
    let t = t as f64;
    [0.3 - 0.1 * t, 0.5 / t, -0.2 * t * t + 0.4]
}

/// Runs 5 steps of `rule` and returns the parameter after each.
fn run(rule: impl UpdateRule) -> Vec<[f64; 3]> {
    run_steps(rule, 5)
}

fn run_steps(rule: impl UpdateRule, steps: usize) -> Vec<[f64; 3]> {
    let p = Param::new(Tensor::from(THETA0.map(|v| v as f32)));
    let mut opt = Optim::new([p.clone()], rule);
    (1..=steps)
        .map(|t| {
            p.accumulate_grad(Tensor::from(gradient(t).map(|v| v as f32)));
            opt.step();
            opt.zero_grad();
            let v = p.value().to_vec();
            [v[0] as f64, v[1] as f64, v[2] as f64]
        })
        .collect()
}

/// Runs 5 steps of a per-element reference `update(t, theta, g, state)`.
fn reference<S: Default + Clone>(
    update: impl FnMut(usize, &mut f64, f64, &mut S),
) -> Vec<[f64; 3]> {
    reference_steps(5, update)
}

fn reference_steps<S: Default + Clone>(
    steps: usize,
    mut update: impl FnMut(usize, &mut f64, f64, &mut S),
) -> Vec<[f64; 3]> {
    let mut theta = THETA0;
    let mut states = vec![S::default(); 3];
    (1..=steps)
        .map(|t| {
            let g = gradient(t);
            for i in 0..3 {
                update(t, &mut theta[i], g[i], &mut states[i]);
            }
            theta
        })
        .collect()
}

fn assert_matches(name: &str, got: Vec<[f64; 3]>, want: Vec<[f64; 3]>) {
    for (step, (g, w)) in got.iter().zip(&want).enumerate() {
        for i in 0..3 {
            let tolerance = 1e-6 + 2e-6 * w[i].abs();
            assert!(
                (g[i] - w[i]).abs() <= tolerance,
                "{name}: step {} element {i}: got {}, formula gives {}",
                step + 1,
                g[i],
                w[i]
            );
        }
    }
}

#[test]
fn sgd_variants() {
    let sgd = |lr: f64, mu: f64, damp: f64, wd: f64, nesterov: bool, maximize: bool| {
        reference(move |t, theta: &mut f64, g, b: &mut f64| {
            let mut g = if maximize { -g } else { g };
            g += wd * *theta;
            if mu != 0.0 {
                *b = if t > 1 { mu * *b + (1.0 - damp) * g } else { g };
                g = if nesterov { g + mu * *b } else { *b };
            }
            *theta -= lr * g;
        })
    };
    assert_matches(
        "sgd",
        run(Sgd::new(0.1)),
        sgd(0.1, 0.0, 0.0, 0.0, false, false),
    );
    assert_matches(
        "momentum",
        run(Sgd::new(0.1).momentum(Momentum::Classic(0.9))),
        sgd(0.1, 0.9, 0.0, 0.0, false, false),
    );
    assert_matches(
        "dampening",
        run(Sgd::new(0.1)
            .momentum(Momentum::Classic(0.9))
            .dampening(0.3)),
        sgd(0.1, 0.9, 0.3, 0.0, false, false),
    );
    assert_matches(
        "nesterov",
        run(Sgd::new(0.1).momentum(Momentum::Nesterov(0.9))),
        sgd(0.1, 0.9, 0.0, 0.0, true, false),
    );
    assert_matches(
        "weight decay",
        run(Sgd::new(0.1)
            .momentum(Momentum::Classic(0.5))
            .weight_decay(0.1)),
        sgd(0.1, 0.5, 0.0, 0.1, false, false),
    );
    assert_matches(
        "maximize",
        run(Sgd::new(0.1).maximize(true)),
        sgd(0.1, 0.0, 0.0, 0.0, false, true),
    );
}

#[test]
fn course_momentum_equals_pytorch_momentum_at_constant_lr() {
    // v = mu v + lr g; theta -= v  (the course notes' form)
    let (lr, mu) = (0.1, 0.9);
    let course = reference(move |_, theta: &mut f64, g, v: &mut f64| {
        *v = mu * *v + lr * g;
        *theta -= *v;
    });
    assert_matches(
        "course momentum",
        run(Sgd::new(lr).momentum(Momentum::Classic(mu))),
        course,
    );
}

#[test]
fn adagrad_variants() {
    let adagrad = |lr: f64, lr_decay: f64, wd: f64, init: f64, eps: f64| {
        reference(move |t, theta: &mut f64, g, sum: &mut Option<f64>| {
            let s = sum.get_or_insert(init);
            let clr = lr / (1.0 + (t - 1) as f64 * lr_decay);
            let g = g + wd * *theta;
            *s += g * g;
            *theta -= clr * g / (s.sqrt() + eps);
        })
    };
    assert_matches(
        "adagrad",
        run(Adagrad::default()),
        adagrad(0.01, 0.0, 0.0, 0.0, 1e-10),
    );
    let options = Adagrad::new(0.1)
        .lr_decay(0.05)
        .weight_decay(0.1)
        .initial_accumulator_value(0.2);
    assert_matches(
        "adagrad options",
        run(options),
        adagrad(0.1, 0.05, 0.1, 0.2, 1e-10),
    );
    // An eps as large as the accumulated roots, where its place in the
    // denominator shows.
    assert_matches(
        "adagrad eps",
        run(Adagrad::new(0.1).eps(0.5)),
        adagrad(0.1, 0.0, 0.0, 0.0, 0.5),
    );
}

#[derive(Clone, Default)]
struct Moments {
    m: f64,
    v: f64,
    extra: f64,
}

#[test]
fn rmsprop_variants() {
    let rmsprop = |lr: f64, alpha: f64, eps: f64, wd: f64, mu: f64, centered: bool| {
        reference(move |_, theta: &mut f64, g, s: &mut Moments| {
            let g = g + wd * *theta;
            s.v = alpha * s.v + (1.0 - alpha) * g * g;
            let mut v_tilde = s.v;
            if centered {
                s.m = alpha * s.m + (1.0 - alpha) * g;
                v_tilde -= s.m * s.m;
            }
            if mu > 0.0 {
                s.extra = mu * s.extra + g / (v_tilde.sqrt() + eps);
                *theta -= lr * s.extra;
            } else {
                *theta -= lr * g / (v_tilde.sqrt() + eps);
            }
        })
    };
    assert_matches(
        "rmsprop",
        run(RmsProp::default()),
        rmsprop(0.01, 0.99, 1e-8, 0.0, 0.0, false),
    );
    let options = |momentum, centered| {
        RmsProp::new(0.01)
            .alpha(0.9)
            .weight_decay(0.1)
            .momentum(momentum)
            .centered(centered)
    };
    assert_matches(
        "rmsprop momentum",
        run(options(0.9, false)),
        rmsprop(0.01, 0.9, 1e-8, 0.1, 0.9, false),
    );
    assert_matches(
        "rmsprop centered",
        run(options(0.0, true)),
        rmsprop(0.01, 0.9, 1e-8, 0.1, 0.0, true),
    );
    assert_matches(
        "rmsprop both",
        run(options(0.5, true)),
        rmsprop(0.01, 0.9, 1e-8, 0.1, 0.5, true),
    );
    // An eps as large as the running roots, outside the square root in
    // every variant.
    for (momentum, centered) in [(0.0, false), (0.9, false), (0.5, true)] {
        assert_matches(
            &format!("rmsprop eps, momentum {momentum}, centered {centered}"),
            run(options(momentum, centered).eps(0.3)),
            rmsprop(0.01, 0.9, 0.3, 0.1, momentum, centered),
        );
    }
}

#[test]
fn adam_adamw_and_amsgrad() {
    let adam = |lr: f64, b1: f64, b2: f64, eps: f64, wd: f64, amsgrad: bool, decoupled: bool| {
        reference(move |t, theta: &mut f64, g, s: &mut Moments| {
            let mut g = g;
            if decoupled {
                *theta *= 1.0 - lr * wd;
            } else {
                g += wd * *theta;
            }
            s.m = b1 * s.m + (1.0 - b1) * g;
            s.v = b2 * s.v + (1.0 - b2) * g * g;
            let m_hat = s.m / (1.0 - b1.powi(t as i32));
            let second = if amsgrad {
                s.extra = s.extra.max(s.v);
                s.extra
            } else {
                s.v
            };
            let v_hat = second / (1.0 - b2.powi(t as i32));
            *theta -= lr * m_hat / (v_hat.sqrt() + eps);
        })
    };
    assert_matches(
        "adam",
        run(Adam::default()),
        adam(1e-3, 0.9, 0.999, 1e-8, 0.0, false, false),
    );
    let options = Adam::new(0.05)
        .betas((0.8, 0.99))
        .weight_decay(WeightDecay::L2(0.1))
        .amsgrad(true);
    assert_matches(
        "adam options",
        run(options),
        adam(0.05, 0.8, 0.99, 1e-8, 0.1, true, false),
    );
    assert_matches(
        "adam eps",
        run(Adam::new(0.05).eps(0.01)),
        adam(0.05, 0.9, 0.999, 0.01, 0.0, false, false),
    );
    assert_matches(
        "adamw",
        run(AdamW::new(1e-3)),
        adam(1e-3, 0.9, 0.999, 1e-8, 0.01, false, true),
    );
    let adamw = AdamW::new(0.05).amsgrad(true);
    assert_matches(
        "adamw amsgrad",
        run(adamw),
        adam(0.05, 0.9, 0.999, 1e-8, 0.01, true, true),
    );
}

#[test]
fn adamax_nadam_radam_adadelta() {
    let adamax = |lr: f64, (b1, b2): (f64, f64), eps: f64, wd: f64| {
        reference(move |t, theta: &mut f64, g, s: &mut Moments| {
            let g = g + wd * *theta;
            s.m = b1 * s.m + (1.0 - b1) * g;
            s.v = (b2 * s.v).max(g.abs() + eps);
            *theta -= lr / (1.0 - b1.powi(t as i32)) * s.m / s.v;
        })
    };
    let defaults = ((0.9, 0.999), 1e-8);
    assert_matches(
        "adamax",
        run(Adamax::default()),
        adamax(2e-3, defaults.0, defaults.1, 0.0),
    );
    let options = Adamax::default().weight_decay(0.1);
    assert_matches(
        "adamax wd",
        run(options),
        adamax(2e-3, defaults.0, defaults.1, 0.1),
    );
    let options = Adamax::new(0.01).betas((0.8, 0.99)).eps(0.05);
    assert_matches(
        "adamax betas eps",
        run(options),
        adamax(0.01, (0.8, 0.99), 0.05, 0.0),
    );

    let nadam_with = |lr: f64, wd: f64, decoupled: bool, psi: f64, eps: f64| {
        let mut mu_product = [1.0f64; 3];
        let mut index = 0;
        reference(move |t, theta: &mut f64, g, s: &mut Moments| {
            let (b1, b2) = (0.9, 0.999);
            let mut g = g;
            if decoupled {
                *theta *= 1.0 - lr * wd;
            } else {
                g += wd * *theta;
            }
            let t = t as f64;
            let mu = b1 * (1.0 - 0.5 * 0.96f64.powf(t * psi));
            let mu_next = b1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * psi));
            let product = &mut mu_product[index % 3];
            index += 1;
            *product *= mu;
            s.m = b1 * s.m + (1.0 - b1) * g;
            s.v = b2 * s.v + (1.0 - b2) * g * g;
            let v_hat = s.v / (1.0 - b2.powf(t));
            *theta -= lr * (1.0 - mu) * g / (1.0 - *product) / (v_hat.sqrt() + eps);
            *theta -= lr * mu_next * s.m / (1.0 - *product * mu_next) / (v_hat.sqrt() + eps);
        })
    };
    let nadam = |lr: f64, wd: f64, decoupled: bool| nadam_with(lr, wd, decoupled, 4e-3, 1e-8);
    assert_matches("nadam", run(NAdam::default()), nadam(2e-3, 0.0, false));
    let options = NAdam::default().weight_decay(WeightDecay::L2(0.1));
    assert_matches("nadam wd", run(options), nadam(2e-3, 0.1, false));
    let options = NAdam::default().weight_decay(WeightDecay::Decoupled(0.1));
    assert_matches("nadam decoupled", run(options), nadam(2e-3, 0.1, true));
    let options = NAdam::default().momentum_decay(0.5).eps(0.05);
    assert_matches(
        "nadam momentum_decay eps",
        run(options),
        nadam_with(2e-3, 0.0, false, 0.5, 0.05),
    );

    let radam = |lr: f64, b2: f64, wd: f64, steps: usize| {
        reference_steps(steps, move |t, theta: &mut f64, g, s: &mut Moments| {
            let (b1, eps) = (0.9, 1e-8);
            let g = g + wd * *theta;
            let t = t as f64;
            s.m = b1 * s.m + (1.0 - b1) * g;
            s.v = b2 * s.v + (1.0 - b2) * g * g;
            let m_hat = s.m / (1.0 - b1.powf(t));
            let rho_inf = 2.0 / (1.0 - b2) - 1.0;
            let rho_t = rho_inf - 2.0 * t * b2.powf(t) / (1.0 - b2.powf(t));
            if rho_t > 5.0 {
                let l = (1.0 - b2.powf(t)).sqrt() / (s.v.sqrt() + eps);
                let r = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                    / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                    .sqrt();
                *theta -= lr * m_hat * l * r;
            } else {
                *theta -= lr * m_hat;
            }
        })
    };
    assert_matches("radam", run(RAdam::default()), radam(1e-3, 0.999, 0.0, 5));
    // With beta2 = 0.9, rho_t passes 5 at step 6: 8 steps cover both branches.
    let options = RAdam::default()
        .betas((0.9, 0.9))
        .weight_decay(WeightDecay::L2(0.1));
    assert_matches(
        "radam rectified",
        run_steps(options, 8),
        radam(1e-3, 0.9, 0.1, 8),
    );

    let adadelta = |lr: f64, rho: f64, wd: f64| {
        reference(move |_, theta: &mut f64, g, s: &mut Moments| {
            let eps = 1e-6;
            let g = g + wd * *theta;
            s.v = rho * s.v + (1.0 - rho) * g * g;
            let delta = (s.m + eps).sqrt() / (s.v + eps).sqrt() * g;
            s.m = rho * s.m + (1.0 - rho) * delta * delta;
            *theta -= lr * delta;
        })
    };
    assert_matches(
        "adadelta",
        run(Adadelta::default()),
        adadelta(1.0, 0.9, 0.0),
    );
    let options = Adadelta::new(0.5).rho(0.8).weight_decay(0.1);
    assert_matches("adadelta options", run(options), adadelta(0.5, 0.8, 0.1));
}

#[test]
fn defaults_are_pytorchs() {
    let adam = Adam::default();
    assert_eq!(
        (
            adam.lr(),
            adam.betas,
            adam.eps,
            adam.weight_decay,
            adam.amsgrad,
            adam.maximize
        ),
        (1e-3, (0.9, 0.999), 1e-8, WeightDecay::L2(0.0), false, false)
    );
    let adamw = AdamW::new(1e-3);
    assert_eq!(
        (adamw.lr(), adamw.weight_decay),
        (1e-3, WeightDecay::Decoupled(0.01))
    );
    let rms = RmsProp::default();
    assert_eq!(
        (
            rms.lr(),
            rms.alpha,
            rms.eps,
            rms.momentum,
            rms.centered,
            rms.maximize
        ),
        (0.01, 0.99, 1e-8, 0.0, false, false)
    );
    let ada = Adagrad::default();
    assert_eq!(
        (
            ada.lr(),
            ada.lr_decay,
            ada.initial_accumulator_value,
            ada.eps,
            ada.maximize
        ),
        (0.01, 0.0, 0.0, 1e-10, false)
    );
    let sgd = Sgd::default();
    assert_eq!(
        (
            sgd.lr(),
            sgd.momentum,
            sgd.dampening,
            sgd.weight_decay,
            sgd.maximize
        ),
        (1e-3, Momentum::None, 0.0, 0.0, false)
    );
    let nadam = NAdam::default();
    assert_eq!(
        (
            Adamax::default().lr(),
            nadam.lr(),
            nadam.momentum_decay,
            nadam.weight_decay
        ),
        (2e-3, 2e-3, 4e-3, WeightDecay::L2(0.0))
    );
    let adadelta = Adadelta::default();
    assert_eq!(
        (
            RAdam::default().lr(),
            RAdam::default().weight_decay,
            adadelta.lr(),
            adadelta.rho,
            adadelta.eps
        ),
        (1e-3, WeightDecay::L2(0.0), 1.0, 0.9, 1e-6)
    );
}

#[test]
fn flushing_subnormal_adam_moments_leaves_parameters_bit_identical() {
    // PyTorch's single-tensor Adam in f32, without flushing.
    fn reference(
        theta: &mut [f32],
        m: &mut [f32],
        v: &mut [f32],
        g: &[f32],
        t: i32,
        (b1, b2): (f64, f64),
    ) {
        let step_size = (1e-3 / (1.0 - b1.powi(t))) as f32;
        let bc2_sqrt = (1.0 - b2.powi(t)).sqrt() as f32;
        for i in 0..theta.len() {
            let w1 = (1.0 - b1) as f32;
            m[i] = if w1 < 0.5 {
                m[i] + w1 * (g[i] - m[i])
            } else {
                g[i] - (g[i] - m[i]) * (1.0 - w1)
            };
            v[i] = v[i] * b2 as f32 + (1.0 - b2) as f32 * g[i] * g[i];
            theta[i] += -step_size * m[i] / (v[i].sqrt() / bc2_sqrt + 1e-8);
        }
    }
    let betas = (0.5, 0.6);
    let start = [0.3f32, -1.7, 2.5, 1e-3];
    let p = Param::new(Tensor::from(start));
    let mut opt = Optim::new([p.clone()], Adam::default().betas(betas));
    let (mut theta, mut m, mut v) = (start, [0.0f32; 4], [0.0f32; 4]);
    for t in 1..=400 {
        // Gradients stop after 5 steps for three weights: their moments decay
        // through the subnormal range; the fourth keeps a steady gradient.
        let g = if t <= 5 {
            [0.2, -0.1, 0.05, 0.3]
        } else {
            [0.0, 0.0, 0.0, 0.3]
        };
        p.accumulate_grad(Tensor::from(g));
        opt.step();
        opt.zero_grad();
        reference(&mut theta, &mut m, &mut v, &g, t, betas);
    }
    assert!(
        m.iter().chain(&v).any(|x| x.is_subnormal() || *x == 0.0),
        "the reference moments reached the subnormal range"
    );
    assert!(
        p.value().bit_eq(&Tensor::from(theta)),
        "{:?} vs {theta:?}",
        p.value()
    );
}
