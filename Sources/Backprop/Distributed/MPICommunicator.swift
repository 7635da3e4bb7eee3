import BackpropKernels
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The world communicator of an MPI job: one rank per process, started by `mpirun`.
///
/// Open MPI is loaded at run time with `dlopen` (`libmpi.so.40`, or the path in the
/// `BACKPROP_MPI_LIBRARY` environment variable), exactly as the system BLAS is, so the package
/// builds and its tests run on machines without MPI; `world()` throws
/// `CommunicatorError.unavailable` there. Only Open MPI's binary interface is supported: its
/// handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`, …) are the addresses of exported globals,
/// which `dlsym` finds. (MPICH's handles are integer constants compiled into programs; see
/// docs/distributed.md.)
///
/// MPI is initialised once per process (thread level `MPI_THREAD_SERIALIZED`: one thread at a
/// time calls MPI) and finalised by `finalize()`. Errors return to the caller as
/// `CommunicatorError.mpi` instead of stopping the process.
///
///     let world = try MPICommunicator.world()
///     var g: [Float] = gradient.scalars
///     try world.allReduce(&g, .mean)
///     MPICommunicator.finalize()
public final class MPICommunicator: Communicator, @unchecked Sendable {
    /// This process's rank in `MPI_COMM_WORLD`, 0..<size.
    public let rank: Int
    /// The number of processes in the job.
    public let size: Int
    private let mpi: MPILibrary

    private init(mpi: MPILibrary, rank: Int, size: Int) {
        self.mpi = mpi
        self.rank = rank
        self.size = size
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var shared: MPICommunicator?

    /// The library to load: `BACKPROP_MPI_LIBRARY` when set, else `libmpi.so.40` (Open MPI 3–5).
    public static var libraryPath: String {
        let configured = ProcessInfo.processInfo.environment["BACKPROP_MPI_LIBRARY"]?.trimmingCharacters(in: .whitespaces)
        if let configured, !configured.isEmpty { return configured }
        #if os(macOS)
        return "libmpi.40.dylib"
        #else
        return "libmpi.so.40"
        #endif
    }

    /// MPI_COMM_WORLD, initialising MPI on the first call.
    ///
    /// - Throws: `CommunicatorError.unavailable` when the library cannot be loaded or is not
    ///   Open MPI, `CommunicatorError.mpi` when initialisation fails.
    public static func world() throws -> MPICommunicator {
        lock.lock()
        defer { lock.unlock() }
        if let shared { return shared }
        let mpi = try MPILibrary.load(libraryPath)
        var flag: Int32 = 0
        try mpi.check("MPI_Initialized", mpi.initialized(&flag))
        if flag == 0 {
            var provided: Int32 = 0
            try mpi.check("MPI_Init_thread", mpi.initThread(nil, nil, MPILibrary.threadSerialized, &provided))
        }
        // Errors come back as codes (and become CommunicatorError) instead of ending the process.
        try mpi.check("MPI_Comm_set_errhandler", mpi.commSetErrhandler(mpi.commWorld, mpi.errorsReturn))
        var rank: Int32 = 0, size: Int32 = 0
        try mpi.check("MPI_Comm_rank", mpi.commRank(mpi.commWorld, &rank))
        try mpi.check("MPI_Comm_size", mpi.commSize(mpi.commWorld, &size))
        let world = MPICommunicator(mpi: mpi, rank: Int(rank), size: Int(size))
        shared = world
        return world
    }

    /// Ends MPI in this process (every rank calls it once, after its last collective). Nothing
    /// happens when MPI was never started or is already finalised.
    public static func finalize() {
        lock.lock()
        defer { lock.unlock() }
        guard let world = shared else { return }
        var flag: Int32 = 0
        _ = world.mpi.finalized(&flag)
        if flag == 0 { _ = world.mpi.finalize() }
    }

    /// The library's own name and version, e.g. "Open MPI v4.1.4".
    public var libraryVersion: String { mpi.version }

    /// `MPI_Allreduce` in place with `MPI_SUM` (in chunks of at most 2³¹ − 1 elements), then, for
    /// `.mean`, a division by `size` on every rank.
    /// - Throws: `CommunicatorError.mpi` when an MPI call fails.
    public func allReduce<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>, _ operation: ReductionOperation) throws {
        for chunk in MPILibrary.chunks(buffer.count) {
            try mpi.check("MPI_Allreduce", mpi.allreduce(MPILibrary.inPlace, UnsafeMutableRawPointer(buffer.baseAddress! + chunk.lowerBound),
                                                         Int32(chunk.count), mpi.datatype(Scalar.self), mpi.opSum, mpi.commWorld))
        }
        if operation == .mean { divide(buffer) }
    }

    /// `MPI_Iallreduce` in place with `MPI_SUM` (one request per chunk of at most 2³¹ − 1 elements);
    /// the returned request's `wait` or successful `test` completes it (dividing for `.mean`).
    /// - Throws: `CommunicatorError.mpi` when an MPI call fails.
    public func startAllReduce<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>,
                                                    _ operation: ReductionOperation) throws -> any PendingReduction {
        let pending = Pending(communicator: self, buffer: buffer, operation: operation)
        for (i, chunk) in MPILibrary.chunks(buffer.count).enumerated() {
            try mpi.check("MPI_Iallreduce", mpi.iallreduce(MPILibrary.inPlace, UnsafeMutableRawPointer(buffer.baseAddress! + chunk.lowerBound),
                                                           Int32(chunk.count), mpi.datatype(Scalar.self), mpi.opSum, mpi.commWorld,
                                                           pending.requests + i))
            pending.started += 1
        }
        return pending
    }

    /// `MPI_Bcast` of `buffer` from rank `root` (in chunks of at most 2³¹ − 1 elements). Stops with a
    /// message when `root` is not a rank.
    /// - Throws: `CommunicatorError.mpi` when an MPI call fails.
    public func broadcast<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>, from root: Int) throws {
        require((0..<size).contains(root), "broadcast: root \(root) is not a rank of \(size)")
        for chunk in MPILibrary.chunks(buffer.count) {
            try mpi.check("MPI_Bcast", mpi.bcast(UnsafeMutableRawPointer(buffer.baseAddress! + chunk.lowerBound), Int32(chunk.count),
                                                 mpi.datatype(Scalar.self), Int32(root), mpi.commWorld))
        }
    }

    /// `MPI_Barrier`: returns once every process has called it.
    /// - Throws: `CommunicatorError.mpi` when the call fails.
    public func barrier() throws {
        try mpi.check("MPI_Barrier", mpi.barrier(mpi.commWorld))
    }

    /// `MPI_Abort` with error code 1: the launcher stops every process of the job, this one
    /// included. `reason` is for the caller to print first (MPI has nowhere to put it).
    public func abort(_ reason: String) {
        _ = mpi.abort(mpi.commWorld, 1)
        exit(1)   // MPI_Abort does not return; should it, end this process anyway
    }

    private func divide<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>) {
        let n = Scalar(size)
        for i in 0..<buffer.count { buffer[i] /= n }
    }

    /// An MPI_Iallreduce in flight: one request per chunk of at most Int32.max elements.
    private final class Pending<Scalar: TensorScalar>: PendingReduction {
        let communicator: MPICommunicator
        let buffer: UnsafeMutableBufferPointer<Scalar>
        let operation: ReductionOperation
        let requests: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        let count: Int
        var started = 0
        var done = false

        init(communicator: MPICommunicator, buffer: UnsafeMutableBufferPointer<Scalar>, operation: ReductionOperation) {
            self.communicator = communicator
            self.buffer = buffer
            self.operation = operation
            count = MPILibrary.chunks(buffer.count).count
            requests = .allocate(capacity: Swift.max(count, 1))
            requests.initialize(repeating: nil, count: Swift.max(count, 1))
        }

        deinit { requests.deallocate() }

        func wait() throws {
            if done { return }
            let mpi = communicator.mpi
            for i in 0..<started {
                try mpi.check("MPI_Wait", mpi.wait(requests + i, nil))
            }
            finish()
        }

        func test() throws -> Bool {
            if done { return true }
            let mpi = communicator.mpi
            var all = true
            for i in 0..<started {
                var flag: Int32 = 0
                try mpi.check("MPI_Test", mpi.test(requests + i, &flag, nil))
                if flag == 0 { all = false }
            }
            if all { finish() }
            return all
        }

        private func finish() {
            done = true
            if operation == .mean { communicator.divide(buffer) }
        }
    }
}

/// Open MPI's C entry points and predefined handles, looked up in the loaded library.
final class MPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias RequestPointer = UnsafeMutablePointer<UnsafeMutableRawPointer?>

    // mpi.h: MPI_THREAD_SERIALIZED = 2, MPI_IN_PLACE = (void *) 1 (Open MPI's values).
    static let threadSerialized: Int32 = 2
    static var inPlace: UnsafeRawPointer? { UnsafeRawPointer(bitPattern: 1) }

    typealias InitializedFunction = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let initialized: InitializedFunction
    typealias FinalizedFunction = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let finalized: FinalizedFunction
    typealias InitThreadFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>) -> Int32
    let initThread: InitThreadFunction
    typealias FinalizeFunction = @convention(c) () -> Int32
    let finalize: FinalizeFunction
    typealias CommRankFunction = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commRank: CommRankFunction
    typealias CommSizeFunction = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commSize: CommSizeFunction
    typealias CommSetErrhandlerFunction = @convention(c) (Handle, Handle) -> Int32
    let commSetErrhandler: CommSetErrhandlerFunction
    typealias AllreduceFunction = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle) -> Int32
    let allreduce: AllreduceFunction
    typealias IallreduceFunction = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle, RequestPointer) -> Int32
    let iallreduce: IallreduceFunction
    typealias WaitFunction = @convention(c) (RequestPointer, UnsafeMutableRawPointer?) -> Int32
    let wait: WaitFunction
    typealias TestFunction = @convention(c) (RequestPointer, UnsafeMutablePointer<Int32>, UnsafeMutableRawPointer?) -> Int32
    let test: TestFunction
    typealias BcastFunction = @convention(c) (UnsafeMutableRawPointer, Int32, Handle, Int32, Handle) -> Int32
    let bcast: BcastFunction
    typealias BarrierFunction = @convention(c) (Handle) -> Int32
    let barrier: BarrierFunction
    typealias AbortFunction = @convention(c) (Handle, Int32) -> Int32
    let abort: AbortFunction
    typealias ErrorStringFunction = @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    let errorString: ErrorStringFunction
    typealias GetLibraryVersionFunction = @convention(c) (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    let getLibraryVersion: GetLibraryVersionFunction

    let commWorld: Handle
    let float: Handle
    let double: Handle
    let opSum: Handle
    let errorsReturn: Handle

    private init(_ handle: UnsafeMutableRawPointer) throws {
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let s = dlsym(handle, name) else {
                throw CommunicatorError.unavailable("\(MPICommunicator.libraryPath) has no \(name) (only Open MPI is supported)")
            }
            return s
        }
        func function<F>(_ name: String, _: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: F.self) }
        initialized = try function("MPI_Initialized", InitializedFunction.self)
        finalized = try function("MPI_Finalized", FinalizedFunction.self)
        initThread = try function("MPI_Init_thread", InitThreadFunction.self)
        finalize = try function("MPI_Finalize", FinalizeFunction.self)
        commRank = try function("MPI_Comm_rank", CommRankFunction.self)
        commSize = try function("MPI_Comm_size", CommSizeFunction.self)
        commSetErrhandler = try function("MPI_Comm_set_errhandler", CommSetErrhandlerFunction.self)
        allreduce = try function("MPI_Allreduce", AllreduceFunction.self)
        iallreduce = try function("MPI_Iallreduce", IallreduceFunction.self)
        wait = try function("MPI_Wait", WaitFunction.self)
        test = try function("MPI_Test", TestFunction.self)
        bcast = try function("MPI_Bcast", BcastFunction.self)
        barrier = try function("MPI_Barrier", BarrierFunction.self)
        abort = try function("MPI_Abort", AbortFunction.self)
        errorString = try function("MPI_Error_string", ErrorStringFunction.self)
        getLibraryVersion = try function("MPI_Get_library_version", GetLibraryVersionFunction.self)
        // Open MPI's predefined handles are the addresses of these globals (mpi.h's
        // OMPI_PREDEFINED_GLOBAL).
        commWorld = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        opSum = try symbol("ompi_mpi_op_sum")
        errorsReturn = try symbol("ompi_mpi_errors_return")
    }

    /// Opens the library (RTLD_GLOBAL: Open MPI's own plug-ins resolve symbols against it).
    static func load(_ path: String) throws -> MPILibrary {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw CommunicatorError.unavailable("cannot load \(path) (\(why))")
        }
        return try MPILibrary(handle)
    }

    func datatype<Scalar: TensorScalar>(_: Scalar.Type) -> Handle {
        if Scalar.self == Float.self { return float }
        precondition(Scalar.self == Double.self, "MPI: unsupported scalar type \(Scalar.self)")
        return double
    }

    /// Throws `CommunicatorError.mpi` with MPI's text for a non-zero return code.
    func check(_ call: String, _ code: Int32) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        var length: Int32 = 0
        _ = errorString(code, &text, &length)
        throw CommunicatorError.mpi(call: call, code: code, text: Self.string(text))
    }

    /// The UTF-8 text of a C character buffer, up to its first NUL.
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// "Open MPI v4.1.4" (the library's version string up to its first comma).
    var version: String {
        var text = [CChar](repeating: 0, count: 8192)
        var length: Int32 = 0
        guard getLibraryVersion(&text, &length) == 0 else { return "MPI" }
        let full = Self.string(text).trimmingCharacters(in: .whitespacesAndNewlines)
        return full.split(separator: ",").first.map(String.init) ?? full
    }

    /// 0..<count cut into ranges of at most Int32.max elements (MPI counts are C ints).
    static func chunks(_ count: Int) -> [Range<Int>] {
        let limit = Int(Int32.max)
        return stride(from: 0, to: count, by: limit).map { $0..<Swift.min($0 + limit, count) }
    }
}

/// How this process was started, from the launcher's environment variables.
public struct MPILaunch: Sendable, Equatable {
    /// The number of processes the launcher started, when it says.
    public var size: Int?
    /// This process's rank, when the launcher says.
    public var rank: Int?

    /// Open MPI's `mpirun` sets `OMPI_COMM_WORLD_SIZE` and `OMPI_COMM_WORLD_RANK`; MPICH's
    /// Hydra and Slurm's PMI set `PMI_SIZE`/`PMI_RANK`; PMIx launchers `PMIX_RANK`. Nil when
    /// none is set: the process was not started by an MPI launcher.
    public static func detect(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> MPILaunch? {
        func number(_ key: String) -> Int? { environment[key].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        if let size = number("OMPI_COMM_WORLD_SIZE") { return MPILaunch(size: size, rank: number("OMPI_COMM_WORLD_RANK")) }
        if let size = number("PMI_SIZE") { return MPILaunch(size: size, rank: number("PMI_RANK")) }
        if let rank = number("PMIX_RANK") { return MPILaunch(size: nil, rank: rank) }
        return nil
    }
}
