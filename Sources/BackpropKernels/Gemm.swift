/// Matrix multiply on raw row-major buffers — no graph, no shapes, no checks.
///
/// Computes C = op(A)·op(B) (or C += op(A)·op(B) when `accumulate`), where op(A) is m×k and
/// op(B) is k×n. `transposeA` means A is stored k×m (row-major, leading dimension `lda`) and
/// read as its transpose; likewise `transposeB` means B is stored n×k. These are the three
/// forms backpropagation needs: A·B (forward), Aᵀ·B (weight gradient), A·Bᵀ (input gradient).
///
/// Three paths, chosen per call:
/// - a system BLAS (`cblas_sgemm`/`cblas_dgemm`) when one is active (see `Gemm.blas`);
/// - plain loops when m·n·k is small (`GemmSmall`);
/// - otherwise the packed, cache-blocked SIMD kernel (`GemmBlocked`), with the micro-kernel of
///   the instruction set in use (`KernelISA.active`: Swift SSE2 or NEON kernels, or the C
///   target's AVX2 or AVX-512 ones; `GemmKernelForm.preferred`), split over
///   `Backprop.threadCount` threads. Its result does not depend on the thread count, bit for bit.
///
/// With `accumulate == false`, C is only written, never read (NaNs already in C do not leak).
///
///     Gemm.multiply(transposeA: false, transposeB: false, m: 2, n: 3, k: 4,
///                   a: x, lda: 4, b: w, ldb: 3, c: y, ldc: 3, accumulate: false)
public enum Gemm {
    /// C[m×n] (+)= op(A)[m×k] · op(B)[k×n] on row-major buffers with leading dimensions.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func multiply<T: TensorScalar>(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
    ) {
        multiply(route: .chosen(m: m, n: n, k: k), threads: kernelThreadCount,
                 transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                 a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// C[m×n] += α·op(A)[m×k]·op(B)[k×n], on the buffers and forms of `multiply`.
    ///
    /// This is how plain SGD applies a dense layer's weight gradient without writing it out:
    /// W += (−η)·Gᵀ·X. A system BLAS takes α itself (β = 1) and scales each entry's sum. The
    /// library's kernels have no α: the smaller operand (by element count) is first copied,
    /// times α, into scratch memory, so each entry is cᵢⱼ + Σₚ (α·aᵢₚ)·bₚⱼ. Either way each
    /// entry carries one rounding more than `multiply`'s (the scaling), and stays within
    /// |error| ≤ γₖ₊₂·(|α|·Σₚ|aᵢₚ||bₚⱼ| + |cᵢⱼ|), γₙ = n·u/(1 − n·u) (Higham, §3.1).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func multiplyAdd<T: TensorScalar>(
        scale alpha: T, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        multiplyAdd(route: .chosen(m: m, n: n, k: k), threads: kernelThreadCount, scale: alpha, transposeA: transposeA, transposeB: transposeB,
                    m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
    }

    /// `multiplyAdd` on a given route and thread count, regardless of the settings.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func multiplyAdd<T: TensorScalar>(
        route: Route, threads: Int, scale alpha: T, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        if m == 0 || n == 0 || k == 0 { return }
        // A BLAS that cannot take the call (sizes beyond Int32) leaves it to `multiply`'s fallback.
        if case .blas(let blas) = route,
           callBLAS(blas, threads: threads, alpha: alpha, transposeA: transposeA, transposeB: transposeB,
                    m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: true) {
            return
        }
        // The stored form of each operand: rows × columns with its leading dimension.
        let scalesA = m * k <= k * n
        let rows = scalesA ? (transposeA ? k : m) : (transposeB ? n : k)
        let columns = scalesA ? (transposeA ? m : k) : (transposeB ? k : n)
        let source = scalesA ? a : b, stride = scalesA ? lda : ldb
        ScratchBuffer.withBuffer(T.self, count: rows * columns) { scaled in
            for r in 0..<rows {
                let from = source + r * stride, to = scaled + r * columns
                for j in 0..<columns { to[j] = alpha * from[j] }
            }
            multiply(route: route, threads: threads, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                     a: scalesA ? UnsafePointer(scaled) : a, lda: scalesA ? columns : lda,
                     b: scalesA ? b : UnsafePointer(scaled), ldb: scalesA ? ldb : columns,
                     c: c, ldc: ldc, accumulate: true)
        }
    }

    /// The implementation a call runs on.
    package enum Route {
        /// The system BLAS (falls back to the blocked kernel for sizes beyond Int32).
        case blas(SystemBLAS)
        /// Plain loops.
        case small
        /// The packed, cache-blocked SIMD kernel with the given micro-kernel form, on one thread
        /// below `parallelThreshold` multiply-adds.
        case blocked(GemmKernelForm, parallelThreshold: Int = GemmBlocked.parallelThreshold)

        /// The route the settings choose for an m×n×k product: the system BLAS when one is
        /// active, else plain loops for small products and the blocked kernel for the rest.
        static func chosen(m: Int, n: Int, k: Int) -> Route {
            BLASSettings.shared.active.map { .blas($0) } ?? (m * n * k <= GemmSmall.threshold ? .small : .blocked(.preferred))
        }
    }

    /// `multiply` on a given route and thread count, regardless of the settings.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func multiply<T: TensorScalar>(
        route: Route, threads: Int,
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        var form = GemmKernelForm.preferred
        var parallelThreshold = GemmBlocked.parallelThreshold
        switch route {
        case .blas(let blas):
            if callBLAS(blas, threads: threads, alpha: 1, transposeA: transposeA, transposeB: transposeB,
                        m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                        accumulate: accumulate) {
                return
            }
        case .small:
            GemmSmall.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                               a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
            return
        case .blocked(let chosen, let threshold):
            form = chosen
            parallelThreshold = threshold
        }
        /// The blocked multiply with micro-kernel K, whose scalar is T at run time.
        func blocked<K: GemmMicroKernel>(_ kernel: K.Type) {
            GemmBlocked.multiply(kernel, threads: threads, parallelThreshold: parallelThreshold,
                                 transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                 a: rebound(a), lda: lda, b: rebound(b), ldb: ldb, c: rebound(c), ldc: ldc,
                                 accumulate: accumulate)
        }
        if T.self == Float.self {
            switch form {
            case .fused: blocked(FloatFusedKernel.self)
            case .separate: blocked(FloatSeparateKernel.self)
            case .avx2: blocked(FloatAVX2Kernel.self)
            case .avx512: blocked(FloatAVX512Kernel.self)
            case .avx512OnAVX2: blocked(FloatAVX512OnAVX2Kernel.self)
            }
        } else if T.self == Double.self {
            switch form {
            case .fused: blocked(DoubleFusedKernel.self)
            case .separate: blocked(DoubleSeparateKernel.self)
            case .avx2: blocked(DoubleAVX2Kernel.self)
            case .avx512: blocked(DoubleAVX512Kernel.self)
            case .avx512OnAVX2: blocked(DoubleAVX512OnAVX2Kernel.self)
            }
        } else {
            GemmSmall.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                               a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
        }
    }

    /// Which system BLAS to use, if any. Setting it takes effect from the next call; the
    /// library is loaded then. Starts from the `BACKPROP_BLAS` environment variable.
    ///
    ///     Gemm.blas = .off            // force the Swift kernels
    ///     Gemm.blas = .automatic      // OpenBLAS / libblas / Accelerate when installed
    public static var blas: BLASPreference {
        get { BLASSettings.shared.preference }
        set { BLASSettings.shared.preference = newValue }
    }

    /// What runs the next large call: `"swift"`, `"openblas"`, or the library name or path.
    public static var backendName: String {
        BLASSettings.shared.active?.name ?? "swift"
    }

    /// Reinterprets a buffer of `T` as the concrete scalar type it is known to be.
    @inline(__always)
    private static func rebound<T, U>(_ p: UnsafePointer<T>) -> UnsafePointer<U> {
        UnsafeRawPointer(p).assumingMemoryBound(to: U.self)
    }

    @inline(__always)
    private static func rebound<T, U>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<U> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: U.self)
    }

    /// Hands C (+)= α·op(A)·op(B) to the system BLAS; false when it cannot take it (sizes beyond Int32).
    private static func callBLAS<T: TensorScalar>(
        _ blas: SystemBLAS, threads: Int, alpha: T, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
    ) -> Bool {
        let limit = Int(Int32.max)
        guard m <= limit, n <= limit, k <= limit, lda <= limit, ldb <= limit, ldc <= limit else {
            return false
        }
        blas.useThreads(threads)
        // C is cleared here and the library accumulates (β = 1): with β = 0 OpenBLAS first runs
        // its own clearing pass over C, slower than memset (5 % of an MLP step).
        if !accumulate {
            if ldc == n { c.update(repeating: 0, count: m * n) } else { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        }
        let ta = transposeA ? SystemBLAS.trans : SystemBLAS.noTrans
        let tb = transposeB ? SystemBLAS.trans : SystemBLAS.noTrans
        if T.self == Float.self {
            blas.sgemm(SystemBLAS.rowMajor, ta, tb, Int32(m), Int32(n), Int32(k), unsafeBitCast(alpha, to: Float.self),
                       rebound(a), Int32(lda), rebound(b), Int32(ldb),
                       1, rebound(c), Int32(ldc))
            return true
        } else if T.self == Double.self {
            blas.dgemm(SystemBLAS.rowMajor, ta, tb, Int32(m), Int32(n), Int32(k), unsafeBitCast(alpha, to: Double.self),
                       rebound(a), Int32(lda), rebound(b), Int32(ldb),
                       1, rebound(c), Int32(ldc))
            return true
        }
        return false
    }
}
