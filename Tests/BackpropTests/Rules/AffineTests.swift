import Testing
@testable import Backprop

/// The seed's example by hand: W = [[1,2,3],[4,5,6]], b = [0.5,−1], x = [1,0,2], L = ⟨g, y⟩
/// with g = [1, −2]. Then ∂L/∂W = g xᵀ = [[1,0,2],[−2,0,−4]], ∂L/∂b = g, ∂L/∂x = Wᵀg = [−7,−8,−9].
@Test(arguments: [true, false])
func affineGradientsAreTheSeedFormulasByHand(useFloat: Bool) {
    func run<S: TensorScalar>(_: S.Type) {
        let w = Tensor<S>(rows: [[1, 2, 3], [4, 5, 6]]), b = Tensor<S>([0.5, -1]), x = Tensor<S>([1, 0, 2])
        let g = Tensor<S>([1, -2])
        let (y, grads) = valueWithGradient(at: [w, b, x]) { p in (Tensor.affine(p[2], weight: p[0], bias: p[1]) * g).sum() }
        #expect(y.scalar == S(7.5 * 1 + -2 * 15))     // y = [7.5, 15]
        #expect(grads[0] == Tensor(rows: [[1, 0, 2], [-2, 0, -4]]))
        #expect(grads[1] == g)
        #expect(grads[2] == Tensor([-7, -8, -9]))
    }
    useFloat ? run(Float.self) : run(Double.self)
}

/// Batched: ∂L/∂W = Gᵀ X, ∂L/∂b = Σ_rows G, ∂L/∂X = G W, computed here with explicit loops.
@Test func batchedAffineGradientsAreGTransposeXColumnSumsAndGW() {
    var gen = SeededGenerator(seed: 3)
    let x = Tensor<Double>.randomNormal([5, 4], generator: &gen), w = Tensor<Double>.randomNormal([3, 4], generator: &gen)
    let b = Tensor<Double>.randomNormal([3], generator: &gen), g = Tensor<Double>.randomNormal([5, 3], generator: &gen)
    let (_, pullback) = valueWithPullback(at: [x, w, b]) { Tensor.affine($0[0], weight: $0[1], bias: $0[2]) }
    let grads = pullback(g)
    var dW = Tensor<Double>.zeros([3, 4]), db = Tensor<Double>.zeros([3]), dX = Tensor<Double>.zeros([5, 4])
    for r in 0..<5 { for t in 0..<3 {
        db.scalars[t] += g[r, t]
        for n in 0..<4 { dW.scalars[t * 4 + n] += g[r, t] * x[r, n]; dX.scalars[r * 4 + n] += g[r, t] * w[t, n] }
    } }
    expectClose(grads[1], dW, tolerance: 1e-14, "∂L/∂W")
    expectClose(grads[2], db, tolerance: 1e-14, "∂L/∂b")
    expectClose(grads[0], dX, tolerance: 1e-14, "∂L/∂X")
}

/// JVP Ẏ = Ẋ Wᵀ + X Ẇᵀ + ḃ, and forward mode equals the closed-form Jacobians for W, b and x.
@Test func affineJacobiansMatchClosedFormsByEveryMethod() {
    let w = Tensor<Double>(rows: [[1, 2, 3], [4, 5, 6]]), b = Tensor<Double>([0.5, -1]), x = Tensor<Double>([1, 0, 2])
    for wrt in ClosedFormMap.AffineArgument.allCases {
        let map = ClosedFormMap.affine(weight: w, bias: b, x: x, wrt: wrt)
        let closed = map.jacobian(method: .closedForm)
        #expect(map.jacobian(method: .reverse) == closed, "reverse, wrt \(wrt)")
        #expect(map.jacobian(method: .forward) == closed, "forward, wrt \(wrt)")
        expectClose(map.jacobian(method: .numeric), closed, tolerance: 1e-12, "numeric, wrt \(wrt)")
    }
    #expect(ClosedFormMap.affine(weight: w, bias: b, x: x, wrt: .w).jacobian(method: .closedForm)
            == Tensor(rows: [[1, 0, 2, 0, 0, 0], [0, 0, 0, 1, 0, 2]]))
}

@Test func affineMatchesPyTorchLinear() throws {
    let fixtures = try CoreFixtures()
    let c = try #require(fixtures.cases.first { $0["name"] as? String == "affine" })
    let x = fixtures.tensor("x", in: c), w = fixtures.tensor("w", in: c), b = fixtures.tensor("b", in: c), u = fixtures.tensor("u", in: c)
    let (y, pullback) = valueWithPullback(at: [x, w, b]) { Tensor.affine($0[0], weight: $0[1], bias: $0[2]) }
    let grads = pullback(u)
    expectClose(y, fixtures.tensor("y", in: c), tolerance: 1e-13, "y")
    expectClose(grads[0], fixtures.tensor("grad_x", in: c), tolerance: 1e-13, "∂L/∂x")
    expectClose(grads[1], fixtures.tensor("grad_w", in: c), tolerance: 1e-13, "∂L/∂W")
    expectClose(grads[2], fixtures.tensor("grad_b", in: c), tolerance: 1e-13, "∂L/∂b")
}
