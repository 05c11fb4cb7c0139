//! Each schedule's first 50 values against PyTorch's recursive (chainable)
//! update rules, iterated here, or against hand-computed landmarks.

use std::f64::consts::PI;

use descent_autograd::Param;
use descent_optim::*;
use descent_tensor::Tensor;

const LR0: f64 = 0.1;

/// The first 50 rates an optimizer sees when driven by `schedule`.
fn driven<S: Schedule>(schedule: S) -> Vec<f64> {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(LR0));
    let mut scheduler = Scheduler::new(schedule, &mut opt);
    let mut lrs = vec![opt.lr(0)];
    for _ in 1..50 {
        scheduler.step(&mut opt);
        lrs.push(opt.lr(0));
    }
    lrs
}

/// Iterates a recursive rule `next(t, previous)` from `first`.
fn recursive(first: f64, next: impl Fn(usize, f64) -> f64) -> Vec<f64> {
    let mut lrs = vec![first];
    for t in 1..50 {
        lrs.push(next(t, lrs[t - 1]));
    }
    lrs
}

fn assert_close(name: &str, got: &[f64], want: &[f64]) {
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-7,
            "{name}: step {t}: schedule gives {g}, reference {w}"
        );
    }
}

fn cosine_recursive(t_max: usize, eta_min: f64) -> impl Fn(usize, f64) -> f64 {
    let t_max = t_max as f64;
    move |t, lr| {
        let t = t as f64;
        if ((t - 1.0 - t_max) % (2.0 * t_max)) == 0.0 {
            lr + (LR0 - eta_min) * (1.0 - (PI / t_max).cos()) / 2.0
        } else {
            (1.0 + (PI * t / t_max).cos()) / (1.0 + (PI * (t - 1.0) / t_max).cos()) * (lr - eta_min)
                + eta_min
        }
    }
}

#[test]
fn step_multistep_and_exponential() {
    let step = recursive(LR0, |t, lr| if t % 7 == 0 { lr * 0.5 } else { lr });
    assert_close(
        "StepLR",
        &driven(StepLr {
            step_size: 7,
            gamma: 0.5,
        }),
        &step,
    );
    let milestones = vec![5, 12, 30];
    let multi = recursive(LR0, |t, lr| {
        if [5, 12, 30].contains(&t) {
            lr * 0.3
        } else {
            lr
        }
    });
    assert_close(
        "MultiStepLR",
        &driven(MultiStepLr {
            milestones,
            gamma: 0.3,
        }),
        &multi,
    );
    let exponential = recursive(LR0, |_, lr| lr * 0.95);
    assert_close(
        "ExponentialLR",
        &driven(ExponentialLr { gamma: 0.95 }),
        &exponential,
    );
}

#[test]
fn inverse_time_decay_follows_keras() {
    let smooth = driven(InverseTimeDecay {
        decay_rate: 0.5,
        decay_steps: 10.0,
        staircase: false,
    });
    let stairs = driven(InverseTimeDecay {
        decay_rate: 0.5,
        decay_steps: 10.0,
        staircase: true,
    });
    for t in 0..50 {
        assert!((smooth[t] - LR0 / (1.0 + 0.5 * t as f64 / 10.0)).abs() < 1e-12);
        assert!((stairs[t] - LR0 / (1.0 + 0.5 * (t / 10) as f64)).abs() < 1e-12);
    }
    assert!((smooth[10] - LR0 / 1.5).abs() < 1e-12);
}

#[test]
fn cosine_annealing_matches_pytorchs_recursion_past_t_max() {
    let reference = recursive(LR0, cosine_recursive(20, 0.001));
    assert_close(
        "CosineAnnealingLR",
        &driven(CosineAnnealingLr {
            t_max: 20,
            eta_min: 0.001,
        }),
        &reference,
    );
    assert!((reference[20] - 0.001).abs() < 1e-12);
}

#[test]
fn warm_restarts_match_pytorchs_counter() {
    for t_mult in [1, 2] {
        let (mut t_cur, mut t_i) = (0usize, 5usize);
        let mut reference = vec![LR0];
        for _ in 1..50 {
            t_cur += 1;
            if t_cur >= t_i {
                t_cur -= t_i;
                t_i *= t_mult;
            }
            reference
                .push(0.01 + (LR0 - 0.01) * (1.0 + (PI * t_cur as f64 / t_i as f64).cos()) / 2.0);
        }
        let schedule = CosineAnnealingWarmRestarts {
            t_0: 5,
            t_mult,
            eta_min: 0.01,
        };
        assert_close("CosineAnnealingWarmRestarts", &driven(schedule), &reference);
    }
}

fn linear_recursive(start: f64, end: f64, total: usize) -> impl Fn(usize, f64) -> f64 {
    move |t, lr| {
        if t > total {
            lr
        } else {
            lr * (1.0 + (end - start) / (total as f64 * start + (t as f64 - 1.0) * (end - start)))
        }
    }
}

#[test]
fn linear_warmup_and_chained_warmup_then_cosine() {
    let warmup = LinearLr {
        start_factor: 0.1,
        end_factor: 1.0,
        total_iters: 10,
    };
    let reference = recursive(LR0 * 0.1, linear_recursive(0.1, 1.0, 10));
    assert_close("LinearLR", &driven(warmup.clone()), &reference);
    assert!((reference[10] - LR0).abs() < 1e-12);

    let chain = Chain::new(
        vec![
            Box::new(warmup),
            Box::new(CosineAnnealingLr {
                t_max: 30,
                eta_min: 0.0,
            }),
        ],
        vec![10],
    );
    let cosine = recursive(LR0, cosine_recursive(30, 0.0));
    let mut expected = reference[..10].to_vec();
    expected.extend_from_slice(&cosine[..40]);
    assert_close("warm-up then cosine", &driven(chain), &expected);
}

#[test]
fn cyclical_schedules_hit_their_landmarks() {
    let cyclic = |mode| driven(CyclicLr::new(0.01, 0.1).step_size_up(5).mode(mode));
    let triangular = cyclic(CyclicMode::Triangular);
    for (t, want) in [
        (0, 0.01),
        (5, 0.1),
        (10, 0.01),
        (15, 0.1),
        (2, 0.01 + 0.09 * 0.4),
        (7, 0.01 + 0.09 * 0.6),
    ] {
        assert!(
            (triangular[t] - want).abs() < 1e-12,
            "triangular step {t}: {}",
            triangular[t]
        );
    }
    let halving = cyclic(CyclicMode::Triangular2);
    assert!(
        (halving[5] - 0.1).abs() < 1e-12
            && (halving[15] - 0.055).abs() < 1e-12
            && (halving[25] - 0.0325).abs() < 1e-12
    );
    let exp_range = cyclic(CyclicMode::ExpRange { gamma: 0.99 });
    assert!((exp_range[15] - (0.01 + 0.09 * 0.99f64.powi(15))).abs() < 1e-12);

    // All 50 values against PyTorch's CyclicLR.get_lr, with a 3-up/7-down cycle.
    for mode in [
        CyclicMode::Triangular,
        CyclicMode::Triangular2,
        CyclicMode::ExpRange { gamma: 0.97 },
    ] {
        let (up, down, base, max) = (3.0, 7.0, 0.01, 0.1);
        let reference: Vec<f64> = (0..50)
            .map(|t| {
                let t = t as f64;
                let cycle = (1.0 + t / (up + down)).floor();
                let x = 1.0 + t / (up + down) - cycle;
                let ratio = up / (up + down);
                let scale_factor = if x <= ratio {
                    x / ratio
                } else {
                    (x - 1.0) / (ratio - 1.0)
                };
                let scale = match mode {
                    CyclicMode::Triangular => 1.0,
                    CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
                    CyclicMode::ExpRange { gamma } => gamma.powf(t),
                };
                base + (max - base) * scale_factor * scale
            })
            .collect();
        let schedule = CyclicLr::new(base, max)
            .step_size_up(3)
            .step_size_down(Some(7))
            .mode(mode);
        assert_close(&format!("CyclicLR {mode:?}"), &driven(schedule), &reference);
    }
}

#[test]
fn one_cycle_rises_to_max_then_anneals_to_the_floor() {
    let lrs = driven(OneCycleLr::new(1.0, 50));
    assert!((lrs[0] - 1.0 / 25.0).abs() < 1e-12);
    assert!(
        (lrs[14] - 1.0).abs() < 1e-12,
        "peak at step pct_start * total - 1 = 14: {}",
        lrs[14]
    );
    assert!((lrs[49] - 1.0 / 25.0 / 1e4).abs() < 1e-12);
    let midway_up = 1.0 / 25.0 + (1.0 - 1.0 / 25.0) * (1.0 - (PI * 7.0 / 14.0).cos()) / 2.0;
    assert!((lrs[7] - midway_up).abs() < 1e-12);
    assert!(lrs[..15].windows(2).all(|w| w[0] < w[1]) && lrs[14..].windows(2).all(|w| w[0] > w[1]));

    // All 50 values against PyTorch's OneCycleLR.get_lr (two phases, cosine).
    let (max_lr, total, pct) = (0.8, 60usize, 0.25);
    let initial = max_lr / 25.0;
    let min_lr = initial / 1e4;
    let phases = [
        (pct * total as f64 - 1.0, initial, max_lr),
        (total as f64 - 1.0, max_lr, min_lr),
    ];
    let anneal = |start: f64, end: f64, p: f64| end + (start - end) / 2.0 * ((PI * p).cos() + 1.0);
    let reference: Vec<f64> = (0..50)
        .map(|t| {
            let mut start_step = 0.0;
            for (i, &(end_step, from, to)) in phases.iter().enumerate() {
                if t as f64 <= end_step || i == phases.len() - 1 {
                    return anneal(from, to, (t as f64 - start_step) / (end_step - start_step));
                }
                start_step = end_step;
            }
            unreachable!()
        })
        .collect();
    let schedule = OneCycleLr {
        pct_start: pct,
        ..OneCycleLr::new(max_lr, total)
    };
    assert_close("OneCycleLR", &driven(schedule), &reference);
}

#[test]
fn lambda_schedule_scales_the_initial_rate() {
    let lrs = driven(LambdaLr(|t| 1.0 / (t as f64 + 1.0)));
    assert!((lrs[9] - LR0 / 10.0).abs() < 1e-15);
}

#[test]
fn reduce_on_plateau_waits_for_patience_then_cools_down() {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(1.0));
    let options = PlateauOptions {
        patience: 2,
        cooldown: 1,
        factor: 0.5,
        ..PlateauOptions::default()
    };
    let mut plateau = ReduceLrOnPlateau::new(options);
    let metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5];
    let mut lrs = Vec::new();
    for m in metrics {
        plateau.step(m, &mut opt);
        lrs.push(opt.lr(0));
    }
    // Bad steps at calls 3, 4, 5: the third exceeds patience 2, then one
    // cooldown call, then three more bad calls before the next reduction.
    assert_eq!(lrs, vec![1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]);
    let mut max_mode = ReduceLrOnPlateau::new(PlateauOptions {
        mode: PlateauMode::Max,
        patience: 0,
        ..PlateauOptions::default()
    });
    max_mode.step(0.8, &mut opt);
    max_mode.step(0.7, &mut opt);
    assert_eq!(opt.lr(0), 0.05);
}

/// The error `Scheduler::new` gives for `schedule` over plain SGD.
fn refused(schedule: impl Schedule) -> OptimError {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(LR0));
    Scheduler::try_new(schedule, &mut opt)
        .err()
        .expect("the schedule was accepted")
}

#[test]
fn schedules_of_zero_length_or_with_invalid_options_are_refused_naming_the_field() {
    let cosine = |t_max| CosineAnnealingLr {
        t_max,
        eta_min: 0.0,
    };
    let cases: Vec<(OptimError, &str)> = vec![
        (
            refused(StepLr {
                step_size: 0,
                gamma: 0.5,
            }),
            "invalid step_size: 0 (must be >= 1)",
        ),
        (refused(cosine(0)), "invalid t_max: 0"),
        (
            refused(LinearLr {
                total_iters: 0,
                ..LinearLr::default()
            }),
            "invalid total_iters: 0",
        ),
        (
            refused(LinearLr {
                start_factor: 0.0,
                ..LinearLr::default()
            }),
            "invalid start_factor: 0 (must be in (0, 1])",
        ),
        (
            refused(CosineAnnealingWarmRestarts {
                t_0: 0,
                t_mult: 1,
                eta_min: 0.0,
            }),
            "invalid t_0: 0",
        ),
        (
            refused(CosineAnnealingWarmRestarts {
                t_0: 5,
                t_mult: 0,
                eta_min: 0.0,
            }),
            "invalid t_mult: 0",
        ),
        (
            refused(InverseTimeDecay {
                decay_rate: 0.5,
                decay_steps: 0.0,
                staircase: false,
            }),
            "invalid decay_steps: 0",
        ),
        (
            refused(ExponentialLr {
                gamma: f64::INFINITY,
            }),
            "invalid gamma: inf",
        ),
        (
            refused(CyclicLr::new(0.01, 0.1).step_size_up(0)),
            "invalid step_size_up: 0",
        ),
        (refused(OneCycleLr::new(0.1, 0)), "invalid total_steps: 0"),
        // pct_start * total_steps - 1 = -0.5: the rise would last no step.
        (
            refused(OneCycleLr::new(0.1, 50).pct_start(0.01)),
            "invalid pct_start: 0.01 (must be such that every phase of the cycle lasts at least one step)",
        ),
        (
            refused(Chain::new(
                vec![Box::new(cosine(5)), Box::new(cosine(5))],
                vec![],
            )),
            "invalid milestones (count): 0",
        ),
        (
            refused(Chain::new(
                vec![
                    Box::new(cosine(5)),
                    Box::new(cosine(5)),
                    Box::new(cosine(5)),
                ],
                vec![5, 5],
            )),
            "invalid milestones: 5 (must be increasing)",
        ),
        (
            refused(Chain::new(
                vec![Box::new(cosine(5)), Box::new(cosine(0))],
                vec![5],
            )),
            "invalid t_max: 0",
        ),
        (
            ReduceLrOnPlateau::try_new(PlateauOptions {
                factor: 1.0,
                ..PlateauOptions::default()
            })
            .err()
            .unwrap(),
            "invalid factor: 1 (must be in [0, 1))",
        ),
    ];
    for (error, message) in cases {
        assert!(
            error.to_string().contains(message),
            "expected {message:?}, got {error}"
        );
    }
}

#[test]
fn one_cycle_stepped_past_its_total_steps_panics_as_pytorch_raises() {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(LR0));
    let mut scheduler = Scheduler::new(OneCycleLr::new(1.0, 10), &mut opt);
    // PyTorch computes step total_steps (one past the last planned one) and
    // raises after it.
    for _ in 0..10 {
        scheduler.step(&mut opt);
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scheduler.step(&mut opt);
    }));
    let panic = result.expect_err("stepping past total_steps");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert_eq!(message, "OneCycleLr: stepped 11 times, past total_steps 10");
}

/// The learning rate and momentum of group 0 at steps 0..steps, with
/// `schedule` driving `rule`.
fn driven_with_momentum<R: UpdateRule + 'static>(
    schedule: impl Schedule,
    rule: R,
    steps: usize,
) -> Vec<(f64, f64)> {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], rule);
    let mut scheduler = Scheduler::new(schedule, &mut opt);
    let mut values = vec![(opt.lr(0), opt.momentum(0).unwrap())];
    for _ in 1..steps {
        scheduler.step(&mut opt);
        values.push((opt.lr(0), opt.momentum(0).unwrap()));
    }
    values
}

#[test]
fn cyclic_lr_cycles_momentum_and_beta1_against_the_rate() {
    // PyTorch's CyclicLR: with x the position in the cycle and
    // scale = x / up_ratio rising, (x - 1) / (up_ratio - 1) falling,
    //   lr = base_lr + (max_lr - base_lr) scale
    //   momentum = max_momentum - (max_momentum - base_momentum) scale.
    // Up 5 steps, down defaulting to 5 too; momentum 0.9 at the troughs,
    // 0.8 at the peaks.
    let schedule = || CyclicLr::new(0.01, 0.1).step_size_up(5);
    let sgd = driven_with_momentum(schedule(), Sgd::new(LR0), 21);
    let adam = driven_with_momentum(schedule(), Adam::new(LR0), 21);
    for (t, scale) in [
        (0, 0.0),
        (2, 0.4),
        (5, 1.0),
        (7, 0.6),
        (10, 0.0),
        (15, 1.0),
        (20, 0.0),
    ] {
        let lr = 0.01 + 0.09 * scale;
        let momentum = 0.9 - 0.1 * scale;
        for (name, values) in [("sgd momentum", &sgd), ("adam beta1", &adam)] {
            let (got_lr, got_momentum) = values[t];
            assert!(
                (got_lr - lr).abs() < 1e-12 && (got_momentum - momentum).abs() < 1e-12,
                "{name} step {t}: ({got_lr}, {got_momentum}), PyTorch gives ({lr}, {momentum})"
            );
        }
    }
    let without = driven_with_momentum(
        schedule().cycle_momentum(false),
        Sgd::new(LR0).momentum(Momentum::Classic(0.5)),
        10,
    );
    assert!(without.iter().all(|&(_, m)| m == 0.5));
}

#[test]
fn cyclic_step_size_down_defaults_to_step_size_up() {
    let lrs = |down| {
        let schedule = CyclicLr::new(0.0, 1.0)
            .step_size_up(4)
            .step_size_down(down)
            .cycle_momentum(false);
        driven_with_momentum(schedule, Sgd::new(LR0), 13)
            .into_iter()
            .map(|(lr, _)| lr)
            .collect::<Vec<_>>()
    };
    // A 4 + 4 cycle: peak at 4, trough at 8, peak at 12.
    let close =
        |got: &[f64], want: &[f64]| got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12);
    let symmetric = lrs(None);
    assert_eq!(symmetric, lrs(Some(4)));
    let landmarks = [symmetric[4], symmetric[6], symmetric[8], symmetric[12]];
    assert!(close(&landmarks, &[1.0, 0.5, 0.0, 1.0]), "{symmetric:?}");
    // A 4 + 2 cycle: trough at 6.
    let short = lrs(Some(2));
    assert!(close(&short[4..7], &[1.0, 0.5, 0.0]), "{short:?}");
}

/// A phase of PyTorch's 1cycle policy: its end step, and its rate and
/// momentum from start to end.
type Phase = (f64, (f64, f64), (f64, f64));

/// PyTorch's OneCycleLR.get_lr for one step: find the phase holding `t`,
/// then anneal from its start to its end value by the fraction done.
fn one_cycle_reference(
    phases: &[Phase],
    anneal: impl Fn(f64, f64, f64) -> f64,
    t: f64,
) -> (f64, f64) {
    let mut start = 0.0;
    for (i, &(end, lr, momentum)) in phases.iter().enumerate() {
        if t <= end || i == phases.len() - 1 {
            let pct = (t - start) / (end - start);
            return (anneal(lr.0, lr.1, pct), anneal(momentum.0, momentum.1, pct));
        }
        start = end;
    }
    unreachable!()
}

#[test]
fn one_cycle_three_phases_linear_annealing_and_momentum() {
    let (max_lr, total, pct) = (0.8, 40usize, 0.25);
    let initial = max_lr / 25.0;
    let min_lr = initial / 1e4;
    let (base, top) = (0.85, 0.95);
    // Three phases end at pct T - 1 = 9, 2 pct T - 2 = 18 and T - 1 = 39:
    // up to max_lr, back down to the initial rate, then down to min_lr;
    // momentum top -> base -> top -> top.
    let three = [
        (9.0, (initial, max_lr), (top, base)),
        (18.0, (max_lr, initial), (base, top)),
        (39.0, (initial, min_lr), (top, top)),
    ];
    // Two phases end at 9 and 39.
    let two = [
        (9.0, (initial, max_lr), (top, base)),
        (39.0, (max_lr, min_lr), (base, top)),
    ];
    // _annealing_linear(start, end, pct) = (end - start) pct + start;
    // _annealing_cos(start, end, pct) = end + (start - end) / 2 (cos(pi pct) + 1).
    let linear = |start: f64, end: f64, pct: f64| (end - start) * pct + start;
    let cos = |start: f64, end: f64, pct: f64| end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0);
    let schedule = || OneCycleLr::new(max_lr, total).pct_start(pct);
    // (name, schedule, PyTorch's rate and momentum at each step)
    type Case = (&'static str, OneCycleLr, Vec<(f64, f64)>);
    let cases: Vec<Case> = vec![
        (
            "three phases, linear",
            schedule()
                .three_phase(true)
                .anneal_strategy(AnnealStrategy::Linear),
            (0..total)
                .map(|t| one_cycle_reference(&three, linear, t as f64))
                .collect(),
        ),
        (
            "three phases, cosine",
            schedule().three_phase(true),
            (0..total)
                .map(|t| one_cycle_reference(&three, cos, t as f64))
                .collect(),
        ),
        (
            "two phases, linear",
            schedule().anneal_strategy(AnnealStrategy::Linear),
            (0..total)
                .map(|t| one_cycle_reference(&two, linear, t as f64))
                .collect(),
        ),
    ];
    for (name, schedule, reference) in cases {
        let got = driven_with_momentum(schedule, Adam::new(LR0), total);
        for (t, (g, w)) in got.iter().zip(&reference).enumerate() {
            assert!(
                (g.0 - w.0).abs() < 1e-12 && (g.1 - w.1).abs() < 1e-12,
                "{name} step {t}: {g:?}, PyTorch gives {w:?}"
            );
        }
    }
    // Landmarks of the three phases, linear: the peak, the return to the
    // initial rate, and the end.
    // Step total_steps, the last a loop reaches, holds the final rate
    // where PyTorch extrapolates (to -0.0015 here).
    let linear_three = driven_with_momentum(
        schedule()
            .three_phase(true)
            .anneal_strategy(AnnealStrategy::Linear),
        Sgd::new(LR0),
        total + 1,
    );
    assert_eq!(linear_three[40], linear_three[39]);
    assert!((linear_three[9].0 - max_lr).abs() < 1e-12 && (linear_three[9].1 - base).abs() < 1e-12);
    assert!(
        (linear_three[18].0 - initial).abs() < 1e-12 && (linear_three[18].1 - top).abs() < 1e-12
    );
    assert!((linear_three[39].0 - min_lr).abs() < 1e-12);
    assert!((linear_three[5].0 - (initial + (max_lr - initial) * 5.0 / 9.0)).abs() < 1e-12);
}

#[test]
fn cycling_momentum_needs_a_rule_with_momentum() {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Adagrad::default());
    assert_eq!(
        Scheduler::try_new(OneCycleLr::new(0.1, 10), &mut opt).err(),
        Some(OptimError::NoMomentum { group: 0 })
    );
    assert!(Scheduler::try_new(OneCycleLr::new(0.1, 10).cycle_momentum(false), &mut opt).is_ok());
}

#[test]
fn reduce_on_plateau_with_an_absolute_threshold() {
    // PyTorch's is_better: rel, min: a < best (1 - threshold);
    // abs, min: a < best - threshold; abs, max: a > best + threshold.
    let reductions = |mode, threshold_mode, metrics: &[f64]| {
        let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(1.0));
        let mut plateau = ReduceLrOnPlateau::new(PlateauOptions {
            mode,
            threshold_mode,
            threshold: 0.5,
            patience: 0,
            factor: 0.5,
            ..PlateauOptions::default()
        });
        for &m in metrics {
            plateau.step(m, &mut opt);
        }
        opt.lr(0)
    };
    // 9 after 10 improves by more than 0.5 (abs), not by half (rel).
    let min = [10.0, 9.0];
    assert_eq!(reductions(PlateauMode::Min, ThresholdMode::Abs, &min), 1.0);
    assert_eq!(reductions(PlateauMode::Min, ThresholdMode::Rel, &min), 0.5);
    // 9.6 after 10 is within the threshold: a plateau either way.
    assert_eq!(
        reductions(PlateauMode::Min, ThresholdMode::Abs, &[10.0, 9.6]),
        0.5
    );
    let max = [10.0, 10.6, 11.0];
    // 10.6 beats 10 + 0.5; 11.0 does not beat 10.6 + 0.5.
    assert_eq!(reductions(PlateauMode::Max, ThresholdMode::Abs, &max), 0.5);
    assert_eq!(
        reductions(PlateauMode::Max, ThresholdMode::Abs, &max[..2]),
        1.0
    );
}
