//! Direct convolution with AVX2 and FMA (or AVX-512), without im2col and
//! without packing.
//!
//! matrixmultiply packs both operands of every product, so im2col plus GEMM
//! copies each column matrix twice before the multiply-adds start; for a
//! small CNN those copies cost half as much as the arithmetic
//! (`cargo bench --bench cnn`). Here one register-tiled outer-product kernel
//! ([`kernel`]) reads the operands where they lie:
//!
//! `acc[t][v] += A_k[v] * B_k[t]`, summed over `k`,
//!
//! where `A_k[v]` is a vector of consecutive floats of a row of `A` and
//! `B_k[t]` one float of `B` at `b_k[k] + b_t[t]`. With `A` the transposed
//! weight (`[taps, out]`) and `B` the zero-padded image, `b_k` the taps'
//! offsets and `b_t` the output pixels', the tile is `V` vectors of output
//! channels by `T` pixels of the convolution: im2col becomes offset
//! arithmetic. The input's gradient is the same kernel over the padded
//! output gradient with the flipped weight; the weight's gradient has `A`
//! the transposed output gradient and `k` running over pixels. Each output
//! is summed over `k` in order inside one tile, so the bits depend neither
//! on threads nor on the vector width. Elsewhere convolutions run im2col
//! plus GEMM.

mod kernel;
mod winograd;

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::Geometry;
use kernel::{Offsets, Output, SLACK, Tile, run_columns_summed};

/// Whether this machine runs the direct kernels.
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The smallest reduction (taps, or output channels times taps) worth a
/// direct kernel.
pub(super) const MIN_REDUCTION: usize = 16;

/// From this many taps the forward pass puts output channels in the
/// vectors; below it, a tile's results (written out one float at a time)
/// would cost more than its short reduction, so the vectors run along an
/// output row instead and are stored whole.
const CHANNEL_VECTORS_MIN_TAPS: usize = 64;

/// Offsets of `count` rows `stride` apart.
fn rows(count: usize, stride: usize) -> Offsets {
    (0..count).map(|i| (i * stride) as u32).collect()
}

/// The layout of a zero-padded copy of `[channels, h, w]` planes: `pad_h`
/// rows and `pad_w` columns of zeros before and `extra_*` more after.
#[derive(Clone, Copy)]
struct Padded {
    channels: usize,
    height: usize,
    width: usize,
    pad_h: usize,
    pad_w: usize,
    /// Rows of the padded plane.
    rows: usize,
    /// Columns of the padded plane.
    cols: usize,
}

impl Padded {
    fn new(
        channels: usize,
        [height, width]: [usize; 2],
        [pad_h, pad_w]: [usize; 2],
        [rows, cols]: [usize; 2],
    ) -> Padded {
        Padded {
            channels,
            height,
            width,
            pad_h,
            pad_w,
            rows,
            cols,
        }
    }

    fn plane(&self) -> usize {
        self.rows * self.cols
    }

    /// Floats of the padded planes and the slack after them.
    fn len(&self) -> usize {
        self.channels * self.plane() + SLACK
    }

    /// Copies `src` (`[channels, height, width]`) into `dst`, zeros around
    /// (each float written once: the zeros are not laid down first);
    /// source rows or columns that fall outside the padded plane are
    /// dropped. `shift_h`, `shift_w` place source row 0 at padded row
    /// `shift_h` (negative: above the plane).
    fn fill(&self, src: &[f32], dst: &mut [f32], shift: [isize; 2]) {
        let (planes, slack) = dst.split_at_mut(self.channels * self.plane());
        slack.fill(0.0);
        // The source columns that land inside the plane, and where.
        let first = (-shift[1]).max(0) as usize;
        let last = ((self.cols as isize - shift[1]).max(0) as usize).min(self.width);
        let at = (first as isize + shift[1]).max(0) as usize;
        let copied = last.saturating_sub(first);
        for (c, plane) in planes.chunks_exact_mut(self.plane()).enumerate() {
            for (r, row) in plane.chunks_exact_mut(self.cols).enumerate() {
                let y = r as isize - shift[0];
                if copied == 0 || y < 0 || y >= self.height as isize {
                    row.fill(0.0);
                    continue;
                }
                let src_row = &src[(c * self.height + y as usize) * self.width..][..self.width];
                row[..at].fill(0.0);
                row[at..at + copied].copy_from_slice(&src_row[first..last]);
                row[at + copied..].fill(0.0);
            }
        }
    }
}

/// The padded input of a convolution and the offsets into it of each tap
/// and of each output pixel's window: what the offset kernels read the
/// image through.
struct Windows {
    padded: Padded,
    /// Per tap `(c, kh, kw)` of a group: its offset in the padded input.
    taps: Offsets,
    /// Per output pixel `(oh, ow)`: the offset of its window's first tap.
    pixels: Offsets,
}

impl Windows {
    fn new(g: &Geometry) -> Windows {
        let o = g.options;
        let (span_h, span_w) = (g.span(0), g.span(1));
        let padded = Padded::new(
            g.channels,
            [g.height, g.width],
            [o.padding.h, o.padding.w],
            [
                (g.out_h - 1) * o.stride.h + span_h,
                (g.out_w - 1) * o.stride.w + span_w,
            ],
        );
        let (cg, kh, kw) = (g.channels / g.groups(), g.kernel.h, g.kernel.w);
        let mut taps = Vec::with_capacity(g.group_rows());
        for c in 0..cg {
            for i in 0..kh {
                for j in 0..kw {
                    let at = c * padded.plane() + i * o.dilation.h * padded.cols + j * o.dilation.w;
                    taps.push(at as u32);
                }
            }
        }
        let pixels = (0..g.out_h)
            .flat_map(|y| (0..g.out_w).map(move |x| (y, x)))
            .map(|(y, x)| (y * o.stride.h * padded.cols + x * o.stride.w) as u32)
            .collect();
        Windows {
            padded,
            taps: Offsets::new(taps),
            pixels,
        }
    }

    /// Copies `image` into the padded planes `dst`.
    fn fill(&self, image: &[f32], dst: &mut [f32]) {
        let p = self.padded;
        p.fill(image, dst, [p.pad_h as isize, p.pad_w as isize]);
    }
}

/// What a direct forward pass needs besides its operands.
pub(super) struct Plan(Method);

/// How a forward pass runs.
enum Method {
    /// The offset kernel: the weight as it reads it, and the offsets.
    Offsets { windows: Windows, forward: Forward },
    /// Stride-1 5x5 kernels with enough channels: Winograd's F(2x2, 5x5).
    Winograd(winograd::Plan),
}

/// How the forward pass tiles a group's output.
enum Forward {
    /// Output channels in the vectors, pixels broadcast: for long
    /// reductions. `A` is the weight as `[group][tap][out]`.
    ChannelVectors {
        weight_by_tap: Vec<f32>,
        weight_rows: Offsets,
    },
    /// Pixels of one output row in the vectors (stride 1 along the width),
    /// weights broadcast: `B` is the weight in its own layout, read at
    /// `filters[o] + tap`.
    RowVectors {
        weight: Vec<f32>,
        tap_index: Offsets,
        filters: Offsets,
    },
}

impl Plan {
    pub(super) fn new(g: &Geometry, weight: &[f32]) -> Plan {
        let o = g.options;
        let (og, rg) = (g.group_out(), g.group_rows());
        if winograd::fits(g, g.channels, g.out_channels) {
            return Plan(Method::Winograd(winograd::Plan::new(
                [g.channels, g.out_channels],
                [g.height, g.width],
                [g.out_h, g.out_w],
                [o.padding.h as isize, o.padding.w as isize],
                |out, input| filter(weight, g, out, input, false),
            )));
        }
        let forward = if rg < CHANNEL_VECTORS_MIN_TAPS && o.stride.w == 1 {
            Forward::RowVectors {
                weight: weight.to_vec(),
                tap_index: rows(rg, 1),
                filters: rows(og, rg),
            }
        } else {
            let mut weight_by_tap = vec![0.0; weight.len() + SLACK];
            for group in 0..g.groups() {
                let w = &weight[group * og * rg..(group + 1) * og * rg];
                let t = &mut weight_by_tap[group * og * rg..(group + 1) * og * rg];
                for out in 0..og {
                    for tap in 0..rg {
                        t[tap * og + out] = w[out * rg + tap];
                    }
                }
            }
            Forward::ChannelVectors {
                weight_by_tap,
                weight_rows: rows(rg, og),
            }
        };
        Plan(Method::Offsets {
            windows: Windows::new(g),
            forward,
        })
    }

    /// Floats of scratch one image's forward pass needs.
    pub(super) fn forward_scratch(&self) -> usize {
        match &self.0 {
            Method::Offsets { windows, .. } => windows.padded.len(),
            Method::Winograd(plan) => plan.scratch(),
        }
    }

    /// One image's convolution, bias included, into `out` (`[out, pixels]`).
    pub(super) fn forward_image(
        &self,
        g: &Geometry,
        image: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
        scratch: &mut [f32],
    ) {
        let (windows, forward) = match &self.0 {
            Method::Offsets { windows, forward } => (windows, forward),
            Method::Winograd(plan) => return plan.image(image, bias, out, scratch),
        };
        let p = windows.padded;
        let padded = &mut scratch[..p.len()];
        windows.fill(image, padded);
        let (og, rg, cg) = (g.group_out(), g.group_rows(), g.channels / g.groups());
        for group in 0..g.groups() {
            let input = &padded[group * cg * p.plane()..];
            let out = &mut out[group * og * g.pixels()..(group + 1) * og * g.pixels()];
            let bias = bias.map(|b| &b[group * og..(group + 1) * og]);
            let weights = group * og * rg..(group + 1) * og * rg;
            match forward {
                Forward::ChannelVectors {
                    weight_by_tap,
                    weight_rows,
                } => {
                    let tile = Tile {
                        a: &weight_by_tap[weights.start..],
                        a_rows: weight_rows,
                        a_width: og,
                        b: input,
                        b_rows: &windows.taps,
                    };
                    let output = Output::rows(out, g.pixels(), bias);
                    tile.run_columns(&windows.pixels, output);
                }
                Forward::RowVectors {
                    weight: w,
                    tap_index,
                    filters,
                } => {
                    for y in 0..g.out_h {
                        let row = y * g.options.stride.h * p.cols;
                        let tile = Tile {
                            a: &input[row..],
                            a_rows: &windows.taps,
                            a_width: g.out_w,
                            b: &w[weights.clone()],
                            b_rows: tap_index,
                        };
                        let out = &mut out[y * g.out_w..];
                        let output = Output::columns(out, g.pixels(), bias);
                        tile.run_columns(filters, output);
                    }
                }
            }
        }
    }
}

/// The filter of output `out` over input `input` of a one-group 5x5
/// weight, turned by 180 degrees if `flipped`.
fn filter(
    weight: &[f32],
    g: &Geometry,
    out: usize,
    input: usize,
    flipped: bool,
) -> [f32; winograd::KERNEL * winograd::KERNEL] {
    const TAPS: usize = winograd::KERNEL * winograd::KERNEL;
    let mut taps = [0.0; TAPS];
    let at = (out * g.channels + input) * TAPS;
    taps.copy_from_slice(&weight[at..at + TAPS]);
    if flipped {
        taps.reverse();
    }
    taps
}

/// The input gradient's convolution: the output gradient, zero-padded by
/// the kernel's span less the padding, correlated with the weight turned
/// by 180 degrees and its channel axes swapped. Stride 1 only.
pub(super) enum InputGradPlan {
    /// The offset kernel, for any such convolution.
    Offsets(FlippedCorrelation),
    /// Winograd's F(2x2, 5x5), where it fits.
    Winograd(winograd::Plan),
}

impl InputGradPlan {
    /// # Panics
    /// If the convolution has a stride other than 1 (the caller checks).
    pub(super) fn new(g: &Geometry, weight: &[f32]) -> InputGradPlan {
        if !winograd::fits(g, g.out_channels, g.channels) {
            return InputGradPlan::Offsets(FlippedCorrelation::new(g, weight));
        }
        let o = g.options;
        let span = winograd::KERNEL as isize - 1;
        InputGradPlan::Winograd(winograd::Plan::new(
            [g.out_channels, g.channels],
            [g.out_h, g.out_w],
            [g.height, g.width],
            [span - o.padding.h as isize, span - o.padding.w as isize],
            // Output k of the forward pass is this correlation's input.
            |c, k| filter(weight, g, k, c, true),
        ))
    }

    pub(super) fn scratch(&self) -> usize {
        match self {
            InputGradPlan::Offsets(plan) => plan.scratch(),
            InputGradPlan::Winograd(plan) => plan.scratch(),
        }
    }

    /// One image's input gradient from its output gradient `dy`, written
    /// over `dx` (`[in, h * w]`).
    pub(super) fn image(&self, g: &Geometry, dy: &[f32], dx: &mut [f32], scratch: &mut [f32]) {
        match self {
            InputGradPlan::Offsets(plan) => plan.image(g, dy, dx, scratch),
            InputGradPlan::Winograd(plan) => plan.image(dy, None, dx, scratch),
        }
    }
}

/// The flipped weight and offsets of [`InputGradPlan::Offsets`].
pub(super) struct FlippedCorrelation {
    padded: Padded,
    /// Shift of the output gradient's row 0 and column 0 in the padded plane.
    shift: [isize; 2],
    taps: Offsets,
    pixels: Offsets,
    /// `[group][(out, kh, kw) flipped][in]`.
    weight: Vec<f32>,
    weight_rows: Offsets,
}

impl FlippedCorrelation {
    /// # Panics
    /// If the convolution has a stride other than 1.
    fn new(g: &Geometry, weight: &[f32]) -> FlippedCorrelation {
        let o = g.options;
        assert!(
            o.stride == super::Pair::from(1),
            "direct input gradient needs stride 1"
        );
        let (span_h, span_w) = (g.span(0), g.span(1));
        let padded = Padded::new(
            g.out_channels,
            [g.out_h, g.out_w],
            [0, 0],
            [g.height + span_h - 1, g.width + span_w - 1],
        );
        let shift = [
            (span_h - 1) as isize - o.padding.h as isize,
            (span_w - 1) as isize - o.padding.w as isize,
        ];
        let (og, cg, kh, kw) = (
            g.group_out(),
            g.channels / g.groups(),
            g.kernel.h,
            g.kernel.w,
        );
        let mut taps = Vec::with_capacity(og * kh * kw);
        for out in 0..og {
            for i in 0..kh {
                for j in 0..kw {
                    let at =
                        out * padded.plane() + i * o.dilation.h * padded.cols + j * o.dilation.w;
                    taps.push(at as u32);
                }
            }
        }
        let pixels = (0..g.height)
            .flat_map(|y| (0..g.width).map(move |x| (y, x)))
            .map(|(y, x)| (y * padded.cols + x) as u32)
            .collect();
        let group_len = og * cg * kh * kw;
        let mut flipped = vec![0.0; weight.len() + SLACK];
        for group in 0..g.groups() {
            let w = &weight[group * group_len..(group + 1) * group_len];
            let f = &mut flipped[group * group_len..(group + 1) * group_len];
            for out in 0..og {
                for c in 0..cg {
                    for i in 0..kh {
                        for j in 0..kw {
                            let tap = (out * kh + (kh - 1 - i)) * kw + (kw - 1 - j);
                            f[tap * cg + c] = w[((out * cg + c) * kh + i) * kw + j];
                        }
                    }
                }
            }
        }
        FlippedCorrelation {
            padded,
            shift,
            taps: Offsets::new(taps),
            pixels,
            weight: flipped,
            weight_rows: rows(og * kh * kw, cg),
        }
    }

    fn scratch(&self) -> usize {
        self.padded.len()
    }

    fn image(&self, g: &Geometry, dy: &[f32], dx: &mut [f32], scratch: &mut [f32]) {
        let padded = &mut scratch[..self.padded.len()];
        self.padded.fill(dy, padded, self.shift);
        let (og, cg) = (g.group_out(), g.channels / g.groups());
        let group_len = self.weight_rows.len() * cg;
        let plane = g.height * g.width;
        for group in 0..g.groups() {
            let tile = Tile {
                a: &self.weight[group * group_len..],
                a_rows: &self.weight_rows,
                a_width: cg,
                b: &padded[group * og * self.padded.plane()..],
                b_rows: &self.taps,
            };
            let dx = &mut dx[group * cg * plane..(group + 1) * cg * plane];
            let output = Output::rows(dx, plane, None);
            tile.run_columns(&self.pixels, output);
        }
    }
}

/// The weight gradient of a group of images, summed over the images into
/// a partial per group; the partials' total gives the gradient.
pub(super) enum WeightGradPlan {
    /// The offset kernel, for any convolution; partials are gradients.
    Offsets(OffsetWeightGrad),
    /// Winograd's F(2x2, 5x5), where it fits; partials are transformed.
    Winograd(winograd::WeightGrad),
}

impl WeightGradPlan {
    pub(super) fn new(g: &Geometry) -> WeightGradPlan {
        if !winograd::fits(g, g.channels, g.out_channels) {
            return WeightGradPlan::Offsets(OffsetWeightGrad::new(g));
        }
        let o = g.options;
        WeightGradPlan::Winograd(winograd::WeightGrad::new(
            [g.channels, g.out_channels],
            [g.height, g.width],
            [g.out_h, g.out_w],
            [o.padding.h, o.padding.w],
        ))
    }

    /// Floats of a group's partial.
    pub(super) fn partial_len(&self, g: &Geometry) -> usize {
        match self {
            WeightGradPlan::Offsets(_) => g.out_channels * g.group_rows(),
            WeightGradPlan::Winograd(plan) => plan.sums_len(),
        }
    }

    /// Scratch per image of a group.
    pub(super) fn scratch_per_image(&self, g: &Geometry) -> usize {
        match self {
            WeightGradPlan::Offsets(plan) => plan.scratch_per_image(g),
            WeightGradPlan::Winograd(plan) => plan.scratch_per_image(),
        }
    }

    /// Prepares one image of the group and its output gradient `dy` in
    /// `slot` ([`WeightGradPlan::scratch_per_image`] floats).
    pub(super) fn prepare(&self, g: &Geometry, image: &[f32], dy: &[f32], slot: &mut [f32]) {
        match self {
            WeightGradPlan::Offsets(plan) => plan.prepare(g, image, dy, slot),
            WeightGradPlan::Winograd(plan) => plan.prepare(image, dy, slot),
        }
    }

    /// Writes the partial of the `images` prepared in `scratch`.
    pub(super) fn run(&self, g: &Geometry, scratch: &[f32], images: usize, partial: &mut [f32]) {
        match self {
            WeightGradPlan::Offsets(plan) => plan.run(g, scratch, images, partial),
            WeightGradPlan::Winograd(plan) => plan.run(scratch, images, partial),
        }
    }

    /// The weight gradient (`[out, in / groups, kh, kw]`) from the total of
    /// the partials.
    pub(super) fn finish(&self, total: &[f32], dw: &mut [f32]) {
        match self {
            WeightGradPlan::Offsets(_) => dw.copy_from_slice(total),
            WeightGradPlan::Winograd(plan) => plan.finish(total, dw),
        }
    }
}

/// [`WeightGradPlan::Offsets`]: `dW[o, tap] = sum over images and pixels
/// of dy[o, pixel] * input[tap + pixel]`.
pub(super) struct OffsetWeightGrad {
    windows: Windows,
    /// Row offsets of a transposed output gradient, `[pixel][out]`.
    grad_rows: Offsets,
}

impl OffsetWeightGrad {
    fn new(g: &Geometry) -> OffsetWeightGrad {
        OffsetWeightGrad {
            windows: Windows::new(g),
            grad_rows: rows(g.pixels(), g.out_channels),
        }
    }

    /// Scratch per image: its padded input and transposed output gradient.
    fn scratch_per_image(&self, g: &Geometry) -> usize {
        self.windows.padded.len() + g.out_image_len() + SLACK
    }

    fn prepare(&self, g: &Geometry, image: &[f32], dy: &[f32], scratch: &mut [f32]) {
        let (padded, transposed) = scratch.split_at_mut(self.windows.padded.len());
        self.windows.fill(image, padded);
        transpose(dy, g.out_channels, g.pixels(), transposed);
    }

    /// Writes the weight gradient summed over the `images` prepared in
    /// `scratch` into `dw` (`[out, taps]` per group).
    fn run(&self, g: &Geometry, scratch: &[f32], images: usize, dw: &mut [f32]) {
        let per_image = self.scratch_per_image(g);
        let p = self.windows.padded;
        let (og, rg, cg) = (g.group_out(), g.group_rows(), g.channels / g.groups());
        for group in 0..g.groups() {
            let tiles: Vec<Tile<'_>> = (0..images)
                .map(|i| {
                    let (padded, transposed) =
                        scratch[i * per_image..(i + 1) * per_image].split_at(p.len());
                    Tile {
                        a: &transposed[group * og..],
                        a_rows: &self.grad_rows,
                        a_width: og,
                        b: &padded[group * cg * p.plane()..],
                        b_rows: &self.windows.pixels,
                    }
                })
                .collect();
            let dw = &mut dw[group * og * rg..(group + 1) * og * rg];
            let output = Output::rows(dw, rg, None);
            run_columns_summed(&tiles, &self.windows.taps, output);
        }
    }
}

/// `dst[col * rows + row] = src[row * cols + col]`: a `[rows, cols]`
/// matrix transposed, in 8x8 blocks of vectors where AVX2 is available.
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    assert!(
        src.len() >= rows * cols && dst.len() >= rows * cols,
        "transpose: buffers too short"
    );
    let blocked = cfg!(target_arch = "x86_64") && available();
    #[cfg(target_arch = "x86_64")]
    if blocked {
        // SAFETY: AVX2 is available, and the blocks lie inside both
        // buffers, whose lengths were checked.
        unsafe { transpose_blocks(src, rows, cols, dst) };
    }
    let (full_rows, full_cols) = match blocked {
        true => (rows / 8 * 8, cols / 8 * 8),
        false => (0, 0),
    };
    for row in 0..rows {
        // The columns the blocks covered, for rows the blocks covered.
        let first = if row < full_rows { full_cols } else { 0 };
        for col in first..cols {
            dst[col * rows + row] = src[row * cols + col];
        }
    }
}

/// The 8x8 blocks of [`transpose`] within the first `rows / 8 * 8` rows
/// and `cols / 8 * 8` columns.
///
/// # Safety
/// AVX2 must be available, and both buffers must hold `rows * cols` floats.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_blocks(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    for row0 in (0..rows / 8 * 8).step_by(8) {
        for col0 in (0..cols / 8 * 8).step_by(8) {
            let mut r = [_mm256_setzero_ps(); 8];
            for (i, r) in r.iter_mut().enumerate() {
                // SAFETY: row row0 + i, columns col0..col0 + 8 lie inside.
                *r = unsafe { _mm256_loadu_ps(s.add((row0 + i) * cols + col0)) };
            }
            let t = [
                _mm256_unpacklo_ps(r[0], r[1]),
                _mm256_unpackhi_ps(r[0], r[1]),
                _mm256_unpacklo_ps(r[2], r[3]),
                _mm256_unpackhi_ps(r[2], r[3]),
                _mm256_unpacklo_ps(r[4], r[5]),
                _mm256_unpackhi_ps(r[4], r[5]),
                _mm256_unpacklo_ps(r[6], r[7]),
                _mm256_unpackhi_ps(r[6], r[7]),
            ];
            let u = [
                _mm256_shuffle_ps::<0x44>(t[0], t[2]),
                _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
                _mm256_shuffle_ps::<0x44>(t[1], t[3]),
                _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
                _mm256_shuffle_ps::<0x44>(t[4], t[6]),
                _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
                _mm256_shuffle_ps::<0x44>(t[5], t[7]),
                _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
            ];
            let columns = [
                _mm256_permute2f128_ps::<0x20>(u[0], u[4]),
                _mm256_permute2f128_ps::<0x20>(u[1], u[5]),
                _mm256_permute2f128_ps::<0x20>(u[2], u[6]),
                _mm256_permute2f128_ps::<0x20>(u[3], u[7]),
                _mm256_permute2f128_ps::<0x31>(u[0], u[4]),
                _mm256_permute2f128_ps::<0x31>(u[1], u[5]),
                _mm256_permute2f128_ps::<0x31>(u[2], u[6]),
                _mm256_permute2f128_ps::<0x31>(u[3], u[7]),
            ];
            for (j, column) in columns.into_iter().enumerate() {
                // SAFETY: output row col0 + j, columns row0..row0 + 8 lie inside.
                unsafe { _mm256_storeu_ps(d.add((col0 + j) * rows + row0), column) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Conv2dOptions;
    use crate::shape::Shape;

    fn geometry(input: [usize; 4], weight: [usize; 4], padding: usize) -> Geometry {
        let options = Conv2dOptions {
            padding: super::super::Pair::from(padding),
            ..Conv2dOptions::default()
        };
        Geometry::new(Shape::new(&input), Shape::new(&weight), None, options)
    }

    #[test]
    fn winograd_runs_where_it_fits_and_only_there() {
        if !available() {
            return;
        }
        // The CNN flagship's second convolution: both passes.
        let g = geometry([2, 16, 14, 14], [32, 16, 5, 5], 2);
        let weight = vec![0.5; 32 * 16 * 25];
        assert!(matches!(Plan::new(&g, &weight).0, Method::Winograd(_)));
        assert!(matches!(
            InputGradPlan::new(&g, &weight),
            InputGradPlan::Winograd(_)
        ));
        assert!(matches!(
            WeightGradPlan::new(&g),
            WeightGradPlan::Winograd(_)
        ));
        // Its first: one input channel is below `fits`'s reduction, forward
        // and for the weight gradient; backward, 16 outputs feed one input
        // channel, not a whole vector.
        let g = geometry([2, 1, 28, 28], [16, 1, 5, 5], 2);
        let weight = vec![0.5; 16 * 25];
        assert!(!matches!(Plan::new(&g, &weight).0, Method::Winograd(_)));
        assert!(matches!(
            InputGradPlan::new(&g, &weight),
            InputGradPlan::Offsets(_)
        ));
        assert!(matches!(
            WeightGradPlan::new(&g),
            WeightGradPlan::Offsets(_)
        ));
        // A 3x3 kernel.
        let g = geometry([2, 16, 14, 14], [32, 16, 3, 3], 1);
        let weight = vec![0.5; 32 * 16 * 9];
        assert!(!matches!(Plan::new(&g, &weight).0, Method::Winograd(_)));
        assert!(matches!(
            WeightGradPlan::new(&g),
            WeightGradPlan::Offsets(_)
        ));
    }

    #[test]
    fn transposes_every_shape_with_or_without_full_blocks() {
        for (rows, cols) in [(1, 1), (8, 8), (16, 24), (11, 19), (32, 196), (5, 9)] {
            let src: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            let mut dst = vec![-1.0; rows * cols];
            transpose(&src, rows, cols, &mut dst);
            for row in 0..rows {
                for col in 0..cols {
                    assert_eq!(
                        dst[col * rows + row],
                        src[row * cols + col],
                        "{rows}x{cols}"
                    );
                }
            }
        }
    }
}
