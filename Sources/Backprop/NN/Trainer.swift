/// One epoch's results, as written to `--metrics` (1-based `epoch`; `seconds` is the epoch's
/// own wall time). Validation figures are NaN when there is no validation data or no accuracy.
public struct EpochRecord: Codable, Equatable, Sendable {
    /// The epoch's number, from 1.
    public var epoch: Int
    /// The mean training loss over the epoch's examples (each batch's loss weighted by its size).
    public var trainLoss: Double
    /// The mean loss on the validation data after the epoch (NaN without validation data).
    public var validationLoss: Double
    /// The fraction of validation examples classified correctly (NaN without validation data or for
    /// a model that reports no accuracy).
    public var validationAccuracy: Double
    /// The learning rate the epoch's steps used (the schedule's value for this epoch).
    public var learningRate: Double
    /// The epoch's wall time in seconds, its validation included.
    public var seconds: Double
}

/// Where training is within an epoch, reported after every step (for progress bars).
public struct StepProgress: Sendable {
    /// 1-based epoch and step within it.
    public var epoch: Int, step: Int
    /// The number of steps (mini-batches) in an epoch and of epochs in the run.
    public var stepsPerEpoch: Int, epochs: Int
    /// The mean training loss so far this epoch.
    public var loss: Double
    /// Examples trained on so far this epoch and the epoch's elapsed seconds.
    public var examples: Int, seconds: Double
}

/// What an evaluation of a model on a data set measured.
public struct Evaluation: Sendable, Equatable {
    /// The mean loss per example.
    public var loss: Double
    /// The fraction classified correctly, for classifiers.
    public var accuracy: Double?

    /// An evaluation with the mean loss and, for a classifier, the accuracy (default: none).
    public init(loss: Double, accuracy: Double? = nil) {
        self.loss = loss
        self.accuracy = accuracy
    }
}

/// How a training loop runs: epochs, mini-batches, the seed of the shuffles, the learning rate
/// and its schedule, and gradient clipping.
public struct TrainingLoop: Codable, Equatable, Sendable {
    /// The number of epochs to train (at least 1; default 20).
    public var epochs: Int
    /// Examples per mini-batch (at least 1; default 32); the last batch of an epoch may be smaller.
    public var batchSize: Int
    /// Seeds the shuffle of every epoch.
    public var seed: UInt64
    /// The base learning rate η₀ (the schedule scales it per epoch).
    public var learningRate: Double
    /// How the learning rate changes from epoch to epoch (default: constant).
    public var schedule: LearningRateSchedule
    /// Clip the gradients to this global L2 norm before each step (nil: no clipping).
    public var clipNorm: Double?

    /// A loop with the given settings; the defaults are 20 epochs of batches of 32, seed 0, η₀ = 10⁻³
    /// with a constant schedule and no clipping. `problem()` says whether they are usable.
    public init(epochs: Int = 20, batchSize: Int = 32, seed: UInt64 = 0, learningRate: Double = 1e-3,
                schedule: LearningRateSchedule = .constant, clipNorm: Double? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.learningRate = learningRate
        self.schedule = schedule
        self.clipNorm = clipNorm
    }

    /// The learning rate of epoch `epoch` (0-based).
    public func learningRate(epoch: Int) -> Double { schedule.learningRate(base: learningRate, epoch: epoch) }

    /// The first setting that makes the loop unusable, if any.
    public func problem() -> TrainingError? {
        if epochs < 1 { return .invalidSetting(.epochs, "must be at least 1, got \(epochs)") }
        if batchSize < 1 { return .invalidSetting(.batchSize, "must be at least 1, got \(batchSize)") }
        if !(learningRate > 0) || !learningRate.isFinite { return .invalidSetting(.learningRate, "must be a positive number, got \(learningRate)") }
        if let c = clipNorm, !(c > 0 && c.isFinite) { return .invalidSetting(.clipNorm, "must be a positive finite number, got \(c)") }
        switch schedule {
        case .constant:
            break
        case let .step(every, factor):
            if every < 1 { return .invalidSetting(.stepSize, "must be at least 1, got \(every)") }
            if !(factor > 0 && factor <= 1) { return .invalidSetting(.stepFactor, "must be in (0, 1], got \(factor)") }
        case let .cosine(horizon, minimum):
            if horizon < 1 { return .invalidSetting(.cosineHorizon, "must be at least 1, got \(horizon)") }
            if !(minimum >= 0 && minimum <= learningRate) {
                return .invalidSetting(.cosineMinimum, "must be in [0, learning rate \(learningRate)], got \(minimum)")
            }
        }
        return nil
    }
}

/// Why training could not start or stopped early.
public enum TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A setting of a training run, for naming it in errors.
    public enum Setting: String, Sendable, CaseIterable {
        /// The network's widths, the number of epochs, the batch size, the learning rate. Each case's raw
        /// value is the setting's name in error messages.
        case layerSizes = "layer sizes", epochs, batchSize = "batch size", learningRate = "learning rate"
        /// The softmax's β, label smoothing's ε, the gradient-clipping norm, SGD's momentum μ.
        case beta = "β", labelSmoothing = "label smoothing", clipNorm = "clipping norm", momentum
        /// Nesterov momentum, and the validation and test fractions of a data split.
        case nesterov = "Nesterov momentum", splitFractions = "validation and test fractions"
        /// Weight decay λ, and the step schedule's period and factor γ.
        case weightDecay = "weight decay", stepSize = "step schedule's step size", stepFactor = "step schedule's factor"
        /// The cosine schedule's length T in epochs and its minimum η_min.
        case cosineHorizon = "cosine schedule's length", cosineMinimum = "cosine schedule's minimum"
    }

    /// The loss became NaN or ±∞ at this (1-based) epoch and step; the model is the one before
    /// that step.
    case diverged(epoch: Int, step: Int, loss: Double, learningRate: Double)
    /// A setting has a value it cannot have; the text says what it must be.
    case invalidSetting(Setting, String)
    /// Too few examples to train on.
    case tooFewExamples(Int)
    /// The run would need about `needed` bytes of memory, more than the `available` bytes
    /// (`SystemMemory.available`); `what` names the model, e.g. `"the 64-999999999-10 model"`.
    case exceedsMemory(what: String, needed: Int, available: Int)

    /// What went wrong, in a sentence for the command line, e.g. "training diverged: the loss became
    /// NaN at epoch 3, step 17 (learning rate 0.1)".
    public var description: String {
        switch self {
        case let .diverged(epoch, step, loss, lr):
            let value = loss.isNaN ? "NaN" : (loss > 0 ? "+inf" : "-inf")
            return "training diverged: the loss became \(value) at epoch \(epoch), step \(step) (learning rate \(lr))"
        case let .invalidSetting(setting, requirement):
            return "the \(setting.rawValue) \(requirement)"
        case let .tooFewExamples(count):
            return "too few examples (\(count)) to train on"
        case let .exceedsMemory(what, needed, available):
            return "training \(what) needs about \(SystemMemory.describe(needed)) of memory, more than the \(SystemMemory.describe(available)) available"
        }
    }
}

/// One training loop for any model: seeded shuffling, mini-batch steps, validation each epoch,
/// metrics, NaN/∞ detection, and (see `checkpoint`) resuming bit for bit.
///
/// The loop takes a model, an optimizer, a data set and a loss of (model, batch). Epoch e
/// shuffles with a generator seeded by (seed, e) alone, so a run resumed from a checkpoint
/// after epoch e continues exactly as the uninterrupted one. Steps run in
/// `LearningPhase.training`, evaluations in `.inference`; buffers a step updates (batch
/// normalisation's running statistics, see `BufferUpdates`) are stored after its optimizer step.
///
///     var trainer = try Trainer(model: model, optimizer: Adam<Float>(learningRate: 1e-3),
///                               loop: TrainingLoop(epochs: 10), trainingData: train, validationData: validation)
///     try trainer.fit { record in print(record.epoch, record.validationAccuracy) }
///     let trained = trainer.model
public struct Trainer<Model: Module, Data: Dataset> {
    /// The scalar type of the model's tensors.
    public typealias Scalar = Model.Scalar
    /// The model being trained (updated in place by each step).
    public var model: Model
    /// The update rule and its state (momenta); its learning rate is set from `loop` at the start of
    /// each epoch.
    public var optimizer: any Optimizer<Model.Scalar>
    /// Epochs, batch size, seed, learning rate and schedule, clipping.
    public var loop: TrainingLoop
    /// The examples the steps are taken on, reshuffled every epoch.
    public let trainingData: Data
    /// The examples evaluated after each epoch; nil: no validation figures (NaN in `EpochRecord`).
    public let validationData: Data?
    /// Completed epochs.
    public var epochsCompleted = 0
    /// One record per completed epoch.
    public var history: [EpochRecord] = []
    let loss: (Model, Data.Batch) -> Tensor<Scalar>
    let evaluator: (Model, Data) -> Evaluation
    /// The data-parallel strategy once `distribute(over:)` has made this loop one of several
    /// replicas; nil for a single process.
    public internal(set) var dataParallel: DataParallel? = nil

    /// - Parameters:
    ///   - model: the model to train (its current parameters are the starting point).
    ///   - optimizer: the update rule, with its hyperparameters; its learning rate is set from
    ///     `loop` at the start of each epoch.
    ///   - loop: epochs, batch size, seed, learning rate and schedule, clipping.
    ///   - trainingData: the examples the steps are taken on.
    ///   - validationData: examples evaluated after each epoch (none: no validation figures).
    ///   - loss: the scalar loss of the model on one batch (the mean over its examples).
    ///   - evaluate: measures the model on a whole data set (default: the mean of `loss` over
    ///     batches of `loop.batchSize`, no accuracy).
    /// - Throws: `TrainingError` for an unusable loop or an empty training set.
    public init(model: Model, optimizer: any Optimizer<Model.Scalar>, loop: TrainingLoop, trainingData: Data,
                validationData: Data? = nil, loss: @escaping (Model, Data.Batch) -> Tensor<Model.Scalar>,
                evaluate: ((Model, Data) -> Evaluation)? = nil) throws {
        if let problem = loop.problem() { throw problem }
        guard trainingData.count > 0 else { throw TrainingError.tooFewExamples(0) }
        self.model = model
        self.optimizer = optimizer
        self.loop = loop
        self.trainingData = trainingData
        self.validationData = validationData
        self.loss = loss
        let batchSize = loop.batchSize
        self.evaluator = evaluate ?? { model, data in Self.meanLoss(of: model, on: data, batchSize: batchSize, loss: loss) }
    }

    /// Whether every configured epoch has run.
    public var isFinished: Bool { epochsCompleted >= loop.epochs }

    /// Trains one epoch over shuffled mini-batches, then evaluates the validation data.
    ///
    /// - Throws: `TrainingError.diverged` as soon as a batch loss (or the validation loss) is
    ///   not finite; the model is then the one before the bad step. `OptimizerError` if the
    ///   loss's gradients do not fit the model.
    @discardableResult
    public mutating func trainEpoch(progress: (StepProgress) -> Void = { _ in }) throws -> EpochRecord {
        if let dataParallel { return try trainEpoch(dataParallel, progress: progress) }
        let start = ContinuousClock.now
        let epoch = epochsCompleted
        let lr = loop.learningRate(epoch: epoch)
        optimizer.learningRate = Scalar(lr)
        var generator = SeededGenerator(seed: loop.seed &+ UInt64(epoch + 1) &* 0x9E37_79B9_7F4A_7C15)
        let batches = shuffledBatches(count: trainingData.count, batchSize: loop.batchSize, generator: &generator)
        let lossOfBatch = loss
        var lossSum = 0.0, seen = 0
        for (s, indices) in batches.enumerated() {
            let batch = trainingData.batch(indices)
            let bufferUpdates = BufferUpdates()
            var (value, gradients) = withLearningPhase(.training) {
                BufferUpdates.$recording.withValue(bufferUpdates) {
                    valueWithGradient(at: model) { lossOfBatch($0, batch) }
                }
            }
            let v = Double(value.scalar)
            guard v.isFinite else { throw TrainingError.diverged(epoch: epoch + 1, step: s + 1, loss: v, learningRate: lr) }
            if let c = loop.clipNorm { clipByGlobalNorm(&gradients, maxNorm: Scalar(c)) }
            try optimizer.update(&model, along: gradients)
            model.store(bufferUpdates)   // running statistics of batch normalisation
            lossSum += v * Double(indices.count)
            seen += indices.count
            progress(StepProgress(epoch: epoch + 1, step: s + 1, stepsPerEpoch: batches.count, epochs: loop.epochs,
                                  loss: lossSum / Double(seen), examples: seen, seconds: Self.seconds(since: start)))
        }
        let validation = validationData.map { evaluate(on: $0) }
        if let validation, !validation.loss.isFinite {
            throw TrainingError.diverged(epoch: epoch + 1, step: batches.count, loss: validation.loss, learningRate: lr)
        }
        epochsCompleted += 1
        let record = EpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(max(seen, 1)),
                                 validationLoss: validation?.loss ?? .nan, validationAccuracy: validation?.accuracy ?? .nan,
                                 learningRate: lr, seconds: Self.seconds(since: start))
        history.append(record)
        return record
    }

    /// Trains the remaining epochs, calling `epochEnded` after each (to print, checkpoint or
    /// stop early by throwing). Returns the whole history.
    @discardableResult
    public mutating func fit(epochEnded: (EpochRecord) throws -> Void = { _ in },
                             progress: (StepProgress) -> Void = { _ in }) throws -> [EpochRecord] {
        while !isFinished { try epochEnded(try trainEpoch(progress: progress)) }
        return history
    }

    /// The model measured on `data`, in `LearningPhase.inference`, without recording derivatives.
    public func evaluate(on data: Data) -> Evaluation {
        withLearningPhase(.inference) { withoutDerivative { evaluator(model, data) } }
    }

    /// The mean of `loss` over `data` in consecutive batches, weighted by batch size.
    static func meanLoss(of model: Model, on data: Data, batchSize: Int,
                         loss: (Model, Data.Batch) -> Tensor<Scalar>) -> Evaluation {
        guard data.count > 0 else { return Evaluation(loss: .nan) }
        var sum = 0.0
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, data.count))
            sum += Double(loss(model, data.batch(indices)).scalar) * Double(indices.count)
        }
        return Evaluation(loss: sum / Double(data.count))
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

extension Trainer where Model: Layer, Data == LabeledExamples<Model.Scalar> {
    /// A classifier's loop: the loss is the mean softmax cross-entropy of the model's outputs
    /// (logits) against the labels, and evaluations report accuracy too.
    public init(model: Model, optimizer: any Optimizer<Model.Scalar>, loop: TrainingLoop,
                trainingData: Data, validationData: Data? = nil) throws {
        try self.init(model: model, optimizer: optimizer, loop: loop, trainingData: trainingData,
                      validationData: validationData,
                      loss: { m, batch in Loss.softmaxCrossEntropy(logits: m(batch.inputs), labels: batch.labels) },
                      evaluate: { m, data in ClassificationReport(model: m, data: data).evaluation })
    }
}
