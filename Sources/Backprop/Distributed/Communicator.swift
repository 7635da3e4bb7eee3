/// How an all-reduce combines the ranks' buffers.
public enum ReductionOperation: Sendable, Equatable {
    /// Element i becomes Σ over ranks of element i.
    case sum
    /// The sum divided by the number of ranks (the same division on every rank).
    case mean
}

/// A group of processes (or threads) that each run the same program on their own part of the
/// data and exchange buffers: the collectives data-parallel training needs, and nothing more.
///
/// Ranks are numbered 0..<size. Every collective is called by every rank, in the same order and
/// with buffers of the same length; it returns on a rank once that rank's part is done.
/// Buffers are changed in place. A failing collective throws `CommunicatorError` (after
/// `abort`, every later collective of every rank throws too).
///
/// Two implementations: `MPICommunicator` (one rank per process, Open MPI loaded at run time)
/// and `InProcessCommunicator` (one rank per thread, for tests and experiments without MPI).
///
///     try communicator.allReduce(&gradient, .mean)      // same values on every rank afterwards
///     try communicator.broadcast(&weights, from: 0)     // rank 0's values everywhere
public protocol Communicator: AnyObject, Sendable {
    /// This participant's number, 0..<size.
    var rank: Int { get }
    /// The number of participants.
    var size: Int { get }
    /// Combines `buffer` element-wise across all ranks; every rank ends with the same result.
    func allReduce<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>, _ operation: ReductionOperation) throws
    /// Starts `allReduce` and returns at once; the buffer must stay allocated and untouched
    /// until the returned request completes. Requests are started in the same order on every
    /// rank (they may complete in any order).
    func startAllReduce<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>,
                                             _ operation: ReductionOperation) throws -> any PendingReduction
    /// Replaces `buffer` on every rank by its contents on `root`.
    func broadcast<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>, from root: Int) throws
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends the whole group because of `reason`: with MPI every process of the job is stopped
    /// (this call does not return); in process, every pending and later collective of every
    /// rank throws `CommunicatorError.aborted`.
    func abort(_ reason: String)
}

/// An all-reduce in flight (see `Communicator.startAllReduce`).
public protocol PendingReduction: AnyObject {
    /// Blocks until the result is in the buffer.
    func wait() throws
    /// Moves the reduction forward without blocking; true once the result is in the buffer.
    func test() throws -> Bool
}

/// Why a collective failed.
public enum CommunicatorError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The MPI library could not be loaded or started; the text says why.
    case unavailable(String)
    /// An MPI call returned an error code.
    case mpi(call: String, code: Int32, text: String)
    /// A rank aborted the group.
    case aborted(rank: Int, reason: String)
    /// The ranks called different collectives (or with different lengths) at the same point.
    case mismatchedCollectives(String)

    /// The error as one sentence, e.g. "rank 2 stopped the job: …".
    public var description: String {
        switch self {
        case let .unavailable(why): return "MPI is not available: \(why)"
        case let .mpi(call, code, text): return "\(call) failed with error \(code): \(text)"
        case let .aborted(rank, reason): return "rank \(rank) stopped the job: \(reason)"
        case let .mismatchedCollectives(what): return "the ranks called different collectives: \(what)"
        }
    }
}

extension Communicator {
    /// `allReduce` on an array.
    public func allReduce<Scalar: TensorScalar>(_ values: inout [Scalar], _ operation: ReductionOperation) throws {
        try values.withUnsafeMutableBufferPointer { try allReduce($0, operation) }
    }

    /// `broadcast` of an array (the same length on every rank).
    public func broadcast<Scalar: TensorScalar>(_ values: inout [Scalar], from root: Int) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, from: root) }
    }

    /// The number of ranks that pass `failed == true` (every rank calls it): how ranks learn
    /// that one of them could not get ready, without anyone waiting forever.
    public func countFailures(_ failed: Bool) throws -> Int {
        var flag: [Double] = [failed ? 1 : 0]
        try allReduce(&flag, .sum)
        return Int(flag[0])
    }

    /// Whether every rank passed the same `values` (every rank calls it; every rank gets the
    /// same answer). Rank 0's values are broadcast and compared; the count of ranks that differ
    /// is summed.
    public func allAgree(on values: [UInt64]) throws -> Bool {
        // Each 64-bit value travels as two exactly representable 32-bit halves.
        var halves = values.flatMap { [Double($0 >> 32), Double($0 & 0xFFFF_FFFF)] }
        let mine = halves
        var length: [Double] = [Double(halves.count)]
        try broadcast(&length, from: 0)
        var differs = Int(length[0]) != mine.count
        if !differs {
            try broadcast(&halves, from: 0)
            differs = halves != mine
        } else {
            // Rank 0's values have another length: still take part in a broadcast of that length.
            var theirs = [Double](repeating: 0, count: Int(length[0]))
            try broadcast(&theirs, from: 0)
        }
        return try countFailures(differs) == 0
    }
}
