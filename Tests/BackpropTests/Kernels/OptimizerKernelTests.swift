import Testing
@testable import Backprop
import BackpropKernels

@Suite("Optimizer kernels")
struct OptimizerKernelTests {
    /// A buffer past the threshold, with a length that splits unevenly over three threads.
    static let count = OptimizerKernels.parallelThreshold + 13

    static func buffer(_ g: inout SeededGenerator, scale: Float = 1) -> [Float] {
        Tensor<Float>.randomNormal([count], standardDeviation: scale, generator: &g).scalars
    }

    @Test("SGD split over threads equals one thread bit for bit, and θ − η·g")
    func sgdSplit() {
        var g = SeededGenerator(seed: 51)
        let theta = Self.buffer(&g), gradient = Self.buffer(&g)
        var one = theta, three = theta
        OptimizerKernels.sgdStep(&one, gradient: gradient, learningRate: 0.01, threads: 1)
        OptimizerKernels.sgdStep(&three, gradient: gradient, learningRate: 0.01, threads: 3)
        #expect(one == three)
        // θ − η·g in Float: two roundings, each at most half an ulp of a value ≤ |θ| + |ηg|.
        for j in [0, Self.count / 3, Self.count - 1] {
            let exact = Double(theta[j]) - Double(Float(0.01)) * Double(gradient[j])
            #expect(abs(Double(one[j]) - exact) <= Double(Float.ulpOfOne) * (abs(Double(theta[j])) + abs(0.01 * Double(gradient[j]))))
        }
    }

    /// The Float loop runs eight lanes at a time with a multiply then a subtract, as the scalar
    /// loop does, so every element (the vector body and the odd tail) must be θ − η·g exactly.
    @Test("SGD's vector loop equals θ − η·g one scalar at a time, bit for bit")
    func sgdVectorLoopIsExact() {
        var g = SeededGenerator(seed: 54)
        let n = 1003
        let theta = Tensor<Float>.randomNormal([n], generator: &g).scalars
        let gradient = Tensor<Float>.randomNormal([n], generator: &g).scalars
        let rate: Float = 0.0137
        var p = theta
        OptimizerKernels.sgdStep(&p, gradient: gradient, learningRate: rate, threads: 1)
        for j in 0..<n {
            let expected = theta[j] - rate * gradient[j]
            #expect(p[j] == expected, "element \(j)")
            if p[j] != expected { break }
        }
    }

    @Test("Adam split over threads equals one thread bit for bit, and the formula in Double")
    func adamSplit() {
        var g = SeededGenerator(seed: 52)
        let theta = Self.buffer(&g), gradient = Self.buffer(&g), m0 = Self.buffer(&g, scale: 0.1)
        let v0 = Self.buffer(&g, scale: 0.1).map { $0 * $0 }
        // Step 3 of Adam(lr 1e-3) with L2 decay 0.01: stepSize = lr/(1 − β₁³), c = √(1 − β₂³).
        let stepSize = Float(1e-3 / (1 - 0.729)), c = Float((1 - 0.999 * 0.999 * 0.999).squareRoot())
        func run(threads: Int) -> ([Float], [Float], [Float]) {
            var p = theta, m = m0, v = v0
            OptimizerKernels.adamStep(&p, firstMoment: &m, secondMoment: &v, gradient: gradient, shrink: 1, l2: 0.01,
                                      beta1: 0.9, beta2: 0.999, stepSize: stepSize, correction2Root: c, epsilon: 1e-8,
                                      threads: threads)
            return (p, m, v)
        }
        let one = run(threads: 1), three = run(threads: 3)
        #expect(one.0 == three.0 && one.1 == three.1 && one.2 == three.2)
        // The constants as the kernel sees them (Float), then the formula in Double.
        let l2 = Double(Float(0.01)), b1 = Double(Float(0.9)), b2 = Double(Float(0.999)), eps = Double(Float(1e-8))
        for j in [0, Self.count / 3, Self.count - 1] {
            let d = Double(gradient[j]) + l2 * Double(theta[j])
            let m = Double(m0[j]) + (1 - b1) * (d - Double(m0[j]))
            let v = b2 * Double(v0[j]) + (1 - b2) * d * d
            let update = Double(stepSize) * m / (v.squareRoot() / Double(c) + eps)
            // Each Float operation rounds once (relative ε/2); about a dozen of them reach each
            // result, so 16 ε relative to the magnitudes involved bounds the difference.
            #expect(abs(Double(one.1[j]) - m) <= 16 * Double(Float.ulpOfOne) * (abs(m) + abs(d)))
            #expect(abs(Double(one.2[j]) - v) <= 16 * Double(Float.ulpOfOne) * v)
            #expect(abs(Double(one.0[j]) - (Double(theta[j]) - update)) <= 16 * Double(Float.ulpOfOne) * (abs(Double(theta[j])) + abs(update)))
        }
    }

    /// The Float loop runs eight lanes at a time; √ and ÷ are correctly rounded either way, so it
    /// must equal the formula evaluated one scalar at a time in the documented order, exactly.
    @Test("Adam's vector loop equals the formula one scalar at a time, bit for bit (AdamW shrink too)")
    func adamVectorLoopIsExact() {
        var g = SeededGenerator(seed: 53)
        let n = 1003
        let theta = Tensor<Float>.randomNormal([n], generator: &g).scalars
        let gradient = Tensor<Float>.randomNormal([n], generator: &g).scalars
        let m0 = Tensor<Float>.randomNormal([n], standardDeviation: 0.1, generator: &g).scalars
        let v0 = Tensor<Float>.randomNormal([n], standardDeviation: 0.1, generator: &g).scalars.map { $0 * $0 }
        let (shrink, l2, b1, b2, step, root, eps): (Float, Float, Float, Float, Float, Float, Float) = (0.99999, 0.01, 0.9, 0.999, 3.7e-3, 0.0547, 1e-8)
        var p = theta, m = m0, v = v0
        OptimizerKernels.adamStep(&p, firstMoment: &m, secondMoment: &v, gradient: gradient, shrink: shrink, l2: l2,
                                  beta1: b1, beta2: b2, stepSize: step, correction2Root: root, epsilon: eps, threads: 1)
        for j in 0..<n {
            let t = theta[j] * shrink
            let d = gradient[j] + l2 * t
            let mj = m0[j] + (1 - b1) * (d - m0[j])
            let vj = b2 * v0[j] + (1 - b2) * d * d
            let pj = t - step * (mj / (vj.squareRoot() / root + eps))
            #expect(m[j] == mj && v[j] == vj && p[j] == pj, "element \(j)")
            if m[j] != mj || v[j] != vj || p[j] != pj { break }
        }
    }
}
