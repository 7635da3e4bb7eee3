/// The optimizers a `TrainingConfiguration` can build.
public enum OptimizerKind: String, CaseIterable, Codable, Sendable {
    case sgd, adam, adamw
}

/// Everything that determines a training run. With the same configuration and data, training
/// gives bit-identical weights (it is stored in checkpoints so `--resume` can continue a run).
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// [inputs, hidden…, classes].
    public var layerSizes: [Int] = [64, 128, 10]
    public var activation: Activation = .relu
    /// β of the output softmax (and of the cross-entropy).
    public var beta: Float = 1
    /// Train β with the weights.
    public var learnBeta = false
    public var initializer: Initializer = .kaimingUniform
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Double = 1e-3
    /// SGD momentum μ.
    public var momentum: Double = 0.9
    /// SGD Nesterov momentum.
    public var nesterov = false
    /// Weight decay λ; nil means the optimizer's PyTorch default (0, or 0.01 for AdamW).
    public var weightDecay: Double? = nil
    public var schedule: LearningRateSchedule = .constant
    public var epochs = 20
    public var batchSize = 32
    public var seed: UInt64 = 0
    /// ε of label smoothing.
    public var labelSmoothing: Double = 0
    /// Clip gradients to this global norm (nil: no clipping).
    public var clipNorm: Double? = nil
    public var validationFraction = 0.1
    public var testFraction = 0.2
    /// The network as a spec (`NetworkArchitecture`, every width written out); nil: the MLP of
    /// `layerSizes` and `activation`.
    public var architecture: String? = nil
    /// One example's shape for a spec'd network ([C, H, W] or [features]); nil: [features].
    public var inputShape: [Int]? = nil

    public init() {}

    /// The weight decay the optimizer uses.
    public var effectiveWeightDecay: Double { weightDecay ?? (optimizer == .adamw ? 0.01 : 0) }

    /// The optimizer this configuration describes, with no state yet.
    public func makeOptimizer() -> any Optimizer<Float> {
        let lr = Float(learningRate), wd = Float(effectiveWeightDecay)
        switch optimizer {
        case .sgd: return SGD(learningRate: lr, momentum: Float(momentum), nesterov: nesterov, weightDecay: wd)
        case .adam: return Adam(learningRate: lr, weightDecay: wd)
        case .adamw: return Adam.adamW(learningRate: lr, weightDecay: wd)
        }
    }

    /// The loop settings of this configuration.
    public var loop: TrainingLoop {
        TrainingLoop(epochs: epochs, batchSize: batchSize, seed: seed, learningRate: learningRate, schedule: schedule,
                     clipNorm: clipNorm)
    }

    /// The first problem that makes this configuration unusable, if any.
    public func problem() -> TrainingError? {
        if layerSizes.count < 2 { return .invalidSetting(.layerSizes, "need at least an input and an output size, got \(layerSizes)") }
        if let bad = layerSizes.first(where: { $0 <= 0 }) { return .invalidSetting(.layerSizes, "must be positive, got \(bad)") }
        if let problem = loop.problem() { return problem }
        if !beta.isFinite { return .invalidSetting(.beta, "must be finite, got \(beta)") }
        if !(0...1).contains(labelSmoothing) { return .invalidSetting(.labelSmoothing, "must be in [0, 1], got \(labelSmoothing)") }
        if nesterov && !(momentum > 0) { return .invalidSetting(.nesterov, "needs momentum > 0") }
        if validationFraction < 0 || testFraction < 0 || validationFraction + testFraction >= 1 {
            return .invalidSetting(.splitFractions, "must be ≥ 0 and sum to less than 1")
        }
        return nil
    }
}

extension Activation: Codable {}
extension Initializer: Codable {}
