//! A model trained in PyTorch and saved with `safetensors.torch.save_file`
//! (data/interop, see its README) gives PyTorch's logits in descent.

use descent::prelude::*;

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
        let worst = logits
            .data()
            .iter()
            .zip(reference.logits.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
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
fn the_cnn_file_names_what_an_mlp_lacks() {
    // The CNN needs Conv2d; until then its file must be refused with every
    // difference named, not half-loaded.
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
