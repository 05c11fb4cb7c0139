//! Winograd's minimal filtering F(2x2, 5x5) for stride-1 5x5 convolutions:
//! each 2x2 block of outputs comes from a 6x6 block of input through
//!
//! `Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A`
//!
//! summed over input channels inside the `⊙` (Lavin and Gray, "Fast
//! Algorithms for Convolutional Neural Networks", 2016). The sum over
//! channels becomes 36 independent products, one per position of the 6x6
//! transformed block, each `[channels] x [channels, out]` for every block:
//! 36 multiply-adds per output block and channel pair where the direct
//! kernel spends 100. The products run on the direct kernel ([`Tile`]);
//! the transforms are vectorized additions around them.
//!
//! The weight gradient runs through the same transforms ([`WeightGrad`]).
//!
//! The transforms use the points 0, ±1, ±2 and ∞, whose small integer
//! coefficients keep float32 results within a few ulps of the direct sum's
//! scale for the forward pass and input gradient; the weight gradient's
//! error is larger, up to ~3e-5 of its largest value, because its transformed
//! products are larger than the gradient they sum to (the tests compare
//! all three with the definition).
//!
//! Layouts, per image: the transformed input `V[ξ][c][block]` (blocks in
//! rows of the output, so a row of blocks is contiguous), the transformed
//! weight `U[ξ][c][o]`, their products `M[block][ξ][o]`, and the output
//! block-transformed into `[pixel][o]` and transposed into `[o][pixel]`;
//! for the weight gradient, the transformed output gradient
//! `∂Ŷ[ξ][block][o]` and the sums `S[ξ][c][o]`.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::super::{Geometry, Pair};
use super::kernel::{Offsets, Output, SLACK, Tile, run_columns_summed};
use super::{Padded, rows, transpose};

/// Kernel size: the transforms below are F(2, 5)'s.
pub(super) const KERNEL: usize = 5;
/// Side of the transformed block: 2 outputs plus the kernel less one.
const ALPHA: usize = 6;
/// Positions of a transformed block.
const POSITIONS: usize = ALPHA * ALPHA;
/// Outputs per block side.
const BLOCK: usize = 2;
/// Lanes of the transforms' vectors (AVX2).
const LANES: usize = 8;

/// G: the filter transform, in f64 (it runs once per weight, and its
/// fractions are not exact in f32).
const FILTER: [[f64; KERNEL]; ALPHA] = [
    [1.0 / 4.0, 0.0, 0.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0, 1.0 / 3.0, 2.0 / 3.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0, -1.0 / 3.0, 2.0 / 3.0],
    [0.0, 0.0, 0.0, 0.0, 1.0],
];

/// The sizes a Winograd convolution needs: a 5x5 kernel, stride 1,
/// dilation 1, one group, outputs in whole AVX2 vectors (the output
/// transform runs along them) and enough inputs to repay the transforms.
pub(super) fn fits(g: &Geometry, reduction: usize, outputs: usize) -> bool {
    let o = g.options;
    g.kernel == Pair::from(KERNEL)
        && o.stride == Pair::from(1)
        && o.dilation == Pair::from(1)
        && o.groups == 1
        && reduction >= LANES
        && outputs.is_multiple_of(LANES)
}

/// How `[inputs, h, w]` images are zero-padded and cut into the 6x6 input
/// blocks of 2x2 output blocks, and transformed into `V[ξ][c][block]`:
/// the input side of every Winograd pass.
struct Blocks {
    padded: Padded,
    /// Where source row and column 0 land in the padded plane.
    shift: [isize; 2],
    out: [usize; 2],
    /// Blocks down and across the output.
    down_across: [usize; 2],
    inputs: usize,
    /// Offsets of each input's transformed row in `V[ξ]`.
    input_rows: Offsets,
    /// Offsets of the blocks in a transformed row.
    block_offsets: Offsets,
}

impl Blocks {
    fn new(inputs: usize, src: [usize; 2], out: [usize; 2], shift: [isize; 2]) -> Blocks {
        let down_across = out.map(|size| size.div_ceil(BLOCK));
        let padded = Padded::new(
            inputs,
            src,
            [0, 0],
            down_across.map(|b| BLOCK * b + KERNEL - 1),
        );
        let count = down_across[0] * down_across[1];
        Blocks {
            padded,
            shift,
            out,
            down_across,
            inputs,
            input_rows: rows(inputs, row_stride(count)),
            block_offsets: rows(count, 1),
        }
    }

    fn count(&self) -> usize {
        self.down_across[0] * self.down_across[1]
    }

    fn row_stride(&self) -> usize {
        row_stride(self.count())
    }

    /// Floats of `V`.
    fn data_len(&self) -> usize {
        POSITIONS * self.inputs * self.row_stride()
    }

    /// Lengths of an image's scratch regions in a pass with `outputs`
    /// channels on the other side: padded input, `V`, the per-block data of
    /// the outputs (`M` or `∂Ŷ`, and the kernel's slack after it) and the
    /// outputs as `[pixel][o]`.
    fn regions(&self, outputs: usize) -> [usize; 4] {
        let [out_h, out_w] = self.out;
        [
            self.padded.len(),
            self.data_len(),
            POSITIONS * self.count() * outputs + SLACK,
            out_h * out_w * outputs,
        ]
    }

    /// Pads `src` into `padded` (`self.padded.len()` floats) and writes its
    /// transform into `data` ([`Blocks::data_len`] floats).
    fn transform(&self, src: &[f32], padded: &mut [f32], data: &mut [f32]) {
        self.padded.fill(src, padded, self.shift);
        assert!(
            super::available()
                && padded.len() >= self.padded.len()
                && data.len() >= self.data_len(),
            "winograd: planned without AVX2, or scratch too short"
        );
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA are available and the buffers are as long as
        // the transform indexes (checked above).
        unsafe {
            self.transform_data(padded, data)
        };
    }

    /// `V[ξ][c][block] = (Bᵀ d B)[ξ]` for the 6x6 block `d` of plane `c`,
    /// eight blocks of a row at a time. Vertically adjacent blocks share
    /// four rows, so each padded row's `d B` is computed once and kept in
    /// a ring of six. Blocks past a row's end are computed from whatever
    /// follows and land on the next row's first blocks (or in the spill
    /// after the last row): the eights run from the row's end back to its
    /// start, so the first eight of every row, which those spills reach,
    /// is written last.
    ///
    /// # Safety
    /// AVX2 and FMA must be available; `padded` and `data` must have the
    /// lengths [`Blocks::transform`] checks.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn transform_data(&self, padded: &[f32], data: &mut [f32]) {
        let (cols, plane) = (self.padded.cols, self.padded.plane());
        let (stride, per_position) = (self.row_stride(), self.inputs * self.row_stride());
        let [down, across] = self.down_across;
        let (src, dst) = (padded.as_ptr(), data.as_mut_ptr());
        let mut ring = [[_mm256_setzero_ps(); ALPHA]; ALPHA];
        for c in 0..self.inputs {
            for bx in (0..across).step_by(LANES).rev() {
                let first = src.wrapping_add(c * plane + BLOCK * bx);
                let mut next_row = 0;
                for by in 0..down {
                    while next_row < BLOCK * by + ALPHA {
                        let row = first.wrapping_add(next_row * cols);
                        let mut d = [_mm256_setzero_ps(); ALPHA];
                        for (j, d) in d.iter_mut().enumerate() {
                            // SAFETY: 16 floats from `row + j` end at most
                            // 15 past the planes, inside the padding's slack.
                            *d = unsafe { every_other(row.add(j)) };
                        }
                        // SAFETY: compiled with AVX2 and FMA.
                        ring[next_row % ALPHA] = unsafe { data_1d(d) };
                        next_row += 1;
                    }
                    let at = c * stride + by * across + bx;
                    let columns: [[__m256; ALPHA]; ALPHA] = std::array::from_fn(|b| {
                        std::array::from_fn(|i| ring[(BLOCK * by + i) % ALPHA][b])
                    });
                    for (b, column) in columns.into_iter().enumerate() {
                        // SAFETY: compiled with AVX2 and FMA.
                        let v = unsafe { data_1d(column) };
                        for (a, &v) in v.iter().enumerate() {
                            let xi = a * ALPHA + b;
                            // SAFETY: a row of `stride` floats holds the
                            // blocks and one vector's spill.
                            unsafe { _mm256_storeu_ps(dst.add(at + xi * per_position), v) };
                        }
                    }
                }
            }
        }
    }
}

/// Floats between transformed rows of `count` blocks: the blocks and one
/// vector's spill.
fn row_stride(count: usize) -> usize {
    count + LANES
}

/// A stride-1 5x5 correlation of `[inputs, h, w]` images, zero-padded, with
/// a fixed set of filters: the forward pass (padding `p` on each side) or
/// the input gradient (the output gradient padded by `4 - p`, the filters
/// flipped).
pub(in crate::conv) struct Plan {
    blocks: Blocks,
    outputs: usize,
    /// `U[ξ][input][output]` and slack.
    weight: Vec<f32>,
    weight_rows: Offsets,
}

impl Plan {
    /// `filters(o, i)` is output `o`'s 5x5 filter over input `i`, row-major.
    pub(super) fn new(
        [inputs, outputs]: [usize; 2],
        src: [usize; 2],
        out: [usize; 2],
        shift: [isize; 2],
        filters: impl Fn(usize, usize) -> [f32; KERNEL * KERNEL],
    ) -> Plan {
        assert!(
            outputs.is_multiple_of(LANES),
            "winograd: the transforms need outputs in whole vectors"
        );
        let blocks = Blocks::new(inputs, src, out, shift);
        let mut weight = vec![0.0; POSITIONS * inputs * outputs + SLACK];
        for o in 0..outputs {
            for i in 0..inputs {
                let u = transform_filter(&filters(o, i));
                for (xi, &u) in u.iter().enumerate() {
                    weight[(xi * inputs + i) * outputs + o] = u;
                }
            }
        }
        Plan {
            outputs,
            weight,
            weight_rows: rows(inputs, outputs),
            blocks,
        }
    }

    pub(super) fn scratch(&self) -> usize {
        self.blocks.regions(self.outputs).iter().sum()
    }

    /// One image: `src` (`[inputs, h, w]`) correlated into `out`
    /// (`[outputs, out_h * out_w]`), plus `bias` per output if given.
    pub(super) fn image(
        &self,
        src: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
        scratch: &mut [f32],
    ) {
        let [padded_len, data_len, products_len, pixels_len] = self.blocks.regions(self.outputs);
        let (padded, rest) = scratch.split_at_mut(padded_len);
        let (data, rest) = rest.split_at_mut(data_len);
        let (products, rest) = rest.split_at_mut(products_len);
        let by_pixel = &mut rest[..pixels_len];
        self.blocks.transform(src, padded, data);
        let per_position = self.blocks.inputs * self.blocks.row_stride();
        for xi in 0..POSITIONS {
            let tile = Tile {
                a: &self.weight[xi * self.blocks.inputs * self.outputs..],
                a_rows: &self.weight_rows,
                a_width: self.outputs,
                b: &data[xi * per_position..],
                b_rows: &self.blocks.input_rows,
            };
            // Each block's 36 positions together, for the output transform.
            let products = &mut products[xi * self.outputs..];
            let stride = POSITIONS * self.outputs;
            let output = Output::columns(products, stride, None);
            tile.run_columns(&self.blocks.block_offsets, output);
        }
        assert!(
            bias.is_none_or(|b| b.len() == self.outputs),
            "winograd: a bias of the wrong length"
        );
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA are available (`transform` checked); the
        // regions have the lengths the transform indexes (see `Blocks::regions`).
        unsafe {
            self.transform_products(products, bias, by_pixel)
        };
        let [out_h, out_w] = self.blocks.out;
        transpose(by_pixel, out_h * out_w, self.outputs, out);
    }

    /// `[pixel][o]` from `M[block][ξ][o]`: `Aᵀ m A` for every block, eight
    /// outputs at a time, plus the bias; pixels past the output's edge
    /// (odd sizes) are dropped.
    ///
    /// # Safety
    /// AVX2 and FMA must be available; `products` and `by_pixel` must have
    /// the lengths of [`Blocks::regions`].
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn transform_products(
        &self,
        products: &[f32],
        bias: Option<&[f32]>,
        by_pixel: &mut [f32],
    ) {
        let [down, across] = self.blocks.down_across;
        let [out_h, out_w] = self.blocks.out;
        let (src, dst) = (products.as_ptr(), by_pixel.as_mut_ptr());
        for by in 0..down {
            for bx in 0..across {
                let block = src.wrapping_add((by * across + bx) * POSITIONS * self.outputs);
                for o in (0..self.outputs).step_by(LANES) {
                    let mut m = [[_mm256_setzero_ps(); ALPHA]; ALPHA];
                    for (i, m) in m.iter_mut().enumerate() {
                        for (j, m) in m.iter_mut().enumerate() {
                            let xi = i * ALPHA + j;
                            // SAFETY: the block's position xi, outputs o..o + 8.
                            *m = unsafe { _mm256_loadu_ps(block.add(xi * self.outputs + o)) };
                        }
                    }
                    // SAFETY: compiled with AVX2 and FMA.
                    let y = unsafe { untransform_block(&m) };
                    let bias = match bias {
                        // SAFETY: o + 8 <= outputs, the bias's length.
                        Some(b) => unsafe { _mm256_loadu_ps(b.as_ptr().add(o)) },
                        None => _mm256_setzero_ps(),
                    };
                    for (a, row) in y.iter().enumerate() {
                        for (b, &y) in row.iter().enumerate() {
                            let (py, px) = (BLOCK * by + a, BLOCK * bx + b);
                            if py < out_h && px < out_w {
                                let at = (py * out_w + px) * self.outputs + o;
                                // SAFETY: pixel (py, px), outputs o..o + 8.
                                unsafe { _mm256_storeu_ps(dst.add(at), _mm256_add_ps(y, bias)) };
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The weight gradient of a stride-1 5x5 convolution, through the
/// transforms of the forward pass:
///
/// `∂L/∂g = Gᵀ [ Σ over images and blocks of (A ∂Y Aᵀ) ⊙ (Bᵀ d B) ] G`
///
/// The sum is 36 products `[inputs] x [outputs]`, one per position of the
/// 6x6 transformed block, summed over every block of a group's images: 36
/// multiply-adds per output block and channel pair where the direct
/// kernel spends 100. The groups' sums stay transformed (`S[ξ][input][output]`)
/// until their total, which [`WeightGrad::finish`] turns into the gradient
/// once per batch.
pub(in crate::conv) struct WeightGrad {
    blocks: Blocks,
    outputs: usize,
    /// Per block: its row of the transformed output gradient,
    /// `∂Ŷ[ξ][block][output]`.
    grad_rows: Offsets,
}

impl WeightGrad {
    /// For `[inputs, h, w]` images padded by `padding` into `out` outputs.
    pub(super) fn new(
        [inputs, outputs]: [usize; 2],
        src: [usize; 2],
        out: [usize; 2],
        padding: [usize; 2],
    ) -> WeightGrad {
        assert!(
            outputs.is_multiple_of(LANES),
            "winograd: the transforms need outputs in whole vectors"
        );
        let blocks = Blocks::new(inputs, src, out, padding.map(|p| p as isize));
        WeightGrad {
            outputs,
            grad_rows: rows(blocks.count(), outputs),
            blocks,
        }
    }

    pub(super) fn scratch_per_image(&self) -> usize {
        self.blocks.regions(self.outputs).iter().sum()
    }

    /// Floats of a group's transformed sums.
    pub(super) fn sums_len(&self) -> usize {
        POSITIONS * self.blocks.inputs * self.outputs
    }

    /// Transforms one image (`[inputs, h, w]`) and its output gradient `dy`
    /// (`[outputs, pixels]`) into `slot` ([`WeightGrad::scratch_per_image`]
    /// floats).
    pub(super) fn prepare(&self, image: &[f32], dy: &[f32], slot: &mut [f32]) {
        let [padded_len, data_len, grad_len, pixels_len] = self.blocks.regions(self.outputs);
        let (padded, rest) = slot.split_at_mut(padded_len);
        let (data, rest) = rest.split_at_mut(data_len);
        let (grad, rest) = rest.split_at_mut(grad_len);
        let by_pixel = &mut rest[..pixels_len];
        self.blocks.transform(image, padded, data);
        let [out_h, out_w] = self.blocks.out;
        transpose(dy, self.outputs, out_h * out_w, by_pixel);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA are available (`transform` checked); the
        // regions have the lengths the transform indexes (see `Blocks::regions`).
        unsafe {
            self.transform_grad(by_pixel, grad)
        };
    }

    /// Writes the transformed sums over the first `images` slots of
    /// `scratch` (each prepared by [`WeightGrad::prepare`]) into `sums`
    /// ([`WeightGrad::sums_len`] floats).
    pub(super) fn run(&self, scratch: &[f32], images: usize, sums: &mut [f32]) {
        let [padded_len, data_len, grad_len, _] = self.blocks.regions(self.outputs);
        let per_image = self.scratch_per_image();
        let per_position = self.blocks.inputs * self.blocks.row_stride();
        let grad_per_position = self.blocks.count() * self.outputs;
        let slots: Vec<(&[f32], &[f32])> = scratch
            .chunks_exact(per_image)
            .take(images)
            .map(|slot| {
                let data = &slot[padded_len..padded_len + data_len];
                (data, &slot[padded_len + data_len..][..grad_len])
            })
            .collect();
        let mut tiles = Vec::with_capacity(images);
        for xi in 0..POSITIONS {
            tiles.clear();
            tiles.extend(slots.iter().map(|&(data, grad)| Tile {
                a: &grad[xi * grad_per_position..],
                a_rows: &self.grad_rows,
                a_width: self.outputs,
                b: &data[xi * per_position..],
                b_rows: &self.blocks.block_offsets,
            }));
            let sums = &mut sums[xi * self.blocks.inputs * self.outputs..];
            let output = Output::columns(sums, self.outputs, None);
            run_columns_summed(&tiles, &self.blocks.input_rows, output);
        }
    }

    /// The weight gradient `[outputs, inputs, 5, 5]` from the total of the
    /// groups' sums: `Gᵀ S G` for every filter, in f64 as the filter
    /// transform (it runs once per batch), the outputs innermost so the
    /// loops run along vectors.
    pub(super) fn finish(&self, sums: &[f32], dw: &mut [f32]) {
        let (inputs, outputs) = (self.blocks.inputs, self.outputs);
        let mut half = vec![0.0f64; KERNEL * ALPHA * outputs];
        for c in 0..inputs {
            half.fill(0.0);
            // half[i][b][o] = Σ_a G[a][i] S[a][b][c][o]
            for i in 0..KERNEL {
                for b in 0..ALPHA {
                    let half = &mut half[(i * ALPHA + b) * outputs..][..outputs];
                    for (a, g) in FILTER.iter().enumerate() {
                        let s = &sums[((a * ALPHA + b) * inputs + c) * outputs..][..outputs];
                        for (h, &s) in half.iter_mut().zip(s) {
                            *h += g[i] * s as f64;
                        }
                    }
                }
            }
            // dw[o][c][i][j] = Σ_b half[i][b][o] G[b][j]
            for i in 0..KERNEL {
                for j in 0..KERNEL {
                    for o in 0..outputs {
                        let tap: f64 = (0..ALPHA)
                            .map(|b| half[(i * ALPHA + b) * outputs + o] * FILTER[b][j])
                            .sum();
                        dw[((o * inputs + c) * KERNEL + i) * KERNEL + j] = tap as f32;
                    }
                }
            }
        }
    }

    /// `∂Ŷ[ξ][block][o] = (A ∂y Aᵀ)[ξ]` for the 2x2 block `∂y` of every
    /// block, eight outputs at a time, from `∂Y` as `[pixel][o]`; pixels
    /// past the output's edge (odd sizes) count as zeros.
    ///
    /// # Safety
    /// AVX2 and FMA must be available; `by_pixel` and `grad` must have the
    /// lengths of [`Blocks::regions`].
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn transform_grad(&self, by_pixel: &[f32], grad: &mut [f32]) {
        let [down, across] = self.blocks.down_across;
        let [out_h, out_w] = self.blocks.out;
        let per_position = self.blocks.count() * self.outputs;
        let (src, dst) = (by_pixel.as_ptr(), grad.as_mut_ptr());
        for by in 0..down {
            for bx in 0..across {
                let block = (by * across + bx) * self.outputs;
                for o in (0..self.outputs).step_by(LANES) {
                    let mut y = [[_mm256_setzero_ps(); BLOCK]; BLOCK];
                    for (a, y) in y.iter_mut().enumerate() {
                        for (b, y) in y.iter_mut().enumerate() {
                            let (py, px) = (BLOCK * by + a, BLOCK * bx + b);
                            if py < out_h && px < out_w {
                                let at = (py * out_w + px) * self.outputs + o;
                                // SAFETY: pixel (py, px), outputs o..o + 8.
                                *y = unsafe { _mm256_loadu_ps(src.add(at)) };
                            }
                        }
                    }
                    // SAFETY: compiled with AVX2 and FMA.
                    let rows = unsafe { [grad_1d(y[0]), grad_1d(y[1])] };
                    for (j, (&top, &bottom)) in rows[0].iter().zip(&rows[1]).enumerate() {
                        // SAFETY: compiled with AVX2 and FMA.
                        let column = unsafe { grad_1d([top, bottom]) };
                        for (i, &v) in column.iter().enumerate() {
                            let at = (i * ALPHA + j) * per_position + block + o;
                            // SAFETY: position ξ, this block, outputs o..o + 8.
                            unsafe { _mm256_storeu_ps(dst.add(at), v) };
                        }
                    }
                }
            }
        }
    }
}

/// `U = G g Gᵀ` for one 5x5 filter, row-major 6x6.
fn transform_filter(g: &[f32; KERNEL * KERNEL]) -> [f32; POSITIONS] {
    let mut half = [[0.0f64; KERNEL]; ALPHA];
    for (a, half) in half.iter_mut().enumerate() {
        for (j, half) in half.iter_mut().enumerate() {
            *half = (0..KERNEL)
                .map(|i| FILTER[a][i] * g[i * KERNEL + j] as f64)
                .sum();
        }
    }
    let mut u = [0.0f32; POSITIONS];
    for a in 0..ALPHA {
        for b in 0..ALPHA {
            u[a * ALPHA + b] = (0..KERNEL).map(|j| half[a][j] * FILTER[b][j]).sum::<f64>() as f32;
        }
    }
    u
}

/// `Bᵀ x`, in shared partial sums, with
///
/// ```text
/// Bᵀ = [4  0 -5  0  1  0]
///      [0 -4 -4  1  1  0]
///      [0  4 -4 -1  1  0]
///      [0 -2 -1  2  1  0]
///      [0  2 -1 -2  1  0]
///      [0  4  0 -5  0  1]
/// ```
///
/// # Safety
/// Only to be inlined into functions compiled with AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn data_1d(x: [__m256; ALPHA]) -> [__m256; ALPHA] {
    // SAFETY: forwarded from the caller.
    unsafe {
        let four = _mm256_set1_ps(4.0);
        let five = _mm256_set1_ps(5.0);
        let x4_less_4x2 = _mm256_fnmadd_ps(four, x[2], x[4]);
        let x3_less_4x1 = _mm256_fnmadd_ps(four, x[1], x[3]);
        let x4_less_x2 = _mm256_sub_ps(x[4], x[2]);
        let x3_less_x1 = _mm256_sub_ps(x[3], x[1]);
        let twice = _mm256_add_ps(x3_less_x1, x3_less_x1);
        [
            _mm256_fnmadd_ps(five, x[2], _mm256_fmadd_ps(four, x[0], x[4])),
            _mm256_add_ps(x4_less_4x2, x3_less_4x1),
            _mm256_sub_ps(x4_less_4x2, x3_less_4x1),
            _mm256_add_ps(x4_less_x2, twice),
            _mm256_sub_ps(x4_less_x2, twice),
            _mm256_fnmadd_ps(five, x[3], _mm256_fmadd_ps(four, x[1], x[5])),
        ]
    }
}

/// `Aᵀ m A` for a 6x6 block of vectors, with
///
/// ```text
/// Aᵀ = [1  1  1  1  1  0]
///      [0  1 -1  2 -2  1]
/// ```
///
/// # Safety
/// As [`data_1d`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn untransform_block(m: &[[__m256; ALPHA]; ALPHA]) -> [[__m256; BLOCK]; BLOCK] {
    let mut half = [m[0]; BLOCK];
    for j in 0..ALPHA {
        let column = std::array::from_fn(|i| m[i][j]);
        // SAFETY: forwarded from the caller.
        let [top, bottom] = unsafe { output_1d(column) };
        half[0][j] = top;
        half[1][j] = bottom;
    }
    // SAFETY: forwarded from the caller.
    unsafe { [output_1d(half[0]), output_1d(half[1])] }
}

/// `Aᵀ x`.
///
/// # Safety
/// As [`data_1d`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn output_1d(x: [__m256; ALPHA]) -> [__m256; BLOCK] {
    // SAFETY: forwarded from the caller.
    unsafe {
        let (sum12, diff12) = (_mm256_add_ps(x[1], x[2]), _mm256_sub_ps(x[1], x[2]));
        let (sum34, diff34) = (_mm256_add_ps(x[3], x[4]), _mm256_sub_ps(x[3], x[4]));
        [
            _mm256_add_ps(_mm256_add_ps(x[0], sum12), sum34),
            _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(2.0), diff34, diff12), x[5]),
        ]
    }
}

/// `A x` for the two values of a block's row or column, with
///
/// ```text
/// A = [1  1  1  1  1  0]ᵀ
///     [0  1 -1  2 -2  1]
/// ```
///
/// # Safety
/// As [`data_1d`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn grad_1d([p, q]: [__m256; BLOCK]) -> [__m256; ALPHA] {
    // SAFETY: forwarded from the caller.
    unsafe {
        let two = _mm256_set1_ps(2.0);
        [
            p,
            _mm256_add_ps(p, q),
            _mm256_sub_ps(p, q),
            _mm256_fmadd_ps(two, q, p),
            _mm256_fnmadd_ps(two, q, p),
            q,
        ]
    }
}

/// The floats at `p`, `p + 2`, ..., `p + 14`: one input float for each of
/// eight consecutive blocks (2 apart).
///
/// # Safety
/// AVX2 must be available and 16 floats readable at `p`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn every_other(p: *const f32) -> __m256 {
    unsafe {
        let (low, high) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
        // [l0 l2 h0 h2 | l4 l6 h4 h6], then the 64-bit pairs reordered.
        let evens = _mm256_shuffle_ps::<0b10_00_10_00>(low, high);
        _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(
            evens,
        )))
    }
}
