import Backprop

/// The gradient of the mean cross-entropy of `model` on each of `batches`, computed in child
/// tasks at once: models, tensors and gradients cross task boundaries as `Sendable` values.
public func gradientsInParallel(of model: Sequential<Float>, on batches: [LabeledBatch<Float>]) async
    -> [NamedTensors<Float>] {
    await withTaskGroup(of: (Int, NamedTensors<Float>).self) { group in
        for (i, batch) in batches.enumerated() {
            group.addTask {
                (i, gradient(at: model) { m in Loss.softmaxCrossEntropy(logits: m(batch.inputs), labels: batch.labels) })
            }
        }
        var results = [NamedTensors<Float>?](repeating: nil, count: batches.count)
        for await (i, g) in group { results[i] = g }
        return results.map { $0! }
    }
}
