import Foundation
import Testing
@testable import Backprop

// Numbers from model files and checkpoints are range-checked before conversion; settings that
// make no sense are typed errors; memory is estimated before allocating; a resume that extends
// the run keeps every schedule meaningful.

/// Three separable blobs in 4 dimensions.
private func blobs(count: Int = 120) -> (Tensor<Float>, [Int]) {
    var rng = SeededGenerator(seed: 21)
    var rows: [Float] = [], labels: [Int] = []
    for i in 0..<count {
        let c = i % 3
        for d in 0..<4 { rows.append(Float(d == c ? 3 : 0) + Float(rng.nextGaussian())) }
        labels.append(c)
    }
    return (Tensor(shape: [count, 4], scalars: rows), labels)
}

private func smallConfiguration(epochs: Int, schedule: LearningRateSchedule) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.layerSizes = [4, 6, 3]
    c.optimizer = .sgd
    c.learningRate = 0.05
    c.epochs = epochs
    c.batchSize = 16
    c.seed = 4
    c.schedule = schedule
    return c
}

private func temporaryFile(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("backprop-hostile-\(UUID().uuidString)-\(name)").path
}

private func expectModelError(_ metadata: [String: String], _ fragment: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
    var rng = SeededGenerator(seed: 0)
    let file = SafeTensors<Float>(tensors: [("0.weight", .randomUniform([4, 3], generator: &rng)), ("0.bias", .zeros([4]))],
                                  metadata: metadata)
    expectDataError(file: "m.safetensors", containing: fragment, sourceLocation: sourceLocation) {
        _ = try Classifier(safeTensors: file, source: "m.safetensors")
    }
}

@Test func outOfRangeNumbersInModelMetadataAreErrorsNotTraps() {
    for architecture in ["[3,1e20]", "[1e308,4]", "[3,4.5]", "[-3,4]", "[3,true]", "[3,\"4\"]"] {
        expectModelError(["architecture": architecture], "metadata architecture \(architecture) does not match")
    }
    expectModelError(["input_mean": "[0,1e39,0]"], "input_mean must be a JSON array of 3 numbers within Float's range")
    expectModelError(["input_std": "[1,1e-50,1]"], "input_std must be a JSON array of 3 non-zero numbers within Float's range")
    expectModelError(["beta": "1e39"], "metadata beta \"1e39\" is not a finite number")
}

@Test func settingsThatMakeNoSenseAreTypedErrors() {
    func problem(_ change: (inout TrainingConfiguration) -> Void) -> TrainingError? {
        var c = TrainingConfiguration()
        change(&c)
        return c.problem()
    }
    #expect(problem { $0.momentum = -1 } == .invalidSetting(.momentum, "must be a finite number ≥ 0, got -1.0"))
    #expect(problem { $0.momentum = .nan } == .invalidSetting(.momentum, "must be a finite number ≥ 0, got nan"))
    #expect(problem { $0.weightDecay = -1 } == .invalidSetting(.weightDecay, "must be a finite number ≥ 0, got -1.0"))
    #expect(problem { $0.weightDecay = .infinity } == .invalidSetting(.weightDecay, "must be a finite number ≥ 0, got inf"))
    for factor in [0, -1, 2, Double.nan] {
        #expect(problem { $0.schedule = .step(every: 2, factor: factor) } == .invalidSetting(.stepFactor, "must be in (0, 1], got \(factor)"))
    }
    #expect(problem { $0.schedule = .step(every: 0, factor: 0.5) } == .invalidSetting(.stepSize, "must be at least 1, got 0"))
    #expect(problem { $0.schedule = .cosine(epochs: 0, minimum: 0) } == .invalidSetting(.cosineHorizon, "must be at least 1, got 0"))
    #expect(problem { $0.schedule = .cosine(epochs: 5, minimum: -1) } != nil)
    #expect(problem { $0.clipNorm = .infinity } == .invalidSetting(.clipNorm, "must be a positive finite number, got inf"))
    #expect(problem { $0.validationFraction = .nan } == .invalidSetting(.splitFractions, "must be ≥ 0 and sum to less than 1"))
    #expect(problem { $0.testFraction = .infinity } != nil)
    #expect(problem { $0.schedule = .step(every: 2, factor: 1) } == nil)
}

@Test func impossibleLayerSizesAreRefusedBeforeAllocating() throws {
    let (x, y) = blobs()
    var c = smallConfiguration(epochs: 1, schedule: .constant)
    c.layerSizes = [4, 999_999_999, 3]
    #expect(c.estimatedMemory(exampleCount: 120, featureCount: 4, classCount: 3) > 4 * 4 * 999_999_999.0)
    do {
        _ = try ClassifierTraining(configuration: c, features: x, labels: y, classCount: 3)
        Issue.record("allocated a 4-999999999-3 network")
    } catch let TrainingError.exceedsMemory(what, needed, available) {
        #expect(what == "the 4-999999999-3 model with batch size 16")
        #expect(needed > available)
    }
    // The estimate of a small run is small, and the check passes with room to spare.
    let small = smallConfiguration(epochs: 1, schedule: .constant)
    #expect(small.estimatedMemory(exampleCount: 120, featureCount: 4, classCount: 3) < 1_048_576)
    #expect(small.memoryProblem(exampleCount: 120, featureCount: 4, classCount: 3, available: 1 << 20) == nil)
    #expect(small.memoryProblem(exampleCount: 120, featureCount: 4, classCount: 3, available: 1000) != nil)
}

@Test func memoryEstimateOfASpecdNetworkCountsItsLayers() {
    var c = TrainingConfiguration()
    c.architecture = "conv 16 3 pad 1, relu, maxpool 2, flatten, linear 10"
    c.inputShape = [1, 28, 28]
    let (parameters, widths) = c.parametersAndWidths(featureCount: 784)
    // conv: 16 filters of 1·3·3 and 16 biases; linear: 16·14·14 = 3136 inputs × 10 and 10 biases.
    let expectedParameters: Double = 16 * 9 + 16 + 3136 * 10 + 10
    #expect(parameters == expectedParameters)
    // The input (784), then conv (16·28·28) with its column buffer (1·3·3 × 28·28), relu
    // (16·28·28), max pool (16·14·14), flatten (3136) and linear (10).
    let expectedWidths: Double = 784 + 12_544 + 9 * 784 + 12_544 + 3136 + 3136 + 10
    #expect(widths == expectedWidths)
    // A convolution the MLP estimate would call small: 4096 channels of a 512×512 image need
    // 4 GiB per example, so a batch of 32 cannot fit in 1 GiB.
    var wide = TrainingConfiguration()
    wide.architecture = "conv 4096 3 pad 1, flatten, linear 10"
    wide.inputShape = [1, 512, 512]
    #expect(wide.memoryProblem(exampleCount: 100, featureCount: 512 * 512, classCount: 10, available: 1 << 30) != nil)
    // A spec that does not fit its input is estimated as the MLP of `layerSizes`.
    var misfit = TrainingConfiguration()
    misfit.architecture = "linear 10"
    misfit.inputShape = [1, 28, 28]
    #expect(misfit.parametersAndWidths(featureCount: 784) == TrainingConfiguration().parametersAndWidths(featureCount: 784))
}

@Test func memoryLimitSizesParse() {
    #expect(SystemMemory.parseSize("1048576") == 1 << 20)
    #expect(SystemMemory.parseSize("512M") == 512 << 20)
    #expect(SystemMemory.parseSize("4g") == 4 << 30)
    #expect(SystemMemory.parseSize("1.5K") == 1536)
    for bad in ["", "0", "-1G", "1e3", "G", "1GB", "99999999999T", "nan"] { #expect(SystemMemory.parseSize(bad) == nil, "\(bad)") }
    #expect(SystemMemory.available > 0)
}

/// Every schedule across a resume that extends a 2-epoch run to 4: the rate of each resumed
/// epoch is the schedule's value for the new length (cosine: its horizon follows the new
/// length, so no epoch trains at the minimum), and constant and step runs end bit-identical
/// to a 4-epoch run from the start.
@Test(arguments: [LearningRateSchedule.constant, .step(every: 1, factor: 0.5), .cosine(epochs: 2, minimum: 0)])
func everyScheduleContinuesMeaningfullyWhenAResumeExtendsTheRun(schedule: LearningRateSchedule) throws {
    let (x, y) = blobs()
    var first = try ClassifierTraining(configuration: smallConfiguration(epochs: 2, schedule: schedule),
                                       features: x, labels: y, classCount: 3)
    while !first.isFinished { try first.trainEpoch() }
    let path = temporaryFile("ckpt.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try first.writeCheckpoint(to: path)

    var resumed = try ClassifierTraining(resumingFrom: path, features: x, labels: y, classCount: 3, epochs: 4)
    while !resumed.isFinished { try resumed.trainEpoch() }
    let expectedSchedule: LearningRateSchedule
    if case .cosine = schedule { expectedSchedule = .cosine(epochs: 4, minimum: 0) } else { expectedSchedule = schedule }
    #expect(resumed.configuration.schedule == expectedSchedule)
    let rates = resumed.history.map(\.learningRate)
    #expect(rates.count == 4)
    for epoch in 2..<4 {
        #expect(rates[epoch] == expectedSchedule.learningRate(base: 0.05, epoch: epoch), "epoch \(epoch + 1)")
        #expect(rates[epoch] > 0, "epoch \(epoch + 1) trains at learning rate 0")
    }
    if case .cosine = schedule {
        // (1 + cos(π·2/4))/2 = 1/2 of the base rate at epoch 3, (1 + cos(3π/4))/2 at epoch 4.
        #expect(Swift.abs(rates[2] - 0.025) <= 0.05 * 2 * Double.ulpOfOne)
    } else {
        var straight = try ClassifierTraining(configuration: smallConfiguration(epochs: 4, schedule: schedule),
                                              features: x, labels: y, classCount: 3)
        while !straight.isFinished { try straight.trainEpoch() }
        for (a, b) in zip(resumed.classifier.parameters, straight.classifier.parameters) {
            #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern))
        }
    }
}

@Test func aResumeCannotShortenTheRunBelowItsCompletedEpochs() throws {
    let (x, y) = blobs()
    var first = try ClassifierTraining(configuration: smallConfiguration(epochs: 3, schedule: .constant),
                                       features: x, labels: y, classCount: 3)
    while !first.isFinished { try first.trainEpoch() }
    let path = temporaryFile("ckpt.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try first.writeCheckpoint(to: path)
    #expect(throws: TrainingError.invalidSetting(.epochs, "must be at least the 3 epochs \(path) has completed, got 2")) {
        _ = try ClassifierTraining(resumingFrom: path, features: x, labels: y, classCount: 3, epochs: 2)
    }
}

@Test func checkpointsWithOutOfRangeProgressOrSettingsAreRejectedNamingTheFile() throws {
    let (x, y) = blobs()
    var run = try ClassifierTraining(configuration: smallConfiguration(epochs: 2, schedule: .constant),
                                     features: x, labels: y, classCount: 3)
    try run.trainEpoch()
    let good = try run.checkpoint()
    func tampered(_ key: String, _ edit: (String) -> String) -> SafeTensors<Float> {
        var metadata = good.metadata
        metadata[key] = edit(metadata[key]!)
        return SafeTensors(tensors: good.tensors, metadata: metadata)
    }
    let cases: [(SafeTensors<Float>, String)] = [
        (tampered("checkpoint") { $0.replacingOccurrences(of: "\"epochs_completed\":1", with: "\"epochs_completed\":-3") },
         "checkpoint progress is inconsistent"),
        (tampered("checkpoint") { $0.replacingOccurrences(of: "\"optimizer_step\":", with: "\"optimizer_step\":-") },
         "checkpoint progress is inconsistent"),
        (tampered("training") { $0.replacingOccurrences(of: "\"validation_fraction\":0.1", with: "\"validation_fraction\":\"nan\"") },
         "checkpoint configuration: the validation and test fractions must be ≥ 0 and sum to less than 1"),
        (tampered("training") { $0.replacingOccurrences(of: "\"momentum\":0.9", with: "\"momentum\":-1") },
         "checkpoint configuration: the momentum must be a finite number ≥ 0"),
    ]
    for (file, fragment) in cases {
        expectDataError(file: "c.safetensors", containing: fragment) {
            _ = try ClassifierTraining(resuming: file, source: "c.safetensors", features: x, labels: y, classCount: 3)
        }
    }
}
