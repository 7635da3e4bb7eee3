import Backprop
import BackpropKernels
import CBackpropKernels
import Foundation

extension Benchmarks {
    /// One GEMM problem: op(A) is m×k, op(B) is k×n.
    struct GemmShape {
        var m: Int, k: Int, n: Int, transposeA = false, transposeB = false
        var form: String { transposeA ? "AtB" : (transposeB ? "ABt" : "AB") }
        var label: String { "\(m)x\(k)x\(n) \(form)" }
    }

    /// Square n = 256…2048, then each MLP layer (batch M, inputs K, outputs N) forward (A·B) and
    /// its two backward products: ∂L/∂X = G·Wᵀ (A·Bᵀ, M×N×K) and ∂L/∂W = Xᵀ·G (Aᵀ·B, K×M×N).
    static func gemmShapes(smoke: Bool) -> [GemmShape] {
        let squares = smoke ? [16, 33] : [256, 512, 1024, 2048]
        let layers = smoke ? [(4, 20, 16), (4, 16, 10)] : [(128, 784, 512), (128, 512, 512), (128, 512, 10)]
        return squares.map { GemmShape(m: $0, k: $0, n: $0) }
            + layers.map { GemmShape(m: $0.0, k: $0.1, n: $0.2) }
            + layers.map { GemmShape(m: $0.0, k: $0.2, n: $0.1, transposeB: true) }
            + layers.map { GemmShape(m: $0.1, k: $0.0, n: $0.2, transposeA: true) }
    }

    /// SGEMM on each shape through `Gemm.multiply` (the active backend) and, when a system BLAS
    /// is loaded, through its `cblas_sgemm` called directly (backend `<name>-direct`).
    static func gemm(_ options: BenchmarkOptions) -> [BenchmarkMeasurement] {
        var results: [BenchmarkMeasurement] = []
        var g = SeededGenerator(seed: 1)
        let threads = threadCount
        for s in gemmShapes(smoke: options.smoke) {
            let a = Tensor<Float>.randomNormal([s.m * s.k], generator: &g).scalars
            let b = Tensor<Float>.randomNormal([s.k * s.n], generator: &g).scalars
            var c = [Float](repeating: 0, count: s.m * s.n)
            let lda = s.transposeA ? s.m : s.k, ldb = s.transposeB ? s.k : s.n
            let flops = 2 * Double(s.m) * Double(s.k) * Double(s.n)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        let ms = medianMilliseconds(options) {
                            Gemm.multiply(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: s.n, k: s.k,
                                          a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                          c: pc.baseAddress!, ldc: s.n, accumulate: false)
                        }
                        results.append(.init(workload: "gemm", shape: s.label, threads: threads, backend: backend(options),
                                             medianMilliseconds: ms, gigaflops: flops / ms / 1e6))
                        if let blas = BLASSettings.shared.active {
                            blas.useThreads(threads)
                            let direct = medianMilliseconds(options) {
                                blas.sgemm(SystemBLAS.rowMajor, s.transposeA ? SystemBLAS.trans : SystemBLAS.noTrans,
                                           s.transposeB ? SystemBLAS.trans : SystemBLAS.noTrans,
                                           Int32(s.m), Int32(s.n), Int32(s.k), 1, pa.baseAddress!, Int32(lda),
                                           pb.baseAddress!, Int32(ldb), 0, pc.baseAddress!, Int32(s.n))
                            }
                            results.append(.init(workload: "gemm", shape: s.label, threads: threads, backend: blas.name + "-direct",
                                                 medianMilliseconds: direct, gigaflops: flops / direct / 1e6))
                        }
                    }
                }
            }
        }
        return results
    }

    /// One training step of the reference MLP (784 → 512 → ReLU → 512 → ReLU → 10, softmax
    /// cross-entropy, plain SGD with learning rate 0.01, batch 128): forward, backward, update,
    /// through the public model API a user's loop takes — a `Sequential` of `Linear` layers,
    /// `valueWithGradient(at: model)` and `SGD.update`.
    /// Also reports how much the resident set grew over the timed steps (`rss_growth_bytes`:
    /// in the steady state every step's buffers are freed and reused, so this stays near 0).
    static func mlpStep(_ options: BenchmarkOptions) -> BenchmarkMeasurement {
        let sizes = options.smoke ? [20, 16, 16, 10] : [784, 512, 512, 10]
        let batch = options.smoke ? 4 : 128
        var g = SeededGenerator(seed: 2)
        var layers: [any Layer<Float>] = []
        for l in 0..<(sizes.count - 1) {
            let scale = Float(2 / Double(sizes[l])).squareRoot()   // He initialisation
            if l > 0 { layers.append(ReLU<Float>()) }
            layers.append(Linear(weight: .randomNormal([sizes[l + 1], sizes[l]], standardDeviation: scale, generator: &g),
                                 bias: .zeros([sizes[l + 1]])))
        }
        var model = Sequential(layers)
        var optimizer = SGD<Float>(learningRate: 0.01)
        let x = Tensor<Float>.randomNormal([batch, sizes[0]], generator: &g)
        let targets = Tensor<Float>.oneHot((0..<batch).map { _ in Int(g.next() % UInt64(sizes.last!)) }, classCount: sizes.last!)
        let one = Tensor<Float>(1)
        func step() {
            let (_, gradients) = valueWithGradient(at: model) { m in
                Tensor.softmaxCrossEntropy(logits: m(x), targets: targets, inverseTemperature: one)
            }
            do {
                try optimizer.update(&model, along: gradients)
            } catch {
                fatalError("mlp-step: \(error)")   // the gradients come from this model: cannot happen
            }
        }
        for _ in 0..<3 { step() }
        let residentBefore = residentBytes()
        let ms = medianMilliseconds(options, step)
        let growth = residentBytes().flatMap { after in residentBefore.map { after - $0 } }
        var forwardFlops = 0.0
        for l in 0..<(sizes.count - 1) { forwardFlops += 2 * Double(batch * sizes[l] * sizes[l + 1]) }
        return .init(workload: "mlp-step", shape: sizes.map(String.init).joined(separator: "-") + " b\(batch)",
                     threads: threadCount, backend: backend(options), medianMilliseconds: ms,
                     gigaflops: 3 * forwardFlops / ms / 1e6,
                     extra: growth.map { [("rss_growth_bytes", $0)] } ?? [])
    }

    /// y = softmax(βx), β = 2, along the rows of a 4096×1000 matrix, then its VJP with a random
    /// cotangent. GB/s counts the bytes each pass must move: x read and y written forward; the
    /// cotangent and y read and ∂L/∂x written backward (5 arrays of 4 bytes per element).
    ///
    /// Also reports the two passes' kernels timed alone (`forward_ms`, `backward_ms`, and their
    /// rates `forward_gbps` for 2 arrays, `backward_gbps` for 3), to set against STREAM.
    static func softmax(_ options: BenchmarkOptions) -> BenchmarkMeasurement {
        let rows = options.smoke ? 64 : 4096, columns = options.smoke ? 100 : 1000
        var g = SeededGenerator(seed: 3)
        let x = Tensor<Float>.randomNormal([rows, columns], generator: &g)
        let u = Tensor<Float>.randomNormal([rows, columns], generator: &g)
        var sink: Float = 0
        let ms = medianMilliseconds(options) {
            let (y, gx) = vjp(at: x, cotangent: u) { $0.softmax(inverseTemperature: 2) }
            sink += y.scalars[0] + gx.scalars[0]
        }
        var passes = options
        passes.minimumSeconds = options.minimumSeconds / 2
        var y: [Float] = []
        let forward = medianMilliseconds(passes) {
            y = SoftmaxKernels.softmax(x.scalars, rowLength: columns, beta: 2, log: false)
            sink += y[0]
        }
        let backward = medianMilliseconds(passes) {
            let gx = SoftmaxKernels.backward(u.scalars, output: y, rowLength: columns, beta: 2, log: false)
            sink += gx[0]
        }
        let array = Double(rows * columns * MemoryLayout<Float>.size)
        return .init(workload: "softmax", shape: "\(rows)x\(columns)", threads: threadCount, backend: swiftBackend(options),
                     medianMilliseconds: ms + (sink.isNaN ? 0 : 0), gigabytesPerSecond: 5 * array / ms / 1e6,
                     extra: [("forward_ms", forward), ("backward_ms", backward),
                             ("forward_gbps", 2 * array / forward / 1e6), ("backward_gbps", 3 * array / backward / 1e6)])
    }

    /// The machine's limits for the threads in use, with the vectors of `KernelISA.active`:
    /// multiply-add peak (twelve independent chains per thread, in registers) in GFLOP/s, and
    /// STREAM's triad a = b + s·c on three arrays of 2²³ Doubles (64 MiB each; 24 bytes per
    /// element counted, as STREAM does) in GB/s, each thread on its own slice.
    static func machine(_ options: BenchmarkOptions) -> [BenchmarkMeasurement] {
        let threads = threadCount
        let isa = Int32(KernelISA.active.rawValue)
        let iterations = options.smoke ? 1000 : 2_000_000
        var flops = 0.0
        let peakMs = medianMilliseconds(options) {
            let lock = NSLock()
            parallelFor(threads) { _ in
                let done = backprop_multiply_add_chains(isa, iterations)
                lock.lock(); flops = done; lock.unlock()
            }
        }
        let count = options.smoke ? 1 << 12 : 1 << 23
        var a = [Double](repeating: 0, count: count)
        let b = [Double](repeating: 1, count: count), c = [Double](repeating: 2, count: count)
        let triadMs = a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeBufferPointer { pc in
                    let ap = pa.baseAddress!, bp = pb.baseAddress!, cp = pc.baseAddress!
                    return medianMilliseconds(options) {
                        forEachRange(count, threads: threads, threshold: 0) { r in
                            backprop_triad(ap + r.lowerBound, bp + r.lowerBound, cp + r.lowerBound, 3, r.count, isa)
                        }
                    }
                }
            }
        }
        let backend = "\(KernelISA.active)"
        return [
            .init(workload: "machine", shape: "multiply-add peak", threads: threads, backend: backend,
                  medianMilliseconds: peakMs, gigaflops: flops * Double(threads) / peakMs / 1e6),
            .init(workload: "machine", shape: "stream triad", threads: threads, backend: backend,
                  medianMilliseconds: triadMs, gigabytesPerSecond: 24 * Double(count) / triadMs / 1e6),
        ]
    }

    /// The full n×n Jacobian of softmax(βx), β = 2, n = 1000, through the general `jacobian` API.
    static func jacobian(_ options: BenchmarkOptions) -> BenchmarkMeasurement {
        let n = options.smoke ? 50 : 1000
        var g = SeededGenerator(seed: 4)
        let x = Tensor<Float>.randomNormal([n], generator: &g)
        var sink: Float = 0
        let ms = medianMilliseconds(options) {
            let j = Backprop.jacobian(of: { $0.softmax(inverseTemperature: 2) }, at: x)
            sink += j.scalars[0]
        }
        return .init(workload: "jacobian", shape: "\(n)x\(n)", threads: threadCount, backend: swiftBackend(options),
                     medianMilliseconds: ms + (sink.isNaN ? 0 : 0))
    }

    /// What `backprop train` does with its defaults (TrainingConfiguration(): 64-128-10, ReLU,
    /// Adam 1e-3, batch 32, 20 epochs, 70/10/20 stratified split) on the embedded digits, from
    /// loading the data to the test accuracy. Reported: wall milliseconds (median of 3 runs),
    /// the test accuracy and the process's peak RSS so far.
    static func digits(_ options: BenchmarkOptions) -> BenchmarkMeasurement {
        var configuration = TrainingConfiguration()
        if options.smoke { configuration.epochs = 1 }
        var accuracy = 0.0
        var runs = options
        runs.warmupRuns = 0
        runs.minimumRuns = options.smoke ? 1 : 3
        runs.minimumSeconds = 0
        let ms = medianMilliseconds(runs) {
            do {
                let data = try LabeledDataset.digits()
                var trainer = try ClassifierTraining(configuration: configuration, features: data.features,
                                                     labels: data.labels, classCount: data.classCount)
                while !trainer.isFinished { _ = try trainer.trainEpoch() }
                accuracy = trainer.evaluate(.test).accuracy
            } catch {
                accuracy = .nan
            }
        }
        let sizes = configuration.layerSizes.map(String.init).joined(separator: "-")
        return .init(workload: "digits", shape: "\(sizes) adam \(configuration.epochs) epochs", threads: threadCount,
                     backend: backend(options), medianMilliseconds: ms,
                     extra: [("seconds", ms / 1000), ("accuracy", accuracy), ("peak_rss_bytes", peakResidentBytes())])
    }

    /// One training step of the reference CNN (BENCHMARKS.md `cnn-step`): 1×28×28 inputs,
    /// batch 32, Conv2d(1→16, 3×3, padding 1) → ReLU → MaxPool 2 → Conv2d(16→32, 3×3,
    /// padding 1) → ReLU → MaxPool 2 → Flatten → Linear(32·7·7 → 10), softmax cross-entropy,
    /// Adam (lr 1e-3): forward, backward and update through the model API, in training mode.
    /// GFLOP/s counts 3× the forward multiply-adds of the convolutions and the linear layer
    /// (×2 FLOPs each); `rss_growth_bytes` as in `mlp-step`.
    static func cnnStep(_ options: BenchmarkOptions) -> BenchmarkMeasurement {
        let side = options.smoke ? 8 : 28, batch = options.smoke ? 4 : 32
        var g = SeededGenerator(seed: 5)
        var model = Sequential<Float>(
            Conv2d(inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1, generator: &g), ReLU(), MaxPool2d(kernelSize: 2),
            Conv2d(inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1, generator: &g), ReLU(), MaxPool2d(kernelSize: 2),
            Flatten(), Linear(inputs: 32 * (side / 4) * (side / 4), outputs: 10, generator: &g))
        var optimizer = Adam<Float>(learningRate: 1e-3)
        let x = Tensor<Float>.randomNormal([batch, 1, side, side], generator: &g)
        let labels = (0..<batch).map { _ in Int(g.next() % 10) }
        func step() {
            let (_, gradients) = withLearningPhase(.training) {
                valueWithGradient(at: model) { m in Loss.softmaxCrossEntropy(logits: m(x), labels: labels) }
            }
            do {
                try optimizer.update(&model, along: gradients)
            } catch {
                fatalError("cnn-step: \(error)")   // the gradients come from this model: cannot happen
            }
        }
        for _ in 0..<3 { step() }
        let residentBefore = residentBytes()
        let ms = medianMilliseconds(options, step)
        let growth = residentBytes().flatMap { after in residentBefore.map { after - $0 } }
        let pixels = Double(side * side)
        let forwardMultiplyAdds = Double(batch) * (pixels * 16 * 9 + pixels / 4 * 32 * 16 * 9 + 32 * pixels / 16 * 10)
        return .init(workload: "cnn-step", shape: "1x\(side)x\(side) b\(batch)", threads: threadCount, backend: backend(options),
                     medianMilliseconds: ms, gigaflops: 3 * 2 * forwardMultiplyAdds / ms / 1e6,
                     extra: growth.map { [("rss_growth_bytes", $0)] } ?? [])
    }
}
