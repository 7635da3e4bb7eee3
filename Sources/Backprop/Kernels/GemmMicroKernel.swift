import Dispatch

/// A register-blocked GEMM micro-kernel: one `mr`×`nr` tile of C from packed panels.
///
/// The packed A micro-panel holds `kc` columns of `mr` values (`a[p·mr + r] = op(A)[r, p]`),
/// the packed B micro-panel `kc` rows of `nr` values (`b[p·nr + j] = op(B)[p, j]`). The kernel
/// forms `acc[r, j] = Σ_p a[p·mr + r]·b[p·nr + j]` in registers, in increasing `p`, then writes
/// `c[r·ldc + j] = acc` or, when `accumulate`, `c[r·ldc + j] += acc`.
///
/// Every entry of C is summed in the same order whatever tile, thread or edge it falls in,
/// which is what makes the multi-threaded result bitwise equal to the single-threaded one.
protocol GemmMicroKernel {
    associatedtype Scalar: TensorScalar
    /// Rows of the register tile.
    static var mr: Int { get }
    /// Columns of the register tile.
    static var nr: Int { get }
    /// Cache blocking: rows of the packed A block (L2), a multiple of `mr`.
    static var mc: Int { get }
    /// Cache blocking: depth of the packed panels (a B micro-panel, kc×nr, stays in L1).
    static var kc: Int { get }
    /// Cache blocking: columns of the packed B block (L3), a multiple of `nr`.
    static var nc: Int { get }
    /// Loop order inside an MC×KC block: true walks all B micro-panels for each A micro-panel
    /// (the A panel stays in L1, C is swept row panel by row panel), false the BLIS order
    /// (each B micro-panel stays in L1 while the A panels stream from L2).
    static var rowPanelsOuter: Bool { get }

    static func tile(
        kc: Int, a: UnsafePointer<Scalar>, b: UnsafePointer<Scalar>,
        c: UnsafeMutablePointer<Scalar>, ldc: Int, accumulate: Bool
    )
}

extension GemmMicroKernel {
    static var rowPanelsOuter: Bool { false }
}

/// Which micro-kernel family the blocked GEMM uses.
///
/// Swift has no compile-time test for FMA. `addingProduct` compiles to one FMA instruction per
/// vector when the build targets a CPU with FMA (`-target-cpu haswell` or later), but to a libm
/// `fmaf`/`fma` call per lane in a baseline x86-64 build — some 50× slower. `x * y + z` is
/// never slow, but without FMA it needs a product register, so its tile is half as wide.
/// `preferred` times both once per process and keeps the faster. Results differ in the last
/// bits between the two forms (one rounding per step versus two), never between thread counts.
enum GemmKernelForm: Sendable {
    /// `addingProduct`: FloatFusedKernel 4×24, DoubleFusedKernel 6×8.
    case fused
    /// `*` then `+`: FloatSeparateKernel 6×8, DoubleSeparateKernel 6×4.
    case separate

    /// The form for this build, measured on first use (well under a millisecond).
    ///
    /// Fused wins only by a clear margin: where the build has hardware FMA (`-target-cpu
    /// haswell`) it is about twice as fast; without it, `addingProduct` calls the C library and
    /// is several times slower; and in a debug build the two are close, where a plain
    /// comparison would let a busy machine pick either — and with it the last bits of every
    /// product — from one process to the next.
    static let preferred: GemmKernelForm = {
        #if arch(arm64)
        return .fused   // FMA is part of the baseline ARMv8 instruction set.
        #else
        let fused = nanosecondsPerMultiplyAdd(FloatFusedKernel.self)
        let separate = nanosecondsPerMultiplyAdd(FloatSeparateKernel.self)
        return fused < 0.75 * separate ? .fused : .separate
        #endif
    }()

    /// Best-of-five time per multiply-add of one kernel on a small in-cache problem.
    static func nanosecondsPerMultiplyAdd<K: GemmMicroKernel>(_: K.Type) -> Double {
        let depth = 128
        let a = [K.Scalar](repeating: 0.5, count: K.mr * depth)
        let b = [K.Scalar](repeating: 0.25, count: K.nr * depth)
        var c = [K.Scalar](repeating: 0, count: K.mr * K.nr)
        let calls = 16
        var best = Double.infinity
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    for _ in 0..<5 {
                        let start = DispatchTime.now().uptimeNanoseconds
                        for _ in 0..<calls {
                            K.tile(kc: depth, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!,
                                   ldc: K.nr, accumulate: true)
                        }
                        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
                        best = min(best, elapsed / Double(calls * depth * K.mr * K.nr))
                    }
                }
            }
        }
        return best
    }
}
