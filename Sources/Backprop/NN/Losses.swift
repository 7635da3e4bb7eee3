import BackpropKernels

// Loss functions: each returns a scalar tensor, the mean over the batch.

/// The losses used for training, as composites of the core's differentiable operations.
public enum Loss {
    /// Mean cross-entropy between softmax(β·logits) and the labels, optionally label-smoothed.
    ///
    /// With C classes and smoothing ε the target row for label k is (1 − ε)·e_k + ε/C, as
    /// PyTorch's `cross_entropy(..., label_smoothing=ε)`. The softmax and the logarithm are
    /// fused (`Tensor.softmaxCrossEntropy`), so the loss is finite for any finite logits and the
    /// gradient is β(p − t)/B. Shapes: logits [B, C], `labels.count == B`; β is a rank-0
    /// tensor (tracked if β is learned).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func softmaxCrossEntropy<Scalar>(logits: Tensor<Scalar>, labels: [Int],
                                                   inverseTemperature beta: Tensor<Scalar> = Tensor(1),
                                                   labelSmoothing epsilon: Scalar = 0) -> Tensor<Scalar> {
        require(logits.rank == 2 && logits.shape[0] == labels.count,
                     "softmaxCrossEntropy: logits shape \(logits.shape) does not match \(labels.count) labels")
        require(epsilon >= 0 && epsilon <= 1, "softmaxCrossEntropy: label smoothing \(epsilon) outside [0, 1]")
        let classes = logits.shape[1]
        var targets = Tensor<Scalar>.oneHot(labels, classCount: classes)
        if epsilon > 0 {
            let off = epsilon / Scalar(classes)
            targets.scalars = targets.scalars.map { $0 * (1 - epsilon) + off }
        }
        return .softmaxCrossEntropy(logits: logits, targets: targets, inverseTemperature: beta)
    }

    /// Mean negative log-likelihood of the labels under log-probabilities (PyTorch `nll_loss`):
    /// L = −(1/B) Σ_b logp[b, label_b]. Shapes: [B, C] and B labels.
    public static func negativeLogLikelihood<Scalar>(logProbabilities logp: Tensor<Scalar>, labels: [Int]) -> Tensor<Scalar> {
        require(logp.rank == 2 && logp.shape[0] == labels.count,
                     "negativeLogLikelihood: shape \(logp.shape) does not match \(labels.count) labels")
        let mask = Tensor<Scalar>.oneHot(labels, classCount: logp.shape[1])
        return -(logp * mask).sum() / Scalar(labels.count)
    }

    /// Mean squared error over every element (PyTorch `mse_loss`): (1/n) Σ (y − t)².
    public static func meanSquaredError<Scalar>(_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>) -> Tensor<Scalar> {
        require(prediction.shape == target.shape,
                     "meanSquaredError: shapes \(prediction.shape) and \(target.shape) differ")
        return (prediction - target).squared().mean()
    }
}
