import Backprop
import Foundation

/// One measured workload configuration: what ran, on how many threads and which backend, and
/// how fast. `backprop bench` prints these as a table or as JSON lines; `bench/peers/` prints
/// the same JSON schema for PyTorch, JAX and NumPy.
public struct BenchmarkMeasurement: Sendable, Equatable {
    /// The workload id of BENCHMARKS.md: `gemm`, `mlp-step`, `softmax`, `jacobian`, `digits`, or
    /// `machine` (the core's multiply-add peak and STREAM's triad).
    public var workload: String
    /// The problem, e.g. `"1024x1024x1024 AB"` (M×K×N and the transpose form) or `"4096x1000"`.
    public var shape: String
    /// Threads the kernels were allowed to use.
    public var threads: Int
    /// What did the arithmetic: `swift`, `openblas` (through Backprop), `openblas-direct`, …
    public var backend: String
    /// Median wall time of one run, milliseconds.
    public var medianMilliseconds: Double
    /// Arithmetic rate, when the workload counts FLOPs.
    public var gigaflops: Double? = nil
    /// Effective memory rate (bytes read + written / time), when the workload counts bytes.
    public var gigabytesPerSecond: Double? = nil
    /// Other figures, in order (e.g. `accuracy`, `heap_growth_bytes`), as JSON numbers.
    public var extra: [(key: String, value: Double)] = []
    /// Descriptions, in order, as JSON strings after the figures: `isa` (the kernels' instruction
    /// set) and `cpu` (the CPU model) for `backprop bench`.
    public var details: [(key: String, value: String)] = []

    /// A measurement of `workload` at `shape` on `threads` threads through `backend`, with its
    /// median time and, where the workload counts them, its arithmetic or memory rate and other
    /// figures (`details` start empty).
    public init(workload: String, shape: String, threads: Int, backend: String, medianMilliseconds: Double,
                gigaflops: Double? = nil, gigabytesPerSecond: Double? = nil, extra: [(key: String, value: Double)] = []) {
        self.workload = workload; self.shape = shape; self.threads = threads; self.backend = backend
        self.medianMilliseconds = medianMilliseconds; self.gigaflops = gigaflops
        self.gigabytesPerSecond = gigabytesPerSecond; self.extra = extra
    }

    /// Whether the two give the same JSON line (every field and figure equal).
    public static func == (a: Self, b: Self) -> Bool { a.jsonLine == b.jsonLine }

    /// One JSON object on one line, keys in a fixed order:
    /// `{"workload":…,"shape":…,"threads":…,"backend":…,"median_ms":…,"gflops"|"gbps":…,…}`.
    public var jsonLine: String {
        func string(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
        var fields = [("workload", string(workload)), ("shape", string(shape)), ("threads", "\(threads)"),
                      ("backend", string(backend)), ("median_ms", number(medianMilliseconds))]
        if let gigaflops { fields.append(("gflops", number(gigaflops))) }
        if let gigabytesPerSecond { fields.append(("gbps", number(gigabytesPerSecond))) }
        for (key, value) in extra { fields.append((key, number(value))) }
        for (key, value) in details { fields.append((key, string(value))) }
        return "{" + fields.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The figure column of the table: GFLOP/s, GB/s or the extra values.
    public var figure: String {
        if let gigaflops { return String(format: "%.1f GFLOP/s", gigaflops) }
        if let gigabytesPerSecond { return String(format: "%.1f GB/s", gigabytesPerSecond) }
        return extra.map { "\($0.key) \(String(format: "%.4g", $0.value))" }.joined(separator: ", ")
    }

    /// Measurements as an aligned text table.
    public static func table(_ rows: [BenchmarkMeasurement]) -> String {
        let header = ["workload", "shape", "threads", "backend", "median ms", "figure"]
        let cells = rows.map { [$0.workload, $0.shape, "\($0.threads)", $0.backend,
                                String(format: "%.3f", $0.medianMilliseconds), $0.figure] }
        let widths = header.indices.map { i in ([header[i]] + cells.map { $0[i] }).map(\.count).max()! }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, cell in
                i == 4 ? String(repeating: " ", count: widths[i] - cell.count) + cell
                       : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + cells.map(line))
            .joined(separator: "\n")
    }
}

