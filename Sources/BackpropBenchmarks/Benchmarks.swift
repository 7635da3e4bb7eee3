import Backprop
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The reference workloads of BENCHMARKS.md (shared with the peer scripts in `bench/peers/`).
public enum BenchmarkWorkload: String, CaseIterable, Sendable {
    /// C = op(A)·op(B): square n = 256…2048 and the MLP layer shapes in all three forms.
    case gemm
    /// One SGD training step of the 784-512-512-10 MLP on a batch of 128.
    case mlpStep = "mlp-step"
    /// softmax(βx) on 4096×1000 and its VJP.
    case softmax
    /// The full 1000×1000 Jacobian of softmax(βx) through `jacobian`.
    case jacobian
    /// Training on the embedded digits data (the `backprop train` defaults).
    case digits
    /// An epoch of an MLP on mnist-5k, in one process or data-parallel over MPI ranks.
    case dpEpoch = "dp-epoch"
    /// The machine's limits beside the workloads: multiply-add peak and STREAM triad bandwidth.
    case machine
    /// One Adam training step of the reference CNN on a batch of 32 1×28×28 images.
    case cnnStep = "cnn-step"
}

/// How long and how large the benchmarks run.
public struct BenchmarkOptions: Sendable {
    /// Untimed runs before measuring.
    public var warmupRuns = 2
    /// Timed runs: at least this many, and more until `minimumSeconds` have passed…
    public var minimumRuns = 5
    /// …but no more than this many.
    public var maximumRuns = 500
    /// The timed runs' minimum total, in seconds (`backprop bench --seconds`).
    public var minimumSeconds = 1.0
    /// Tiny shapes and few runs: checks that every workload runs, says nothing about speed.
    public var smoke = false
    /// Put into the `swift` backend's name (`swift-<label>-<isa>`), to tell builds apart (the
    /// build flags are not visible to the code, so the caller says).
    public var buildLabel: String? = nil
    /// dp-epoch: about how many bytes of gradients go in one all-reduce bucket
    /// (`DataParallel.bucketCapacity`).
    public var bucketCapacity = DataParallel.defaultBucketCapacity

    /// The defaults: 2 warm-up runs, then 5 to 500 timed runs lasting at least 1 second.
    public init() {}

    /// Tiny shapes, one warm-up and two runs.
    public static var smokeTest: BenchmarkOptions {
        var o = BenchmarkOptions()
        o.warmupRuns = 1; o.minimumRuns = 2; o.maximumRuns = 2; o.minimumSeconds = 0; o.smoke = true
        return o
    }
}

/// Runs the reference workloads with the library's own kernels and operations.
///
///     for m in Benchmarks.run(.softmax) { print(m.jsonLine) }
public enum Benchmarks {
    /// Why a workload cannot run in this build, or nil when it can.
    public static func unavailableReason(_ workload: BenchmarkWorkload) -> String? {
        workload == .dpEpoch ? dataParallelEpochUnavailableReason : nil
    }

    /// Measures one workload (empty when `unavailableReason` says it cannot run).
    /// Each measurement carries the kernels' instruction set (`isa`: `KernelISA.active`) and the
    /// CPU model (`cpu`).
    public static func run(_ workload: BenchmarkWorkload, options: BenchmarkOptions = .init()) -> [BenchmarkMeasurement] {
        var results: [BenchmarkMeasurement]
        switch workload {
        case .gemm: results = gemm(options)
        case .mlpStep: results = [mlpStep(options)]
        case .softmax: results = [softmax(options)]
        case .jacobian: results = [jacobian(options)]
        case .digits: results = [digits(options)]
        case .machine: results = machine(options)
        case .dpEpoch: results = (try? dataParallelEpoch(options)).map { [$0] } ?? []
        case .cnnStep: results = [cnnStep(options)]
        }
        for i in results.indices {
            results[i].details += [("isa", KernelISA.active.description), ("cpu", KernelISA.cpuDescription)]
        }
        return results
    }

    /// The backend that runs large GEMMs now, as reported in measurements: the BLAS name, or
    /// `swift-<isa>` (the instruction set of the kernels in use), with the build label when given.
    static func backend(_ options: BenchmarkOptions) -> String {
        let name = Gemm.backendName
        guard name == "swift" else { return name }
        return swiftBackend(options)
    }

    /// `swift-<isa>`, or `swift-<label>-<isa>` with a build label.
    static func swiftBackend(_ options: BenchmarkOptions) -> String {
        if let label = options.buildLabel { return "swift-\(label)-\(KernelISA.active)" }
        return "swift-\(KernelISA.active)"
    }

    /// The median wall time of `body` in milliseconds, after warm-up.
    public static func medianMilliseconds(_ options: BenchmarkOptions, _ body: () -> Void) -> Double {
        for _ in 0..<options.warmupRuns { body() }
        var times: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        while times.count < options.minimumRuns || (elapsed() < options.minimumSeconds && times.count < options.maximumRuns) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        times.sort()
        let n = times.count
        return n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2
    }

    /// The process's resident set size now, in bytes (Linux `/proc/self/statm`), or nil elsewhere.
    static func residentBytes() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The process's peak resident set size so far, in bytes.
    public static func peakResidentBytes() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss)
        #endif
    }
}
