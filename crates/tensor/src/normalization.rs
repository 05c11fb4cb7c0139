//! Normalization kernels with PyTorch's semantics: batch norm (statistics
//! per channel, axis 1, over the batch and every position) and layer norm
//! (statistics per row over the trailing elements), each with its weight
//! and bias applied in the same pass. Statistics are summed in `f64` in one
//! pass over the data; each channel or row is summed in a fixed order, so
//! the bits do not depend on the number of threads.

use rayon::prelude::*;

use crate::conv::{LayerGrads, LayerGradsWanted};
use crate::parallel::{PARALLEL_MIN_WORK, fill_chunks};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// The channel layout of a batch-norm input: `[batch, channels, *]` as
/// `batch * channels` rows of `positions` values.
#[derive(Clone, Copy)]
struct Channels {
    batch: usize,
    channels: usize,
    positions: usize,
}

impl Channels {
    /// # Panics
    /// If `input` has fewer than two dimensions or `stats` (per-channel
    /// tensors) are not `[channels]`; the message names `op` and the shapes.
    fn new(op: &str, input: Shape, stats: &[Option<&Tensor>]) -> Channels {
        assert!(
            input.rank() >= 2,
            "{op}: input must be [batch, channels, ...], got shape {input:?}"
        );
        let (batch, channels, _) = input.split_at_axis(1);
        for t in stats.iter().flatten() {
            assert!(
                t.dims() == [channels],
                "{op}: per-channel tensor of shape {:?} for an input of shape {input:?}",
                t.shape()
            );
        }
        Channels {
            batch,
            channels,
            positions: input.numel() / (batch * channels).max(1),
        }
    }

    /// Values per channel.
    fn count(&self) -> usize {
        self.batch * self.positions
    }

    /// `f(c)` for every channel, in parallel for large inputs.
    fn per_channel<T: Send>(&self, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
        if self.count() * self.channels >= PARALLEL_MIN_WORK {
            (0..self.channels).into_par_iter().map(f).collect()
        } else {
            (0..self.channels).map(f).collect()
        }
    }

    /// Channel `c`'s rows of `data`, one per image.
    fn rows<'a>(&self, data: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> {
        let p = self.positions;
        (0..self.batch).map(move |n| &data[(n * self.channels + c) * p..][..p])
    }

    /// Writes `f(c, x_row, out_row)` over every row of an input-shaped output.
    fn map_rows(&self, out: &mut [f32], f: impl Fn(usize, usize, &mut [f32]) + Sync) {
        let p = self.positions.max(1);
        fill_chunks(out, p, |start, chunk| {
            for (i, row) in chunk.chunks_exact_mut(p).enumerate() {
                let r = start / p + i;
                f(r % self.channels, r * p, row);
            }
        });
    }
}

/// `(sum of a, sum of a * b)` in `f64` with four lanes each; `b` may be
/// `a` itself.
fn sums(a: &[f32], b: &[f32]) -> (f64, f64) {
    let mut s = [0.0f64; 4];
    let mut p = [0.0f64; 4];
    let (chunks_a, chunks_b) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail = chunks_a.remainder().iter().zip(chunks_b.remainder());
    let (mut ts, mut tp) = (0.0f64, 0.0f64);
    for (&x, &y) in tail {
        ts += x as f64;
        tp += x as f64 * y as f64;
    }
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for l in 0..4 {
            s[l] += ca[l] as f64;
            p[l] += ca[l] as f64 * cb[l] as f64;
        }
    }
    (
        (s[0] + s[2]) + (s[1] + s[3]) + ts,
        (p[0] + p[2]) + (p[1] + p[3]) + tp,
    )
}

/// `1 / sqrt(var + eps)` per channel.
fn inverse_std(var: &Tensor, eps: f32) -> Vec<f32> {
    var.data().iter().map(|&v| 1.0 / (v + eps).sqrt()).collect()
}

/// The value of an optional per-channel tensor at `c`, `default` without one.
fn at(t: Option<&Tensor>, c: usize, default: f32) -> f32 {
    t.map_or(default, |t| t.data()[c])
}

impl Tensor {
    /// The mean and biased variance of every channel (axis 1) of a
    /// `[batch, channels, *]` tensor over the batch and every position:
    /// the statistics batch norm normalizes with in training.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[1.0, 10.0], [3.0, 30.0]]);
    /// let (mean, var) = x.channel_mean_var();
    /// assert_eq!(mean.to_vec(), vec![2.0, 20.0]);
    /// assert_eq!(var.to_vec(), vec![1.0, 100.0]);
    /// ```
    ///
    /// # Panics
    /// If the tensor has fewer than two dimensions.
    pub fn channel_mean_var(&self) -> (Tensor, Tensor) {
        let layout = Channels::new("channel_mean_var", self.shape(), &[]);
        let x = self.data();
        let count = layout.count() as f64;
        let moments = layout.per_channel(|c| {
            let (s, ss) = layout
                .rows(x, c)
                .map(|row| sums(row, row))
                .fold((0.0, 0.0), |(a, b), (s, ss)| (a + s, b + ss));
            let mean = s / count;
            (mean as f32, (ss / count - mean * mean).max(0.0) as f32)
        });
        let (mean, var): (Vec<f32>, Vec<f32>) = moments.into_iter().unzip();
        let shape = [layout.channels];
        (Tensor::from_vec(mean, shape), Tensor::from_vec(var, shape))
    }

    /// Batch normalization with given per-channel statistics, as PyTorch's
    /// `F.batch_norm`: `(x - mean) / sqrt(var + eps) * weight + bias` for
    /// every channel (axis 1) of a `[batch, channels, *]` tensor, in one
    /// pass. A missing weight is 1 and a missing bias 0.
    ///
    /// # Panics
    /// If the tensor has fewer than two dimensions or a per-channel tensor
    /// is not `[channels]`.
    pub fn batch_norm(
        &self,
        mean: &Tensor,
        var: &Tensor,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        eps: f32,
    ) -> Tensor {
        let per_channel = [Some(mean), Some(var), weight, bias];
        let layout = Channels::new("batch_norm", self.shape(), &per_channel);
        let inv_std = inverse_std(var, eps);
        // y = x * scale + shift, PyTorch's own form of the kernel.
        let scale: Vec<f32> = (0..layout.channels)
            .map(|c| inv_std[c] * at(weight, c, 1.0))
            .collect();
        let shift: Vec<f32> = (0..layout.channels)
            .map(|c| at(bias, c, 0.0) - mean.data()[c] * scale[c])
            .collect();
        let x = self.data();
        Tensor::build_overwritten(self.shape(), |out| {
            layout.map_rows(out, |c, start, row| {
                for (o, &v) in row.iter_mut().zip(&x[start..]) {
                    *o = v * scale[c] + shift[c];
                }
            })
        })
    }

    /// The gradients of [`Tensor::batch_norm`] (with `self` as its input)
    /// given `grad`, the gradient of its output. With `batch_statistics`,
    /// `mean` and `var` are taken to be this batch's own (training), and the
    /// input's gradient flows through them too; otherwise they are
    /// constants (running statistics in evaluation).
    ///
    /// # Panics
    /// As [`Tensor::batch_norm`], or if `grad`'s shape differs from the
    /// input's.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm_backward(
        &self,
        grad: &Tensor,
        (mean, var): (&Tensor, &Tensor),
        weight: Option<&Tensor>,
        eps: f32,
        batch_statistics: bool,
        wanted: LayerGradsWanted,
    ) -> LayerGrads {
        let op = "batch_norm_backward";
        let layout = Channels::new(op, self.shape(), &[Some(mean), Some(var), weight]);
        assert!(
            grad.shape() == self.shape(),
            "{op}: gradient of shape {:?} for an input of shape {:?}",
            grad.shape(),
            self.shape()
        );
        let inv_std = inverse_std(var, eps);
        let (x, dy) = (self.data(), grad.data());
        // Per channel: sum(dy) and sum(dy * (x - mean)), from sums of dy,
        // dy * x, so one pass reads each value once.
        let sums: Vec<(f64, f64)> = layout.per_channel(|c| {
            let (mut s, mut sx) = (0.0, 0.0);
            for (g, v) in layout.rows(dy, c).zip(layout.rows(x, c)) {
                let (a, b) = sums(g, v);
                s += a;
                sx += b;
            }
            (s, sx - s * mean.data()[c] as f64)
        });
        let count = layout.count() as f64;
        let input = wanted.input.then(|| {
            // dx = k_dy dy + k_x (x - mean) + k_0 per channel.
            let k: Vec<[f32; 3]> = (0..layout.channels)
                .map(|c| {
                    let a = at(weight, c, 1.0) as f64 * inv_std[c] as f64;
                    if !batch_statistics {
                        return [a as f32, 0.0, 0.0];
                    }
                    let (s, sxm) = sums[c];
                    let istd = inv_std[c] as f64;
                    [
                        a as f32,
                        (-a * istd * istd * sxm / count) as f32,
                        (-a * s / count) as f32,
                    ]
                })
                .collect();
            Tensor::build_overwritten(self.shape(), |out| {
                layout.map_rows(out, |c, start, row| {
                    let [k_dy, k_x, k_0] = k[c];
                    let m = mean.data()[c];
                    for ((o, &g), &v) in row.iter_mut().zip(&dy[start..]).zip(&x[start..]) {
                        *o = k_dy * g + k_x * (v - m) + k_0;
                    }
                })
            })
        });
        let channels = [layout.channels];
        LayerGrads {
            input,
            weight: wanted.weight.then(|| {
                let dw = sums
                    .iter()
                    .zip(&inv_std)
                    .map(|(&(_, sxm), &i)| (sxm * i as f64) as f32);
                Tensor::from_iter(channels, dw)
            }),
            bias: wanted
                .bias
                .then(|| Tensor::from_iter(channels, sums.iter().map(|&(s, _)| s as f32))),
        }
    }

    /// Layer normalization over the trailing `normalized` elements of every
    /// row, as PyTorch's `F.layer_norm` with a normalized shape of that
    /// many elements: `(x - mean) / sqrt(var + eps) * weight + bias`, with
    /// the biased variance and `weight`, `bias` of `normalized` elements (1
    /// and 0 when missing). Returns the output and each row's mean and
    /// `1 / sqrt(var + eps)`, which the backward pass needs.
    ///
    /// # Panics
    /// If `normalized` is zero or does not divide the element count, or the
    /// weight or bias does not hold `normalized` elements.
    pub fn layer_norm(
        &self,
        normalized: usize,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        eps: f32,
    ) -> (Tensor, Tensor, Tensor) {
        let rows = self.rows_of("layer_norm", normalized, &[weight, bias]);
        let x = self.data();
        let stats: Vec<(f32, f32)> = x
            .chunks_exact(normalized)
            .map(|row| {
                let (s, ss) = sums(row, row);
                let mean = s / normalized as f64;
                let var = (ss / normalized as f64 - mean * mean).max(0.0);
                (mean as f32, (1.0 / (var + eps as f64).sqrt()) as f32)
            })
            .collect();
        let out = Tensor::build_overwritten(self.shape(), |out| {
            fill_chunks(out, normalized, |start, chunk| {
                for (i, row) in chunk.chunks_exact_mut(normalized).enumerate() {
                    let r = start / normalized + i;
                    let (mean, inv_std) = stats[r];
                    for (j, (o, &v)) in row.iter_mut().zip(&x[r * normalized..]).enumerate() {
                        *o = (v - mean) * inv_std * at(weight, j, 1.0) + at(bias, j, 0.0);
                    }
                }
            })
        });
        let (mean, inv_std): (Vec<f32>, Vec<f32>) = stats.into_iter().unzip();
        (
            out,
            Tensor::from_vec(mean, [rows]),
            Tensor::from_vec(inv_std, [rows]),
        )
    }

    /// The gradients of [`Tensor::layer_norm`] (with `self` as its input)
    /// given `grad` and the per-row `mean` and `inv_std` it returned; the
    /// weight's and bias's gradients are flat, `[normalized]`.
    ///
    /// # Panics
    /// As [`Tensor::layer_norm`], or if `grad`, `mean` or `inv_std` do not
    /// fit the input.
    pub fn layer_norm_backward(
        &self,
        grad: &Tensor,
        (mean, inv_std): (&Tensor, &Tensor),
        weight: Option<&Tensor>,
        wanted: LayerGradsWanted,
    ) -> LayerGrads {
        let op = "layer_norm_backward";
        let normalized = self.numel() / mean.numel().max(1);
        let rows = self.rows_of(op, normalized, &[weight]);
        assert!(
            grad.shape() == self.shape() && inv_std.numel() == rows,
            "{op}: gradient of shape {:?} and statistics of shapes {:?}, {:?} for an input of \
             shape {:?}",
            grad.shape(),
            mean.shape(),
            inv_std.shape(),
            self.shape()
        );
        let (x, dy, m, s) = (self.data(), grad.data(), mean.data(), inv_std.data());
        let xhat = |r: usize, j: usize| (x[r * normalized + j] - m[r]) * s[r];
        let input = wanted.input.then(|| {
            Tensor::build_overwritten(self.shape(), |out| {
                fill_chunks(out, normalized, |start, chunk| {
                    for (i, row) in chunk.chunks_exact_mut(normalized).enumerate() {
                        let r = start / normalized + i;
                        let g = &dy[r * normalized..(r + 1) * normalized];
                        // With dxhat = dy * weight:
                        // dx = inv_std (dxhat - mean(dxhat) - xhat mean(dxhat xhat)).
                        let (mut a, mut b) = (0.0f64, 0.0f64);
                        for (j, &g) in g.iter().enumerate() {
                            let d = (g * at(weight, j, 1.0)) as f64;
                            a += d;
                            b += d * xhat(r, j) as f64;
                        }
                        let (a, b) = (
                            (a / normalized as f64) as f32,
                            (b / normalized as f64) as f32,
                        );
                        for (j, (o, &g)) in row.iter_mut().zip(g).enumerate() {
                            *o = s[r] * (g * at(weight, j, 1.0) - a - xhat(r, j) * b);
                        }
                    }
                })
            })
        });
        // Column sums over the rows, in row order.
        let column_sums = |f: &dyn Fn(usize, usize) -> f32| {
            let mut total = vec![0.0f32; normalized];
            for r in 0..rows {
                for (j, t) in total.iter_mut().enumerate() {
                    *t += f(r, j);
                }
            }
            Tensor::from_vec(total, [normalized])
        };
        LayerGrads {
            input,
            weight: wanted
                .weight
                .then(|| column_sums(&|r, j| dy[r * normalized + j] * xhat(r, j))),
            bias: wanted
                .bias
                .then(|| column_sums(&|r, j| dy[r * normalized + j])),
        }
    }

    /// The number of rows of `normalized` elements, after checking that the
    /// per-element tensors hold `normalized` elements.
    fn rows_of(&self, op: &str, normalized: usize, per_element: &[Option<&Tensor>]) -> usize {
        assert!(
            normalized > 0 && self.numel().is_multiple_of(normalized),
            "{op}: {normalized} normalized elements do not divide shape {:?}",
            self.shape()
        );
        for t in per_element.iter().flatten() {
            assert!(
                t.numel() == normalized,
                "{op}: weight or bias of shape {:?} for {normalized} normalized elements of \
                 shape {:?}",
                t.shape(),
                self.shape()
            );
        }
        self.numel() / normalized
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;

    #[test]
    fn batch_norm_normalizes_each_channel_over_batch_and_positions() {
        let mut rng = seeded_rng(1);
        let x = Tensor::randn([4, 3, 5, 2], &mut rng)
            .mul_scalar(3.0)
            .add_scalar(1.5);
        let (mean, var) = x.channel_mean_var();
        // The same statistics from the generic reductions, channels last.
        let by_channel = x.transpose(0, 1).reshape([3, 40]);
        assert!(mean.all_close(&by_channel.mean_axis(1, false), 1e-5, 1e-5));
        let biased = by_channel.var_axis(1, false).mul_scalar(39.0 / 40.0);
        assert!(var.all_close(&biased, 1e-4, 1e-4));
        let weight = Tensor::from([1.0, 2.0, -0.5]);
        let bias = Tensor::from([0.0, 1.0, 3.0]);
        let y = x.batch_norm(&mean, &var, Some(&weight), Some(&bias), 1e-5);
        let (y_mean, y_var) = y.channel_mean_var();
        assert!(y_mean.all_close(&bias, 1e-5, 1e-5), "{y_mean:?}");
        let expected_var = weight.square().mul_scalar(1.0 - 1e-5);
        assert!(y_var.all_close(&expected_var, 1e-3, 1e-4), "{y_var:?}");
        let plain = x.batch_norm(&mean, &var, None, None, 0.0);
        let expected = plain
            .mul(&weight.reshape([3, 1, 1]))
            .add(&bias.reshape([3, 1, 1]));
        assert!(y.all_close(&expected, 1e-4, 1e-4));
    }

    #[test]
    fn batch_norm_of_a_matrix_normalizes_its_columns() {
        let x = Tensor::from([[1.0, -2.0], [3.0, 2.0], [5.0, 0.0]]);
        let (mean, var) = x.channel_mean_var();
        assert_eq!(mean.to_vec(), vec![3.0, 0.0]);
        assert!(var.all_close(&Tensor::from([8.0 / 3.0, 8.0 / 3.0]), 1e-6, 1e-6));
        let y = x.batch_norm(&mean, &var, None, None, 0.0);
        let s = (8.0f32 / 3.0).sqrt();
        let expected = Tensor::from([[-2.0 / s, -2.0 / s], [0.0, 2.0 / s], [2.0 / s, 0.0]]);
        assert!(y.all_close(&expected, 1e-6, 1e-6));
    }

    #[test]
    fn layer_norm_normalizes_each_row() {
        let x = Tensor::from([[1.0, 2.0, 3.0, 6.0], [-1.0, -1.0, 1.0, 1.0]]);
        let weight = Tensor::from([1.0, 1.0, 2.0, 2.0]);
        let bias = Tensor::from([0.0, 0.5, 0.0, 0.0]);
        let (y, mean, inv_std) = x.layer_norm(4, Some(&weight), Some(&bias), 0.0);
        assert_eq!(mean.to_vec(), vec![3.0, 0.0]);
        // Row 0: variance (4 + 1 + 0 + 9) / 4 = 3.5; row 1: 1.
        assert!(inv_std.all_close(&Tensor::from([1.0 / 3.5f32.sqrt(), 1.0]), 1e-6, 1e-6));
        let s = 3.5f32.sqrt();
        let expected = Tensor::from([
            [-2.0 / s, -1.0 / s + 0.5, 0.0, 6.0 / s],
            [-1.0, -0.5, 2.0, 2.0],
        ]);
        assert!(y.all_close(&expected, 1e-6, 1e-6), "{y:?}");
    }

    #[test]
    fn large_normalizations_give_the_same_bits_on_any_number_of_threads() {
        let mut rng = seeded_rng(8);
        let x = Tensor::randn([32, 16, 32, 32], &mut rng);
        let grad = Tensor::randn(x.shape(), &mut rng);
        let weight = Tensor::randn([16], &mut rng);
        let all = LayerGradsWanted {
            input: true,
            weight: true,
            bias: true,
        };
        let run = || {
            let (mean, var) = x.channel_mean_var();
            let y = x.batch_norm(&mean, &var, Some(&weight), None, 1e-5);
            let g = x.batch_norm_backward(&grad, (&mean, &var), Some(&weight), 1e-5, true, all);
            [
                mean,
                var,
                y,
                g.input.unwrap(),
                g.weight.unwrap(),
                g.bias.unwrap(),
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
    #[should_panic(
        expected = "batch_norm: per-channel tensor of shape [4] for an input of shape [2, 3, 5]"
    )]
    fn statistics_of_the_wrong_length_are_refused() {
        let x = Tensor::zeros([2, 3, 5]);
        x.batch_norm(&Tensor::zeros([4]), &Tensor::ones([3]), None, None, 1e-5);
    }
}
