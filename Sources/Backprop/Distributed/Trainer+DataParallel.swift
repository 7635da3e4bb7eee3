import Foundation

extension Trainer {
    /// Makes this loop one replica of a data-parallel run over `communicator` (every rank
    /// calls it, with the same model structure, data, loop and optimizer).
    ///
    /// The ranks first check that none of them failed to get this far and that they agree on
    /// the loop's settings and progress, the data sizes, the model's tensors and the optimizer
    /// state's names and shapes; then every rank takes rank 0's parameters, buffers and
    /// optimizer state. From then on `trainEpoch` trains each rank on its shard of every global
    /// batch of `loop.batchSize` examples (`DistributedSampler`), averages the gradients
    /// across ranks (`DataParallel`), takes the same optimizer step everywhere and reduces the
    /// validation figures across ranks; after every epoch the ranks check that their weights
    /// are still bit for bit the same. A checkpoint holds nothing about the ranks, so it
    /// resumes with any number of them, or in a single process.
    ///
    /// - Throws: `DistributedError.peersFailed` when another rank reported a failure through
    ///   `Communicator.countFailures(true)` instead of calling this;
    ///   `DistributedError.disagreement` when the ranks differ; `CommunicatorError`.
    public mutating func distribute(over communicator: any Communicator,
                                    bucketCapacity: Int = DataParallel.defaultBucketCapacity) throws {
        let strategy = DataParallel(communicator: communicator, bucketCapacity: bucketCapacity)
        let failed = try communicator.countFailures(false)
        if failed > 0 { throw strategy.collectiveFailure(DistributedError.peersFailed(failed)) }

        var settings = Fingerprint()
        settings.add(try CheckpointJSON.encode(loop))
        settings.add(epochsCompleted, optimizer.step, history.count)
        settings.add(String(describing: type(of: optimizer)))
        try strategy.requireAgreement(on: [settings.value], "the training settings or progress (epochs completed, optimizer steps)")
        var data = Fingerprint()
        data.add(trainingData.count, validationData?.count ?? -1)
        try strategy.requireAgreement(on: [data.value], "the number of training and validation examples")
        try strategy.requireAgreement(on: [Fingerprint(namesAndShapes: model.stateDict).value], "the model's tensors (names and shapes)")
        let state = optimizer.state
        try strategy.requireAgreement(on: [Fingerprint(namesAndShapes: state).value], "the optimizer state (names and shapes)")

        var synchronized = self
        try strategy.broadcastStateDict(&synchronized.model)
        if !state.isEmpty {
            try synchronized.optimizer.loadState(try strategy.broadcast(state), step: optimizer.step, for: synchronized.model)
        }
        synchronized.dataParallel = strategy
        self = synchronized
    }

    /// One epoch as one replica of `strategy` (see `distribute(over:)`).
    mutating func trainEpoch(_ strategy: DataParallel, progress: (StepProgress) -> Void) throws -> EpochRecord {
        strategy.lastErrorWasCollective = false
        let start = ContinuousClock.now
        let epoch = epochsCompleted
        let lr = loop.learningRate(epoch: epoch)
        optimizer.learningRate = Scalar(lr)
        let sampler = DistributedSampler(count: trainingData.count, batchSize: loop.batchSize, seed: loop.seed,
                                         rank: strategy.rank, size: strategy.size)
        let batches = sampler.globalBatches(epoch: epoch)
        try strategy.broadcastBuffers(&model)
        var lossSum = 0.0, seen = 0
        for (s, global) in batches.enumerated() {
            let shard = sampler.shard(of: global)
            let weight = Scalar(shard.count) / Scalar(global.count)
            var (value, gradients) = try strategy.gradients(of: model, on: shard.isEmpty ? nil : trainingData.batch(shard),
                                                            weight: weight, loss: loss)
            let v = Double(value)
            guard v.isFinite else {
                throw strategy.collectiveFailure(TrainingError.diverged(epoch: epoch + 1, step: s + 1, loss: v, learningRate: lr))
            }
            if let c = loop.clipNorm { clipByGlobalNorm(&gradients, maxNorm: Scalar(c)) }
            try optimizer.update(&model, along: gradients)
            lossSum += v * Double(global.count)
            seen += global.count
            progress(StepProgress(epoch: epoch + 1, step: s + 1, stepsPerEpoch: batches.count, epochs: loop.epochs,
                                  loss: lossSum / Double(seen), examples: seen, seconds: Self.seconds(since: start)))
        }
        let evaluator = self.evaluator
        let validation = try validationData.map { data in
            try withLearningPhase(.inference) { try withoutDerivative { try strategy.evaluate(model, on: data, evaluator) } }
        }
        if let validation, !validation.loss.isFinite {
            throw strategy.collectiveFailure(TrainingError.diverged(epoch: epoch + 1, step: batches.count,
                                                                   loss: validation.loss, learningRate: lr))
        }
        try strategy.requireAgreement(on: [Fingerprint(values: model.stateDict).value], "the weights after epoch \(epoch + 1)")
        epochsCompleted += 1
        let record = EpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(max(seen, 1)),
                                 validationLoss: validation?.loss ?? .nan, validationAccuracy: validation?.accuracy ?? .nan,
                                 learningRate: lr, seconds: Self.seconds(since: start))
        history.append(record)
        return record
    }

    /// The model measured on `data` by all ranks together: each evaluates its shard and the
    /// results are combined (see `DataParallel`). Without `distribute(over:)`, `evaluate(on:)`.
    public func evaluateAcrossRanks(on data: Data) throws -> Evaluation {
        guard let dataParallel else { return evaluate(on: data) }
        let evaluator = self.evaluator
        return try withLearningPhase(.inference) { try withoutDerivative { try dataParallel.evaluate(model, on: data, evaluator) } }
    }
}

/// FNV-1a, 64 bits: a fingerprint ranks compare to find out whether they hold the same thing.
struct Fingerprint {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    init() {}

    /// Of the names and shapes (not the values) of `tensors`.
    init<Scalar>(namesAndShapes tensors: NamedTensors<Scalar>) {
        for (name, tensor) in tensors {
            add(name)
            add(tensor.shape.count)
            for d in tensor.shape { add(d) }
        }
    }

    /// Of the names, shapes and every bit of the values of `tensors` (the values eight bytes
    /// at a time).
    init<Scalar>(values tensors: NamedTensors<Scalar>) {
        self.init(namesAndShapes: tensors)
        for t in tensors.tensors {
            t.scalars.withUnsafeBytes { raw in
                var v = value
                var i = 0
                while i + 8 <= raw.count {
                    v = (v ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x100_0000_01B3
                    i += 8
                }
                value = v
                while i < raw.count { addByte(raw[i]); i += 1 }
            }
        }
    }

    mutating func addByte(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x100_0000_01B3
    }

    mutating func add(_ word: UInt64) {
        var w = word
        for _ in 0..<8 { addByte(UInt8(truncatingIfNeeded: w)); w >>= 8 }
    }

    mutating func add(_ numbers: Int...) {
        for n in numbers { add(UInt64(bitPattern: Int64(n))) }
    }

    mutating func add(_ text: String) {
        for byte in text.utf8 { addByte(byte) }
        addByte(0)
    }
}
