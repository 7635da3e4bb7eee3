// Kernels compiled for more than one x86-64 instruction set, and the CPU test that picks one.
//
// Each set is compiled from the same C source with per-function target attributes
// (`__attribute__((target("avx2,fma")))`, `target("avx512f,…")`), so the target builds with no
// compiler flags and runs on any x86-64 CPU: a function is only called once `backprop_cpu_isa`
// has said the CPU and the operating system support its instructions. On other architectures
// `backprop_cpu_isa` returns BACKPROP_ISA_BASELINE and the kernel tables are NULL (the Swift
// kernels run there).
#ifndef BACKPROP_C_DISPATCH_H
#define BACKPROP_C_DISPATCH_H

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction sets kernels are compiled for, in increasing order.
enum {
    /// x86-64 as every such CPU has it (SSE2), or the architecture's baseline elsewhere: the
    /// Swift kernels.
    BACKPROP_ISA_BASELINE = 0,
    /// AVX2 with FMA (Intel Haswell, AMD Zen and later): 256-bit vectors, fused multiply-add.
    BACKPROP_ISA_AVX2 = 1,
    /// AVX-512 F, DQ, BW and VL (Intel Skylake-SP, AMD Zen 4 and later): 512-bit vectors.
    BACKPROP_ISA_AVX512 = 2,
    /// For tests only: the AVX-512 kernels' code (tile shapes, 16-lane loops) compiled for
    /// AVX2, so that a machine without AVX-512 checks everything but the instructions.
    BACKPROP_ISA_AVX512_ON_AVX2 = 3,
};

/// The best instruction set this CPU and its operating system support, from CPUID's feature
/// bits and the register state the OS saves (XCR0).
int backprop_cpu_isa(void);

/// Writes the CPU's brand string and family/model numbers into `buffer` (NUL-terminated), e.g.
/// "AMD EPYC 9R14 (family 25, model 17)"; an empty string where CPUID is not available.
void backprop_cpu_description(char *buffer, long size);

// GEMM micro-kernels: one MR×NR tile of C from packed panels (see GemmMicroKernel.swift).
// acc[r][j] = Σ_p a[p·MR + r]·b[p·NR + j] in increasing p, each step one fused multiply-add;
// then c[r·ldc + j] = acc, or c[r·ldc + j] + acc when `accumulate`.

/// Float 4×24 (AVX2).
void backprop_sgemm_tile_avx2(long kc, const float *a, const float *b, float *c, long ldc, int accumulate);
/// Double 6×8 (AVX2).
void backprop_dgemm_tile_avx2(long kc, const double *a, const double *b, double *c, long ldc, int accumulate);
/// Float 8×48 (AVX-512).
void backprop_sgemm_tile_avx512(long kc, const float *a, const float *b, float *c, long ldc, int accumulate);
/// Double 8×24 (AVX-512).
void backprop_dgemm_tile_avx512(long kc, const double *a, const double *b, double *c, long ldc, int accumulate);
/// The AVX-512 tiles' code compiled for AVX2 (tests only).
void backprop_sgemm_tile_avx512_on_avx2(long kc, const float *a, const float *b, float *c, long ldc, int accumulate);
void backprop_dgemm_tile_avx512_on_avx2(long kc, const double *a, const double *b, double *c, long ldc, int accumulate);

/// Packs `count` rows (of A) or columns (of B) by `depth` of a Float GEMM operand into
/// micro-panels of `width`, zero-padded, as GemmPacking.swift does:
/// dst[panel·width·depth + p·width + r] = op[panel·width + r][p], where op[i][p] is
/// x[p·ld + i] when `contiguous` (the panel's pieces are contiguous in storage) and x[i·ld + p]
/// otherwise (a transpose: 8×8 or 4×8 in registers). AVX2.
void backprop_pack_f32_avx2(int contiguous, long count, long depth, long width, const float *x, long ld, float *dst);

/// The Float row, elementwise, reduction and optimizer kernels of one instruction set. Every
/// function works on a contiguous range and treats a partial last vector with the same
/// arithmetic as a whole one, so a result never depends on where a range was cut.
typedef struct backprop_kernels {
    /// Lanes per vector (8 or 16).
    long lanes;

    // Softmax family, rows of length n (see SoftmaxKernels.swift).

    /// y = softmax(βx) (or log softmax(βx) when `log`) for `rows` rows.
    void (*softmax_forward)(const float *x, float *y, long rows, long n, float beta, int log);
    /// out = ∂L/∂x of softmax(βx) (y its output) or of log softmax (y = log p) when `log`, for
    /// rows `first ..< first + rows` of g and out; row r of g pairs with row r mod yRows of y.
    /// `stream`: write out with non-temporal stores.
    void (*softmax_backward)(const float *g, const float *y, float *out, long first, long rows, long yRows,
                             long n, float beta, int log, int stream);
    /// Softmax cross-entropy forward for `rows` rows: p = softmax(βz) stored, each row's target
    /// sum into sums[r], and the sum over rows of Σ_j −t_j·log p_j (t_j = 0 skipped) returned.
    double (*cross_entropy_forward)(const float *z, const float *t, float *p, float *sums, long rows, long n,
                                    float beta);
    /// out_j = a·p_j − c·t_j over n elements.
    void (*cross_entropy_backward)(const float *p, const float *t, float *out, long n, float a, float c);

    // Elementwise: y_i = f(x_i), or f(a_i, b_i) with strides 0 or 1.

    /// e^x (polynomial, within 2 ulp; +∞ above 88.7, 0 below −87.3).
    void (*exp)(const float *x, float *y, long n);
    /// 1 / (1 + e^−x), from the same exponential, stable on both sides.
    void (*sigmoid)(const float *x, float *y, long n);
    /// max(x, 0), NaN kept.
    void (*relu)(const float *x, float *y, long n);
    /// out_i = g_i where x_i > 0, else 0.
    void (*relu_backward)(const float *g, const float *x, float *out, long n);
    /// op 0 add, 1 subtract, 2 multiply, 3 divide; da, db ∈ {0, 1} (0: a scalar).
    void (*binary)(int op, const float *a, long da, const float *b, long db, float *out, long n);
    /// Each of `rows` rows of y (length n) += b.
    void (*add_rows)(float *y, const float *b, long rows, long n);

    // Reductions.

    /// Σ_j x_j of each of `rows` rows of length n into out[r], in sixteen partial sums (lane
    /// j mod 16) added up in a fixed order: the same result in every instruction set.
    void (*sum_rows)(const float *x, float *out, long rows, long n);
    /// out_i += Σ_a x[a·n + i] over `length` rows of n, in order of a (a column sum).
    void (*sum_columns)(const float *x, float *out, long length, long n);

    // Optimizer updates, in place, with the Swift formulas' operations in the same order.

    /// θ ← θ − η·g.
    void (*sgd)(float *theta, const float *g, long n, float lr);
    /// θ ← θ − η·(g + λθ), or with momentum μ (see OptimizerKernels.sgdMomentumStep).
    void (*sgd_momentum)(float *theta, const float *g, float *buffer, long n, int firstStep, float lr, float mu,
                         float wd, int nesterov);
    /// One Adam/AdamW step (see OptimizerKernels.adamStep).
    void (*adam)(float *theta, float *m, float *v, const float *g, long n, float shrink, float l2, float beta1,
                 float beta2, float stepSize, float correction2Root, float epsilon);
} backprop_kernels;

/// The kernels compiled for `isa` (AVX2, AVX-512 or the test set), or NULL for the baseline and
/// off x86-64. Does not check that the CPU can run them: callers check `backprop_cpu_isa` first.
const backprop_kernels *backprop_kernels_for(int isa);

// Machine limits, for `backprop bench --workload machine`.

/// Runs `iterations` steps of twelve independent multiply-add chains on the widest vectors of
/// `isa` (fused on AVX2 and AVX-512, multiply then add on the baseline); returns the
/// floating-point operations done (2 per lane and step).
double backprop_multiply_add_chains(int isa, long iterations);

/// STREAM's triad: a_i = b_i + s·c_i for i < n, with the vectors of `isa`.
void backprop_triad(double *a, const double *b, const double *c, double s, long n, int isa);

#ifdef __cplusplus
}
#endif

#endif
