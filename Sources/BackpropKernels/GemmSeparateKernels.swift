// The separate multiply-add micro-kernels: `a * b + c` on 128-bit vectors, for builds without
// FMA (baseline x86-64 has SSE2 only: 16 xmm registers). 6 rows × 2 vectors gives twelve
// accumulators, 2 B vectors, 1 broadcast and 1 product register: all 16, no spills.

/// Float, 6×8 tile in twelve SIMD4 accumulators, multiply then add.
package enum FloatSeparateKernel: GemmMicroKernel {
    package typealias Scalar = Float
    package static var mr: Int { 6 }
    package static var nr: Int { 8 }
    package static var mc: Int { 144 }
    package static var kc: Int { 256 }
    package static var nc: Int { 3072 }

    @inline(__always)
    package static func tile(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        typealias V = SIMD4<Float>
        var c00 = V(), c01 = V()
        var c10 = V(), c11 = V()
        var c20 = V(), c21 = V()
        var c30 = V(), c31 = V()
        var c40 = V(), c41 = V()
        var c50 = V(), c51 = V()
        var pa = a
        var pb = UnsafeRawPointer(b)
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: 16, as: V.self)
            let a0 = V(repeating: pa[0])
            c00 = a0 * b0 + c00; c01 = a0 * b1 + c01
            let a1 = V(repeating: pa[1])
            c10 = a1 * b0 + c10; c11 = a1 * b1 + c11
            let a2 = V(repeating: pa[2])
            c20 = a2 * b0 + c20; c21 = a2 * b1 + c21
            let a3 = V(repeating: pa[3])
            c30 = a3 * b0 + c30; c31 = a3 * b1 + c31
            let a4 = V(repeating: pa[4])
            c40 = a4 * b0 + c40; c41 = a4 * b1 + c41
            let a5 = V(repeating: pa[5])
            c50 = a5 * b0 + c50; c51 = a5 * b1 + c51
            pa += 6
            pb += 32
        }
        storeRow(c00, c01, to: c, accumulate: accumulate)
        storeRow(c10, c11, to: c + ldc, accumulate: accumulate)
        storeRow(c20, c21, to: c + 2 * ldc, accumulate: accumulate)
        storeRow(c30, c31, to: c + 3 * ldc, accumulate: accumulate)
        storeRow(c40, c41, to: c + 4 * ldc, accumulate: accumulate)
        storeRow(c50, c51, to: c + 5 * ldc, accumulate: accumulate)
    }
}

/// Double, 6×4 tile in twelve SIMD2 accumulators, multiply then add.
package enum DoubleSeparateKernel: GemmMicroKernel {
    package typealias Scalar = Double
    package static var mr: Int { 6 }
    package static var nr: Int { 4 }
    package static var mc: Int { 96 }
    package static var kc: Int { 256 }
    package static var nc: Int { 2048 }

    @inline(__always)
    package static func tile(
        kc: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
        c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool
    ) {
        typealias V = SIMD2<Double>
        var c00 = V(), c01 = V()
        var c10 = V(), c11 = V()
        var c20 = V(), c21 = V()
        var c30 = V(), c31 = V()
        var c40 = V(), c41 = V()
        var c50 = V(), c51 = V()
        var pa = a
        var pb = UnsafeRawPointer(b)
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: 16, as: V.self)
            let a0 = V(repeating: pa[0])
            c00 = a0 * b0 + c00; c01 = a0 * b1 + c01
            let a1 = V(repeating: pa[1])
            c10 = a1 * b0 + c10; c11 = a1 * b1 + c11
            let a2 = V(repeating: pa[2])
            c20 = a2 * b0 + c20; c21 = a2 * b1 + c21
            let a3 = V(repeating: pa[3])
            c30 = a3 * b0 + c30; c31 = a3 * b1 + c31
            let a4 = V(repeating: pa[4])
            c40 = a4 * b0 + c40; c41 = a4 * b1 + c41
            let a5 = V(repeating: pa[5])
            c50 = a5 * b0 + c50; c51 = a5 * b1 + c51
            pa += 6
            pb += 32
        }
        storeRow(c00, c01, to: c, accumulate: accumulate)
        storeRow(c10, c11, to: c + ldc, accumulate: accumulate)
        storeRow(c20, c21, to: c + 2 * ldc, accumulate: accumulate)
        storeRow(c30, c31, to: c + 3 * ldc, accumulate: accumulate)
        storeRow(c40, c41, to: c + 4 * ldc, accumulate: accumulate)
        storeRow(c50, c51, to: c + 5 * ldc, accumulate: accumulate)
    }
}

/// Writes (or adds) one tile row held in two vectors.
@inline(__always)
private func storeRow(_ x0: SIMD4<Float>, _ x1: SIMD4<Float>, to row: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let p = UnsafeMutableRawPointer(row)
    var y0 = x0, y1 = x1
    if accumulate {
        y0 = p.loadUnaligned(as: SIMD4<Float>.self) + y0
        y1 = p.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self) + y1
    }
    p.storeBytes(of: y0, as: SIMD4<Float>.self)
    p.storeBytes(of: y1, toByteOffset: 16, as: SIMD4<Float>.self)
}

/// Writes (or adds) one tile row held in two vectors.
@inline(__always)
private func storeRow(_ x0: SIMD2<Double>, _ x1: SIMD2<Double>, to row: UnsafeMutablePointer<Double>, accumulate: Bool) {
    let p = UnsafeMutableRawPointer(row)
    var y0 = x0, y1 = x1
    if accumulate {
        y0 = p.loadUnaligned(as: SIMD2<Double>.self) + y0
        y1 = p.loadUnaligned(fromByteOffset: 16, as: SIMD2<Double>.self) + y1
    }
    p.storeBytes(of: y0, as: SIMD2<Double>.self)
    p.storeBytes(of: y1, toByteOffset: 16, as: SIMD2<Double>.self)
}
