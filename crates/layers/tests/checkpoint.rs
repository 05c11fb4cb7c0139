//! Checkpoints round-trip bit for bit, and every malformed file is an `Err`.

use descent_autograd::Tape;
use descent_layers::*;
use descent_tensor::{Tensor, seeded_rng};

fn mlp(hidden: usize, seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(Dense::new(4, hidden, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(hidden, 3, &mut rng))
}

fn output(model: &Sequential) -> Tensor {
    let tape = Tape::no_grad();
    let x = Tensor::randn([5, 4], &mut seeded_rng(99));
    model.forward(tape.constant(x)).value()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("descent-ckpt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn save_then_load_gives_bit_identical_outputs() {
    let dir = temp_dir("roundtrip");
    let path = dir.join("model.ckpt");
    let original = mlp(8, 1);
    save_module(&original, &path).unwrap();
    let restored = mlp(8, 2);
    assert!(!output(&original).bit_eq(&output(&restored)));
    load_module(&restored, &path).unwrap();
    assert!(output(&original).bit_eq(&output(&restored)));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "a temporary file was left behind"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn loading_into_a_different_shape_names_the_parameter_and_changes_nothing() {
    let saved = Checkpoint::from_module(&mlp(8, 1));
    let other = mlp(6, 2);
    let before = output(&other);
    let err = saved.restore_module(&other).unwrap_err();
    assert_eq!(
        err.to_string(),
        "parameter \"0.weight\" has shape [6, 4] in the model but [8, 4] in the checkpoint"
    );
    assert!(
        output(&other).bit_eq(&before),
        "a failed load modified the model"
    );

    let smaller = Sequential::new().push(Dense::new(4, 8, &mut seeded_rng(0)));
    let err = saved.restore_module(&smaller).unwrap_err();
    assert!(
        matches!(err, CheckpointError::UnexpectedParameter(ref n) if n == "2.bias"),
        "{err}"
    );
    let bigger = mlp(8, 3).push(Dense::new(3, 2, &mut seeded_rng(0)));
    let err = saved.restore_module(&bigger).unwrap_err();
    assert!(
        matches!(err, CheckpointError::MissingParameter(ref n) if n == "3.weight"),
        "{err}"
    );
}

#[test]
fn every_truncation_is_an_error() {
    let mut small = Checkpoint::from_module(&Dense::new(2, 2, &mut seeded_rng(0)));
    small.insert_scalar("optimizer.step", 3.0);
    let bytes = small.to_bytes();
    assert_eq!(Checkpoint::from_bytes(&bytes).unwrap(), small);
    for len in 0..bytes.len() {
        let result = Checkpoint::from_bytes(&bytes[..len]);
        assert!(
            result.is_err(),
            "a file cut to {len} of {} bytes loaded",
            bytes.len()
        );
    }
}

#[test]
fn corrupt_and_foreign_files_are_errors() {
    let bytes = Checkpoint::from_module(&mlp(3, 0)).to_bytes();
    for position in [24, bytes.len() / 2, bytes.len() - 1] {
        let mut flipped = bytes.clone();
        flipped[position] ^= 0x40;
        let err = Checkpoint::from_bytes(&flipped).unwrap_err();
        assert!(
            matches!(err, CheckpointError::Corrupt(_)),
            "byte {position}: {err}"
        );
    }
    let err = Checkpoint::from_bytes(b"PK\x03\x04 a zip file, not a checkpoint").unwrap_err();
    assert!(matches!(err, CheckpointError::NotACheckpoint));
    let mut future = bytes.clone();
    future[8] = 9;
    assert_eq!(
        Checkpoint::from_bytes(&future).unwrap_err().to_string(),
        "checkpoint format version 9 is not supported (this build reads version 2)"
    );
    let mut padded = bytes;
    padded.push(0);
    assert!(Checkpoint::from_bytes(&padded).is_err());
}

#[test]
fn a_failed_save_is_an_error_naming_the_path_and_creates_nothing() {
    let dir = temp_dir("failed-save");
    let path = dir.join("no-such-dir").join("model.ckpt");
    let err = save_module(&mlp(4, 1), &path).unwrap_err();
    assert!(err.to_string().contains("no-such-dir"), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn concurrent_saves_to_one_path_never_show_a_partial_file() {
    let dir = temp_dir("concurrent");
    let path = dir.join("model.ckpt");
    let models: Vec<Sequential> = (0..3).map(|seed| mlp(16, seed)).collect();
    save_module(&models[0], &path).unwrap();
    let outputs: Vec<Tensor> = models.iter().map(output).collect();
    std::thread::scope(|scope| {
        for model in &models {
            let path = &path;
            scope.spawn(move || {
                for _ in 0..30 {
                    save_module(model, path).unwrap();
                }
            });
        }
        scope.spawn(|| {
            for _ in 0..60 {
                let reader = mlp(16, 9);
                load_module(&reader, &path).expect("a reader always sees a complete file");
                let seen = output(&reader);
                assert!(outputs.iter().any(|o| o.bit_eq(&seen)));
            }
        });
    });
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "temporary files were left behind: {left:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let err = Checkpoint::load("/nonexistent/model.ckpt").unwrap_err();
    assert!(
        err.to_string().starts_with("/nonexistent/model.ckpt: "),
        "{err}"
    );
}
