import Foundation

/// `backprop train` as a library call: a `Classifier` built from a `TrainingConfiguration` and
/// trained by the general `Trainer` on a seeded, stratified split of labelled feature rows.
/// The network is the MLP of `layerSizes`, or the spec in `architecture` (a CNN on rows that
/// are images of `inputShape`, standardised with one mean and std per channel).
///
/// The data are split (70/10/20 by default), the input standardisation is fitted on the
/// training rows only and stored in the model, and the network is initialised from
/// `configuration.seed`. The loss is softmax(β·z) cross-entropy with the configured label
/// smoothing; β is a parameter when `learnBeta` is set.
///
///     var run = try ClassifierTraining(configuration: .init(), features: x, labels: y, classCount: 10)
///     try run.trainer.fit()
///     let report = run.evaluate(.test)
public struct ClassifierTraining {
    /// The settings of the run: network, optimizer, loop and split.
    public let configuration: TrainingConfiguration
    /// Which rows of the data are for training, validation and test.
    public let split: DataSplit
    /// The general loop, training `trainer.model`.
    public var trainer: Trainer<Classifier, LabeledExamples<Float>>
    let test: LabeledExamples<Float>

    /// The parts of the data set a report can be about.
    public enum Part: String, Sendable {
        /// The rows trained on, the rows evaluated after each epoch, and the held-out test rows.
        case train, validation, test
    }

    /// - Throws: `TrainingError` for an unusable configuration, too little data or more memory
    ///   than the machine has (`TrainingConfiguration.estimatedMemory`), `ModelError` when the
    ///   layer sizes, the spec or the input shape do not fit the data.
    public init(configuration: TrainingConfiguration, features: Tensor<Float>, labels: [Int], classCount: Int) throws {
        if let problem = configuration.problem() { throw problem }
        guard features.rank == 2, features.shape[0] == labels.count else {
            throw ModelError.inputMismatch(expected: [labels.count], found: Array(features.shape.prefix(1)))
        }
        let sizes = configuration.layerSizes
        var architecture: NetworkArchitecture? = nil, inputShape = [features.shape[1]]
        if let spec = configuration.architecture {
            architecture = try NetworkArchitecture(parsing: spec).resolved(classes: classCount)
            inputShape = configuration.inputShape ?? inputShape
            guard inputShape.reduce(1, *) == features.shape[1] else {
                throw ModelError.inputMismatch(expected: inputShape, found: [features.shape[1]])
            }
            guard let outputs = try architecture!.shapes(inputShape: inputShape).last, outputs.count == 1 else {
                throw ModelError.invalidArchitecture("the network's output must be one score per class (end with flatten and linear)")
            }
            guard outputs[0] >= classCount else { throw ModelError.classCountMismatch(outputs: outputs[0], classes: classCount) }
        } else {
            guard sizes[0] == features.shape[1] else { throw ModelError.inputMismatch(expected: [sizes[0]], found: [features.shape[1]]) }
            guard sizes[sizes.count - 1] >= classCount else {
                throw ModelError.classCountMismatch(outputs: sizes[sizes.count - 1], classes: classCount)
            }
        }
        if let problem = configuration.memoryProblem(exampleCount: labels.count, featureCount: features.shape[1],
                                                     classCount: classCount) {
            throw problem
        }
        let split = DataSplit.stratified(labels: labels, validationFraction: configuration.validationFraction,
                                         testFraction: configuration.testFraction, seed: configuration.seed)
        guard !split.train.isEmpty else { throw TrainingError.tooFewExamples(labels.count) }
        let all = try LabeledExamples(inputs: features, labels: labels)
        let train = all.subset(split.train)
        var generator = SeededGenerator(seed: configuration.seed)
        let classifier: Classifier
        if let architecture {
            // Images: one mean and std per channel; feature rows: per feature, as the MLP.
            let standardization = inputShape.count == 3 ? Standardization.fittedPerChannel(to: train.inputs, channels: inputShape[0])
                : .fitted(to: train.inputs)
            classifier = try Classifier(architecture: architecture, inputShape: inputShape, beta: configuration.beta,
                                        learnBeta: configuration.learnBeta, standardization: standardization,
                                        seed: configuration.seed, generator: &generator)
        } else {
            classifier = Classifier(layerSizes: sizes, activation: configuration.activation, beta: configuration.beta,
                                    learnBeta: configuration.learnBeta, initializer: configuration.initializer,
                                    standardization: .fitted(to: train.inputs), generator: &generator)
        }
        let smoothing = Float(configuration.labelSmoothing)
        self.configuration = configuration
        self.split = split
        self.test = all.subset(split.test)
        self.trainer = try Trainer(
            model: classifier, optimizer: configuration.makeOptimizer(), loop: configuration.loop, trainingData: train,
            validationData: all.subset(split.validation),
            loss: { model, batch in
                Loss.softmaxCrossEntropy(logits: model(batch.inputs), labels: batch.labels,
                                         inverseTemperature: model.beta, labelSmoothing: smoothing)
            },
            evaluate: { model, data in model.report(standardized: model.standardization.apply(data.inputs), labels: data.labels).evaluation })
    }

    /// The model being trained.
    public var classifier: Classifier { trainer.model }
    /// Whether every configured epoch has run.
    public var isFinished: Bool { trainer.isFinished }
    /// Completed epochs.
    public var epochsCompleted: Int { trainer.epochsCompleted }
    /// One record per completed epoch.
    public var history: [EpochRecord] { trainer.history }

    /// Trains one epoch (see `Trainer.trainEpoch(progress:)`).
    @discardableResult
    public mutating func trainEpoch(progress: (StepProgress) -> Void = { _ in }) throws -> EpochRecord {
        try trainer.trainEpoch(progress: progress)
    }

    /// The examples of one part of the split.
    public func data(_ part: Part) -> LabeledExamples<Float> {
        switch part {
        case .train: return trainer.trainingData
        case .validation: return trainer.validationData!
        case .test: return test
        }
    }

    /// Loss, accuracy and confusion matrix of the current model on one part of the data.
    public func evaluate(_ part: Part) -> ClassificationReport {
        let d = data(part)
        return classifier.report(standardized: classifier.standardization.apply(d.inputs), labels: d.labels)
    }

    /// The number of examples in a part.
    public func count(_ part: Part) -> Int { data(part).count }

    /// The checkpoint: the trainer's (model tensors, optimizer state, progress) plus the model
    /// file's metadata and the configuration, so it also loads as a model file.
    public func checkpoint(extraMetadata: [String: String] = [:]) throws -> SafeTensors<Float> {
        var metadata = classifier.modelMetadata.merging(extraMetadata) { own, _ in own }
        metadata[ModelMetadataKey.training] = try CheckpointJSON.encode(configuration)
        return try trainer.checkpoint(metadata: metadata)
    }

    /// Writes the checkpoint atomically (temporary file, sync, rename).
    public func writeCheckpoint(to path: String, extraMetadata: [String: String] = [:]) throws {
        try checkpoint(extraMetadata: extraMetadata).write(to: path)
    }

    /// A run restored from a checkpoint, on the same data (the split and standardisation are
    /// recomputed from the stored configuration and checked against the stored ones).
    ///
    /// A new number of epochs extends (or shortens) the run. The schedules then follow the new
    /// length as a scheduler built afresh for it would (PyTorch's `CosineAnnealingLR(T_max=N)`
    /// with `last_epoch` at the checkpoint): a cosine schedule whose length was the run's
    /// length takes the new length, so the rate continues from where the new curve is at
    /// this epoch rather than staying at its minimum; step and constant schedules do not
    /// depend on the length and are unchanged.
    ///
    /// - Parameters:
    ///   - file: the checkpoint, as written by `writeCheckpoint(to:extraMetadata:)`.
    ///   - source: the checkpoint's name in error messages.
    ///   - features: the data's feature rows [N, features], as for the original run.
    ///   - labels: one class label per row.
    ///   - classCount: the number of classes of the data.
    ///   - epochs: a new total number of epochs (default: the stored one); it may not be fewer
    ///     than the epochs the checkpoint has completed.
    /// - Throws: `DataError` naming `source` if the checkpoint is incomplete, holds an unusable
    ///   configuration or does not fit the data; `TrainingError.invalidSetting(.epochs, …)`
    ///   when `epochs` is fewer than the completed epochs.
    public init(resuming file: SafeTensors<Float>, source: String, features: Tensor<Float>, labels: [Int],
                classCount: Int, epochs: Int? = nil) throws {
        func fail(_ problem: String) -> DataError { DataError(file: source, problem: problem) }
        guard let configText = file.metadata[ModelMetadataKey.training] else {
            throw fail("not a training checkpoint (no \"training\" metadata)")
        }
        guard var configuration = try? CheckpointJSON.decode(TrainingConfiguration.self, from: configText) else {
            throw fail("checkpoint metadata is malformed")
        }
        if let problem = configuration.problem() { throw fail("checkpoint configuration: \(problem)") }
        if let epochs {
            if case let .cosine(horizon, minimum) = configuration.schedule, horizon == configuration.epochs {
                configuration.schedule = .cosine(epochs: epochs, minimum: minimum)
            }
            configuration.epochs = epochs
        }
        try self.init(configuration: configuration, features: features, labels: labels, classCount: classCount)
        let stored = try Classifier(safeTensors: file, source: source)
        guard stored.layerSizes == classifier.layerSizes, stored.architecture == classifier.architecture,
              stored.inputShape == classifier.inputShape else {
            throw fail("checkpoint network \(stored.architecture?.description ?? "\(stored.layerSizes)") does not match its configuration \(classifier.architecture?.description ?? "\(classifier.layerSizes)")")
        }
        guard stored.standardization == classifier.standardization else {
            throw fail("checkpoint was trained on different data (the input standardisation differs)")
        }
        try trainer.restore(from: file, source: source)
        if trainer.epochsCompleted > configuration.epochs {
            throw TrainingError.invalidSetting(.epochs, "must be at least the \(trainer.epochsCompleted) epochs \(source) has completed, got \(configuration.epochs)")
        }
    }

    /// Reads and restores a checkpoint file (see `init(resuming:source:features:labels:classCount:epochs:)`).
    public init(resumingFrom path: String, features: Tensor<Float>, labels: [Int], classCount: Int, epochs: Int? = nil) throws {
        try self.init(resuming: try SafeTensors<Float>(contentsOf: path), source: path, features: features,
                      labels: labels, classCount: classCount, epochs: epochs)
    }
}
