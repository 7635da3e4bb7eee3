// Softmax and cross-entropy fused: the stable way to train a classifier.

extension Tensor {
    /// L = (1/B) Σ_b −Σ_j t_bj · log softmax(β z_b)_j: the mean cross-entropy between target
    /// distributions t (rows of `targets`, usually one-hot or label-smoothed) and softmax(βz).
    ///
    /// Shapes: logits z and targets t are [B, C] (or [C] for one example); the result is a scalar.
    /// Computed from log-softmax (max-shifted), so it is finite for any finite logits.
    /// With p = softmax(βz) and s_b = Σ_j t_bj (1 for distributions):
    /// - VJP: ∂L/∂z = (g/B)·β(s·p − t) — for distributions the familiar β(p − t)/B;
    ///   ∂L/∂β = (g/B)·Σ_b (s_b⟨p_b, z_b⟩ − ⟨t_b, z_b⟩). Targets are constants (no cotangent).
    /// - JVP: L̇ = (1/B) Σ_b [β⟨s_b p_b − t_b, ż_b⟩ + β̇(s_b⟨p_b, z_b⟩ − ⟨t_b, z_b⟩)].
    public static func softmaxCrossEntropy(logits z: Tensor, targets: Tensor, inverseTemperature beta: Tensor) -> Tensor {
        precondition(z.shape == targets.shape && (z.rank == 1 || z.rank == 2),
                     "softmaxCrossEntropy: logits shape \(z.shape) and targets shape \(targets.shape) must be equal [B, C] or [C]")
        precondition(beta.count == 1 && beta.rank == 0, "softmaxCrossEntropy: β must be a scalar tensor, got shape \(beta.shape)")
        let t = targets.detached
        let batch = Scalar(z.rank == 2 ? z.shape[0] : 1)
        let logp = SoftmaxKernels.softmax(z.scalars, rowLength: z.shape[z.rank - 1], beta: beta.scalar, log: true)
        var total: Scalar = 0
        for i in 0..<logp.count where t.scalars[i] != 0 { total -= t.scalars[i] * logp[i] }
        let value = Tensor(total / batch)
        let s = t.sum(alongAxis: -1, keepingDimension: true)
        return recorded("softmaxCrossEntropy", value: value, inputs: [z, beta],
                        pullback: { pb in
                            let scale = pb.cotangent / batch
                            let p = z.softmax(inverseTemperature: beta)
                            let gz: Tensor? = pb.needs[0] ? scale * beta * (s * p - t) : nil
                            let gb: Tensor? = pb.needs[1] ? scale * (s * p * z - t * z).sum() : nil
                            return [gz, gb]
                        },
                        differential: { tangents, _ in
                            let p = z.softmax(inverseTemperature: beta)
                            let dz = tangents[0].map { (beta * (s * p - t) * $0).sum() / batch }
                            let db = tangents[1].map { $0 * (s * p * z - t * z).sum() / batch }
                            return sumOfTangents(dz, db)
                        })
    }

    /// Cross-entropy against integer class labels (one-hot targets), constant β.
    public static func softmaxCrossEntropy(logits z: Tensor, labels: [Int], inverseTemperature beta: Scalar = 1) -> Tensor {
        precondition(z.rank == 2 && z.shape[0] == labels.count,
                     "softmaxCrossEntropy: logits shape \(z.shape) does not match \(labels.count) labels")
        return softmaxCrossEntropy(logits: z, targets: .oneHot(labels, classCount: z.shape[1]), inverseTemperature: Tensor(beta))
    }
}
