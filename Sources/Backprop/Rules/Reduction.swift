import BackpropKernels

// Reductions along an axis. Axes may be negative (counted from the end).

extension Tensor {
    func normalizedAxis(_ axis: Int, _ op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        require(a >= 0 && a < rank, "\(op): axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// Σ along `axis`. With `keepingDimension` the axis stays with extent 1.
    /// VJP: g broadcast back along the axis. JVP: the same sum of ẋ.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "sum")
        var kept = shape
        kept[a] = 1
        let outShape = keepingDimension ? kept : Array(shape[..<a] + shape[(a + 1)...])
        let source = shape
        let value = Tensor(shape: outShape, scalars: ReductionKernels.sum(scalars, shape: shape, axis: a))
        return Tensor.recorded("sum", value: value, inputs: [self],
                               pullback: { [$0.cotangent.reshaped(kept).broadcast(to: source)] },
                               differential: { t, _ in t[0].map { $0.sum(alongAxis: a, keepingDimension: keepingDimension) } },
                               batchedPullback: { p in [p.cotangent.reshaped([p.batchCount] + kept).broadcast(to: [p.batchCount] + source)] })
    }

    /// Σ of every element, a rank-0 tensor. VJP: g broadcast to the input shape. JVP: Σ ẋ.
    public func sum() -> Tensor {
        sum(toShape: [])
    }

    /// Mean along `axis`: the sum divided by the axis extent.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "mean")
        return sum(alongAxis: a, keepingDimension: keepingDimension) / Scalar(shape[a])
    }

    /// Mean of every element, a rank-0 tensor.
    public func mean() -> Tensor {
        require(count > 0, "mean: empty tensor of shape \(shape)")
        return sum() / Scalar(count)
    }

    /// Maximum along `axis`. The derivative flows to the first maximal entry of each slice
    /// (a subgradient; PyTorch's `amax` splits ties evenly instead).
    /// VJP: g placed at the arg-max positions. JVP: ẋ read at the arg-max positions.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "max")
        require(shape[a] > 0, "max: empty axis \(axis) in shape \(shape)")
        var kept = shape
        kept[a] = 1
        let outShape = keepingDimension ? kept : Array(shape[..<a] + shape[(a + 1)...])
        let (values, indices) = ReductionKernels.max(scalars, shape: shape, axis: a)
        // A constant 0/1 mask of the chosen entries.
        let inner = shape[(a + 1)...].reduce(1, *), length = shape[a]
        var maskValues = [Scalar](repeating: 0, count: count)
        for (r, index) in indices.enumerated() {
            let o = r / inner, i = r % inner
            maskValues[(o * length + index) * inner + i] = 1
        }
        let mask = Tensor(shape: shape, scalars: maskValues)
        let source = shape
        return Tensor.recorded("max", value: Tensor(shape: outShape, scalars: values), inputs: [self],
                               pullback: { [$0.cotangent.reshaped(kept).broadcast(to: source) * mask] },
                               differential: { t, _ in t[0].map { ($0 * mask).sum(alongAxis: a, keepingDimension: keepingDimension) } },
                               batchedPullback: { p in [p.cotangent.reshaped([p.batchCount] + kept).broadcast(to: [p.batchCount] + source) * mask] })
    }

    /// The index of the largest entry of each row of a matrix (a constant).
    public func argmaxRows() -> [Int] {
        require(rank == 2, "argmaxRows: expects a matrix, got shape \(shape)")
        return ReductionKernels.max(scalars, shape: shape, axis: 1).indices
    }
}
