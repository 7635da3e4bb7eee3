import CBackpropKernels

// The C target's micro-kernels (CBackpropKernels/gemm.c), compiled for AVX2 and AVX-512 by
// per-function target attributes and called once per tile (a tile is 18–73 thousand
// multiply-adds at KC = 384, so the call costs nothing measurable). Their blocking follows the
// Swift FMA kernel's (FloatFusedKernel): the A micro-panel stays in L1 while the tile walks the
// B micro-panels, and each C entry is loaded and stored once per K block. KC is the same for
// every Float kernel (384) and for every Double kernel (256), so all fused forms agree bit for bit.

/// Float 4×24, AVX2: twelve 8-lane accumulators (the loop is in assembly: see gemm.c).
enum FloatAVX2Kernel: GemmMicroKernel {
    typealias Scalar = Float
    static var mr: Int { 4 }
    static var nr: Int { 24 }
    static var mc: Int { 96 }
    static var kc: Int { 384 }
    static var nc: Int { 3072 }
    static var rowPanelsOuter: Bool { true }

    @inline(__always)
    static func tile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        backprop_sgemm_tile_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// Double 6×8, AVX2: twelve 4-lane accumulators.
enum DoubleAVX2Kernel: GemmMicroKernel {
    typealias Scalar = Double
    static var mr: Int { 6 }
    static var nr: Int { 8 }
    static var mc: Int { 96 }
    static var kc: Int { 256 }
    static var nc: Int { 2048 }

    @inline(__always)
    static func tile(kc: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
                     c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        backprop_dgemm_tile_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// Float 8×48, AVX-512: twenty-four 16-lane accumulators of the 32 registers; the A
/// micro-panel (12 KiB at KC = 384) stays in L1.
enum FloatAVX512Kernel: GemmMicroKernel {
    typealias Scalar = Float
    static var mr: Int { 8 }
    static var nr: Int { 48 }
    static var mc: Int { 96 }
    static var kc: Int { 384 }
    static var nc: Int { 3072 }
    static var rowPanelsOuter: Bool { true }

    @inline(__always)
    static func tile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        backprop_sgemm_tile_avx512(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// Double 8×24, AVX-512: twenty-four 8-lane accumulators.
enum DoubleAVX512Kernel: GemmMicroKernel {
    typealias Scalar = Double
    static var mr: Int { 8 }
    static var nr: Int { 24 }
    static var mc: Int { 96 }
    static var kc: Int { 256 }
    static var nc: Int { 2048 }
    static var rowPanelsOuter: Bool { true }

    @inline(__always)
    static func tile(kc: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
                     c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        backprop_dgemm_tile_avx512(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// FloatAVX512Kernel's shape and code, compiled for AVX2 (tests only).
enum FloatAVX512OnAVX2Kernel: GemmMicroKernel {
    typealias Scalar = Float
    static var mr: Int { FloatAVX512Kernel.mr }
    static var nr: Int { FloatAVX512Kernel.nr }
    static var mc: Int { FloatAVX512Kernel.mc }
    static var kc: Int { FloatAVX512Kernel.kc }
    static var nc: Int { FloatAVX512Kernel.nc }
    static var rowPanelsOuter: Bool { FloatAVX512Kernel.rowPanelsOuter }

    static func tile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        backprop_sgemm_tile_avx512_on_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}

/// DoubleAVX512Kernel's shape and code, compiled for AVX2 (tests only).
enum DoubleAVX512OnAVX2Kernel: GemmMicroKernel {
    typealias Scalar = Double
    static var mr: Int { DoubleAVX512Kernel.mr }
    static var nr: Int { DoubleAVX512Kernel.nr }
    static var mc: Int { DoubleAVX512Kernel.mc }
    static var kc: Int { DoubleAVX512Kernel.kc }
    static var nc: Int { DoubleAVX512Kernel.nc }
    static var rowPanelsOuter: Bool { DoubleAVX512Kernel.rowPanelsOuter }

    static func tile(kc: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
                     c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        backprop_dgemm_tile_avx512_on_avx2(kc, a, b, c, ldc, accumulate ? 1 : 0)
    }
}
