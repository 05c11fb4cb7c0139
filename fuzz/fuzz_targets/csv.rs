//! Any bytes given to the CSV reader give `Ok` or an `Err`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(table) = descent_data::Table::parse_csv_bytes(bytes, "fuzz") {
        assert_eq!(table.values.numel(), table.rows() * table.columns.len());
    }
});
