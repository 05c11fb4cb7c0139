//! 2-D pooling over NCHW tensors with PyTorch's semantics: max pooling
//! (with the argmax kept for the backward pass), average pooling and
//! adaptive average pooling. Each kernel makes one pass over its input;
//! planes (one channel of one image) run in parallel, and no value sums
//! across planes, so the bits do not depend on the number of threads.

use rayon::prelude::*;

mod max_2x2;

use crate::conv::Pair;
use crate::parallel::{CHUNK_WORK, PARALLEL_MIN_WORK, fill_chunks_weighted};
use crate::shape::Shape;
use crate::tensor::Tensor;
use max_2x2::max_2x2;

/// Window size, stride and padding of a 2-D pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dOptions {
    /// The window.
    pub kernel: Pair,
    /// Step between windows; PyTorch's default is the window size.
    pub stride: Pair,
    /// Implicit padding on both sides of each spatial dimension: negative
    /// infinity for max pooling, zeros for average pooling.
    pub padding: Pair,
}

impl Pool2dOptions {
    /// Windows of `kernel` side by side (stride = kernel), no padding.
    pub fn new(kernel: impl Into<Pair>) -> Pool2dOptions {
        let kernel = kernel.into();
        Pool2dOptions {
            kernel,
            stride: kernel,
            padding: Pair::from(0),
        }
    }
}

/// The planes and window bounds of one pooling.
struct Windows {
    /// Planes: batch times channels.
    planes: usize,
    height: usize,
    width: usize,
    out_h: usize,
    out_w: usize,
    kind: WindowKind,
}

enum WindowKind {
    /// Fixed windows every `stride`, starting `padding` before the input.
    Fixed(Pool2dOptions),
    /// PyTorch's adaptive bins: output `i` of `n` covers
    /// `floor(i * size / n)..ceil((i + 1) * size / n)`.
    Adaptive,
}

impl Windows {
    /// # Panics
    /// If `input` is not 4-D or the windows do not fit; the message names `op`.
    fn fixed(op: &str, input: Shape, options: Pool2dOptions) -> Windows {
        let (planes, height, width) = planes(op, input);
        let Pool2dOptions {
            kernel,
            stride,
            padding,
        } = options;
        assert!(
            kernel.h > 0 && kernel.w > 0 && stride.h > 0 && stride.w > 0,
            "{op}: kernel {kernel} and stride {stride} must be positive"
        );
        assert!(
            padding.h <= kernel.h / 2 && padding.w <= kernel.w / 2,
            "{op}: padding {padding} must be at most half the kernel {kernel}"
        );
        // Sizes are bounded by `isize::MAX`, as every allocation is, so that
        // the signed window offsets and the window's element count cannot
        // wrap around.
        let padded = |size: usize, pad: usize| {
            size.checked_add(2 * pad)
                .filter(|&padded| padded <= isize::MAX as usize)
        };
        let (Some(padded_h), Some(padded_w), Some(_)) = (
            padded(height, padding.h),
            padded(width, padding.w),
            kernel.h.checked_mul(kernel.w),
        ) else {
            panic!(
                "{op}: kernel {kernel} with padding {padding} makes a size larger than \
                 isize::MAX for input of shape {input:?}"
            );
        };
        assert!(
            kernel.h <= padded_h && kernel.w <= padded_w,
            "{op}: kernel {kernel} is larger than the padded input of shape {input:?}"
        );
        Windows {
            planes,
            height,
            width,
            out_h: (padded_h - kernel.h) / stride.h + 1,
            out_w: (padded_w - kernel.w) / stride.w + 1,
            kind: WindowKind::Fixed(options),
        }
    }

    /// # Panics
    /// If `input` is not 4-D or `output` has a zero side.
    fn adaptive(op: &str, input: Shape, output: Pair) -> Windows {
        let (planes, height, width) = planes(op, input);
        assert!(
            output.h > 0 && output.w > 0,
            "{op}: output size {output} must be positive"
        );
        Windows {
            planes,
            height,
            width,
            out_h: output.h,
            out_w: output.w,
            kind: WindowKind::Adaptive,
        }
    }

    fn output_shape(&self, input: Shape) -> Shape {
        Shape::new(&[input.dim(0), input.dim(1), self.out_h, self.out_w])
    }

    fn out_plane(&self) -> usize {
        self.out_h * self.out_w
    }

    fn in_plane(&self) -> usize {
        self.height * self.width
    }

    /// The input rows and columns under output `(y, x)`, clipped to the
    /// input, and the number of positions the window counts, padding
    /// included.
    fn window(
        &self,
        y: usize,
        x: usize,
    ) -> (std::ops::Range<usize>, std::ops::Range<usize>, usize) {
        match self.kind {
            WindowKind::Fixed(o) => {
                let span = |i: usize, stride: usize, pad: usize, k: usize, size: usize| {
                    let start = (i * stride) as isize - pad as isize;
                    let end = (start + k as isize).min(size as isize) as usize;
                    start.max(0) as usize..end
                };
                let rows = span(y, o.stride.h, o.padding.h, o.kernel.h, self.height);
                let cols = span(x, o.stride.w, o.padding.w, o.kernel.w, self.width);
                (rows, cols, o.kernel.h * o.kernel.w)
            }
            WindowKind::Adaptive => {
                let bin =
                    |i: usize, n: usize, size: usize| i * size / n..((i + 1) * size).div_ceil(n);
                let rows = bin(y, self.out_h, self.height);
                let cols = bin(x, self.out_w, self.width);
                let count = rows.len() * cols.len();
                (rows, cols, count)
            }
        }
    }

    /// The work of one output element, for the parallel threshold.
    fn work_per_output(&self) -> usize {
        (self.in_plane() / self.out_plane().max(1)).max(1)
    }

    /// Calls `f(plane, out_plane)` for every plane of `out`, in parallel
    /// when the pooling is large.
    fn for_each_plane(&self, out: &mut [f32], f: impl Fn(usize, &mut [f32]) + Sync) {
        let unit = self.out_plane();
        fill_chunks_weighted(out, unit, self.work_per_output(), |start, chunk| {
            for (i, plane) in chunk.chunks_exact_mut(unit).enumerate() {
                f(start / unit + i, plane);
            }
        });
    }

    /// Calls `f(plane, in_plane)` for every plane of `dx`, an input-shaped
    /// buffer, in parallel when the pooling is large.
    fn for_each_input_plane(&self, dx: &mut [f32], f: impl Fn(usize, &mut [f32]) + Sync) {
        let unit = self.in_plane();
        fill_chunks_weighted(dx, unit, 1, |start, chunk| {
            for (i, plane) in chunk.chunks_exact_mut(unit).enumerate() {
                f(start / unit + i, plane);
            }
        });
    }

    /// Average pooling of every plane; `count_pad` divides by the window's
    /// full size rather than the positions inside the input.
    fn average(&self, x: &[f32], out: &mut [f32], count_pad: bool) {
        self.for_each_plane(out, |plane, out| {
            let src = &x[plane * self.in_plane()..(plane + 1) * self.in_plane()];
            for (i, o) in out.iter_mut().enumerate() {
                let (rows, cols, full) = self.window(i / self.out_w, i % self.out_w);
                let count = if count_pad {
                    full
                } else {
                    rows.len() * cols.len()
                };
                let mut sum = 0.0;
                for r in rows {
                    sum += src[r * self.width + cols.start..r * self.width + cols.end]
                        .iter()
                        .sum::<f32>();
                }
                *o = sum / count as f32;
            }
        });
    }

    /// The adjoint of [`Windows::average`].
    fn average_backward(&self, grad: &[f32], dx: &mut [f32], count_pad: bool) {
        self.for_each_input_plane(dx, |plane, dx| {
            let g = &grad[plane * self.out_plane()..(plane + 1) * self.out_plane()];
            for (i, &g) in g.iter().enumerate() {
                let (rows, cols, full) = self.window(i / self.out_w, i % self.out_w);
                let count = if count_pad {
                    full
                } else {
                    rows.len() * cols.len()
                };
                let share = g / count as f32;
                for r in rows {
                    for d in &mut dx[r * self.width + cols.start..r * self.width + cols.end] {
                        *d += share;
                    }
                }
            }
        });
    }
}

impl Windows {
    /// Max pooling of one plane whose windows all lie inside it (no
    /// padding): the window bounds are plain arithmetic, and 2x2 windows,
    /// the common case, are unrolled.
    fn max_unpadded(&self, src: &[f32], out: &mut [f32], at: &mut [f32]) {
        let WindowKind::Fixed(o) = self.kind else {
            unreachable!("max pooling has fixed windows");
        };
        let (kernel, stride, width) = (o.kernel, o.stride, self.width);
        for y in 0..self.out_h {
            let out = &mut out[y * self.out_w..(y + 1) * self.out_w];
            let at = &mut at[y * self.out_w..(y + 1) * self.out_w];
            let top = y * stride.h * width;
            if kernel == Pair::from(2) && stride == Pair::from(2) {
                max_2x2(&src[top..top + 2 * width], width, top, out, at);
                continue;
            }
            for (x, (o, a)) in out.iter_mut().zip(at.iter_mut()).enumerate() {
                let corner = top + x * stride.w;
                let mut best = src[corner];
                let mut best_at = corner;
                for r in 0..kernel.h {
                    let row = corner + r * width;
                    for (c, &v) in src[row..row + kernel.w].iter().enumerate() {
                        if replaces(v, best) {
                            best = v;
                            best_at = row + c;
                        }
                    }
                }
                *o = best;
                *a = best_at as f32;
            }
        }
    }
}

/// Whether `v` takes the place of the maximum so far, by PyTorch's test:
/// larger, or NaN (so NaN propagates, and the first of equal values wins).
fn replaces(v: f32, best: f32) -> bool {
    v > best || v.is_nan()
}

/// `(batch * channels, height, width)` of a 4-D input.
fn planes(op: &str, input: Shape) -> (usize, usize, usize) {
    assert_eq!(
        input.rank(),
        4,
        "{op}: input must be [batch, channels, height, width], got shape {input:?}"
    );
    (input.dim(0) * input.dim(1), input.dim(2), input.dim(3))
}

/// # Panics
/// If `grad` does not have the pooling's output shape for `input`.
fn check_grad(op: &str, grad: Shape, expected: Shape) {
    assert!(
        grad == expected,
        "{op}: gradient of shape {grad:?} for an output of shape {expected:?}"
    );
}

impl Tensor {
    /// Max pooling of a `[batch, channels, h, w]` input, as PyTorch's
    /// `F.max_pool2d(..., return_indices=True)`: the maxima, and where each
    /// came from as a position `row * w + col` in its plane (stored as
    /// `f32`, exact below 2^24). The first maximum of a window wins; a NaN
    /// wins over any number.
    ///
    /// ```
    /// use descent_tensor::{Pool2dOptions, Tensor};
    ///
    /// let x = Tensor::from([[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 6.0]]).reshape([1, 1, 2, 4]);
    /// let (max, at) = x.max_pool2d(Pool2dOptions::new(2));
    /// assert_eq!(max.to_vec(), vec![5.0, 8.0]);
    /// assert_eq!(at.to_vec(), vec![1.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// If the input is not 4-D, the window does not fit, or the padding is
    /// more than half the window (as PyTorch).
    pub fn max_pool2d(&self, options: Pool2dOptions) -> (Tensor, Tensor) {
        let w = Windows::fixed("max_pool2d", self.shape(), options);
        assert!(
            w.in_plane() < 1 << 24,
            "max_pool2d: planes of {} positions cannot be indexed exactly in f32",
            w.in_plane()
        );
        let shape = w.output_shape(self.shape());
        let x = self.data();
        let pool_plane = |plane: usize, out: &mut [f32], at: &mut [f32]| {
            let src = &x[plane * w.in_plane()..(plane + 1) * w.in_plane()];
            if options.padding == Pair::from(0) {
                w.max_unpadded(src, out, at);
                return;
            }
            for (i, (o, a)) in out.iter_mut().zip(at.iter_mut()).enumerate() {
                let (rows, cols, _) = w.window(i / w.out_w, i % w.out_w);
                let mut best_at = rows.start * w.width + cols.start;
                let mut best = f32::NEG_INFINITY;
                for r in rows {
                    for c in cols.clone() {
                        let v = src[r * w.width + c];
                        if replaces(v, best) {
                            best = v;
                            best_at = r * w.width + c;
                        }
                    }
                }
                *o = best;
                *a = best_at as f32;
            }
        };
        let mut indices = None;
        let values = Tensor::build_overwritten(shape, |out| {
            indices = Some(Tensor::build_overwritten(shape, |at| {
                let unit = w.out_plane().max(1);
                let planes_per_chunk = (CHUNK_WORK / (unit * w.work_per_output())).max(1);
                if out.len() * w.work_per_output() >= PARALLEL_MIN_WORK && w.planes > 1 {
                    let chunk = planes_per_chunk * unit;
                    out.par_chunks_mut(chunk)
                        .zip(at.par_chunks_mut(chunk))
                        .enumerate()
                        .for_each(|(i, (out, at))| {
                            let planes = out.chunks_exact_mut(unit).zip(at.chunks_exact_mut(unit));
                            for (p, (out, at)) in planes.enumerate() {
                                pool_plane(i * planes_per_chunk + p, out, at);
                            }
                        });
                } else {
                    let planes = out.chunks_exact_mut(unit).zip(at.chunks_exact_mut(unit));
                    for (p, (out, at)) in planes.enumerate() {
                        pool_plane(p, out, at);
                    }
                }
            }))
        });
        (values, indices.expect("filled above"))
    }

    /// The gradient of [`Tensor::max_pool2d`]'s input: each element of
    /// `self` (the gradient of the maxima) added at the position `indices`
    /// names in its plane of an `input_shape` tensor of zeros.
    ///
    /// # Panics
    /// If the shapes do not fit together or an index is out of its plane.
    pub fn max_pool2d_backward(&self, indices: &Tensor, input_shape: Shape) -> Tensor {
        let (planes_in, height, width) = planes("max_pool2d_backward", input_shape);
        let g = self.shape();
        assert!(
            g.rank() == 4 && g == indices.shape() && g.dim(0) * g.dim(1) == planes_in,
            "max_pool2d_backward: gradient of shape {g:?} and indices of shape {:?} for an \
             input of shape {input_shape:?}",
            indices.shape()
        );
        let (in_plane, out_plane) = (height * width, g.dim(2) * g.dim(3));
        let (grad, at) = (self.data(), indices.data());
        // Each plane is zeroed just before its gradients land, while it is
        // in cache, rather than in a pass of its own over the whole tensor.
        Tensor::build_overwritten(input_shape, |dx| {
            fill_chunks_weighted(dx, in_plane, 1, |start, chunk| {
                for (i, dx) in chunk.chunks_exact_mut(in_plane).enumerate() {
                    let plane = start / in_plane + i;
                    let range = plane * out_plane..(plane + 1) * out_plane;
                    dx.fill(0.0);
                    for (&g, &a) in grad[range.clone()].iter().zip(&at[range]) {
                        // Positions are below 2^24: i32 converts in one step.
                        dx[a as i32 as usize] += g;
                    }
                }
            })
        })
    }

    /// Average pooling of a `[batch, channels, h, w]` input, as PyTorch's
    /// `F.avg_pool2d`; `count_include_pad` (PyTorch's default: true)
    /// divides by the whole window, padding included, rather than by the
    /// positions inside the input.
    ///
    /// # Panics
    /// As [`Tensor::max_pool2d`].
    pub fn avg_pool2d(&self, options: Pool2dOptions, count_include_pad: bool) -> Tensor {
        let w = Windows::fixed("avg_pool2d", self.shape(), options);
        Tensor::build_overwritten(w.output_shape(self.shape()), |out| {
            w.average(self.data(), out, count_include_pad)
        })
    }

    /// The gradient of [`Tensor::avg_pool2d`]'s input given `self`, the
    /// gradient of its output.
    ///
    /// # Panics
    /// If the shapes do not fit together.
    pub fn avg_pool2d_backward(
        &self,
        input_shape: Shape,
        options: Pool2dOptions,
        count_include_pad: bool,
    ) -> Tensor {
        let w = Windows::fixed("avg_pool2d_backward", input_shape, options);
        check_grad(
            "avg_pool2d_backward",
            self.shape(),
            w.output_shape(input_shape),
        );
        Tensor::build(input_shape, |dx| {
            w.average_backward(self.data(), dx, count_include_pad)
        })
    }

    /// Adaptive average pooling to an `output` of `(h, w)` per plane, as
    /// PyTorch's `F.adaptive_avg_pool2d`: output `i` of `n` averages input
    /// rows `floor(i * h / n)..ceil((i + 1) * h / n)` (and likewise for
    /// columns). An output of 1 is global average pooling.
    ///
    /// # Panics
    /// If the input is not 4-D or `output` has a zero side.
    pub fn adaptive_avg_pool2d(&self, output: impl Into<Pair>) -> Tensor {
        let w = Windows::adaptive("adaptive_avg_pool2d", self.shape(), output.into());
        Tensor::build_overwritten(w.output_shape(self.shape()), |out| {
            w.average(self.data(), out, false)
        })
    }

    /// The gradient of [`Tensor::adaptive_avg_pool2d`]'s input given
    /// `self`, the gradient of its output.
    ///
    /// # Panics
    /// If the shapes do not fit together.
    pub fn adaptive_avg_pool2d_backward(&self, input_shape: Shape) -> Tensor {
        let op = "adaptive_avg_pool2d_backward";
        let dims = self.dims();
        assert_eq!(
            self.rank(),
            4,
            "{op}: gradient of shape {:?} is not 4-D",
            self.shape()
        );
        let w = Windows::adaptive(
            op,
            input_shape,
            Pair {
                h: dims[2],
                w: dims[3],
            },
        );
        check_grad(op, self.shape(), w.output_shape(input_shape));
        Tensor::build(input_shape, |dx| w.average_backward(self.data(), dx, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;

    fn dot(a: &Tensor, b: &Tensor) -> f64 {
        a.data()
            .iter()
            .zip(b.data())
            .map(|(&x, &y)| x as f64 * y as f64)
            .sum()
    }

    /// Max pooling from its definition, padding as negative infinity.
    fn direct_max(x: &Tensor, o: Pool2dOptions) -> Tensor {
        let d = x.dims();
        let out_h = (d[2] + 2 * o.padding.h - o.kernel.h) / o.stride.h + 1;
        let out_w = (d[3] + 2 * o.padding.w - o.kernel.w) / o.stride.w + 1;
        Tensor::from_fn([d[0], d[1], out_h, out_w], |i| {
            let mut best = f32::NEG_INFINITY;
            for ky in 0..o.kernel.h {
                for kx in 0..o.kernel.w {
                    let y = (i[2] * o.stride.h + ky) as isize - o.padding.h as isize;
                    let x_ = (i[3] * o.stride.w + kx) as isize - o.padding.w as isize;
                    if (0..d[2] as isize).contains(&y) && (0..d[3] as isize).contains(&x_) {
                        best = best.max(x.get(&[i[0], i[1], y as usize, x_ as usize]));
                    }
                }
            }
            best
        })
    }

    fn options(
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Pool2dOptions {
        Pool2dOptions {
            kernel: kernel.into(),
            stride: stride.into(),
            padding: padding.into(),
        }
    }

    #[test]
    fn max_pooling_matches_the_definition_and_routes_gradients_to_the_maxima() {
        let mut rng = seeded_rng(2);
        let x = Tensor::randn([2, 3, 7, 6], &mut rng);
        for o in [
            Pool2dOptions::new(2),
            Pool2dOptions::new((3, 2)),
            options((2, 3), (1, 2), (0, 0)),
            options((3, 2), (2, 1), (1, 1)),
            options((3, 3), (1, 2), (1, 0)),
        ] {
            let (max, at) = x.max_pool2d(o);
            assert!(max.bit_eq(&direct_max(&x, o)), "{o:?}");
            let grad = Tensor::randn(max.shape(), &mut rng);
            let dx = grad.max_pool2d_backward(&at, x.shape());
            // Each index names an input element equal to its maximum, and
            // each gradient lands there.
            let (plane_in, plane_out) = (7 * 6, max.dims()[2] * max.dims()[3]);
            let mut expected = vec![0.0; x.numel()];
            for (k, &a) in at.data().iter().enumerate() {
                let flat = k / plane_out * plane_in + a as usize;
                assert_eq!(x.data()[flat], max.data()[k], "{o:?}");
                expected[flat] += grad.data()[k];
            }
            assert_eq!(dx.to_vec(), expected, "{o:?}");
        }
    }

    #[test]
    fn max_pooling_picks_the_first_maximum_and_propagates_nan() {
        let x =
            Tensor::from([[2.0, 2.0, 1.0, f32::NAN], [0.0, 2.0, 7.0, 1.0]]).reshape([1, 1, 2, 4]);
        let (max, at) = x.max_pool2d(Pool2dOptions::new(2));
        assert_eq!(max.data()[0], 2.0);
        assert!(max.data()[1].is_nan());
        assert_eq!(at.to_vec(), vec![0.0, 3.0]);
        let dx = Tensor::from([1.0, 1.0])
            .reshape([1, 1, 1, 2])
            .max_pool2d_backward(&at, x.shape());
        assert_eq!(dx.to_vec(), vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn average_pooling_counts_padding_as_pytorch_does() {
        let x = Tensor::arange(1.0, 10.0, 1.0).reshape([1, 1, 3, 3]);
        let o = options((2, 2), (2, 2), (1, 1));
        // Windows over the padded 5x5 input: {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}.
        assert_eq!(x.avg_pool2d(o, true).to_vec(), vec![0.25, 1.25, 2.75, 7.0]);
        assert_eq!(x.avg_pool2d(o, false).to_vec(), vec![1.0, 2.5, 5.5, 7.0]);
    }

    #[test]
    fn adaptive_bins_overlap_as_pytorchs_do() {
        let x = Tensor::arange(0.0, 5.0, 1.0).reshape([1, 1, 1, 5]);
        // Bins of 5 into 3: [0, 2), [1, 4), [3, 5).
        assert_eq!(x.adaptive_avg_pool2d((1, 3)).to_vec(), vec![0.5, 2.0, 3.5]);
        let global = Tensor::arange(0.0, 8.0, 1.0)
            .reshape([1, 2, 2, 2])
            .adaptive_avg_pool2d(1);
        assert_eq!(global.dims(), &[1, 2, 1, 1]);
        assert_eq!(global.to_vec(), vec![1.5, 5.5]);
    }

    #[test]
    fn average_backward_passes_are_adjoint_to_the_forward_passes() {
        let mut rng = seeded_rng(4);
        let x = Tensor::randn([2, 3, 7, 5], &mut rng);
        for (o, include) in [
            (Pool2dOptions::new(2), true),
            (options((3, 2), (2, 1), (1, 1)), true),
            (options((3, 2), (2, 1), (1, 1)), false),
        ] {
            let y = x.avg_pool2d(o, include);
            let g = Tensor::randn(y.shape(), &mut rng);
            let dx = g.avg_pool2d_backward(x.shape(), o, include);
            assert!((dot(&y, &g) - dot(&x, &dx)).abs() < 1e-4, "{o:?}");
        }
        for out in [(3, 2), (1, 1), (7, 5), (4, 4)] {
            let y = x.adaptive_avg_pool2d(out);
            let g = Tensor::randn(y.shape(), &mut rng);
            let dx = g.adaptive_avg_pool2d_backward(x.shape());
            assert!((dot(&y, &g) - dot(&x, &dx)).abs() < 1e-4, "{out:?}");
        }
    }

    #[test]
    fn large_poolings_give_the_same_bits_on_any_number_of_threads() {
        let x = Tensor::randn([64, 16, 28, 28], &mut seeded_rng(6));
        let run = || {
            let (max, at) = x.max_pool2d(Pool2dOptions::new(2));
            let back = max.max_pool2d_backward(&at, x.shape());
            let avg = x.avg_pool2d(options((3, 3), (2, 2), (1, 1)), true);
            [
                max,
                at,
                back,
                avg.avg_pool2d_backward(x.shape(), options((3, 3), (2, 2), (1, 1)), true),
            ]
        };
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        let one = pool(1).install(run);
        for threads in [2, 3] {
            let many = pool(threads).install(run);
            assert!(
                one.iter().zip(&many).all(|(a, b)| a.bit_eq(b)),
                "{threads} threads"
            );
        }
    }

    #[test]
    #[should_panic(expected = "max_pool2d: padding (2, 2) must be at most half the kernel (3, 3)")]
    fn padding_over_half_the_window_is_refused() {
        Tensor::zeros([1, 1, 4, 4]).max_pool2d(options((3, 3), (1, 1), (2, 2)));
    }
}
