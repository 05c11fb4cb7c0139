//! 2-D convolution over NCHW tensors with PyTorch's semantics (`F.conv2d`:
//! stride, zero padding, dilation, groups; the weight stored
//! `[out, in / groups, kh, kw]`).
//!
//! Two paths compute it. Where the machine has AVX2 and FMA, the direct
//! kernels of [`direct`] read the zero-padded image through offsets, with no
//! column matrix and no packing (and stride-1 5x5 convolutions with enough
//! channels run Winograd's F(2x2, 5x5) on the same kernel). Otherwise (and
//! for reductions too short to repay them, or the input gradient of a
//! strided convolution) im2col plus GEMM on the crate's backend runs: one
//! image's column matrix (`[in * kh * kw, out_h * out_w]`, a few hundred KB
//! for a small CNN) is built in a per-thread scratch buffer that lives
//! across steps, multiplied while it is still in cache, and never stored;
//! the backward pass rebuilds it, which costs less than writing and
//! re-reading a whole batch's columns.
//!
//! Either way work goes image by image, images in parallel; the weight and
//! bias gradients are summed over fixed groups of images and then over the
//! groups in order, so the bits do not depend on the number of threads.

mod direct;

use std::cell::RefCell;

use rayon::prelude::*;

use crate::matmul::{MatRef, gemm};
use crate::reduce::sum_lanes;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// A size given for the two spatial dimensions, height then width: what
/// PyTorch accepts as an `int` or an `(h, w)` tuple for a kernel size,
/// stride, padding or dilation.
///
/// ```
/// use descent_tensor::Pair;
///
/// assert_eq!(Pair::from(3), Pair { h: 3, w: 3 });
/// assert_eq!(Pair::from((1, 2)), Pair { h: 1, w: 2 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pair {
    /// Along the height (rows).
    pub h: usize,
    /// Along the width (columns).
    pub w: usize,
}

impl From<usize> for Pair {
    fn from(size: usize) -> Pair {
        Pair { h: size, w: size }
    }
}

impl From<(usize, usize)> for Pair {
    fn from((h, w): (usize, usize)) -> Pair {
        Pair { h, w }
    }
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({}, {})", self.h, self.w)
    }
}

/// Stride, zero padding, dilation and groups of a 2-D convolution;
/// the default is PyTorch's (1, 0, 1, 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dOptions {
    /// Step between output positions.
    pub stride: Pair,
    /// Zeros added on both sides of each spatial dimension.
    pub padding: Pair,
    /// Spacing between kernel taps.
    pub dilation: Pair,
    /// Input and output channels are split into this many groups, each
    /// convolved with its own filters.
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Conv2dOptions {
        Conv2dOptions {
            stride: Pair::from(1),
            padding: Pair::from(0),
            dilation: Pair::from(1),
            groups: 1,
        }
    }
}

/// Stride, zero padding, dilation and groups of a 1-D convolution over
/// `[batch, channels, length]`; the default is PyTorch's (1, 0, 1, 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv1dOptions {
    /// Step between output positions.
    pub stride: usize,
    /// Zeros added at both ends.
    pub padding: usize,
    /// Spacing between kernel taps.
    pub dilation: usize,
    /// Channel groups, as for [`Conv2dOptions::groups`].
    pub groups: usize,
}

impl Default for Conv1dOptions {
    fn default() -> Conv1dOptions {
        Conv1dOptions {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
        }
    }
}

impl Conv1dOptions {
    /// The same convolution over a `[batch, channels, 1, length]` image:
    /// how a 1-D convolution runs on the 2-D machinery.
    pub fn as_2d(self) -> Conv2dOptions {
        Conv2dOptions {
            stride: Pair {
                h: 1,
                w: self.stride,
            },
            padding: Pair {
                h: 0,
                w: self.padding,
            },
            dilation: Pair {
                h: 1,
                w: self.dilation,
            },
            groups: self.groups,
        }
    }
}

/// Which gradients the backward kernel of a layer op (convolution, batch
/// norm, layer norm) computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerGradsWanted {
    /// The gradient of the input.
    pub input: bool,
    /// The gradient of the weight.
    pub weight: bool,
    /// The gradient of the bias.
    pub bias: bool,
}

/// The gradients a layer op's backward kernel computed, each with the
/// shape of its operand; those not asked for are `None`.
#[derive(Clone, Debug)]
pub struct LayerGrads {
    /// The gradient of the input.
    pub input: Option<Tensor>,
    /// The gradient of the weight.
    pub weight: Option<Tensor>,
    /// The gradient of the bias.
    pub bias: Option<Tensor>,
}

impl Tensor {
    /// 2-D convolution of a `[batch, in, h, w]` input with a
    /// `[out, in / groups, kh, kw]` weight and an optional `[out]` bias, as
    /// PyTorch's `F.conv2d`: the result is `[batch, out, out_h, out_w]` with
    /// `out_h = (h + 2 padding - dilation (kh - 1) - 1) / stride + 1`.
    ///
    /// ```
    /// use descent_tensor::{Conv2dOptions, Tensor};
    ///
    /// let image = Tensor::arange(0.0, 9.0, 1.0).reshape([1, 1, 3, 3]);
    /// let ones = Tensor::ones([1, 1, 2, 2]);
    /// let y = image.conv2d(&ones, None, Conv2dOptions::default());
    /// assert_eq!(y.dims(), &[1, 1, 2, 2]);
    /// assert_eq!(y.to_vec(), vec![8.0, 12.0, 20.0, 24.0]); // sums of 2x2 windows
    /// ```
    ///
    /// # Panics
    /// If the shapes or options do not fit together; the message names the
    /// input's and the weight's shapes.
    pub fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, options: Conv2dOptions) -> Tensor {
        let g = Geometry::new(
            self.shape(),
            weight.shape(),
            bias.map(Tensor::shape),
            options,
        );
        let (x, w, b) = (self.data(), weight.data(), bias.map(Tensor::data));
        let image_len = g.image_len();
        let plan = g.direct().then(|| direct::Plan::new(&g, w));
        Tensor::build_overwritten(g.output_shape(), |out| {
            g.for_each_image(out, None, |n, out, _| {
                let image = &x[n * image_len..(n + 1) * image_len];
                g.forward_image(image, w, b, out, plan.as_ref());
            })
        })
    }

    /// [`Tensor::conv2d`] followed by `f` on every output element, each
    /// image while its output is in cache: returns the convolution's output
    /// and `f` of it (what a convolution layer with a fused activation keeps
    /// for its backward pass).
    ///
    /// # Panics
    /// As [`Tensor::conv2d`].
    pub fn conv2d_then_map(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        options: Conv2dOptions,
        f: impl Fn(f32) -> f32 + Sync,
    ) -> (Tensor, Tensor) {
        let g = Geometry::new(
            self.shape(),
            weight.shape(),
            bias.map(Tensor::shape),
            options,
        );
        let (x, w, b) = (self.data(), weight.data(), bias.map(Tensor::data));
        let image_len = g.image_len();
        let plan = g.direct().then(|| direct::Plan::new(&g, w));
        let mut pre = None;
        let activated = Tensor::build_overwritten(g.output_shape(), |activated| {
            pre = Some(Tensor::build_overwritten(g.output_shape(), |pre| {
                g.for_each_image(pre, Some(activated), |n, pre, activated| {
                    let image = &x[n * image_len..(n + 1) * image_len];
                    g.forward_image(image, w, b, pre, plan.as_ref());
                    let activated = activated.expect("an output was given");
                    for (a, &v) in activated.iter_mut().zip(pre.iter()) {
                        *a = f(v);
                    }
                })
            }))
        });
        (pre.expect("filled above"), activated)
    }

    /// The gradients of [`Tensor::conv2d`] (with `self` as its input) given
    /// `grad`, the gradient of its output; only those `wanted` are computed.
    ///
    /// # Panics
    /// As [`Tensor::conv2d`], or if `grad` does not have the output's shape.
    pub fn conv2d_backward(
        &self,
        weight: &Tensor,
        grad: &Tensor,
        options: Conv2dOptions,
        wanted: LayerGradsWanted,
    ) -> LayerGrads {
        let g = Geometry::new(self.shape(), weight.shape(), None, options);
        g.check_grad("conv2d_backward", grad.shape());
        let dy = OutputGrad::<fn(f32, f32, f32) -> f32>::Direct(grad.data());
        g.backward(self.data(), weight.data(), wanted, &dy)
    }

    /// The gradients of [`Tensor::conv2d_then_map`] given `grad`, the
    /// gradient of the mapped output: `derivative(g, pre, out)` turns it
    /// into the gradient at the convolution's output `pre`, image by image
    /// inside the backward pass.
    ///
    /// # Panics
    /// As [`Tensor::conv2d_backward`], or if `pre` and `out` do not have the
    /// output's shape.
    #[allow(clippy::too_many_arguments)]
    pub fn conv2d_backward_through(
        &self,
        weight: &Tensor,
        grad: &Tensor,
        (pre, out): (&Tensor, &Tensor),
        options: Conv2dOptions,
        wanted: LayerGradsWanted,
        derivative: impl Fn(f32, f32, f32) -> f32 + Sync,
    ) -> LayerGrads {
        let g = Geometry::new(self.shape(), weight.shape(), None, options);
        for shape in [grad.shape(), pre.shape(), out.shape()] {
            g.check_grad("conv2d_backward_through", shape);
        }
        let dy = OutputGrad::Through {
            grad: grad.data(),
            pre: pre.data(),
            out: out.data(),
            derivative,
        };
        g.backward(self.data(), weight.data(), wanted, &dy)
    }
}

/// Below this many multiply-adds a convolution runs on the calling thread.
const CONV_PARALLEL_MIN_MACS: usize = 1 << 20;

/// Images per partial weight gradient: the unit of the backward pass's
/// parallel work and of its fixed summation order.
const IMAGES_PER_GROUP: usize = 4;

/// The sizes of one convolution, checked once.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    out_channels: usize,
    kernel: Pair,
    out_h: usize,
    out_w: usize,
    options: Conv2dOptions,
    /// Whether the direct kernels may run (tests turn them off to compare
    /// with im2col plus GEMM).
    allow_direct: bool,
}

impl Geometry {
    /// # Panics
    /// If the shapes or options do not describe a convolution; the message
    /// names both shapes.
    fn new(input: Shape, weight: Shape, bias: Option<Shape>, options: Conv2dOptions) -> Geometry {
        let shapes = format!("input of shape {input:?} and weight of shape {weight:?}");
        assert!(
            input.rank() == 4 && weight.rank() == 4,
            "conv2d: {shapes}: both must be 4-D (input [batch, channels, height, width], \
             weight [out, in / groups, kh, kw])"
        );
        let Conv2dOptions {
            stride,
            padding,
            dilation,
            groups,
        } = options;
        assert!(
            stride.h > 0 && stride.w > 0 && dilation.h > 0 && dilation.w > 0 && groups > 0,
            "conv2d: stride {stride}, dilation {dilation} and groups {groups} must be positive"
        );
        let [batch, channels, height, width] = [0, 1, 2, 3].map(|a| input.dim(a));
        let [out_channels, group_in, kh, kw] = [0, 1, 2, 3].map(|a| weight.dim(a));
        assert!(
            group_in.checked_mul(groups) == Some(channels) && out_channels % groups == 0,
            "conv2d: {shapes}: with {groups} group(s) the weight expects {} input channels \
             and out channels divisible by {groups}",
            group_in.saturating_mul(groups)
        );
        if let Some(bias) = bias {
            assert!(
                bias.dims() == [out_channels],
                "conv2d: bias of shape {bias:?} for a weight of shape {weight:?}"
            );
        }
        // Sizes are bounded by `isize::MAX`, as every allocation is, so that
        // neither they nor the signed offsets computed from them wrap around
        // (a wrapped padding made an all-zero output of the wrong shape).
        let bounded = |size: Option<usize>| size.filter(|&s| s <= isize::MAX as usize);
        let span = |k: usize, d: usize| bounded(d.checked_mul(k.max(1) - 1)?.checked_add(1));
        let padded = |size: usize, pad: usize| bounded(pad.checked_mul(2)?.checked_add(size));
        let (Some(span_h), Some(span_w), Some(padded_h), Some(padded_w)) = (
            span(kh, dilation.h),
            span(kw, dilation.w),
            padded(height, padding.h),
            padded(width, padding.w),
        ) else {
            panic!(
                "conv2d: {shapes}: padding {padding} or dilation {dilation} makes a size \
                 larger than isize::MAX"
            );
        };
        assert!(
            kh > 0 && kw > 0 && span_h <= padded_h && span_w <= padded_w,
            "conv2d: {shapes}: the kernel (dilated to {span_h}x{span_w}) does not fit the \
             padded input ({padded_h}x{padded_w})"
        );
        Geometry {
            batch,
            channels,
            height,
            width,
            out_channels,
            kernel: Pair { h: kh, w: kw },
            out_h: (padded_h - span_h) / stride.h + 1,
            out_w: (padded_w - span_w) / stride.w + 1,
            options,
            allow_direct: direct::available(),
        }
    }

    /// The extent of the dilated kernel along axis 0 (height) or 1 (width).
    fn span(&self, axis: usize) -> usize {
        let (k, d) = match axis {
            0 => (self.kernel.h, self.options.dilation.h),
            _ => (self.kernel.w, self.options.dilation.w),
        };
        d * (k - 1) + 1
    }

    /// Whether the forward pass and the weight gradient run the direct
    /// kernels.
    fn direct(&self) -> bool {
        self.allow_direct && self.group_rows() >= direct::MIN_REDUCTION
    }

    /// Whether the input gradient runs the direct kernel: a correlation of
    /// the padded output gradient, which needs stride 1.
    fn direct_input_grad(&self) -> bool {
        let taps = self.group_out() * self.kernel.h * self.kernel.w;
        self.allow_direct && self.options.stride == Pair::from(1) && taps >= direct::MIN_REDUCTION
    }

    /// # Panics
    /// If `shape` is not the output's shape.
    fn check_grad(&self, op: &str, shape: Shape) {
        assert!(
            shape == self.output_shape(),
            "{op}: gradient of shape {shape:?} for an output of shape {:?}",
            self.output_shape()
        );
    }

    fn output_shape(&self) -> Shape {
        Shape::new(&[self.batch, self.out_channels, self.out_h, self.out_w])
    }

    fn groups(&self) -> usize {
        self.options.groups
    }

    /// Output positions per image.
    fn pixels(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Elements of one input image.
    fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Elements of one output image.
    fn out_image_len(&self) -> usize {
        self.out_channels * self.pixels()
    }

    /// Rows of a group's column matrix: its input channels times the taps.
    fn group_rows(&self) -> usize {
        self.channels / self.groups() * self.kernel.h * self.kernel.w
    }

    /// Output channels per group.
    fn group_out(&self) -> usize {
        self.out_channels / self.groups()
    }

    /// Elements of one image's column matrix.
    fn columns_len(&self) -> usize {
        self.groups() * self.group_rows() * self.pixels()
    }

    /// A 1x1 kernel with stride 1 and no padding reads the image itself as
    /// its column matrix.
    fn columns_are_input(&self) -> bool {
        let o = &self.options;
        self.kernel == Pair::from(1) && o.stride == Pair::from(1) && o.padding == Pair::from(0)
    }

    /// Multiply-adds of one pass (forward, or one backward product).
    fn macs(&self) -> usize {
        self.batch * self.out_image_len() * self.group_rows()
    }

    fn parallel(&self) -> bool {
        self.macs() >= CONV_PARALLEL_MIN_MACS && rayon::current_num_threads() > 1
    }

    /// Group `g`'s weight, `[group_out, group_rows]`, optionally read transposed.
    fn weight_of<'a>(&self, weight: &'a [f32], g: usize, transposed: bool) -> MatRef<'a> {
        let len = self.group_out() * self.group_rows();
        MatRef {
            data: &weight[g * len..(g + 1) * len],
            rows: self.group_out(),
            cols: self.group_rows(),
            transposed,
        }
    }

    /// Group `g`'s rows of a column matrix, `[group_rows, pixels]`.
    fn columns_of<'a>(&self, columns: &'a [f32], g: usize, transposed: bool) -> MatRef<'a> {
        let len = self.group_rows() * self.pixels();
        MatRef {
            data: &columns[g * len..(g + 1) * len],
            rows: self.group_rows(),
            cols: self.pixels(),
            transposed,
        }
    }

    /// Group `g`'s channels of one output image, `[group_out, pixels]`.
    fn out_of<'a>(&self, out: &'a [f32], g: usize) -> MatRef<'a> {
        let len = self.group_out() * self.pixels();
        MatRef {
            data: &out[g * len..(g + 1) * len],
            rows: self.group_out(),
            cols: self.pixels(),
            transposed: false,
        }
    }

    /// For kernel tap `tap` along one axis, the range of output positions
    /// that read inside the input, and the input position of output 0
    /// (possibly negative).
    fn valid_range(
        tap: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        size: usize,
        outputs: usize,
    ) -> (std::ops::Range<usize>, isize) {
        let offset = (tap * dilation) as isize - padding as isize;
        let first = if offset >= 0 {
            0
        } else {
            (-offset as usize).div_ceil(stride)
        };
        let end = if offset >= size as isize {
            0
        } else {
            (size as isize - 1 - offset) as usize / stride + 1
        };
        let first = first.min(outputs);
        (first..end.clamp(first, outputs), offset)
    }

    /// Calls `row(columns_row, plane, tap_h, tap_w)` for every row of the
    /// column matrix, in order: the loop shared by im2col and col2im.
    fn for_each_tap(&self, mut row: impl FnMut(usize, usize, usize, usize)) {
        let (kh, kw) = (self.kernel.h, self.kernel.w);
        for c in 0..self.channels {
            for i in 0..kh {
                for j in 0..kw {
                    row((c * kh + i) * kw + j, c, i, j);
                }
            }
        }
    }

    /// Writes one image's column matrix: row `(c, i, j)` holds, for every
    /// output position, the input value under tap `(i, j)` of channel `c`
    /// (zero in the padding).
    fn im2col(&self, image: &[f32], columns: &mut [f32]) {
        let (h, w, p) = (self.height, self.width, self.pixels());
        let o = self.options;
        self.for_each_tap(|r, c, i, j| {
            let plane = &image[c * h * w..(c + 1) * h * w];
            let dst = &mut columns[r * p..(r + 1) * p];
            let (rows, row_offset) =
                Geometry::valid_range(i, o.stride.h, o.padding.h, o.dilation.h, h, self.out_h);
            let (cols, col_offset) =
                Geometry::valid_range(j, o.stride.w, o.padding.w, o.dilation.w, w, self.out_w);
            dst[..rows.start * self.out_w].fill(0.0);
            dst[rows.end * self.out_w..].fill(0.0);
            for y in rows {
                let src_row = (y * o.stride.h) as isize + row_offset;
                let src = &plane[src_row as usize * w..(src_row as usize + 1) * w];
                let out = &mut dst[y * self.out_w..(y + 1) * self.out_w];
                out[..cols.start].fill(0.0);
                out[cols.end..].fill(0.0);
                let first = (cols.start * o.stride.w) as isize + col_offset;
                if o.stride.w == 1 {
                    let first = first as usize;
                    out[cols.clone()].copy_from_slice(&src[first..first + cols.len()]);
                } else {
                    let taps = src[first as usize..].iter().step_by(o.stride.w);
                    for (v, &x) in out[cols.clone()].iter_mut().zip(taps) {
                        *v = x;
                    }
                }
            }
        });
    }

    /// The adjoint of [`Geometry::im2col`]: adds each column-matrix entry
    /// into the input position it was read from.
    fn col2im(&self, columns: &[f32], image: &mut [f32]) {
        let (h, w, p) = (self.height, self.width, self.pixels());
        let o = self.options;
        self.for_each_tap(|r, c, i, j| {
            let plane = &mut image[c * h * w..(c + 1) * h * w];
            let src = &columns[r * p..(r + 1) * p];
            let (rows, row_offset) =
                Geometry::valid_range(i, o.stride.h, o.padding.h, o.dilation.h, h, self.out_h);
            let (cols, col_offset) =
                Geometry::valid_range(j, o.stride.w, o.padding.w, o.dilation.w, w, self.out_w);
            for y in rows {
                let dst_row = ((y * o.stride.h) as isize + row_offset) as usize;
                let dst = &mut plane[dst_row * w..(dst_row + 1) * w];
                let values = &src[y * self.out_w + cols.start..y * self.out_w + cols.end];
                let first = ((cols.start * o.stride.w) as isize + col_offset) as usize;
                if o.stride.w == 1 {
                    for (d, &v) in dst[first..first + values.len()].iter_mut().zip(values) {
                        *d += v;
                    }
                } else {
                    let taps = dst[first..].iter_mut().step_by(o.stride.w);
                    for (d, &v) in taps.zip(values) {
                        *d += v;
                    }
                }
            }
        });
    }

    /// `columns`, or `image` itself when the convolution reads the image as
    /// its column matrix.
    fn columns<'a>(&self, image: &'a [f32], scratch: &'a mut [f32]) -> &'a [f32] {
        if self.columns_are_input() {
            return image;
        }
        self.im2col(image, scratch);
        scratch
    }

    /// One image's output (before any activation): `W cols + b`, per group,
    /// through the direct kernel when a plan is given.
    fn forward_image(
        &self,
        image: &[f32],
        weight: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
        plan: Option<&direct::Plan>,
    ) {
        if let Some(plan) = plan {
            with_scratch(plan.forward_scratch(), |scratch| {
                plan.forward_image(self, image, bias, out, scratch)
            });
            return;
        }
        let scratch_len = if self.columns_are_input() {
            0
        } else {
            self.columns_len()
        };
        with_scratch(scratch_len, |scratch| {
            let columns = self.columns(image, scratch);
            let p = self.pixels();
            let beta = match bias {
                Some(b) => {
                    for (row, &b) in out.chunks_exact_mut(p).zip(b) {
                        row.fill(b);
                    }
                    1.0
                }
                None => 0.0,
            };
            let group_len = self.group_out() * p;
            for (g, out) in out.chunks_exact_mut(group_len).enumerate() {
                let (w, cols) = (
                    self.weight_of(weight, g, false),
                    self.columns_of(columns, g, false),
                );
                gemm(w, cols, out, 1.0, beta);
            }
        });
    }

    /// Runs `image(n, pre, activated)` for every image, in parallel for
    /// large convolutions; `activated` is present when `activated_out` is.
    fn for_each_image(
        &self,
        pre: &mut [f32],
        activated_out: Option<&mut [f32]>,
        image: impl Fn(usize, &mut [f32], Option<&mut [f32]>) + Sync,
    ) {
        let len = self.out_image_len().max(1);
        match (activated_out, self.parallel()) {
            (Some(act), true) => pre
                .par_chunks_mut(len)
                .zip(act.par_chunks_mut(len))
                .enumerate()
                .for_each(|(n, (pre, act))| image(n, pre, Some(act))),
            (Some(act), false) => pre
                .chunks_mut(len)
                .zip(act.chunks_mut(len))
                .enumerate()
                .for_each(|(n, (pre, act))| image(n, pre, Some(act))),
            (None, true) => pre
                .par_chunks_mut(len)
                .enumerate()
                .for_each(|(n, pre)| image(n, pre, None)),
            (None, false) => pre
                .chunks_mut(len)
                .enumerate()
                .for_each(|(n, pre)| image(n, pre, None)),
        }
    }

    /// The backward pass, given where each image's gradient at the
    /// convolution's own output comes from.
    fn backward<D: Fn(f32, f32, f32) -> f32 + Sync>(
        &self,
        input: &[f32],
        weight: &[f32],
        wanted: LayerGradsWanted,
        dy: &OutputGrad<'_, D>,
    ) -> LayerGrads {
        let plans = Plans {
            weight: (wanted.weight && self.direct()).then(|| direct::WeightGradPlan::new(self)),
            input: (wanted.input && self.direct_input_grad())
                .then(|| direct::InputGradPlan::new(self, weight)),
        };
        let weight_partial_len = plans.weight_partial_len(self, weight.len());
        let partial_len = weight_partial_len + self.out_channels;
        // Every group overwrites its partial sums, so a recycled buffer
        // (no zeroing, no fresh pages each step) serves.
        let groups = self.batch.div_ceil(IMAGES_PER_GROUP);
        let mut partials = Tensor::build_overwritten(Shape::new(&[groups, partial_len]), |_| {});
        let partials = partials.data_mut();
        let task = |group: usize, partial: &mut [f32], dx: Option<&mut [f32]>| {
            let end = ((group + 1) * IMAGES_PER_GROUP).min(self.batch);
            let images = group * IMAGES_PER_GROUP..end;
            self.backward_group(images, input, weight, wanted, partial, dx, dy, &plans);
        };
        let group_input_len = IMAGES_PER_GROUP * self.image_len();
        let input_shape = Shape::new(&[self.batch, self.channels, self.height, self.width]);
        let parallel = self.parallel();
        let dx = wanted.input.then(|| {
            Tensor::build_overwritten(input_shape, |dx| {
                let pairs = |(i, (partial, dx))| task(i, partial, Some(dx));
                if parallel {
                    let chunks = partials.par_chunks_mut(partial_len);
                    let dx = dx.par_chunks_mut(group_input_len);
                    chunks.zip(dx).enumerate().for_each(pairs);
                } else {
                    let chunks = partials.chunks_mut(partial_len);
                    chunks
                        .zip(dx.chunks_mut(group_input_len))
                        .enumerate()
                        .for_each(pairs);
                }
            })
        });
        if !wanted.input {
            let alone = |(i, partial)| task(i, partial, None);
            if parallel {
                partials
                    .par_chunks_mut(partial_len)
                    .enumerate()
                    .for_each(alone);
            } else {
                partials.chunks_mut(partial_len).enumerate().for_each(alone);
            }
        }
        let mut groups = partials.chunks_exact(partial_len);
        let mut total = groups
            .next()
            .map_or_else(|| vec![0.0; partial_len], <[f32]>::to_vec);
        for partial in groups {
            for (t, &p) in total.iter_mut().zip(partial) {
                *t += p;
            }
        }
        let weight_shape = [
            self.out_channels,
            self.channels / self.groups(),
            self.kernel.h,
            self.kernel.w,
        ];
        let (total_w, total_b) = total.split_at(weight_partial_len);
        let dw = wanted.weight.then(|| match &plans.weight {
            Some(plan) => {
                Tensor::build_overwritten(Shape::new(&weight_shape), |dw| plan.finish(total_w, dw))
            }
            None => Tensor::from_slice(total_w).reshape(weight_shape),
        });
        LayerGrads {
            input: dx,
            weight: dw,
            bias: wanted.bias.then(|| Tensor::from_slice(total_b)),
        }
    }

    /// The backward pass over one group of images: writes the sum of their
    /// weight and bias gradients into `partial` (`[weight..., bias...]`,
    /// the weight's part in the form of its plan's partials)
    /// and their input gradients into `dx`, if given; the direct kernels
    /// run where `plans` has a plan.
    #[allow(clippy::too_many_arguments)]
    fn backward_group<D: Fn(f32, f32, f32) -> f32 + Sync>(
        &self,
        images: std::ops::Range<usize>,
        input: &[f32],
        weight: &[f32],
        wanted: LayerGradsWanted,
        partial: &mut [f32],
        mut dx: Option<&mut [f32]>,
        dy: &OutputGrad<'_, D>,
        plans: &Plans,
    ) {
        let (p, image_len) = (self.pixels(), self.image_len());
        let own_columns = !self.columns_are_input();
        let columns_len = if own_columns { self.columns_len() } else { 0 };
        let gemm_columns = if plans.weight.is_none() || plans.input.is_none() {
            columns_len
        } else {
            0
        };
        let prepared_len = plans
            .weight
            .as_ref()
            .map_or(0, |plan| plan.scratch_per_image(self));
        let input_grad_len = plans.input.as_ref().map_or(0, |plan| plan.scratch());
        let regions = [
            self.out_image_len(),
            gemm_columns,
            gemm_columns,
            prepared_len * images.len(),
            input_grad_len,
        ];
        let weight_partial_len = plans.weight_partial_len(self, weight.len());
        let (partial_w, partial_b) = partial.split_at_mut(weight_partial_len);
        with_scratch(regions.iter().sum(), |scratch| {
            let (dy_buf, rest) = scratch.split_at_mut(regions[0]);
            let (columns_buf, rest) = rest.split_at_mut(regions[1]);
            let (dcols, rest) = rest.split_at_mut(regions[2]);
            let (prepared, input_grad_buf) = rest.split_at_mut(regions[3]);
            for (i, n) in images.clone().enumerate() {
                let first = i == 0;
                let dy = dy.image(n, self.out_image_len(), dy_buf);
                let image = &input[n * image_len..(n + 1) * image_len];
                if wanted.weight {
                    if let Some(plan) = &plans.weight {
                        let slot = &mut prepared[i * prepared_len..(i + 1) * prepared_len];
                        plan.prepare(self, image, dy, slot);
                    } else {
                        let columns = if own_columns {
                            self.im2col(image, columns_buf);
                            &*columns_buf
                        } else {
                            image
                        };
                        let dw_len = self.group_out() * self.group_rows();
                        for (g, dw) in partial_w.chunks_exact_mut(dw_len).enumerate() {
                            let (dy, cols) =
                                (self.out_of(dy, g), self.columns_of(columns, g, true));
                            gemm(dy, cols, dw, 1.0, if first { 0.0 } else { 1.0 });
                        }
                    }
                }
                if wanted.bias {
                    for (b, row) in partial_b.iter_mut().zip(dy.chunks_exact(p)) {
                        let sum = sum_lanes(row);
                        *b = if first { sum } else { *b + sum };
                    }
                }
                let Some(dx) = dx.as_deref_mut() else {
                    continue;
                };
                let at = i * image_len;
                let dx_image = &mut dx[at..at + image_len];
                if let Some(plan) = &plans.input {
                    plan.image(self, dy, dx_image, input_grad_buf);
                    continue;
                }
                // dcols = W^T dy per group, written straight into dx when the
                // columns are the image itself.
                let target = if own_columns {
                    &mut *dcols
                } else {
                    &mut *dx_image
                };
                for (g, dcols) in target.chunks_exact_mut(self.group_rows() * p).enumerate() {
                    let (w, dy) = (self.weight_of(weight, g, true), self.out_of(dy, g));
                    gemm(w, dy, dcols, 1.0, 0.0);
                }
                if own_columns {
                    dx_image.fill(0.0);
                    self.col2im(dcols, dx_image);
                }
            }
            if let (true, Some(plan)) = (wanted.weight, &plans.weight) {
                plan.run(self, prepared, images.len(), partial_w);
            }
        });
    }
}

/// The direct kernels' plans for a backward pass: `None` where im2col plus
/// GEMM runs instead.
struct Plans {
    weight: Option<direct::WeightGradPlan>,
    input: Option<direct::InputGradPlan>,
}

impl Plans {
    /// Floats of a group's partial weight gradient: the gradient itself
    /// (`weight_len` floats) unless the direct plan keeps its own form.
    fn weight_partial_len(&self, g: &Geometry, weight_len: usize) -> usize {
        self.weight
            .as_ref()
            .map_or(weight_len, |plan| plan.partial_len(g))
    }
}

/// Where the backward pass reads each image's gradient with respect to the
/// convolution's output before any activation.
enum OutputGrad<'a, D> {
    /// The incoming gradient itself.
    Direct(&'a [f32]),
    /// The incoming gradient through an activation: `derivative(g, pre,
    /// out)` is the gradient at the pre-activation value.
    Through {
        grad: &'a [f32],
        pre: &'a [f32],
        out: &'a [f32],
        derivative: D,
    },
}

impl<D: Fn(f32, f32, f32) -> f32> OutputGrad<'_, D> {
    /// Image `n`'s gradient (`len` values), computed into `buf` if needed.
    fn image<'s>(&'s self, n: usize, len: usize, buf: &'s mut [f32]) -> &'s [f32] {
        let range = n * len..(n + 1) * len;
        match self {
            OutputGrad::Direct(grad) => &grad[range],
            OutputGrad::Through {
                grad,
                pre,
                out,
                derivative,
            } => {
                let values = grad[range.clone()].iter().zip(&pre[range.clone()]);
                for ((b, (&g, &x)), &y) in buf.iter_mut().zip(values).zip(&out[range]) {
                    *b = derivative(g, x, y);
                }
                buf
            }
        }
    }
}

thread_local! {
    /// Each thread's scratch for column matrices, kept across calls so a
    /// training step allocates none.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's scratch buffer of at least `len` elements
/// (stale contents). The buffer is taken out of its slot while `f` runs, so
/// a nested call (rayon may run another image's task on this thread while
/// a large product waits) gets a fresh buffer instead of a borrow panic.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buffer = SCRATCH.with(|slot| std::mem::take(&mut *slot.borrow_mut()));
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    let result = f(&mut buffer[..len]);
    SCRATCH.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.len() < buffer.len() {
            *slot = buffer;
        }
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;

    /// The convolution straight from its definition, and its gradients.
    struct Direct {
        g: Geometry,
        x: Tensor,
        w: Tensor,
    }

    impl Direct {
        /// Calls `f([n, o, oy, ox], [c, ky, kx], input_index)` for every
        /// product term that reads inside the input.
        fn for_each_term(&self, mut f: impl FnMut([usize; 4], [usize; 3], usize)) {
            let g = &self.g;
            let o = g.options;
            let (cin, cout) = (g.channels / g.groups(), g.group_out());
            for n in 0..g.batch {
                for oc in 0..g.out_channels {
                    for (oy, ox) in (0..g.out_h).flat_map(|y| (0..g.out_w).map(move |x| (y, x))) {
                        for c in 0..cin {
                            for ky in 0..g.kernel.h {
                                for kx in 0..g.kernel.w {
                                    let iy = (oy * o.stride.h + ky * o.dilation.h) as isize
                                        - o.padding.h as isize;
                                    let ix = (ox * o.stride.w + kx * o.dilation.w) as isize
                                        - o.padding.w as isize;
                                    if iy < 0
                                        || ix < 0
                                        || iy >= g.height as isize
                                        || ix >= g.width as isize
                                    {
                                        continue;
                                    }
                                    let channel = oc / cout * cin + c;
                                    let at = ((n * g.channels + channel) * g.height + iy as usize)
                                        * g.width
                                        + ix as usize;
                                    f([n, oc, oy, ox], [c, ky, kx], at);
                                }
                            }
                        }
                    }
                }
            }
        }

        fn forward(&self, bias: &Tensor) -> Tensor {
            let mut out = Tensor::from_fn(self.g.output_shape(), |i| bias.data()[i[1]]);
            let shape = self.g.output_shape();
            let (x, w) = (self.x.data().to_vec(), self.w.clone());
            let data = out.data_mut();
            self.for_each_term(|[n, oc, oy, ox], [c, ky, kx], at| {
                let o = ((n * shape.dim(1) + oc) * shape.dim(2) + oy) * shape.dim(3) + ox;
                data[o] += x[at] * w.get(&[oc, c, ky, kx]);
            });
            out
        }

        fn backward(&self, grad: &Tensor) -> (Tensor, Tensor, Tensor) {
            let mut dx = self.x.zeros_like();
            let mut dw = self.w.zeros_like();
            let db = grad
                .sum_axis(3, false)
                .sum_axis(2, false)
                .sum_axis(0, false);
            let (dxd, x) = (dx.data_mut(), self.x.data());
            let wdims = self.w.dims().to_vec();
            let dwd = dw.data_mut();
            self.for_each_term(|[n, oc, oy, ox], [c, ky, kx], at| {
                let gy = grad.get(&[n, oc, oy, ox]);
                let wi = ((oc * wdims[1] + c) * wdims[2] + ky) * wdims[3] + kx;
                dxd[at] += gy * self.w.data()[wi];
                dwd[wi] += gy * x[at];
            });
            (dx, dw, db)
        }
    }

    fn options(
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
        groups: usize,
    ) -> Conv2dOptions {
        Conv2dOptions {
            stride: stride.into(),
            padding: padding.into(),
            dilation: dilation.into(),
            groups,
        }
    }

    /// (input shape, weight shape, options): strides, padding, dilation,
    /// groups, odd sizes, batch 1, 1x1 kernels; the first eight run im2col
    /// plus GEMM, the rest (reductions of 64 and more) the direct kernels
    /// or Winograd's where the machine has them.
    fn cases() -> Vec<([usize; 4], [usize; 4], Conv2dOptions)> {
        vec![
            (
                [2, 3, 7, 6],
                [4, 3, 3, 3],
                options((1, 1), (1, 1), (1, 1), 1),
            ),
            (
                [1, 2, 9, 8],
                [3, 2, 3, 2],
                options((2, 3), (1, 0), (1, 1), 1),
            ),
            (
                [2, 4, 9, 9],
                [6, 2, 3, 3],
                options((1, 1), (2, 1), (2, 3), 2),
            ),
            (
                [3, 4, 5, 5],
                [4, 1, 3, 3],
                options((2, 2), (1, 1), (1, 1), 4),
            ),
            (
                [5, 3, 4, 5],
                [2, 3, 1, 1],
                options((1, 1), (0, 0), (1, 1), 1),
            ),
            (
                [2, 3, 4, 5],
                [2, 3, 1, 1],
                options((2, 1), (1, 0), (1, 1), 1),
            ),
            (
                [1, 1, 6, 6],
                [2, 1, 6, 6],
                options((1, 1), (0, 0), (1, 1), 1),
            ),
            (
                [9, 2, 5, 4],
                [2, 2, 3, 3],
                options((1, 1), (2, 2), (1, 1), 1),
            ),
            (
                [2, 8, 7, 6],
                [5, 8, 3, 3],
                options((1, 1), (1, 1), (1, 1), 1),
            ),
            (
                [3, 16, 9, 8],
                [20, 8, 3, 3],
                options((2, 1), (1, 2), (2, 1), 2),
            ),
            (
                [1, 32, 6, 5],
                [40, 32, 2, 2],
                options((1, 1), (0, 0), (1, 1), 1),
            ),
            (
                [2, 64, 3, 3],
                [17, 64, 1, 1],
                options((1, 1), (0, 0), (1, 1), 1),
            ),
            (
                [2, 16, 9, 9],
                [8, 16, 3, 3],
                options((1, 1), (2, 1), (2, 3), 1),
            ),
            (
                [1, 8, 4, 4],
                [64, 8, 1, 1],
                options((1, 1), (1, 1), (1, 1), 1),
            ),
            (
                [5, 3, 7, 7],
                [32, 3, 5, 5],
                options((1, 1), (2, 2), (1, 1), 1),
            ),
            (
                [2, 8, 8, 9],
                [4, 8, 3, 3],
                options((2, 3), (0, 0), (1, 1), 1),
            ),
            // Winograd F(2x2, 5x5) where AVX2 is: the CNN flagship's second
            // convolution; odd output sizes; padding zero, uneven, and past
            // the kernel's span (the input gradient then crops); rows of
            // more than eight blocks, not a multiple of eight (14 and 10).
            (
                [2, 8, 20, 28],
                [8, 8, 5, 5],
                options((1, 1), (2, 2), (1, 1), 1),
            ),
            (
                [2, 16, 14, 14],
                [32, 16, 5, 5],
                options((1, 1), (2, 2), (1, 1), 1),
            ),
            (
                [1, 8, 9, 7],
                [8, 8, 5, 5],
                options((1, 1), (1, 1), (1, 1), 1),
            ),
            (
                [3, 9, 11, 10],
                [16, 9, 5, 5],
                options((1, 1), (0, 3), (1, 1), 1),
            ),
            (
                [1, 24, 6, 6],
                [8, 24, 5, 5],
                options((1, 1), (5, 2), (1, 1), 1),
            ),
        ]
    }

    /// Within float32 rounding of sums of this size: 1e-4 relative, plus
    /// 1e-5 of the largest value (Winograd's transforms round at the
    /// scale of the whole block, not of each output).
    fn close(got: &Tensor, want: &Tensor) -> bool {
        close_within(got, want, 1e-5)
    }

    /// [`close`] for weight gradients, 1e-4 of the largest value: Winograd's
    /// sums of transformed products, larger than the gradient they add up
    /// to, round at up to 3.4e-5 of it (3,000 random shapes against an f64
    /// sum; the direct kernels ~4e-7). A wrong transform errs by the
    /// gradient's own scale.
    fn close_weight(got: &Tensor, want: &Tensor) -> bool {
        close_within(got, want, 1e-4)
    }

    fn close_within(got: &Tensor, want: &Tensor, of_largest: f32) -> bool {
        let scale = want.to_vec().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        got.all_close(want, 1e-4, 1e-4 + of_largest * scale)
    }

    /// Draws an input, weight, bias and output gradient of the given
    /// shapes and checks the forward pass and every gradient, all together
    /// and the weight's alone, against the definition; `case` names them.
    fn check_against_the_definition(
        xs: [usize; 4],
        ws: [usize; 4],
        opts: Conv2dOptions,
        case: &str,
        rng: &mut impl rand::Rng,
    ) {
        let x = Tensor::randn(xs, rng);
        let w = Tensor::randn(ws, rng);
        let b = Tensor::randn([ws[0]], rng);
        let g = Geometry::new(x.shape(), w.shape(), Some(b.shape()), opts);
        let direct = Direct {
            g,
            x: x.clone(),
            w: w.clone(),
        };
        let y = x.conv2d(&w, Some(&b), opts);
        assert!(close(&y, &direct.forward(&b)), "{case}: forward");
        let grad = Tensor::randn(y.shape(), rng);
        let all = LayerGradsWanted {
            input: true,
            weight: true,
            bias: true,
        };
        let got = x.conv2d_backward(&w, &grad, opts, all);
        let (dx, dw, db) = direct.backward(&grad);
        assert!(close(&got.input.unwrap(), &dx), "{case}: dx");
        assert!(close_weight(&got.weight.unwrap(), &dw), "{case}: dw");
        assert!(close(&got.bias.unwrap(), &db), "{case}: db");
        let weight_only = LayerGradsWanted {
            input: false,
            weight: true,
            bias: false,
        };
        let some = x.conv2d_backward(&w, &grad, opts, weight_only);
        assert!(some.input.is_none() && some.bias.is_none());
        assert!(close_weight(&some.weight.unwrap(), &dw), "{case}: dw alone");
    }

    #[test]
    fn forward_and_backward_match_the_definition() {
        let mut rng = seeded_rng(11);
        for (case, (xs, ws, opts)) in cases().into_iter().enumerate() {
            check_against_the_definition(xs, ws, opts, &format!("case {case}"), &mut rng);
        }
    }

    /// Winograd's plans on shapes drawn at random (a fixed seed): rows of
    /// one to twenty-one blocks, odd sizes, padding up to past the kernel's
    /// span, against the definition.
    #[test]
    fn winograd_matches_the_definition_on_drawn_shapes() {
        let mut rng = seeded_rng(17);
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut below = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % n
        };
        for case in 0..20 {
            let (n, c, o) = (1 + below(2), 8 * (1 + below(2)), 8 * (1 + below(2)));
            let (h, w) = (1 + below(33), 1 + below(33));
            // At least enough padding for the 5x5 kernel to fit.
            let least = |size: usize| (5usize.saturating_sub(size)).div_ceil(2);
            let pad = (below(7).max(least(h)), below(7).max(least(w)));
            let opts = options((1, 1), pad, (1, 1), 1);
            let name = format!("case {case}: x [{n}, {c}, {h}, {w}], padding {pad:?}");
            check_against_the_definition([n, c, h, w], [o, c, 5, 5], opts, &name, &mut rng);
        }
    }

    #[test]
    fn a_fused_map_gives_the_map_of_the_convolution() {
        let mut rng = seeded_rng(3);
        let x = Tensor::randn([3, 2, 6, 5], &mut rng);
        let w = Tensor::randn([4, 2, 3, 3], &mut rng);
        let opts = options((1, 1), (1, 1), (1, 1), 1);
        let (pre, out) = x.conv2d_then_map(&w, None, opts, |v| v.max(0.0));
        assert!(pre.bit_eq(&x.conv2d(&w, None, opts)));
        assert!(out.bit_eq(&pre.relu()));
        let grad = Tensor::randn(out.shape(), &mut rng);
        let all = LayerGradsWanted {
            input: true,
            weight: true,
            bias: true,
        };
        let through = x.conv2d_backward_through(&w, &grad, (&pre, &out), opts, all, |g, _, y| {
            if y > 0.0 { g } else { 0.0 }
        });
        let masked = grad.zip_map("mask", &out, |g, y| if y > 0.0 { g } else { 0.0 });
        let plain = x.conv2d_backward(&w, &masked, opts, all);
        assert!(through.input.unwrap().bit_eq(&plain.input.unwrap()));
        assert!(through.weight.unwrap().bit_eq(&plain.weight.unwrap()));
        assert!(through.bias.unwrap().bit_eq(&plain.bias.unwrap()));
    }

    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    #[test]
    fn results_are_bit_identical_on_any_number_of_threads() {
        let mut rng = seeded_rng(5);
        // Above CONV_PARALLEL_MIN_MACS, with a batch that is not a multiple
        // of IMAGES_PER_GROUP; a 3x3 kernel (offset kernels) and a 5x5 one
        // (Winograd where AVX2 is).
        for kernel in [3, 5] {
            let x = Tensor::randn([13, 8, 16, 16], &mut rng);
            let w = Tensor::randn([16, 8, kernel, kernel], &mut rng);
            let b = Tensor::randn([16], &mut rng);
            let pad = kernel / 2;
            let opts = options((1, 1), (pad, pad), (1, 1), 1);
            let g = Geometry::new(x.shape(), w.shape(), None, opts);
            assert!(g.macs() >= CONV_PARALLEL_MIN_MACS);
            let grad = Tensor::randn(g.output_shape(), &mut rng);
            let all = LayerGradsWanted {
                input: true,
                weight: true,
                bias: true,
            };
            let run = || {
                let y = x.conv2d(&w, Some(&b), opts);
                let grads = x.conv2d_backward(&w, &grad, opts, all);
                [
                    y,
                    grads.input.unwrap(),
                    grads.weight.unwrap(),
                    grads.bias.unwrap(),
                ]
            };
            let one = in_pool(1, run);
            for threads in [2, 3] {
                let many = in_pool(threads, run);
                for (i, (a, b)) in one.iter().zip(&many).enumerate() {
                    assert!(
                        a.bit_eq(b),
                        "{kernel}x{kernel}: result {i} differs with {threads} threads"
                    );
                }
            }
        }
    }

    #[test]
    #[should_panic(
        expected = "conv2d: input of shape [1, 3, 5, 5] and weight of shape [2, 2, 3, 3]"
    )]
    fn mismatched_channels_name_both_shapes() {
        Tensor::zeros([1, 3, 5, 5]).conv2d(
            &Tensor::zeros([2, 2, 3, 3]),
            None,
            Conv2dOptions::default(),
        );
    }

    #[test]
    #[should_panic(expected = "does not fit the padded input")]
    fn a_kernel_larger_than_the_input_is_refused() {
        Tensor::zeros([1, 1, 2, 2]).conv2d(
            &Tensor::zeros([1, 1, 3, 3]),
            None,
            Conv2dOptions::default(),
        );
    }
}
