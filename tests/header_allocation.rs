//! A header claiming billions of items must not make a reader allocate for
//! them: peak heap use while parsing such files stays tiny. This test binary
//! counts every allocation, so it holds this one test only.

use std::alloc::{GlobalAlloc, Layout, System};
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

#[test]
fn lying_headers_cost_no_memory() {
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
