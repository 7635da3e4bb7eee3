/// One epoch's results, as written to `--metrics` (1-based `epoch`; `seconds` is the epoch's
/// own wall time).
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double
    public var validationAccuracy: Double
    public var learningRate: Double
    public var seconds: Double
}

/// Where training is within an epoch, reported after every step (for progress bars).
public struct StepProgress: Sendable {
    /// 1-based epoch and step within it.
    public var epoch: Int, step: Int
    public var stepsPerEpoch: Int, epochs: Int
    /// The mean training loss so far this epoch.
    public var loss: Double
    /// Examples trained on so far this epoch and the epoch's elapsed seconds.
    public var examples: Int, seconds: Double
}

/// Why training stopped early.
public enum TrainingError: Error, CustomStringConvertible {
    /// The loss became NaN or ±∞ at this (1-based) epoch and step.
    case diverged(epoch: Int, step: Int, loss: Double, learningRate: Double)
    /// The configuration does not fit the data.
    case invalid(String)

    public var description: String {
        switch self {
        case let .diverged(epoch, step, loss, lr):
            let value = loss.isNaN ? "NaN" : (loss > 0 ? "+inf" : "-inf")
            return "training diverged: the loss became \(value) at epoch \(epoch), step \(step) (learning rate \(lr)); "
                + "try a smaller --lr, --clip-norm 1, or another --optimizer"
        case let .invalid(message):
            return message
        }
    }
}

/// Trains a `Classifier` on a labelled data set, one epoch at a time.
///
/// The data are split (seeded, stratified), standardised with statistics of the training rows,
/// and the network is initialised from `configuration.seed`. Epoch e shuffles with a generator
/// seeded by (seed, e) alone, so training resumed from a checkpoint after epoch e reproduces the
/// uninterrupted run bit for bit.
///
///     var trainer = try Trainer(configuration: .init(), features: x, labels: y, classCount: 10)
///     while !trainer.isFinished { let record = try trainer.trainEpoch { _ in } }
///     let report = trainer.evaluate(.test)
public struct Trainer {
    public let configuration: TrainingConfiguration
    public let split: DataSplit
    public var classifier: Classifier
    public var optimizer: any Optimizer<Float>
    /// Completed epochs.
    public var epochsCompleted = 0
    /// One record per completed epoch.
    public var history: [EpochRecord] = []
    let trainX: Tensor<Float>, trainY: [Int]
    let validationX: Tensor<Float>, validationY: [Int]
    let testX: Tensor<Float>, testY: [Int]

    /// The parts of the data set a report can be about.
    public enum Part: String, Sendable { case train, validation, test }

    public init(configuration: TrainingConfiguration, features: Tensor<Float>, labels: [Int], classCount: Int,
                source: String = "data") throws {
        if let problem = configuration.problem() { throw TrainingError.invalid(problem) }
        precondition(features.rank == 2 && features.shape[0] == labels.count, "Trainer: features \(features.shape) for \(labels.count) labels")
        let sizes = configuration.layerSizes
        guard sizes[0] == features.shape[1] else {
            throw TrainingError.invalid("\(source): layer sizes \(sizes.map(String.init).joined(separator: ",")) start with \(sizes[0]) inputs, but the data have \(features.shape[1]) features per row")
        }
        guard sizes[sizes.count - 1] >= classCount else {
            throw TrainingError.invalid("\(source): layer sizes \(sizes.map(String.init).joined(separator: ",")) end with \(sizes[sizes.count - 1]) outputs, but the data have \(classCount) classes")
        }
        let split = DataSplit.stratified(labels: labels, validationFraction: configuration.validationFraction,
                                         testFraction: configuration.testFraction, seed: configuration.seed)
        guard !split.train.isEmpty else { throw TrainingError.invalid("\(source): too few examples (\(labels.count)) to train on") }
        self.configuration = configuration
        self.split = split
        let rawTrain = features.gatheringRows(split.train)
        let standardization = Standardization.fitted(to: rawTrain)
        trainX = standardization.apply(rawTrain)
        trainY = split.train.map { labels[$0] }
        validationX = standardization.apply(features.gatheringRows(split.validation))
        validationY = split.validation.map { labels[$0] }
        testX = standardization.apply(features.gatheringRows(split.test))
        testY = split.test.map { labels[$0] }
        var generator = SeededGenerator(seed: configuration.seed)
        classifier = Classifier(layerSizes: sizes, activation: configuration.activation, beta: configuration.beta,
                                initializer: configuration.initializer, standardization: standardization, generator: &generator)
        optimizer = configuration.makeOptimizer()
    }

    /// Whether every configured epoch has run.
    public var isFinished: Bool { epochsCompleted >= configuration.epochs }

    /// The trainable tensors: the network's parameters, then β if it is learned.
    public var parameters: [Tensor<Float>] {
        classifier.network.parameters + (configuration.learnBeta ? [classifier.beta] : [])
    }

    mutating func setParameters(_ ps: [Tensor<Float>]) {
        let n = classifier.network.parameters.count
        classifier.network.parameters = Array(ps.prefix(n))
        if configuration.learnBeta { classifier.beta = ps[n] }
    }

    /// The learning rate epoch `epoch` (0-based) uses.
    public func learningRate(epoch: Int) -> Double {
        configuration.schedule.learningRate(base: configuration.learningRate, epoch: epoch)
    }

    /// Trains one epoch over shuffled mini-batches, then measures the validation split.
    ///
    /// - Throws: `TrainingError.diverged` as soon as a batch loss (or the validation loss) is
    ///   not finite; the weights are then those before the bad step.
    public mutating func trainEpoch(progress: (StepProgress) -> Void = { _ in }) throws -> EpochRecord {
        let start = ContinuousClock.now
        let epoch = epochsCompleted
        let lr = learningRate(epoch: epoch)
        optimizer.learningRate = Float(lr)
        var generator = SeededGenerator(seed: configuration.seed &+ UInt64(epoch + 1) &* 0x9E37_79B9_7F4A_7C15)
        let batches = shuffledBatches(count: trainY.count, batchSize: configuration.batchSize, generator: &generator)
        let network = classifier.network, learnBeta = configuration.learnBeta, fixedBeta = classifier.beta
        let smoothing = Float(configuration.labelSmoothing)
        let n = network.parameters.count
        var params = parameters
        var lossSum = 0.0, seen = 0
        for (s, batch) in batches.enumerated() {
            let x = trainX.gatheringRows(batch), y = batch.map { trainY[$0] }
            var (loss, grads) = valueWithGradient(at: params) { ps in
                let logits = network.replacingParameters(Array(ps.prefix(n)))(x)
                return Loss.softmaxCrossEntropy(logits: logits, labels: y, inverseTemperature: learnBeta ? ps[n] : fixedBeta,
                                                labelSmoothing: smoothing)
            }
            let value = Double(loss.scalar)
            guard value.isFinite else {
                setParameters(params)
                throw TrainingError.diverged(epoch: epoch + 1, step: s + 1, loss: value, learningRate: lr)
            }
            if let c = configuration.clipNorm { clipByGlobalNorm(&grads, maxNorm: Float(c)) }
            optimizer.update(&params, gradients: grads)
            lossSum += value * Double(batch.count)
            seen += batch.count
            progress(StepProgress(epoch: epoch + 1, step: s + 1, stepsPerEpoch: batches.count, epochs: configuration.epochs,
                                  loss: lossSum / Double(seen), examples: seen, seconds: Self.seconds(since: start)))
        }
        setParameters(params)
        let validation = evaluate(.validation)
        if !validationY.isEmpty && !validation.loss.isFinite {
            throw TrainingError.diverged(epoch: epoch + 1, step: batches.count, loss: validation.loss, learningRate: lr)
        }
        epochsCompleted += 1
        let record = EpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(max(seen, 1)), validationLoss: validation.loss,
                                 validationAccuracy: validation.accuracy, learningRate: lr, seconds: Self.seconds(since: start))
        history.append(record)
        return record
    }

    /// Loss, accuracy and confusion matrix of the current model on one part of the data.
    public func evaluate(_ part: Part) -> ClassificationReport {
        switch part {
        case .train: return classifier.evaluate(standardized: trainX, labels: trainY)
        case .validation: return classifier.evaluate(standardized: validationX, labels: validationY)
        case .test: return classifier.evaluate(standardized: testX, labels: testY)
        }
    }

    /// The number of examples in a part.
    public func count(_ part: Part) -> Int {
        switch part {
        case .train: return trainY.count
        case .validation: return validationY.count
        case .test: return testY.count
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
