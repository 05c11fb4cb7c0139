//! Element-wise kernels: unary maps, binary ops with NumPy broadcasting, scalar
//! variants, comparisons, and the arithmetic operators.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::parallel::{
    TRANSCENDENTAL_COST, fill_chunk_pairs_weighted, fill_chunks, fill_chunks_weighted,
};
use crate::shape::Shape;
use crate::tensor::Tensor;

impl Tensor {
    /// Applies `f` to every element.
    pub fn map(&self, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
        self.map_weighted(1, f)
    }

    /// Applies `f`, which costs about `cost` cheap operations per element
    /// (see [`crate::parallel::TRANSCENDENTAL_COST`]), to every element; the
    /// cost decides when the work is split across threads.
    pub fn map_weighted(&self, cost: usize, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
        let src = self.data();
        Tensor::build_overwritten(self.shape(), |out| {
            fill_chunks_weighted(out, 1, cost, |start, chunk| {
                for (o, &x) in chunk.iter_mut().zip(&src[start..]) {
                    *o = f(x);
                }
            })
        })
    }

    /// Combines two tensors of the same shape element by element.
    ///
    /// # Panics
    /// If the shapes differ; the message names `op` and both shapes.
    pub fn zip_map(&self, op: &str, other: &Tensor, f: impl Fn(f32, f32) -> f32 + Sync) -> Tensor {
        assert_eq!(
            self.shape(),
            other.shape(),
            "{op}: shapes {:?} and {:?} differ",
            self.shape(),
            other.shape()
        );
        let (a, b) = (self.data(), other.data());
        Tensor::build_overwritten(self.shape(), |out| {
            fill_chunks(out, 1, |start, chunk| {
                let end = start + chunk.len();
                for ((o, &x), &y) in chunk.iter_mut().zip(&a[start..end]).zip(&b[start..end]) {
                    *o = f(x, y);
                }
            })
        })
    }

    /// Combines three tensors of the same shape element by element.
    ///
    /// # Panics
    /// If the shapes differ; the message names `op` and the shapes.
    pub fn zip3_map(
        &self,
        op: &str,
        second: &Tensor,
        third: &Tensor,
        f: impl Fn(f32, f32, f32) -> f32 + Sync,
    ) -> Tensor {
        assert!(
            self.shape() == second.shape() && self.shape() == third.shape(),
            "{op}: shapes {:?}, {:?} and {:?} differ",
            self.shape(),
            second.shape(),
            third.shape()
        );
        let (a, b, c) = (self.data(), second.data(), third.data());
        Tensor::build_overwritten(self.shape(), |out| {
            fill_chunks(out, 1, |start, chunk| {
                let end = start + chunk.len();
                let triples = a[start..end].iter().zip(&b[start..end]).zip(&c[start..end]);
                for (o, ((&x, &y), &z)) in chunk.iter_mut().zip(triples) {
                    *o = f(x, y, z);
                }
            })
        })
    }

    /// Combines two tensors element by element after broadcasting them to a
    /// common shape (NumPy rules).
    ///
    /// # Panics
    /// If the shapes cannot be broadcast; the message names `op` and both shapes.
    pub fn broadcast_map(
        &self,
        op: &str,
        other: &Tensor,
        f: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Tensor {
        if self.shape() == other.shape() {
            return self.zip_map(op, other, f);
        }
        let out_shape = Shape::broadcast(op, self.shape(), other.shape());
        let rank = out_shape.rank();
        let strides_a = self.shape().broadcast_strides(out_shape);
        let strides_b = other.shape().broadcast_strides(out_shape);
        let row_len = out_shape.dim(rank - 1);
        if row_len == 0 {
            // Nothing to compute, and rows of length 0 would make zero-sized
            // chunks below.
            return Tensor::zeros(out_shape);
        }
        let (step_a, step_b) = (strides_a[rank - 1], strides_b[rank - 1]);
        let (a, b) = (self.data(), other.data());
        let row_start = |row: usize| {
            (
                out_shape.row_offset(&strides_a, row),
                out_shape.row_offset(&strides_b, row),
            )
        };
        Tensor::build_overwritten(out_shape, |out| {
            fill_chunks(out, row_len, |start, chunk| {
                for (r, dst) in chunk.chunks_exact_mut(row_len).enumerate() {
                    let (oa, ob) = row_start(start / row_len + r);
                    match (step_a, step_b) {
                        (0, 0) => dst.fill(f(a[oa], b[ob])),
                        (0, _) => {
                            let x = a[oa];
                            for (o, &y) in dst.iter_mut().zip(&b[ob..ob + row_len]) {
                                *o = f(x, y);
                            }
                        }
                        (_, 0) => {
                            let y = b[ob];
                            for (o, &x) in dst.iter_mut().zip(&a[oa..oa + row_len]) {
                                *o = f(x, y);
                            }
                        }
                        _ => {
                            let pairs = a[oa..oa + row_len].iter().zip(&b[ob..ob + row_len]);
                            for (o, (&x, &y)) in dst.iter_mut().zip(pairs) {
                                *o = f(x, y);
                            }
                        }
                    }
                }
            })
        })
    }

    /// Element-wise `self + other` with broadcasting.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn add(&self, other: &Tensor) -> Tensor {
        self.broadcast_map("add", other, |a, b| a + b)
    }

    /// Element-wise `self - other` with broadcasting.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn sub(&self, other: &Tensor) -> Tensor {
        self.broadcast_map("sub", other, |a, b| a - b)
    }

    /// Element-wise `self * other` with broadcasting.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn mul(&self, other: &Tensor) -> Tensor {
        self.broadcast_map("mul", other, |a, b| a * b)
    }

    /// Element-wise `self / other` with broadcasting.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn div(&self, other: &Tensor) -> Tensor {
        self.broadcast_map("div", other, |a, b| a / b)
    }

    /// Element-wise `self ^ other` with broadcasting.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn pow(&self, other: &Tensor) -> Tensor {
        self.broadcast_map("pow", other, f32::powf)
    }

    /// Element-wise maximum with broadcasting; NaN wins, as in PyTorch.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        self.broadcast_map("maximum", other, nan_max)
    }

    /// Element-wise minimum with broadcasting; NaN wins, as in PyTorch.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        self.broadcast_map("minimum", other, nan_min)
    }

    /// Adds `other` into this tensor in place (copying the buffer first only
    /// if it is shared): how gradients accumulate.
    ///
    /// # Panics
    /// If the shapes differ; the message names both.
    pub fn add_assign(&mut self, other: &Tensor) {
        assert_eq!(
            self.shape(),
            other.shape(),
            "add_assign: shapes {:?} and {:?} differ",
            self.shape(),
            other.shape()
        );
        for (a, &b) in self.data_mut().iter_mut().zip(other.data()) {
            *a += b;
        }
    }

    /// Adds `bias`, a vector as long as the last dimension, to every row in
    /// place: a linear layer's bias, with no new buffer.
    ///
    /// # Panics
    /// If `bias` is not such a vector; the message names both shapes.
    pub fn add_rows_assign(&mut self, bias: &Tensor) {
        let b = self.row_bias("add_rows_assign", bias);
        if b.is_empty() {
            return;
        }
        fill_chunks(self.data_mut(), b.len(), |_, rows| {
            for row in rows.chunks_exact_mut(b.len()) {
                for (x, &bias) in row.iter_mut().zip(b) {
                    *x += bias;
                }
            }
        });
    }

    /// Adds `bias` to every row in place, as [`Tensor::add_rows_assign`],
    /// and returns `f` of the sums: a layer's bias and activation in one
    /// pass, keeping the pre-activation values (here, in `self`) that the
    /// activation's derivative may need. `cost` weighs `f` as in
    /// [`Tensor::map_weighted`].
    ///
    /// # Panics
    /// If `bias` is not a vector as long as the last dimension.
    pub fn add_rows_then_map(
        &mut self,
        bias: &Tensor,
        cost: usize,
        f: impl Fn(f32) -> f32 + Sync,
    ) -> Tensor {
        let b = self.row_bias("add_rows_then_map", bias);
        let shape = self.shape();
        if b.is_empty() {
            return Tensor::zeros(shape);
        }
        let pre = self.data_mut();
        Tensor::build_overwritten(shape, |out| {
            fill_chunk_pairs_weighted(pre, out, b.len(), cost, |pre, out| {
                let rows = pre
                    .chunks_exact_mut(b.len())
                    .zip(out.chunks_exact_mut(b.len()));
                for (row, out_row) in rows {
                    for ((x, o), &bias) in row.iter_mut().zip(out_row).zip(b) {
                        *x += bias;
                        *o = f(*x);
                    }
                }
            })
        })
    }

    /// The data of `bias` after checking it is a vector as long as this
    /// tensor's last dimension.
    fn row_bias<'a>(&self, op: &str, bias: &'a Tensor) -> &'a [f32] {
        let shape = self.shape();
        assert!(
            shape.rank() >= 1 && bias.shape() == Shape::new(&[shape.dim(shape.rank() - 1)]),
            "{op}: bias of shape {:?} for rows of shape {:?}",
            bias.shape(),
            shape
        );
        bias.data()
    }

    /// Adds a scalar to every element.
    pub fn add_scalar(&self, s: f32) -> Tensor {
        self.map(|x| x + s)
    }

    /// Subtracts a scalar from every element.
    pub fn sub_scalar(&self, s: f32) -> Tensor {
        self.map(|x| x - s)
    }

    /// Multiplies every element by a scalar.
    pub fn mul_scalar(&self, s: f32) -> Tensor {
        self.map(|x| x * s)
    }

    /// Divides every element by a scalar.
    pub fn div_scalar(&self, s: f32) -> Tensor {
        self.map(|x| x / s)
    }

    /// Element-wise maximum with a scalar.
    pub fn maximum_scalar(&self, s: f32) -> Tensor {
        self.map(|x| nan_max(x, s))
    }

    /// Element-wise minimum with a scalar.
    pub fn minimum_scalar(&self, s: f32) -> Tensor {
        self.map(|x| nan_min(x, s))
    }

    /// Element-wise negation.
    pub fn neg(&self) -> Tensor {
        self.map(|x| -x)
    }

    /// Element-wise `e^x`.
    pub fn exp(&self) -> Tensor {
        self.map_weighted(TRANSCENDENTAL_COST, f32::exp)
    }

    /// Element-wise natural logarithm.
    pub fn ln(&self) -> Tensor {
        self.map_weighted(TRANSCENDENTAL_COST, f32::ln)
    }

    /// Element-wise natural logarithm, under PyTorch's name (the same op
    /// as [`Tensor::ln`]).
    pub fn log(&self) -> Tensor {
        self.ln()
    }

    /// Element-wise `ln(1 + x)`, accurate for `x` near 0.
    pub fn log1p(&self) -> Tensor {
        self.map_weighted(TRANSCENDENTAL_COST, f32::ln_1p)
    }

    /// Element-wise `e^x - 1`, accurate for `x` near 0.
    pub fn expm1(&self) -> Tensor {
        self.map_weighted(TRANSCENDENTAL_COST, f32::exp_m1)
    }

    /// Element-wise sign: -1, 0 or 1 (NaN stays NaN), as `torch.sign`.
    pub fn sign(&self) -> Tensor {
        self.map(sign)
    }

    /// Element-wise square root.
    pub fn sqrt(&self) -> Tensor {
        self.map(f32::sqrt)
    }

    /// Element-wise absolute value.
    pub fn abs(&self) -> Tensor {
        self.map(f32::abs)
    }

    /// Element-wise hyperbolic tangent.
    pub fn tanh(&self) -> Tensor {
        self.map_weighted(TRANSCENDENTAL_COST, f32::tanh)
    }

    /// Element-wise logistic sigmoid `1 / (1 + e^-x)`, stable for large `|x|`.
    pub fn sigmoid(&self) -> Tensor {
        self.map_weighted(TRANSCENDENTAL_COST, sigmoid)
    }

    /// Element-wise `max(x, 0)`; NaN stays NaN, as in PyTorch.
    pub fn relu(&self) -> Tensor {
        self.map(|x| if x > 0.0 || x.is_nan() { x } else { 0.0 })
    }

    /// Element-wise `x ^ p` for a scalar exponent.
    pub fn powf(&self, p: f32) -> Tensor {
        self.map_weighted(TRANSCENDENTAL_COST, |x| x.powf(p))
    }

    /// Element-wise square.
    pub fn square(&self) -> Tensor {
        self.map(|x| x * x)
    }

    /// Limits every element to `[min, max]`, as `torch.clamp`:
    /// `minimum(maximum(x, min), max)`, so NaN (in `x` or a bound) gives NaN
    /// and `min > max` gives `max` everywhere.
    pub fn clamp(&self, min: f32, max: f32) -> Tensor {
        self.map(|x| clamp(x, min, max))
    }

    /// True when every element is finite (no NaN or infinity).
    pub fn is_finite(&self) -> bool {
        self.data().iter().all(|x| x.is_finite())
    }
}

/// The logistic sigmoid of one value, written so neither branch overflows.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `torch.sign` of one value: -1, 0 or 1, NaN for NaN.
pub fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x * 0.0
    }
}

/// `torch.clamp` of one value; see [`Tensor::clamp`].
pub fn clamp(x: f32, min: f32, max: f32) -> f32 {
    nan_min(nan_max(x, min), max)
}

/// The larger of two values, NaN if either is NaN (as PyTorch's maximum).
pub(crate) fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

/// The smaller of two values, NaN if either is NaN (as PyTorch's minimum).
pub(crate) fn nan_min(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.min(b)
    }
}

/// `+ - * /` between tensors in all four ownership forms (broadcasting),
/// and with an `f32` on either side; `$reversed` computes `scalar op x`.
macro_rules! binary_operator {
    ($trait:ident, $method:ident, $scalar_method:ident, $reversed:expr) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            /// The element-wise op, broadcasting; panics naming both shapes
            /// if they cannot be broadcast.
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(self, rhs)
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            /// As for `&Tensor`.
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$method(&self, &rhs)
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            /// As for `&Tensor`.
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(&self, rhs)
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Tensor;
            /// As for `&Tensor`.
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$method(self, &rhs)
            }
        }
        impl $trait<f32> for &Tensor {
            type Output = Tensor;
            /// The op with a scalar on the right, element by element.
            fn $method(self, rhs: f32) -> Tensor {
                self.$scalar_method(rhs)
            }
        }
        impl $trait<f32> for Tensor {
            type Output = Tensor;
            /// The op with a scalar on the right, element by element.
            fn $method(self, rhs: f32) -> Tensor {
                self.$scalar_method(rhs)
            }
        }
        impl $trait<&Tensor> for f32 {
            type Output = Tensor;
            /// The op with a scalar on the left, element by element.
            fn $method(self, rhs: &Tensor) -> Tensor {
                let reversed: fn(f32, f32) -> f32 = $reversed;
                rhs.map(|x| reversed(self, x))
            }
        }
        impl $trait<Tensor> for f32 {
            type Output = Tensor;
            /// The op with a scalar on the left, element by element.
            fn $method(self, rhs: Tensor) -> Tensor {
                self.$method(&rhs)
            }
        }
    };
}

binary_operator!(Add, add, add_scalar, |s, x| s + x);
binary_operator!(Sub, sub, sub_scalar, |s, x| s - x);
binary_operator!(Mul, mul, mul_scalar, |s, x| s * x);
binary_operator!(Div, div, div_scalar, |s, x| s / x);

impl Neg for &Tensor {
    type Output = Tensor;
    /// Element-wise negation.
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Tensor;
    /// Element-wise negation.
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_bias_kernels_match_a_broadcast_add_and_map() {
        // Small (serial) and above PARALLEL_MIN_WORK (split into row blocks).
        for (rows, cols) in [(3, 5), (700, 1000)] {
            let mut rng = crate::seeded_rng(rows as u64);
            let x = Tensor::randn([rows, cols], &mut rng);
            let bias = Tensor::randn([cols], &mut rng);
            let expected = Tensor::add(&x, &bias);
            let (mut in_place, mut pre) = (x.clone(), x.clone());
            in_place.add_rows_assign(&bias);
            let activated = pre.add_rows_then_map(&bias, TRANSCENDENTAL_COST, f32::tanh);
            assert!(in_place.bit_eq(&expected) && pre.bit_eq(&expected));
            assert!(activated.bit_eq(&expected.map(f32::tanh)));
            assert!(x.bit_eq(&Tensor::randn(
                [rows, cols],
                &mut crate::seeded_rng(rows as u64)
            )));
        }
    }

    #[test]
    fn broadcasting_matches_numpy() {
        let col = Tensor::from([[1.0], [2.0], [3.0]]);
        let row = Tensor::from([[10.0, 20.0, 30.0, 40.0]]);
        let sum = &col + &row;
        assert_eq!(sum.dims(), &[3, 4]);
        assert_eq!(sum.get(&[2, 3]), 43.0);
        let m = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let v = Tensor::from([1.0, 10.0, 100.0]);
        assert_eq!((&m * &v).to_vec(), vec![1.0, 20.0, 300.0, 4.0, 50.0, 600.0]);
        assert_eq!((&v - &Tensor::scalar(1.0)).to_vec(), vec![0.0, 9.0, 99.0]);
    }

    #[test]
    fn large_broadcasts_agree_with_small_path() {
        let a = Tensor::from_fn([3000, 257], |i| (i[0] * 7 + i[1]) as f32 * 0.01);
        let b = Tensor::from_fn([257], |i| i[0] as f32);
        let out = &a + &b;
        assert_eq!(out.get(&[2999, 256]), a.get(&[2999, 256]) + 256.0);
        assert_eq!(out.get(&[123, 5]), a.get(&[123, 5]) + 5.0);
    }

    #[test]
    #[should_panic(expected = "mul: shapes [2, 3] and [2] cannot be broadcast together")]
    fn shape_mismatch_panics_with_op_and_shapes() {
        let _ = &Tensor::zeros([2, 3]) * &Tensor::zeros([2]);
    }

    #[test]
    fn unary_ops_are_elementwise() {
        let x = Tensor::from([-2.0, 0.0, 3.0]);
        assert_eq!(x.relu().to_vec(), vec![0.0, 0.0, 3.0]);
        assert_eq!(x.abs().to_vec(), vec![2.0, 0.0, 3.0]);
        assert_eq!(x.clamp(-1.0, 1.0).to_vec(), vec![-1.0, 0.0, 1.0]);
        assert_eq!(
            sigmoid(-100.0),
            (-100.0f32).exp() / (1.0 + (-100.0f32).exp())
        );
        assert_eq!(sigmoid(100.0), 1.0);
        assert!(x.maximum(&Tensor::scalar(f32::NAN)).data()[0].is_nan());
    }

    #[test]
    fn operators_take_every_ownership_form_and_scalars_on_either_side() {
        let a = Tensor::from([1.0, 2.0]);
        let b = Tensor::from([4.0, 8.0]);
        let expected = vec![5.0, 10.0];
        assert_eq!((&a + &b).to_vec(), expected);
        assert_eq!((a.clone() + &b).to_vec(), expected);
        assert_eq!((&a + b.clone()).to_vec(), expected);
        assert_eq!((a.clone() + b.clone()).to_vec(), expected);
        assert_eq!((&b - &a).to_vec(), vec![3.0, 6.0]);
        assert_eq!((&a * b.clone()).to_vec(), vec![4.0, 16.0]);
        assert_eq!((b.clone() / &a).to_vec(), vec![4.0, 4.0]);
        assert_eq!((2.0 * &a).to_vec(), vec![2.0, 4.0]);
        assert_eq!((1.0 - &a).to_vec(), vec![0.0, -1.0]);
        assert_eq!((8.0 / b.clone()).to_vec(), vec![2.0, 1.0]);
        assert_eq!((3.0 + a.clone()).to_vec(), vec![4.0, 5.0]);
        assert_eq!((&b / 2.0).to_vec(), vec![2.0, 4.0]);
        assert_eq!((b - 1.0).to_vec(), vec![3.0, 7.0]);
        assert_eq!((-&a).to_vec(), vec![-1.0, -2.0]);
        assert_eq!((-a).to_vec(), vec![-1.0, -2.0]);
    }

    #[test]
    fn zero_width_rows_broadcast_and_take_a_bias() {
        let empty_rows = Tensor::zeros([3, 0]);
        assert_eq!((&empty_rows + &Tensor::zeros([0])).dims(), &[3, 0]);
        assert_eq!((&empty_rows * &Tensor::zeros([3, 1])).dims(), &[3, 0]);
        assert_eq!(
            (&Tensor::zeros([0, 1]) + &Tensor::ones([4])).dims(),
            &[0, 4]
        );
        let mut x = Tensor::zeros([3, 0]);
        x.add_rows_assign(&Tensor::zeros([0]));
        assert_eq!(x.dims(), &[3, 0]);
        let y = x.add_rows_then_map(&Tensor::zeros([0]), 1, |v| v);
        assert_eq!(y.dims(), &[3, 0]);
    }

    #[test]
    fn new_unary_ops_follow_pytorch() {
        let x = Tensor::from([-2.0, -0.0, 0.0, 3.0, f32::NAN]);
        let sign = x.sign();
        assert_eq!(&sign.data()[..4], &[-1.0, 0.0, 0.0, 1.0]);
        assert!(sign.data()[4].is_nan());
        let small = Tensor::from([1e-7, -1e-7]);
        assert_eq!(
            small.log1p().to_vec(),
            vec![1e-7f32.ln_1p(), (-1e-7f32).ln_1p()]
        );
        assert_ne!(small.log1p().data()[0], 0.0, "accurate near 0");
        assert_ne!(small.expm1().data()[0], 0.0, "accurate near 0");
        assert_eq!(
            Tensor::from([1.0, 2.0]).log(),
            Tensor::from([1.0, 2.0]).ln()
        );
    }

    #[test]
    fn clamp_propagates_nan_and_orders_bounds_as_pytorch() {
        let x = Tensor::from([-2.0, 0.5, f32::NAN, 3.0]);
        let c = x.clamp(-1.0, 1.0);
        assert_eq!(&c.data()[..2], &[-1.0, 0.5]);
        assert!(c.data()[2].is_nan());
        assert_eq!(c.data()[3], 1.0);
        assert_eq!(x.clamp(2.0, 1.0).data()[0], 1.0, "min > max gives max");
        assert!(x.clamp(f32::NAN, 1.0).data()[0].is_nan());
    }
}
