import Backprop
import Testing
import TensorAcrossTasks

/// An actor that owns a model and trains it: the model and its optimizer live in actor state.
actor ModelOwner {
    var model: Sequential<Float>
    var optimizer = SGD<Float>(learningRate: 0.1)

    init(model: Sequential<Float>) { self.model = model }

    func step(along gradients: NamedTensors<Float>) throws {
        try optimizer.update(&model, along: gradients)
    }
}

@Test func gradientsComputedInChildTasksEqualThoseComputedInOrder() async throws {
    var rng = SeededGenerator(seed: 1)
    let model = Sequential<Float>(Linear(inputs: 4, outputs: 8, generator: &rng), ReLU(),
                                  Linear(inputs: 8, outputs: 3, generator: &rng))
    let batches = (0..<4).map { k in
        LabeledBatch(inputs: Tensor<Float>.randomNormal([5, 4], generator: &rng), labels: (0..<5).map { ($0 + k) % 3 })
    }
    let parallel = await gradientsInParallel(of: model, on: batches)
    let serial = batches.map { batch in
        gradient(at: model) { m in Loss.softmaxCrossEntropy(logits: m(batch.inputs), labels: batch.labels) }
    }
    #expect(parallel == serial)

    let owner = ModelOwner(model: model)
    for g in parallel { try await owner.step(along: g) }
    let trained = await owner.model
    #expect(trained.stateDict != model.stateDict)
}
