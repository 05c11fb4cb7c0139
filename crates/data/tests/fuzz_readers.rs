//! Property tests: random bytes, truncations and single-byte mutations of
//! valid IDX and CSV files give `Ok` or a descriptive `Err`, never a panic.

use std::io::Write;

use descent_data::{DataError, Table, parse_idx};
use proptest::prelude::*;

fn idx_file(dims: &[u32], seed: u8) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    let count: u32 = dims.iter().product();
    bytes.extend((0..count).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn describes_itself(e: &DataError) -> bool {
    let text = e.to_string();
    text.len() > 10 && text.starts_with("fuzz")
}

fn dims() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(1u32..6, 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn idx_random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Err(e) = parse_idx(&bytes, "fuzz") {
            prop_assert!(describes_itself(&e), "{e}");
        }
    }

    #[test]
    fn idx_truncations_are_errors(dims in dims(), seed in any::<u8>(), cut in any::<prop::sample::Index>(), compress in any::<bool>()) {
        let raw = idx_file(&dims, seed);
        let file = if compress { gzip(&raw) } else { raw };
        let len = cut.index(file.len());
        let e = parse_idx(&file[..len], "fuzz").unwrap_err();
        prop_assert!(describes_itself(&e), "{e}");
    }

    #[test]
    fn idx_mutations_never_panic(dims in dims(), seed in any::<u8>(), at in any::<prop::sample::Index>(), flip in 1u8..=255, compress in any::<bool>()) {
        let raw = idx_file(&dims, seed);
        let mut file = if compress { gzip(&raw) } else { raw };
        let i = at.index(file.len());
        file[i] ^= flip;
        match parse_idx(&file, "fuzz") {
            Ok(array) => prop_assert_eq!(array.dims.iter().product::<usize>(), array.data.len()),
            Err(e) => prop_assert!(describes_itself(&e), "{e}"),
        }
    }

    #[test]
    fn csv_random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Err(e) = Table::parse_csv_bytes(&bytes, "fuzz") {
            prop_assert!(describes_itself(&e), "{e}");
        }
    }

    #[test]
    fn csv_mutations_never_panic(rows in prop::collection::vec(prop::collection::vec(-1e3f32..1e3, 3), 1..6), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut text = String::from("a,b,target\n");
        for row in &rows {
            text.push_str(&format!("{},{},{}\n", row[0], row[1], row[2]));
        }
        let mut bytes = text.into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        match Table::parse_csv_bytes(&bytes, "fuzz") {
            Ok(table) => prop_assert_eq!(table.values.numel(), table.rows() * table.columns.len()),
            Err(e) => prop_assert!(describes_itself(&e), "{e}"),
        }
    }
}
