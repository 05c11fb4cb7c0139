//! Models in safetensors files: PyTorch's names, layouts and dtypes as the
//! `safetensors` crate reads them, bit-identical round trips, and every
//! damaged or mismatched file an `Err` naming what is wrong, with the model
//! untouched.

use descent_autograd::{Param, Var};
use descent_io::{Dtype, Mismatch};
use descent_layers::*;
use descent_tensor::{Tensor, seeded_rng};
use proptest::prelude::*;
use safetensors::tensor::TensorView;
use safetensors::{Dtype as FileDtype, SafeTensors};

/// Batch norm's saved state, as PyTorch's `BatchNorm1d` names it: a weight,
/// running statistics, and a count PyTorch stores as int64.
struct Normalizer {
    weight: Param,
    running_mean: Param,
    num_batches_tracked: Param,
}

impl Normalizer {
    fn new(features: usize, batches: f32) -> Normalizer {
        Normalizer {
            weight: Param::new(Tensor::ones([features])),
            running_mean: Param::new(Tensor::arange(0.0, features as f32, 1.0)),
            num_batches_tracked: Param::new(Tensor::scalar(batches)),
        }
    }
}

impl Module for Normalizer {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        let tape = x.tape();
        (x - tape.constant(self.running_mean.value())) * tape.param(&self.weight)
    }
    fn visit_params(&self, v: &mut ParamVisitor<'_>) {
        v.param("weight", &self.weight);
        v.buffer("running_mean", &self.running_mean, TensorKind::Buffer);
        v.buffer(
            "num_batches_tracked",
            &self.num_batches_tracked,
            TensorKind::CountBuffer,
        );
    }
}

/// `Linear(3, 5), ReLU, BatchNorm1d(5), Linear(5, 2)` with the activation fused.
fn model(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(Dense::new(3, 5, &mut rng).with_activation(Activation::Relu))
        .push(Normalizer::new(5, 3.0 + seed as f32))
        .push(Dense::new(5, 2, &mut rng))
}

fn values(module: &dyn Module) -> Vec<Tensor> {
    module.state_dict().iter().map(|(_, p)| p.value()).collect()
}

fn unchanged(before: &[Tensor], module: &dyn Module) -> bool {
    before.iter().zip(values(module)).all(|(a, b)| a.bit_eq(&b))
}

#[test]
fn the_file_has_pytorchs_names_layouts_and_dtypes() {
    let model = model(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    save_safetensors(&model, &path).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(
        names,
        [
            "0.bias",
            "0.weight",
            "2.num_batches_tracked",
            "2.running_mean",
            "2.weight",
            "3.bias",
            "3.weight"
        ]
    );
    let entry = |name: &str| {
        let view = file.tensor(name).unwrap();
        (view.dtype(), view.shape().to_vec())
    };
    assert_eq!(entry("0.weight"), (FileDtype::F32, vec![5, 3]), "[out, in]");
    assert_eq!(entry("0.bias"), (FileDtype::F32, vec![5]));
    assert_eq!(entry("2.running_mean"), (FileDtype::F32, vec![5]));
    assert_eq!(entry("2.num_batches_tracked"), (FileDtype::I64, vec![]));
    assert_eq!(entry("3.weight"), (FileDtype::F32, vec![2, 5]));

    let weight = model.state_dict()[0].1.value();
    let stored: Vec<f32> = file
        .tensor("0.weight")
        .unwrap()
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(stored, weight.to_vec(), "row-major, little-endian");
    let count = file.tensor("2.num_batches_tracked").unwrap().data();
    assert_eq!(i64::from_le_bytes(count.try_into().unwrap()), 3);

    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().as_ref().unwrap();
    assert_eq!(metadata.get("format").map(String::as_str), Some("pt"));
}

#[test]
fn a_round_trip_is_bit_identical() {
    let saved = model(0);
    // Values a text format would round: NaN payloads, subnormals, -0.0.
    saved.state_dict()[0].1.set_value(Tensor::from_vec(
        vec![
            f32::from_bits(0x7fc0_0001),
            1e-45,
            -0.0,
            f32::MAX,
            f32::MIN_POSITIVE,
            -1.0 / 3.0,
            f32::INFINITY,
            0.1,
            2.5e-39,
            -7.0,
            1e30,
            f32::EPSILON,
            3.0,
            -3.0,
            0.0,
        ],
        [5, 3],
    ));
    let loaded = model(1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    save_safetensors(&saved, &path).unwrap();
    load_safetensors(&loaded, &path).unwrap();
    for ((name, a), (_, b)) in saved.state_dict().iter().zip(loaded.state_dict()) {
        assert!(a.value().bit_eq(&b.value()), "{name}");
    }
    let again = dir.path().join("again.safetensors");
    save_safetensors(&loaded, &again).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

#[test]
fn reads_files_written_by_others_with_their_metadata() {
    // As `safetensors.torch.save_file(state_dict, path, metadata=...)` writes
    // them: any order, a count as I64, free-form metadata.
    let weight = [1.0f32, -2.0, 3.5, 0.25, 5.0, -6.0];
    let weight_bytes: Vec<u8> = weight.iter().flat_map(|x| x.to_le_bytes()).collect();
    let bias_bytes: Vec<u8> = [0.5f32, -0.5]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let metadata = [
        ("format".to_string(), "pt".to_string()),
        ("epoch".into(), "3".into()),
    ];
    let bytes = safetensors::serialize(
        [
            ("weight", view(FileDtype::F32, vec![2, 3], &weight_bytes)),
            ("bias", view(FileDtype::F32, vec![2], &bias_bytes)),
        ],
        Some(metadata.into_iter().collect()),
    )
    .unwrap();
    let weights = Weights::from_bytes(&bytes).unwrap();
    assert_eq!(
        weights.metadata().get("epoch").map(String::as_str),
        Some("3")
    );
    let layer = Dense::new(3, 2, &mut seeded_rng(0));
    weights.restore_module(&layer).unwrap();
    let [w, b] = [0, 1].map(|i| layer.state_dict()[i].1.value());
    assert_eq!(w, Tensor::from_vec(weight.to_vec(), [2, 3]));
    assert_eq!(b.to_vec(), vec![0.5, -0.5]);
}

#[test]
fn every_mismatch_is_named_in_one_error_and_the_model_is_untouched() {
    // The file: Linear(3, 5), ReLU, Linear(5, 4) with a stray tensor and the
    // count stored as F32. The model: Linear(3, 5), ReLU, norm, Linear(5, 2).
    let mut rng = seeded_rng(0);
    let other = Sequential::new()
        .push(Dense::new(3, 5, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(5, 4, &mut rng));
    let mut weights = Weights::from_module(&other);
    weights.insert("3.weight", Tensor::zeros([2, 5]), Dtype::I64);
    weights.insert("2.num_batches_tracked", Tensor::scalar(1.0), Dtype::F32);
    weights.insert("9.weight", Tensor::zeros([1]), Dtype::F32);
    let model = model(0);
    let before = values(&model);

    let err = weights.restore_module(&model).unwrap_err();
    let SafetensorsError::DoesNotFit(mismatches) = &err else {
        panic!("expected DoesNotFit, got {err}");
    };
    assert_eq!(
        mismatches,
        &[
            Mismatch::Shape {
                name: "2.weight".into(),
                model: vec![5],
                file: vec![4, 5]
            },
            Mismatch::Missing("2.running_mean".into()),
            Mismatch::Dtype {
                name: "2.num_batches_tracked".into(),
                model: Dtype::I64,
                file: Dtype::F32
            },
            Mismatch::Dtype {
                name: "3.weight".into(),
                model: Dtype::F32,
                file: Dtype::I64
            },
            Mismatch::Missing("3.bias".into()),
            Mismatch::Unexpected("2.bias".into()),
            Mismatch::Unexpected("9.weight".into()),
        ]
    );
    let message = err.to_string();
    for needle in [
        "\"2.running_mean\" is missing",
        "\"9.weight\" is in the file but not",
    ] {
        assert!(message.contains(needle), "{message}");
    }
    assert!(unchanged(&before, &model));

    let narrow = Sequential::new()
        .push(Dense::new(3, 5, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(5, 2, &mut rng));
    let err = Weights::from_module(&other)
        .restore_module(&narrow)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file does not fit the model: \"2.weight\" has shape [2, 5] in the model but [4, 5] in the file; \
         \"2.bias\" has shape [2] in the model but [4] in the file"
    );
}

#[test]
fn damaged_files_are_clear_errors_and_leave_the_model_untouched() {
    let model = model(0);
    let before = values(&model);
    let good = Weights::from_module(&model).to_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.safetensors");
    let load = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        load_safetensors(&model, &path).unwrap_err().to_string()
    };

    let message = load(&good[..good.len() - 3]);
    assert!(message.contains("truncated"), "{message}");
    let message = load(&good[..5]);
    assert!(message.contains("5 bytes cannot hold"), "{message}");
    let message = load(&good[..100]);
    assert!(message.contains("runs past the end"), "{message}");
    let message = load(b"DESCENT\x01 a checkpoint, not weights");
    assert!(
        message.starts_with("not a valid safetensors file"),
        "{message}"
    );
    let mut corrupt_header = good.clone();
    corrupt_header[8] = b'[';
    let message = load(&corrupt_header);
    assert!(message.contains("JSON"), "{message}");

    let half = [0u8; 4];
    let f16 =
        safetensors::serialize([("0.weight", view(FileDtype::F16, vec![2], &half))], None).unwrap();
    let message = load(&f16);
    assert!(
        message.contains("\"0.weight\" is stored as F16; descent reads F32"),
        "{message}"
    );

    let rank_seven = safetensors::serialize(
        [("0.weight", view(FileDtype::F32, vec![1; 7], &half))],
        None,
    )
    .unwrap();
    let message = load(&rank_seven);
    assert!(message.contains("at most 6 dimensions"), "{message}");

    let missing = dir.path().join("nothing here.safetensors");
    let message = load_safetensors(&model, &missing).unwrap_err().to_string();
    assert!(message.contains("nothing here.safetensors"), "{message}");
    assert!(unchanged(&before, &model));
}

fn view(dtype: FileDtype, shape: Vec<usize>, data: &[u8]) -> TensorView<'_> {
    TensorView::new(dtype, shape, data).unwrap()
}

fn valid(seed: u64) -> Vec<u8> {
    Weights::from_module(&model(seed)).to_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_errors(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        prop_assert!(Weights::from_bytes(&bytes).is_err());
    }

    #[test]
    fn truncations_are_errors_and_change_nothing(seed in 0u64..20, cut in any::<prop::sample::Index>()) {
        let bytes = valid(seed);
        let len = cut.index(bytes.len());
        let model = model(99);
        let before = values(&model);
        let result = Weights::from_bytes(&bytes[..len]).and_then(|w| w.restore_module(&model));
        prop_assert!(result.is_err());
        prop_assert!(unchanged(&before, &model));
    }

    #[test]
    fn mutations_load_or_fail_cleanly(seed in 0u64..20, at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut bytes = valid(seed);
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        let model = model(99);
        let before = values(&model);
        match Weights::from_bytes(&bytes).and_then(|w| w.restore_module(&model)) {
            // Safetensors has no checksum: a flipped data byte loads as one
            // different value, a flipped space in the header as none.
            Ok(()) => {
                let differing: usize = values(&model)
                    .iter()
                    .zip(values(&self::model(seed)))
                    .map(|(a, b)| a.data().iter().zip(b.data()).filter(|(x, y)| x.to_bits() != y.to_bits()).count())
                    .sum();
                prop_assert!(differing <= 1, "{} values changed", differing);
            }
            Err(_) => prop_assert!(unchanged(&before, &model)),
        }
    }
}
