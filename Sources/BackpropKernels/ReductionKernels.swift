/// Reductions along one axis, seeing the tensor as [outer, axis, inner].
///
/// Each result is reduced along the axis in order, one element after another, except a Float
/// sum along the last axis, which adds sixteen partial sums (`sumRow`) the same way in every
/// variant. Float sums run on the C target's AVX2 or AVX-512 kernels where the instruction set in
/// use has them (`variant`), with the same operations in the same order as the Swift loops. Large reductions split their outer blocks over the threads, which
/// changes no result; along the last axis (inner = 1) the running value stays in a register
/// rather than in the output array.
package enum ReductionKernels {
    /// Below this many input elements a reduction stays on one thread (as the elementwise kernels).
    package static var parallelThreshold: Int { ElementwiseKernels.parallelThreshold }

    /// Runs `body(outerRange)` over `0..<outer`, one range per thread when the input is large.
    /// (Ranges of the inner index were measured slower than one thread: the threads then share
    /// every row's memory traffic.)
    @inline(__always)
    package static func forEachOuterRange(_ outer: Int, inputCount: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        forEachRange(outer, threads: inputCount >= parallelThreshold ? threads : 1, threshold: 2, body)
    }

    /// Sums over `axis` of a tensor of `shape`; the result has the axis removed.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func sum<T: TensorScalar>(_ x: [T], shape: [Int], axis: Int, threads: Int = kernelThreadCount,
                                     variant: KernelVariant = .active) -> [T] {
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var out = [T](repeating: 0, count: outer * inner)
        let table = KernelVariant.floatTable(T.self, variant)
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                guard let xp = px.baseAddress, let op = po.baseAddress else { return }
                forEachOuterRange(outer, inputCount: x.count, threads: threads) { outers in
                    if let table {
                        let xf = RowKernels.float(xp), of = RowKernels.float(op)
                        if inner == 1 {
                            table.sum_rows!(xf + outers.lowerBound * length, of + outers.lowerBound, outers.count, length)
                        } else {
                            for o in outers { table.sum_columns!(xf + o * length * inner, of + o * inner, length, inner) }
                        }
                        return
                    }
                    for o in outers {
                        if inner == 1 && T.self == Float.self {
                            RowKernels.float(op)[o] = sumRow(RowKernels.float(xp + o * length), length)
                            continue
                        }
                        if inner == 1 {
                            let src = xp + o * length
                            var total: T = 0
                            for a in 0..<length { total += src[a] }
                            op[o] = total
                            continue
                        }
                        let dst = op + o * inner
                        for a in 0..<length {
                            let src = xp + (o * length + a) * inner
                            for i in 0..<inner { dst[i] += src[i] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Σ of a Float row in sixteen partial sums (element j into lane j mod 16: blocks of 32 into
    /// two sets, a last whole block of 16 into the first, the zero-padded rest into the second),
    /// the two sets added lane by lane, then the lanes by halving. The C kernels' `sum_rows`
    /// does the same operations in the same order, so every variant gives the same sums.
    @inline(__always)
    package static func sumRow(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        typealias V = SIMD16<Float>
        let raw = UnsafeRawPointer(x)
        var s0 = V(), s1 = V()
        var i = 0
        while i &+ 32 <= n {
            s0 += raw.loadUnaligned(fromByteOffset: i &* 4, as: V.self)
            s1 += raw.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: V.self)
            i &+= 32
        }
        if i &+ 16 <= n {
            s0 += raw.loadUnaligned(fromByteOffset: i &* 4, as: V.self)
            i &+= 16
        }
        if i < n {
            var rest = V()
            for l in 0..<(n &- i) { rest[l] = x[i &+ l] }
            s1 += rest
        }
        let s = s0 + s1
        let h = s.lowHalf + s.highHalf
        let q = h.lowHalf + h.highHalf
        return (q[0] + q[2]) + (q[1] + q[3])
    }

    /// Maximum over `axis` and, for each result, the index along the axis of its first occurrence.
    /// A NaN anywhere along the axis makes that maximum NaN.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func max<T: TensorScalar>(_ x: [T], shape: [Int], axis: Int, threads: Int = kernelThreadCount) -> (values: [T], indices: [Int]) {
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var values = [T](repeating: -.infinity, count: outer * inner)
        var indices = [Int](repeating: 0, count: outer * inner)
        x.withUnsafeBufferPointer { px in
            values.withUnsafeMutableBufferPointer { pv in
                indices.withUnsafeMutableBufferPointer { pi in
                    guard let xp = px.baseAddress, let vp = pv.baseAddress, let ip = pi.baseAddress else { return }
                    forEachOuterRange(outer, inputCount: x.count, threads: threads) { outers in
                        for o in outers {
                            if inner == 1 {
                                var best = vp[o], at = 0
                                for a in 0..<length {
                                    let v = xp[o * length + a]
                                    if v > best || (v.isNaN && !best.isNaN) { best = v; at = a }
                                }
                                vp[o] = best; ip[o] = at
                                continue
                            }
                            var vectorized = 0
                            if T.self == Float.self && length <= Int(Int32.max) {
                                vectorized = maxAlongMiddle(RowKernels.float(xp + o * length * inner), length: length, inner: inner,
                                                            values: RowKernels.float(vp + o * inner), indices: ip + o * inner)
                            }
                            for a in 0..<length {
                                for i in vectorized..<inner {
                                    let v = xp[(o * length + a) * inner + i]
                                    let r = o * inner + i
                                    if v > vp[r] || (v.isNaN && !vp[r].isNaN) { vp[r] = v; ip[r] = a }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (values, indices)
    }

    /// The Float maxima of one outer block along a middle axis (x is [length, inner]), eight inner
    /// positions at a time, row after row as x is stored: the same comparisons in the same order
    /// as the scalar loop (a later entry wins only if greater, or if it is the first NaN), so the
    /// same values and first indices. Positions past the last multiple of eight are left to the
    /// caller; returns how many were done. `values` start at −∞ and `indices` at 0, as the
    /// caller makes them; the running indices are Int32 (length ≤ Int32.max).
    @inline(__always)
    package static func maxAlongMiddle(_ x: UnsafePointer<Float>, length: Int, inner: Int,
                               values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>) -> Int {
        typealias V = SIMD8<Float>
        typealias I = SIMD8<Int32>
        let vectorized = inner & ~7
        guard vectorized > 0 else { return 0 }
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: vectorized) { scratch in
            scratch.initialize(repeating: 0)
            let at = UnsafeMutableRawPointer(scratch.baseAddress!)
            let best = UnsafeMutableRawPointer(values)
            for a in 0..<length {
                let row = UnsafeRawPointer(x + a &* inner)
                let index = I(repeating: Int32(truncatingIfNeeded: a))
                var offset = 0
                while offset < vectorized &* 4 {
                    let v = row.loadUnaligned(fromByteOffset: offset, as: V.self)
                    let b = best.loadUnaligned(fromByteOffset: offset, as: V.self)
                    let take = (v .> b) .| ((v .!= v) .& (b .== b))
                    best.storeBytes(of: b.replacing(with: v, where: take), toByteOffset: offset, as: V.self)
                    let previous = at.loadUnaligned(fromByteOffset: offset, as: I.self)
                    at.storeBytes(of: previous.replacing(with: index, where: take), toByteOffset: offset, as: I.self)
                    offset &+= 32
                }
            }
            for i in 0..<vectorized { indices[i] = Int(scratch[i]) }
            return vectorized
        }
    }

    /// Copies `x` of shape `shape` into the broadcast shape `target`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func broadcast<T: TensorScalar>(_ x: [T], shape: [Int], to target: [Int]) -> [T] {
        let zero = [T(0)]
        return ElementwiseKernels.binary(.add, x, shape, zero, [], shape: target)
    }
}
