import BackpropKernels

// Operations that move or copy elements without arithmetic. All are linear, so each VJP is
// the transposed movement and each JVP is the same movement applied to the tangent.

extension Tensor {
    /// The same elements with another shape of equal count. VJP: reshape back. JVP: reshape.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        require(newShape.reduce(1, *) == count && newShape.allSatisfy { $0 >= 0 },
                     "reshaped: cannot reshape \(shape) to \(newShape)")
        let oldShape = shape
        return Tensor.recorded("reshape", value: Tensor(shape: newShape, scalars: scalars), inputs: [self],
                               pullback: { [$0.cotangent.reshaped(oldShape)] },
                               differential: { t, _ in t[0].map { $0.reshaped(newShape) } },
                               batchedPullback: { p in [p.cotangent.reshaped([p.batchCount] + oldShape)] })
    }

    /// The matrix transpose of a rank-2 tensor: [m, n] → [n, m]. VJP: transpose. JVP: transpose.
    public func transposed() -> Tensor {
        require(rank == 2, "transposed: expects a matrix, got shape \(shape)")
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
            requirementFailed("broadcast: shape \(shape) does not broadcast to \(target)")
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
            requirementFailed("sum(toShape:): shape \(target) does not broadcast to \(shape)")
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
        require(target.count <= inner, "sumBatch: shape \(target) has more axes than \(Array(shape.dropFirst()))")
        let padded = [k] + [Int](repeating: 1, count: inner - target.count) + target
        return sum(toShape: padded).reshaped([k] + target)
    }

    /// Joins tensors along `axis` (`torch.cat(dim:)`; a negative axis counts from the end).
    ///
    /// The parts x₁, …, xₚ have equal rank and shapes S₁, …, Sₚ that agree on every axis but
    /// `axis`; the result has their shape with extent Σᵢ Sᵢ[axis] on `axis`, and along it part i
    /// occupies the range oᵢ ..< oᵢ₊₁, oᵢ = Σ_{l<i} S_l[axis]:
    ///
    ///     y[…, oᵢ + j, …] = xᵢ[…, j, …]      e.g. [2, 3, 4] and [2, 5, 4] along 1 → [2, 8, 4]
    ///
    /// VJP: x̄ᵢ = ȳ[…, oᵢ ..< oᵢ₊₁, …], each part's slice of the cotangent (batched: the same
    /// slices along axis + 1 of a [k] + shape cotangent). JVP: ẏ = the concatenation of the ẋᵢ
    /// (zeros for a constant part).
    public static func concatenating(_ parts: [Tensor], alongAxis axis: Int) -> Tensor {
        require(!parts.isEmpty, "concatenating: no tensors")
        let first = parts[0].shape
        let a = parts[0].normalizedAxis(axis, "concatenating")
        for p in parts {
            require(p.rank == first.count && (0..<first.count).allSatisfy { $0 == a || p.shape[$0] == first[$0] },
                         "concatenating: shapes \(first) and \(p.shape) differ off axis \(axis)")
        }
        if parts.count == 1 { return parts[0] }
        var starts = [0]
        for p in parts { starts.append(starts.last! + p.shape[a]) }
        var shape = first
        shape[a] = starts.last!
        let outer = first[..<a].reduce(1, *), inner = first[(a + 1)...].reduce(1, *)
        let stride = shape[a] * inner
        let value = [Scalar](unsafeUninitializedCapacity: outer * stride) { out, initialized in
            for (i, p) in parts.enumerated() {
                p.scalars.withUnsafeBufferPointer { x in
                    copyBlocks(outer, width: p.shape[a] * inner, from: x, stride: p.shape[a] * inner, offset: 0,
                               to: out, stride: stride, offset: starts[i] * inner)
                }
            }
            initialized = outer * stride
        }
        return recorded("concatenate", value: Tensor(shape: shape, scalars: value), inputs: parts,
                        pullback: { p in
                            parts.indices.map { i in p.needs[i] ? p.cotangent.slice(starts[i]..<starts[i + 1], alongAxis: a) : nil }
                        },
                        differential: { t, _ in
                            concatenating(zip(t, parts).map { tangent, part in tangent ?? .zeros(part.shape) }, alongAxis: a)
                        },
                        batchedPullback: { p in
                            parts.indices.map { i in p.needs[i] ? p.cotangent.slice(starts[i]..<starts[i + 1], alongAxis: a + 1) : nil }
                        })
    }

    /// Stacks tensors of equal trailing shape along the first axis: `concatenating(parts, alongAxis: 0)`.
    public static func concatenatingRows(_ parts: [Tensor]) -> Tensor {
        concatenating(parts, alongAxis: 0)
    }

    /// The pieces of the given extents along `axis`, in order: piece i is
    /// `slice(oᵢ ..< oᵢ + sizes[i], alongAxis: axis)` with oᵢ = Σ_{l<i} sizes[l]. The inverse of
    /// `concatenating(_:alongAxis:)`: x = concatenating(x.split(sizes: s, alongAxis: a), alongAxis: a).
    /// Each piece is a differentiable slice, so the VJP is the sum of the pieces' cotangents
    /// padded back to the full shape and the JVP is the same split of ẋ.
    ///
    /// - Precondition: the sizes are ≥ 0 and sum to the extent of `axis`.
    public func split(sizes: [Int], alongAxis axis: Int) -> [Tensor] {
        let a = normalizedAxis(axis, "split")
        require(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a],
                     "split: sizes \(sizes) do not sum to the extent \(shape[a]) of axis \(axis) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(start..<(start + size), alongAxis: a)
        }
    }

    /// The entries at positions `range` along `axis` (a negative axis counts from the end):
    /// shape S ↦ S with extent `range.count` on `axis`, y[…, j, …] = x[…, range.lowerBound + j, …].
    /// VJP: x̄ = ȳ zero-padded back to S, `padded(before: range.lowerBound, after: S[axis] −
    /// range.upperBound, alongAxis:)`. JVP: ẏ = the same slice of ẋ.
    public func slice(_ range: Range<Int>, alongAxis axis: Int) -> Tensor {
        let a = normalizedAxis(axis, "slice")
        require(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
        if range.count == shape[a] { return self }
        var newShape = shape
        newShape[a] = range.count
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let width = range.count * inner
        let value = [Scalar](unsafeUninitializedCapacity: outer * width) { out, initialized in
            scalars.withUnsafeBufferPointer { x in
                Tensor.copyBlocks(outer, width: width, from: x, stride: shape[a] * inner, offset: range.lowerBound * inner,
                           to: out, stride: width, offset: 0)
            }
            initialized = outer * width
        }
        let before = range.lowerBound, after = shape[a] - range.upperBound
        return Tensor.recorded("slice", value: Tensor(shape: newShape, scalars: value), inputs: [self],
                               pullback: { [$0.cotangent.padded(before: before, after: after, alongAxis: a)] },
                               differential: { t, _ in t[0].map { $0.slice(range, alongAxis: a) } },
                               batchedPullback: { [$0.cotangent.padded(before: before, after: after, alongAxis: a + 1)] })
    }

    /// Zeros added along `axis` (a negative axis counts from the end): `before` entries ahead of
    /// the tensor and `after` behind it, shape S ↦ S with extent S[axis] + before + after on
    /// `axis`; y[…, before + j, …] = x[…, j, …] and y is 0 elsewhere. The adjoint of
    /// `slice(_:alongAxis:)`. VJP: x̄ = ȳ[…, before ..< before + S[axis], …]. JVP: ẏ = ẋ padded alike.
    public func padded(before: Int, after: Int, alongAxis axis: Int) -> Tensor {
        let a = normalizedAxis(axis, "padded")
        require(before >= 0 && after >= 0, "padded: padding \(before), \(after) is negative for shape \(shape)")
        if before == 0 && after == 0 { return self }
        var newShape = shape
        newShape[a] += before + after
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let stride = newShape[a] * inner, total = outer * stride
        let value = [Scalar](unsafeUninitializedCapacity: total) { out, initialized in
            out.initialize(repeating: 0)
            scalars.withUnsafeBufferPointer { x in
                Tensor.copyBlocks(outer, width: shape[a] * inner, from: x, stride: shape[a] * inner, offset: 0,
                           to: out, stride: stride, offset: before * inner)
            }
            initialized = total
        }
        let range = before..<(before + shape[a])
        return Tensor.recorded("pad", value: Tensor(shape: newShape, scalars: value), inputs: [self],
                               pullback: { [$0.cotangent.slice(range, alongAxis: a)] },
                               differential: { t, _ in t[0].map { $0.padded(before: before, after: after, alongAxis: a) } },
                               batchedPullback: { [$0.cotangent.slice(range, alongAxis: a + 1)] })
    }

    /// Rows `range` of a tensor of rank ≥ 1: `slice(range, alongAxis: 0)`.
    public func rows(_ range: Range<Int>) -> Tensor {
        require(rank >= 1, "rows: expects rank ≥ 1, got shape \(shape)")
        return slice(range, alongAxis: 0)
    }

    /// Zero rows added before and after, the adjoint of `rows(_:)`: `padded(before:after:alongAxis: 0)`.
    public func padded(rowsBefore: Int, rowsAfter: Int) -> Tensor {
        require(rank >= 1, "padded: expects rank ≥ 1, got shape \(shape)")
        return padded(before: rowsBefore, after: rowsAfter, alongAxis: 0)
    }

    /// The copy shared by concatenation, slicing and padding, which all view a tensor as
    /// [outer, extent·inner] around an axis: `outer` blocks of `width` scalars, block b read at
    /// source offset + b·stride and written (initialized) at destination offset + b·stride.
    private static func copyBlocks(_ outer: Int, width: Int,
                                   from source: UnsafeBufferPointer<Scalar>, stride sourceStride: Int, offset sourceOffset: Int,
                                   to destination: UnsafeMutableBufferPointer<Scalar>, stride destinationStride: Int,
                                   offset destinationOffset: Int) {
        guard width > 0, let x = source.baseAddress, let y = destination.baseAddress else { return }
        for b in 0..<outer {
            (y + destinationOffset + b * destinationStride).initialize(from: x + sourceOffset + b * sourceStride, count: width)
        }
    }

    /// Rows picked by index (a constant: for batching data, not differentiated).
    public func gatheringRows(_ indices: [Int]) -> Tensor {
        require(rank >= 1, "gatheringRows: expects rank ≥ 1, got shape \(shape)")
        let rowSize = shape.dropFirst().reduce(1, *)
        var out = [Scalar]()
        out.reserveCapacity(indices.count * rowSize)
        for i in indices {
            require(i >= 0 && i < shape[0], "gatheringRows: index \(i) out of range for shape \(shape)")
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
            require(label >= 0 && label < classCount, "oneHot: label \(label) outside 0..<\(classCount)")
            t.scalars[r * classCount + label] = 1
        }
        return t
    }
}
