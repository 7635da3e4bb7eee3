import Testing
@testable import Backprop

/// The batched reverse Jacobian (the identity pulled back as one batch of cotangents) against
/// one pullback per row, on ops with batched pullbacks and on ops that fall back per cotangent.
@Suite("Batched Jacobian equals row-by-row")
struct BatchedJacobianTests {
    static func functions<S: TensorScalar>(_: S.Type) -> [(name: String, x: Tensor<S>, f: (Tensor<S>) -> Tensor<S>)] {
        var g = SeededGenerator(seed: 99)
        func normal(_ shape: [Int]) -> Tensor<S> { .randomNormal(shape, generator: &g) }
        let w1 = normal([7, 5]), b1 = normal([7]), w2 = normal([3, 7]), m = normal([5, 4]), row = normal([4])
        let t = Tensor<S>.oneHot([2, 0], classCount: 3)
        return [
            ("softmax β=2", normal([12]), { $0.softmax(inverseTemperature: 2) }),
            ("log-softmax rows β=−1", normal([3, 4]), { $0.logSoftmax(inverseTemperature: -1) }),
            ("MLP affine+relu+tanh", normal([2, 5]), { Tensor.affine(Tensor.affine($0, weight: w1, bias: b1).relu(), weight: w2).tanh() }),
            ("matmul and broadcast", normal([3, 5]), { Tensor.matmul($0, m) * row + row }),
            ("matmul, variable on the right", normal([5, 4]), { Tensor.matmul(m.transposed(), $0).exp() }),
            ("reductions", normal([4, 6]), { ($0.sum(alongAxis: 0) / $0.max(alongAxis: 0)).sigmoid() }),
            ("divide, subtract, sqrt", normal([6]), { ($0 * $0 + 1).sqrt() / (2 - $0) }),
            ("transpose, rows, concatenation", normal([4, 4]), { Tensor.concatenatingRows([$0.transposed().rows(1..<3), $0.rows(0..<1)]).log1pSquare() }),
            ("cross-entropy", normal([2, 3]), { Tensor.softmaxCrossEntropy(logits: $0, targets: t, inverseTemperature: Tensor(1.5)) }),
            ("gradient (Hessian rows)", normal([5]), { gradient(at: $0) { ($0.softmax(inverseTemperature: 2) * $0).sum() } }),
        ]
    }

    func check<S: TensorScalar>(_: S.Type) {
        for c in Self.functions(S.self) {
            let batched = reverseJacobian(of: c.f, at: c.x, batched: true)
            let rows = reverseJacobian(of: c.f, at: c.x, batched: false)
            expectClose(batched, rows, tolerance: agreement(S.self), "\(c.name) \(S.self)")
        }
    }

    @Test("Float") func float() { check(Float.self) }
    @Test("Double") func double() { check(Double.self) }

    @Test("softmax at n = 1000 matches the closed form β(diag y − y yᵀ)")
    func largeSoftmax() {
        var g = SeededGenerator(seed: 1)
        let x = Tensor<Float>.randomNormal([1000], generator: &g)
        let j = jacobian(of: { $0.softmax(inverseTemperature: 2) }, at: x)
        let closed = ClosedForm.softmaxJacobian(output: x.softmax(inverseTemperature: 2), inverseTemperature: Float(2))
        expectClose(j, closed, tolerance: 1e-6, "n = 1000")
    }
}

private extension Tensor {
    /// log(1 + x²): a smooth composite for the tests.
    func log1pSquare() -> Tensor { (self * self + 1).log() }
}
