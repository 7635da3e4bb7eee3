import BackpropKernels

// Softmax with inverse temperature β, the seed derivation's second half (docs/derivations.md §2).

extension Tensor {
    /// y = softmax(βx) along the last axis: y_j = e^{βx_j} / Σ_i e^{βx_i}.
    ///
    /// Stable for any finite x and β (each row is shifted by max βx). β is a rank-0 tensor, so it
    /// can be learned; x is [n] or [rows, n] (each row independent).
    /// - VJP: ∂L/∂x = β·y ⊙ (g − ⟨g, y⟩), O(n) per row, no Jacobian formed;
    ///   ∂L/∂β = Σ_j g_j y_j (x_j − ⟨y, x⟩), summed over rows.
    /// - JVP: ẏ = β·y ⊙ (ẋ − ⟨y, ẋ⟩) + β̇·y ⊙ (x − ⟨y, x⟩).
    public func softmax(inverseTemperature beta: Tensor) -> Tensor {
        require(rank >= 1, "softmax: expects rank ≥ 1, got shape \(shape)")
        require(beta.count == 1 && beta.rank == 0, "softmax: β must be a scalar tensor, got shape \(beta.shape)")
        let x = self
        let value = Tensor(shape: shape, scalars: SoftmaxKernels.softmax(scalars, rowLength: shape[rank - 1], beta: beta.scalar, log: false))
        // ∂L/∂β: Σ_j g_j y_j (x_j − ⟨y, x⟩) per row, summed over rows — or, for a batch of k
        // cotangents, over the rows of each ([k]). Composed from differentiable ops in both cases.
        func betaCotangent(_ g: Tensor, _ y: Tensor, batch: Int?) -> Tensor {
            let gy = g * y, s = gy.sum(alongAxis: -1, keepingDimension: true)
            return Tensor.total(gy * x, batch: batch) - Tensor.total(s * (y * x).sum(alongAxis: -1, keepingDimension: true), batch: batch)
        }
        // ∂L/∂x = β·y ⊙ (g − ⟨g, y⟩): the fused two-pass kernel, or the composed formula when the
        // backward pass is being recorded. Works for one cotangent or a batch of them.
        func inputCotangent(_ g: Tensor, _ y: Tensor) -> Tensor {
            if PullbackInput<Scalar>.mayFuse {
                return Tensor(shape: g.shape, scalars: SoftmaxKernels.backward(g.scalars, output: y.scalars, rowLength: x.shape[x.rank - 1],
                                                                               beta: beta.scalar, log: false))
            }
            let gy = g * y
            return beta * (gy - y * gy.sum(alongAxis: -1, keepingDimension: true))
        }
        return Tensor.recorded("softmax", value: value, inputs: [x, beta],
                               pullback: { p in
                                   [p.needs[0] ? inputCotangent(p.cotangent, p.output) : nil,
                                    p.needs[1] ? betaCotangent(p.cotangent, p.output, batch: nil) : nil]
                               },
                               differential: { t, y in
                                   let dx = t[0].map { beta * y * ($0 - (y * $0).sum(alongAxis: -1, keepingDimension: true)) }
                                   let db = t[1].map { $0 * y * (x - (y * x).sum(alongAxis: -1, keepingDimension: true)) }
                                   return Tensor.sumOfTangents(dx, db)
                               },
                               batchedPullback: { p in
                                   [p.needs[0] ? inputCotangent(p.cotangent, p.output) : nil,
                                    p.needs[1] ? betaCotangent(p.cotangent, p.output, batch: p.batchCount) : nil]
                               })
    }

    /// softmax(βx) with a constant β.
    public func softmax(inverseTemperature beta: Scalar = 1) -> Tensor {
        softmax(inverseTemperature: Tensor(beta))
    }

    /// y = log softmax(βx) = βx − log Σ_i e^{βx_i} along the last axis, stable for any finite input.
    ///
    /// With p = softmax(βx) = eʸ:
    /// - VJP: ∂L/∂x = β(g − p·Σ_j g_j); ∂L/∂β = Σ_j g_j (x_j − ⟨p, x⟩).
    /// - JVP: ẏ = β(ẋ − ⟨p, ẋ⟩) + β̇(x − ⟨p, x⟩).
    public func logSoftmax(inverseTemperature beta: Tensor) -> Tensor {
        require(rank >= 1, "logSoftmax: expects rank ≥ 1, got shape \(shape)")
        require(beta.count == 1 && beta.rank == 0, "logSoftmax: β must be a scalar tensor, got shape \(beta.shape)")
        let x = self
        let value = Tensor(shape: shape, scalars: SoftmaxKernels.softmax(scalars, rowLength: shape[rank - 1], beta: beta.scalar, log: true))
        // ∂L/∂β: Σ_j g_j (x_j − ⟨p, x⟩) per row, summed (per cotangent for a batch of k).
        func betaCotangent(_ g: Tensor, _ y: Tensor, batch: Int?) -> Tensor {
            let p = y.exp(), gs = g.sum(alongAxis: -1, keepingDimension: true)
            return Tensor.total(g * x, batch: batch) - Tensor.total(gs * (p * x).sum(alongAxis: -1, keepingDimension: true), batch: batch)
        }
        // ∂L/∂x = β(g − p·Σ_j g_j): fused kernel, or composed while recording.
        func inputCotangent(_ g: Tensor, _ y: Tensor) -> Tensor {
            if PullbackInput<Scalar>.mayFuse {
                return Tensor(shape: g.shape, scalars: SoftmaxKernels.backward(g.scalars, output: y.scalars, rowLength: x.shape[x.rank - 1],
                                                                               beta: beta.scalar, log: true))
            }
            return beta * (g - y.exp() * g.sum(alongAxis: -1, keepingDimension: true))
        }
        return Tensor.recorded("logSoftmax", value: value, inputs: [x, beta],
                               pullback: { pb in
                                   [pb.needs[0] ? inputCotangent(pb.cotangent, pb.output) : nil,
                                    pb.needs[1] ? betaCotangent(pb.cotangent, pb.output, batch: nil) : nil]
                               },
                               differential: { t, y in
                                   let p = y.exp()
                                   let dx = t[0].map { beta * ($0 - (p * $0).sum(alongAxis: -1, keepingDimension: true)) }
                                   let db = t[1].map { $0 * (x - (p * x).sum(alongAxis: -1, keepingDimension: true)) }
                                   return Tensor.sumOfTangents(dx, db)
                               },
                               batchedPullback: { pb in
                                   [pb.needs[0] ? inputCotangent(pb.cotangent, pb.output) : nil,
                                    pb.needs[1] ? betaCotangent(pb.cotangent, pb.output, batch: pb.batchCount) : nil]
                               })
    }

    /// log softmax(βx) with a constant β.
    public func logSoftmax(inverseTemperature beta: Scalar = 1) -> Tensor {
        logSoftmax(inverseTemperature: Tensor(beta))
    }
}

extension Tensor {
    /// Σ of every element ([]), or for a batch of `batch` cotangents stacked along the first
    /// axis, Σ of each one's elements ([batch]).
    static func total(_ t: Tensor, batch: Int?) -> Tensor {
        batch.map { t.reshaped([$0, t.count / $0]).sum(alongAxis: 1) } ?? t.sum()
    }
}
