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

    static func tile(
        kc: Int, a: UnsafePointer<Scalar>, b: UnsafePointer<Scalar>,
        c: UnsafeMutablePointer<Scalar>, ldc: Int, accumulate: Bool
    )
}

// The multiply-add is written `x * y + z`, not `z.addingProduct(x, y)`: Swift cannot test for
// FMA at compile time, and in a baseline x86-64 build `addingProduct` on a SIMD vector becomes a
// libm `fmaf` call per lane (~50× slower). `*` and `+` compile to vector mul/add in every build;
// Zen 2 has two FP multiply and two FP add pipes, so the pair issues as fast as an FMA would.
// See docs/performance-gemm-notes.md for the measurements behind this choice.

/// Float, 4×24 tile in twelve SIMD8 accumulators (+3 B vectors + 1 broadcast = 16 ymm registers).
enum FloatKernel4x24: GemmMicroKernel {
    typealias Scalar = Float
    static var mr: Int { 4 }
    static var nr: Int { 24 }
    static var mc: Int { 144 }
    static var kc: Int { 256 }
    static var nc: Int { 3072 }

    @inline(__always)
    static func tile(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c02 = V()
        var c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V()
        var c30 = V(), c31 = V(), c32 = V()
        var pa = a
        var pb = UnsafeRawPointer(b)
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
            let b2 = pb.loadUnaligned(fromByteOffset: 64, as: V.self)
            let a0 = V(repeating: pa[0])
            c00 = a0 * b0 + c00; c01 = a0 * b1 + c01; c02 = a0 * b2 + c02
            let a1 = V(repeating: pa[1])
            c10 = a1 * b0 + c10; c11 = a1 * b1 + c11; c12 = a1 * b2 + c12
            let a2 = V(repeating: pa[2])
            c20 = a2 * b0 + c20; c21 = a2 * b1 + c21; c22 = a2 * b2 + c22
            let a3 = V(repeating: pa[3])
            c30 = a3 * b0 + c30; c31 = a3 * b1 + c31; c32 = a3 * b2 + c32
            pa += 4
            pb += 96
        }
        store(c00, c01, c02, to: c, accumulate: accumulate)
        store(c10, c11, c12, to: c + ldc, accumulate: accumulate)
        store(c20, c21, c22, to: c + 2 * ldc, accumulate: accumulate)
        store(c30, c31, c32, to: c + 3 * ldc, accumulate: accumulate)
    }

    @inline(__always)
    private static func store(_ x0: SIMD8<Float>, _ x1: SIMD8<Float>, _ x2: SIMD8<Float>,
                              to row: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let p = UnsafeMutableRawPointer(row)
        var y0 = x0, y1 = x1, y2 = x2
        if accumulate {
            y0 = p.loadUnaligned(as: SIMD8<Float>.self) + y0
            y1 = p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) + y1
            y2 = p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self) + y2
        }
        p.storeBytes(of: y0, as: SIMD8<Float>.self)
        p.storeBytes(of: y1, toByteOffset: 32, as: SIMD8<Float>.self)
        p.storeBytes(of: y2, toByteOffset: 64, as: SIMD8<Float>.self)
    }
}

/// Double, 4×12 tile in twelve SIMD4 accumulators: the Float kernel with half-width vectors.
enum DoubleKernel4x12: GemmMicroKernel {
    typealias Scalar = Double
    static var mr: Int { 4 }
    static var nr: Int { 12 }
    static var mc: Int { 96 }
    static var kc: Int { 256 }
    static var nc: Int { 2052 }

    @inline(__always)
    static func tile(
        kc: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
        c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool
    ) {
        typealias V = SIMD4<Double>
        var c00 = V(), c01 = V(), c02 = V()
        var c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V()
        var c30 = V(), c31 = V(), c32 = V()
        var pa = a
        var pb = UnsafeRawPointer(b)
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
            let b2 = pb.loadUnaligned(fromByteOffset: 64, as: V.self)
            let a0 = V(repeating: pa[0])
            c00 = a0 * b0 + c00; c01 = a0 * b1 + c01; c02 = a0 * b2 + c02
            let a1 = V(repeating: pa[1])
            c10 = a1 * b0 + c10; c11 = a1 * b1 + c11; c12 = a1 * b2 + c12
            let a2 = V(repeating: pa[2])
            c20 = a2 * b0 + c20; c21 = a2 * b1 + c21; c22 = a2 * b2 + c22
            let a3 = V(repeating: pa[3])
            c30 = a3 * b0 + c30; c31 = a3 * b1 + c31; c32 = a3 * b2 + c32
            pa += 4
            pb += 96
        }
        store(c00, c01, c02, to: c, accumulate: accumulate)
        store(c10, c11, c12, to: c + ldc, accumulate: accumulate)
        store(c20, c21, c22, to: c + 2 * ldc, accumulate: accumulate)
        store(c30, c31, c32, to: c + 3 * ldc, accumulate: accumulate)
    }

    @inline(__always)
    private static func store(_ x0: SIMD4<Double>, _ x1: SIMD4<Double>, _ x2: SIMD4<Double>,
                              to row: UnsafeMutablePointer<Double>, accumulate: Bool) {
        let p = UnsafeMutableRawPointer(row)
        var y0 = x0, y1 = x1, y2 = x2
        if accumulate {
            y0 = p.loadUnaligned(as: SIMD4<Double>.self) + y0
            y1 = p.loadUnaligned(fromByteOffset: 32, as: SIMD4<Double>.self) + y1
            y2 = p.loadUnaligned(fromByteOffset: 64, as: SIMD4<Double>.self) + y2
        }
        p.storeBytes(of: y0, as: SIMD4<Double>.self)
        p.storeBytes(of: y1, toByteOffset: 32, as: SIMD4<Double>.self)
        p.storeBytes(of: y2, toByteOffset: 64, as: SIMD4<Double>.self)
    }
}
