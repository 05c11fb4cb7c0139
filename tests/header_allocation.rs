//! A header claiming billions of items must not make a reader allocate for
//! them, and a gzip bomb must not be inflated: peak heap use while parsing
//! such files stays within what the file may honestly declare. This test
//! binary counts every allocation, so it holds this one test only (tests in
//! one binary run on parallel threads and would count each other's).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use descent::data::parse_idx;
use descent::io::Checkpoint;
use descent::layers::{Dense, ModuleCheckpoint};
use descent::tensor::seeded_rng;

struct PeakCounting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only updates counters.
unsafe impl GlobalAlloc for PeakCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: PeakCounting = PeakCounting;

/// Extra heap, in bytes, that `f` needed at its peak.
fn peak_extra(f: impl FnOnce()) -> usize {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst) - base
}

const MIB: usize = 1 << 20;

/// A gzip file of an IDX header declaring `dims`, then `zeros` zero bytes.
fn gzip_bomb(dims: &[u32], zeros: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&[0, 0, 0x08, dims.len() as u8]).unwrap();
    for d in dims {
        encoder.write_all(&d.to_be_bytes()).unwrap();
    }
    let block = vec![0u8; MIB];
    for _ in 0..zeros / MIB {
        encoder.write_all(&block).unwrap();
    }
    encoder.finish().unwrap()
}

/// The error of parsing IDX `bytes`, and the extra heap it needed at its peak.
fn idx_failing(bytes: &[u8]) -> (String, usize) {
    let mut error = String::new();
    let extra = peak_extra(|| error = parse_idx(bytes, "bomb.gz").unwrap_err().to_string());
    (error, extra)
}

/// 16 MiB of zeros squeeze into ~16 KB of gzip; each header lies about them.
fn gzip_bombs_are_rejected_without_inflating_them() {
    // 2 GiB declared: beyond the reader's limit, rejected from the header.
    let (error, extra) = idx_failing(&gzip_bomb(&[32768, 256, 256], 16 * MIB));
    assert_eq!(
        error,
        "bomb.gz: dimensions [32768, 256, 256] declare 2147483648 bytes of data, \
         more than the 1073741824 this reader accepts"
    );
    assert!(
        extra < MIB,
        "rejecting a 2 GiB header allocated {extra} bytes"
    );

    // 512 MiB declared: within the limit, but more than ~16 KB of DEFLATE can
    // ever expand to.
    let beyond_deflate = gzip_bomb(&[8192, 256, 256], 16 * MIB);
    assert!(beyond_deflate.len() * 1032 < 512 * MIB);
    let (error, extra) = idx_failing(&beyond_deflate);
    assert!(
        error.starts_with("bomb.gz: truncated or corrupt: dimensions [8192, 256, 256]"),
        "{error}"
    );
    assert!(
        extra < MIB,
        "rejecting a 512 MiB header allocated {extra} bytes"
    );

    // 1 MiB declared, 16 MiB present: decompression stops after 1 MiB.
    let (error, extra) = idx_failing(&gzip_bomb(&[1024, 1024], 16 * MIB));
    assert_eq!(
        error,
        "bomb.gz: longer than its header says: dimensions [1024, 1024] need 1048576 bytes \
         of data, found more"
    );
    assert!(
        extra < MIB + 256 * 1024,
        "reading 1 MiB of a 16 MiB stream allocated {extra} bytes"
    );
}

#[test]
fn lying_headers_cost_no_memory() {
    gzip_bombs_are_rejected_without_inflating_them();

    // IDX images header: 4,000,000,000 x 28 x 28, then 100 bytes of data.
    let mut idx = vec![0, 0, 0x08, 3];
    for d in [4_000_000_000u32, 28, 28] {
        idx.extend_from_slice(&d.to_be_bytes());
    }
    idx.extend_from_slice(&[7; 100]);
    let extra = peak_extra(|| assert!(parse_idx(&idx, "lying.idx").is_err()));
    assert!(
        extra < 64 * 1024,
        "parsing a lying IDX header allocated {extra} bytes"
    );

    // A checkpoint whose length field claims an exabyte.
    let mut checkpoint = Checkpoint::from_module(&Dense::new(2, 2, &mut seeded_rng(0))).to_bytes();
    checkpoint[12..20].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let extra = peak_extra(|| assert!(Checkpoint::from_bytes(&checkpoint).is_err()));
    assert!(
        extra < 64 * 1024,
        "parsing a lying checkpoint header allocated {extra} bytes"
    );

    // A checkpoint with a valid header and checksum whose payload claims a
    // 2^60-byte tensor: the decoder must check the claim against the bytes
    // present before allocating.
    let header = br#"{"w":{"dtype":"F32","shape":[288230376151711744],"data_offsets":[0,1152921504606846976]}}"#;
    let mut payload = (header.len() as u64).to_le_bytes().to_vec();
    payload.extend_from_slice(header);
    payload.extend_from_slice(&[0; 16]);
    let mut lying = checkpoint[..12].to_vec();
    lying.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    lying.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    lying.extend_from_slice(&payload);
    let extra = peak_extra(|| {
        let err = Checkpoint::from_bytes(&lying).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
    });
    assert!(
        extra < 64 * 1024,
        "parsing a checkpoint payload that claims 2^60 bytes allocated {extra} bytes"
    );
}
