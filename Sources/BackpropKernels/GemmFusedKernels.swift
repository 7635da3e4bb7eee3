// The fused micro-kernels: `addingProduct` on 256-bit vectors, the ARM64 kernels (NEON, where
// FMA is baseline). Fast only when the compiler may emit FMA instructions; in a baseline
// x86-64 build each lane becomes a libm `fma` call, and x86-64 uses the C target's AVX2 and
// AVX-512 kernels (GemmVectorKernels.swift) or the separate kernels instead. Twelve accumulators (Float 4 rows × 3 vectors, Double 6 × 2), which
// with the B vectors and 1 broadcast fill 15–16 of the 16 vector registers (no spills).

/// Float, 4×24 tile in twelve SIMD8 accumulators, fused multiply-add.
///
/// Per step of p: 3 B vectors, 4 broadcasts, 12 FMAs (7 loads per 12 FMAs; the 6×16 tile needs
/// 8). Measured alone on an in-L1 panel on Zen 2: 91 GFLOP/s against 74 for 6×16. Blocking:
/// the A micro-panel (4×384, 6 KiB) stays in L1 while the inner loop walks the B micro-panels
/// (`rowPanelsOuter`), the C rows of a row panel are contiguous for the hardware prefetcher,
/// and each C entry is loaded and stored only ⌈k/384⌉ times.
package enum FloatFusedKernel: GemmMicroKernel {
    package typealias Scalar = Float
    package static var mr: Int { 4 }
    package static var nr: Int { 24 }
    package static var mc: Int { 96 }
    package static var kc: Int { 384 }
    package static var nc: Int { 3072 }
    package static var rowPanelsOuter: Bool { true }

    @inline(__always)
    package static func tile(
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
            c00 = c00.addingProduct(a0, b0); c01 = c01.addingProduct(a0, b1); c02 = c02.addingProduct(a0, b2)
            let a1 = V(repeating: pa[1])
            c10 = c10.addingProduct(a1, b0); c11 = c11.addingProduct(a1, b1); c12 = c12.addingProduct(a1, b2)
            let a2 = V(repeating: pa[2])
            c20 = c20.addingProduct(a2, b0); c21 = c21.addingProduct(a2, b1); c22 = c22.addingProduct(a2, b2)
            let a3 = V(repeating: pa[3])
            c30 = c30.addingProduct(a3, b0); c31 = c31.addingProduct(a3, b1); c32 = c32.addingProduct(a3, b2)
            pa += 4
            pb += 96
        }
        storeRow(c00, c01, c02, to: c, accumulate: accumulate)
        storeRow(c10, c11, c12, to: c + ldc, accumulate: accumulate)
        storeRow(c20, c21, c22, to: c + 2 * ldc, accumulate: accumulate)
        storeRow(c30, c31, c32, to: c + 3 * ldc, accumulate: accumulate)
    }
}

/// Double, 6×8 tile in twelve SIMD4 accumulators, fused multiply-add.
package enum DoubleFusedKernel: GemmMicroKernel {
    package typealias Scalar = Double
    package static var mr: Int { 6 }
    package static var nr: Int { 8 }
    package static var mc: Int { 96 }
    package static var kc: Int { 256 }
    package static var nc: Int { 2048 }

    @inline(__always)
    package static func tile(
        kc: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
        c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool
    ) {
        typealias V = SIMD4<Double>
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
            let b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
            let a0 = V(repeating: pa[0])
            c00 = c00.addingProduct(a0, b0); c01 = c01.addingProduct(a0, b1)
            let a1 = V(repeating: pa[1])
            c10 = c10.addingProduct(a1, b0); c11 = c11.addingProduct(a1, b1)
            let a2 = V(repeating: pa[2])
            c20 = c20.addingProduct(a2, b0); c21 = c21.addingProduct(a2, b1)
            let a3 = V(repeating: pa[3])
            c30 = c30.addingProduct(a3, b0); c31 = c31.addingProduct(a3, b1)
            let a4 = V(repeating: pa[4])
            c40 = c40.addingProduct(a4, b0); c41 = c41.addingProduct(a4, b1)
            let a5 = V(repeating: pa[5])
            c50 = c50.addingProduct(a5, b0); c51 = c51.addingProduct(a5, b1)
            pa += 6
            pb += 64
        }
        storeRow(c00, c01, to: c, accumulate: accumulate)
        storeRow(c10, c11, to: c + ldc, accumulate: accumulate)
        storeRow(c20, c21, to: c + 2 * ldc, accumulate: accumulate)
        storeRow(c30, c31, to: c + 3 * ldc, accumulate: accumulate)
        storeRow(c40, c41, to: c + 4 * ldc, accumulate: accumulate)
        storeRow(c50, c51, to: c + 5 * ldc, accumulate: accumulate)
    }
}

/// Writes (or adds) one tile row held in three vectors.
@inline(__always)
private func storeRow(_ x0: SIMD8<Float>, _ x1: SIMD8<Float>, _ x2: SIMD8<Float>, to row: UnsafeMutablePointer<Float>, accumulate: Bool) {
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

/// Writes (or adds) one tile row held in two vectors.
@inline(__always)
private func storeRow(_ x0: SIMD4<Double>, _ x1: SIMD4<Double>, to row: UnsafeMutablePointer<Double>, accumulate: Bool) {
    let p = UnsafeMutableRawPointer(row)
    var y0 = x0, y1 = x1
    if accumulate {
        y0 = p.loadUnaligned(as: SIMD4<Double>.self) + y0
        y1 = p.loadUnaligned(fromByteOffset: 32, as: SIMD4<Double>.self) + y1
    }
    p.storeBytes(of: y0, as: SIMD4<Double>.self)
    p.storeBytes(of: y1, toByteOffset: 32, as: SIMD4<Double>.self)
}
