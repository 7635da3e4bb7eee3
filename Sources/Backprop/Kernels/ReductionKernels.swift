/// Reductions along one axis, seeing the tensor as [outer, axis, inner].
///
/// Large reductions split their results over the threads (whole outer blocks when there are
/// enough of them, else ranges of the inner index); each result is still reduced along the axis
/// in order, so it does not depend on the split.
enum ReductionKernels {
    /// Below this many input elements a reduction stays on one thread (as the elementwise kernels).
    static var parallelThreshold: Int { ElementwiseKernels.parallelThreshold }

    /// Runs `body(outerRange, innerRange)` over blocks of the [outer, inner] results that
    /// together cover each once, one block per thread when the input is large.
    @inline(__always)
    static func forEachResultBlock(outer: Int, inner: Int, inputCount: Int, threads: Int,
                                   _ body: (Range<Int>, Range<Int>) -> Void) {
        let parallel = inputCount >= parallelThreshold ? threads : 1
        if outer >= parallel {
            forEachRange(outer, threads: parallel, threshold: 2) { body($0, 0..<inner) }
        } else {
            forEachRange(inner, threads: parallel, threshold: 2) { body(0..<outer, $0) }
        }
    }

    /// Sums over `axis` of a tensor of `shape`; the result has the axis removed.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func sum<T: TensorScalar>(_ x: [T], shape: [Int], axis: Int, threads: Int = threadCount) -> [T] {
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var out = [T](repeating: 0, count: outer * inner)
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                guard let xp = px.baseAddress, let op = po.baseAddress else { return }
                forEachResultBlock(outer: outer, inner: inner, inputCount: x.count, threads: threads) { outers, inners in
                    for o in outers {
                        let dst = op + o * inner
                        for a in 0..<length {
                            let src = xp + (o * length + a) * inner
                            for i in inners { dst[i] += src[i] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Maximum over `axis` and, for each result, the index along the axis of its first occurrence.
    /// A NaN anywhere along the axis makes that maximum NaN.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func max<T: TensorScalar>(_ x: [T], shape: [Int], axis: Int, threads: Int = threadCount) -> (values: [T], indices: [Int]) {
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var values = [T](repeating: -.infinity, count: outer * inner)
        var indices = [Int](repeating: 0, count: outer * inner)
        x.withUnsafeBufferPointer { px in
            values.withUnsafeMutableBufferPointer { pv in
                indices.withUnsafeMutableBufferPointer { pi in
                    guard let xp = px.baseAddress, let vp = pv.baseAddress, let ip = pi.baseAddress else { return }
                    forEachResultBlock(outer: outer, inner: inner, inputCount: x.count, threads: threads) { outers, inners in
                        for o in outers {
                            for a in 0..<length {
                                for i in inners {
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

    /// Copies `x` of shape `shape` into the broadcast shape `target`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func broadcast<T: TensorScalar>(_ x: [T], shape: [Int], to target: [Int]) -> [T] {
        let zero = [T(0)]
        return ElementwiseKernels.binary(.add, x, shape, zero, [], shape: target)
    }
}
