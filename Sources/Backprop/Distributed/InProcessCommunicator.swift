import Foundation
import BackpropKernels

/// A communicator whose ranks are threads of one process: the data-parallel logic, tested
/// without MPI.
///
/// Each collective is matched across ranks by its sequence number (the k-th collective of
/// every rank is one operation). An all-reduce sums the ranks' buffers in rank order, so its
/// result is the same on every rank and from run to run. `abort` wakes every waiting rank
/// with `CommunicatorError.aborted`.
///
///     let losses = try InProcessCommunicator.run(ranks: 4) { communicator in
///         var x: [Float] = [Float(communicator.rank)]
///         try communicator.allReduce(&x, .sum)       // [6] on every rank
///         return x[0]
///     }
public final class InProcessCommunicator: Communicator, @unchecked Sendable {
    /// This thread's rank, 0..<size.
    public let rank: Int
    /// The number of ranks in the group.
    public var size: Int { hub.size }
    private let hub: Hub
    /// Collectives this rank has started (only this rank's thread touches it).
    private var sequence = 0

    private init(rank: Int, hub: Hub) {
        self.rank = rank
        self.hub = hub
    }

    /// `size` communicators sharing one group, rank 0 first; give each to its own thread.
    public static func group(size: Int) -> [InProcessCommunicator] {
        require(size >= 1, "InProcessCommunicator.group: size must be at least 1, got \(size)")
        let hub = Hub(size: size)
        return (0..<size).map { InProcessCommunicator(rank: $0, hub: hub) }
    }

    /// Runs `body` on `ranks` threads, one communicator each, and returns the results by rank.
    ///
    /// When a rank throws, the group is aborted (so no other rank waits forever) and the error
    /// of the lowest failing rank that did not merely see the abort is rethrown.
    public static func run<R>(ranks: Int, _ body: @escaping @Sendable (InProcessCommunicator) throws -> R) throws -> [R] {
        let communicators = group(size: ranks)
        let results = ResultBox<R>(count: ranks)
        let done = DispatchGroup()
        for communicator in communicators {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                do {
                    results.set(communicator.rank, .success(try body(communicator)))
                } catch {
                    results.set(communicator.rank, .failure(error))
                    communicator.abort("\(error)")
                }
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        done.wait()
        let all = results.values()
        let failures = all.compactMap { result -> Error? in
            if case .failure(let e) = result { return e }
            return nil
        }
        if let first = failures.first(where: { !($0 is CommunicatorError) }) ?? failures.first { throw first }
        // Every rank has finished (`done`), so every slot holds a result, and none is a failure
        // (any failure was thrown just above): neither the unwrap nor `get()` can fail.
        return all.map { try! $0!.get() }
    }

    /// Sums `buffer` over the ranks in rank order (then divides by `size` for `.mean`) once every rank
    /// has contributed; the result is bit-identical on every rank.
    /// - Throws: `CommunicatorError.mismatchedCollectives` when the ranks called different
    ///   collectives (or lengths) at this point, which aborts the group; `.aborted` once it is.
    public func allReduce<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>, _ operation: ReductionOperation) throws {
        try startAllReduce(buffer, operation).wait()
    }

    /// Contributes a copy of `buffer` to the all-reduce and returns at once; the request's `wait`
    /// writes the result (as `allReduce`'s) into `buffer`.
    /// - Throws: `CommunicatorError` as `allReduce`.
    public func startAllReduce<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>,
                                                    _ operation: ReductionOperation) throws -> any PendingReduction {
        let k = next()
        try hub.post(k, kind: "allReduce(\(Scalar.self), \(buffer.count))", rank: rank, contribution: Array(buffer))
        return Pending(communicator: self, sequence: k, buffer: buffer, operation: operation)
    }

    /// Copies rank `root`'s `buffer` into every other rank's, returning once `root` has contributed.
    /// Stops with a message when `root` is not a rank.
    /// - Throws: `CommunicatorError` as `allReduce`.
    public func broadcast<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>, from root: Int) throws {
        require((0..<size).contains(root), "broadcast: root \(root) is not a rank of \(size)")
        let k = next()
        try hub.post(k, kind: "broadcast(\(Scalar.self), \(buffer.count), root \(root))", rank: rank,
                     contribution: rank == root ? Array(buffer) : [Scalar]())
        let contributions = try hub.collect(k, rank: rank, wait: true)!
        if rank != root {
            let values = contributions[root] as! [Scalar]
            for i in 0..<buffer.count { buffer[i] = values[i] }
        }
    }

    /// Returns once every rank has called it.
    /// - Throws: `CommunicatorError` as `allReduce`.
    public func barrier() throws {
        let k = next()
        try hub.post(k, kind: "barrier", rank: rank, contribution: [Double]())
        _ = try hub.collect(k, rank: rank, wait: true)
    }

    /// Aborts the group: every waiting and later collective of every rank throws
    /// `CommunicatorError.aborted`, naming the first rank that aborted and its reason. Returns.
    public func abort(_ reason: String) {
        hub.abort(rank: rank, reason: reason)
    }

    private func next() -> Int {
        defer { sequence += 1 }
        return sequence
    }

    /// An all-reduce whose contribution is posted; completing it sums in rank order.
    private final class Pending<Scalar: TensorScalar>: PendingReduction {
        let communicator: InProcessCommunicator
        let sequence: Int
        let buffer: UnsafeMutableBufferPointer<Scalar>
        let operation: ReductionOperation
        var done = false

        init(communicator: InProcessCommunicator, sequence: Int, buffer: UnsafeMutableBufferPointer<Scalar>,
             operation: ReductionOperation) {
            self.communicator = communicator
            self.sequence = sequence
            self.buffer = buffer
            self.operation = operation
        }

        func wait() throws { _ = try complete(wait: true) }
        func test() throws -> Bool { try complete(wait: false) }

        private func complete(wait: Bool) throws -> Bool {
            if done { return true }
            guard let contributions = try communicator.hub.collect(sequence, rank: communicator.rank, wait: wait) else { return false }
            let parts = contributions.map { $0 as! [Scalar] }
            let n = buffer.count
            for i in 0..<n {
                var s = parts[0][i]
                for r in 1..<parts.count { s += parts[r][i] }
                buffer[i] = operation == .mean ? s / Scalar(parts.count) : s
            }
            done = true
            return true
        }
    }

    /// What the ranks share: the open collectives and whether the group was aborted.
    private final class Hub: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var slots: [Int: Slot] = [:]
        private var aborted: (rank: Int, reason: String)?

        struct Slot {
            var kind: String
            var contributions: [Any?]
            var arrived = 0
            var collected = 0
        }

        init(size: Int) { self.size = size }

        func post(_ k: Int, kind: String, rank: Int, contribution: Any) throws {
            condition.lock()
            defer { condition.unlock() }
            if let aborted { throw CommunicatorError.aborted(rank: aborted.rank, reason: aborted.reason) }
            var slot = slots[k] ?? Slot(kind: kind, contributions: Array(repeating: nil, count: size))
            guard slot.kind == kind else {
                let error = CommunicatorError.mismatchedCollectives("collective \(k): rank \(rank) called \(kind), another rank \(slot.kind)")
                aborted = (rank, "\(error)")
                condition.broadcast()
                throw error
            }
            slot.contributions[rank] = contribution
            slot.arrived += 1
            slots[k] = slot
            if slot.arrived == size { condition.broadcast() }
        }

        /// Every rank's contribution once all have arrived (nil when `wait` is false and some
        /// are missing). The slot is freed when every rank has collected it.
        func collect(_ k: Int, rank: Int, wait: Bool) throws -> [Any?]? {
            condition.lock()
            defer { condition.unlock() }
            while true {
                if let aborted { throw CommunicatorError.aborted(rank: aborted.rank, reason: aborted.reason) }
                if let slot = slots[k], slot.arrived == size { break }
                if !wait { return nil }
                condition.wait()
            }
            var slot = slots[k]!
            slot.collected += 1
            slots[k] = slot.collected == size ? nil : slot
            return slot.contributions
        }

        func abort(rank: Int, reason: String) {
            condition.lock()
            if aborted == nil { aborted = (rank, reason) }
            condition.broadcast()
            condition.unlock()
        }
    }

    private final class ResultBox<R>: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Result<R, Error>?]
        init(count: Int) { results = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ r: Result<R, Error>) { lock.lock(); results[i] = r; lock.unlock() }
        func values() -> [Result<R, Error>?] { lock.lock(); defer { lock.unlock() }; return results }
    }
}
