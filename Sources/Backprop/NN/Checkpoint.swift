import Foundation

// Checkpoints: a model file plus the optimizer state and training progress, so that
// `backprop train --resume FILE` continues to the same final weights as an uninterrupted run.
//
// Layout: the model file's tensors and metadata (so a checkpoint also works as `--model`), plus
// tensors `optimizer.<buffer>.<i>` (e.g. `optimizer.exp_avg.0`), `beta` when β is learned, and
// metadata `checkpoint` = JSON {"epochs_completed", "optimizer_step", "history": [...]} and
// `training` = the configuration (JSON).

extension Trainer {
    /// The checkpoint of the current state.
    public func checkpoint(extraMetadata: [String: String] = [:]) throws -> SafeTensors<Float> {
        var metadata = extraMetadata
        metadata[ModelMetadataKey.training] = try Self.json(configuration)
        metadata["checkpoint"] = try Self.json(CheckpointProgress(epochsCompleted: epochsCompleted,
                                                                  optimizerStep: optimizer.step, history: history))
        var file = classifier.safeTensors(extraMetadata: metadata)
        file.tensors += optimizer.stateTensors.map { (name: "optimizer.\($0.name)", tensor: $0.tensor) }
        if configuration.learnBeta { file.tensors.append((name: "beta", tensor: classifier.beta)) }
        return file
    }

    /// Writes the checkpoint atomically (temporary file, sync, rename).
    public func writeCheckpoint(to path: String, extraMetadata: [String: String] = [:]) throws {
        try checkpoint(extraMetadata: extraMetadata).write(to: path)
    }

    /// A trainer restored from a checkpoint, on the same data (the split and standardisation
    /// are recomputed from the stored configuration and checked against the stored ones).
    ///
    /// - Parameter epochs: a new total number of epochs (default: the stored one).
    /// - Throws: `DataError` naming `source` if the checkpoint is incomplete or does not fit the data.
    public init(resuming file: SafeTensors<Float>, source: String, features: Tensor<Float>, labels: [Int],
                classCount: Int, dataSource: String = "data", epochs: Int? = nil) throws {
        func fail(_ problem: String) -> DataError { DataError(file: source, problem: problem) }
        guard let configText = file.metadata[ModelMetadataKey.training], let progressText = file.metadata["checkpoint"] else {
            throw fail("not a training checkpoint (no \"training\" and \"checkpoint\" metadata)")
        }
        var configuration: TrainingConfiguration
        let progress: CheckpointProgress
        do {
            configuration = try Self.decoder.decode(TrainingConfiguration.self, from: Data(configText.utf8))
            progress = try Self.decoder.decode(CheckpointProgress.self, from: Data(progressText.utf8))
        } catch {
            throw fail("checkpoint metadata is malformed")
        }
        if let epochs { configuration.epochs = epochs }
        try self.init(configuration: configuration, features: features, labels: labels, classCount: classCount, source: dataSource)
        let stored = try Classifier(safeTensors: file, source: source)
        guard stored.layerSizes == classifier.layerSizes else {
            throw fail("checkpoint layer sizes \(stored.layerSizes) do not match its configuration \(classifier.layerSizes)")
        }
        guard stored.standardization == classifier.standardization else {
            throw fail("checkpoint was trained on different data (the input standardisation differs from \(dataSource)'s)")
        }
        classifier.network.parameters = stored.network.parameters
        classifier.beta = configuration.learnBeta ? (file["beta"] ?? stored.beta) : stored.beta
        let state = Dictionary(file.tensors.filter { $0.name.hasPrefix("optimizer.") }
            .map { (String($0.name.dropFirst("optimizer.".count)), $0.tensor) }, uniquingKeysWith: { a, _ in a })
        do {
            try optimizer.restore(step: progress.optimizerStep, stateTensors: state, parameters: parameters)
        } catch {
            throw fail("\(error)")
        }
        epochsCompleted = progress.epochsCompleted
        history = progress.history
    }

    /// Reads and restores a checkpoint file (see `init(resuming:source:features:labels:classCount:dataSource:epochs:)`).
    public init(resumingFrom path: String, features: Tensor<Float>, labels: [Int], classCount: Int,
                dataSource: String = "data", epochs: Int? = nil) throws {
        try self.init(resuming: try SafeTensors<Float>(contentsOf: path), source: path, features: features,
                      labels: labels, classCount: classCount, dataSource: dataSource, epochs: epochs)
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

/// Training progress stored in a checkpoint.
struct CheckpointProgress: Codable {
    var epochsCompleted: Int
    var optimizerStep: Int
    var history: [EpochRecord]
}
