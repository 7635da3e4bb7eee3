import Testing
@testable import Backprop
import BackpropKernels

/// Runs `body` with the fused kernels switched off: every rule takes its composed formula.
private func composed<R>(_ body: () -> R) -> R {
    DifferentiationContext.$fusedKernelsDisabled.withValue(true, operation: body)
}

/// The situations the softmax family must handle: n = 1, ordinary rows, rows longer than a SIMD
/// vector with a tail, logits of ±1e4, β = 0 and β < 0.
private func softmaxCases<S: TensorScalar>(_: S.Type) -> [(name: String, x: Tensor<S>, beta: S)] {
    var g = SeededGenerator(seed: 7)
    func normal(_ shape: [Int]) -> Tensor<S> { .randomNormal(shape, generator: &g) }
    var large = normal([3, 11])
    for i in 0..<large.count { large.scalars[i] = large.scalars[i] > 0 ? 1e4 : -1e4 }
    large.scalars[5] = 3
    return [
        ("n = 1", normal([4, 1]), 2),
        ("vector", normal([7]), 1.5),
        ("rows with tail", normal([5, 37]), 2),
        ("wide rows", normal([3, 1000]), 2),
        ("logits ±1e4", large, 1),
        ("β = 0", normal([3, 9]), 0),
        ("β < 0", normal([4, 19]), -3),
    ]
}

@Suite("Fused kernels agree with the composed formulas")
struct FusedKernelTests {
    func softmaxFamily<S: TensorScalar>(_: S.Type) {
        let tolerance = agreement(S.self) * 8
        var g = SeededGenerator(seed: 11)
        for c in softmaxCases(S.self) {
            let u = Tensor<S>.randomNormal(c.x.shape, generator: &g)
            for log in [false, true] {
                let f = { (xs: [Tensor<S>]) -> Tensor<S> in
                    let y = log ? xs[0].logSoftmax(inverseTemperature: xs[1]) : xs[0].softmax(inverseTemperature: xs[1])
                    return (y * u).sum()
                }
                let fused = valueWithGradient(at: [c.x, Tensor(c.beta)], of: f)
                let reference = composed { valueWithGradient(at: [c.x, Tensor(c.beta)], of: f) }
                let what = "\(log ? "logSoftmax" : "softmax") \(c.name) \(S.self)"
                let finite = fused.gradient[0].scalars.allSatisfy { $0.isFinite }
                #expect(finite, "\(what): non-finite ∂L/∂x")
                expectClose(fused.gradient[0], reference.gradient[0], tolerance: tolerance, "\(what) ∂L/∂x")
                expectClose(fused.gradient[1], reference.gradient[1], tolerance: tolerance, "\(what) ∂L/∂β")
            }
        }
    }

    @Test("softmax and log-softmax VJPs: fused equals composed (Float)")
    func softmaxFloat() { softmaxFamily(Float.self) }

    @Test("softmax and log-softmax VJPs: fused equals composed (Double)")
    func softmaxDouble() { softmaxFamily(Double.self) }

    func forwardAgainstLibm<S: TensorScalar>(_: S.Type) {
        for c in softmaxCases(S.self) {
            let n = c.x.shape.last!
            let y = c.x.softmax(inverseTemperature: c.beta), logY = c.x.logSoftmax(inverseTemperature: c.beta)
            for r in 0..<(c.x.count / n) {
                let row = c.x.scalars[(r * n)..<((r + 1) * n)].map { c.beta * $0 }
                let m = row.max()!
                let logSum = m + S.log(row.reduce(0) { $0 + S.exp($1 - m) })
                for j in 0..<n {
                    let expected = row[j] - logSum
                    #expect(Swift.abs(logY.scalars[r * n + j] - expected) <= agreement(S.self) * (1 + Swift.abs(expected)),
                            "log-softmax \(c.name) \(S.self) [\(r), \(j)]")
                    #expect(Swift.abs(y.scalars[r * n + j] - S.exp(expected)) <= agreement(S.self) * 4,
                            "softmax \(c.name) \(S.self) [\(r), \(j)]")
                }
            }
        }
    }

    @Test("softmax and log-softmax forward match a scalar libm reference (Float, Double)")
    func forward() { forwardAgainstLibm(Float.self); forwardAgainstLibm(Double.self) }

    func crossEntropy<S: TensorScalar>(_: S.Type) {
        let tolerance = agreement(S.self) * 8
        var g = SeededGenerator(seed: 5)
        for (rows, classes, beta, scale) in [(1, 1, S(1), S(1)), (8, 10, 1, 1), (5, 33, 2, 3), (4, 7, -1.5, 1), (3, 6, 0, 1), (4, 10, 1, 1e4)] {
            let z = Tensor<S>.randomNormal([rows, classes], standardDeviation: scale, generator: &g)
            var t = Tensor<S>.randomUniform([rows, classes], generator: &g)
            t = t / t.sum(alongAxis: 1, keepingDimension: true)   // soft targets
            let f = { (xs: [Tensor<S>]) in Tensor.softmaxCrossEntropy(logits: xs[0], targets: t, inverseTemperature: xs[1]) }
            let fused = valueWithGradient(at: [z, Tensor(beta)], of: f)
            let reference = composed { valueWithGradient(at: [z, Tensor(beta)], of: f) }
            let explicit = -(t * z.logSoftmax(inverseTemperature: beta)).sum() / S(rows)
            let what = "cross-entropy \(rows)×\(classes) β=\(beta) scale=\(scale) \(S.self)"
            expectClose(fused.value, explicit, tolerance: tolerance, "\(what) value")
            expectClose(fused.gradient[0], reference.gradient[0], tolerance: tolerance, "\(what) ∂L/∂z")
            expectClose(fused.gradient[1], reference.gradient[1], tolerance: tolerance * 4, "\(what) ∂L/∂β")
        }
    }

    @Test("softmax cross-entropy forward and VJP: fused equals composed (Float)")
    func crossEntropyFloat() { crossEntropy(Float.self) }

    @Test("softmax cross-entropy forward and VJP: fused equals composed (Double)")
    func crossEntropyDouble() { crossEntropy(Double.self) }

    func reluAndBias<S: TensorScalar>(_: S.Type) {
        var g = SeededGenerator(seed: 3)
        let x = Tensor<S>.randomNormal([6, 13], generator: &g), w = Tensor<S>.randomNormal([9, 13], generator: &g)
        let b = Tensor<S>.randomNormal([9], generator: &g), u = Tensor<S>.randomNormal([6, 9], generator: &g)
        let f = { (xs: [Tensor<S>]) in (Tensor.affine(xs[0], weight: xs[1], bias: xs[2]).relu() * u).sum() }
        let fused = valueWithGradient(at: [x, w, b], of: f)
        let reference = composed { valueWithGradient(at: [x, w, b], of: f) }
        let explicit = ((Tensor.matmul(x, w, transposed: true) + b).relu() * u).sum()
        expectClose(fused.value, explicit, tolerance: agreement(S.self), "affine+bias value \(S.self)")
        for i in 0..<3 { expectClose(fused.gradient[i], reference.gradient[i], tolerance: agreement(S.self), "affine+relu ∂L/∂input \(i) \(S.self)") }
    }

    @Test("affine with bias written before the product, and the fused relu VJP (Float, Double)")
    func relu() { reluAndBias(Float.self); reluAndBias(Double.self) }

    @Test("Hessian through fused-capable ops still uses differentiable formulas")
    func hessianThroughSoftmax() {
        let x = Tensor<Double>([0.3, -1.2, 2.0, 0.7]), u = Tensor<Double>([1, -1, 0.5, 2])
        let f = { (x: Tensor<Double>) in (x.softmax(inverseTemperature: 1.5) * u).sum() + (x.logSoftmax(inverseTemperature: 2) * u).sum() }
        let reverse = hessian(of: f, at: x), forward = hessian(of: f, at: x, mode: .forward)
        expectClose(reverse, forward, tolerance: 1e-12, "Hessian reverse vs forward")
        expectClose(reverse, reverse.transposed(), tolerance: 1e-12, "Hessian symmetric")
    }
}

@Suite("VectorExp")
struct VectorExpTests {
    @Test("within 2 ulp of libm on [−87, 88] and exact on the special values")
    func accuracy() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let lanes = (0..<8).map { x + Float($0) * 0.0137 }
            let v = VectorExp.exp(SIMD8(lanes))
            for (i, xi) in lanes.enumerated() where xi < 88 {
                let e = Float.exp(xi)
                worst = max(worst, Swift.abs(v[i] - e) / e.ulp)
            }
            x += 0.0911
        }
        #expect(worst <= 2, "worst error \(worst) ulp")
        let special = VectorExp.exp(SIMD8<Float>(0, -.infinity, .infinity, .nan, -100, 100, -87.4, 1))
        #expect(special[0] == 1 && special[1] == 0 && special[2] == .infinity && special[3].isNaN)
        #expect(special[4] == 0 && special[5] == .infinity && special[6] == 0)
        #expect(Swift.abs(special[7] - Float.exp(1)) <= Float.exp(1).ulp)
    }

    @Test("fused form within 2 ulp of libm on [−87, 0], and the specials")
    func fusedAccuracy() {
        var worst: Float = 0
        var x: Float = -87
        while x <= 0 {
            let lanes = (0..<8).map { Swift.min(0, x + Float($0) * 0.0137) }
            let v = VectorExp.expNonPositive(SIMD8(lanes), fused: true)
            for (i, xi) in lanes.enumerated() {
                let e = Float.exp(xi)
                worst = max(worst, Swift.abs(v[i] - e) / e.ulp)
            }
            x += 0.0911
        }
        #expect(worst <= 2, "worst error \(worst) ulp")
        let special = VectorExp.expNonPositive(SIMD8<Float>(0, -.infinity, .nan, -100, -87.4, -1, -0.5, -1e-8), fused: true)
        #expect(special[0] == 1 && special[1] == 0 && special[2].isNaN && special[3] == 0 && special[4] == 0)
        #expect(Swift.abs(special[5] - Float.exp(-1)) <= Float.exp(-1).ulp)
    }

    @Test("row exponential, fused and unfused, against libm on odd lengths")
    func rowExponential() {
        for n in [1, 3, 8, 17, 255, 1000] {
            var rng = SeededGenerator(seed: UInt64(n))
            let x = (0..<n).map { _ in Float.random(in: -20...5, using: &rng) }
            let beta: Float = 2, shift = x.map { beta * $0 }.max()!
            let expected = x.map { Float.exp(beta * $0 - shift) }
            for fused in [false, true] {
                var y = [Float](repeating: .nan, count: n)
                let s = x.withUnsafeBufferPointer { px in
                    y.withUnsafeMutableBufferPointer { py in
                        RowKernels.expShifted(px.baseAddress!, py.baseAddress!, n, beta, shift, fused: fused)
                    }
                }
                for j in 0..<n {
                    #expect(Swift.abs(y[j] - expected[j]) <= 2 * expected[j].ulp, "n \(n) fused \(fused) j \(j)")
                }
                let reference = expected.reduce(0, +)
                #expect(Swift.abs(s - reference) <= 1e-5 * reference, "sum n \(n) fused \(fused)")
            }
        }
    }
}

