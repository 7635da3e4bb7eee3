// Operations that move or copy elements without arithmetic. All are linear, so each VJP is
// the transposed movement and each JVP is the same movement applied to the tangent.

extension Tensor {
    /// The same elements with another shape of equal count. VJP: reshape back. JVP: reshape.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count && newShape.allSatisfy { $0 >= 0 },
                     "reshaped: cannot reshape \(shape) to \(newShape)")
        let oldShape = shape
        return Tensor.recorded("reshape", value: Tensor(shape: newShape, scalars: scalars), inputs: [self],
                               pullback: { [$0.cotangent.reshaped(oldShape)] },
                               differential: { t, _ in t[0].map { $0.reshaped(newShape) } },
                               batchedPullback: { p in [p.cotangent.reshaped([p.batchCount] + oldShape)] })
    }

    /// The matrix transpose of a rank-2 tensor: [m, n] → [n, m]. VJP: transpose. JVP: transpose.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed: expects a matrix, got shape \(shape)")
        let m = shape[0], n = shape[1]
        let value = [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
            scalars.withUnsafeBufferPointer { x in
                for i in 0..<m { for j in 0..<n { out[j * m + i] = x[i * n + j] } }
            }
            initialized = m * n
        }
        return Tensor.recorded("transpose", value: Tensor(shape: [n, m], scalars: value), inputs: [self],
                               pullback: { [$0.cotangent.transposed()] },
                               differential: { t, _ in t[0].map { $0.transposed() } })
    }

    /// Copies to a larger shape by broadcasting. VJP: sum back down to this shape. JVP: broadcast.
    public func broadcast(to target: [Int]) -> Tensor {
        guard Broadcasting.shape(shape, target) == target else {
            preconditionFailure("broadcast: shape \(shape) does not broadcast to \(target)")
        }
        if shape == target { return self }
        let source = shape
        let value = Tensor(shape: target, scalars: ReductionKernels.broadcast(scalars, shape: shape, to: target))
        return Tensor.recorded("broadcast", value: value, inputs: [self],
                               pullback: { [$0.cotangent.sum(toShape: source)] },
                               differential: { t, _ in t[0].map { $0.broadcast(to: target) } },
                               batchedPullback: { p in [p.cotangent.sumBatch(toShape: source)] })
    }

    /// Sums a broadcast tensor down to `target` (the adjoint of `broadcast(to:)`): the engine's
    /// un-broadcasting step. VJP: broadcast back up. JVP: sum down.
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        guard Broadcasting.shape(target, shape) == shape else {
            preconditionFailure("sum(toShape:): shape \(target) does not broadcast to \(shape)")
        }
        let source = shape
        // Sum the leading extra axes, then each axis that was stretched from 1.
        var values = scalars, current = shape
        while current.count > target.count {
            values = ReductionKernels.sum(values, shape: current, axis: 0)
            current.removeFirst()
        }
        for axis in 0..<current.count where target[axis] == 1 && current[axis] != 1 {
            values = ReductionKernels.sum(values, shape: current, axis: axis)
            current[axis] = 1
        }
        return Tensor.recorded("sumToShape", value: Tensor(shape: target, scalars: values), inputs: [self],
                               pullback: { [$0.cotangent.broadcast(to: source)] },
                               differential: { t, _ in t[0].map { $0.sum(toShape: target) } },
                               batchedPullback: { p in
                                   let k = p.batchCount
                                   let padded = [Int](repeating: 1, count: source.count - target.count) + target
                                   return [p.cotangent.reshaped([k] + padded).broadcast(to: [k] + source)]
                               })
    }

    /// Sums a batch of broadcast cotangents, shape [k] + S, down to [k] + `target` (S a shape
    /// that `target` broadcasts to): `sum(toShape:)` applied to each of the k, keeping the batch.
    func sumBatch(toShape target: [Int]) -> Tensor {
        let k = shape[0], inner = shape.count - 1
        precondition(target.count <= inner, "sumBatch: shape \(target) has more axes than \(Array(shape.dropFirst()))")
        let padded = [k] + [Int](repeating: 1, count: inner - target.count) + target
        return sum(toShape: padded).reshaped([k] + target)
    }

    /// Rows `range` of a tensor of rank ≥ 1 (along the first axis). VJP: the cotangent placed
    /// into zeros of the full shape. JVP: the same rows of the tangent.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "rows: range \(range) out of bounds for shape \(shape)")
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        let value = Tensor(shape: newShape, scalars: Array(scalars[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]))
        let fullRows = shape[0]
        return Tensor.recorded("rows", value: value, inputs: [self],
                               pullback: { [$0.cotangent.padded(rowsBefore: range.lowerBound, rowsAfter: fullRows - range.upperBound)] },
                               differential: { t, _ in t[0].map { $0.rows(range) } })
    }

    /// Zero rows added before and after (along the first axis); the adjoint of `rows(_:)`.
    public func padded(rowsBefore: Int, rowsAfter: Int) -> Tensor {
        precondition(rank >= 1 && rowsBefore >= 0 && rowsAfter >= 0, "padded: bad padding for shape \(shape)")
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] += rowsBefore + rowsAfter
        let value = [Scalar](repeating: 0, count: rowsBefore * rowSize) + scalars
            + [Scalar](repeating: 0, count: rowsAfter * rowSize)
        let range = rowsBefore..<(rowsBefore + shape[0])
        return Tensor.recorded("pad", value: Tensor(shape: newShape, scalars: value), inputs: [self],
                               pullback: { [$0.cotangent.rows(range)] },
                               differential: { t, _ in t[0].map { $0.padded(rowsBefore: rowsBefore, rowsAfter: rowsAfter) } })
    }

    /// Stacks tensors of equal trailing shape along the first axis. VJP: each part's rows.
    public static func concatenatingRows(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "concatenatingRows: no tensors")
        let trailing = Array(parts[0].shape.dropFirst())
        for p in parts {
            precondition(p.rank >= 1 && Array(p.shape.dropFirst()) == trailing,
                         "concatenatingRows: shapes \(parts[0].shape) and \(p.shape) differ after the first axis")
        }
        let counts = parts.map { $0.shape[0] }
        let value = Tensor(shape: [counts.reduce(0, +)] + trailing, scalars: parts.flatMap(\.scalars))
        var starts = [0]
        for c in counts { starts.append(starts.last! + c) }
        return recorded("concatenateRows", value: value, inputs: parts,
                        pullback: { p in (0..<parts.count).map { i in p.needs[i] ? p.cotangent.rows(starts[i]..<starts[i + 1]) : nil } },
                        differential: { t, _ in
                            concatenatingRows(zip(t, parts).map { tangent, part in tangent ?? .zeros(part.shape) })
                        })
    }

    /// Rows picked by index (a constant: for batching data, not differentiated).
    public func gatheringRows(_ indices: [Int]) -> Tensor {
        precondition(rank >= 1, "gatheringRows: expects rank ≥ 1, got shape \(shape)")
        let rowSize = shape.dropFirst().reduce(1, *)
        var out = [Scalar]()
        out.reserveCapacity(indices.count * rowSize)
        for i in indices {
            precondition(i >= 0 && i < shape[0], "gatheringRows: index \(i) out of range for shape \(shape)")
            out.append(contentsOf: scalars[(i * rowSize)..<((i + 1) * rowSize)])
        }
        return Tensor(shape: [indices.count] + shape.dropFirst(), scalars: out)
    }

    /// The tensor of `shape` that is 1 at flat index `index` and 0 elsewhere.
    public static func basisVector(_ index: Int, shape: [Int]) -> Tensor {
        var t = zeros(shape)
        t.scalars[index] = 1
        return t
    }

    /// Rows as one-hot vectors: shape [labels.count, classCount].
    public static func oneHot(_ labels: [Int], classCount: Int) -> Tensor {
        var t = zeros([labels.count, classCount])
        for (r, label) in labels.enumerated() {
            precondition(label >= 0 && label < classCount, "oneHot: label \(label) outside 0..<\(classCount)")
            t.scalars[r * classCount + label] = 1
        }
        return t
    }
}
