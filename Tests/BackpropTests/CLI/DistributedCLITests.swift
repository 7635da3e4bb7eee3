import Foundation
import Testing
@testable import Backprop

// How `backprop train --distributed` and `bench --distributed` refuse bad launches, run with
// the launcher's environment variables set by hand (no MPI needed). The MPI runs themselves are
// in .ci/run (mpirun -np 2).

/// Runs backprop with the launcher variables of this process removed and `environment` added
/// (`executable` is the one CLITests finds).
private func launch(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = executable!
    process.arguments = arguments
    var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMI") }
    base.merge(environment) { _, new in new }
    process.environment = base
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

private func expectOneLine(_ r: (status: Int32, stdout: String, stderr: String), _ fragment: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status != 0, sourceLocation: sourceLocation)
    #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasPrefix("backprop: ") && r.stderr.contains(fragment), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
}

private let launchedAsRank0Of2 = ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0"]

@Suite(.enabled(if: executable != nil, "the backprop executable is not built"), .serialized)
struct DistributedCLITests {
    @Test func distributedOutsideAnMPILaunchStopsWithOneLine() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("dp-\(UUID().uuidString).safetensors").path
        expectOneLine(try launch(["train", "--distributed", "--epochs", "1", "--out", out]),
                      "--distributed needs an MPI launch: mpirun -np N backprop train --distributed")
        #expect(!FileManager.default.fileExists(atPath: out))
        expectOneLine(try launch(["bench", "--workload", "dp-epoch", "--distributed"]),
                      "mpirun -np N backprop bench --distributed")
    }

    @Test func distributedWithoutTheMPILibraryStopsWithOneLine() throws {
        let r = try launch(["train", "--distributed", "--epochs", "1"],
                             environment: ["OMPI_COMM_WORLD_SIZE": "1", "OMPI_COMM_WORLD_RANK": "0",
                                           "BACKPROP_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        expectOneLine(r, "--distributed: MPI is not available: cannot load /nonexistent/libmpi.so.40")
        #expect(r.stdout.isEmpty)
    }

    @Test func severalProcessesWithoutDistributedStopWithOneLineFromRankZero() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("dp-\(UUID().uuidString).safetensors").path
        expectOneLine(try launch(["train", "--epochs", "1", "--out", out], environment: launchedAsRank0Of2),
                      "started by mpirun as one of 2 processes without --distributed: each would train alone and overwrite the others' files; add --distributed")
        let other = try launch(["train", "--epochs", "1", "--out", out],
                                 environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1"])
        #expect(other.status != 0 && other.stderr.isEmpty && other.stdout.isEmpty, "rank 1 leaves the telling to rank 0")
        #expect(!FileManager.default.fileExists(atPath: out))
        expectOneLine(try launch(["bench", "--workload", "digits", "--smoke"], environment: launchedAsRank0Of2),
                      "without --distributed")
    }

    @Test func distributedSettingsErrorsAreReportedOnceBeforeMPIStarts() throws {
        // A bad option is the same on every rank: rank 0 says it, before loading MPI at all.
        let environment = launchedAsRank0Of2.merging(["BACKPROP_MPI_LIBRARY": "/nonexistent/libmpi.so.40"]) { $1 }
        expectOneLine(try launch(["train", "--distributed", "--epochs", "0"], environment: environment),
                      "--epochs must be at least 1, got 0")
        let rank1 = try launch(["train", "--distributed", "--epochs", "0"],
                                 environment: environment.merging(["OMPI_COMM_WORLD_RANK": "1"]) { $1 })
        #expect(rank1.status != 0 && rank1.stderr.isEmpty)
        expectOneLine(try launch(["bench", "--workload", "gemm", "--distributed"], environment: environment),
                      "--distributed runs only --workload dp-epoch")
    }
}
