import CBackpropKernels

/// Loops over one contiguous row: the building blocks of the softmax family's kernels.
///
/// Each is generic over the scalar and, for `Float`, runs eight lanes at a time with the
/// polynomial `VectorExp`, in fused multiply-adds where those are fast (the scalar tail and
/// `Double` use plain loops and libm's `exp`).
/// Reductions keep eight partial sums, so a Float result may differ from a left-to-right sum
/// in the last bits.
///
/// The loops that run from L1 (a row's second and later passes) can request the next row from
/// memory as they go (`RowPrefetch`), so that a row's arithmetic overlaps the next row's loads
/// instead of alternating with them.
package enum RowKernels {
    package typealias V = SIMD8<Float>

    @inline(__always) package static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) package static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    @inline(__always) package static func float<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    @inline(__always) package static func float<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    /// max_j β·x_j (NaNs may or may not win; callers let them through the exponential).
    @inline(__always)
    package static func maxScaled<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int, _ beta: T) -> T {
        var m = -T.infinity
        var i = 0
        if T.self == Float.self {
            let xf = float(x), b = unsafeBitCast(beta, to: Float.self)
            // Two running maxima: each compare-and-select waits for the one before it in its own
            // chain only (one chain made the row's first pass latency-bound).
            var vm = V(repeating: -.infinity), vm1 = vm
            while i &+ 16 <= n {
                let v = load(xf + i) * b, v1 = load(xf + (i &+ 8)) * b
                vm.replace(with: v, where: v .> vm); vm1.replace(with: v1, where: v1 .> vm1); i &+= 16
            }
            vm.replace(with: vm1, where: vm1 .> vm)
            while i &+ 8 <= n { let v = load(xf + i) * b; vm.replace(with: v, where: v .> vm); i &+= 8 }
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
    package static func expShifted<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>?, _ n: Int,
                                            _ beta: T, _ shift: T, fused: Bool = VectorExp.fusedIsFast) -> T {
        expShifted(x, y, n, beta, shift, fused: fused, prefetch: NoPrefetch())
    }

    /// `expShifted`, requesting the rows `prefetch` names as it goes.
    @inline(__always)
    package static func expShifted<T: TensorScalar, P: RowPrefetch>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>?, _ n: Int,
                                                            _ beta: T, _ shift: T, fused: Bool = VectorExp.fusedIsFast,
                                                            prefetch: P) -> T {
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
                    while i &+ 8 <= n {
                        prefetch.request(i &* 4)
                        let e = VectorExp.expNonPositive(VectorExp.multiplyAdd(load(xf + i), vb, vc, fused: true), fused: true)
                        store(e, yf + i); vs += e; i &+= 8
                    }
                } else if bounded {
                    while i &+ 8 <= n {
                        prefetch.request(i &* 4)
                        let e = VectorExp.expNonPositive(load(xf + i) * b - c); store(e, yf + i); vs += e; i &+= 8
                    }
                } else {
                    while i &+ 8 <= n { let e = VectorExp.exp(load(xf + i) * b - c); store(e, yf + i); vs += e; i &+= 8 }
                }
            } else if bounded && fused {
                let vb = V(repeating: b), vc = V(repeating: -c)
                while i &+ 8 <= n {
                    prefetch.request(i &* 4)
                    vs += VectorExp.expNonPositive(VectorExp.multiplyAdd(load(xf + i), vb, vc, fused: true), fused: true); i &+= 8
                }
            } else if bounded {
                while i &+ 8 <= n { prefetch.request(i &* 4); vs += VectorExp.expNonPositive(load(xf + i) * b - c); i &+= 8 }
            } else {
                while i &+ 8 <= n { vs += VectorExp.exp(load(xf + i) * b - c); i &+= 8 }
            }
            s = unsafeBitCast(vs.sum(), to: T.self)
        }
        while i < n { let e = T.exp(beta * x[i] - shift); y?[i] = e; s += e; i += 1 }
        return s
    }

    /// y_j = a·x_j + b (x and y may be the same row).
    @inline(__always)
    package static func affine<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ a: T, _ b: T) {
        var i = 0
        if T.self == Float.self {
            let xf = float(x), yf = float(y)
            let va = V(repeating: unsafeBitCast(a, to: Float.self)), vb = V(repeating: unsafeBitCast(b, to: Float.self))
            while i &+ 8 <= n { store(load(xf + i) * va + vb, yf + i); i &+= 8 }
        }
        while i < n { y[i] = a * x[i] + b; i += 1 }
    }

    /// Σ_j a_j·b_j.
    @inline(__always)
    package static func dot<T: TensorScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int) -> T {
        var i = 0
        var s: T = 0
        if T.self == Float.self {
            let af = float(a), bf = float(b)
            var v0 = V(), v1 = V()
            while i &+ 16 <= n { v0 += load(af + i) * load(bf + i); v1 += load(af + i + 8) * load(bf + i + 8); i &+= 16 }
            while i &+ 8 <= n { v0 += load(af + i) * load(bf + i); i &+= 8 }
            s = unsafeBitCast((v0 + v1).sum(), to: T.self)
        }
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Σ_j a_j.
    @inline(__always)
    package static func sum<T: TensorScalar>(_ a: UnsafePointer<T>, _ n: Int) -> T {
        var i = 0
        var s: T = 0
        if T.self == Float.self {
            let af = float(a)
            var v = V()
            while i &+ 8 <= n { v += load(af + i); i &+= 8 }
            s = unsafeBitCast(v.sum(), to: T.self)
        }
        while i < n { s += a[i]; i += 1 }
        return s
    }

    /// out_j = β·y_j·(g_j − d): the softmax VJP once d = ⟨g, y⟩ is known. With `stream` (one per
    /// run of consecutive output rows), the Float output goes to memory in non-temporal stores.
    @inline(__always)
    package static func softmaxBackward<T: TensorScalar, P: RowPrefetch>(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
                                                 _ n: Int, _ beta: T, _ d: T,
                                                 prefetch: P, stream: inout StreamedRows?) {
        if T.self == Float.self {
            let vb = V(repeating: unsafeBitCast(beta, to: Float.self)), vd = V(repeating: unsafeBitCast(d, to: Float.self))
            mapRow(float(g), float(y), float(out), n, prefetch: prefetch, stream: &stream) { g, y in vb * y * (g - vd) }
        } else {
            for i in 0..<n { out[i] = beta * y[i] * (g[i] - d) }
        }
    }

    /// out_j = β·(g_j − e^{y_j}·s): the log-softmax VJP once s = Σ g is known (y = log p ≤ 0).
    /// `prefetch` and `stream` as for `softmaxBackward`.
    @inline(__always)
    package static func logSoftmaxBackward<T: TensorScalar, P: RowPrefetch>(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
                                                    _ n: Int, _ beta: T, _ s: T,
                                                    prefetch: P, stream: inout StreamedRows?) {
        if T.self == Float.self {
            let vb = V(repeating: unsafeBitCast(beta, to: Float.self)), vs = V(repeating: unsafeBitCast(s, to: Float.self))
            mapRow(float(g), float(y), float(out), n, prefetch: prefetch, stream: &stream) { g, y in
                vb * (g - VectorExp.expNonPositive(y) * vs)
            }
        } else {
            for i in 0..<n { out[i] = beta * (g[i] - T.exp(y[i]) * s) }
        }
    }

    /// out_j = f(g_j, y_j) over one Float row, eight lanes at a time; the row's ends go through
    /// `f` as partial vectors, so every element gets the same arithmetic wherever the vectors
    /// start. With a `stream`, the row is written in non-temporal stores, which need 32-byte
    /// alignment: a partial vector first brings `out` to it, and completes the partial vector
    /// the previous row of the stream left at its end, so that the two go out as one streaming
    /// store. (An ordinary store into a line that streaming stores also write makes the core
    /// fetch the line and then evict it again: writing each row's ends that way cost the
    /// 4096×1000 VJP 12–25 % in a C model of this loop.)
    @inline(__always)
    package static func mapRow<P: RowPrefetch>(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                       _ n: Int, prefetch: P, stream: inout StreamedRows?, _ f: (V, V) -> V) {
        var i = 0
        if stream != nil {
            let head = Swift.min(n, ((32 &- (Int(bitPattern: out) & 31)) & 31) / MemoryLayout<Float>.stride)
            if head > 0 { stream!.head(f(loadPartial(g, head), loadPartial(y, head)), count: head, at: out) } else { stream!.flush() }
            i = head
            while i &+ 8 <= n { prefetch.request(i &* 4); backprop_stream_store8(out + i, f(load(g + i), load(y + i))); i &+= 8 }
            if i < n { stream!.tail(f(loadPartial(g + i, n - i), loadPartial(y + i, n - i)), count: n - i, at: out + i) }
            return
        }
        while i &+ 8 <= n { prefetch.request(i &* 4); store(f(load(g + i), load(y + i)), out + i); i &+= 8 }
        if i < n { storePartial(f(loadPartial(g + i, n - i), loadPartial(y + i, n - i)), out + i, n - i) }
    }

    /// The first `count` (< 8) Floats at `p` in the low lanes, zeros above.
    @inline(__always)
    package static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> V {
        var v = V()
        for l in 0..<count { v[l] = p[l] }
        return v
    }

    /// Stores the low `count` (< 8) lanes of `v` at `p`.
    @inline(__always)
    package static func storePartial(_ v: V, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        for l in 0..<count { p[l] = v[l] }
    }
}

/// The state of a run of consecutive output rows written with streaming stores (one per thread's
/// chunk of rows): the partial vector a row leaves at its end, kept until the next row's head
/// completes it into one aligned 32-byte store. Call `finish` after the run's last row.
package struct StreamedRows {
    private var lanes = SIMD8<Float>()
    private var count = 0
    private var at: UnsafeMutablePointer<Float>?

    /// A row's first `count` elements (lanes 0..<count of `v`), at `p`: the completion of the
    /// pending tail when they fill its vector, ordinary stores otherwise (a run's first row).
    @inline(__always)
    package mutating func head(_ v: SIMD8<Float>, count headCount: Int, at p: UnsafeMutablePointer<Float>) {
        if let at, count &+ headCount == 8, at + count == p {
            var whole = lanes
            for l in 0..<headCount { whole[count &+ l] = v[l] }
            backprop_stream_store8(at, whole)
            count = 0
            self.at = nil
        } else {
            flush()
            RowKernels.storePartial(v, p, headCount)
        }
    }

    /// A row's last `count` (< 8) elements, lanes 0..<count of `v`, due at `p` (32-byte aligned).
    @inline(__always)
    package mutating func tail(_ v: SIMD8<Float>, count tailCount: Int, at p: UnsafeMutablePointer<Float>) {
        flush()
        lanes = v
        count = tailCount
        at = p
    }

    /// Writes a pending tail with ordinary stores.
    @inline(__always)
    package mutating func flush() {
        if let at { RowKernels.storePartial(lanes, at, count) }
        count = 0
        at = nil
    }

    /// Writes what is pending and orders the run's streaming stores before later stores.
    @inline(__always)
    package mutating func finish() {
        flush()
        backprop_streaming_fence()
    }
}

/// Memory a row kernel asks for while it computes: the next rows to read and to write, each
/// requested a cache line's worth at a time as the kernel's own index advances.
///
/// Software prefetch, because the hardware's stream prefetchers stop at page boundaries and
/// run ahead only while loads miss: a row kernel's later passes hit L1 and would otherwise
/// leave memory idle while they compute.
///
/// One type per pattern the kernels use, and the kernels are generic over it, so each loop is
/// compiled with exactly its prefetch instructions: no per-vector test of which rows are there
/// (three compares and branches per eight Floats cost the softmax forward 2–8 % in paired runs).
package protocol RowPrefetch {
    /// Requests the bytes at `offset` of each row. Kernels call this once per eight Floats, so
    /// each 64-byte line is requested twice; the second request costs one L1 lookup.
    func request(_ offset: Int)
}

/// Nothing to request (a chunk's last row).
package struct NoPrefetch: RowPrefetch {
    @inline(__always) package func request(_ offset: Int) {}
}

/// One row to read and one to write: the softmax forward's next x and y rows.
package struct PrefetchReadWrite: RowPrefetch {
    package var read: UnsafeRawPointer
    package var write: UnsafeMutableRawPointer

    @inline(__always) package func request(_ offset: Int) {
        backprop_prefetch_read(read + offset)
        backprop_prefetch_write(write + offset)
    }
}

/// Two rows to read: a VJP's next cotangent and output rows, when its result is streamed.
package struct PrefetchTwoReads: RowPrefetch {
    package var read: UnsafeRawPointer
    package var secondRead: UnsafeRawPointer

    @inline(__always) package func request(_ offset: Int) {
        backprop_prefetch_read(read + offset)
        backprop_prefetch_read(secondRead + offset)
    }
}

/// Two rows to read and one to write: a VJP's next rows when its result is stored normally.
package struct PrefetchTwoReadsWrite: RowPrefetch {
    package var reads: PrefetchTwoReads
    package var write: UnsafeMutableRawPointer

    @inline(__always) package func request(_ offset: Int) {
        reads.request(offset)
        backprop_prefetch_write(write + offset)
    }
}
