import Foundation
import Synchronization

/// New values for a model's buffers, computed during a training forward pass and stored into
/// the model after the step — batch normalisation's running statistics.
///
/// A model is a value and its call does not mutate it, so a layer whose buffers change in
/// training (PyTorch updates them inside `forward`) records the new values here, under its
/// identity, while a step runs; the step's owner then stores them into its model. `Trainer`
/// does this after every step (not after a step whose loss diverged). In a loop of your own:
///
///     let (loss, grads) = model.updatingBuffers { m in
///         withLearningPhase(.training) { valueWithGradient(at: m) { lossOf($0) } }
///     }
///
/// A training-mode forward pass outside `updatingBuffers` uses batch statistics but leaves the
/// running statistics as they are.
public final class BufferUpdates: Sendable {
    private let pending = Mutex<[Int: [String: any Sendable]]>([:])

    /// An empty set of updates, to record a step's into.
    public init() {}

    /// The updates being recorded on this task, if any.
    @TaskLocal static var recording: BufferUpdates?
    /// The updates being stored into a model on this task (read by the layers' `visitTensors`).
    @TaskLocal static var storing: BufferUpdates?

    /// Whether no layer recorded anything.
    public var isEmpty: Bool { pending.withLock { $0.isEmpty } }

    /// Records `tensors` (by local buffer name) for the layer with identity `id`.
    func record<Scalar: TensorScalar>(_ id: Int, _ tensors: [String: Tensor<Scalar>]) {
        pending.withLock { $0[id] = tensors.mapValues { $0.detached } }
    }

    /// The recorded tensors of layer `id`, if it recorded any.
    func tensors<Scalar: TensorScalar>(for id: Int, as _: Scalar.Type = Scalar.self) -> [String: Tensor<Scalar>]? {
        pending.withLock { $0[id] }?.compactMapValues { $0 as? Tensor<Scalar> }
    }

    /// A fresh identity for a layer that records buffer updates (copies of the layer share it).
    static func makeIdentity() -> Int { nextIdentity.add(1, ordering: .relaxed).newValue }
    private static let nextIdentity = Atomic<Int>(0)
}

extension Module {
    /// Runs `body` on this model with buffer updates recorded, then stores them into the model
    /// (see `BufferUpdates`).
    public mutating func updatingBuffers<R>(_ body: (Self) throws -> R) rethrows -> R {
        let updates = BufferUpdates()
        let model = self
        let result = try BufferUpdates.$recording.withValue(updates) { try body(model) }
        store(updates)
        return result
    }

    /// Stores recorded buffer updates into this model: each layer that recorded some takes
    /// them as it is visited.
    public mutating func store(_ updates: BufferUpdates) {
        guard !updates.isEmpty else { return }
        var visitor = TensorCollector<Scalar>(role: .buffer)
        BufferUpdates.$storing.withValue(updates) { visitTensors(with: &visitor) }
    }
}
