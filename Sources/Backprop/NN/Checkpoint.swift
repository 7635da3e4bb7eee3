import Foundation

// Checkpoints of any training loop: the model's state dict, the optimizer's state and the
// loop's progress in one safetensors file, so a resumed run reaches the same final weights as
// an uninterrupted one.
//
// Layout: the model's tensors under their own names (so a checkpoint loads as a model file),
// the optimizer state as `optimizer.<buffer>.<parameter name>` (e.g.
// `optimizer.exp_avg.0.weight`), and metadata `checkpoint` = JSON {"epochs_completed",
// "optimizer_step", "history": [...]} beside whatever metadata the caller adds.

/// The metadata key of a checkpoint's progress record.
let checkpointMetadataKey = "checkpoint"
/// The prefix of optimizer state tensors in a checkpoint.
let optimizerStatePrefix = "optimizer."

extension Trainer {
    /// The checkpoint of the current state, with `metadata` added.
    public func checkpoint(metadata: [String: String] = [:]) throws -> SafeTensors<Scalar> {
        var metadata = metadata
        metadata[checkpointMetadataKey] = try CheckpointJSON.encode(
            CheckpointProgress(epochsCompleted: epochsCompleted, optimizerStep: optimizer.step, history: history))
        let tensors = Array(model.stateDict) + optimizer.state.map { (name: optimizerStatePrefix + $0.name, tensor: $0.tensor) }
        return SafeTensors(tensors: tensors.map { (name: $0.name, tensor: $0.tensor) }, metadata: metadata)
    }

    /// Writes the checkpoint atomically (temporary file, sync, rename).
    public func writeCheckpoint(to path: String, metadata: [String: String] = [:]) throws {
        try checkpoint(metadata: metadata).write(to: path)
    }

    /// Restores model, optimizer state and progress from a checkpoint of this loop.
    ///
    /// - Throws: `DataError` naming `source` when the file is not a checkpoint, its tensors do
    ///   not fit the model (every missing, unexpected and mis-shaped name), or its optimizer
    ///   state does not fit the parameters. Nothing changes unless the whole restore succeeds.
    public mutating func restore(from file: SafeTensors<Scalar>, source: String) throws {
        func fail(_ problem: String) -> DataError { DataError(file: source, problem: problem) }
        guard let progressText = file.metadata[checkpointMetadataKey] else {
            throw fail("not a training checkpoint (no \"\(checkpointMetadataKey)\" metadata)")
        }
        guard let progress = try? CheckpointJSON.decode(CheckpointProgress.self, from: progressText) else {
            throw fail("checkpoint metadata is malformed")
        }
        guard progress.epochsCompleted >= 0, progress.optimizerStep >= 0, progress.history.count == progress.epochsCompleted else {
            throw fail("checkpoint progress is inconsistent (epochs completed \(progress.epochsCompleted), optimizer step \(progress.optimizerStep), \(progress.history.count) epoch records)")
        }
        let modelTensors = file.tensors.filter { !$0.name.hasPrefix(optimizerStatePrefix) }
        let stateTensors = file.tensors.filter { $0.name.hasPrefix(optimizerStatePrefix) }
            .map { (name: String($0.name.dropFirst(optimizerStatePrefix.count)), tensor: $0.tensor) }
        var restored = self
        do {
            try restored.model.loadStateDict(NamedTensors(modelTensors))
            try restored.optimizer.loadState(NamedTensors(stateTensors), step: progress.optimizerStep, for: restored.model)
        } catch {
            throw fail("\(error)")
        }
        restored.epochsCompleted = progress.epochsCompleted
        restored.history = progress.history
        self = restored
    }
}

/// Training progress stored in a checkpoint.
struct CheckpointProgress: Codable {
    var epochsCompleted: Int
    var optimizerStep: Int
    var history: [EpochRecord]
}

/// The JSON of checkpoint and model-file metadata: snake_case keys, sorted, and NaN/±∞ as
/// strings (an epoch without validation data records NaN).
enum CheckpointJSON {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(type, from: Data(text.utf8))
    }
}
