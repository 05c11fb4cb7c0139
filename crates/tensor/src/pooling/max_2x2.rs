//! 2x2 max pooling with stride 2, the CNN's common case, one output row
//! at a time: vector kernels for AVX2 and AVX-512 beside the scalar
//! definition they must match bit for bit.

use super::replaces;

/// One output row of 2x2 max pooling with stride 2 from the two input
/// rows in `rows` (each `width` long, the first at plane offset `top`):
/// sixteen outputs at a time with AVX-512, or eight with AVX2, where the
/// machine has them.
pub(super) fn max_2x2(rows: &[f32], width: usize, top: usize, out: &mut [f32], at: &mut [f32]) {
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: AVX-512 is available.
        done = unsafe { max_2x2_avx512(rows, width, top, out, at) };
    } else if std::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is available.
        done = unsafe { max_2x2_avx2(rows, width, top, out, at) };
    }
    max_2x2_from(done, rows, width, top, out, at);
}

/// [`max_2x2`] from output `first` on, one output at a time.
fn max_2x2_from(
    first: usize,
    rows: &[f32],
    width: usize,
    top: usize,
    out: &mut [f32],
    at: &mut [f32],
) {
    let (upper, lower) = rows.split_at(width);
    for x in first..out.len() {
        let (u, l) = (&upper[2 * x..2 * x + 2], &lower[2 * x..2 * x + 2]);
        let (mut best, mut offset) = (u[0], 0);
        for (v, position) in [(u[1], 1), (l[0], width), (l[1], width + 1)] {
            if replaces(v, best) {
                best = v;
                offset = position;
            }
        }
        out[x] = best;
        at[x] = (top + 2 * x + offset) as f32;
    }
}

/// The outputs of [`max_2x2`] eight at a time, the last block masked;
/// returns how many it wrote (all of them). Positions are built as `f32`
/// offsets, exact below 2^24 (checked by the caller).
///
/// # Safety
/// AVX2 must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn max_2x2_avx2(
    rows: &[f32],
    width: usize,
    top: usize,
    out: &mut [f32],
    at: &mut [f32],
) -> usize {
    use std::arch::x86_64::*;

    let outputs = out.len().min(width / 2);
    let (upper, lower) = rows.split_at(width);
    let index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // Lanes below `n` (0 to 8) set.
    let mask = |n: usize| _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), index);
    // Even and odd columns of the 16 from column 2x, of which `pairs` pairs
    // exist; in the lane order the shuffles leave: outputs 0, 1, 4, 5 |
    // 2, 3, 6, 7 (undone by `in_order`).
    let split = |row: &[f32], x: usize, pairs: usize| {
        // SAFETY: the masks admit only columns 2x..2x + 2 pairs, inside the row.
        let (a, b) = unsafe {
            (
                _mm256_maskload_ps(row.as_ptr().add(2 * x), mask((2 * pairs).min(8))),
                _mm256_maskload_ps(
                    row.as_ptr().wrapping_add(2 * x + 8),
                    mask((2 * pairs).saturating_sub(8)),
                ),
            )
        };
        (
            _mm256_shuffle_ps::<0b10_00_10_00>(a, b),
            _mm256_shuffle_ps::<0b11_01_11_01>(a, b),
        )
    };
    let in_order =
        |v: __m256| _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)));
    // The plane offset of each output's first column, in the shuffled order.
    let lanes = _mm256_setr_ps(0.0, 2.0, 8.0, 10.0, 4.0, 6.0, 12.0, 14.0);
    for x in (0..outputs).step_by(8) {
        let count = (outputs - x).min(8);
        let ((a, b), (c, d)) = (split(upper, x, count), split(lower, x, count));
        let (mut best, mut offset) = (a, _mm256_setzero_ps());
        for (v, position) in [(b, 1.0), (c, width as f32), (d, width as f32 + 1.0)] {
            // PyTorch's test, `v > best || v is NaN`, as a lane mask.
            let take = _mm256_or_ps(
                _mm256_cmp_ps::<_CMP_GT_OQ>(v, best),
                _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v),
            );
            best = _mm256_blendv_ps(best, v, take);
            offset = _mm256_blendv_ps(offset, _mm256_set1_ps(position), take);
        }
        let first = _mm256_add_ps(_mm256_set1_ps((top + 2 * x) as f32), lanes);
        let positions = _mm256_add_ps(first, offset);
        // SAFETY: the mask admits only outputs x..x + count, inside `out` and `at`.
        unsafe {
            _mm256_maskstore_ps(out.as_mut_ptr().add(x), mask(count), in_order(best));
            _mm256_maskstore_ps(at.as_mut_ptr().add(x), mask(count), in_order(positions));
        }
    }
    outputs
}

/// The outputs of [`max_2x2`] sixteen at a time under lane masks, which
/// AVX-512 applies to loads and stores at full speed (AVX2's masked stores
/// are slow on AMD); returns how many it wrote (all of them).
///
/// # Safety
/// AVX-512F must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn max_2x2_avx512(
    rows: &[f32],
    width: usize,
    top: usize,
    out: &mut [f32],
    at: &mut [f32],
) -> usize {
    use std::arch::x86_64::*;

    let outputs = out.len().min(width / 2);
    let (upper, lower) = rows.split_at(width);
    // Lanes below `n` (0 to 16) set.
    let mask = |n: usize| ((1u32 << n) - 1) as __mmask16;
    let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    let odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    // Even and odd columns of the 32 from column 2x, of which `pairs` pairs exist.
    let split = |row: &[f32], x: usize, pairs: usize| {
        // SAFETY: the masks admit only columns 2x..2x + 2 pairs, inside the
        // row, and masked-off lanes are neither read nor faulted on.
        let (a, b) = unsafe {
            (
                _mm512_maskz_loadu_ps(mask((2 * pairs).min(16)), row.as_ptr().add(2 * x)),
                _mm512_maskz_loadu_ps(
                    mask((2 * pairs).saturating_sub(16)),
                    row.as_ptr().wrapping_add(2 * x + 16),
                ),
            )
        };
        (
            _mm512_permutex2var_ps(a, even, b),
            _mm512_permutex2var_ps(a, odd, b),
        )
    };
    // The plane offset of each output's first column.
    let lanes = _mm512_cvtepi32_ps(even);
    for x in (0..outputs).step_by(16) {
        let count = (outputs - x).min(16);
        let ((a, b), (c, d)) = (split(upper, x, count), split(lower, x, count));
        let (mut best, mut offset) = (a, _mm512_setzero_ps());
        for (v, position) in [(b, 1.0), (c, width as f32), (d, width as f32 + 1.0)] {
            // PyTorch's test, `v > best || v is NaN`, as a lane mask.
            let take = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, best)
                | _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v);
            best = _mm512_mask_mov_ps(best, take, v);
            offset = _mm512_mask_mov_ps(offset, take, _mm512_set1_ps(position));
        }
        let first = _mm512_add_ps(_mm512_set1_ps((top + 2 * x) as f32), lanes);
        let positions = _mm512_add_ps(first, offset);
        // SAFETY: the mask admits only outputs x..x + count, inside `out` and `at`.
        unsafe {
            _mm512_mask_storeu_ps(out.as_mut_ptr().add(x), mask(count), best);
            _mm512_mask_storeu_ps(at.as_mut_ptr().add(x), mask(count), positions);
        }
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Tensor, seeded_rng};

    /// The vector 2x2 poolings this machine can run, by name.
    fn vector_2x2_poolings() -> Vec<(&'static str, VectorPooling)> {
        let mut found: Vec<(&'static str, VectorPooling)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F is available.
                found.push(("avx512", |r, w, t, o, a| unsafe {
                    max_2x2_avx512(r, w, t, o, a)
                }));
            }
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 is available.
                found.push(("avx2", |r, w, t, o, a| unsafe {
                    max_2x2_avx2(r, w, t, o, a)
                }));
            }
        }
        found
    }

    type VectorPooling = fn(&[f32], usize, usize, &mut [f32], &mut [f32]) -> usize;

    #[test]
    fn vector_and_scalar_2x2_pooling_agree_on_ties_and_nan() {
        // Widths give full and partial vector blocks; values on a coarse
        // grid tie often; a few NaN.
        for width in [15, 28, 45, 66] {
            let rows: Vec<f32> = Tensor::randn([2 * width], &mut seeded_rng(9))
                .data()
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    if i % 17 == 5 {
                        f32::NAN
                    } else {
                        (v * 2.0).round()
                    }
                })
                .collect();
            let outputs = width / 2;
            let (mut expected, mut expected_at) = (vec![0.0; outputs], vec![0.0; outputs]);
            max_2x2_from(0, &rows, width, 90, &mut expected, &mut expected_at);
            assert!(expected.iter().any(|v| v.is_nan()));
            for (name, pooling) in vector_2x2_poolings() {
                let (mut out, mut at) = (vec![0.0; outputs], vec![0.0; outputs]);
                assert_eq!(pooling(&rows, width, 90, &mut out, &mut at), outputs);
                for x in 0..outputs {
                    let context = format!("{name}, width {width}, output {x}");
                    assert_eq!(out[x].to_bits(), expected[x].to_bits(), "{context}");
                    assert_eq!(at[x], expected_at[x], "{context}");
                }
            }
        }
    }
}
