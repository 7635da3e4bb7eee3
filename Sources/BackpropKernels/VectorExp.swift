/// e^x for eight Floats at once, for the softmax family's rows.
///
/// Cody–Waite range reduction x = n·ln 2 + r with |r| ≤ ½ln 2 (ln 2 split in a short head,
/// exact in n·head, and a tail), a degree-7 polynomial for e^r (Cephes `expf`, relative error
/// ≈ 1 ulp over the reduced range), and 2ⁿ built in the exponent bits. Only `*`, `+`, `-` and
/// bit operations: no libm call; FMA only where `fusedIsFast` (a baseline x86-64 build vectorises
/// the unfused form).
///
/// Range: results for x ≤ −87.3 flush to 0 (no subnormals); x > 88 gives +∞ (e^88 ≈ 1.7e38, so
/// only the last 0.7 before overflow is lost); NaN gives NaN. The softmax rows only ever pass
/// x − max x ≤ 0, where none of these limits matter.
package enum VectorExp {
    package typealias V = SIMD8<Float>

    @inline(__always)
    package static func exp(_ x: V) -> V {
        let upper = V(repeating: 88)
        var result = expNonPositive(x.replacing(with: upper, where: x .> upper))
        result.replace(with: .infinity, where: x .> upper)
        return result
    }

    /// Whether `fused: true` is the fast form for the Swift kernels: on ARM64, where FMA is
    /// baseline. (On x86-64 the Swift kernels are the baseline variant, without FMA; the AVX2 and
    /// AVX-512 variants run the C target's exponential, which is this one's fused form.)
    package static let fusedIsFast: Bool = GemmKernelForm.form(for: .baseline) == .fused

    /// a·b + c, as one fused multiply-add (one rounding) or a multiply then an add.
    @inline(__always)
    package static func multiplyAdd(_ a: V, _ b: V, _ c: V, fused: Bool) -> V {
        fused ? c.addingProduct(a, b) : a * b + c
    }

    /// e^x for x ≤ 88 (or NaN): the softmax rows' case, x − max x ≤ 0, without the overflow checks.
    @inline(__always)
    package static func expNonPositive(_ x: V) -> V { expNonPositive(x, fused: false) }

    /// `expNonPositive`, with its polynomial and range reduction in fused multiply-adds when
    /// `fused` (only fast when `fusedIsFast`; the result may differ from the unfused form in the
    /// last bit).
    @inline(__always)
    package static func expNonPositive(_ x: V, fused: Bool) -> V {
        let lower = V(repeating: -87.3)
        // (Comparisons and `replacing`, not `pointwiseMin`/`pointwiseMax`: those stay generic calls.)
        // NaN passes the clamp and every step after it, so it comes out NaN.
        let xc = x.replacing(with: lower, where: x .< lower)
        // Adding 1.5·2²³ rounds x·log₂e to the nearest integer n, held in the low mantissa bits.
        let magic = V(repeating: 12_582_912)
        let t = multiplyAdd(xc, V(repeating: 1.442_695_040_888_963_4), magic, fused: fused)
        let n = t - magic
        let r = multiplyAdd(n, V(repeating: 2.121_944_4e-4),
                            multiplyAdd(n, V(repeating: -0.693_359_375), xc, fused: fused), fused: fused)
        var p = V(repeating: 1.987_569_150_0e-4)
        p = multiplyAdd(p, r, V(repeating: 1.398_199_950_7e-3), fused: fused)
        p = multiplyAdd(p, r, V(repeating: 8.333_451_907_3e-3), fused: fused)
        p = multiplyAdd(p, r, V(repeating: 4.166_579_589_4e-2), fused: fused)
        p = multiplyAdd(p, r, V(repeating: 1.666_666_545_9e-1), fused: fused)
        p = multiplyAdd(p, r, V(repeating: 5.000_000_120_1e-1), fused: fused)
        p = multiplyAdd(p, r * r, r, fused: fused) + V(repeating: 1)
        // 2ⁿ: n + 127 in the exponent field (n ∈ [−126, 127] after the clamp).
        let nBits = unsafeBitCast(t, to: SIMD8<UInt32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: V.self)
        return (p * scale).replacing(with: 0, where: x .< lower)
    }
}
