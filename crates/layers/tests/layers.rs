//! Layers and losses against finite differences and hand-computed values;
//! models trained to a stated accuracy; PyTorch-compatible parameter names.

use descent_autograd::{Param, Tape, gradcheck};
use descent_layers::*;
use descent_tensor::{Tensor, seeded_rng};

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, &mut seeded_rng(seed))
}

#[test]
fn every_layer_passes_gradcheck() {
    let mut rng = seeded_rng(1);
    let x = randn(&[4, 3], 2).map(|v| if v.abs() < 0.05 { 0.3 } else { v });
    let layers: Vec<(&str, Box<dyn Module>)> = vec![
        ("dense", Box::new(Dense::new(3, 2, &mut rng))),
        (
            "dense without bias",
            Box::new(Dense::with_init(3, 2, Init::XavierNormal, false, &mut rng)),
        ),
        ("relu", Box::new(Activation::Relu)),
        ("leaky_relu", Box::new(Activation::LeakyRelu(0.01))),
        ("elu", Box::new(Activation::Elu(1.0))),
        ("sigmoid", Box::new(Activation::Sigmoid)),
        ("tanh", Box::new(Activation::Tanh)),
        ("gelu", Box::new(Activation::Gelu)),
        ("softmax", Box::new(Softmax(-1))),
        ("log_softmax", Box::new(LogSoftmax(1))),
        ("identity", Box::new(Identity)),
        ("dropout", Box::new(Dropout::new(0.5, 9))),
        (
            "mlp",
            Box::new(
                Sequential::new()
                    .push(Dense::new(3, 5, &mut rng))
                    .push(Activation::Tanh)
                    .push(Dense::new(5, 2, &mut rng)),
            ),
        ),
    ];
    for (name, layer) in &layers {
        if *name == "dropout" {
            // A fixed mask per check: a fresh, identically seeded layer each call.
            let check = gradcheck(std::slice::from_ref(&x), |v| {
                Dropout::new(0.5, 9).forward(v[0])
            });
            check.unwrap_or_else(|e| panic!("{name}: {e}"));
            continue;
        }
        gradcheck_module(layer.as_ref(), &x).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn dropout_scales_in_training_and_passes_through_in_eval() {
    let layer = Dropout::new(0.25, 3);
    let tape = Tape::new();
    let out = layer.forward(tape.constant(Tensor::ones([10_000]))).value();
    let kept = out.data().iter().filter(|&&v| v != 0.0).count() as f32 / 10_000.0;
    assert!((kept - 0.75).abs() < 0.02, "kept {kept}");
    assert!(
        out.data()
            .iter()
            .all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6)
    );
    layer.set_training(false);
    assert!(!layer.is_training());
    let eval = layer.forward(tape.constant(Tensor::ones([5]))).value();
    assert_eq!(eval.to_vec(), vec![1.0; 5]);
}

#[test]
fn an_eval_tape_turns_dropout_off_without_touching_the_flag() {
    let model = Sequential::new().push(Dropout::new(0.5, 3));
    assert!(model.is_training());
    let tape = Tape::eval();
    let out = model.forward(tape.constant(Tensor::ones([100]))).value();
    assert_eq!(out.to_vec(), vec![1.0; 100]);
    assert!(model.is_training(), "an eval tape changed the model's mode");
    model.set_training(false);
    assert!(!model.is_training() && !model.layers()[0].is_training());
}

#[test]
fn every_loss_passes_gradcheck_for_each_reduction() {
    let prediction = randn(&[3, 4], 4);
    let target = randn(&[3, 4], 5);
    let probabilities = prediction.sigmoid();
    let labels01 = target.map(|v| if v > 0.0 { 1.0 } else { 0.0 });
    for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        let check = |name: &str, r: Result<(), descent_autograd::GradcheckError>| {
            r.unwrap_or_else(|e| panic!("{name} {reduction:?}: {e}"))
        };
        check(
            "mse",
            gradcheck(std::slice::from_ref(&prediction), |v| {
                mse_loss(v[0], &target, reduction)
            }),
        );
        check(
            "l1",
            gradcheck(std::slice::from_ref(&prediction), |v| {
                l1_loss(v[0], &target, reduction)
            }),
        );
        check(
            "huber",
            gradcheck(std::slice::from_ref(&prediction), |v| {
                huber_loss(v[0], &target, 0.5, reduction)
            }),
        );
        check(
            "bce",
            gradcheck(std::slice::from_ref(&probabilities), |v| {
                bce_loss(v[0], &labels01, reduction)
            }),
        );
        check(
            "bce_with_logits",
            gradcheck(std::slice::from_ref(&prediction), |v| {
                bce_with_logits_loss(v[0], &labels01, reduction)
            }),
        );
        check(
            "cross_entropy",
            gradcheck(std::slice::from_ref(&prediction), |v| {
                cross_entropy_loss(v[0], &[3, 0, 1], reduction)
            }),
        );
        check(
            "nll",
            gradcheck(std::slice::from_ref(&prediction), |v| {
                nll_loss(v[0].log_softmax(1), &[3, 0, 1], reduction)
            }),
        );
    }
}

#[test]
fn losses_match_hand_computed_values() {
    let tape = Tape::new();
    let p = tape.constant(Tensor::from([1.0, 2.0, 4.0]));
    let t = Tensor::from([1.5, 2.0, 1.0]);
    // d = [-0.5, 0, 3]
    assert_eq!(mse_loss(p, &t, Reduction::Mean).item(), (0.25 + 9.0) / 3.0);
    assert_eq!(mse_loss(p, &t, Reduction::Sum).item(), 9.25);
    assert_eq!(l1_loss(p, &t, Reduction::Mean).item(), 3.5 / 3.0);
    assert_eq!(huber_loss(p, &t, 1.0, Reduction::Sum).item(), 0.125 + 2.5);
    let logits = tape.constant(Tensor::from([[0.0, 0.0]]));
    assert!((cross_entropy_loss(logits, &[1], Reduction::Mean).item() - 2f32.ln()).abs() < 1e-7);
    let probs = tape.constant(Tensor::from([0.8, 0.0]));
    let bce = bce_loss(probs, &Tensor::from([1.0, 1.0]), Reduction::None).value();
    assert!((bce.data()[0] + 0.8f32.ln()).abs() < 1e-6);
    assert_eq!(
        bce.data()[1],
        100.0,
        "log(0) is clamped to -100 as in PyTorch"
    );
}

#[test]
fn losses_stay_finite_with_extreme_logits() {
    let logits = Tensor::from([[80.0, -80.0], [-80.0, 80.0], [0.0, 80.0]]);
    let targets = Tensor::from([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
    gradcheck(std::slice::from_ref(&logits), |v| {
        bce_with_logits_loss(v[0], &targets, Reduction::Mean)
    })
    .unwrap();
    gradcheck(std::slice::from_ref(&logits), |v| {
        cross_entropy_loss(v[0], &[1, 0, 0], Reduction::Sum)
    })
    .unwrap();
    let tape = Tape::new();
    let x = tape.constant(logits);
    let ce = cross_entropy_loss(x, &[1, 0, 0], Reduction::Sum).item();
    assert!((ce - 400.0).abs() < 1e-2, "cross-entropy {ce}");
    let bce = bce_with_logits_loss(x, &targets, Reduction::Sum).item();
    assert!((bce - (80.0 * 4.0 + 2f32.ln())).abs() < 1e-2, "bce {bce}");
}

#[test]
#[should_panic(expected = "mse_loss: prediction has shape [3, 1], target has shape [3]")]
fn loss_shape_mismatch_names_both_shapes() {
    let tape = Tape::new();
    mse_loss(
        tape.constant(Tensor::zeros([3, 1])),
        &Tensor::zeros([3]),
        Reduction::Mean,
    );
}

#[test]
fn sequential_names_and_counts_parameters_like_pytorch() {
    let mut rng = seeded_rng(0);
    let mlp = Sequential::new()
        .push(Dense::new(784, 128, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(128, 10, &mut rng));
    let named: Vec<(String, Vec<usize>)> = mlp
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, p.shape().dims().to_vec()))
        .collect();
    let expected = [
        ("0.weight", vec![128, 784]),
        ("0.bias", vec![128]),
        ("2.weight", vec![10, 128]),
        ("2.bias", vec![10]),
    ];
    assert_eq!(named.len(), expected.len());
    for ((name, shape), (want_name, want_shape)) in named.iter().zip(&expected) {
        assert_eq!(name, want_name);
        assert_eq!(shape, want_shape);
    }
    assert_eq!(mlp.num_parameters(), 101_770);
    let nested = Sequential::new().push(Sequential::new().push(Dense::new(2, 2, &mut rng)));
    let names: Vec<String> = nested
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["0.0.weight", "0.0.bias"]);
}

#[test]
fn a_fused_dense_and_activation_keep_pytorch_names_and_unfused_values() {
    let fused = Sequential::new()
        .push(Dense::new(5, 4, &mut seeded_rng(0)).with_activation(Activation::Tanh))
        .push(Dense::new(4, 3, &mut seeded_rng(1)));
    let pytorch_style = Sequential::new()
        .push(Dense::new(5, 4, &mut seeded_rng(0)))
        .push(Activation::Tanh)
        .push(Dense::new(4, 3, &mut seeded_rng(1)));
    let names = |m: &Sequential| -> Vec<String> {
        m.named_parameters().into_iter().map(|(n, _)| n).collect()
    };
    assert_eq!(names(&fused), ["0.weight", "0.bias", "2.weight", "2.bias"]);
    assert_eq!(names(&fused), names(&pytorch_style));
    assert_eq!(fused.len(), 3);

    // Layer by layer without fusion: the reference values and gradients.
    let x = randn(&[6, 5], 7);
    let by_layer = |model: &Sequential| {
        let tape = Tape::new();
        let mut v = tape.constant(x.clone());
        for layer in model.layers() {
            v = layer.forward(v);
        }
        v.square().sum().backward();
        let grads: Vec<Tensor> = model
            .parameters()
            .iter()
            .map(|p| p.grad().unwrap())
            .collect();
        model.zero_grad();
        (v.value(), grads)
    };
    let whole = |model: &Sequential| {
        let tape = Tape::new();
        let v = model.forward(tape.constant(x.clone()));
        // One fused node instead of a linear node and a tanh node.
        let nodes = tape.len();
        v.square().sum().backward();
        let grads: Vec<Tensor> = model
            .parameters()
            .iter()
            .map(|p| p.grad().unwrap())
            .collect();
        model.zero_grad();
        (v.value(), grads, nodes)
    };
    let (reference, reference_grads) = by_layer(&pytorch_style);
    for model in [&fused, &pytorch_style] {
        let (value, grads, nodes) = whole(model);
        assert!(value.bit_eq(&reference));
        assert!(grads.iter().zip(&reference_grads).all(|(a, b)| a.bit_eq(b)));
        assert_eq!(
            nodes,
            1 + 4 + 1 + 1,
            "input, 4 parameters, fused layer, last layer"
        );
    }
}

#[test]
fn a_relu_before_max_pooling_runs_after_it_with_the_same_values_and_gradients() {
    // Halves and zeros: ties inside windows, windows of negatives and of
    // zeros, and a NaN (which must win its window either way).
    let mut values = randn(&[2, 3, 6, 6], 3)
        .map(|v| (v * 2.0).round() / 2.0)
        .to_vec();
    values[40] = f32::NAN;
    let x = Tensor::from_vec(values, [2, 3, 6, 6]);
    let model = Sequential::new()
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Flatten::new())
        .push(Dense::new(27, 4, &mut seeded_rng(5)));
    let run = |whole: bool| {
        let tape = Tape::new();
        let input = Param::new(x.clone());
        let mut v = tape.param(&input);
        if whole {
            v = model.forward(v);
        } else {
            for layer in model.layers() {
                v = layer.forward(v);
            }
        }
        // The NaN's row is left out of the loss, so the input's gradient
        // is finite (the dense weight's still meets NaN times 0).
        v.slice(0, 1..2).square().sum().backward();
        let mut grads = vec![input.grad().unwrap()];
        grads.extend(model.parameters().iter().map(|p| p.grad().unwrap()));
        model.zero_grad();
        (v.value(), grads)
    };
    let (reference, reference_grads) = run(false);
    let (value, grads) = run(true);
    assert!(value.bit_eq(&reference));
    assert!(
        value.to_vec()[..4].iter().all(|v| v.is_nan()),
        "NaN wins its window"
    );
    for (g, r) in grads.iter().zip(&reference_grads) {
        // Equal as numbers (a zero may differ in sign), NaN where NaN.
        let same = |(a, b): (&f32, &f32)| a == b || (a.is_nan() && b.is_nan());
        assert!(
            g.to_vec().iter().zip(&r.to_vec()).all(same),
            "{g:?} vs {r:?}"
        );
    }
    assert!(reference_grads[0].to_vec().iter().any(|&g| g != 0.0));
}

#[test]
fn models_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Dense>();
    assert_send_sync::<Sequential>();
    assert_send_sync::<Dropout>();
    assert_send_sync::<Embedding>();
    assert_send_sync::<Box<dyn Module>>();
}

#[test]
fn inference_from_four_threads_matches_one_thread_bit_for_bit() {
    let mut rng = seeded_rng(3);
    let model = std::sync::Arc::new(
        Sequential::new()
            .push(Dense::new(20, 64, &mut rng))
            .push(Activation::Relu)
            .push(Dropout::new(0.5, 1))
            .push(Dense::new(64, 5, &mut rng)),
    );
    let inputs: Vec<Tensor> = (0..4).map(|seed| randn(&[32, 20], seed)).collect();
    let infer = |model: &Sequential, x: &Tensor| {
        let tape = Tape::eval();
        model.forward(tape.constant(x.clone())).value()
    };
    let serial: Vec<Tensor> = inputs.iter().map(|x| infer(&model, x)).collect();
    let parallel: Vec<Tensor> = std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|x| {
                let model = std::sync::Arc::clone(&model);
                scope.spawn(move || (0..50).map(|_| infer(&model, x)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let runs = h.join().unwrap();
                assert!(runs.windows(2).all(|w| w[0].bit_eq(&w[1])));
                runs.into_iter().next().unwrap()
            })
            .collect()
    });
    for (a, b) in serial.iter().zip(&parallel) {
        assert!(a.bit_eq(b));
    }
}

fn sgd_step(params: &[Param], lr: f32) {
    for p in params {
        let grad = p.grad().expect("every parameter got a gradient");
        p.set_value(p.value().sub(&grad.mul_scalar(lr)));
        p.zero_grad();
    }
}

#[test]
fn a_two_layer_mlp_learns_xor() {
    let mut rng = seeded_rng(7);
    let model = Sequential::new()
        .push(Dense::new(2, 8, &mut rng))
        .push(Activation::Tanh)
        .push(Dense::new(8, 1, &mut rng));
    let x = Tensor::from([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
    let y = Tensor::from([[0.0], [1.0], [1.0], [0.0]]);
    let params = model.parameters();
    for _ in 0..2000 {
        let tape = Tape::new();
        bce_with_logits_loss(model.forward(tape.constant(x.clone())), &y, Reduction::Mean)
            .backward();
        sgd_step(&params, 0.5);
    }
    let tape = Tape::no_grad();
    let logits = model.forward(tape.constant(x)).value();
    assert_eq!(binary_accuracy(&logits, &y, 0.0), 1.0, "logits {logits:?}");
}

#[test]
fn logistic_regression_on_breast_cancer_reaches_97_percent_held_out() {
    use descent_data::{Standardizer, Table, train_test_split};
    let table = Table::read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/tabular/breast_cancer.csv"
    ))
    .unwrap();
    let (x, y) = table.features_and_target("benign").unwrap();
    let split = train_test_split(table.rows(), 0.2, 42);
    let (x_train, y_train) = (
        x.index_select(0, &split.train),
        y.index_select(0, &split.train),
    );
    let (x_test, y_test) = (
        x.index_select(0, &split.test),
        y.index_select(0, &split.test),
    );
    let scaler = Standardizer::fit(&x_train);
    let (x_train, x_test) = (scaler.transform(&x_train), scaler.transform(&x_test));

    let model = Dense::new(30, 1, &mut seeded_rng(0));
    let params = model.parameters();
    for _ in 0..500 {
        let tape = Tape::new();
        let logits = model.forward(tape.constant(x_train.clone()));
        bce_with_logits_loss(logits, &y_train, Reduction::Mean).backward();
        sgd_step(&params, 0.1);
    }
    let tape = Tape::no_grad();
    let logits = model.forward(tape.constant(x_test)).value();
    let accuracy = binary_accuracy(&logits, &y_test, 0.0);
    assert!(accuracy >= 0.97, "held-out accuracy {accuracy}");
}
