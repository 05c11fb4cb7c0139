//! The multiply-add kernel of the direct convolutions, for two instruction
//! sets: AVX2 with FMA (8 floats a vector, 16 registers) and AVX-512 (16
//! floats, 32 registers).
//!
//! Both give the same bits: every output lane is one chain of fused
//! multiply-adds over `k` in order. On AMD Zen 4 a 512-bit FMA costs two
//! 256-bit ones, so AVX-512 wins not by width but by halving the
//! instructions per multiply-add and by folding the broadcast of `B` into
//! the FMA's memory operand.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The most floats a tile spans: two vectors of the widest instruction set.
const MAX_TILE_WIDTH: usize = 32;

/// Floats past the end of every `A` operand the kernel may read: whole
/// tiles are loaded, and lanes past the operand's width are discarded.
pub(super) const SLACK: usize = MAX_TILE_WIDTH;

/// Columns of `B` a tile covers: with two vectors of `A`, twelve
/// accumulators, which leaves AVX2 registers for `A` and a broadcast.
const COLUMNS: usize = 6;

/// Columns of the AVX-512 tile where they pad less than [`COLUMNS`]:
/// sixteen accumulators of its 32 registers.
const WIDE_COLUMNS: usize = 8;

/// Columns of the one-vector AVX-512 tile where they pad less than six or
/// eight: the 25 taps of a 5x5 kernel, whose weight gradient would
/// otherwise compute 30 or 32. Five chains still cover the FMA latency.
const FIVE_COLUMNS: usize = 5;

/// Columns of the AVX-512 tile where seven pad least: the 7x7 blocks of a
/// Winograd convolution's 14x14 output, which six or eight would pad by
/// a tenth.
const SEVEN_COLUMNS: usize = 7;

/// Offsets into an operand with their maximum, found once when a plan is
/// built rather than on every product that bounds-checks them.
pub(super) struct Offsets {
    list: Vec<u32>,
    max: usize,
}

impl Offsets {
    pub(super) fn new(list: Vec<u32>) -> Offsets {
        let max = list.iter().max().map_or(0, |&m| m as usize);
        Offsets { list, max }
    }
}

impl FromIterator<u32> for Offsets {
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Offsets {
        Offsets::new(iter.into_iter().collect())
    }
}

impl std::ops::Deref for Offsets {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        &self.list
    }
}

/// One product `C[channel, column] = sum over k of A[k, channel] * B[k, column]`
/// with `A[k, channel] = a[a_rows[k] + channel]` (`channel < a_width`) and
/// `B[k, column] = b[b_rows[k] + columns[column]]`.
pub(super) struct Tile<'a> {
    pub(super) a: &'a [f32],
    pub(super) a_rows: &'a Offsets,
    pub(super) a_width: usize,
    pub(super) b: &'a [f32],
    pub(super) b_rows: &'a Offsets,
}

/// Where a product's results go, plus a bias per output channel if given.
pub(super) struct Output<'a> {
    out: &'a mut [f32],
    stride: usize,
    bias: Option<&'a [f32]>,
    /// `out[column * stride + channel]`, the bias indexed by column, rather
    /// than `out[channel * stride + column]` with the bias by channel.
    by_column: bool,
}

impl Output<'_> {
    /// Results at `out[channel * stride + column]`.
    pub(super) fn rows<'a>(
        out: &'a mut [f32],
        stride: usize,
        bias: Option<&'a [f32]>,
    ) -> Output<'a> {
        Output {
            out,
            stride,
            bias,
            by_column: false,
        }
    }

    /// Results at `out[column * stride + channel]`.
    pub(super) fn columns<'a>(
        out: &'a mut [f32],
        stride: usize,
        bias: Option<&'a [f32]>,
    ) -> Output<'a> {
        Output {
            out,
            stride,
            bias,
            by_column: true,
        }
    }

    /// Writes `count` columns from `column0` of channels `channel0..` of
    /// an `out[channel * stride + column]` output, with `lanes[t][c]` the
    /// value of column `column0 + t` and channel `channel0 + c`.
    fn write_rows(
        &mut self,
        channel0: usize,
        channels: usize,
        column0: usize,
        count: usize,
        lanes: &[[f32; MAX_TILE_WIDTH]],
    ) {
        for c in 0..channels {
            let channel = channel0 + c;
            let bias = self.bias.map_or(0.0, |b| b[channel]);
            let row = &mut self.out[channel * self.stride + column0..][..count];
            for (o, lanes) in row.iter_mut().zip(lanes) {
                *o = lanes[c] + bias;
            }
        }
    }

    /// Stores `count` columns from `column0` of an `out[column * stride +
    /// channel]` output straight from the accumulators: `acc[t][v]` holds
    /// channels `channel0 + LANES v ..` of column `column0 + t`.
    ///
    /// # Safety
    /// The instruction set of `S` must be available.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn store_columns<S: Vector, const V: usize, const T: usize>(
        &mut self,
        channel0: usize,
        channels: usize,
        column0: usize,
        count: usize,
        acc: &[[S; V]; T],
    ) {
        for (t, acc) in acc.iter().enumerate().take(count) {
            let column = column0 + t;
            let bias = self.bias.map_or(0.0, |b| b[column]);
            let row = &mut self.out[column * self.stride + channel0..][..channels];
            for (v, &vector) in acc.iter().enumerate() {
                let first = S::LANES * v;
                if first >= channels {
                    break;
                }
                let n = (channels - first).min(S::LANES);
                // SAFETY: lanes `first..first + n` lie inside `row`; the
                // instruction set is available (the caller's promise).
                unsafe {
                    vector
                        .add_splat(bias)
                        .store_first(row.as_mut_ptr().add(first), n)
                };
            }
        }
    }
}

impl Tile<'_> {
    /// Computes every output into `output`.
    pub(super) fn run_columns(&self, columns: &Offsets, output: Output<'_>) {
        run_columns_summed(std::slice::from_ref(self), columns, output);
    }

    /// Checks that every offset the kernel will read lies inside the slices.
    fn check(&self, columns: &Offsets) {
        assert_eq!(
            self.a_rows.len(),
            self.b_rows.len(),
            "direct conv: reduction lengths differ"
        );
        // Whole tiles are read, up to `SLACK` past the width.
        let read = self.a_width.div_ceil(MAX_TILE_WIDTH) * MAX_TILE_WIDTH;
        let a_max = self.a_rows.max + read;
        let b_max = self.b_rows.max + columns.max;
        assert!(
            a_max <= self.a.len() && (self.b_rows.is_empty() || b_max < self.b.len()),
            "direct conv: offsets out of bounds"
        );
    }
}

/// An instruction set the kernel runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    Avx2,
    Avx512,
}

impl Kernel {
    /// The widest this machine has; the direct path is planned only where
    /// AVX2 and FMA are present.
    fn best() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            return Kernel::Avx512;
        }
        Kernel::Avx2
    }
}

/// The outputs of several tiles with the same shape summed (the weight
/// gradient over the images of a group), each channel block and column
/// block summed in registers over every tile's `k`, in tile order.
pub(super) fn run_columns_summed(tiles: &[Tile<'_>], columns: &Offsets, output: Output<'_>) {
    run_on(Kernel::best(), tiles, columns, output);
}

/// [`run_columns_summed`] on the given instruction set.
fn run_on(kernel: Kernel, tiles: &[Tile<'_>], columns: &Offsets, mut output: Output<'_>) {
    let Some(first) = tiles.first() else {
        return;
    };
    for tile in tiles {
        assert_eq!(
            tile.a_width, first.a_width,
            "direct conv: tiles differ in width"
        );
        tile.check(columns);
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `available()` was checked by the caller before planning a
    // direct convolution, `Kernel::best` checked AVX-512, and `check`
    // bounded every offset.
    unsafe {
        match kernel {
            Kernel::Avx2 => with_avx2(tiles, columns, &mut output),
            Kernel::Avx512 => with_avx512(tiles, columns, &mut output),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (kernel, columns, &mut output);
        unreachable!("direct convolution planned without AVX2");
    }
}

/// # Safety
/// AVX2 and FMA must be available; offsets as [`blocks`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2(tiles: &[Tile<'_>], columns: &Offsets, output: &mut Output<'_>) {
    // SAFETY: forwarded from the caller.
    unsafe { blocks::<Avx2, 2, COLUMNS>(tiles, columns, output) }
}

/// # Safety
/// AVX-512F must be available; offsets as [`blocks`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn with_avx512(tiles: &[Tile<'_>], columns: &Offsets, output: &mut Output<'_>) {
    // A second vector would be all padding for 16 channels or fewer. The
    // 32 registers also hold tiles of 8 columns; of the tile widths, the
    // one that pads the columns least runs (the widest among equals).
    let narrow = tiles[0].a_width <= Avx512::LANES;
    let widths: &[usize] = if narrow {
        &[WIDE_COLUMNS, SEVEN_COLUMNS, COLUMNS, FIVE_COLUMNS]
    } else {
        &[WIDE_COLUMNS, SEVEN_COLUMNS, COLUMNS]
    };
    let padded = |t: usize| columns.len().div_ceil(t) * t;
    let best = widths
        .iter()
        .copied()
        .min_by_key(|&t| padded(t))
        .expect("widths to choose from");
    // SAFETY: forwarded from the caller.
    unsafe {
        match (narrow, best) {
            (true, WIDE_COLUMNS) => blocks::<Avx512, 1, WIDE_COLUMNS>(tiles, columns, output),
            (true, SEVEN_COLUMNS) => blocks::<Avx512, 1, SEVEN_COLUMNS>(tiles, columns, output),
            (true, COLUMNS) => blocks::<Avx512, 1, COLUMNS>(tiles, columns, output),
            (true, _) => blocks::<Avx512, 1, FIVE_COLUMNS>(tiles, columns, output),
            (false, WIDE_COLUMNS) => blocks::<Avx512, 2, WIDE_COLUMNS>(tiles, columns, output),
            (false, SEVEN_COLUMNS) => blocks::<Avx512, 2, SEVEN_COLUMNS>(tiles, columns, output),
            (false, _) => blocks::<Avx512, 2, COLUMNS>(tiles, columns, output),
        }
    }
}

/// The vector operations the kernel needs. The methods are always inlined
/// into a function compiled for the instruction set, where their
/// intrinsics inline in turn.
#[cfg(target_arch = "x86_64")]
trait Vector: Copy {
    /// Floats in a vector.
    const LANES: usize;
    /// # Safety
    /// The instruction set must be available.
    unsafe fn zero() -> Self;
    /// # Safety
    /// As [`Vector::zero`], and `LANES` floats must be readable at `p`.
    unsafe fn load(p: *const f32) -> Self;
    /// `acc + a * (the float at b)`.
    ///
    /// # Safety
    /// As [`Vector::zero`], and `b` must be readable.
    unsafe fn fma_broadcast(a: Self, b: *const f32, acc: Self) -> Self;
    /// # Safety
    /// As [`Vector::zero`], and `LANES` floats must be writable at `p`.
    unsafe fn store(self, p: *mut f32);
    /// `self + x` in every lane.
    ///
    /// # Safety
    /// As [`Vector::zero`].
    unsafe fn add_splat(self, x: f32) -> Self;
    /// Stores the first `n` lanes (`n <= LANES`).
    ///
    /// # Safety
    /// As [`Vector::zero`], and `n` floats must be writable at `p`.
    unsafe fn store_first(self, p: *mut f32, n: usize);
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Avx2(__m256);

#[cfg(target_arch = "x86_64")]
impl Vector for Avx2 {
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Avx2(unsafe { _mm256_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Avx2(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn fma_broadcast(a: Self, b: *const f32, acc: Self) -> Self {
        Avx2(unsafe { _mm256_fmadd_ps(a.0, _mm256_set1_ps(*b), acc.0) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm256_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn add_splat(self, x: f32) -> Self {
        Avx2(unsafe { _mm256_add_ps(self.0, _mm256_set1_ps(x)) })
    }
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, n: usize) {
        unsafe {
            let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), lanes);
            _mm256_maskstore_ps(p, mask, self.0)
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Avx512(__m512);

#[cfg(target_arch = "x86_64")]
impl Vector for Avx512 {
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> Self {
        Avx512(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Avx512(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn fma_broadcast(a: Self, b: *const f32, acc: Self) -> Self {
        Avx512(unsafe { _mm512_fmadd_ps(a.0, _mm512_set1_ps(*b), acc.0) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn add_splat(self, x: f32) -> Self {
        Avx512(unsafe { _mm512_add_ps(self.0, _mm512_set1_ps(x)) })
    }
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, n: usize) {
        let mask = (1u32 << n).wrapping_sub(1) as __mmask16;
        unsafe { _mm512_mask_storeu_ps(p, mask, self.0) }
    }
}

/// Runs the kernel over blocks of `V` vectors of channels by `T` columns.
///
/// # Safety
/// Called from a function compiled for `S`'s instruction set, on a machine
/// that has it; every offset the tiles and `columns` form must lie inside
/// their slices (see [`Tile::check`]), and `S::LANES * V <= MAX_TILE_WIDTH`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn blocks<S: Vector, const V: usize, const T: usize>(
    tiles: &[Tile<'_>],
    columns: &Offsets,
    output: &mut Output<'_>,
) {
    let width = tiles[0].a_width;
    for channel0 in (0..width).step_by(S::LANES * V) {
        for column0 in (0..columns.len()).step_by(T) {
            let count = (columns.len() - column0).min(T);
            // Columns past the end repeat offset 0: read, never stored.
            let mut offsets = [0u32; T];
            offsets[..count].copy_from_slice(&columns[column0..column0 + count]);
            // SAFETY: the instruction set is available (the caller's promise).
            let mut acc = [[unsafe { S::zero() }; V]; T];
            for tile in tiles {
                // SAFETY: forwarded from the caller.
                acc = unsafe { accumulate(acc, tile, channel0, &offsets) };
            }
            let channels = width.saturating_sub(channel0).min(S::LANES * V);
            if output.by_column {
                // SAFETY: the instruction set is available.
                unsafe { output.store_columns(channel0, channels, column0, count, &acc) };
                continue;
            }
            // Spilled whole, never indexed by `count`, so `acc` stays in
            // registers in the loop above; written out from memory after.
            let mut lanes = [[0.0f32; MAX_TILE_WIDTH]; T];
            for (row, acc) in lanes.iter_mut().zip(&acc) {
                for (v, &vector) in acc.iter().enumerate() {
                    // SAFETY: a row holds `MAX_TILE_WIDTH >= S::LANES * V` floats.
                    unsafe { vector.store(row.as_mut_ptr().add(S::LANES * v)) };
                }
            }
            output.write_rows(channel0, channels, column0, count, &lanes);
        }
    }
}

/// `acc[t][v] += A[k, channel0 + LANES v ..] * B[k, offsets[t]]` over every `k`.
///
/// # Safety
/// As [`blocks`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn accumulate<S: Vector, const V: usize, const T: usize>(
    mut acc: [[S; V]; T],
    tile: &Tile<'_>,
    channel0: usize,
    offsets: &[u32; T],
) -> [[S; V]; T] {
    let a = tile.a.as_ptr().wrapping_add(channel0);
    let b = tile.b.as_ptr();
    for (&a_row, &b_row) in tile.a_rows.iter().zip(tile.b_rows.iter()) {
        // SAFETY: inside `a` and its slack, and inside `b`, by the caller's
        // check; the instruction set is available.
        unsafe {
            let a_row = a.add(a_row as usize);
            let mut av = [S::zero(); V];
            for (v, value) in av.iter_mut().enumerate() {
                *value = S::load(a_row.add(S::LANES * v));
            }
            let b_row = b.add(b_row as usize);
            for t in 0..T {
                let b = b_row.add(offsets[t] as usize);
                for v in 0..V {
                    acc[t][v] = S::fma_broadcast(av[v], b, acc[t][v]);
                }
            }
        }
    }
    acc
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::{Tensor, seeded_rng};

    /// Normal floats from a fixed seed.
    fn floats(len: usize, seed: u64) -> Vec<f32> {
        Tensor::randn([len], &mut seeded_rng(seed)).to_vec()
    }

    #[test]
    fn both_instruction_sets_and_layouts_give_the_bits_of_one_fma_chain_per_output() {
        if !crate::conv::direct::available() {
            return;
        }
        let kernels: &[Kernel] = if std::is_x86_feature_detected!("avx512f") {
            &[Kernel::Avx2, Kernel::Avx512]
        } else {
            eprintln!("no AVX-512 here: checking the AVX2 kernel alone");
            &[Kernel::Avx2]
        };
        // Widths below, at and past each vector and tile; column counts
        // with and without a partial block, and one for each tile width;
        // several tiles summed.
        for (width, k, columns, tiles) in [
            (1, 3, 1, 1),
            (7, 16, 5, 1),
            (16, 25, 13, 2),
            (17, 9, 6, 1),
            (32, 40, 7, 3),
            (45, 11, 20, 2),
            (28, 25, 16, 1),
            // One vector: the column counts that 6, 8, 5 and 7 pad least.
            (16, 25, 12, 1),
            (9, 10, 16, 2),
            (12, 7, 25, 1),
            (16, 16, 49, 1),
            // Two vectors: seven pads least.
            (32, 16, 49, 1),
        ] {
            let a: Vec<Vec<f32>> = (0..tiles)
                .map(|i| floats(k * width + SLACK, i as u64 + 1))
                .collect();
            let b: Vec<Vec<f32>> = (0..tiles)
                .map(|i| floats(k + 3 * columns, i as u64 + 100))
                .collect();
            let a_rows: Offsets = (0..k).map(|r| (r * width) as u32).collect();
            let b_rows: Offsets = (0..k).map(|r| r as u32).collect();
            let column_offsets: Offsets = (0..columns).map(|c| (3 * c) as u32).collect();
            let tiles: Vec<Tile<'_>> = a
                .iter()
                .zip(&b)
                .map(|(a, b)| Tile {
                    a,
                    a_rows: &a_rows,
                    a_width: width,
                    b,
                    b_rows: &b_rows,
                })
                .collect();
            let mut expected = vec![0.0f32; width * columns];
            for channel in 0..width {
                for column in 0..columns {
                    let mut sum = 0.0f32;
                    for tile in &tiles {
                        for r in 0..k {
                            let b = tile.b[r + 3 * column];
                            sum = tile.a[r * width + channel].mul_add(b, sum);
                        }
                    }
                    expected[channel * columns + column] = sum;
                }
            }
            let by_channel = floats(width, 7);
            let by_column = floats(columns, 8);
            for &kernel in kernels {
                // Channel-major output with a bias per channel.
                let mut out = vec![f32::NAN; width * columns];
                let output = Output::rows(&mut out, columns, Some(&by_channel));
                run_on(kernel, &tiles, &column_offsets, output);
                let same = (0..width * columns).all(|i| {
                    let want = expected[i] + by_channel[i / columns];
                    out[i].to_bits() == want.to_bits()
                });
                assert!(
                    same,
                    "{kernel:?} rows, width {width}, k {k}, {columns} columns"
                );
                // Column-major output with a bias per column.
                let mut out = vec![f32::NAN; width * columns];
                let output = Output::columns(&mut out, width, Some(&by_column));
                run_on(kernel, &tiles, &column_offsets, output);
                let same = (0..width * columns).all(|i| {
                    let (column, channel) = (i / width, i % width);
                    let want = expected[channel * columns + column] + by_column[column];
                    out[i].to_bits() == want.to_bits()
                });
                assert!(
                    same,
                    "{kernel:?} columns, width {width}, k {k}, {columns} columns"
                );
            }
        }
    }
}
