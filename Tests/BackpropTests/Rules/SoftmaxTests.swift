import Testing
@testable import Backprop

/// softmax([1,2,3]) with β = 2 by hand: e^{2x} / Σ, and J = β(diag(y) − y yᵀ) by every method.
@Test func softmaxJacobianIsBetaTimesDiagYMinusYYTransposeByEveryMethod() {
    let x = Tensor<Double>([1, 2, 3])
    let e = x.scalars.map { Double.exp(2 * $0) }, s = e.reduce(0, +)
    let y = Tensor(e.map { $0 / s })
    expectClose(x.softmax(inverseTemperature: 2), y, tolerance: 1e-15, "forward")
    var closed = Tensor<Double>.zeros([3, 3])
    for i in 0..<3 { for j in 0..<3 { closed.scalars[i * 3 + j] = 2 * ((i == j ? y.scalars[i] : 0) - y.scalars[i] * y.scalars[j]) } }
    let map = ClosedFormMap.softmax(x: x, beta: 2)
    expectClose(map.jacobian(method: .closedForm), closed, tolerance: 1e-15, "closed form")
    expectClose(map.jacobian(method: .reverse), closed, tolerance: 1e-14, "reverse")
    expectClose(map.jacobian(method: .forward), closed, tolerance: 1e-14, "forward")
    expectClose(map.jacobian(method: .numeric), closed, tolerance: 1e-12, "numeric")
}

/// ∂L/∂x = β·y⊙(g − ⟨g,y⟩) and ∂L/∂β = Σ g_j y_j (x_j − ⟨y,x⟩), against PyTorch autograd.
@Test func softmaxGradientsMatchPyTorch() throws {
    let fixtures = try CoreFixtures()
    for c in fixtures.cases where (c["name"] as! String).hasPrefix("softmax") {
        let x = fixtures.tensor("x", in: c), u = fixtures.tensor("u", in: c), beta = c["beta"] as! Double
        let (y, grads) = valueWithGradient(at: [x, Tensor(beta)]) { ($0[0].softmax(inverseTemperature: $0[1]) * u).sum() }
        _ = y
        let name = c["name"] as! String
        expectClose(x.softmax(inverseTemperature: beta), fixtures.tensor("y", in: c), tolerance: 1e-13, "\(name) y")
        expectClose(grads[0], fixtures.tensor("grad_x", in: c), tolerance: 1e-12, "\(name) ∂L/∂x")
        expectClose(grads[1], Tensor(c["grad_beta"] as! Double), tolerance: 1e-12, "\(name) ∂L/∂β")
    }
}

/// The β-derivative against the seed formula computed with loops.
@Test func softmaxBetaGradientIsSumOfGYTimesXMinusMean() {
    let x = Tensor<Double>([0.3, -1.2, 2.0, 0.7]), g = Tensor<Double>([1, -1, 0.5, 2]), beta = 1.7
    let y = x.softmax(inverseTemperature: beta).scalars
    let mean = zip(y, x.scalars).reduce(0) { $0 + $1.0 * $1.1 }
    var expected = 0.0
    for j in 0..<4 { expected += g.scalars[j] * y[j] * (x.scalars[j] - mean) }
    let dBeta = gradient(at: Tensor(beta)) { (x.softmax(inverseTemperature: $0) * g).sum() }
    #expect(Swift.abs(dBeta.scalar - expected) < 1e-15)
    // forward mode in β gives the same
    let (_, tangent) = jvp(at: Tensor(beta), tangent: Tensor(1.0)) { (x.softmax(inverseTemperature: $0) * g).sum() }
    #expect(Swift.abs(tangent.scalar - expected) < 1e-15)
    expectClose(ClosedForm.softmaxDerivativeWithRespectToBeta(input: x, output: Tensor(y)),
                Tensor((0..<4).map { y[$0] * (x.scalars[$0] - mean) }), tolerance: 1e-15, "∂y/∂β")
}

/// Logits of ±1e4 with β ∈ {100, −100, 1} give finite probabilities summing to 1 and finite
/// gradients, in Float and Double.
@Test(arguments: [Double(100), -100, 1, 0])
func softmaxIsStableForHugeLogitsAndAnyBeta(beta: Double) {
    func run<S: TensorScalar>(_: S.Type) {
        let x = Tensor<S>(rows: [[1e4, -1e4, 0, 3], [-1e4, -1e4, -1e4, -1e4]])
        let y = x.softmax(inverseTemperature: S(beta))
        #expect(y.scalars.allSatisfy { $0.isFinite })
        for r in 0..<2 { #expect(Swift.abs(y.rows(r..<(r + 1)).sum().scalar - 1) < 4 * S.ulpOfOne) }
        let ls = x.logSoftmax(inverseTemperature: S(beta))
        #expect(ls.scalars.allSatisfy { $0.isFinite })
        let g = gradient(at: [x, Tensor(S(beta))]) { p in
            Tensor.softmaxCrossEntropy(logits: p[0], targets: Tensor(rows: [[0, 1, 0, 0], [0.25, 0.25, 0.25, 0.25]]), inverseTemperature: p[1])
                + (p[0].softmax(inverseTemperature: p[1]) * p[0]).sum()
        }
        #expect(g.allSatisfy { $0.scalars.allSatisfy { $0.isFinite } })
    }
    run(Float.self)
    run(Double.self)
}

/// β = 0 makes softmax uniform with a zero Jacobian; n = 1 gives y = 1 and a zero Jacobian.
@Test func softmaxSpecialValues() {
    let x = Tensor<Double>([3, -1, 7])
    let third: Double = 1.0 / 3
    #expect(x.softmax(inverseTemperature: 0) == Tensor([third, third, third]))
    #expect(jacobian(of: { $0.softmax(inverseTemperature: 0) }, at: x) == .zeros([3, 3]))
    let one = Tensor<Double>([42])
    #expect(one.softmax(inverseTemperature: -5) == Tensor([1]))
    #expect(jacobian(of: { $0.softmax(inverseTemperature: -5) }, at: one, mode: .forward) == .zeros([1, 1]))
    // Negative β reverses the order: the smallest logit gets the largest probability.
    let y = x.softmax(inverseTemperature: -1)
    #expect(y.scalars[1] > y.scalars[0] && y.scalars[0] > y.scalars[2])
}

/// The fused cross-entropy equals the composed −mean Σ t log softmax(βz), in value and gradient,
/// and matches PyTorch's cross_entropy with label smoothing.
@Test func fusedCrossEntropyEqualsComposedAndPyTorch() throws {
    let fixtures = try CoreFixtures()
    let c = try #require(fixtures.cases.first { $0["name"] as? String == "cross_entropy" })
    let z = fixtures.tensor("z", in: c), t = fixtures.tensor("targets", in: c), beta = c["beta"] as! Double
    let (fused, gf) = valueWithGradient(at: [z, Tensor(beta)]) { Tensor.softmaxCrossEntropy(logits: $0[0], targets: t, inverseTemperature: $0[1]) }
    let (composed, gc) = valueWithGradient(at: [z, Tensor(beta)]) { -($0[0].logSoftmax(inverseTemperature: $0[1]) * t).sum() / 4 }
    expectClose(fused, composed, tolerance: 1e-14, "value")
    expectClose(gf[0], gc[0], tolerance: 1e-14, "∂L/∂z")
    expectClose(gf[1], gc[1], tolerance: 1e-14, "∂L/∂β")
    expectClose(fused, Tensor(c["loss"] as! Double), tolerance: 1e-14, "PyTorch loss")
    expectClose(gf[0], fixtures.tensor("grad_z", in: c), tolerance: 1e-13, "PyTorch ∂L/∂z")
    expectClose(gf[1], Tensor(c["grad_beta"] as! Double), tolerance: 1e-13, "PyTorch ∂L/∂β")
    // And the familiar form: ∂L/∂z = β(p − t)/B.
    let p = z.softmax(inverseTemperature: beta)
    expectClose(gf[0], Tensor(beta) * (p - t) / 4, tolerance: 1e-14, "β(p − t)/B")
}

/// The Hessian of L(z) = CE(softmax(βz), t) is β²(diag(p) − p pᵀ), by reverse-over-reverse and
/// forward-over-reverse.
@Test(arguments: [2.0, -0.5, 3.0])
func crossEntropyHessianIsBetaSquaredDiagPMinusPPTranspose(beta: Double) {
    let z = Tensor<Double>([0.2, -1.0, 0.7, 1.5]), t = Tensor<Double>([0, 0, 1, 0])
    let p = z.softmax(inverseTemperature: beta)
    let expected = ClosedForm.softmaxJacobian(output: p, inverseTemperature: beta) * beta
    for mode in JacobianMode.allCases {
        let h = hessian(of: { Tensor.softmaxCrossEntropy(logits: $0, targets: t, inverseTemperature: Tensor(beta)) }, at: z, mode: mode)
        expectClose(h, expected, tolerance: 1e-14, "\(mode)")
    }
}
