import CBackpropKernels

// The C target's micro-kernels (CBackpropKernels/gemm.c), compiled for AVX2 and AVX-512 by
// per-function target attributes and called once per tile (a tile is 18–73 thousand
// multiply-adds at KC = 384, so the call costs nothing measurable). Their blocking follows the
// Swift FMA kernel's (FloatFusedKernel): the A micro-panel stays in L1 while the tile walks the
// B micro-panels, and each C entry is loaded and stored once per K block. KC is the same for
// every Float kernel (384) and for every Double kernel (256), so all fused forms agree bit for bit.
// The Float kernels pack their operands with the C target's AVX2 packing (`FloatVectorPacking`).

/// Float operand packing in AVX2 (CBackpropKernels/pack.c): GemmPacking's layout, moved in
/// 256-bit vectors, with 8×8 (or 4×8) register transposes for operands stored the other way.
package protocol FloatVectorPacking: GemmMicroKernel where Scalar == Float {}

extension FloatVectorPacking {
    @inline(__always)
    package static func packA(transposed: Bool, rows: Int, depth: Int, a: UnsafePointer<Float>, lda: Int,
                      into dst: UnsafeMutablePointer<Float>) {
        // op(A)[i, p] is a[p·lda + i] when transposed: contiguous pieces of mr rows.
        backprop_pack_f32_avx2(transposed ? 1 : 0, rows, depth, mr, a, lda, dst)
    }

    @inline(__always)
    package static func packB(transposed: Bool, depth: Int, cols: Int, b: UnsafePointer<Float>, ldb: Int,
                      into dst: UnsafeMutablePointer<Float>) {
        // op(B)[p, j] is b[p·ldb + j] when not transposed: contiguous pieces of nr columns.
        backprop_pack_f32_avx2(transposed ? 0 : 1, cols, depth, nr, b, ldb, dst)
    }
}

/// Float 4×24, AVX2: twelve 8-lane accumulators (the loop is in assembly: see gemm.c).
package enum FloatAVX2Kernel: FloatVectorPacking {
    package typealias Scalar = Float
    package static var mr: Int { 4 }
    package static var nr: Int { 24 }
    package static var mc: Int { 96 }
    package static var kc: Int { 384 }
    package static var nc: Int { 3072 }
    package static var rowPanelsOuter: Bool { true }

    @inline(__always)
    package static func tile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        backprop_sgemm_tile_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// Double 6×8, AVX2: twelve 4-lane accumulators.
package enum DoubleAVX2Kernel: GemmMicroKernel {
    package typealias Scalar = Double
    package static var mr: Int { 6 }
    package static var nr: Int { 8 }
    package static var mc: Int { 96 }
    package static var kc: Int { 256 }
    package static var nc: Int { 2048 }

    @inline(__always)
    package static func tile(kc: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
                     c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        backprop_dgemm_tile_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// Float 8×48, AVX-512: twenty-four 16-lane accumulators of the 32 registers; the A
/// micro-panel (12 KiB at KC = 384) stays in L1.
package enum FloatAVX512Kernel: FloatVectorPacking {
    package typealias Scalar = Float
    package static var mr: Int { 8 }
    package static var nr: Int { 48 }
    package static var mc: Int { 96 }
    package static var kc: Int { 384 }
    package static var nc: Int { 3072 }
    package static var rowPanelsOuter: Bool { true }

    @inline(__always)
    package static func tile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        backprop_sgemm_tile_avx512(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// Double 8×24, AVX-512: twenty-four 8-lane accumulators.
package enum DoubleAVX512Kernel: GemmMicroKernel {
    package typealias Scalar = Double
    package static var mr: Int { 8 }
    package static var nr: Int { 24 }
    package static var mc: Int { 96 }
    package static var kc: Int { 256 }
    package static var nc: Int { 2048 }
    package static var rowPanelsOuter: Bool { true }

    @inline(__always)
    package static func tile(kc: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
                     c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        backprop_dgemm_tile_avx512(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// FloatAVX512Kernel's shape and code, compiled for AVX2 (tests only).
package enum FloatAVX512OnAVX2Kernel: FloatVectorPacking {
    package typealias Scalar = Float
    package static var mr: Int { FloatAVX512Kernel.mr }
    package static var nr: Int { FloatAVX512Kernel.nr }
    package static var mc: Int { FloatAVX512Kernel.mc }
    package static var kc: Int { FloatAVX512Kernel.kc }
    package static var nc: Int { FloatAVX512Kernel.nc }
    package static var rowPanelsOuter: Bool { FloatAVX512Kernel.rowPanelsOuter }

    package static func tile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        backprop_sgemm_tile_avx512_on_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// DoubleAVX512Kernel's shape and code, compiled for AVX2 (tests only).
package enum DoubleAVX512OnAVX2Kernel: GemmMicroKernel {
    package typealias Scalar = Double
    package static var mr: Int { DoubleAVX512Kernel.mr }
    package static var nr: Int { DoubleAVX512Kernel.nr }
    package static var mc: Int { DoubleAVX512Kernel.mc }
    package static var kc: Int { DoubleAVX512Kernel.kc }
    package static var nc: Int { DoubleAVX512Kernel.nc }
    package static var rowPanelsOuter: Bool { DoubleAVX512Kernel.rowPanelsOuter }

    package static func tile(kc: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
                     c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        backprop_dgemm_tile_avx512_on_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}
