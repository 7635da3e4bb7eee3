extension ClassifierTraining {
    /// Makes this run one replica of a data-parallel run over `communicator` (see
    /// `Trainer.distribute(over:)`); the ranks also check that they read the same examples
    /// (a fingerprint of every split's inputs and labels).
    ///
    /// - Throws: `DistributedError`, `CommunicatorError`.
    public mutating func distribute(over communicator: any Communicator,
                                    bucketCapacity: Int = DataParallel.defaultBucketCapacity) throws {
        try trainer.distribute(over: communicator, bucketCapacity: bucketCapacity)
        var fingerprint = Fingerprint()
        for part in [Part.train, .validation, .test] {
            let d = data(part)
            fingerprint = Fingerprint(combining: fingerprint, NamedTensors(names: [part.rawValue], tensors: [d.inputs]))
            fingerprint.add(d.labels.count)
            for label in d.labels { fingerprint.add(label) }
        }
        try trainer.dataParallel!.requireAgreement(on: [fingerprint.value], "the examples (their data files differ)")
    }

    /// `evaluate(_:)` by all ranks together: each measures its shard of the part and the
    /// losses and confusion matrices are combined into the report on the whole part, the same
    /// on every rank. Without `distribute(over:)`, `evaluate(_:)`.
    public func evaluateAcrossRanks(_ part: Part) throws -> ClassificationReport {
        guard let strategy = trainer.dataParallel else { return evaluate(part) }
        let all = data(part)
        let shard = strategy.shard(all)!
        let k = classifier.classCount
        var sums = [Double](repeating: 0, count: k * k + 2)   // confusion, loss·n, n
        if shard.count > 0 {
            let report = classifier.report(standardized: classifier.standardization.apply(shard.inputs), labels: shard.labels)
            for t in 0..<k { for p in 0..<k { sums[t * k + p] = Double(report.confusion[t][p]) } }
            sums[k * k] = report.loss * Double(shard.count)
            sums[k * k + 1] = Double(shard.count)
        }
        try strategy.communicator.allReduce(&sums, .sum)
        let confusion = (0..<k).map { t in (0..<k).map { p in Int(sums[t * k + p]) } }
        let n = sums[k * k + 1]
        return ClassificationReport(loss: n > 0 ? sums[k * k] / n : .nan, confusion: confusion)
    }
}

extension Fingerprint {
    /// `base` continued with the names, shapes and values of `tensors`.
    init<Scalar>(combining base: Fingerprint, _ tensors: NamedTensors<Scalar>) {
        let more = Fingerprint(values: tensors)
        self = base
        add(more.value)
    }
}
