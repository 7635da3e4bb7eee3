import ArgumentParser
import Backprop
import BackpropBenchmarks
import Foundation

extension BenchmarkWorkload: ExpressibleByArgument {}

/// `backprop bench`: the reference workloads of BENCHMARKS.md, as a table or JSON lines.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the reference workloads (gemm, mlp-step, softmax, jacobian, digits, cnn-step, dp-epoch, machine).",
        discussion: """
            Medians of repeated runs after warm-up. Threads follow BACKPROP_THREADS (default: all \
            cores); the GEMM backend follows BACKPROP_BLAS (auto, off, or a library path); the \
            kernels' instruction set is the best the CPU supports, or BACKPROP_ISA (baseline, avx2, \
            avx512) when set lower. Each result names the instruction set and the CPU. \
            bench/compare.sh runs these and the PyTorch, JAX and NumPy peers side by side.
            """
    )

    @Option(help: "Run only this workload: \(BenchmarkWorkload.allCases.map(\.rawValue).joined(separator: ", ")).")
    var workload: BenchmarkWorkload?

    @Flag(help: "One JSON object per measurement (workload, shape, threads, backend, median_ms, gflops or gbps).")
    var json = false

    @Option(help: "A name for this build, put into the swift backend's name (swift-<label>-<isa>).")
    var buildLabel: String?

    @Option(parsing: .unconditional, help: "Minimum seconds of timed runs per measurement.")
    var seconds: Double = 1

    @Flag(help: "Tiny shapes and two runs: checks that everything runs, measures nothing.")
    var smoke = false

    @Flag(help: "Run dp-epoch data-parallel as one rank of an MPI job: mpirun -np N backprop bench --workload dp-epoch --distributed.")
    var distributed = false

    @Option(help: "With --distributed: about how many bytes of gradients go in one all-reduce bucket (default \(DataParallel.defaultBucketCapacity)).")
    var bucketBytes: Int = DataParallel.defaultBucketCapacity

    func run() throws {
        guard seconds.isFinite, seconds >= 0 else { throw CommandLineError("--seconds must be a finite number ≥ 0, got \(seconds)") }
        guard bucketBytes >= 1 else { throw CommandLineError("--bucket-bytes must be positive, got \(bucketBytes)") }
        if try DistributedTraining.isRequested(distributed, command: "bench") { return try benchDistributed() }
        // Steps free and re-allocate the same large buffers: keep them instead of re-faulting pages.
        AllocatorTuning.retainFreedMemory()
        var options = smoke ? BenchmarkOptions.smokeTest : BenchmarkOptions()
        options.buildLabel = buildLabel
        if !smoke { options.minimumSeconds = seconds }
        var all: [BenchmarkMeasurement] = []
        for w in workload.map({ [$0] }) ?? BenchmarkWorkload.allCases {
            if let reason = Benchmarks.unavailableReason(w) {
                CommandLineOutput.error("bench: skipped \(reason)")
                continue
            }
            let results = Benchmarks.run(w, options: options)
            if json { results.forEach { print($0.jsonLine); flushOutput() } }
            all += results
        }
        if !json {
            print("cpu: \(KernelISA.cpuDescription.isEmpty ? "unknown" : KernelISA.cpuDescription); kernels: \(KernelISA.active)")
            print(BenchmarkMeasurement.table(all))
        }
    }
}
