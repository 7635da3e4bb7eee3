import BackpropKernels

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
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func softmaxCrossEntropy(logits z: Tensor, targets: Tensor, inverseTemperature beta: Tensor) -> Tensor {
        require(z.shape == targets.shape && (z.rank == 1 || z.rank == 2),
                     "softmaxCrossEntropy: logits shape \(z.shape) and targets shape \(targets.shape) must be equal [B, C] or [C]")
        require(beta.count == 1 && beta.rank == 0, "softmaxCrossEntropy: β must be a scalar tensor, got shape \(beta.shape)")
        let t = targets.detached
        let batch = Scalar(z.rank == 2 ? z.shape[0] : 1)
        let fused = SoftmaxKernels.crossEntropy(logits: z.scalars, targets: t.scalars, rowLength: z.shape[z.rank - 1], beta: beta.scalar)
        let value = Tensor(fused.loss / batch)
        let s = t.sum(alongAxis: -1, keepingDimension: true)
        /// The cotangents for g = ∂L/∂loss, of shape [] or, for a batch of k cotangents, [k].
        func pull(_ g: Tensor, needs: [Bool], batch k: Int?) -> [Tensor?] {
            let leading = k.map { [$0] } ?? []
            if PullbackInput<Scalar>.mayFuse {
                // One pass: ∂L/∂z = (g·β/B)·(s·p − t) with p and s kept from the forward pass.
                let p = Tensor(shape: z.shape, scalars: fused.probabilities)
                let gz: Tensor? = needs[0]
                    ? Tensor(shape: leading + z.shape, scalars: SoftmaxKernels.crossEntropyBackward(
                        probabilities: fused.probabilities, targets: t.scalars, targetSums: fused.targetSums,
                        rowLength: z.shape[z.rank - 1], coefficients: g.scalars.map { $0 * beta.scalar / batch }))
                    : nil
                let gb: Tensor? = needs[1] ? g / batch * (s * p * z - t * z).sum() : nil
                return [gz, gb]
            }
            // Recorded (a derivative of a derivative): the composed, differentiable formulas.
            let scale = (k.map { g.reshaped([$0] + [Int](repeating: 1, count: z.rank)) } ?? g) / batch
            let p = z.softmax(inverseTemperature: beta)
            let gz: Tensor? = needs[0] ? scale * beta * (s * p - t) : nil
            let gb: Tensor? = needs[1] ? (scale * (s * p * z - t * z).sum()).reshaped(leading) : nil
            return [gz, gb]
        }
        return recorded("softmaxCrossEntropy", value: value, inputs: [z, beta],
                        pullback: { pb in pull(pb.cotangent, needs: pb.needs, batch: nil) },
                        differential: { tangents, _ in
                            let p = z.softmax(inverseTemperature: beta)
                            let dz = tangents[0].map { (beta * (s * p - t) * $0).sum() / batch }
                            let db = tangents[1].map { $0 * (s * p * z - t * z).sum() / batch }
                            return sumOfTangents(dz, db)
                        },
                        batchedPullback: { pb in pull(pb.cotangent, needs: pb.needs, batch: pb.batchCount) })
    }

    /// Cross-entropy against integer class labels (one-hot targets), constant β.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func softmaxCrossEntropy(logits z: Tensor, labels: [Int], inverseTemperature beta: Scalar = 1) -> Tensor {
        require(z.rank == 2 && z.shape[0] == labels.count,
                     "softmaxCrossEntropy: logits shape \(z.shape) does not match \(labels.count) labels")
        return softmaxCrossEntropy(logits: z, targets: .oneHot(labels, classCount: z.shape[1]), inverseTemperature: Tensor(beta))
    }
}
