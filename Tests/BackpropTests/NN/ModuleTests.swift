import Foundation
import Testing
@testable import Backprop

/// A struct model with named fields and a list of blocks: `encoder.weight`, `blocks.3.fc.bias`.
private struct Block: Layer {
    var fc: Linear<Float>
    var steps: Tensor<Float> = .zeros([])   // a buffer: counts calls in training

    mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
        visitor.module("fc", &fc)
        visitor.buffer("steps", &steps)
    }

    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { x + fc(x).relu() }
}

private struct Encoder: Layer {
    var encoder: Linear<Float>
    var blocks: [Block]
    var head: Sequential<Float>

    init(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        encoder = Linear(inputs: 5, outputs: 4, generator: &rng)
        blocks = (0..<4).map { _ in Block(fc: Linear(inputs: 4, outputs: 4, generator: &rng)) }
        head = Sequential(Linear(inputs: 4, outputs: 4, generator: &rng), Sequential<Float>(ReLU(), Linear(inputs: 4, outputs: 3, generator: &rng)))
    }

    mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
        visitor.module("encoder", &encoder)
        visitor.modules("blocks", &blocks)
        visitor.module("head", &head)
    }

    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        head(blocks.reduce(encoder(x)) { $1($0) })
    }
}

@Test func namesFollowPyTorchForFieldsListsAndNestedSequentials() {
    let model = Encoder(seed: 1)
    #expect(model.parameterNames == [
        "encoder.weight", "encoder.bias",
        "blocks.0.fc.weight", "blocks.0.fc.bias", "blocks.1.fc.weight", "blocks.1.fc.bias",
        "blocks.2.fc.weight", "blocks.2.fc.bias", "blocks.3.fc.weight", "blocks.3.fc.bias",
        "head.0.weight", "head.0.bias", "head.1.1.weight", "head.1.1.bias",
    ])
    #expect(model.namedBuffers.names == ["blocks.0.steps", "blocks.1.steps", "blocks.2.steps", "blocks.3.steps"])
    #expect(model.stateDict.names.count == 14 + 4)
    #expect(model.stateDict.names[2] == "blocks.0.fc.weight" && model.stateDict.names[4] == "blocks.0.steps")
    #expect(model.parameterCount == 5 * 4 + 4 + 4 * (16 + 4) + 16 + 4 + 12 + 3)
}

@Test func sequentialIsALayerAndNests() {
    var rng = SeededGenerator(seed: 2)
    let inner = Sequential<Double>(Linear(inputs: 3, outputs: 3, generator: &rng), Tanh())
    let outer = Sequential<Double>(Linear(inputs: 2, outputs: 3, generator: &rng), ReLU(), inner)
    #expect(outer.parameterNames == ["0.weight", "0.bias", "2.0.weight", "2.0.bias"])
    let x = Tensor<Double>(rows: [[0.5, -1]])
    #expect(outer(x) == inner((outer.layers[0] as! Linear<Double>)(x).relu()))
}

@Test func gradientsComeBackByNameAndEqualTheListTransform() {
    let model = Encoder(seed: 3)
    let x = Tensor<Float>.ones([2, 5]), labels = [0, 2]
    let (loss, grads) = valueWithGradient(at: model) { m in Loss.softmaxCrossEntropy(logits: m(x), labels: labels) }
    let (listLoss, listGrads) = valueWithGradient(at: model.parameters) { ps in
        Loss.softmaxCrossEntropy(logits: model.replacingParameters(ps)(x), labels: labels)
    }
    #expect(loss == listLoss)
    #expect(grads.names == model.parameterNames)
    #expect(grads.tensors == listGrads)
    #expect(grads["blocks.3.fc.bias"]?.shape == [4])
    #expect(grads["blocks.0.steps"] == nil)   // buffers are constants
}

/// Reads the learning phase on each call: 1 in training, 0 in evaluation.
private struct PhaseProbe: ParameterlessLayer {
    typealias Scalar = Float
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { x * Tensor(isTraining ? 1 : 0) }
}

@Test func layersKnowWhetherTheyAreTrainingOrEvaluating() throws {
    let probe = PhaseProbe()
    let x = Tensor<Float>([2])
    #expect(probe(x) == Tensor([0]))                                   // default: evaluation
    #expect(withLearningPhase(.training) { probe(x) } == Tensor([2]))
    // The trainer steps in training and evaluates in inference.
    var rng = SeededGenerator(seed: 4)
    let model = Sequential<Float>(Linear(inputs: 1, outputs: 2, generator: &rng))
    let data = try LabeledExamples(inputs: Tensor<Float>(shape: [4, 1], scalars: [1, 2, 3, 4]), labels: [0, 1, 0, 1])
    var phases: [LearningPhase] = []
    var trainer = try Trainer(model: model, optimizer: SGD<Float>(learningRate: 0.1), loop: TrainingLoop(epochs: 1, batchSize: 2),
                              trainingData: data, validationData: data,
                              loss: { m, batch in phases.append(LearningPhase.current); return Loss.softmaxCrossEntropy(logits: m(batch.inputs), labels: batch.labels) })
    try trainer.trainEpoch()
    #expect(phases == [.training, .training, .inference, .inference])
}

@Test func strictLoadReportsEveryMissingUnexpectedAndMisshapedNameAtOnce() throws {
    var model = Encoder(seed: 5)
    let before = model.stateDict
    var state = model.stateDict
    state["encoder.bias"] = nil
    state["blocks.1.steps"] = nil
    state["decoder.weight"] = .zeros([2])
    state["head.0.weight"] = .zeros([4, 5])
    #expect(throws: ModelError.stateDictMismatch(
        missing: ["encoder.bias", "blocks.1.steps"], unexpected: ["decoder.weight"],
        misshaped: [.init(name: "head.0.weight", expected: [4, 4], found: [4, 5])])) {
        try model.loadStateDict(state)
    }
    #expect(model.stateDict == before, "a failed load changed the model")
    let message = "\(ModelError.stateDictMismatch(missing: ["a"], unexpected: ["b"], misshaped: []))"
    #expect(message == "the tensors do not fit the model: missing \"a\"; unexpected \"b\"")
    // Non-strict: missing and unexpected names are ignored, the rest is loaded.
    state["head.0.weight"] = .ones([4, 4])
    try model.loadStateDict(state, strict: false)
    #expect(model.stateDict["head.0.weight"] == .ones([4, 4]) && model.stateDict["encoder.bias"] == before["encoder.bias"])
}

@Test func optimizersRejectGradientsThatDoNotFitTheModel() throws {
    var rng = SeededGenerator(seed: 6)
    var model = Sequential<Float>(Linear(inputs: 3, outputs: 2, generator: &rng))
    let before = model.stateDict
    var adam = Adam<Float>()
    let good = gradient(at: model) { $0(Tensor.ones([1, 3])).sum() }
    var flat = good
    flat["0.weight"] = Tensor.ones([6])                    // [6] for a [2, 3] parameter
    #expect(throws: OptimizerError.gradientShape(name: "0.weight", expected: [2, 3], found: [6])) {
        try adam.update(&model, along: flat)
    }
    var missing = good
    missing["0.bias"] = nil
    #expect(throws: OptimizerError.missingGradient("0.bias")) { try adam.update(&model, along: missing) }
    var extra = good
    extra["1.weight"] = .ones([1])
    #expect(throws: OptimizerError.unexpectedGradient("1.weight")) { try adam.update(&model, along: extra) }
    #expect(model.stateDict == before && adam.step == 0 && adam.state.isEmpty, "a rejected update changed something")
    try adam.update(&model, along: good)
    #expect(adam.step == 1 && model.stateDict != before)
}

@Test func optimizerStateIsSavedByNameAndCheckedOnLoad() throws {
    var model = Encoder(seed: 7)
    var sgd = SGD<Float>(learningRate: 0.1, momentum: 0.9)
    let x = Tensor<Float>.ones([2, 5])
    try sgd.update(&model, along: gradient(at: model) { $0(x).sum() })
    let state = sgd.state
    #expect(state.names == model.parameterNames.map { "momentum_buffer.\($0)" })

    var restored = SGD<Float>(learningRate: 0.1, momentum: 0.9)
    try restored.loadState(state, step: 1, for: model)
    #expect(restored.state == state && restored.step == 1)

    var missing = state
    missing["momentum_buffer.blocks.2.fc.bias"] = nil
    #expect(throws: OptimizerError.missingState("momentum_buffer.blocks.2.fc.bias")) {
        try restored.loadState(missing, step: 1, for: model)
    }
    var misshaped = state
    misshaped["momentum_buffer.encoder.weight"] = .zeros([3])
    #expect(throws: OptimizerError.stateShape(name: "momentum_buffer.encoder.weight", expected: [4, 5], found: [3])) {
        try restored.loadState(misshaped, step: 1, for: model)
    }
    var unexpected = state
    unexpected["momentum_buffer.decoder.weight"] = .zeros([1])
    #expect(throws: OptimizerError.unexpectedState("momentum_buffer.decoder.weight")) {
        try restored.loadState(unexpected, step: 1, for: model)
    }
    var adam = Adam<Float>()
    #expect(throws: OptimizerError.unexpectedState("momentum_buffer.encoder.weight")) { try adam.loadState(state, step: 1, for: model) }
}

/// Three Gaussian blobs in 5 dimensions.
private func blobs(count: Int = 240, seed: UInt64 = 11) throws -> LabeledExamples<Float> {
    var rng = SeededGenerator(seed: seed)
    var rows: [Float] = [], labels: [Int] = []
    for i in 0..<count {
        let c = i % 3
        for d in 0..<5 { rows.append(Float(d == c ? 4 : 0) + Float(rng.nextGaussian())) }
        labels.append(c)
    }
    return try LabeledExamples(inputs: Tensor(shape: [count, 5], scalars: rows), labels: labels)
}

@Test func theGeneralTrainerTrainsACustomModelAndResumesBitForBit() throws {
    let data = try blobs(), validation = try blobs(count: 60, seed: 12)
    let loop = TrainingLoop(epochs: 4, batchSize: 16, seed: 3, learningRate: 0.02, schedule: .cosine(epochs: 4, minimum: 0), clipNorm: 5)
    func makeTrainer() throws -> Trainer<Encoder, LabeledExamples<Float>> {
        try Trainer(model: Encoder(seed: 8), optimizer: Adam<Float>(learningRate: 0.01), loop: loop,
                    trainingData: data, validationData: validation)
    }
    var straight = try makeTrainer()
    let before = straight.evaluate(on: validation)
    var records: [EpochRecord] = []
    try straight.fit { records.append($0) }
    #expect(records.count == 4 && records == straight.history)
    #expect(straight.evaluate(on: validation).loss < before.loss / 2)
    #expect(try #require(straight.history.last?.validationAccuracy) > 0.9)

    var first = try makeTrainer()
    try first.trainEpoch(); try first.trainEpoch()
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("custom-ckpt-\(UUID().uuidString).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try first.writeCheckpoint(to: path, metadata: ["note": "custom"])
    let file = try SafeTensors<Float>(contentsOf: path)
    #expect(file.names.contains("optimizer.exp_avg.blocks.3.fc.bias") && file.names.contains("blocks.0.steps"))

    var resumed = try makeTrainer()
    try resumed.restore(from: file, source: path)
    #expect(resumed.epochsCompleted == 2 && resumed.optimizer.step == first.optimizer.step)
    try resumed.fit()
    #expect(resumed.model.stateDict.tensors.map { $0.scalars.map(\.bitPattern) }
            == straight.model.stateDict.tensors.map { $0.scalars.map(\.bitPattern) })
    #expect(resumed.history.map(\.trainLoss) == straight.history.map(\.trainLoss))

    var rng = SeededGenerator(seed: 0)
    var wrongModel = try Trainer(model: Sequential<Float>(Linear(inputs: 5, outputs: 3, generator: &rng)),
                                 optimizer: Adam<Float>(), loop: loop, trainingData: data)
    #expect(throws: DataError.self) { try wrongModel.restore(from: file, source: path) }
}

@Test func aNonFiniteLossStopsTrainingAndKeepsTheModelBeforeTheBadStep() throws {
    let data = try blobs()
    var calls = 0
    var seenByLoss: [NamedTensors<Float>] = []   // the model each step started from
    var trainer = try Trainer(model: Encoder(seed: 9), optimizer: SGD<Float>(learningRate: 0.1),
                              loop: TrainingLoop(epochs: 1, batchSize: 16), trainingData: data,
                              loss: { m, batch in
                                  calls += 1   // finite for two steps, NaN on the third
                                  seenByLoss.append(m.stateDict.mapTensors { $0.detached })
                                  let scale = Tensor<Float>(calls < 3 ? 1 : .nan)
                                  return Loss.softmaxCrossEntropy(logits: m(batch.inputs), labels: batch.labels) * scale
                              })
    do {
        try trainer.trainEpoch()
        Issue.record("a NaN loss did not stop training")
    } catch TrainingError.diverged(let epoch, let step, let loss, _) {
        #expect(epoch == 1 && step == 3 && loss.isNaN)
    }
    #expect(seenByLoss.count == 3 && seenByLoss[1] != seenByLoss[2], "the steps before the bad one changed the model")
    #expect(trainer.model.stateDict == seenByLoss[2], "the model is not the one before the bad step")
    #expect(trainer.epochsCompleted == 0 && trainer.history.isEmpty)
}

@Test func classifierRejectsDataThatDoesNotFitWithTypedErrors() throws {
    var rng = SeededGenerator(seed: 10)
    let classifier = Classifier(layerSizes: [5, 4, 3], generator: &rng)
    #expect(throws: ModelError.inputMismatch(expected: [5], found: [3])) { try classifier.predict(.zeros([2, 3])) }
    #expect(throws: ModelError.inputMismatch(expected: [5], found: [3])) { try classifier.probabilities(.zeros([2, 3])) }
    #expect(throws: ModelError.labelOutOfRange(label: 7, index: 1, classCount: 3)) {
        try classifier.evaluate(.zeros([2, 5]), labels: [0, 7])
    }
    #expect(throws: ModelError.inputMismatch(expected: [3], found: [2])) {
        try classifier.evaluate(.zeros([2, 5]), labels: [0, 1, 2])
    }
    #expect(try classifier.predict(.zeros([2, 5])).count == 2)
    #expect(throws: ModelError.inputMismatch(expected: [4], found: [3])) {
        try LabeledExamples<Float>(inputs: .zeros([3, 2]), labels: [0, 1, 2, 0])
    }
}
