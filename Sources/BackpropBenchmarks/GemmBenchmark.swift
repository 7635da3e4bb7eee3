import Backprop
import BackpropKernels
import Dispatch

/// The `gemm` reference workload (see BENCHMARKS.md): GFLOP/s of `Gemm.multiply` on square
/// sizes and on the MLP layer shapes in their forward and two backward forms.
///
/// Runs on whatever backend the settings select (`Gemm.blas`), with the thread count given.
/// Timing is the median over `samples` samples after a warm-up call; each sample repeats the
/// call enough times to last about `sampleSeconds`. Not a test: timings are never asserted.
///
///     Gemm.blas = .off
///     for r in GemmBenchmark.run(threads: 1) { print(r.workload.name, r.gflops) }
public enum GemmBenchmark {
    /// Which product of a layer's matrices: forward A·B, weight gradient Aᵀ·B, input gradient A·Bᵀ.
    public enum Form: String, Sendable, CaseIterable {
        /// A·B, the forward product (input × weight).
        case ab = "A·B"
        /// Aᵀ·B, the weight gradient (inputᵀ × output gradient).
        case atb = "Aᵀ·B"
        /// A·Bᵀ, the input gradient (output gradient × weightᵀ).
        case abt = "A·Bᵀ"
    }

    /// A layer of shape (M, K, N) — input M×K, weight K×N, output M×N — and the product to time.
    public struct Workload: Sendable {
        /// What the shape is, e.g. `square 1024` or `mlp (128,784,512)`.
        public var name: String
        /// Rows of the input (the batch).
        public var m: Int
        /// Columns of the input, rows of the weight.
        public var k: Int
        /// Columns of the weight and of the output.
        public var n: Int
        /// Which of the three products is timed.
        public var form: Form
        /// 2·M·K·N, the same for all three forms.
        public var flops: Double { 2 * Double(m) * Double(k) * Double(n) }

        /// The `form` product of a layer of shape (`m`, `k`, `n`), called `name`.
        public init(name: String, m: Int, k: Int, n: Int, form: Form) {
            self.name = name; self.m = m; self.k = k; self.n = n; self.form = form
        }
    }

    /// One measurement.
    public struct Result: Sendable {
        /// The product timed.
        public var workload: Workload
        /// The threads it ran on.
        public var threads: Int
        /// The GEMM backend: the library's kernels (with their variant) or the system BLAS.
        public var backend: String
        /// `Float` or `Double`.
        public var scalar: String
        /// Median seconds per call.
        public var seconds: Double
        /// Fastest sample's seconds per call (less disturbed by other load on the machine).
        public var bestSeconds: Double
        /// GFLOP/s at the median time.
        public var gflops: Double { workload.flops / seconds / 1e9 }
        /// GFLOP/s at the fastest sample.
        public var bestGflops: Double { workload.flops / bestSeconds / 1e9 }
    }

    /// The micro-kernel in use (after `KernelISA.active`), e.g. "avx2 4×24 (FMA)".
    public static var swiftKernel: String {
        switch GemmKernelForm.preferred {
        case .fused: return "fused \(FloatFusedKernel.mr)×\(FloatFusedKernel.nr) (FMA)"
        case .separate: return "separate \(FloatSeparateKernel.mr)×\(FloatSeparateKernel.nr) (mul, add)"
        case .avx2: return "avx2 \(FloatAVX2Kernel.mr)×\(FloatAVX2Kernel.nr) (FMA)"
        case .avx512: return "avx512 \(FloatAVX512Kernel.mr)×\(FloatAVX512Kernel.nr) (FMA)"
        case .avx512OnAVX2: return "avx512 code on avx2 \(FloatAVX512Kernel.mr)×\(FloatAVX512Kernel.nr) (FMA)"
        }
    }

    /// Square n = 256…2048 (A·B), then the MLP layers (128,784,512), (128,512,512), (128,512,10)
    /// in all three forms.
    public static var standardWorkloads: [Workload] {
        var list = [256, 512, 1024, 2048].map { Workload(name: "square \($0)", m: $0, k: $0, n: $0, form: .ab) }
        for (m, k, n) in [(128, 784, 512), (128, 512, 512), (128, 512, 10)] {
            for form in Form.allCases {
                list.append(Workload(name: "mlp (\(m),\(k),\(n))", m: m, k: k, n: n, form: form))
            }
        }
        return list
    }

    /// Times each workload in `T` with `Backprop.threadCount` set to `threads` (restored after).
    public static func run<T: TensorScalar>(
        _ workloads: [Workload] = standardWorkloads, scalar: T.Type = Float.self,
        threads: Int, samples: Int = 7, sampleSeconds: Double = 0.05
    ) -> [Result] {
        let saved = Backprop.threadCount
        Backprop.threadCount = threads
        defer { Backprop.threadCount = saved }
        var rng = SeededGenerator(seed: 2024)
        return workloads.map { w in
            // Stored shapes for each form; op(A) is always rows×depth, op(B) depth×cols.
            let (rows, depth, cols, tA, tB): (Int, Int, Int, Bool, Bool)
            switch w.form {
            case .ab: (rows, depth, cols, tA, tB) = (w.m, w.k, w.n, false, false)
            case .atb: (rows, depth, cols, tA, tB) = (w.k, w.m, w.n, true, false)   // Xᵀ·dY
            case .abt: (rows, depth, cols, tA, tB) = (w.m, w.n, w.k, false, true)   // dY·Wᵀ
            }
            let a = (0..<rows * depth).map { _ in T(rng.nextUnitDouble() - 0.5) }
            let b = (0..<depth * cols).map { _ in T(rng.nextUnitDouble() - 0.5) }
            var c = [T](repeating: 0, count: rows * cols)
            let lda = tA ? rows : depth, ldb = tB ? depth : cols
            let (seconds, bestSeconds) = a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        let call = {
                            Gemm.multiply(transposeA: tA, transposeB: tB, m: rows, n: cols, k: depth,
                                          a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                          c: c.baseAddress!, ldc: cols, accumulate: false)
                        }
                        return medianSeconds(call, samples: samples, sampleSeconds: sampleSeconds)
                    }
                }
            }
            return Result(workload: w, threads: threads, backend: Gemm.backendName,
                          scalar: "\(T.self)", seconds: seconds, bestSeconds: bestSeconds)
        }
    }

    /// Median and minimum seconds per call of `body` over `samples` timed batches, after a warm-up.
    static func medianSeconds(_ body: () -> Void, samples: Int, sampleSeconds: Double) -> (Double, Double) {
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
        let start = now()
        body()
        let once = max(now() - start, 1e-7)
        let repeats = max(1, Int(sampleSeconds / once))
        var times: [Double] = []
        for _ in 0..<max(1, samples) {
            let t0 = now()
            for _ in 0..<repeats { body() }
            times.append((now() - t0) / Double(repeats))
        }
        times.sort()
        return (times[times.count / 2], times[0])
    }

    /// The results as a Markdown table, one row per workload, one column per result set;
    /// each cell is "median GFLOP/s (best)".
    public static func table(_ columns: [(title: String, results: [Result])]) -> String {
        var lines = ["| workload | form | " + columns.map(\.title).joined(separator: " | ") + " |",
                     "|---|---|" + String(repeating: "---:|", count: columns.count)]
        guard let first = columns.first else { return lines.joined(separator: "\n") }
        for (i, r) in first.results.enumerated() {
            let cells = columns.map { column in
                i < column.results.count
                    ? "\(formatted(column.results[i].gflops)) (\(formatted(column.results[i].bestGflops)))" : "—"
            }
            lines.append("| \(r.workload.name) | \(r.workload.form.rawValue) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    private static func formatted(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
