//! `.npy` files: NumPy's own files (made with `np.save`, see
//! `data/interop/README.md`) read to the values NumPy wrote, descent's files
//! byte-identical to NumPy's, and every malformed file an `Err`, never a
//! panic.

use std::path::PathBuf;

use descent_io::{NpyError, decode_npy, encode_npy, load_npy, save_npy};
use descent_tensor::{Tensor, seeded_rng};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/interop/npy")
        .join(name)
}

/// A version 1.0 file with `header` (unpadded) and `data`.
fn npy_with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn reads_what_numpy_wrote() {
    let t = load_npy(fixture("f4_2x3.npy")).unwrap();
    assert_eq!(t.dims(), &[2, 3]);
    assert_eq!(t.to_vec(), vec![1.5, -2.25, 3e-8, 0.0, -0.0, 65504.0]);
    assert!(t.data()[4].is_sign_negative(), "-0.0 keeps its sign");

    let scalar = load_npy(fixture("f4_scalar.npy")).unwrap();
    assert_eq!((scalar.dims(), scalar.item()), (&[][..], 7.5));

    let empty = load_npy(fixture("f4_empty_0x4.npy")).unwrap();
    assert_eq!((empty.dims(), empty.numel()), (&[0, 4][..], 0));

    let version_2 = load_npy(fixture("v2_f4_4.npy")).unwrap();
    assert_eq!(version_2.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn float64_is_rounded_to_float32_as_numpy_does() {
    let t = load_npy(fixture("f8_3.npy")).unwrap();
    // np.array([0.1, 1/3, -2.5]).astype(np.float32)
    assert_eq!(t.to_vec(), vec![0.1f64 as f32, (1.0f64 / 3.0) as f32, -2.5]);
    assert_eq!(t.data()[0].to_bits(), 0x3dcc_cccd);
}

#[test]
fn writes_the_bytes_numpy_writes() {
    for name in ["f4_2x3.npy", "f4_scalar.npy", "f4_empty_0x4.npy"] {
        let numpy = std::fs::read(fixture(name)).unwrap();
        let tensor = decode_npy(&numpy).unwrap();
        assert_eq!(encode_npy(&tensor), numpy, "{name}");
    }
}

#[test]
fn a_saved_tensor_loads_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = seeded_rng(4);
    for shape in [
        &[][..],
        &[1],
        &[7],
        &[3, 5],
        &[2, 1, 4],
        &[1, 2, 1, 3, 1, 2],
    ] {
        let mut tensor = Tensor::randn(shape, &mut rng);
        if let Some(first) = tensor.data_mut().first_mut() {
            *first = f32::NAN;
        }
        let path = dir.path().join("t.npy");
        save_npy(&tensor, &path).unwrap();
        let loaded = load_npy(&path).unwrap();
        assert!(loaded.bit_eq(&tensor), "shape {shape:?}");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            (10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize) % 64,
            0,
            "NumPy aligns the data to 64 bytes"
        );
    }
}

#[test]
fn unsupported_arrays_are_refused_by_name() {
    let err = load_npy(fixture("fortran_2x3.npy")).unwrap_err();
    assert!(matches!(err, NpyError::FortranOrder), "{err}");
    assert!(err.to_string().contains("Fortran"), "{err}");

    let err = load_npy(fixture("i8_3.npy")).unwrap_err();
    assert!(
        matches!(&err, NpyError::UnsupportedDtype(d) if d == "<i8"),
        "{err}"
    );
    let err = load_npy(fixture("big_endian_f4.npy")).unwrap_err();
    assert!(
        matches!(&err, NpyError::UnsupportedDtype(d) if d == ">f4"),
        "{err}"
    );
    assert!(err.to_string().contains("'<f4'"), "{err}");

    let seven_dims = npy_with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1), }",
        &[0; 4],
    );
    let err = decode_npy(&seven_dims).unwrap_err();
    assert!(
        matches!(err, NpyError::UnsupportedShape(ref s) if s.len() == 7),
        "{err}"
    );
}

#[test]
fn damaged_files_say_what_is_wrong() {
    let good = std::fs::read(fixture("f4_2x3.npy")).unwrap();

    let err = decode_npy(&good[..good.len() - 1]).unwrap_err();
    assert!(
        matches!(
            err,
            NpyError::Truncated {
                expected: 152,
                found: 151
            }
        ),
        "{err}"
    );
    let err = decode_npy(&good[..20]).unwrap_err();
    assert!(
        matches!(
            err,
            NpyError::Truncated {
                expected: 128,
                found: 20
            }
        ),
        "{err}"
    );

    let mut longer = good.clone();
    longer.push(0);
    assert!(matches!(
        decode_npy(&longer),
        Err(NpyError::TrailingBytes(1))
    ));

    let err = decode_npy(b"PK\x03\x04 a zip archive").unwrap_err();
    assert!(matches!(err, NpyError::NotNpy), "{err}");

    let mut version = good.clone();
    version[6] = 4;
    let err = decode_npy(&version).unwrap_err();
    assert!(
        matches!(err, NpyError::UnsupportedVersion { major: 4, minor: 0 }),
        "{err}"
    );

    let with_header = |header: &str| decode_npy(&npy_with_header(header, &good[128..]));
    for (header, says) in [
        ("{'descr': '<f4', 'shape': (2, 3), }", "no 'fortran_order'"),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }",
            "'shape'",
        ),
        (
            "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }",
            "True or False",
        ),
        (
            "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3), }",
            "no ','",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}",
            "unknown key",
        ),
        (
            "'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
            "no '{'",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} extra",
            "after the '}'",
        ),
    ] {
        let err = with_header(header).unwrap_err();
        assert!(
            matches!(err, NpyError::InvalidHeader(_)) && err.to_string().contains(says),
            "{header}: {err}"
        );
    }
    // Keys in another order, double quotes, no trailing comma: still a header.
    let reordered = with_header("{\"shape\": (2, 3,), 'fortran_order': False, 'descr': '<f4'}");
    assert_eq!(reordered.unwrap().dims(), &[2, 3]);

    let huge = with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
    );
    assert!(huge.is_err(), "a shape overflowing usize is an error");
    let large = with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }");
    assert!(
        matches!(large, Err(NpyError::Truncated { expected, .. }) if expected > 4_000_000_000),
        "a header promising 4 GB is refused before anything is allocated"
    );

    let missing = fixture("no such file.npy");
    let err = load_npy(&missing).unwrap_err();
    assert!(matches!(err, NpyError::Io { .. }) && err.to_string().contains("no such file"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_errors_not_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        prop_assert!(decode_npy(&bytes).is_err());
    }

    #[test]
    fn random_bytes_after_the_magic_are_errors_not_panics(tail in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend(tail);
        let _ = decode_npy(&bytes);
    }

    #[test]
    fn truncations_are_errors(rows in 0usize..4, cols in 1usize..5, cut in any::<prop::sample::Index>()) {
        let bytes = encode_npy(&Tensor::ones([rows, cols]));
        let len = cut.index(bytes.len());
        prop_assert!(decode_npy(&bytes[..len]).is_err());
    }

    #[test]
    fn header_mutations_load_or_fail_cleanly(at in 0usize..128, flip in 1u8..=255) {
        let mut bytes = encode_npy(&Tensor::ones([2, 3]));
        bytes[at] ^= flip;
        if let Ok(tensor) = decode_npy(&bytes) {
            // Whatever still parses describes the same 24 bytes of data.
            prop_assert_eq!(tensor.numel() * 4, 24);
        }
    }
}
