import Testing
@testable import Backprop

/// d/dx (x·x + x) = 2x + 1: both uses of x contribute.
@Test func gradientsAccumulateWhenAValueIsUsedTwice() {
    let x = Tensor<Double>([3, -2])
    #expect(gradient(at: x) { ($0 * $0 + $0).sum() } == Tensor([7, -3]))
    // through a shared intermediate: y = exp(x); L = Σ y·y  →  2 e^{2x}
    let g = gradient(at: x) { let y = $0.exp(); return (y * y).sum() }
    expectClose(g, Tensor(x.scalars.map { 2 * Double.exp(2 * $0) }), tolerance: 1e-15, "shared intermediate")
}

/// A chain of 100 000 ops is walked without recursion (no stack overflow) and gives the exact gradient.
@Test func deepGraphsAreWalkedIteratively() {
    let (value, g) = valueWithGradient(at: Tensor<Double>(0)) { x in
        var y = x
        for _ in 0..<100_000 { y = y + 1 }
        return y * 2
    }
    #expect(value.scalar == 200_000)
    #expect(g.scalar == 2)
}

@Test func noDerivativeScopeRecordsNothing() {
    let g = gradient(at: Tensor<Double>([1, 2])) { x in
        let constant = withoutDerivative { x * 10 }
        #expect(!constant.isTracked)
        return (x * constant).sum()       // constant is not differentiated: ∂/∂x = 10x
    }
    #expect(g == Tensor([10, 20]))
    // outside any transform nothing is tracked
    #expect(!(Tensor<Double>([1]) * 2).isTracked)
}

/// f independent of x has a zero gradient, not a crash.
@Test func gradientOfAConstantFunctionIsZero() {
    #expect(gradient(at: Tensor<Double>([1, 2, 3])) { _ in Tensor(5.0) } == .zeros([3]))
}

/// Broadcasting is undone by the engine: the gradient has the variable's shape.
@Test func broadcastCotangentsAreSummedToTheVariableShape() {
    let bias = Tensor<Double>([1, 2, 3])
    let g = gradient(at: bias) { (Tensor<Double>.ones([4, 3]) * $0).sum() }
    #expect(g == Tensor([4, 4, 4]))
    let scalar = gradient(at: Tensor<Double>(2)) { (Tensor<Double>(rows: [[1, 2], [3, 4]]) * $0).sum() }
    #expect(scalar == Tensor(10.0))
}

/// Reverse and forward mode agree on ⟨u, Jᵀv⟩ = ⟨Ju, v⟩ for a composite.
@Test func reverseAndForwardModesAreAdjoint() {
    var gen = SeededGenerator(seed: 11)
    let w = Tensor<Double>.randomNormal([4, 6], generator: &gen)
    let f = { (x: Tensor<Double>) in Tensor.affine(x, weight: w).tanh().softmax(inverseTemperature: 1.3) }
    let x = Tensor<Double>.randomNormal([3, 6], generator: &gen), u = Tensor<Double>.randomNormal([3, 6], generator: &gen)
    let v = Tensor<Double>.randomNormal([3, 4], generator: &gen)
    let jtv = vjp(at: x, cotangent: v, of: f).cotangent
    let ju = jvp(at: x, tangent: u, of: f).tangent
    #expect(Swift.abs((u * jtv).sum().scalar - (ju * v).sum().scalar) < 1e-14)
}

/// Hessian of a cubic by hand: f(x) = x₀²x₁ + x₁³ → H = [[2x₁, 2x₀], [2x₀, 6x₁]].
@Test func hessianOfACubicByHand() {
    let x = Tensor<Double>([1.5, -2])
    let f = { (x: Tensor<Double>) in (x.rows(0..<1).squared() * x.rows(1..<2) + x.rows(1..<2).pow(3)).sum() }
    let expected = Tensor<Double>(rows: [[-4, 3], [3, -12]])
    #expect(hessian(of: f, at: x) == expected)
    #expect(hessian(of: f, at: x, mode: .forward) == expected)
}

/// The gradient check rejects a wrong rule (a pullback off by a factor of 2).
@Test func gradientCheckCatchesAWrongRule() {
    let wrong = { (x: Tensor<Double>) in
        Tensor.recorded("wrongSquare", value: x.unary(.negate) * x.unary(.negate), inputs: [x],
                        pullback: { [$0.cotangent * x * 4] },                 // should be 2x
                        differential: { t, _ in t[0].map { $0 * x * 2 } })
    }
    let report = GradientCheck.check("wrong", at: [Tensor([0.5, -1.5])]) { wrong($0[0]) }
    #expect(!report.passed)
    #expect(report.worstEntry.contains("∂y"))
}

/// Shape mismatches stop with a message naming the op and both shapes.
@Test func shapeMismatchNamesTheOpAndBothShapes() async throws {
    let add = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Tensor<Float>.zeros([2, 3]) + Tensor<Float>.zeros([4])
    }
    let addMessage = String(decoding: add.standardErrorContent, as: UTF8.self)
    #expect(addMessage.contains("add: shapes [2, 3] and [4] do not broadcast"))
    let product = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Tensor.matmul(Tensor<Double>.zeros([2, 3]), Tensor<Double>.zeros([2, 3]))
    }
    let productMessage = String(decoding: product.standardErrorContent, as: UTF8.self)
    #expect(productMessage.contains("matmul: inner dimensions differ: [2, 3] · [2, 3]"))
}
