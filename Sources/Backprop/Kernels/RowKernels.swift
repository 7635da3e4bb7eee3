/// Loops over one contiguous row: the building blocks of the softmax family's kernels.
///
/// Each is generic over the scalar and, for `Float`, runs eight lanes at a time with the
/// polynomial `VectorExp`, in fused multiply-adds where those are fast (the scalar tail and
/// `Double` use plain loops and libm's `exp`).
/// Reductions keep eight partial sums, so a Float result may differ from a left-to-right sum
/// in the last bits.
enum RowKernels {
    typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    @inline(__always) static func float<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    @inline(__always) static func float<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    /// max_j β·x_j (NaNs may or may not win; callers let them through the exponential).
    @inline(__always)
    static func maxScaled<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int, _ beta: T) -> T {
        var m = -T.infinity
        var i = 0
        if T.self == Float.self {
            let xf = float(x), b = unsafeBitCast(beta, to: Float.self)
            var vm = V(repeating: -.infinity)
            while i + 8 <= n { let v = load(xf + i) * b; vm.replace(with: v, where: v .> vm); i += 8 }
            // Lanes reduced by hand: `SIMD.max()` stays a generic call (once per row).
            let h = vm.highHalf, l = vm.lowHalf
            let v4 = l.replacing(with: h, where: h .> l)
            let m01 = v4[0] > v4[1] ? v4[0] : v4[1], m23 = v4[2] > v4[3] ? v4[2] : v4[3]
            m = unsafeBitCast(m01 > m23 ? m01 : m23, to: T.self)
        }
        while i < n { let v = beta * x[i]; if v > m || v.isNaN { m = v }; i += 1 }
        return m
    }

    /// y_j = e^{β·x_j − shift} (stored when `y` is given); returns Σ_j of them. `fused` picks the
/// FMA form of the exponential (tests pass it; callers keep the default).
    @inline(__always)
    static func expShifted<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>?, _ n: Int,
                                            _ beta: T, _ shift: T, fused: Bool = VectorExp.fusedIsFast) -> T {
        var i = 0
        var s: T = 0
        if T.self == Float.self {
            let xf = float(x), b = unsafeBitCast(beta, to: Float.self), c = unsafeBitCast(shift, to: Float.self)
            var vs = V()
            // With a finite shift no argument exceeds 0 (x ≤ max), so the overflow checks can go.
            let bounded = shift.isFinite
            if let y {
                let yf = float(y)
                if bounded && fused {
                    let vb = V(repeating: b), vc = V(repeating: -c)
                    while i + 8 <= n {
                        let e = VectorExp.expNonPositive(VectorExp.multiplyAdd(load(xf + i), vb, vc, fused: true), fused: true)
                        store(e, yf + i); vs += e; i += 8
                    }
                } else if bounded {
                    while i + 8 <= n { let e = VectorExp.expNonPositive(load(xf + i) * b - c); store(e, yf + i); vs += e; i += 8 }
                } else {
                    while i + 8 <= n { let e = VectorExp.exp(load(xf + i) * b - c); store(e, yf + i); vs += e; i += 8 }
                }
            } else if bounded && fused {
                let vb = V(repeating: b), vc = V(repeating: -c)
                while i + 8 <= n { vs += VectorExp.expNonPositive(VectorExp.multiplyAdd(load(xf + i), vb, vc, fused: true), fused: true); i += 8 }
            } else if bounded {
                while i + 8 <= n { vs += VectorExp.expNonPositive(load(xf + i) * b - c); i += 8 }
            } else {
                while i + 8 <= n { vs += VectorExp.exp(load(xf + i) * b - c); i += 8 }
            }
            s = unsafeBitCast(vs.sum(), to: T.self)
        }
        while i < n { let e = T.exp(beta * x[i] - shift); y?[i] = e; s += e; i += 1 }
        return s
    }

    /// y_j = a·x_j + b (x and y may be the same row).
    @inline(__always)
    static func affine<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ a: T, _ b: T) {
        var i = 0
        if T.self == Float.self {
            let xf = float(x), yf = float(y)
            let va = V(repeating: unsafeBitCast(a, to: Float.self)), vb = V(repeating: unsafeBitCast(b, to: Float.self))
            while i + 8 <= n { store(load(xf + i) * va + vb, yf + i); i += 8 }
        }
        while i < n { y[i] = a * x[i] + b; i += 1 }
    }

    /// Σ_j a_j·b_j.
    @inline(__always)
    static func dot<T: TensorScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int) -> T {
        var i = 0
        var s: T = 0
        if T.self == Float.self {
            let af = float(a), bf = float(b)
            var v0 = V(), v1 = V()
            while i + 16 <= n { v0 += load(af + i) * load(bf + i); v1 += load(af + i + 8) * load(bf + i + 8); i += 16 }
            while i + 8 <= n { v0 += load(af + i) * load(bf + i); i += 8 }
            s = unsafeBitCast((v0 + v1).sum(), to: T.self)
        }
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Σ_j a_j.
    @inline(__always)
    static func sum<T: TensorScalar>(_ a: UnsafePointer<T>, _ n: Int) -> T {
        var i = 0
        var s: T = 0
        if T.self == Float.self {
            let af = float(a)
            var v = V()
            while i + 8 <= n { v += load(af + i); i += 8 }
            s = unsafeBitCast(v.sum(), to: T.self)
        }
        while i < n { s += a[i]; i += 1 }
        return s
    }

    /// out_j = β·y_j·(g_j − d): the softmax VJP once d = ⟨g, y⟩ is known.
    @inline(__always)
    static func softmaxBackward<T: TensorScalar>(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
                                                 _ n: Int, _ beta: T, _ d: T) {
        var i = 0
        if T.self == Float.self {
            let gf = float(g), yf = float(y), of = float(out)
            let vb = V(repeating: unsafeBitCast(beta, to: Float.self)), vd = V(repeating: unsafeBitCast(d, to: Float.self))
            while i + 8 <= n { store(vb * load(yf + i) * (load(gf + i) - vd), of + i); i += 8 }
        }
        while i < n { out[i] = beta * y[i] * (g[i] - d); i += 1 }
    }

    /// out_j = β·(g_j − e^{y_j}·s): the log-softmax VJP once s = Σ g is known (y = log p ≤ 0).
    @inline(__always)
    static func logSoftmaxBackward<T: TensorScalar>(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
                                                    _ n: Int, _ beta: T, _ s: T) {
        var i = 0
        if T.self == Float.self {
            let gf = float(g), yf = float(y), of = float(out)
            let vb = V(repeating: unsafeBitCast(beta, to: Float.self)), vs = V(repeating: unsafeBitCast(s, to: Float.self))
            while i + 8 <= n { store(vb * (load(gf + i) - VectorExp.expNonPositive(load(yf + i)) * vs), of + i); i += 8 }
        }
        while i < n { out[i] = beta * (g[i] - T.exp(y[i]) * s); i += 1 }
    }
}
