import Foundation
import BackpropKernels

/// Data-parallel training: the strategy a `Trainer` uses once `distribute(over:)` has made it
/// one replica of a group of ranks.
///
/// Every rank holds the whole model and trains on its shard of each global batch
/// (`DistributedSampler`). The gradients are averaged across ranks by all-reduce — weighted by
/// shard size, so the result is the gradient of the mean loss over the global batch — and every
/// rank then takes the same optimizer step, so the replicas stay identical. The all-reduce runs
/// in buckets of about `bucketCapacity` bytes, filled in reverse declaration order (the order
/// in which the backward pass finishes gradients) and started, in that fixed order on every
/// rank, as soon as the backward pass has finished all of a bucket's gradients, while it works
/// on the rest; the last bucket, finished when the walk ends, is reduced at once.
public final class DataParallel: @unchecked Sendable {
    /// The default bucket size: 256 KiB (small enough that the last layers' gradients start
    /// early; the first layer's weight, usually the largest tensor and the last finished,
    /// then travels alone, without a copy).
    public static let defaultBucketCapacity = 256 << 10

    /// The group of ranks the gradients are averaged over.
    public let communicator: any Communicator
    /// About how many bytes of gradients go in one all-reduce (a larger tensor gets a bucket
    /// of its own).
    public let bucketCapacity: Int
    /// Communication so far.
    public internal(set) var statistics = DataParallelStatistics()
    /// Whether the last error thrown by this replica's training was thrown by every rank at the
    /// same point (a non-finite reduced loss, replicas or settings that disagree): the group
    /// is then consistent and nothing needs stopping. False for errors only this rank has.
    public internal(set) var lastErrorWasCollective = false
    /// The gradient buckets of the model last trained (a `GradientBuckets<Scalar>`).
    var buckets: AnyObject?

    /// The strategy for one rank of `communicator`'s group, reducing gradients in buckets of about
    /// `bucketCapacity` bytes (positive; default `defaultBucketCapacity`, 256 KiB).
    public init(communicator: any Communicator, bucketCapacity: Int = DataParallel.defaultBucketCapacity) {
        require(bucketCapacity >= 1, "DataParallel: bucket capacity must be positive, got \(bucketCapacity)")
        self.communicator = communicator
        self.bucketCapacity = bucketCapacity
    }

    /// This replica's rank, 0..<size.
    public var rank: Int { communicator.rank }
    /// The number of replicas.
    public var size: Int { communicator.size }

    /// Throws `error` after recording that every rank throws it here too.
    func collectiveFailure(_ error: Error) -> Error {
        lastErrorWasCollective = true
        return error
    }

    // MARK: Gradients

    /// The loss over the global batch and its gradient by parameter name, the same on every
    /// rank: this rank's part is the loss of `model` on `batch` (nil: this rank has no examples
    /// in this batch), weighted by `weight` (its share of the global batch).
    func gradients<Model: Module, Batch>(of model: Model, on batch: Batch?, weight: Model.Scalar,
                                         loss: (Model, Batch) -> Tensor<Model.Scalar>) throws
        -> (loss: Model.Scalar, gradients: NamedTensors<Model.Scalar>) {
        typealias Scalar = Model.Scalar
        let parameters = model.collectTensors(role: .parameter)
        let shapes = parameters.tensors.map(\.shape)
        let buckets: GradientBuckets<Scalar>
        if let cached = self.buckets as? GradientBuckets<Scalar>, cached.shapes == shapes {
            buckets = cached
        } else {
            buckets = GradientBuckets(shapes: shapes, capacity: bucketCapacity, communicator: communicator)
            self.buckets = buckets
        }
        if let batch {
            try withLearningPhase(.training) {
                let (value, backward) = valueWithStreamingGradient(at: parameters.tensors) { variables in
                    var tracked = model
                    var replacer = TensorReplacer<Scalar>(role: .parameter, replacements: variables)
                    tracked.visitTensors(with: &replacer)
                    return loss(tracked, batch)
                }
                buckets.beginStep(loss: value.scalar * weight)
                // The seed is this rank's share of the global batch: the gradients come out
                // weighted, ready to be summed.
                backward(weight) { i, g in buckets.finished(i, g) }
                try buckets.finishStep()
            }
        } else {
            buckets.beginStep(loss: 0)
            try buckets.finishStep()
        }
        statistics.steps += 1
        statistics.allReduceSeconds += buckets.secondsThisStep
        statistics.bytesReduced += buckets.bytes
        statistics.bucketCount = buckets.count
        return (buckets.loss, NamedTensors(names: parameters.names, tensors: buckets.gradients()))
    }

    // MARK: Evaluation

    /// `evaluate` on this rank's contiguous shard of `data` (when the data set can be cut into
    /// shards), combined across ranks as example-weighted means: the evaluation of the whole
    /// data set, the same on every rank. Data that cannot be cut is evaluated whole on every
    /// rank (the replicas are identical, so the result is too).
    func evaluate<Model, Data: Dataset>(_ model: Model, on data: Data,
                                        _ evaluate: (Model, Data) -> Evaluation) throws -> Evaluation {
        guard let sharded = shard(data) else { return evaluate(model, data) }
        var sums: [Double] = [0, 0, 0, 0]   // loss·n, accuracy·n, ranks without accuracy, n
        if sharded.count > 0 {
            let e = evaluate(model, sharded)
            let n = Double(sharded.count)
            sums = [e.loss * n, (e.accuracy ?? 0) * n, e.accuracy == nil ? 1 : 0, n]
        }
        try communicator.allReduce(&sums, .sum)
        guard sums[3] > 0 else { return Evaluation(loss: .nan) }
        return Evaluation(loss: sums[0] / sums[3], accuracy: sums[2] > 0 ? nil : sums[1] / sums[3])
    }

    /// This rank's contiguous part of `data`, or nil when the data set cannot be cut.
    func shard<Data: Dataset>(_ data: Data) -> Data? {
        guard let cuttable = data as? any SubsettableDataset else { return nil }
        let range = DistributedSampler.shardRange(count: data.count, rank: rank, size: size)
        return Self.subset(cuttable, Array(range)) as? Data
    }

    private static func subset<D: SubsettableDataset>(_ data: D, _ indices: [Int]) -> Any { data.subset(indices) }

    // MARK: Replicas

    /// Every rank takes rank 0's tensors (parameters and buffers).
    func broadcastStateDict<Model: Module>(_ model: inout Model) throws {
        let state = model.stateDict
        guard !state.isEmpty else { return }
        let received = try broadcast(state)
        try model.loadStateDict(received)
    }

    /// Every rank takes rank 0's buffers (state that is not trained, such as running statistics).
    func broadcastBuffers<Model: Module>(_ model: inout Model) throws {
        let buffers = model.namedBuffers
        guard !buffers.isEmpty else { return }
        try model.loadStateDict(try broadcast(buffers), strict: false)
    }

    /// Rank 0's values of tensors whose names and shapes every rank has the same.
    func broadcast<Scalar: TensorScalar>(_ tensors: NamedTensors<Scalar>) throws -> NamedTensors<Scalar> {
        var flat = tensors.tensors.flatMap(\.scalars)
        try communicator.broadcast(&flat, from: 0)
        var offset = 0
        return tensors.mapTensors { t in
            defer { offset += t.count }
            return Tensor(shape: t.shape, scalars: Array(flat[offset..<(offset + t.count)]))
        }
    }

    /// Throws `DistributedError.disagreement(what)` on every rank unless every rank has the
    /// same `fingerprint`.
    func requireAgreement(on fingerprint: [UInt64], _ what: String) throws {
        guard try communicator.allAgree(on: fingerprint) else {
            throw collectiveFailure(DistributedError.disagreement(what))
        }
    }
}

/// What a data-parallel replica has spent on communication.
public struct DataParallelStatistics: Sendable, Equatable {
    /// Training steps taken.
    public var steps = 0
    /// Wall seconds inside gradient all-reduce calls (starting, testing and waiting for
    /// buckets): the communication the backward pass did not hide.
    public var allReduceSeconds = 0.0
    /// Bytes of gradients (and the loss) all-reduced, per rank.
    public var bytesReduced = 0
    /// All-reduce buckets per step.
    public var bucketCount = 0

    /// No steps and no communication yet: what a replica starts from.
    public init() {}

    /// Milliseconds of all-reduce per step.
    public var allReduceMillisecondsPerStep: Double { steps == 0 ? 0 : allReduceSeconds * 1000 / Double(steps) }
}

/// Why data-parallel training could not start or go on.
public enum DistributedError: Error, CustomStringConvertible, Equatable, Sendable {
    /// This many ranks failed while getting ready (reading data, building the model).
    case peersFailed(Int)
    /// The ranks do not hold the same thing (the text says what): settings, data sizes, model
    /// structure or optimizer state at the start, or the weights after an epoch.
    case disagreement(String)

    /// The error as one sentence, e.g. "the ranks disagree on …".
    public var description: String {
        switch self {
        case let .peersFailed(n): return "\(n) rank\(n == 1 ? "" : "s") failed before training started"
        case let .disagreement(what): return "the ranks disagree on \(what)"
        }
    }
}

/// A data set that can hand out some of its examples as a data set of the same kind, so
/// evaluation can be split across ranks.
public protocol SubsettableDataset: Dataset {
    /// The examples at `indices`, in that order.
    func subset(_ indices: [Int]) -> Self
}

extension LabeledExamples: SubsettableDataset {}

/// The all-reduce buffers of one model's gradients (see `DataParallel`).
///
/// Buckets hold parameters in reverse declaration order, up to `capacity` bytes each (a larger
/// tensor gets a bucket of its own). Gradients are copied into their bucket's flat buffer as
/// the backward pass finishes them; every bucket but the last is started as soon as it is
/// complete (in bucket order, so the same on every rank), the last one is reduced when the
/// walk ends. When that last bucket is a single tensor — typically the first layer's weight,
/// the largest and the last to be finished — it is reduced in place in the gradient's own
/// storage, with no copy in or out. The loss rides in an extra element of bucket 0.
final class GradientBuckets<Scalar: TensorScalar> {
    let shapes: [[Int]]
    let communicator: any Communicator
    /// Per parameter: its bucket and offset in the bucket's buffer.
    private var place: [(bucket: Int, offset: Int)] = []
    private var members: [[Int]] = []
    /// Per bucket: its buffer (empty for the in-place bucket); bucket 0's ends with the loss.
    private var storage: [UnsafeMutableBufferPointer<Scalar>] = []
    private var allocations: [UnsafeMutablePointer<Scalar>] = []
    /// Whether the last bucket is one tensor reduced in its own storage.
    private let lastInPlace: Bool
    /// Per bucket: gradients not yet finished this step.
    private var remaining: [Int] = []
    private var done: [Bool] = []
    /// The gradients of the in-place bucket, owned here.
    private var owned: [Tensor<Scalar>?] = []
    private var pending: [(any PendingReduction)?] = []
    private var nextToStart = 0
    private var failure: Error?
    private(set) var secondsThisStep = 0.0
    /// Bytes all-reduced per step.
    let bytes: Int

    var count: Int { members.count }

    init(shapes: [[Int]], capacity: Int, communicator: any Communicator) {
        self.shapes = shapes
        self.communicator = communicator
        let counts = shapes.map { $0.reduce(1, *) }
        let stride = MemoryLayout<Scalar>.stride
        var sizes: [Int] = []
        place = Array(repeating: (0, 0), count: shapes.count)
        for p in counts.indices.reversed() {
            if members.isEmpty || (sizes[sizes.count - 1] > 0 && (sizes[sizes.count - 1] + counts[p]) * stride > capacity) {
                members.append([])
                sizes.append(0)
            }
            place[p] = (members.count - 1, sizes[sizes.count - 1])
            members[members.count - 1].append(p)
            sizes[sizes.count - 1] += counts[p]
        }
        if members.isEmpty { members = [[]]; sizes = [0] }
        lastInPlace = members.count >= 2 && members[members.count - 1].count == 1
        bytes = (sizes.reduce(0, +) + 1) * stride
        sizes[0] += 1   // the loss
        if lastInPlace { sizes[sizes.count - 1] = 0 }
        allocations = sizes.map { n in
            let b = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(n, 1))
            b.initialize(repeating: 0, count: Swift.max(n, 1))
            return b
        }
        storage = zip(allocations, sizes).map { UnsafeMutableBufferPointer(start: $0, count: $1) }
        owned = Array(repeating: nil, count: shapes.count)
    }

    deinit { allocations.forEach { $0.deallocate() } }

    private func inPlace(_ bucket: Int) -> Bool { lastInPlace && bucket == members.count - 1 }

    /// Starts a step whose weighted loss (this rank's loss times its share) is `loss`.
    func beginStep(loss: Scalar) {
        remaining = members.map(\.count)
        done = Array(repeating: false, count: shapes.count)
        owned = Array(repeating: nil, count: shapes.count)
        pending = Array(repeating: nil, count: members.count)
        nextToStart = 0
        failure = nil
        secondsThisStep = 0
        storage[0][storage[0].count - 1] = loss
    }

    /// The loss over the global batch, after `finishStep`.
    var loss: Scalar { storage[0][storage[0].count - 1] }

    /// Parameter `p`'s gradient is final: keep or copy it, and start every bucket that is now
    /// complete and whose predecessors have started (all but the last). Called from inside the
    /// backward pass.
    func finished(_ p: Int, _ gradient: Tensor<Scalar>) {
        let (b, offset) = place[p]
        if inPlace(b) {
            owned[p] = gradient
        } else {
            gradient.scalars.withUnsafeBufferPointer { g in
                (storage[b].baseAddress! + offset).update(from: g.baseAddress!, count: g.count)
            }
        }
        done[p] = true
        remaining[b] -= 1
        startCompleteBuckets()
    }

    /// Zeros for the gradients the backward pass did not produce, the remaining buckets
    /// reduced in order, and every reduction waited for.
    func finishStep() throws {
        if let failure { throw failure }
        for p in shapes.indices where !done[p] {
            let (b, offset) = place[p]
            if inPlace(b) {
                owned[p] = .zeros(shapes[p])
            } else {
                (storage[b].baseAddress! + offset).update(repeating: 0, count: shapes[p].reduce(1, *))
            }
            done[p] = true
            remaining[b] -= 1
        }
        startCompleteBuckets()
        if let failure { throw failure }
        let start = ContinuousClock.now
        defer { secondsThisStep += Self.seconds(since: start) }
        let last = members.count - 1
        if inPlace(last) {
            let p = members[last][0]
            try owned[p]!.scalars.withUnsafeMutableBufferPointer { try communicator.allReduce($0, .sum) }
        } else {
            try communicator.allReduce(storage[last], .sum)
        }
        for case let request? in pending { try request.wait() }
    }

    /// The reduced gradients, in declaration order.
    func gradients() -> [Tensor<Scalar>] {
        shapes.indices.map { p in
            let (b, offset) = place[p]
            if inPlace(b) { return owned[p]! }
            return Tensor(shape: shapes[p], scalars: Array(UnsafeBufferPointer(start: storage[b].baseAddress! + offset,
                                                                              count: shapes[p].reduce(1, *))))
        }
    }

    private func startCompleteBuckets() {
        guard failure == nil else { return }
        let start = ContinuousClock.now
        defer { secondsThisStep += Self.seconds(since: start) }
        do {
            while nextToStart < members.count - 1 && remaining[nextToStart] == 0 {
                pending[nextToStart] = try communicator.startAllReduce(storage[nextToStart], .sum)
                nextToStart += 1
            }
            // Give reductions in flight a chance to progress (MPI moves them only inside calls).
            for case let request? in pending { _ = try request.test() }
        } catch {
            failure = error
        }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
