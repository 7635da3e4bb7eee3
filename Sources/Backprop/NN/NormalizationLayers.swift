import Synchronization
import BackpropKernels

/// The state and computation shared by `BatchNorm1d` and `BatchNorm2d`.
///
/// Training (`LearningPhase.training`): y = γ x̂ + β with the batch's own per-channel mean and
/// biased variance (`Tensor.batchNormalization`), and the running statistics move towards the
/// batch's, as PyTorch's:
///
///     running_mean ← (1 − m)·running_mean + m·μ_B
///     running_var  ← (1 − m)·running_var  + m·σ²_B·M/(M − 1)      (unbiased, M values per channel)
///     num_batches_tracked ← num_batches_tracked + 1
///
/// with m = `momentum` (or 1/num_batches_tracked, a cumulative average, when momentum is nil).
/// The new values are recorded in `BufferUpdates` and stored after the step (see there).
/// Evaluation: y = γ (x − running_mean)/√(running_var + ε) + β.
struct BatchNormalizationState<Scalar: TensorScalar>: Sendable {
    var weight: Tensor<Scalar>
    var bias: Tensor<Scalar>
    var runningMean: Tensor<Scalar>
    var runningVariance: Tensor<Scalar>
    var batchesTracked: Tensor<Scalar>
    let epsilon: Scalar
    let momentum: Double?
    let affine: Bool
    let identity = BufferUpdates.makeIdentity()

    init(features: Int, epsilon: Scalar, momentum: Double?, affine: Bool) {
        require(features > 0, "BatchNorm: the number of features must be positive, got \(features)")
        weight = .ones([features])
        bias = .zeros([features])
        runningMean = .zeros([features])
        runningVariance = .ones([features])
        batchesTracked = Tensor(0)
        self.epsilon = epsilon
        self.momentum = momentum
        self.affine = affine
    }

    mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        if let updates = BufferUpdates.storing, let new = updates.tensors(for: identity, as: Scalar.self),
           let mean = new["running_mean"], let variance = new["running_var"], let count = new["num_batches_tracked"] {
            runningMean = mean
            runningVariance = variance
            batchesTracked = count
        }
        if affine {
            visitor.parameter("weight", &weight)
            visitor.parameter("bias", &bias)
        }
        visitor.buffer("running_mean", &runningMean)
        visitor.buffer("running_var", &runningVariance)
        visitor.buffer("num_batches_tracked", &batchesTracked)
    }

    func apply(_ x: Tensor<Scalar>, layer: String) -> Tensor<Scalar> {
        let c = runningMean.count
        require(x.rank >= 2 && x.shape[1] == c, "\(layer): input shape \(x.shape) does not have \(c) channels along axis 1")
        let perChannel = [1, c] + [Int](repeating: 1, count: x.rank - 2)
        guard LearningPhase.current == .training else {
            let scale = (affine ? weight : .ones([c])) / (runningVariance + epsilon).sqrt()
            let shift = (affine ? bias : .zeros([c])) - runningMean * scale
            return x * scale.reshaped(perChannel) + shift.reshaped(perChannel)
        }
        let (y, mean, variance) = Tensor.batchNormalization(x, weight: affine ? weight : nil, bias: affine ? bias : nil,
                                                            epsilon: epsilon)
        if let updates = BufferUpdates.recording {
            withoutDerivative {
                let previous = updates.tensors(for: identity, as: Scalar.self)
                let oldMean = previous?["running_mean"] ?? runningMean.detached
                let oldVariance = previous?["running_var"] ?? runningVariance.detached
                let count = (previous?["num_batches_tracked"] ?? batchesTracked.detached) + 1
                let m = Scalar(momentum ?? 1 / Double(count.scalar))
                let values = Scalar(x.count / c)
                let unbiased = variance * (values / (values - 1))
                updates.record(identity, ["running_mean": (1 - m) * oldMean + m * mean,
                                          "running_var": (1 - m) * oldVariance + m * unbiased,
                                          "num_batches_tracked": count])
            }
        }
        return y
    }
}

/// Batch normalisation over [N, C] or [N, C, L] (PyTorch `nn.BatchNorm1d`).
///
/// Tensors, in `state_dict` order: `weight` γ [C] and `bias` β [C] (parameters, when `affine`),
/// `running_mean` [C], `running_var` [C] and `num_batches_tracked` [] (buffers; the count is an
/// int64 in PyTorch and a float here, converted either way on loading). In training the batch
/// statistics normalise and the running ones are updated (momentum 0.1, unbiased variance);
/// in evaluation the running statistics normalise. See `BatchNormalizationState`.
public struct BatchNorm1d<Scalar: TensorScalar>: Layer {
    var state: BatchNormalizationState<Scalar>

    /// A layer with γ = 1, β = 0, running mean 0 and running variance 1.
    /// - Parameters:
    ///   - features: C, the number of channels (positive).
    ///   - epsilon: ε added to the variance before the square root (default 10⁻⁵).
    ///   - momentum: m of the running statistics' update (default 0.1); nil: their cumulative
    ///     average over all batches so far (PyTorch's `momentum=None`).
    ///   - affine: whether γ and β exist and are trained (default true); otherwise y = x̂.
    public init(features: Int, epsilon: Scalar = 1e-5, momentum: Double? = 0.1, affine: Bool = true) {
        state = .init(features: features, epsilon: epsilon, momentum: momentum, affine: affine)
    }

    /// The per-channel mean used in evaluation, `running_mean` [C].
    public var runningMean: Tensor<Scalar> { state.runningMean }
    /// The per-channel (unbiased) variance used in evaluation, `running_var` [C].
    public var runningVariance: Tensor<Scalar> { state.runningVariance }
    /// The number of training batches that have updated the running statistics, `num_batches_tracked`.
    public var batchesTracked: Int { Int(state.batchesTracked.scalar) }
    /// The number of channels C.
    public var features: Int { state.runningMean.count }

    /// Declares `weight` and `bias` (when `affine`) as parameters, then the buffers `running_mean`,
    /// `running_var` and `num_batches_tracked`.
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) { state.visitTensors(with: &visitor) }

    /// y = γ (x − μ)/√(σ² + ε) + β per channel (axis 1) of x [N, C] or [N, C, L], same shape out:
    /// μ and σ² the batch's in training (updating the running statistics), the running ones in
    /// evaluation. Stops with a message when x has another rank or another number of channels.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        require(x.rank == 2 || x.rank == 3, "BatchNorm1d: input must be [N, C] or [N, C, L], got shape \(x.shape)")
        return state.apply(x, layer: "BatchNorm1d")
    }
}

/// Batch normalisation over [N, C, H, W] (PyTorch `nn.BatchNorm2d`): each channel over its
/// N·H·W values. Tensors and behaviour as `BatchNorm1d`.
public struct BatchNorm2d<Scalar: TensorScalar>: Layer {
    var state: BatchNormalizationState<Scalar>

    /// A layer with γ = 1, β = 0, running mean 0 and running variance 1.
    /// - Parameters:
    ///   - features: C, the number of channels (positive).
    ///   - epsilon: ε added to the variance before the square root (default 10⁻⁵).
    ///   - momentum: m of the running statistics' update (default 0.1); nil: their cumulative
    ///     average over all batches so far (PyTorch's `momentum=None`).
    ///   - affine: whether γ and β exist and are trained (default true); otherwise y = x̂.
    public init(features: Int, epsilon: Scalar = 1e-5, momentum: Double? = 0.1, affine: Bool = true) {
        state = .init(features: features, epsilon: epsilon, momentum: momentum, affine: affine)
    }

    /// The per-channel mean used in evaluation, `running_mean` [C].
    public var runningMean: Tensor<Scalar> { state.runningMean }
    /// The per-channel (unbiased) variance used in evaluation, `running_var` [C].
    public var runningVariance: Tensor<Scalar> { state.runningVariance }
    /// The number of training batches that have updated the running statistics, `num_batches_tracked`.
    public var batchesTracked: Int { Int(state.batchesTracked.scalar) }
    /// The number of channels C.
    public var features: Int { state.runningMean.count }

    /// Declares `weight` and `bias` (when `affine`) as parameters, then the buffers `running_mean`,
    /// `running_var` and `num_batches_tracked`.
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) { state.visitTensors(with: &visitor) }

    /// y = γ (x − μ)/√(σ² + ε) + β per channel of x [N, C, H, W], same shape out: μ and σ² over the
    /// N·H·W values of each channel, the batch's in training (updating the running statistics), the
    /// running ones in evaluation. Stops with a message when x is not [N, C, H, W] with C channels.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        require(x.rank == 4, "BatchNorm2d: input must be [N, C, H, W], got shape \(x.shape)")
        return state.apply(x, layer: "BatchNorm2d")
    }
}

/// Layer normalisation over the trailing `normalizedShape` axes (PyTorch `nn.LayerNorm`), the
/// same in training and evaluation. Tensors: `weight` γ and `bias` β of `normalizedShape`
/// (parameters, when `elementwiseAffine`). See `Tensor.layerNormalization`.
public struct LayerNorm<Scalar: TensorScalar>: Layer {
    /// γ, of shape `normalizedShape` (ones at first).
    public var weight: Tensor<Scalar>
    /// β, of shape `normalizedShape` (zeros at first).
    public var bias: Tensor<Scalar>
    /// The trailing axes normalised together, e.g. [features] or [C, H, W].
    public let normalizedShape: [Int]
    /// ε added to the variance before the square root.
    public let epsilon: Scalar
    /// Whether γ and β are applied and trained; otherwise y = x̂.
    public let elementwiseAffine: Bool

    /// A layer normalising over the trailing axes `normalizedShape` (non-empty, positive sizes),
    /// with ε = `epsilon` (default 10⁻⁵) and, by default, a trained γ = 1 and β = 0.
    public init(normalizedShape: [Int], epsilon: Scalar = 1e-5, elementwiseAffine: Bool = true) {
        require(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                "LayerNorm: normalized shape \(normalizedShape) must be non-empty and positive")
        weight = .ones(normalizedShape)
        bias = .zeros(normalizedShape)
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        self.elementwiseAffine = elementwiseAffine
    }

    /// Declares `weight` and `bias` as parameters when `elementwiseAffine`, nothing otherwise.
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        if elementwiseAffine {
            visitor.parameter("weight", &weight)
            visitor.parameter("bias", &bias)
        }
    }

    /// y = γ ⊙ (x − μ)/√(σ² + ε) + β, with μ and σ² (biased) over the trailing `normalizedShape` axes
    /// of each example; the shape of x, which must end in `normalizedShape`.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        .layerNormalization(x, normalizedShape: normalizedShape, weight: elementwiseAffine ? weight : nil,
                            bias: elementwiseAffine ? bias : nil, epsilon: epsilon)
    }
}

/// Inverted dropout (PyTorch `nn.Dropout`): in training each element is zeroed with
/// probability p and the rest scaled by 1/(1 − p); in evaluation the identity.
///
/// The masks come from the layer's own generator, seeded by `seed`: the same seed gives the
/// same sequence of masks. Copies of the layer (and of a model holding it) share that
/// generator, so the training loop's working copy advances it.
public struct Dropout<Scalar: TensorScalar>: ParameterlessLayer {
    /// p, the probability that an element is zeroed in training.
    public let probability: Double
    private let generator: DropoutGenerator

    /// A dropout layer with p = `probability` in [0, 1] (default 0.5) and its masks seeded by `seed`
    /// (default 0).
    public init(probability: Double = 0.5, seed: UInt64 = 0) {
        require(probability >= 0 && probability <= 1, "Dropout: probability must be in [0, 1], got \(probability)")
        self.probability = probability
        generator = DropoutGenerator(seed: seed)
    }

    /// In training, x ⊙ m/(1 − p) with m a fresh mask of independent Bernoulli(1 − p) elements;
    /// in evaluation (or with p = 0), x itself.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        guard LearningPhase.current == .training, probability > 0 else { return x }
        return generator.state.withLock { x.dropout(probability: probability, generator: &$0) }
    }
}

/// A seeded generator shared by the copies of a `Dropout` layer.
final class DropoutGenerator: Sendable {
    let state: Mutex<SeededGenerator>
    init(seed: UInt64) { state = Mutex(SeededGenerator(seed: seed)) }
}
