// gemm-bench: GFLOP/s of Backprop's GEMM on the reference `gemm` workload (BENCHMARKS.md).
//
//   swift run -c release --scratch-path .build-kernels gemm-bench [--threads 1,2] [--blas auto|off|PATH] [--double] [--quick]
//
// Build with `-Xswiftc -target-cpu -Xswiftc haswell` for the AVX2 build. Prints a Markdown
// table, one column per thread count. Timings are medians after warm-up; see docs/performance-gemm-notes.md.
import Backprop
import BackpropBenchmarks
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

var threadCounts = [1, 2]
var useDouble = false
var workloads = GemmBenchmark.standardWorkloads
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--threads":
        threadCounts = (arguments.next() ?? "1").split(separator: ",").compactMap { Int($0) }
    case "--blas":
        Gemm.blas = BLASPreference(environmentValue: arguments.next())
    case "--double":
        useDouble = true
    case "--quick":
        workloads = workloads.filter { ["square 1024", "mlp (128,784,512)"].contains($0.name) }
    default:
        print("usage: gemm-bench [--threads 1,2] [--blas auto|off|PATH] [--double] [--quick]")
        exit(2)
    }
}

var columns: [(title: String, results: [GemmBenchmark.Result])] = []
for threads in threadCounts {
    let results = useDouble
        ? GemmBenchmark.run(workloads, scalar: Double.self, threads: threads)
        : GemmBenchmark.run(workloads, scalar: Float.self, threads: threads)
    columns.append((title: "\(Gemm.backendName) \(useDouble ? "f64" : "f32") \(threads)T", results: results))
}
print("backend: \(Gemm.backendName); swift kernel: \(GemmBenchmark.swiftKernel)")
print(GemmBenchmark.table(columns))
