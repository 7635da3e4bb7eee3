/// The optimizers a `TrainingConfiguration` can build.
public enum OptimizerKind: String, CaseIterable, Codable, Sendable {
    /// `SGD` (with `momentum` and `nesterov`), `Adam`, and AdamW (`Adam.adamW`, decoupled weight decay).
    case sgd, adam, adamw
}

/// Everything that determines a training run. With the same configuration and data, training
/// gives bit-identical weights (it is stored in checkpoints so `--resume` can continue a run).
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// [inputs, hidden…, classes].
    public var layerSizes: [Int] = [64, 128, 10]
    /// The activation between the MLP's linear layers (default ReLU).
    public var activation: Activation = .relu
    /// β of the output softmax (and of the cross-entropy).
    public var beta: Float = 1
    /// Train β with the weights.
    public var learnBeta = false
    /// How the weights are initialised (default: PyTorch's Kaiming-uniform).
    public var initializer: Initializer = .kaimingUniform
    /// The update rule (default Adam).
    public var optimizer: OptimizerKind = .adam
    /// The base learning rate η₀ (default 10⁻³), scaled per epoch by `schedule`.
    public var learningRate: Double = 1e-3
    /// SGD momentum μ.
    public var momentum: Double = 0.9
    /// SGD Nesterov momentum.
    public var nesterov = false
    /// Weight decay λ; nil means the optimizer's PyTorch default (0, or 0.01 for AdamW).
    public var weightDecay: Double? = nil
    /// How the learning rate changes from epoch to epoch (default: constant).
    public var schedule: LearningRateSchedule = .constant
    /// The number of epochs (default 20).
    public var epochs = 20
    /// Examples per mini-batch (default 32).
    public var batchSize = 32
    /// Seeds every random choice of the run: the data split, the weights' initialisation, dropout
    /// masks and the shuffles (default 0).
    public var seed: UInt64 = 0
    /// ε of label smoothing.
    public var labelSmoothing: Double = 0
    /// Clip gradients to this global norm (nil: no clipping).
    public var clipNorm: Double? = nil
    /// The fraction of the examples held out for validation after each epoch (default 0.1).
    public var validationFraction = 0.1
    /// The fraction of the examples held out for the final test (default 0.2).
    public var testFraction = 0.2
    /// The network as a spec (`NetworkArchitecture`, every width written out); nil: the MLP of
    /// `layerSizes` and `activation`.
    public var architecture: String? = nil
    /// One example's shape for a spec'd network ([C, H, W] or [features]); nil: [features].
    public var inputShape: [Int]? = nil

    /// The defaults: a 64-128-10 ReLU MLP with Kaiming-uniform weights trained by Adam at 10⁻³ for
    /// 20 epochs of batches of 32, seed 0, with 10 % of the examples for validation and 20 % for testing.
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

    /// The first problem that makes this configuration unusable, if any. Every number must be
    /// finite; momentum and weight decay non-negative; the step schedule's factor in (0, 1].
    public func problem() -> TrainingError? {
        if layerSizes.count < 2 { return .invalidSetting(.layerSizes, "need at least an input and an output size, got \(layerSizes)") }
        if let bad = layerSizes.first(where: { $0 <= 0 }) { return .invalidSetting(.layerSizes, "must be positive, got \(bad)") }
        if let problem = loop.problem() { return problem }
        if !beta.isFinite { return .invalidSetting(.beta, "must be finite, got \(beta)") }
        if !(0...1).contains(labelSmoothing) { return .invalidSetting(.labelSmoothing, "must be in [0, 1], got \(labelSmoothing)") }
        if !(momentum >= 0 && momentum.isFinite) { return .invalidSetting(.momentum, "must be a finite number ≥ 0, got \(momentum)") }
        if nesterov && !(momentum > 0) { return .invalidSetting(.nesterov, "needs momentum > 0") }
        if let wd = weightDecay, !(wd >= 0 && wd.isFinite) { return .invalidSetting(.weightDecay, "must be a finite number ≥ 0, got \(wd)") }
        if !(validationFraction >= 0 && testFraction >= 0 && validationFraction + testFraction < 1) {
            return .invalidSetting(.splitFractions, "must be ≥ 0 and sum to less than 1")
        }
        return nil
    }

    /// A rough upper bound, in bytes, of the memory training this configuration takes on
    /// `exampleCount` examples of `featureCount` features in `classCount` classes: the
    /// parameters with their gradients, optimizer state, update temporaries and checkpoint
    /// encoding; the activations of a batch (forward values, their gradients and the tape);
    /// the activations of evaluating the largest split part at once; the split copies of the
    /// data; and the confusion matrices. Computed in `Double`, so absurd sizes cannot overflow.
    ///
    /// For a spec'd network (`architecture`) the parameters and widths are those of its layers on
    /// `inputShape`, and each convolution adds its column buffer (C/groups·kh·kw × oh·ow per
    /// example); a spec that does not parse or fit counts as the MLP of `layerSizes`.
    public func estimatedMemory(exampleCount: Int, featureCount: Int, classCount: Int) -> Double {
        let (parameters, widths) = parametersAndWidths(featureCount: featureCount)
        let optimizerBuffers: Double = optimizer == .sgd ? (momentum > 0 ? 1 : 0) : 2
        let floatBytes = 4.0
        let parameterBytes = parameters * floatBytes * (4 + 2 * optimizerBuffers)
        let batchBytes = Double(batchSize) * widths * floatBytes * 4
        let evaluated = Double(exampleCount) * Swift.max(validationFraction, testFraction, 0) + 1
        let evaluationBytes = evaluated * widths * floatBytes * 3
        let dataBytes = Double(exampleCount) * Double(featureCount) * floatBytes * 2
        let classes = Double(Swift.max(classCount, layerSizes.last ?? 0))
        let confusionBytes = classes * classes * 8 * 2
        return parameterBytes + batchBytes + evaluationBytes + dataBytes + confusionBytes
    }

    /// The network's parameter count and the values one example makes on its way through it
    /// (every layer's output, plus each convolution's column buffer), in `Double`.
    func parametersAndWidths(featureCount: Int) -> (parameters: Double, widths: Double) {
        if let architecture, let spec = try? NetworkArchitecture(parsing: architecture),
           let shapes = try? spec.shapes(inputShape: inputShape ?? [featureCount]) {
            var parameters = 0.0, widths = Double(featureCount)
            for (layer, (input, output)) in zip(spec.layers, zip(shapes, shapes.dropFirst())) {
                let inputCount = input.map(Double.init).reduce(1, *), outputCount = output.map(Double.init).reduce(1, *)
                widths += outputCount
                switch layer {
                case let .conv(out, kernel, _, _, _, groups, bias):
                    let columns = Double(input[0] / groups * kernel.height * kernel.width)
                    parameters += Double(out) * columns + (bias ? Double(out) : 0)
                    widths += columns * Double(output[1] * output[2])
                case .linear:
                    parameters += inputCount * outputCount + outputCount
                case .batchNorm:
                    parameters += 4 * Double(input[0])   // weight, bias and the two running statistics
                case .layerNorm:
                    parameters += 2 * inputCount
                case .maxPool, .avgPool, .globalAvgPool, .flatten, .activation, .dropout:
                    break
                }
            }
            return (parameters, widths)
        }
        let sizes = layerSizes.map(Double.init)
        var parameters = 0.0
        for i in 0..<(sizes.count - 1) { parameters += sizes[i] * sizes[i + 1] + sizes[i + 1] }
        return (parameters, sizes.reduce(0, +))
    }

    /// `.exceedsMemory` when `estimatedMemory` is more than `available` bytes.
    public func memoryProblem(exampleCount: Int, featureCount: Int, classCount: Int,
                              available: Int = SystemMemory.available) -> TrainingError? {
        let needed = estimatedMemory(exampleCount: exampleCount, featureCount: featureCount, classCount: classCount)
        guard needed > Double(available) else { return nil }
        let model = (architecture.map { "the network \"\($0)\"" } ?? "the " + layerSizes.map(String.init).joined(separator: "-") + " model")
            + " with batch size \(batchSize)"
        return .exceedsMemory(what: model, needed: needed >= 0x1p62 ? Int(1) << 62 : Int(needed), available: available)
    }
}

extension Activation: Codable {}
extension Initializer: Codable {}
