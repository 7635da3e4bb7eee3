import Foundation
import Testing
@testable import Backprop

/// Three Gaussian blobs in 5 dimensions: easy, fast, deterministic.
private func blobs(count: Int = 240, seed: UInt64 = 11) -> (Tensor<Float>, [Int]) {
    var rng = SeededGenerator(seed: seed)
    var rows: [Float] = [], labels: [Int] = []
    for i in 0..<count {
        let c = i % 3
        for d in 0..<5 { rows.append(Float(d == c ? 3 : 0) + Float(rng.nextGaussian()) + 10) }
        labels.append(c)
    }
    return (Tensor(shape: [count, 5], scalars: rows), labels)
}

private func configuration(_ optimizer: OptimizerKind, epochs: Int) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.layerSizes = [5, 8, 3]
    c.optimizer = optimizer
    c.learningRate = optimizer == .sgd ? 0.05 : 0.01
    c.epochs = epochs
    c.batchSize = 16
    c.seed = 3
    c.schedule = .cosine(epochs: epochs, minimum: 0)
    return c
}

@Test func trainingLearnsSeparableBlobs() throws {
    let (x, y) = blobs()
    var trainer = try ClassifierTraining(configuration: configuration(.adam, epochs: 8), features: x, labels: y, classCount: 3)
    let before = trainer.evaluate(.validation).loss
    while !trainer.isFinished { _ = try trainer.trainEpoch() }
    #expect(trainer.history.count == 8)
    #expect(trainer.evaluate(.validation).loss < before / 2)
    #expect(trainer.evaluate(.test).accuracy > 0.9)
}

@Test(arguments: [OptimizerKind.sgd, .adam, .adamw])
func resumingFromACheckpointReproducesTheUninterruptedRunBitForBit(optimizer: OptimizerKind) throws {
    let (x, y) = blobs()
    var c = configuration(optimizer, epochs: 4)
    c.nesterov = optimizer == .sgd
    var straight = try ClassifierTraining(configuration: c, features: x, labels: y, classCount: 3)
    while !straight.isFinished { _ = try straight.trainEpoch() }

    var first = try ClassifierTraining(configuration: c, features: x, labels: y, classCount: 3)
    _ = try first.trainEpoch(); _ = try first.trainEpoch()
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-ckpt-\(UUID().uuidString).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try first.writeCheckpoint(to: path)
    var resumed = try ClassifierTraining(resumingFrom: path, features: x, labels: y, classCount: 3)
    #expect(resumed.epochsCompleted == 2 && resumed.trainer.optimizer.step == first.trainer.optimizer.step)
    while !resumed.isFinished { _ = try resumed.trainEpoch() }

    for (a, b) in zip(resumed.classifier.parameters, straight.classifier.parameters) {
        #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern))
    }
    #expect(resumed.history.map(\.trainLoss) == straight.history.map(\.trainLoss))
}

@Test func resumingOnDifferentDataIsRejected() throws {
    let (x, y) = blobs()
    var t = try ClassifierTraining(configuration: configuration(.adam, epochs: 2), features: x, labels: y, classCount: 3)
    _ = try t.trainEpoch()
    let file = try t.checkpoint()
    let (other, _) = blobs(seed: 99)
    #expect(throws: DataError.self) {
        try ClassifierTraining(resuming: file, source: "ckpt", features: other, labels: y, classCount: 3)
    }
}

@Test func divergingLossStopsWithTheEpochAndStep() throws {
    let (x, y) = blobs()
    var c = configuration(.sgd, epochs: 3)
    c.learningRate = 1e30
    c.schedule = .constant
    var trainer = try ClassifierTraining(configuration: c, features: x, labels: y, classCount: 3)
    do {
        while !trainer.isFinished { _ = try trainer.trainEpoch() }
        Issue.record("training with lr 1e30 did not diverge")
    } catch let TrainingError.diverged(epoch, step, loss, _) {
        #expect(epoch >= 1 && step >= 1 && !loss.isFinite)
        let message = "\(TrainingError.diverged(epoch: epoch, step: step, loss: loss, learningRate: 1e30))"
        #expect(message.contains("epoch \(epoch), step \(step)") && !message.contains("--"))
    }
}

@Test func learnedBetaIsTrainedAndSaved() throws {
    let (x, y) = blobs()
    var c = configuration(.adam, epochs: 2)
    c.learnBeta = true
    var trainer = try ClassifierTraining(configuration: c, features: x, labels: y, classCount: 3)
    #expect(trainer.classifier.parameterNames == ["0.weight", "0.bias", "2.weight", "2.bias", "beta"])
    while !trainer.isFinished { _ = try trainer.trainEpoch() }
    #expect(trainer.classifier.beta.scalar != 1)
    let file = trainer.classifier.safeTensors()
    #expect(file.metadata["beta"] == "\(trainer.classifier.beta.scalar)")
}

@Test func digitsTrainingReachesHighAccuracyQuickly() throws {
    let digits = try LabeledDataset.digits()
    #expect(digits.count == 1797 && digits.featureCount == 64 && digits.classCount == 10)
    var c = TrainingConfiguration()
    c.epochs = 3
    var trainer = try ClassifierTraining(configuration: c, features: digits.features, labels: digits.labels, classCount: 10)
    while !trainer.isFinished { _ = try trainer.trainEpoch() }
    #expect(trainer.evaluate(.validation).accuracy > 0.85)
}
