//! Matrix products through `matrixmultiply::sgemm` or the `gemm` crate
//! ([`Backend`]). Transposed operands are read through strides, never
//! copied. Products large enough to repay a rayon call are split into blocks
//! of output rows or columns; each element is computed by the same serial
//! kernel over the same `k` order, so the bits do not depend on threads.

use std::mem::MaybeUninit;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::shape::Shape;
use crate::tensor::Tensor;

/// Below this many multiply-adds (`m * k * n`) a product runs on one thread.
/// Splitting makes every thread pack the whole operand it does not split,
/// so on the 2-core target a split pays only from products the size of the
/// CNN flagship's first dense layer (64 x 1568 x 128, 2^23.6): its epoch on
/// two threads took 0.5-5% less with the threshold at 2^23 than at 2^27
/// (three alternations of `cargo bench --bench epochs -- --workload
/// cnn-adam`, 2026-11-25), while
/// the small MLP's 64 x 784 x 128 (2^22.6) stays on one thread, where it
/// is fastest.
pub const GEMM_PARALLEL_MIN_MACS: usize = 1 << 23;

/// The fewest output rows (or columns) each thread of a split product gets.
const GEMM_MIN_SPLIT: usize = 64;

/// The library that computes matrix products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `matrixmultiply::sgemm`.
    MatrixMultiply,
    /// The `gemm` crate (as candle and dfdx use), the default: on the
    /// 2-core Zen 4 machines this project measures on, 7-10% faster MLP
    /// epochs than matrixmultiply (BENCHMARKS.md).
    Gemm,
}

/// The variable that chooses the [`Backend`]: `gemm` (the default) or
/// `matrixmultiply`. Read once, at the first product; CI runs the test
/// suite under both.
pub const BACKEND_VARIABLE: &str = "DESCENT_GEMM";

/// The backend every product of this process uses (see [`BACKEND_VARIABLE`]).
///
/// # Panics
/// If the variable holds anything but `matrixmultiply` or `gemm`.
pub fn backend() -> Backend {
    static CHOICE: OnceLock<Backend> = OnceLock::new();
    *CHOICE.get_or_init(|| match std::env::var(BACKEND_VARIABLE).as_deref() {
        Err(_) | Ok("gemm") => Backend::Gemm,
        Ok("matrixmultiply") => Backend::MatrixMultiply,
        Ok(other) => panic!("{BACKEND_VARIABLE} is {other:?}; it must be gemm or matrixmultiply"),
    })
}

/// A row-major matrix operand, optionally read as its transpose.
#[derive(Clone, Copy, Debug)]
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
    pub fn op_rows(&self) -> usize {
        if self.transposed {
            self.cols
        } else {
            self.rows
        }
    }

    /// Columns of the operand as read.
    pub fn op_cols(&self) -> usize {
        if self.transposed {
            self.rows
        } else {
            self.cols
        }
    }

    /// (row stride, column stride) of the operand as read.
    pub fn strides(&self) -> (isize, isize) {
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
    gemm_slices(a, b, out, alpha, beta);
}

/// `out = op(a) op(b)` into uninitialized memory, which it fully writes
/// (sgemm with `beta == 0` never reads the output).
fn gemm_uninit(a: MatRef, b: MatRef, out: &mut [MaybeUninit<f32>]) {
    gemm_slices(a, b, out, 1.0, 0.0);
}

/// The shared body of [`gemm`] and [`gemm_uninit`]; `T` is `f32` or
/// `MaybeUninit<f32>`, which have the same layout.
fn gemm_slices<T>(a: MatRef, b: MatRef, out: &mut [T], alpha: f32, beta: f32) {
    let (m, k, n) = (a.op_rows(), a.op_cols(), b.op_cols());
    assert_eq!(
        k,
        b.op_rows(),
        "matmul: inner dimensions differ: [{m}, {k}] x [{}, {n}]",
        b.op_rows()
    );
    let holds = |x: &MatRef| {
        x.rows
            .checked_mul(x.cols)
            .is_some_and(|len| x.data.len() >= len)
    };
    assert!(
        holds(&a) && holds(&b),
        "matmul: an operand holds fewer values than its rows x columns"
    );
    assert!(
        m.checked_mul(n) == Some(out.len()),
        "matmul: output holds {} values, not {m} x {n}",
        out.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = a.strides();
    let (rsb, csb) = b.strides();
    // One block per thread of the pool, so a one-thread pool never packs an
    // operand twice. The bits do not depend on the blocks: matrixmultiply
    // sums each output element over the same `k` order in any tile, which
    // the split tests below check on 1, 2 and 3 threads.
    // With the gemm backend the crate threads large products itself.
    let backend = backend();
    let blocks = rayon::current_num_threads();
    let macs = m.saturating_mul(k).saturating_mul(n);
    let parallel =
        macs >= GEMM_PARALLEL_MIN_MACS && blocks > 1 && backend == Backend::MatrixMultiply;
    // Every thread packs the whole operand it does not split, so split the
    // output along the larger side: rows when m >= n, else columns.
    let split = match parallel {
        true if m >= n && m >= 2 * GEMM_MIN_SPLIT => {
            Split::Rows(m.div_ceil(blocks).max(GEMM_MIN_SPLIT))
        }
        true if n > m && n >= 2 * GEMM_MIN_SPLIT => {
            Split::Columns(n.div_ceil(blocks).max(GEMM_MIN_SPLIT))
        }
        _ => Split::None,
    };
    let out_ptr = SendPtr(out.as_mut_ptr().cast::<f32>());
    // Computes output rows `rows` and columns `cols`.
    let block = |rows: std::ops::Range<usize>, cols: std::ops::Range<usize>| {
        let out_ptr = &out_ptr;
        // SAFETY: the pointers and strides describe `rows x k` of op(a),
        // `k x cols` of op(b) and the `rows x cols` block of `out`, all inside
        // the buffers, whose lengths were checked against m, k and n above;
        // concurrent blocks cover disjoint parts of `out`.
        unsafe {
            let kernel = match backend {
                Backend::MatrixMultiply => matrixmultiply_kernel,
                Backend::Gemm => gemm_kernel,
            };
            kernel(
                [rows.len(), k, cols.len()],
                (a.data.as_ptr().offset(rows.start as isize * rsa), rsa, csa),
                (b.data.as_ptr().offset(cols.start as isize * csb), rsb, csb),
                (out_ptr.0.add(rows.start * n + cols.start), n as isize),
                alpha,
                beta,
            );
        }
    };
    match split {
        Split::None => block(0..m, 0..n),
        Split::Rows(size) => (0..m.div_ceil(size))
            .into_par_iter()
            .for_each(|i| block(i * size..((i + 1) * size).min(m), 0..n)),
        Split::Columns(size) => (0..n.div_ceil(size))
            .into_par_iter()
            .for_each(|i| block(0..m, i * size..((i + 1) * size).min(n))),
    }
}

/// `c = alpha * a b + beta * c` for an `m x k` by `k x n` product given as
/// (pointer, row stride, column stride) triples, with matrixmultiply.
///
/// # Safety
/// The pointers and strides must describe matrices inside live buffers, and
/// `c` must not alias `a` or `b`.
unsafe fn matrixmultiply_kernel(
    [m, k, n]: [usize; 3],
    (a, rsa, csa): (*const f32, isize, isize),
    (b, rsb, csb): (*const f32, isize, isize),
    (c, rsc): (*mut f32, isize),
    alpha: f32,
    beta: f32,
) {
    // SAFETY: forwarded from the caller.
    unsafe { matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, 1) }
}

/// As [`matrixmultiply_kernel`], through the `gemm` crate (whose own
/// convention is `dst = alpha dst + beta lhs rhs`).
///
/// # Safety
/// As [`matrixmultiply_kernel`].
unsafe fn gemm_kernel(
    [m, k, n]: [usize; 3],
    (a, rsa, csa): (*const f32, isize, isize),
    (b, rsb, csb): (*const f32, isize, isize),
    (c, rsc): (*mut f32, isize),
    alpha: f32,
    beta: f32,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c,
            1,
            rsc,
            beta != 0.0,
            a,
            csa,
            rsa,
            b,
            csb,
            rsb,
            beta,
            alpha,
            false,
            false,
            false,
            gemm_parallelism(m * k * n),
        )
    }
}

/// The `gemm` crate threads a product itself (on rayon's pool); as with
/// the split above, that only pays for large products on the 2-core target
/// (from 2^20 multiply-adds the small-MLP step got 2.6x slower).
fn gemm_parallelism(macs: usize) -> gemm::Parallelism {
    if macs >= GEMM_PARALLEL_MIN_MACS && rayon::current_num_threads() > 1 {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    }
}

/// How a product's output is divided between threads (block sizes).
enum Split {
    None,
    Rows(usize),
    Columns(usize),
}

/// The output pointer, shared by threads that write disjoint blocks.
struct SendPtr(*mut f32);

// SAFETY: the threads sharing it write disjoint blocks of the output.
unsafe impl Sync for SendPtr {}

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
        let last_two = |t: &Tensor| {
            let d = t.dims();
            (d[d.len() - 2], d[d.len() - 1])
        };
        let (ar, ac) = last_two(self);
        let (br, bc) = last_two(other);
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
        if k == 0 || m == 0 || n == 0 {
            return Tensor::zeros(out_shape);
        }
        let fill = |out: &mut [MaybeUninit<f32>]| {
            for (batch, c) in out.chunks_exact_mut(m * n).enumerate() {
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
                gemm_uninit(a, b, c);
            }
        };
        // SAFETY: the batches tile the output exactly and each `gemm_uninit`
        // writes its whole `m x n` block (sgemm with beta 0, k > 0).
        unsafe { Tensor::build_uninit(out_shape, fill) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// The operand of a stored tensor.
    fn operand(t: &Tensor, transposed: bool) -> MatRef<'_> {
        MatRef {
            data: t.data(),
            rows: t.dims()[0],
            cols: t.dims()[1],
            transposed,
        }
    }

    /// The kernels' common signature.
    type Kernel = unsafe fn(
        [usize; 3],
        (*const f32, isize, isize),
        (*const f32, isize, isize),
        (*mut f32, isize),
        f32,
        f32,
    );

    /// `op(a) op(b)` by one kernel on one thread.
    fn product(kernel: Kernel, a: MatRef, b: MatRef) -> Tensor {
        let (m, k, n) = (a.op_rows(), a.op_cols(), b.op_cols());
        let ((rsa, csa), (rsb, csb)) = (a.strides(), b.strides());
        let mut out = vec![0.0f32; m * n];
        // SAFETY: the operands and the output are live buffers of the sizes
        // the strides describe.
        unsafe {
            kernel(
                [m, k, n],
                (a.data.as_ptr(), rsa, csa),
                (b.data.as_ptr(), rsb, csb),
                (out.as_mut_ptr(), n as isize),
                1.0,
                0.0,
            );
        }
        Tensor::from_vec(out, [m, n])
    }

    #[test]
    fn both_backends_compute_the_same_products() {
        let mut rng = StdRng::seed_from_u64(4);
        for (m, k, n, ta, tb) in [
            (7, 5, 3, false, false),
            (64, 784, 128, false, true),
            (33, 17, 65, true, true),
        ] {
            let a = Tensor::randn(if ta { [k, m] } else { [m, k] }, &mut rng);
            let b = Tensor::randn(if tb { [n, k] } else { [k, n] }, &mut rng);
            let (a, b) = (operand(&a, ta), operand(&b, tb));
            let ours = product(matrixmultiply_kernel, a, b);
            let theirs = product(gemm_kernel, a, b);
            assert!(ours.all_close(&theirs, 1e-5, 1e-4), "{m}x{k}x{n}");
        }
    }

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

    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    #[test]
    fn split_products_give_the_same_bits_on_any_number_of_threads() {
        let mut rng = StdRng::seed_from_u64(4);
        // Above GEMM_PARALLEL_MIN_MACS: split by rows (m >= n) and by columns (n > m).
        let tall = (
            Tensor::randn([513, 512], &mut rng),
            Tensor::randn([512, 512], &mut rng),
        );
        let wide = (
            Tensor::randn([256, 512], &mut rng),
            Tensor::randn([1100, 512], &mut rng),
        );
        let run = || (tall.0.matmul(&tall.1), wide.0.matmul_t(&wide.1));
        let one = in_pool(1, run);
        for threads in [2, 3] {
            let split = in_pool(threads, run);
            assert!(one.0.bit_eq(&split.0), "rows split {threads} ways");
            assert!(one.1.bit_eq(&split.1), "columns split {threads} ways");
        }
        let row = tall.0.narrow(0, 500, 1).matmul(&tall.1);
        assert!(one.0.narrow(0, 500, 1).all_close(&row, 1e-4, 1e-4));
        let column = wide.0.matmul_t(&wide.1.narrow(0, 1099, 1));
        assert!(one.1.narrow(1, 1099, 1).all_close(&column, 1e-4, 1e-4));
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
    #[should_panic(expected = "shape [9223372036854775809, 2] has more elements than fit in usize")]
    fn a_shape_whose_element_count_wraps_around_never_reaches_gemm() {
        // Before shapes were checked, this count wrapped around to 2, the
        // tensor was accepted, and matmul wrote far outside its output.
        let a = Tensor::from_vec(vec![1.0, 2.0], [(1 << 63) + 1, 2]);
        a.matmul(&Tensor::ones([2, 1]));
    }

    #[test]
    #[should_panic(expected = "matmul: an operand holds fewer values than its rows x columns")]
    fn gemm_checks_operand_sizes_without_overflow() {
        let a = MatRef {
            data: &[1.0, 2.0],
            rows: (1 << 63) + 1,
            cols: 2,
            transposed: false,
        };
        let b = MatRef {
            data: &[1.0, 2.0],
            rows: 2,
            cols: 1,
            transposed: false,
        };
        gemm(a, b, &mut [0.0; 2], 1.0, 0.0);
    }

    #[test]
    #[should_panic(expected = "matmul: output holds 2 values, not 9223372036854775809 x 2")]
    fn gemm_checks_the_output_size_without_overflow() {
        let a = MatRef {
            data: &[],
            rows: (1 << 63) + 1,
            cols: 0,
            transposed: false,
        };
        let b = MatRef {
            data: &[],
            rows: 0,
            cols: 2,
            transposed: false,
        };
        gemm(a, b, &mut [0.0; 2], 1.0, 0.0);
    }

    #[test]
    fn empty_products_are_zeros_of_the_right_shape() {
        assert_eq!(
            Tensor::zeros([3, 0]).matmul(&Tensor::zeros([0, 2])),
            Tensor::zeros([3, 2])
        );
        assert_eq!(
            Tensor::zeros([0, 4]).matmul(&Tensor::zeros([4, 2])).dims(),
            &[0, 2]
        );
        assert_eq!(
            Tensor::zeros([2, 4])
                .matmul_t(&Tensor::zeros([0, 4]))
                .dims(),
            &[2, 0]
        );
    }

    #[test]
    #[should_panic(expected = "matmul: shapes [2, 3] and [4, 5] cannot be multiplied")]
    fn inner_dimension_mismatch_names_both_shapes() {
        Tensor::zeros([2, 3]).matmul(&Tensor::zeros([4, 5]));
    }
}
