import Foundation
import Testing
@testable import Backprop
import BackpropKernels

/// Every kernel variant this machine can run (`KernelVariant.runnable`: the Swift baseline, and
/// the C target's AVX2, AVX-512 and AVX-512-code-on-AVX2 sets where the CPU has the
/// instructions), checked in one process against references that do not depend on any of them.
/// CI also runs the kernel tests with each `BACKPROP_ISA` the CPU supports.
@Suite("Kernel variants")
struct KernelVariantTests {
    static let variants = KernelVariant.runnable
    static let cVariants = KernelVariant.runnable.filter { $0 != .baseline }

    static func values(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return Tensor<Float>.randomNormal([count], generator: &g).scalars.map { $0 * scale }
    }

    @Test("BACKPROP_ISA values resolve to a variant the CPU supports, with a warning otherwise")
    func environmentParsing() {
        for (text, supported, want) in [(nil, KernelISA.avx2, KernelISA.avx2), (" AUTO ", .avx512, .avx512),
                                        ("baseline", .avx512, .baseline), ("avx2", .avx512, .avx2), ("AVX512", .avx512, .avx512)] {
            let (isa, warning) = KernelISA.resolve(text, supported: supported)
            #expect(isa == want && warning == nil, "\(text ?? "unset")")
        }
        let (tooHigh, warning) = KernelISA.resolve("avx512", supported: .avx2)
        #expect(tooHigh == .avx2 && warning != nil)
        let (unknown, unknownWarning) = KernelISA.resolve("sse9", supported: .baseline)
        #expect(unknown == .baseline && unknownWarning != nil)
        #expect(KernelISA.active <= KernelISA.supported)
    }

    /// CPUID against the kernel's own reading of the same bits (Linux x86-64 only).
    @Test("the supported instruction set agrees with /proc/cpuinfo's flags")
    func agreesWithCPUInfo() throws {
        #if os(Linux) && arch(x86_64)
        let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(line.split(separator: " ").map(String.init))
        let avx2 = flags.isSuperset(of: ["avx", "avx2", "fma"])
        let avx512 = avx2 && flags.isSuperset(of: ["avx512f", "avx512dq", "avx512bw", "avx512vl"])
        #expect(KernelISA.supported == (avx512 ? .avx512 : avx2 ? .avx2 : .baseline))
        #expect(!KernelISA.cpuDescription.isEmpty)
        #else
        #expect(KernelISA.supported == .baseline)
        #endif
    }

    // MARK: GEMM

    /// Every runnable micro-kernel form against the Double triple loop (the bound of GemmTests).
    @Test("GEMM: every runnable micro-kernel agrees with a Double triple loop",
          arguments: GemmCase.all(shapes: oddShapes + [(33, 97, 385), (9, 49, 17)]))
    func gemmForms(_ spec: GemmCase) {
        let f = GemmProblem<Float>(spec, seed: UInt64(spec.m * 7 + spec.n * 3 + spec.k))
        let d = GemmProblem<Double>(spec, seed: UInt64(spec.m * 5 + spec.n * 11 + spec.k))
        for form in GemmKernelForm.allCases where form.isRunnable && form != .fused {
            f.verify(f.run(route: .blocked(form), threads: 1), "\(form)")
            d.verify(d.run(route: .blocked(form), threads: 1), "\(form)")
            f.verify(f.run(route: .blocked(form, parallelThreshold: 0), threads: 3), "\(form)×3")
        }
    }

    /// The fused forms sum each entry in the same order with the same operations: the Swift FMA
    /// kernel (NEON's, a libm call per lane on x86-64), AVX2 and AVX-512 give the same bits.
    @Test("GEMM: the fused forms give the same result bit for bit, on any thread count",
          arguments: [(13, 90, 40), (61, 17, 33), (100, 100, 30), (70, 100, 800), (7, 50, 1000)])
    func fusedFormsAgree(shape: (Int, Int, Int)) {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let spec = GemmCase(m: shape.0, n: shape.1, k: shape.2, transposeA: transposeA, transposeB: transposeB,
                                    padding: 1, accumulate: true)
                let f = GemmProblem<Float>(spec, seed: 5), d = GemmProblem<Double>(spec, seed: 6)
                let fusedF = f.run(route: .blocked(.fused), threads: 1), fusedD = d.run(route: .blocked(.fused), threads: 1)
                for form in GemmKernelForm.allCases where form.isRunnable && form != .fused && form != .separate {
                    for threads in [1, 3] {
                        #expect(f.run(route: .blocked(form, parallelThreshold: 0), threads: threads) == fusedF, "\(form) Float \(spec)")
                        #expect(d.run(route: .blocked(form, parallelThreshold: 0), threads: threads) == fusedD, "\(form) Double \(spec)")
                    }
                }
            }
        }
    }

    // MARK: Softmax family

    /// Softmax and log-softmax rows against Double, with rounding bounds for any input: the
    /// exponential's 2 ulp, the row sum's γ_n (Higham §3.1, n terms), a few roundings more.
    /// softmax y relative (n + 6)ε; log-softmax (n + 2)ε + 4ε·max(1, |y|); the VJPs the error of
    /// d = ⟨g, y⟩ (or s = Σg), (n + 2)ε·Σ|terms|, carried through, plus 4ε relative.
    @Test("softmax and log-softmax forward and VJP: each variant against Double", arguments: [1, 3, 7, 8, 15, 16, 17, 33, 1000, 1001])
    func softmaxAgainstDouble(rowLength n: Int) {
        let rows = 5, eps = Double(Float.ulpOfOne)
        let x = Self.values(rows * n, seed: UInt64(n), scale: 3), g = Self.values(rows * n, seed: UInt64(n) + 100)
        let beta: Float = 2, b = Double(beta)
        for variant in Self.variants {
            for log in [false, true] {
                let y = SoftmaxKernels.softmax(x, rowLength: n, beta: beta, log: log, variant: variant)
                let gx = SoftmaxKernels.backward(g, output: y, rowLength: n, beta: beta, log: log, streaming: false, variant: variant)
                for r in 0..<rows {
                    let row = (0..<n).map { b * Double(x[r * n + $0]) }
                    let m = row.max()!, s = row.reduce(0) { $0 + Foundation.exp($1 - m) }
                    var d = 0.0, magnitude = 0.0
                    for j in 0..<n {
                        let got = Double(y[r * n + j])
                        let want = log ? row[j] - m - Foundation.log(s) : Foundation.exp(row[j] - m) / s
                        let bound = log ? Double(n + 2) * eps + 4 * eps * Swift.max(1, Swift.abs(want)) : Double(n + 6) * eps * want
                        #expect(Swift.abs(got - want) <= bound, "\(variant) log \(log) n \(n) [\(r),\(j)]: \(got) vs \(want)")
                        let term = log ? Double(g[r * n + j]) : Double(g[r * n + j]) * got
                        d += term
                        magnitude += Swift.abs(term)
                    }
                    for j in 0..<n {
                        let yj = Double(y[r * n + j]), gj = Double(g[r * n + j])
                        let want: Double, bound: Double
                        if log {
                            let p = Foundation.exp(yj)
                            want = b * (gj - p * d)
                            bound = b * p * (Double(n + 2) * eps * magnitude + 4 * eps * Swift.abs(d))
                                + 4 * eps * (Swift.abs(want) + b * Swift.abs(gj))
                        } else {
                            want = b * yj * (gj - d)
                            bound = b * yj * Double(n + 2) * eps * magnitude + 4 * eps * (Swift.abs(want) + b * yj * Swift.abs(gj))
                        }
                        #expect(Swift.abs(Double(gx[r * n + j]) - want) <= bound, "\(variant) VJP log \(log) n \(n) [\(r),\(j)]")
                    }
                }
            }
        }
    }

    /// Streaming stores, batches of cotangents and the thread split change no value.
    @Test("softmax VJP: streaming equals ordinary stores, and every split equals one thread, per variant",
          arguments: [7, 17, 1000, 1001])
    func softmaxSplitsAndStreams(rowLength n: Int) {
        let rows = SoftmaxKernels.parallelThreshold / n + 3
        let x = Self.values(rows * n, seed: 71, scale: 2), g = Self.values(2 * rows * n, seed: 72)
        for variant in Self.variants {
            for log in [false, true] {
                let y = SoftmaxKernels.softmax(x, rowLength: n, beta: 1.5, log: log, threads: 1, variant: variant)
                #expect(SoftmaxKernels.softmax(x, rowLength: n, beta: 1.5, log: log, threads: 3, variant: variant) == y)
                let plain = SoftmaxKernels.backward(g, output: y, rowLength: n, beta: 1.5, log: log, streaming: false,
                                                    threads: 1, variant: variant)
                for threads in [1, 3] {
                    #expect(SoftmaxKernels.backward(g, output: y, rowLength: n, beta: 1.5, log: log, streaming: true,
                                                    threads: threads, variant: variant) == plain, "\(variant) log \(log)")
                }
            }
        }
    }

    @Test("softmax cross-entropy forward and VJP: each variant against Double")
    func crossEntropy() {
        let eps = Double(Float.ulpOfOne)
        for n in [1, 10, 17, 1000] {
            let rows = 6
            let z = Self.values(rows * n, seed: UInt64(n) + 7, scale: 3)
            var t = [Float](repeating: 0, count: rows * n)
            for r in 0..<rows { t[r * n + (r * 7) % n] = 1; t[r * n + (r * 3) % n] += 0.5 }
            for variant in Self.variants {
                let (loss, p, sums) = SoftmaxKernels.crossEntropy(logits: z, targets: t, rowLength: n, beta: 2, variant: variant)
                var want = 0.0, bound = 0.0
                for r in 0..<rows {
                    let row = (0..<n).map { 2 * Double(z[r * n + $0]) }
                    let m = row.max()!, logSum = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
                    for j in 0..<n where t[r * n + j] != 0 {
                        let term = Double(t[r * n + j]) * (logSum - row[j])
                        want += term
                        bound += Double(t[r * n + j]) * Double(n + 4) * eps + 4 * eps * Swift.abs(term)
                    }
                    #expect(sums[r] == (0..<n).reduce(Float(0)) { $0 + t[r * n + $1] })
                    for j in 0..<n {
                        let pj = Foundation.exp(row[j] - logSum)
                        #expect(Swift.abs(Double(p[r * n + j]) - pj) <= Double(n + 6) * eps * pj, "\(variant) p n \(n)")
                    }
                }
                bound += Double(2 * rows) * eps * want
                #expect(Swift.abs(Double(loss) - want) <= bound, "\(variant) loss n \(n): \(loss) vs \(want)")
                let c: [Float] = [0.25, -1]
                let gz = SoftmaxKernels.crossEntropyBackward(probabilities: p, targets: t, targetSums: sums, rowLength: n,
                                                             coefficients: c, variant: variant)
                let reference = SoftmaxKernels.crossEntropyBackward(probabilities: p, targets: t, targetSums: sums, rowLength: n,
                                                                    coefficients: c, variant: .baseline)
                #expect(gz == reference, "\(variant) VJP n \(n)")
            }
        }
    }

    // MARK: Elementwise, reductions, optimizers

    /// The C kernels compute exactly what the Swift loops compute (no contraction into fused
    /// multiply-adds, correctly rounded ÷ and √): bit for bit, on lengths with partial vectors.
    @Test("relu, its VJP, +, −, ×, ÷ and the bias add: each variant equals the Swift loops bit for bit")
    func elementwiseExact() {
        for n in [1, 5, 8, 15, 16, 17, 1003] {
            var x = Self.values(n, seed: UInt64(n)), y = Self.values(n, seed: UInt64(n) + 1)
            if n > 3 { x[1] = .nan; x[2] = -0.0; y[3] = 0 }
            for variant in Self.cVariants {
                func same(_ a: [Float], _ b: [Float], _ what: String) {
                    #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(variant) \(what) n \(n)")
                }
                same(ElementwiseKernels.unary(.relu, x, variant: variant), ElementwiseKernels.unary(.relu, x, variant: .baseline), "relu")
                same(ElementwiseKernels.reluBackward(y, input: x, variant: variant),
                     ElementwiseKernels.reluBackward(y, input: x, variant: .baseline), "relu VJP")
                for op in [BinaryOperation.add, .subtract, .multiply, .divide] {
                    for (a, aShape, b, bShape) in [(x, [n], y, [n]), (x, [n], [Float(1.5)], [Int]()), ([Float(-0.75)], [Int](), y, [n])] {
                        same(ElementwiseKernels.binary(op, a, aShape, b, bShape, shape: [n], variant: variant),
                             ElementwiseKernels.binary(op, a, aShape, b, bShape, shape: [n], variant: .baseline), "\(op)")
                    }
                }
                var rows = Self.values(3 * n, seed: 9), reference = rows
                ElementwiseKernels.addRows(&rows, y, variant: variant)
                ElementwiseKernels.addRows(&reference, y, variant: .baseline)
                same(rows, reference, "bias add")
            }
        }
    }

    @Test("exp and sigmoid: each variant within 2 ulp of libm, exact on the special values")
    func exponentialFamily() {
        let x = stride(from: Float(-87), through: 88.7, by: 0.0173).map { $0 }
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 88.72, 88.73, -100, 1]
        for variant in Self.variants {
            let e = ElementwiseKernels.unary(.exp, x, variant: variant)
            var worst: Float = 0
            for (i, xi) in x.enumerated() {
                let want = Float.exp(xi)
                worst = Swift.max(worst, Swift.abs(e[i] - want) / want.ulp)
            }
            #expect(worst <= 2, "\(variant) exp: \(worst) ulp")
            let s = ElementwiseKernels.unary(.sigmoid, x, variant: variant)
            var worstSigmoid: Double = 0
            for (i, xi) in x.enumerated() {
                let want = 1 / (1 + Foundation.exp(-Double(xi)))
                worstSigmoid = Swift.max(worstSigmoid, Swift.abs(Double(s[i]) - want) / Double(Float(want).ulp))
            }
            #expect(worstSigmoid <= 3, "\(variant) sigmoid: \(worstSigmoid) ulp")
            let es = ElementwiseKernels.unary(.exp, specials, variant: variant)
            #expect(es[0] == 1 && es[1] == 1 && es[2] == .infinity && es[3] == 0 && es[4].isNaN, "\(variant) \(es)")
            #expect(es[5].isFinite && Swift.abs(es[5] - Float.exp(88.72)) <= 2 * Float.exp(88.72).ulp, "\(variant) e^88.72")
            #expect(es[6] == .infinity && es[7] >= 0 && es[7] < 1e-37, "\(variant) \(es)")
            let ss = ElementwiseKernels.unary(.sigmoid, specials, variant: variant)
            #expect(ss[0] == 0.5 && ss[2] == 1 && ss[3] == 0 && ss[4].isNaN, "\(variant) \(ss)")
        }
    }

    /// The sixteen-lane sum order of `ReductionKernels.sumRow`, written out one scalar at a time.
    static func sixteenLaneSum(_ x: ArraySlice<Float>) -> Float {
        let x = Array(x), n = x.count
        var s0 = [Float](repeating: 0, count: 16), s1 = s0
        var i = 0
        while i + 32 <= n { for l in 0..<16 { s0[l] += x[i + l]; s1[l] += x[i + 16 + l] }; i += 32 }
        if i + 16 <= n { for l in 0..<16 { s0[l] += x[i + l] }; i += 16 }
        if i < n { for l in 0..<16 { s1[l] += i + l < n ? x[i + l] : 0 } }
        let s = (0..<16).map { s0[$0] + s1[$0] }
        let h = (0..<8).map { s[$0] + s[$0 + 8] }
        let q = (0..<4).map { h[$0] + h[$0 + 4] }
        return (q[0] + q[2]) + (q[1] + q[3])
    }

    @Test("sums: along the last axis the sixteen-lane order, along others the column order, in every variant",
          arguments: [1, 5, 16, 31, 32, 33, 48, 1000])
    func sums(length: Int) {
        let rows = 7
        let x = Self.values(rows * length, seed: UInt64(length) + 3)
        for variant in Self.variants {
            let last = ReductionKernels.sum(x, shape: [rows, length], axis: 1, variant: variant)
            for r in 0..<rows {
                #expect(last[r].bitPattern == Self.sixteenLaneSum(x[(r * length)..<((r + 1) * length)]).bitPattern,
                        "\(variant) row \(r) of length \(length)")
            }
            let first = ReductionKernels.sum(x, shape: [rows, length], axis: 0, variant: variant)
            for j in 0..<length {
                let want = (0..<rows).reduce(Float(0)) { $0 + x[$1 * length + j] }
                #expect(first[j].bitPattern == want.bitPattern, "\(variant) column \(j)")
            }
            let middle = ReductionKernels.sum(x, shape: [1, rows, length], axis: 1, variant: variant)
            #expect(middle.map(\.bitPattern) == first.map(\.bitPattern))
        }
    }

    @Test("SGD, SGD with momentum and weight decay, and Adam: each variant equals the Swift loops bit for bit")
    func optimizers() {
        for n in [1, 9, 16, 1003] {
            let g = Self.values(n, seed: 11), start = Self.values(n, seed: 12)
            for variant in Self.cVariants {
                var p = start, q = start
                OptimizerKernels.sgdStep(&p, gradient: g, learningRate: 0.01, variant: variant)
                OptimizerKernels.sgdStep(&q, gradient: g, learningRate: 0.01, variant: .baseline)
                #expect(p.map(\.bitPattern) == q.map(\.bitPattern), "\(variant) SGD n \(n)")
                for nesterov in [false, true] {
                    var bp = [Float](repeating: 0, count: n), bq = bp
                    for step in 0..<3 {
                        OptimizerKernels.sgdMomentumStep(&p, gradient: g, momentumBuffer: &bp, firstStep: step == 0, learningRate: 0.01,
                                                         momentum: 0.9, weightDecay: 0.001, nesterov: nesterov, variant: variant)
                        OptimizerKernels.sgdMomentumStep(&q, gradient: g, momentumBuffer: &bq, firstStep: step == 0, learningRate: 0.01,
                                                         momentum: 0.9, weightDecay: 0.001, nesterov: nesterov, variant: .baseline)
                    }
                    #expect(p.map(\.bitPattern) == q.map(\.bitPattern) && bp == bq, "\(variant) momentum n \(n)")
                }
                OptimizerKernels.sgdStep(&p, gradient: g, learningRate: 0.01, weightDecay: 0.01, variant: variant)
                OptimizerKernels.sgdStep(&q, gradient: g, learningRate: 0.01, weightDecay: 0.01, variant: .baseline)
                #expect(p.map(\.bitPattern) == q.map(\.bitPattern), "\(variant) weight decay n \(n)")
                var m1 = [Float](repeating: 0, count: n), v1 = m1, m2 = m1, v2 = m1
                for _ in 0..<3 {
                    OptimizerKernels.adamStep(&p, firstMoment: &m1, secondMoment: &v1, gradient: g, shrink: 0.999, l2: 0.001,
                                              beta1: 0.9, beta2: 0.999, stepSize: 0.001, correction2Root: 0.03, epsilon: 1e-8, variant: variant)
                    OptimizerKernels.adamStep(&q, firstMoment: &m2, secondMoment: &v2, gradient: g, shrink: 0.999, l2: 0.001,
                                              beta1: 0.9, beta2: 0.999, stepSize: 0.001, correction2Root: 0.03, epsilon: 1e-8, variant: .baseline)
                }
                #expect(p.map(\.bitPattern) == q.map(\.bitPattern) && m1 == m2 && v1 == v2, "\(variant) Adam n \(n)")
            }
        }
    }
}
