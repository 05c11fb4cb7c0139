//! A model trained in PyTorch and saved with `safetensors.torch.save_file`
//! (data/interop, see its README) gives PyTorch's logits in descent.

use descent::prelude::*;

mod common;
use common::flagship_cnn;
#[path = "common/pytorch_start.rs"]
mod pytorch_start;
use pytorch_start::{Images, PytorchStart};

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/interop");

/// What PyTorch computed: every tensor's name and shape, and the logits of
/// the first 32 test images.
struct Reference {
    parameters: Vec<(String, Vec<usize>)>,
    logits: Tensor,
}

fn reference(name: &str) -> Reference {
    let text = std::fs::read_to_string(format!("{INTEROP}/{name}")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let numbers = |value: &serde_json::Value| -> Vec<f64> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let parameters = json["parameters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, shape)| {
            let shape = numbers(shape).into_iter().map(|d| d as usize).collect();
            (name.clone(), shape)
        })
        .collect();
    let rows: Vec<Vec<f64>> = json["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(numbers)
        .collect();
    let logits = Tensor::from_iter(
        [rows.len(), rows[0].len()],
        rows.iter().flatten().map(|&x| x as f32),
    );
    Reference { parameters, logits }
}

/// The largest absolute difference between two tensors of one shape.
fn largest_difference(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b).abs().max().item()
}

/// The images PyTorch classified: the first 32 of the shipped test set,
/// pixels / 255.
fn first_test_images() -> Tensor {
    let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist")).unwrap();
    mnist.test_images.narrow(0, 0, 32)
}

/// `Sequential(Linear(784, 128), ReLU(), Linear(128, 10))`, PyTorch-style
/// or with the activation fused into the first layer.
fn mlp(fused: bool) -> Sequential {
    let mut rng = seeded_rng(0);
    let first = Dense::new(784, 128, &mut rng);
    if fused {
        Sequential::new()
            .push(first.with_activation(Activation::Relu))
            .push(Dense::new(128, 10, &mut rng))
    } else {
        Sequential::new()
            .push(first)
            .push(Activation::Relu)
            .push(Dense::new(128, 10, &mut rng))
    }
}

#[test]
fn the_pytorch_mlp_gives_pytorchs_logits() {
    let reference = reference("mlp_logits.json");
    let images = first_test_images();
    for fused in [false, true] {
        let model = mlp(fused);
        let mut names: Vec<(String, Vec<usize>)> = model
            .state_dict()
            .into_iter()
            .map(|(name, p)| (name, p.shape().dims().to_vec()))
            .collect();
        names.sort();
        let mut expected = reference.parameters.clone();
        expected.sort();
        assert_eq!(names, expected, "fused {fused}: PyTorch's names and shapes");

        load_safetensors(&model, format!("{INTEROP}/mlp.safetensors")).unwrap();
        let logits = model.forward(Tape::eval().constant(images.clone())).value();
        assert_eq!(logits.dims(), &[32, 10]);
        let worst = largest_difference(&logits, &reference.logits);
        assert!(worst <= 1e-4, "fused {fused}: a logit differs by {worst}");
    }
}

#[test]
fn a_descent_model_saved_and_reloaded_keeps_pytorchs_logits() {
    let reference = reference("mlp_logits.json");
    let images = first_test_images();
    let pytorch = mlp(false);
    load_safetensors(&pytorch, format!("{INTEROP}/mlp.safetensors")).unwrap();
    let dir = std::env::temp_dir().join(format!("descent-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mlp.safetensors");
    save_safetensors(&pytorch, &path).unwrap();
    let copy = mlp(true);
    load_safetensors(&copy, &path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let logits = copy.forward(Tape::eval().constant(images)).value();
    assert!(logits.all_close(&reference.logits, 0.0, 1e-4));
}

#[test]
fn the_pytorch_cnn_gives_pytorchs_logits() {
    let reference = reference("cnn_logits.json");
    let model = flagship_cnn(0);
    let mut names: Vec<(String, Vec<usize>)> = model
        .state_dict()
        .into_iter()
        .map(|(name, p)| (name, p.shape().dims().to_vec()))
        .collect();
    names.sort();
    let mut expected = reference.parameters.clone();
    expected.sort();
    assert_eq!(names, expected, "PyTorch's names and shapes");

    load_safetensors(&model, format!("{INTEROP}/cnn.safetensors")).unwrap();
    let images = first_test_images().reshape([32, 1, 28, 28]);
    let logits = model.forward(Tape::eval().constant(images)).value();
    assert_eq!(logits.dims(), &[32, 10]);
    let worst = largest_difference(&logits, &reference.logits);
    assert!(worst <= 1e-4, "a logit differs by {worst}");
}

/// Training follows PyTorch too, not only inference: the gradients of the
/// mean cross-entropy on the first 64 training images, with the trained
/// weights, equal the ones PyTorch computed (`data/interop/cnn_grads.py`).
#[test]
fn the_pytorch_cnn_gets_pytorchs_gradients() {
    let model = flagship_cnn(0);
    load_safetensors(&model, format!("{INTEROP}/cnn.safetensors")).unwrap();
    let reference = Weights::load(format!("{INTEROP}/cnn_grads.safetensors")).unwrap();
    let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist")).unwrap();
    let images = mnist.train_images.narrow(0, 0, 64).reshape([64, 1, 28, 28]);
    let tape = Tape::new();
    let logits = model.forward(tape.constant(images));
    cross_entropy_loss(logits, &mnist.train_labels[..64], Reduction::Mean).backward();
    for (name, param) in model.named_parameters() {
        let (_, expected) = reference.get(&name).unwrap();
        let scale = expected.abs().max().item();
        let worst = largest_difference(&param.grad().unwrap(), expected);
        assert!(
            worst <= 1e-4 * scale,
            "{name}: a gradient differs by {worst} (largest {scale})"
        );
    }
}

/// Trained from PyTorch's own initial weights and batch order
/// (`data/interop/cnn_start.py`, seed 0), descent takes PyTorch's steps.
/// Float32 rounding differs between the libraries (Winograd's transforms
/// most of all), and Adam's first steps turn a rounding in a near-zero
/// gradient into a whole step of either sign, so single weights drift
/// apart; what is checked is what rounding leaves alone: each of the first
/// 10 losses (measured within 2e-5 of PyTorch's; a learning rate 2% off
/// puts the second 4e-4 away), each tensor's 10-step update (its distance
/// from PyTorch's weights measured at most 0.14% of PyTorch's update), and
/// the test accuracy after the whole epoch.
#[test]
fn trained_from_pytorchs_start_descent_follows_pytorch() {
    let start = PytorchStart::load(INTEROP);
    let images = Images::load();
    let model = flagship_cnn(0);
    start.load_initial_weights(&model);
    let mut opt = Optim::try_new(model.named_parameters(), Adam::new(1e-3)).unwrap();
    let order = &start.order[0];
    let losses = images.train(&model, &mut opt, order, Some(10));
    assert_eq!(start.losses.len(), 10, "PyTorch's first 10 losses");
    for (step, (&ours, &pytorchs)) in losses.iter().zip(&start.losses).enumerate() {
        let gap = (ours as f64 - pytorchs).abs();
        assert!(gap <= 1e-4, "step {step}: loss {ours}, PyTorch {pytorchs}");
    }
    let (initial, after) = (start.initial_weights(), start.after_10_steps());
    let norm = |t: &Tensor| t.square().sum().item().sqrt();
    for (name, param) in model.named_parameters() {
        let (pytorchs, first) = (after.get(&name).unwrap().1, initial.get(&name).unwrap().1);
        let apart = norm(&(&param.value() - pytorchs)) / norm(&(pytorchs - first));
        assert!(
            apart <= 1e-2,
            "{name}: 10 steps from PyTorch's by {apart} of its update"
        );
    }
    images.train(&model, &mut opt, &order[10 * 64..], None);
    let (ours, pytorchs) = (images.test_accuracy(&model), start.accuracy[0]);
    assert!(
        (ours - pytorchs).abs() <= 0.005,
        "test accuracy {ours} after one epoch, PyTorch {pytorchs}"
    );
}

#[test]
fn the_cnn_file_names_what_an_mlp_lacks() {
    // A file for another architecture is refused with every difference
    // named, not half-loaded.
    let model = mlp(false);
    let before: Vec<Tensor> = model.parameters().iter().map(Param::value).collect();
    let err = load_safetensors(&model, format!("{INTEROP}/cnn.safetensors")).unwrap_err();
    let message = err.to_string();
    for needle in [
        "\"0.weight\" has shape [128, 784] in the model but [16, 1, 5, 5] in the file",
        "\"3.weight\" is in the file but not in the model",
        "\"9.bias\" is in the file but not in the model",
    ] {
        assert!(message.contains(needle), "{message}");
    }
    let after: Vec<Tensor> = model.parameters().iter().map(Param::value).collect();
    assert!(before.iter().zip(&after).all(|(a, b)| a.bit_eq(b)));
}

#[test]
fn batch_norm_statistics_travel_with_pytorchs_names_and_dtypes() {
    let model = Sequential::new()
        .push(Conv2d::new(1, 4, 3, &mut seeded_rng(1)))
        .push(BatchNorm2d::new(4));
    let tape = Tape::new();
    let x = Tensor::randn([2, 1, 5, 5], &mut seeded_rng(2));
    model.forward(tape.constant(x)); // one training step of running statistics
    let dir = std::env::temp_dir().join(format!("descent-interop-bn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bn.safetensors");
    save_safetensors(&model, &path).unwrap();
    let weights = Weights::load(&path).unwrap();
    let mut names: Vec<&str> = weights.names().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "0.bias",
            "0.weight",
            "1.bias",
            "1.num_batches_tracked",
            "1.running_mean",
            "1.running_var",
            "1.weight"
        ]
    );
    let (dtype, count) = weights.get("1.num_batches_tracked").unwrap();
    assert_eq!((dtype, count.item()), (descent::io::Dtype::I64, 1.0));
    assert_eq!(
        weights.get("1.running_var").unwrap().0,
        descent::io::Dtype::F32
    );
    let copy = Sequential::new()
        .push(Conv2d::new(1, 4, 3, &mut seeded_rng(9)))
        .push(BatchNorm2d::new(4));
    load_safetensors(&copy, &path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    for ((name, a), (_, b)) in model.state_dict().iter().zip(copy.state_dict().iter()) {
        assert!(a.value().bit_eq(&b.value()), "{name}");
    }
}
