//! Element loops compiled for the widest vectors the machine has.
//!
//! The crate is built for baseline x86-64, where an update loop vectorizes
//! 4 lanes wide (SSE). Compiled again with AVX2 it runs 8 lanes wide: the
//! same IEEE operations on each element in the same order (Rust never
//! contracts a multiply and an add into an FMA), so the same bits, but
//! Adam's two divisions and square root per element cost half as much.

/// Runs `pass`, compiled with AVX2 where the machine has it. `pass` and
/// the loop it calls must be `#[inline(always)]`, so that they are compiled
/// into the AVX2 copy rather than called from it.
#[inline(always)]
pub(crate) fn widest(pass: impl FnOnce()) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the machine has AVX2.
        unsafe { with_avx2(pass) };
        return;
    }
    pass();
}

/// # Safety
/// The machine must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn with_avx2(pass: impl FnOnce()) {
    pass();
}
