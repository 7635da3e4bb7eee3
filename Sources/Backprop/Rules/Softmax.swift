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
        precondition(rank >= 1, "softmax: expects rank ≥ 1, got shape \(shape)")
        precondition(beta.count == 1 && beta.rank == 0, "softmax: β must be a scalar tensor, got shape \(beta.shape)")
        let x = self
        let value = Tensor(shape: shape, scalars: SoftmaxKernels.softmax(scalars, rowLength: shape[rank - 1], beta: beta.scalar, log: false))
        return Tensor.recorded("softmax", value: value, inputs: [x, beta],
                               pullback: { p in
                                   let y = p.output, gy = p.cotangent * y
                                   let s = gy.sum(alongAxis: -1, keepingDimension: true)          // ⟨g, y⟩ per row
                                   let gx: Tensor? = p.needs[0] ? beta * (gy - y * s) : nil
                                   let gb: Tensor? = p.needs[1]
                                       ? (gy * x).sum() - (s * (y * x).sum(alongAxis: -1, keepingDimension: true)).sum()
                                       : nil
                                   return [gx, gb]
                               },
                               differential: { t, y in
                                   let dx = t[0].map { beta * y * ($0 - (y * $0).sum(alongAxis: -1, keepingDimension: true)) }
                                   let db = t[1].map { $0 * y * (x - (y * x).sum(alongAxis: -1, keepingDimension: true)) }
                                   return Tensor.sumOfTangents(dx, db)
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
        precondition(rank >= 1, "logSoftmax: expects rank ≥ 1, got shape \(shape)")
        precondition(beta.count == 1 && beta.rank == 0, "logSoftmax: β must be a scalar tensor, got shape \(beta.shape)")
        let x = self
        let value = Tensor(shape: shape, scalars: SoftmaxKernels.softmax(scalars, rowLength: shape[rank - 1], beta: beta.scalar, log: true))
        return Tensor.recorded("logSoftmax", value: value, inputs: [x, beta],
                               pullback: { pb in
                                   let g = pb.cotangent, p = pb.output.exp()
                                   let gs = g.sum(alongAxis: -1, keepingDimension: true)
                                   let gx: Tensor? = pb.needs[0] ? beta * (g - p * gs) : nil
                                   let gb: Tensor? = pb.needs[1]
                                       ? (g * x).sum() - (gs * (p * x).sum(alongAxis: -1, keepingDimension: true)).sum()
                                       : nil
                                   return [gx, gb]
                               },
                               differential: { t, y in
                                   let p = y.exp()
                                   let dx = t[0].map { beta * ($0 - (p * $0).sum(alongAxis: -1, keepingDimension: true)) }
                                   let db = t[1].map { $0 * (x - (p * x).sum(alongAxis: -1, keepingDimension: true)) }
                                   return Tensor.sumOfTangents(dx, db)
                               })
    }

    /// log softmax(βx) with a constant β.
    public func logSoftmax(inverseTemperature beta: Scalar = 1) -> Tensor {
        logSoftmax(inverseTemperature: Tensor(beta))
    }
}
