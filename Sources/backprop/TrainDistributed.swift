import ArgumentParser
import Backprop
import BackpropBenchmarks
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `train --distributed`: one rank of a data-parallel MPI job.
///
/// Every rank runs the same `train`: it reads the data, builds the same run and joins the
/// others (`ClassifierTraining.distribute(over:)`), so they start from rank 0's weights and
/// take identical steps. Only rank 0 prints and writes files; the other ranks' standard output
/// goes to /dev/null and their output paths are dropped.
///
/// Failures:
/// - settings errors and a missing MPI library are the same on every rank: rank 0 reports them;
/// - a rank that fails while getting ready (a file it cannot read) says so, tells the others
///   through the first collective, and every rank leaves (the others quietly);
/// - a failure every rank sees at the same point (a diverged loss) is reported once by rank 0;
/// - any other failure of one rank is reported by that rank, which then stops the job
///   (MPI_Abort) — rank 0 writes files atomically, so nothing is left half written.
final class DistributedTraining {
    let world: MPICommunicator
    /// Whether the ranks have met in `start` (before it, a failing rank must tell the others).
    private(set) var started = false
    private var collectiveFailure = false
    private var strategy: DataParallel?

    /// Set on ranks other than 0: they write no files.
    nonisolated(unsafe) static var isFollower = false

    init(world: MPICommunicator) { self.world = world }

    /// Whether this `train` or `bench` runs as one rank of an MPI job: `--distributed` under an
    /// MPI launcher. Throws one line for `--distributed` outside one, and for a launch of
    /// several processes without `--distributed` (each would train alone and overwrite the
    /// others' files).
    static func isRequested(_ distributed: Bool, command: String) throws -> Bool {
        let launch = MPILaunch.detect()
        if distributed {
            guard launch != nil else {
                throw CommandLineError("--distributed needs an MPI launch: mpirun -np N backprop \(command) --distributed …")
            }
            return true
        }
        if let launch, launch.size.map({ $0 > 1 }) ?? true {
            if (launch.rank ?? 0) != 0 { exit(1) }   // rank 0 says why
            let count = launch.size.map { "\($0) processes" } ?? "several processes"
            throw CommandLineError("started by mpirun as one of \(count) without --distributed: each would \(command) alone "
                                   + "and overwrite the others' files; add --distributed")
        }
        return false
    }

    /// Starts MPI, or reports (on rank 0 only) why it cannot.
    static func world(launchRank: Int) throws -> MPICommunicator {
        do {
            return try MPICommunicator.world()
        } catch {
            try failEverywhere(CommandLineError("--distributed: \(error)"), launchRank: launchRank)
        }
    }

    /// An error every rank has at once: rank 0 reports it, the others leave quietly.
    static func failEverywhere(_ error: Error, launchRank: Int) throws -> Never {
        if launchRank == 0 { throw error }
        exit(1)
    }

    /// Joins the other ranks: from here on the run trains data-parallel.
    func start(_ run: inout ClassifierTraining) throws {
        started = true
        do {
            try run.distribute(over: world)
        } catch let error as DistributedError {
            collectiveFailure = true
            throw error
        }
        strategy = run.trainer.dataParallel
    }

    /// Ends this rank after `error` (see the type's documentation for who reports what).
    func fail(_ error: Error) throws -> Never {
        let message = BackpropCommand.message(for: error)
        let rank = world.rank, size = world.size
        if !started {
            let failed = (try? world.countFailures(true)) ?? size
            if failed < size || rank == 0 {
                CommandLineOutput.error(failed < size ? "rank \(rank) of \(size): \(message)" : message)
            }
            MPICommunicator.finalize()
            exit(1)
        }
        if collectiveFailure || strategy?.lastErrorWasCollective == true {
            MPICommunicator.finalize()
            // When other ranks failed to get ready, they have said why.
            if case DistributedError.peersFailed? = error as? DistributedError { exit(1) }
            if rank == 0 { throw error }
            exit(1)
        }
        CommandLineOutput.error("rank \(rank) of \(size): \(message); stopping every rank")
        world.abort(message)
        exit(1)
    }

    /// Without `BACKPROP_THREADS`, each rank gets its share of this machine's cores (the cores
    /// over the ranks `mpirun` started here, `OMPI_COMM_WORLD_LOCAL_SIZE`), not all of them:
    /// ranks that each ran one thread per core would fight over the cores.
    static func shareCores() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["BACKPROP_THREADS"] == nil,
              let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap({ Int($0) }), local > 1 else { return }
        Backprop.threadCount = max(1, ProcessInfo.processInfo.activeProcessorCount / local)
    }

    /// Sends this process's standard output to /dev/null (ranks other than 0).
    static func muteStandardOutput() {
        flushOutput()
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 {
            dup2(null, STDOUT_FILENO)
            close(null)
        }
    }
}

extension Train {
    /// `train` as one rank of an MPI job (see `DistributedTraining`).
    func trainDistributed() throws {
        let launchRank = MPILaunch.detect()?.rank ?? 0
        do { try checkArguments() } catch { try DistributedTraining.failEverywhere(error, launchRank: launchRank) }
        let world = try DistributedTraining.world(launchRank: launchRank)
        DistributedTraining.shareCores()
        var command = self
        if world.rank == 0 {
            let threads = Backprop.threadCount
            print("distributed: \(world.size) rank\(world.size == 1 ? "" : "s") × \(threads) thread\(threads == 1 ? "" : "s") "
                  + "(\(world.libraryVersion)); batches are global, split across the ranks")
        } else {
            DistributedTraining.isFollower = true
            command.out = nil
            command.checkpoint = nil
            command.metrics = nil
            command.plot = nil
            DistributedTraining.muteStandardOutput()
        }
        let run = DistributedTraining(world: world)
        do {
            try command.train(distribution: run)
        } catch {
            try run.fail(error)
        }
        MPICommunicator.finalize()
    }
}

extension BenchCommand {
    /// `bench --workload dp-epoch --distributed`: every rank runs the workload; rank 0 prints.
    func benchDistributed() throws {
        let launchRank = MPILaunch.detect()?.rank ?? 0
        guard workload == .dpEpoch else {
            try DistributedTraining.failEverywhere(CommandLineError("--distributed runs only --workload dp-epoch"), launchRank: launchRank)
        }
        if let reason = Benchmarks.unavailableReason(.dpEpoch) {
            try DistributedTraining.failEverywhere(CommandLineError("bench: \(reason)"), launchRank: launchRank)
        }
        let world = try DistributedTraining.world(launchRank: launchRank)
        DistributedTraining.shareCores()
        if world.rank != 0 { DistributedTraining.muteStandardOutput() }
        AllocatorTuning.retainFreedMemory()
        var options = smoke ? BenchmarkOptions.smokeTest : BenchmarkOptions()
        options.buildLabel = buildLabel
        options.bucketCapacity = bucketBytes
        if !smoke { options.minimumSeconds = seconds }
        let measurement: BenchmarkMeasurement
        do {
            measurement = try Benchmarks.dataParallelEpoch(options, communicator: world)
        } catch {
            CommandLineOutput.error("rank \(world.rank) of \(world.size): \(BackpropCommand.message(for: error)); stopping every rank")
            world.abort("\(error)")
            Foundation.exit(1)
        }
        print(json ? measurement.jsonLine : BenchmarkMeasurement.table([measurement]))
        MPICommunicator.finalize()
    }
}
