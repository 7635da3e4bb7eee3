import Backprop
import Foundation

extension Benchmarks {
    /// Where the dp-epoch workload reads MNIST: `BACKPROP_MNIST_5K`, else `data/mnist-5k`
    /// (relative to the working directory: the repository root).
    public static var mnist5kDirectory: String {
        ProcessInfo.processInfo.environment["BACKPROP_MNIST_5K"].flatMap { $0.isEmpty ? nil : $0 } ?? "data/mnist-5k"
    }

    static var mnist5kFiles: (images: String, labels: String) {
        (mnist5kDirectory + "/images-idx3-ubyte.gz", mnist5kDirectory + "/labels-idx1-ubyte.gz")
    }

    /// Why dp-epoch cannot run here (its data are missing), or nil.
    static var dataParallelEpochUnavailableReason: String? {
        let files = mnist5kFiles
        guard FileManager.default.fileExists(atPath: files.images), FileManager.default.fileExists(atPath: files.labels) else {
            return "dp-epoch: \(mnist5kDirectory) not found (run from the repository root, or set BACKPROP_MNIST_5K)"
        }
        return nil
    }

    /// dp-epoch: epochs of the MLP 784 → 256 → ReLU → 10 on all 5,000 mnist-5k images
    /// (standardised), global batch 128, plain SGD (learning rate 0.01), through the general
    /// `Trainer` — data-parallel over `communicator` when one is given (every rank calls this).
    ///
    /// One warm-up epoch, then at least `minimumRuns` epochs and `minimumSeconds`; each starts
    /// after a barrier, so an epoch's time is the group's. Reported: the median seconds per
    /// epoch (`median_ms` in milliseconds) and the fastest epoch (on a busy machine the better
    /// guide to what the code costs), the ranks, the steps per epoch, the all-reduce
    /// milliseconds per step (time inside all-reduce calls, what the backward pass did not
    /// hide; 0 for one process), the all-reduce buckets per step (`options.bucketCapacity`)
    /// and the last epoch's training loss.
    public static func dataParallelEpoch(_ options: BenchmarkOptions, communicator: (any Communicator)? = nil) throws
        -> BenchmarkMeasurement {
        let files = mnist5kFiles
        var data = try LabeledDataset.readIDX(images: files.images, labels: files.labels)
        if options.smoke {
            let keep = Array(0..<512)
            data = LabeledDataset(features: data.features.gatheringRows(keep), labels: keep.map { data.labels[$0] },
                                  classCount: data.classCount)
        }
        let inputs = Standardization.fitted(to: data.features).apply(data.features)
        let examples = try LabeledExamples(inputs: inputs, labels: data.labels)
        var generator = SeededGenerator(seed: 5)
        let model = Sequential<Float>(Linear(inputs: 784, outputs: 256, generator: &generator), ReLU(),
                                      Linear(inputs: 256, outputs: 10, generator: &generator))
        let loop = TrainingLoop(epochs: 1_000_000, batchSize: 128, seed: 0, learningRate: 0.01)
        var trainer = try Trainer(model: model, optimizer: SGD<Float>(learningRate: 0.01), loop: loop, trainingData: examples)
        if let communicator { try trainer.distribute(over: communicator, bucketCapacity: options.bucketCapacity) }
        let ranks = communicator?.size ?? 1

        try trainer.trainEpoch()   // warm-up
        var times: [Double] = []
        let before = trainer.dataParallel?.statistics ?? DataParallelStatistics()
        var elapsed = 0.0, lastLoss = Double.nan
        let runs = options.smoke ? 1 : options.minimumRuns
        while times.count < runs || (elapsed < options.minimumSeconds && times.count < options.maximumRuns) {
            try communicator?.barrier()
            let record = try trainer.trainEpoch()
            times.append(record.seconds)
            elapsed += record.seconds
            lastLoss = record.trainLoss
        }
        let after = trainer.dataParallel?.statistics ?? DataParallelStatistics()
        let steps = after.steps - before.steps
        let allReduceMilliseconds = steps > 0 ? (after.allReduceSeconds - before.allReduceSeconds) * 1000 / Double(steps) : 0
        times.sort()
        let n = times.count
        let median = n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2
        let stepsPerEpoch = (examples.count + loop.batchSize - 1) / loop.batchSize
        return .init(workload: "dp-epoch", shape: "784-256-10 sgd b128 \(examples.count) examples, \(ranks) rank\(ranks == 1 ? "" : "s")",
                     threads: threadCount, backend: backend(options), medianMilliseconds: median * 1000,
                     extra: [("ranks", Double(ranks)), ("seconds_per_epoch", median), ("best_seconds_per_epoch", times[0]),
                             ("steps_per_epoch", Double(stepsPerEpoch)),
                             ("allreduce_ms_per_step", allReduceMilliseconds), ("buckets", Double(after.bucketCount)), ("epochs_timed", Double(n)),
                             ("train_loss", lastLoss)])
    }
}
