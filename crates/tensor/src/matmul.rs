//! Matrix products through `matrixmultiply::sgemm`. Transposed operands are
//! read through strides, never copied. Products large enough to repay a rayon
//! call are split into blocks of output rows; each row is computed by the same
//! serial kernel over the same `k` order, so the bits do not depend on threads.

use rayon::prelude::*;

use crate::shape::Shape;
use crate::tensor::Tensor;

/// Below this many multiply-adds (`m * k * n`) a product runs on one thread.
pub const GEMM_PARALLEL_MIN_MACS: usize = 1 << 21;

/// A row-major matrix operand, optionally read as its transpose.
#[derive(Clone, Copy)]
pub struct MatRef<'a> {
    /// The stored elements, row-major.
    pub data: &'a [f32],
    /// Stored rows.
    pub rows: usize,
    /// Stored columns.
    pub cols: usize,
    /// Read the operand as its transpose.
    pub transposed: bool,
}

impl MatRef<'_> {
    /// Rows of the operand as read.
    fn op_rows(&self) -> usize {
        if self.transposed {
            self.cols
        } else {
            self.rows
        }
    }

    /// Columns of the operand as read.
    fn op_cols(&self) -> usize {
        if self.transposed {
            self.rows
        } else {
            self.cols
        }
    }

    /// (row stride, column stride) of the operand as read.
    fn strides(&self) -> (isize, isize) {
        if self.transposed {
            (1, self.cols as isize)
        } else {
            (self.cols as isize, 1)
        }
    }
}

/// `out = alpha * op(a) op(b) + beta * out`, where `out` is row-major
/// `[op(a).rows, op(b).cols]`. With `beta == 0` the old contents are ignored.
///
/// # Panics
/// If the inner dimensions or the output length disagree.
pub fn gemm(a: MatRef, b: MatRef, out: &mut [f32], alpha: f32, beta: f32) {
    let (m, k, n) = (a.op_rows(), a.op_cols(), b.op_cols());
    assert_eq!(
        k,
        b.op_rows(),
        "matmul: inner dimensions differ: [{m}, {k}] x [{}, {n}]",
        b.op_rows()
    );
    assert_eq!(
        out.len(),
        m * n,
        "matmul: output holds {} values, not {m} x {n}",
        out.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = a.strides();
    let (rsb, csb) = b.strides();
    let rows_per_block = if m * k * n >= GEMM_PARALLEL_MIN_MACS && m >= 16 {
        m.div_ceil(rayon::current_num_threads().max(1))
    } else {
        m
    };
    let block = |first_row: usize, c: &mut [f32]| {
        let rows = c.len() / n;
        // SAFETY: the pointers and strides describe `rows x k` of op(a) starting
        // at `first_row`, `k x n` of op(b) and `rows x n` of `c`, all inside the
        // slices, whose lengths were checked against m, k and n above.
        unsafe {
            matrixmultiply::sgemm(
                rows,
                k,
                n,
                alpha,
                a.data.as_ptr().offset(first_row as isize * rsa),
                rsa,
                csa,
                b.data.as_ptr(),
                rsb,
                csb,
                beta,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    };
    assert!(a.data.len() >= a.rows * a.cols && b.data.len() >= b.rows * b.cols);
    if rows_per_block == m {
        block(0, out);
    } else {
        out.par_chunks_mut(rows_per_block * n)
            .enumerate()
            .for_each(|(i, c)| block(i * rows_per_block, c));
    }
}

impl Tensor {
    /// The matrix product `self @ other`.
    ///
    /// 2-D x 2-D gives a matrix; 3-D x 3-D multiplies matching batches;
    /// 3-D x 2-D applies the same right-hand matrix to every batch.
    ///
    /// # Panics
    /// If the ranks are unsupported or the inner dimensions differ; the message
    /// names both shapes.
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        self.matmul_transposed(false, other, false)
    }

    /// `self^T @ other`, reading `self` transposed without copying it.
    pub fn t_matmul(&self, other: &Tensor) -> Tensor {
        self.matmul_transposed(true, other, false)
    }

    /// `self @ other^T`, reading `other` transposed without copying it.
    pub fn matmul_t(&self, other: &Tensor) -> Tensor {
        self.matmul_transposed(false, other, true)
    }

    /// `op(self) @ op(other)` where `op` transposes the last two dimensions of an
    /// operand whose flag is set.
    ///
    /// # Panics
    /// As [`Tensor::matmul`].
    pub fn matmul_transposed(
        &self,
        transpose_self: bool,
        other: &Tensor,
        transpose_other: bool,
    ) -> Tensor {
        let (sa, sb) = (self.shape(), other.shape());
        let mismatch = || {
            panic!(
                "matmul: shapes {sa:?}{} and {sb:?}{} cannot be multiplied",
                if transpose_self { "^T" } else { "" },
                if transpose_other { "^T" } else { "" }
            )
        };
        let batches = match (sa.rank(), sb.rank()) {
            (2, 2) => 1,
            (3, 2) => sa.dim(0),
            (3, 3) if sa.dim(0) == sb.dim(0) => sa.dim(0),
            _ => mismatch(),
        };
        let matrix = |t: &Tensor, transposed: bool| {
            let d = t.dims();
            let (rows, cols) = (d[d.len() - 2], d[d.len() - 1]);
            (rows, cols, transposed)
        };
        let (ar, ac, _) = matrix(self, transpose_self);
        let (br, bc, _) = matrix(other, transpose_other);
        let (m, k) = if transpose_self { (ac, ar) } else { (ar, ac) };
        let (k2, n) = if transpose_other { (bc, br) } else { (br, bc) };
        if k != k2 {
            mismatch();
        }
        let out_shape = if sa.rank() == 3 {
            Shape::new(&[batches, m, n])
        } else {
            Shape::new(&[m, n])
        };
        let b_step = if sb.rank() == 3 { br * bc } else { 0 };
        Tensor::build(out_shape, |out| {
            for (batch, c) in out.chunks_exact_mut((m * n).max(1)).enumerate() {
                let a = MatRef {
                    data: &self.data()[batch * ar * ac..(batch + 1) * ar * ac],
                    rows: ar,
                    cols: ac,
                    transposed: transpose_self,
                };
                let b = MatRef {
                    data: &other.data()[batch * b_step..batch * b_step + br * bc],
                    rows: br,
                    cols: bc,
                    transposed: transpose_other,
                };
                gemm(a, b, c, 1.0, 0.0);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn naive(a: &Tensor, b: &Tensor) -> Tensor {
        let (m, k, n) = (a.dims()[0], a.dims()[1], b.dims()[1]);
        Tensor::from_fn([m, n], |ix| {
            (0..k)
                .map(|p| a.get(&[ix[0], p]) * b.get(&[p, ix[1]]))
                .sum()
        })
    }

    #[test]
    fn matmul_matches_naive_in_every_transpose() {
        let mut rng = StdRng::seed_from_u64(3);
        let a = Tensor::randn([5, 7], &mut rng);
        let b = Tensor::randn([7, 3], &mut rng);
        let expected = naive(&a, &b);
        assert!(a.matmul(&b).all_close(&expected, 1e-5, 1e-5));
        let at = a.transpose(0, 1);
        let bt = b.transpose(0, 1);
        assert!(at.t_matmul(&b).all_close(&expected, 1e-5, 1e-5));
        assert!(a.matmul_t(&bt).all_close(&expected, 1e-5, 1e-5));
        assert!(
            at.matmul_transposed(true, &bt, true)
                .all_close(&expected, 1e-5, 1e-5)
        );
    }

    #[test]
    fn parallel_blocks_match_serial_bits() {
        let mut rng = StdRng::seed_from_u64(4);
        let a = Tensor::randn([129, 200], &mut rng);
        let b = Tensor::randn([200, 100], &mut rng);
        let parallel = a.matmul(&b);
        let serial_rows: Vec<f32> = (0..129)
            .flat_map(|r| a.narrow(0, r, 1).matmul(&b).to_vec())
            .collect();
        assert!(parallel.bit_eq(&Tensor::from_vec(serial_rows, [129, 100])));
    }

    #[test]
    fn batched_matmul_multiplies_each_batch() {
        let mut rng = StdRng::seed_from_u64(5);
        let a = Tensor::randn([2, 3, 4], &mut rng);
        let b = Tensor::randn([2, 4, 5], &mut rng);
        let w = Tensor::randn([4, 5], &mut rng);
        let c = a.matmul(&b);
        let shared = a.matmul(&w);
        for batch in 0..2 {
            let ab = a.narrow(0, batch, 1).reshape([3, 4]);
            let bb = b.narrow(0, batch, 1).reshape([4, 5]);
            let expected = naive(&ab, &bb);
            assert!(
                c.narrow(0, batch, 1)
                    .reshape([3, 5])
                    .all_close(&expected, 1e-5, 1e-5)
            );
            let expected_shared = naive(&ab, &w);
            assert!(shared.narrow(0, batch, 1).reshape([3, 5]).all_close(
                &expected_shared,
                1e-5,
                1e-5
            ));
        }
    }

    #[test]
    #[should_panic(expected = "matmul: shapes [2, 3] and [4, 5] cannot be multiplied")]
    fn inner_dimension_mismatch_names_both_shapes() {
        Tensor::zeros([2, 3]).matmul(&Tensor::zeros([4, 5]));
    }
}
