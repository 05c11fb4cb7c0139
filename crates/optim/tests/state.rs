//! Resuming from a checkpoint follows the uninterrupted trajectory bit for
//! bit; parameter groups, clipping and invalid options behave as documented.

use descent_autograd::{Param, Tape};
use descent_io::Checkpoint;
use descent_layers::{
    Activation, Dense, Module, ModuleCheckpoint, Reduction, Sequential, cross_entropy_loss,
};
use descent_optim::*;
use descent_tensor::{Tensor, seeded_rng};

fn model(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(Dense::new(4, 6, &mut rng))
        .push(Activation::Tanh)
        .push(Dense::new(6, 3, &mut rng))
}

/// A step on mini-batch `t` of a fixed synthetic data set.
fn train_step(model: &Sequential, opt: &mut dyn Optimizer, t: usize) {
    let x = Tensor::randn([8, 4], &mut seeded_rng(1000 + t as u64));
    let labels: Vec<usize> = (0..8).map(|i| (i + t) % 3).collect();
    let tape = Tape::new();
    cross_entropy_loss(model.forward(tape.constant(x)), &labels, Reduction::Mean).backward();
    opt.step();
    opt.zero_grad();
}

fn params_of(model: &Sequential) -> Vec<Tensor> {
    model.parameters().iter().map(Param::value).collect()
}

fn resume_is_exact<R: UpdateRule>(name: &str, make_rule: impl Fn() -> R) {
    let schedule = || CosineAnnealingLr {
        t_max: 100,
        eta_min: 1e-4,
    };

    let straight = model(1);
    let mut opt = Optim::new(straight.parameters(), make_rule());
    let mut scheduler = Scheduler::new(schedule(), &mut opt);
    for t in 0..100 {
        train_step(&straight, &mut opt, t);
        scheduler.step(&mut opt);
    }

    let first = model(1);
    let mut opt = Optim::new(first.parameters(), make_rule());
    let mut scheduler = Scheduler::new(schedule(), &mut opt);
    for t in 0..50 {
        train_step(&first, &mut opt, t);
        scheduler.step(&mut opt);
    }
    let mut checkpoint = Checkpoint::from_module(&first);
    opt.save_state(&mut checkpoint, "optimizer.");
    scheduler.save_state(&mut checkpoint, "scheduler.");
    let bytes = checkpoint.to_bytes();

    let resumed = model(2);
    let mut opt = Optim::new(resumed.parameters(), make_rule());
    let mut scheduler = Scheduler::new(schedule(), &mut opt);
    let checkpoint = Checkpoint::from_bytes(&bytes).unwrap();
    checkpoint.restore_module(&resumed).unwrap();
    opt.load_state(&checkpoint, "optimizer.").unwrap();
    scheduler.load_state(&checkpoint, "scheduler.").unwrap();
    for t in 50..100 {
        train_step(&resumed, &mut opt, t);
        scheduler.step(&mut opt);
    }
    for (a, b) in params_of(&straight).iter().zip(&params_of(&resumed)) {
        assert!(
            a.bit_eq(b),
            "{name}: resumed training diverged from the uninterrupted run"
        );
    }
}

#[test]
fn every_optimizer_resumes_bit_for_bit() {
    resume_is_exact("sgd", || Sgd::new(0.1).momentum(0.9).nesterov(true));
    resume_is_exact("adagrad", Adagrad::default);
    resume_is_exact("rmsprop", || RmsProp {
        momentum: 0.5,
        centered: true,
        ..RmsProp::default()
    });
    resume_is_exact("adam", || Adam {
        amsgrad: true,
        ..Adam::default()
    });
    resume_is_exact("adamw", Adam::adamw);
    resume_is_exact("adamax", Adamax::default);
    resume_is_exact("nadam", NAdam::default);
    resume_is_exact("radam", RAdam::default);
    resume_is_exact("adadelta", Adadelta::default);
}

#[test]
fn loading_state_for_a_different_optimizer_setup_is_an_error() {
    let m = model(1);
    let mut opt = Optim::new(m.parameters(), Adam::default());
    train_step(&m, &mut opt, 0);
    let mut checkpoint = Checkpoint::new();
    opt.save_state(&mut checkpoint, "optimizer.");

    let mut two_groups = Optim::new(m.parameters()[..2].to_vec(), Adam::default());
    two_groups.add_param_group(m.parameters()[2..].to_vec(), Adam::default());
    let err = two_groups
        .load_state(&checkpoint, "optimizer.")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("1 parameter groups, the optimizer 2"),
        "{err}"
    );
    let mut amsgrad = Optim::new(
        m.parameters(),
        Adam {
            amsgrad: true,
            ..Adam::default()
        },
    );
    let err = amsgrad.load_state(&checkpoint, "optimizer.").unwrap_err();
    assert!(err.to_string().contains("max_exp_avg_sq"), "{err}");
    assert!(
        amsgrad.state(0, 0).is_none(),
        "a failed load changed the optimizer"
    );
}

#[test]
fn parameter_groups_have_their_own_options_and_learning_rates() {
    let m = model(3);
    let (biases, weights): (Vec<_>, Vec<_>) = m
        .named_parameters()
        .into_iter()
        .partition(|(n, _)| n.ends_with("bias"));
    let strip = |v: Vec<(String, Param)>| v.into_iter().map(|(_, p)| p).collect::<Vec<_>>();
    let (biases, weights) = (strip(biases), strip(weights));
    let mut opt = Optim::new(weights.clone(), Sgd::new(0.1).weight_decay(0.5));
    opt.add_param_group(biases.clone(), Sgd::new(0.2));
    assert_eq!((opt.num_groups(), opt.lr(0), opt.lr(1)), (2, 0.1, 0.2));
    opt.set_lr(1, 0.05);
    assert_eq!(opt.rule(1).lr, 0.05);

    let bias_before = biases[0].value();
    let weight_before = weights[0].value();
    for p in weights.iter().chain(&biases) {
        p.accumulate_grad(p.value().zeros_like());
    }
    opt.step();
    assert!(
        biases[0].value().bit_eq(&bias_before),
        "no weight decay on biases"
    );
    let expected = weight_before.mul_scalar(1.0 - 0.1 * 0.5);
    assert!(
        weights[0].value().all_close(&expected, 1e-6, 1e-7),
        "weight decay on weights"
    );
}

#[test]
#[should_panic(expected = "optimizer: a parameter appears in more than one group")]
fn a_parameter_in_two_groups_is_rejected() {
    let p = Param::new(Tensor::zeros([1]));
    let mut opt = Optim::new([p.clone()], Sgd::new(0.1));
    opt.add_param_group([p], Sgd::new(0.1));
}

#[test]
fn clipping_by_norm_and_by_value() {
    let a = Param::new(Tensor::zeros([2]));
    let b = Param::new(Tensor::zeros([1]));
    a.accumulate_grad(Tensor::from([3.0, 0.0]));
    b.accumulate_grad(Tensor::from([4.0]));
    let norm = clip_grad_norm(&[a.clone(), b.clone()], 1.0);
    assert_eq!(norm, 5.0);
    let clipped: Vec<f32> = a
        .grad()
        .unwrap()
        .to_vec()
        .into_iter()
        .chain(b.grad().unwrap().to_vec())
        .collect();
    for (got, want) in clipped.iter().zip([0.6, 0.0, 0.8]) {
        assert!((got - want).abs() < 1e-6, "{clipped:?}");
    }
    let after = clip_grad_norm(&[a.clone(), b.clone()], 10.0);
    assert!((after - 1.0).abs() < 1e-6, "norm after clipping {after}");
    clip_grad_value(&[a.clone()], 0.5);
    assert_eq!(a.grad().unwrap().to_vec(), vec![0.5, 0.0]);
}

#[test]
fn invalid_options_are_rejected_with_the_offending_value() {
    let cases: Vec<(&str, Box<dyn Fn()>)> = vec![
        (
            "invalid learning rate: -0.1 (must be >= 0)",
            Box::new(|| drop(Optim::new([], Sgd::new(-0.1)))),
        ),
        (
            "invalid learning rate: NaN",
            Box::new(|| drop(Optim::new([], Adam::new(f64::NAN)))),
        ),
        (
            "invalid weight_decay: -1",
            Box::new(|| {
                drop(Optim::new(
                    [],
                    Adam {
                        weight_decay: -1.0,
                        ..Adam::default()
                    },
                ))
            }),
        ),
        (
            "invalid beta2: 1 (must be in [0, 1))",
            Box::new(|| {
                drop(Optim::new(
                    [],
                    Adam {
                        betas: (0.9, 1.0),
                        ..Adam::default()
                    },
                ))
            }),
        ),
        (
            "invalid nesterov",
            Box::new(|| drop(Optim::new([], Sgd::new(0.1).nesterov(true)))),
        ),
    ];
    for (message, case) in cases {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(case));
        let panic = result.expect_err(message);
        let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(text.contains(message), "expected {message:?}, got {text:?}");
    }
}
