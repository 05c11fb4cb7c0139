//! Gzip bombs and lying IDX headers are rejected with a clear error and
//! without the memory they claim: peak heap use while parsing stays within
//! what the header may honestly declare. This test binary counts every
//! allocation, so it holds this one test only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use descent_data::parse_idx;

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

const MIB: usize = 1 << 20;

/// The error of parsing `bytes`, and the extra heap, in bytes, it needed at
/// its peak.
fn parse_failing(bytes: &[u8]) -> (String, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let error = parse_idx(bytes, "bomb.gz").unwrap_err().to_string();
    (error, PEAK.load(Ordering::SeqCst) - base)
}

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

#[test]
fn gzip_bombs_are_rejected_without_inflating_them() {
    // 16 MiB of zeros squeeze into ~16 KB; each header below lies about them.

    // 2 GiB declared: beyond the reader's limit, rejected from the header.
    let over_limit = gzip_bomb(&[32768, 256, 256], 16 * MIB);
    let (error, extra) = parse_failing(&over_limit);
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
    let (error, extra) = parse_failing(&beyond_deflate);
    assert!(
        error.starts_with("bomb.gz: truncated or corrupt: dimensions [8192, 256, 256]"),
        "{error}"
    );
    assert!(
        extra < MIB,
        "rejecting a 512 MiB header allocated {extra} bytes"
    );

    // 1 MiB declared, 16 MiB present: decompression stops after 1 MiB.
    let longer = gzip_bomb(&[1024, 1024], 16 * MIB);
    let (error, extra) = parse_failing(&longer);
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
