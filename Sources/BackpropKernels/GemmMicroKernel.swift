/// A register-blocked GEMM micro-kernel: one `mr`×`nr` tile of C from packed panels.
///
/// The packed A micro-panel holds `kc` columns of `mr` values (`a[p·mr + r] = op(A)[r, p]`),
/// the packed B micro-panel `kc` rows of `nr` values (`b[p·nr + j] = op(B)[p, j]`). The kernel
/// forms `acc[r, j] = Σ_p a[p·mr + r]·b[p·nr + j]` in registers, in increasing `p`, then writes
/// `c[r·ldc + j] = acc` or, when `accumulate`, `c[r·ldc + j] += acc`.
///
/// Every entry of C is summed in the same order whatever tile, thread or edge it falls in,
/// which is what makes the multi-threaded result bitwise equal to the single-threaded one.
package protocol GemmMicroKernel {
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

    /// Packs rows `0..<rows` and depth `0..<depth` of op(A) into micro-panels of `mr` rows
    /// (`GemmPacking.packA`'s layout).
    static func packA(transposed: Bool, rows: Int, depth: Int, a: UnsafePointer<Scalar>, lda: Int,
                      into dst: UnsafeMutablePointer<Scalar>)

    /// Packs depth `0..<depth` and columns `0..<cols` of op(B) into micro-panels of `nr`
    /// columns (`GemmPacking.packB`'s layout).
    static func packB(transposed: Bool, depth: Int, cols: Int, b: UnsafePointer<Scalar>, ldb: Int,
                      into dst: UnsafeMutablePointer<Scalar>)
}

extension GemmMicroKernel {
    package static var rowPanelsOuter: Bool { false }

    /// The Swift packing.
    @inline(__always)
    package static func packA(transposed: Bool, rows: Int, depth: Int, a: UnsafePointer<Scalar>, lda: Int,
                      into dst: UnsafeMutablePointer<Scalar>) {
        GemmPacking.packA(transposed: transposed, rows: rows, depth: depth, mr: mr, a: a, lda: lda, into: dst)
    }

    /// The Swift packing.
    @inline(__always)
    package static func packB(transposed: Bool, depth: Int, cols: Int, b: UnsafePointer<Scalar>, ldb: Int,
                      into dst: UnsafeMutablePointer<Scalar>) {
        GemmPacking.packB(transposed: transposed, depth: depth, cols: cols, nr: nr, b: b, ldb: ldb, into: dst)
    }
}

/// Which micro-kernel family the blocked GEMM uses.
///
/// Chosen from the instruction set in use (`KernelISA.active`), never by timing. Within one
/// scalar type the fused forms (`fused`, `avx2`, `avx512`) give the same result bit for bit:
/// each C entry is the same chain of fused multiply-adds, in the same K blocks (KC depends on
/// the scalar type only). `separate` rounds twice per step (a multiply, then an add), so its
/// results differ from theirs in the last bits. None depends on the thread count.
package enum GemmKernelForm: Sendable, CaseIterable {
    /// Swift `addingProduct`: FloatFusedKernel 4×24, DoubleFusedKernel 6×8. One instruction
    /// per vector where the build targets FMA (ARM64, or x86-64 built for Haswell and later);
    /// in a baseline x86-64 build a libm call per lane, some 50× slower.
    case fused
    /// Swift `*` then `+` on 128-bit vectors (SSE2): FloatSeparateKernel 6×8,
    /// DoubleSeparateKernel 6×4. The baseline x86-64 kernels.
    case separate
    /// The C target's AVX2 kernels: Float 4×24, Double 6×8.
    case avx2
    /// The C target's AVX-512 kernels: Float 8×48, Double 8×24.
    case avx512
    /// The AVX-512 kernels' code compiled for AVX2 (tests only).
    case avx512OnAVX2

    /// The form for the instruction set in use.
    package static let preferred: GemmKernelForm = form(for: .active)

    /// The form for a kernel variant: FMA in registers where the variant has it.
    package static func form(for variant: KernelVariant) -> GemmKernelForm {
        switch variant {
        case .baseline:
            #if arch(arm64)
            return .fused   // FMA is part of the baseline ARMv8 instruction set.
            #else
            return .separate
            #endif
        case .avx2: return .avx2
        case .avx512: return .avx512
        case .avx512OnAVX2: return .avx512OnAVX2
        }
    }

    /// Whether this machine can run the form (the Swift forms always can).
    package var isRunnable: Bool {
        switch self {
        case .fused, .separate: return true
        case .avx2, .avx512OnAVX2: return KernelISA.supported >= .avx2
        case .avx512: return KernelISA.supported >= .avx512
        }
    }
}
