import Foundation
import Testing
@testable import Backprop

// Data-parallel training with threads as ranks (InProcessCommunicator): the same code paths as
// an MPI run, without MPI.

/// Four Gaussian blobs in 6 dimensions.
private func blobs(count: Int = 203, seed: UInt64 = 5) -> (Tensor<Float>, [Int]) {
    var rng = SeededGenerator(seed: seed)
    var rows: [Float] = [], labels: [Int] = []
    for i in 0..<count {
        let c = i % 4
        for d in 0..<6 { rows.append(Float(d == c ? 2.5 : 0) + Float(rng.nextGaussian())) }
        labels.append(c)
    }
    return (Tensor(shape: [count, 6], scalars: rows), labels)
}

private func configuration(_ optimizer: OptimizerKind, epochs: Int = 1, batchSize: Int = 16) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.layerSizes = [6, 12, 4]
    c.optimizer = optimizer
    c.learningRate = optimizer == .sgd ? 0.05 : 0.01
    c.momentum = optimizer == .sgd ? 0.9 : 0
    c.epochs = epochs
    c.batchSize = batchSize
    c.seed = 7
    return c
}

/// max |a − b| / max |b| over each tensor, the largest over all tensors.
private func relativeDifference(_ a: [Tensor<Float>], _ b: [Tensor<Float>]) -> Double {
    zip(a, b).map { x, y in
        let scale = y.scalars.map { Swift.abs(Double($0)) }.max() ?? 0
        let diff = zip(x.scalars, y.scalars).map { Swift.abs(Double($0) - Double($1)) }.max() ?? 0
        return scale > 0 ? diff / scale : diff
    }.max() ?? 0
}

private func bits(_ tensors: [Tensor<Float>]) -> [[UInt32]] { tensors.map { $0.scalars.map(\.bitPattern) } }

private struct Failure: Error, Equatable {}

// MARK: - The communicator

@Test func inProcessCollectivesReduceBroadcastAndWait() throws {
    let results = try InProcessCommunicator.run(ranks: 3) { c -> [Double] in
        var f: [Float] = [Float(c.rank), 1]
        try c.allReduce(&f, .sum)
        var d: [Double] = [Double(c.rank) * 3]
        try c.allReduce(&d, .mean)
        var b: [Double] = [Double(c.rank + 10), 0.5]
        try c.broadcast(&b, from: 1)
        try c.barrier()
        // Two reductions in flight, waited for in the opposite order.
        var x: [Float] = [Float(c.rank)], y: [Float] = [2]
        let (px, py) = try x.withUnsafeMutableBufferPointer { bx in
            try y.withUnsafeMutableBufferPointer { by in (try c.startAllReduce(bx, .sum), try c.startAllReduce(by, .mean)) }
        }
        try py.wait()
        try px.wait()
        #expect(try px.test())
        let failures = try c.countFailures(c.rank == 2)
        let agree = try c.allAgree(on: [42, UInt64.max])
        let disagree = try c.allAgree(on: c.rank == 1 ? [1, 2] : [1])
        return [Double(f[0]), Double(f[1]), d[0], b[0], b[1], Double(x[0]), Double(y[0]), Double(failures),
                agree ? 1 : 0, disagree ? 1 : 0]
    }
    for r in results { #expect(r == [3, 3, 3, 11, 0.5, 3, 2, 1, 1, 0]) }
}

@Test func aRankThatThrowsReleasesTheOthersWaitingInACollective() throws {
    let seen = LockedList()
    #expect(throws: Failure.self) {
        _ = try InProcessCommunicator.run(ranks: 3) { c in
            if c.rank == 2 { throw Failure() }
            do {
                var x: [Float] = [1]
                try c.allReduce(&x, .sum)
            } catch let error as CommunicatorError {
                seen.append("\(c.rank): \(error)")
                throw error
            }
        }
    }
    #expect(seen.items.sorted() == ["0: rank 2 stopped the job: Failure()", "1: rank 2 stopped the job: Failure()"])
}

@Test func mismatchedCollectivesAreReportedNotHung() throws {
    #expect(throws: CommunicatorError.self) {
        _ = try InProcessCommunicator.run(ranks: 2) { c in
            var x: [Float] = c.rank == 0 ? [1] : [1, 2]
            try c.allReduce(&x, .sum)
        }
    }
}

@Test func mpiCommunicatorIsUnavailableWithoutTheLibrary() throws {
    // A library path that does not exist (the variable is read when `world()` is called, so
    // this checks the loader's error, not the machine's MPI).
    let error = try #require(throws: CommunicatorError.self) { _ = try MPILibrary.load("/nonexistent/libmpi.so.40") }
    #expect("\(error)".hasPrefix("MPI is not available: cannot load /nonexistent/libmpi.so.40"))
}

@Test func launchesAreDetectedFromTheLaunchersEnvironment() {
    #expect(MPILaunch.detect([:]) == nil)
    #expect(MPILaunch.detect(["OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "2"]) == MPILaunch(size: 4, rank: 2))
    #expect(MPILaunch.detect(["PMI_SIZE": "2", "PMI_RANK": "0"]) == MPILaunch(size: 2, rank: 0))
    #expect(MPILaunch.detect(["PMIX_RANK": "1"]) == MPILaunch(size: nil, rank: 1))
}

// MARK: - The sampler and the streaming backward pass

@Test(arguments: [1, 2, 3, 8])
func shardsAreDisjointAndCoverEveryExampleOncePerEpoch(ranks: Int) {
    let count = 103, batch = 10
    for epoch in 0..<3 {
        let samplers = (0..<ranks).map { DistributedSampler(count: count, batchSize: batch, seed: 9, rank: $0, size: ranks) }
        let global = samplers[0].globalBatches(epoch: epoch)
        var generator = SeededGenerator(seed: 9 &+ UInt64(epoch + 1) &* 0x9E37_79B9_7F4A_7C15)
        #expect(global == shuffledBatches(count: count, batchSize: batch, generator: &generator), "the single-process order")
        var used: [Int] = []
        for (b, indices) in global.enumerated() {
            let shards = samplers.map { $0.shards(epoch: epoch)[b] }
            #expect(shards.flatMap { $0 } == indices, "the shards of a batch are its parts, in rank order")
            #expect(shards.map(\.count).max()! - shards.map(\.count).min()! <= 1)
            used += indices
        }
        #expect(used.sorted() == Array(0..<count))
    }
    let s = DistributedSampler(count: count, batchSize: batch, seed: 9, rank: 0, size: ranks)
    #expect(s.globalBatches(epoch: 0) != s.globalBatches(epoch: 1), "reshuffled every epoch")
}

@Test func theBackwardPassHandsOverEachGradientAsSoonAsItIsFinal() {
    var rng = SeededGenerator(seed: 1)
    let w1 = Tensor<Double>.randomNormal([3, 4], generator: &rng), w2 = Tensor<Double>.randomNormal([4, 2], generator: &rng)
    let unused = Tensor<Double>.randomNormal([2], generator: &rng)
    let x = Tensor<Double>.randomNormal([5, 3], generator: &rng)
    let f = { (p: [Tensor<Double>]) in (x.matmul(p[0]).relu().matmul(p[1])).sum() }
    let expected = valueWithGradient(at: [w1, w2, unused], of: f)
    let (value, backward) = valueWithStreamingGradient(at: [w1, w2, unused], of: f)
    var order: [Int] = []
    var reported: [Int: Tensor<Double>] = [:]
    backward(0.25) { i, g in order.append(i); reported[i] = g }
    #expect(value.scalar == expected.value.scalar)
    #expect(order == [1, 0], "the last-used variable first; none for a variable the value does not use")
    #expect(reported[0] == expected.gradient[0] * 0.25 && reported[1] == expected.gradient[1] * 0.25, "scaled by the seed")
    // The receiver owns the scalars: changing them in place copies nothing.
    var g = reported.removeValue(forKey: 1)!
    #expect(g.scalars.withUnsafeMutableBufferPointer { buffer in buffer.count } == 8)
}

// MARK: - Training

/// A classifier run on `ranks` threads (nil: the plain single-process Trainer) for `epochs`.
private func train(ranks: Int?, _ c: TrainingConfiguration, epochs: Int, bucketCapacity: Int = DataParallel.defaultBucketCapacity)
    throws -> (parameters: [Tensor<Float>], history: [EpochRecord], test: ClassificationReport) {
    let (x, y) = blobs()
    guard let ranks else {
        var run = try ClassifierTraining(configuration: c, features: x, labels: y, classCount: 4)
        for _ in 0..<epochs { try run.trainEpoch() }
        return (run.classifier.parameters, run.history, run.evaluate(.test))
    }
    let results = try InProcessCommunicator.run(ranks: ranks) { communicator in
        var run = try ClassifierTraining(configuration: c, features: x, labels: y, classCount: 4)
        try run.distribute(over: communicator, bucketCapacity: bucketCapacity)
        for _ in 0..<epochs { try run.trainEpoch() }
        return (run.classifier.parameters, run.history, try run.evaluateAcrossRanks(.test))
    }
    for r in results.dropFirst() { #expect(bits(r.0) == bits(results[0].0), "every rank holds the same weights") }
    return results[0]
}

@Test func oneRankIsBitForBitThePlainTrainer() throws {
    let c = configuration(.adam, epochs: 2)
    let plain = try train(ranks: nil, c, epochs: 2)
    let one = try train(ranks: 1, c, epochs: 2)
    #expect(bits(one.parameters) == bits(plain.parameters))
    #expect(one.history.map(\.trainLoss) == plain.history.map(\.trainLoss))
    #expect(one.history.map(\.validationAccuracy) == plain.history.map(\.validationAccuracy))
    #expect(one.test.confusion == plain.test.confusion && one.test.loss == plain.test.loss)
}

// 203 examples, 70 % for training: 142, so batch 16 ends with 14 (uneven over 3 and 4 ranks);
// batch 5 with 8 ranks gives some ranks no examples at all.
@Test(arguments: [(2, OptimizerKind.adam, 16), (3, .sgd, 16), (4, .adamw, 16), (8, .sgd, 5)])
func ranksReproduceTheSingleProcessRun(ranks: Int, optimizer: OptimizerKind, batchSize: Int) throws {
    let c = configuration(optimizer, batchSize: batchSize)
    let plain = try train(ranks: nil, c, epochs: 1)
    // A tiny bucket capacity: one bucket per tensor, most of them reduced while the backward
    // pass runs.
    let parallel = try train(ranks: ranks, c, epochs: 1, bucketCapacity: 16)
    #expect(relativeDifference(parallel.parameters, plain.parameters) <= 1e-5)
    let (a, b) = (parallel.history[0], plain.history[0])
    #expect(Swift.abs(a.trainLoss - b.trainLoss) <= 1e-5 * b.trainLoss)
    #expect(Swift.abs(a.validationLoss - b.validationLoss) <= 1e-5 * b.validationLoss)
    #expect(a.validationAccuracy == b.validationAccuracy)
    #expect(parallel.test.confusion == plain.test.confusion)
    #expect(Swift.abs(parallel.test.loss - plain.test.loss) <= 1e-5 * plain.test.loss)
}

@Test func aFixedNumberOfRanksIsBitForBitTheSameFromRunToRun() throws {
    let c = configuration(.adam, epochs: 2)
    let first = try train(ranks: 3, c, epochs: 2, bucketCapacity: 64)
    let second = try train(ranks: 3, c, epochs: 2, bucketCapacity: 64)
    #expect(bits(first.parameters) == bits(second.parameters))
    #expect(first.history.map(\.trainLoss) == second.history.map(\.trainLoss))
}

@Test func anyModelTrainsDataParallel() throws {
    // A Sequential (not the CLI's Classifier) through the general Trainer, with a residual
    // block, on Double: two ranks against one process.
    var rng = SeededGenerator(seed: 4)
    let (x, y) = blobs()
    let data = try LabeledExamples(inputs: Tensor<Double>(shape: x.shape, scalars: x.scalars.map(Double.init)), labels: y)
    let model = Sequential<Double>(Linear(inputs: 6, outputs: 8, generator: &rng), ReLU(),
                                   Residual(Sequential<Double>(Linear(inputs: 8, outputs: 8, generator: &rng), Tanh())),
                                   Linear(inputs: 8, outputs: 4, generator: &rng))
    let loop = TrainingLoop(epochs: 1, batchSize: 20, seed: 3, learningRate: 0.05)
    let train = data.subset(Array(0..<150)), validation = data.subset(Array(150..<203))
    var plain = try Trainer(model: model, optimizer: SGD<Double>(learningRate: 0.05, momentum: 0.9), loop: loop,
                            trainingData: train, validationData: validation)
    try plain.trainEpoch()
    let results = try InProcessCommunicator.run(ranks: 2) { communicator in
        var t = try Trainer(model: model, optimizer: SGD<Double>(learningRate: 0.05, momentum: 0.9), loop: loop,
                            trainingData: train, validationData: validation)
        try t.distribute(over: communicator, bucketCapacity: 256)
        let record = try t.trainEpoch()
        return (t.model.parameters, record, t.dataParallel!.statistics)
    }
    let (parameters, record, statistics) = results[0]
    for (a, b) in zip(parameters, plain.model.parameters) {
        let diff = zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max()!
        #expect(diff <= 1e-12 * b.scalars.map { Swift.abs($0) }.max()!)
    }
    #expect(Swift.abs(record.validationLoss - plain.history[0].validationLoss) <= 1e-12)
    #expect(statistics.steps == 8 && statistics.bucketCount > 1)
}

@Test func aCheckpointFromTwoRanksResumesWithThreeRanksOrInOneProcess() throws {
    let c = configuration(.adam, epochs: 2)
    let (x, y) = blobs()
    let straight = try train(ranks: nil, c, epochs: 2)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-dp-\(UUID().uuidString).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    _ = try InProcessCommunicator.run(ranks: 2) { communicator in
        var run = try ClassifierTraining(configuration: c, features: x, labels: y, classCount: 4)
        try run.distribute(over: communicator)
        try run.trainEpoch()
        if communicator.rank == 0 { try run.writeCheckpoint(to: path) }
    }
    let three = try InProcessCommunicator.run(ranks: 3) { communicator in
        var run = try ClassifierTraining(resumingFrom: path, features: x, labels: y, classCount: 4)
        try run.distribute(over: communicator)
        #expect(run.epochsCompleted == 1)
        while !run.isFinished { try run.trainEpoch() }
        return run.classifier.parameters
    }[0]
    var single = try ClassifierTraining(resumingFrom: path, features: x, labels: y, classCount: 4)
    while !single.isFinished { try single.trainEpoch() }
    #expect(relativeDifference(three, straight.parameters) <= 1e-5)
    #expect(relativeDifference(single.classifier.parameters, straight.parameters) <= 1e-5)
}

// MARK: - Failures

@Test func aDivergingRunStopsEveryRankAtTheSameStep() throws {
    var diverging = configuration(.sgd)
    diverging.learningRate = 1e30
    diverging.momentum = 0
    let c = diverging
    let (x, y) = blobs()
    let outcomes = try InProcessCommunicator.run(ranks: 3) { communicator -> (String, Bool) in
        var run = try ClassifierTraining(configuration: c, features: x, labels: y, classCount: 4)
        try run.distribute(over: communicator)
        do {
            try run.trainEpoch()
            return ("trained", false)
        } catch let error as TrainingError {
            return ("\(error)", run.trainer.dataParallel!.lastErrorWasCollective)
        }
    }
    #expect(outcomes[0].0.hasPrefix("training diverged"))
    for o in outcomes { #expect(o.0 == outcomes[0].0 && o.1) }
}

@Test func aNaNOnOneRankStopsEveryRankAtTheSameStep() throws {
    // Rank 1's loss becomes NaN at its third step; the reduced loss is NaN on every rank, so
    // all of them stop there, with the model before that step.
    var rng = SeededGenerator(seed: 2)
    let (x, y) = blobs()
    let data = try LabeledExamples(inputs: x, labels: y)
    let model = Sequential<Float>(Linear(inputs: 6, outputs: 4, generator: &rng))
    let outcomes = try InProcessCommunicator.run(ranks: 2) { communicator -> String in
        var steps = 0
        var t = try Trainer(model: model, optimizer: SGD<Float>(learningRate: 0.1), loop: TrainingLoop(epochs: 1, batchSize: 16),
                            trainingData: data, loss: { m, batch in
                                steps += 1
                                let l = Loss.softmaxCrossEntropy(logits: m(batch.inputs), labels: batch.labels)
                                return communicator.rank == 1 && steps == 3 ? l * Tensor(Float.nan) : l
                            })
        try t.distribute(over: communicator)
        do {
            try t.trainEpoch()
            return "trained"
        } catch let error as TrainingError {
            #expect(t.dataParallel!.lastErrorWasCollective && t.dataParallel!.statistics.steps == 3)
            return "\(error)"
        }
    }
    #expect(outcomes[0] == outcomes[1])
    #expect(outcomes[0] == "training diverged: the loss became NaN at epoch 1, step 3 (learning rate 0.001)")
}

@Test func ranksThatReadDifferentDataAreStoppedTogether() throws {
    let (x, y) = blobs()
    var other = x.scalars
    other[0] += 1
    let changed = Tensor(shape: x.shape, scalars: other)
    let outcomes = try InProcessCommunicator.run(ranks: 2) { communicator -> String in
        var run = try ClassifierTraining(configuration: configuration(.adam), features: communicator.rank == 1 ? changed : x,
                                         labels: y, classCount: 4)
        do {
            try run.distribute(over: communicator)
            return "started"
        } catch let error as DistributedError {
            return "\(error)"
        }
    }
    #expect(outcomes == Array(repeating: "the ranks disagree on the examples (their data files differ)", count: 2))
}

@Test func aRankThatFailsToGetReadyStopsTheOthers() throws {
    let (x, y) = blobs()
    let outcomes = try InProcessCommunicator.run(ranks: 3) { communicator -> String in
        if communicator.rank == 1 {
            _ = try communicator.countFailures(true)   // what a rank that could not read its data does
            return "failed"
        }
        var run = try ClassifierTraining(configuration: configuration(.adam), features: x, labels: y, classCount: 4)
        do {
            try run.distribute(over: communicator)
            return "started"
        } catch let error as DistributedError {
            #expect(run.trainer.dataParallel == nil)
            return "\(error)"
        }
    }
    #expect(outcomes == ["1 rank failed before training started", "failed", "1 rank failed before training started"])
}

/// A list several threads append to.
private final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
