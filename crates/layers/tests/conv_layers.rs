//! Convolution, pooling, normalization and flatten layers: gradients against
//! finite differences, PyTorch's initialization, names, shapes and
//! parameter counts, batch norm's modes and running statistics.

use descent_autograd::{Param, Tape};
use descent_layers::*;
use descent_tensor::{Tensor, seeded_rng};

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, &mut seeded_rng(seed))
}

/// Distinct values 0.1 apart in shuffled order, so max pooling never ties.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    use descent_tensor::rand::seq::SliceRandom;
    let n: usize = shape.iter().product();
    let mut values: Vec<f32> = (0..n).map(|i| i as f32 * 0.1 - n as f32 * 0.05).collect();
    values.shuffle(&mut seeded_rng(seed));
    Tensor::from_vec(values, shape)
}

/// The small CNN of `examples/cnn/model.rs`; this crate cannot include
/// that file, which builds on the `descent` facade.
fn cnn(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(Conv2d::new(1, 16, 5, &mut rng).padding(2))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::new(16, 32, 5, &mut rng).padding(2))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Flatten::new())
        .push(Dense::new(1568, 128, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(128, 10, &mut rng))
}

#[test]
fn every_layer_passes_gradcheck() {
    let mut rng = seeded_rng(1);
    let image = randn(&[2, 4, 6, 5], 2);
    let layers: Vec<(&str, Box<dyn Module>, Tensor)> = vec![
        (
            "conv2d",
            Box::new(Conv2d::new(4, 3, 3, &mut rng).padding(1)),
            image.clone(),
        ),
        (
            "conv2d strided, dilated, grouped, no bias",
            Box::new(
                Conv2d::new(4, 6, (3, 2), &mut rng)
                    .stride((2, 1))
                    .padding((1, 2))
                    .dilation((1, 2))
                    .groups(2)
                    .bias(false),
            ),
            image.clone(),
        ),
        (
            "conv2d batch 1",
            Box::new(Conv2d::new(4, 2, 2, &mut rng).stride(2)),
            randn(&[1, 4, 5, 5], 3),
        ),
        (
            "conv1d",
            Box::new(
                Conv1d::new(4, 2, 3, &mut rng)
                    .stride(2)
                    .padding(1)
                    .dilation(2),
            ),
            randn(&[3, 4, 9], 4),
        ),
        (
            "max_pool2d",
            Box::new(MaxPool2d::new(2).stride(1).padding(1)),
            distinct(&[2, 4, 6, 5], 5),
        ),
        (
            "avg_pool2d",
            Box::new(AvgPool2d::new(3).stride(2).padding(1)),
            image.clone(),
        ),
        (
            "adaptive_avg_pool2d",
            Box::new(AdaptiveAvgPool2d::new((2, 3))),
            image.clone(),
        ),
        ("flatten", Box::new(Flatten::new()), image.clone()),
        ("batch_norm2d", Box::new(BatchNorm2d::new(4)), image.clone()),
        (
            "batch_norm1d",
            Box::new(BatchNorm1d::new(3)),
            randn(&[5, 3], 6),
        ),
        (
            "batch_norm1d over lengths",
            Box::new(BatchNorm1d::new(4)),
            randn(&[2, 4, 3], 7),
        ),
        (
            "layer_norm",
            Box::new(LayerNorm::new([6, 5])),
            image.clone(),
        ),
        (
            "a small CNN",
            Box::new(
                Sequential::new()
                    .push(Conv2d::new(4, 3, 3, &mut rng).padding(1))
                    .push(BatchNorm2d::new(3))
                    .push(Activation::Tanh)
                    .push(AvgPool2d::new(2))
                    .push(Flatten::new())
                    .push(Dense::new(18, 2, &mut rng)),
            ),
            image.clone(),
        ),
    ];
    for (name, layer, input) in &layers {
        gradcheck_module(layer.as_ref(), input).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let eval = BatchNorm2d::new(4);
    let tape = Tape::new();
    eval.forward(tape.constant(image.mul_scalar(3.0))); // non-trivial running statistics
    eval.set_training(false);
    gradcheck_module(&eval, &image).unwrap_or_else(|e| panic!("batch_norm2d in eval: {e}"));
}

#[test]
fn the_cnn_has_pytorchs_names_shapes_and_parameter_count() {
    let model = cnn(0);
    assert_eq!(model.num_parameters(), 215_370);
    let names: Vec<(String, Vec<usize>)> = model
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, p.shape().dims().to_vec()))
        .collect();
    let expected: [(&str, &[usize]); 8] = [
        ("0.weight", &[16, 1, 5, 5]),
        ("0.bias", &[16]),
        ("3.weight", &[32, 16, 5, 5]),
        ("3.bias", &[32]),
        ("7.weight", &[128, 1568]),
        ("7.bias", &[128]),
        ("9.weight", &[10, 128]),
        ("9.bias", &[10]),
    ];
    assert_eq!(names.len(), expected.len());
    for ((name, shape), (want, want_shape)) in names.iter().zip(expected) {
        assert_eq!((name.as_str(), shape.as_slice()), (want, want_shape));
    }
    let s = summary(&model, [1, 1, 28, 28]);
    let rows: Vec<(&str, Vec<usize>, usize)> = s
        .layers
        .iter()
        .map(|l| {
            (
                l.description.as_str(),
                l.output_shape.dims().to_vec(),
                l.parameters,
            )
        })
        .collect();
    assert_eq!(
        rows[0],
        (
            "Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))",
            vec![1, 16, 28, 28],
            416
        )
    );
    assert_eq!(
        rows[2],
        (
            "MaxPool2d(kernel_size=2, stride=2, padding=0)",
            vec![1, 16, 14, 14],
            0
        )
    );
    assert_eq!(rows[3].1, vec![1, 32, 14, 14]);
    assert_eq!(rows[3].2, 12_832);
    assert_eq!(rows[5].1, vec![1, 32, 7, 7]);
    assert_eq!(
        rows[6],
        ("Flatten(start_dim=1, end_dim=-1)", vec![1, 1568], 0)
    );
    assert_eq!(rows[9].1, vec![1, 10]);
    assert!(s.to_string().contains("Total params: 215,370"));
}

#[test]
fn convolutions_are_initialized_as_pytorch_does() {
    let mut rng = seeded_rng(3);
    // fan_in = 16 * 5 * 5 = 400: uniform in +-0.05, standard deviation 0.05 / sqrt(3).
    let conv = Conv2d::new(16, 64, 5, &mut rng);
    let w = conv.weight_param().value();
    assert!(w.data().iter().all(|x| x.abs() <= 0.05));
    assert!((w.var().item().sqrt() - 0.05 / 3f32.sqrt()).abs() < 0.001);
    let b = conv.bias_param().unwrap().value();
    assert!(b.data().iter().all(|x| x.abs() <= 0.05));
    // Four groups: fan_in = 4 * 5 * 5 = 100, so +-0.1.
    let grouped = Conv2d::new(16, 64, 5, &mut rng).groups(4);
    let w = grouped.weight_param().value();
    assert_eq!(w.dims(), &[64, 4, 5, 5]);
    assert!(w.data().iter().all(|x| x.abs() <= 0.1 + 1e-6));
    assert!((w.var().item().sqrt() - 0.1 / 3f32.sqrt()).abs() < 0.003);
    // Switching the bias off leaves the weight's draw and the RNG alone.
    let (mut a, mut b) = (seeded_rng(9), seeded_rng(9));
    let with = Conv1d::new(3, 4, 3, &mut a);
    let without = Conv1d::new(3, 4, 3, &mut b).bias(false);
    assert!(
        with.weight_param()
            .value()
            .bit_eq(&without.weight_param().value())
    );
    assert_eq!(without.num_parameters(), 36);
    assert!(
        Dense::new(2, 2, &mut a)
            .weight()
            .value()
            .bit_eq(&Dense::new(2, 2, &mut b).weight().value())
    );
}

#[test]
fn batch_norm_tracks_running_statistics_only_in_training() {
    let bn = BatchNorm2d::new(2).momentum(0.5);
    // Channel 0 holds 0, 2, 4, 6 (mean 3, biased variance 5, unbiased 20/3);
    // channel 1 is constant 1.
    let x = Tensor::from_vec(vec![0.0, 2.0, 1.0, 1.0, 4.0, 6.0, 1.0, 1.0], [2, 2, 1, 2]);
    let tape = Tape::new();
    let y = bn.forward(tape.constant(x.clone())).value();
    let s = 5.00001f32.sqrt();
    let expected = [-3.0 / s, -1.0 / s, 0.0, 0.0, 1.0 / s, 3.0 / s, 0.0, 0.0];
    assert!(y.all_close(
        &Tensor::from_vec(expected.to_vec(), [2, 2, 1, 2]),
        1e-5,
        1e-5
    ));
    assert!(
        bn.running_mean()
            .all_close(&Tensor::from([1.5, 0.5]), 1e-6, 1e-6)
    );
    assert!(
        bn.running_var()
            .all_close(&Tensor::from([0.5 + 10.0 / 3.0, 0.5]), 1e-5, 1e-5)
    );
    assert_eq!(bn.num_batches_tracked(), 1);

    // An eval tape and evaluation mode both use the running statistics and
    // leave them alone.
    let eval = Tape::eval();
    let y = bn.forward(eval.constant(x.clone())).value();
    let expected = x.sub(&Tensor::from([1.5, 0.5]).reshape([2, 1, 1]));
    let scale = Tensor::from([0.5 + 10.0 / 3.0, 0.5])
        .add_scalar(1e-5)
        .sqrt()
        .reshape([2, 1, 1]);
    assert!(y.all_close(&expected.div(&scale), 1e-5, 1e-5));
    bn.set_training(false);
    bn.forward(Tape::new().constant(x.clone()));
    assert_eq!(bn.num_batches_tracked(), 1);
    assert!(
        bn.running_mean()
            .all_close(&Tensor::from([1.5, 0.5]), 1e-6, 1e-6)
    );
}

#[test]
fn batch_norm_buffers_are_saved_and_restored_but_not_trained() {
    let mut rng = seeded_rng(4);
    let model = Sequential::new()
        .push(Conv2d::new(1, 2, 3, &mut rng))
        .push(BatchNorm2d::new(2));
    let names: Vec<String> = model.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    );
    assert_eq!(
        model.parameters().len(),
        4,
        "conv weight, bias; bn weight, bias"
    );
    let tape = Tape::new();
    model.forward(tape.constant(randn(&[3, 1, 5, 5], 5)));
    let checkpoint = Checkpoint::from_module(&model);
    let fresh = Sequential::new()
        .push(Conv2d::new(1, 2, 3, &mut rng))
        .push(BatchNorm2d::new(2));
    checkpoint.restore_module(&fresh).unwrap();
    for ((name, saved), (_, restored)) in model.state_dict().iter().zip(fresh.state_dict()) {
        assert!(saved.value().bit_eq(&restored.value()), "{name}");
    }
    let kinds: Vec<TensorKind> = {
        let mut kinds = Vec::new();
        model.visit_params(&mut ParamVisitor::new(&mut |_, _, kind| kinds.push(kind)));
        kinds
    };
    assert_eq!(
        kinds[4..],
        [
            TensorKind::Buffer,
            TensorKind::Buffer,
            TensorKind::CountBuffer
        ]
    );
}

#[test]
fn concurrent_training_passes_each_update_the_running_statistics() {
    let bn = std::sync::Arc::new(BatchNorm1d::new(3));
    let x = Tensor::from([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let (bn, x) = (bn.clone(), x.clone());
            scope.spawn(move || {
                for _ in 0..25 {
                    bn.forward(Tape::new().constant(x.clone()));
                }
            });
        }
    });
    assert_eq!(bn.num_batches_tracked(), 100);
    // Every update moved the mean 10% of the way to the batch mean of 2.
    let expected = 2.0 * (1.0 - 0.9f32.powi(100));
    assert!(
        bn.running_mean()
            .all_close(&Tensor::full([3], expected), 1e-4, 1e-4)
    );
}

#[test]
fn layers_describe_themselves_as_pytorch_prints_them() {
    let mut rng = seeded_rng(0);
    let cases: Vec<(Box<dyn Module>, &str)> = vec![
        (
            Box::new(
                Conv2d::new(4, 8, (3, 1), &mut rng)
                    .stride(2)
                    .dilation(2)
                    .groups(4)
                    .bias(false),
            ),
            "Conv2d(4, 8, kernel_size=(3, 1), stride=(2, 2), dilation=(2, 2), groups=4, bias=False)",
        ),
        (
            Box::new(Conv1d::new(2, 3, 5, &mut rng).padding(2)),
            "Conv1d(2, 3, kernel_size=(5,), stride=(1,), padding=(2,))",
        ),
        (
            Box::new(AvgPool2d::new(3).stride(2).padding(1)),
            "AvgPool2d(kernel_size=3, stride=2, padding=1)",
        ),
        (
            Box::new(AdaptiveAvgPool2d::new(1)),
            "AdaptiveAvgPool2d(output_size=1)",
        ),
        (
            Box::new(BatchNorm2d::new(16)),
            "BatchNorm2d(16, eps=1e-5, momentum=0.1, affine=True)",
        ),
        (
            Box::new(LayerNorm::new([2, 5]).elementwise_affine(false)),
            "LayerNorm((2, 5), eps=1e-5, elementwise_affine=False)",
        ),
    ];
    for (layer, text) in cases {
        assert_eq!(layer.describe(), text);
    }
}

#[test]
#[should_panic(
    expected = "BatchNorm2d: expected input of rank 4 with 3 channels on axis 1, got shape [2, 3]"
)]
fn batch_norm_checks_its_input() {
    BatchNorm2d::new(3).forward(Tape::new().constant(Tensor::zeros([2, 3])));
}

#[test]
#[should_panic(expected = "Conv2d: 3 groups do not divide 4 input and 6 output channels")]
fn groups_must_divide_the_channels() {
    let _ = Conv2d::new(4, 6, 3, &mut seeded_rng(0)).groups(3);
}

#[test]
fn parameters_of_the_new_layers_reach_the_tape() {
    let conv = Conv2d::new(1, 1, 1, &mut seeded_rng(0));
    let tape = Tape::new();
    conv.forward(tape.constant(Tensor::ones([1, 1, 2, 2])))
        .sum()
        .backward();
    let grads: Vec<Tensor> = conv
        .parameters()
        .iter()
        .map(|p: &Param| p.grad().unwrap())
        .collect();
    assert_eq!(grads[0].to_vec(), vec![4.0]);
    assert_eq!(grads[1].to_vec(), vec![4.0]);
}
