/// Reductions along one axis, seeing the tensor as [outer, axis, inner].
enum ReductionKernels {
    /// Sums over `axis` of a tensor of `shape`; the result has the axis removed.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func sum<T: TensorScalar>(_ x: [T], shape: [Int], axis: Int) -> [T] {
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var out = [T](repeating: 0, count: outer * inner)
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                for o in 0..<outer {
                    let dst = po.baseAddress! + o * inner
                    for a in 0..<length {
                        let src = px.baseAddress! + (o * length + a) * inner
                        for i in 0..<inner { dst[i] += src[i] }
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
    static func max<T: TensorScalar>(_ x: [T], shape: [Int], axis: Int) -> (values: [T], indices: [Int]) {
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var values = [T](repeating: -.infinity, count: outer * inner)
        var indices = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for a in 0..<length {
                for i in 0..<inner {
                    let v = x[(o * length + a) * inner + i]
                    let r = o * inner + i
                    if v > values[r] || (v.isNaN && !values[r].isNaN) { values[r] = v; indices[r] = a }
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
