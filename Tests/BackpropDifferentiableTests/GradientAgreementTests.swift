// Gradients through Swift's differentiation equal the library's own, bit for bit: every
// derivative Swift uses is the library's rule, applied to the same values in the same order.

import Backprop
import BackpropDifferentiable
import Testing
import _Differentiation

// MARK: - The seed example: y = Wx + b → softmax(βy) → cross-entropy, β learnable

@differentiable(reverse, wrt: (w, b, beta))
func seedLoss<Scalar: TestScalar>(_ w: Tensor<Scalar>, _ b: Tensor<Scalar>, _ beta: Tensor<Scalar>,
                                  x: Tensor<Scalar>, target: Tensor<Scalar>) -> Scalar {
    let y = Tensor.affine(x, weight: w, bias: b)
    return Tensor.softmaxCrossEntropy(logits: y, targets: target, inverseTemperature: beta).scalar
}

/// The same loss with softmax and the logarithm as separate operations: L = −Σ t ⊙ log softmax(βy).
@differentiable(reverse, wrt: (w, b, beta))
func composedSeedLoss<Scalar: TestScalar>(_ w: Tensor<Scalar>, _ b: Tensor<Scalar>, _ beta: Tensor<Scalar>,
                                          x: Tensor<Scalar>, target: Tensor<Scalar>) -> Scalar {
    // A differentiated tensor's shape is read from `withoutDerivative(at:)` (see the article's limits).
    let outputs = withoutDerivative(at: w).shape[0]
    let p = (w.matmul(x.reshaped([x.count, 1])).reshaped([outputs]) + b).softmax(inverseTemperature: beta)
    return (-(target * p.log()).sum()).scalar
}

func seedExampleAgrees<Scalar: TestScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>([1, 0, 2])
    let w = Tensor<Scalar>(rows: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    let b = Tensor<Scalar>([0.5, -1])
    let beta = Tensor<Scalar>(2)
    let target = Tensor<Scalar>([0, 1])

    let (loss, swift) = _Differentiation.valueWithGradient(at: w, b, beta) { w, b, beta in
        seedLoss(w, b, beta, x: x, target: target)
    }
    let (libraryLoss, library) = Backprop.valueWithGradient(at: [w, b, beta]) { p in
        Tensor.softmaxCrossEntropy(logits: .affine(x, weight: p[0], bias: p[1]), targets: target, inverseTemperature: p[2])
    }
    #expect(loss == libraryLoss.scalar)
    #expect(swift.0 == library[0] && swift.1 == library[1] && swift.2 == library[2])

    let composed = _Differentiation.gradient(at: w, b, beta) { w, b, beta in
        composedSeedLoss(w, b, beta, x: x, target: target)
    }
    let libraryComposed = Backprop.gradient(at: [w, b, beta]) { p in
        let y = p[0].matmul(x.reshaped([x.count, 1])).reshaped([p[0].shape[0]]) + p[1]
        return -(target * y.softmax(inverseTemperature: p[2]).log()).sum()
    }
    #expect(composed.0 == libraryComposed[0] && composed.1 == libraryComposed[1] && composed.2 == libraryComposed[2])
}

@Test func seedExampleGradientsEqualTheLibrarysInFloat() { seedExampleAgrees(Float.self) }
@Test func seedExampleGradientsEqualTheLibrarysInDouble() { seedExampleAgrees(Double.self) }

@Test func seedExampleGivesTheReadmeNumbers() {
    let x = Tensor<Double>([1, 0, 2])
    let target = Tensor<Double>([0, 1])
    let (loss, (gw, gb, gbeta)) = valueWithGradient(at: Tensor<Double>(rows: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
                                                    Tensor<Double>([0.5, -1]), Tensor<Double>(2)) { w, b, beta in
        seedLoss(w, b, beta, x: x, target: target)
    }
    #expect(loss == 1.463282467338031)
    #expect(gw == Tensor(rows: [[1.537049566998035, 0.0, 3.07409913399607], [-1.5370495669980353, 0.0, -3.0740991339960706]]))
    #expect(gb == Tensor([1.537049566998035, -1.5370495669980353]))
    #expect(gbeta == Tensor(0.4611148700994103))
}

// MARK: - Models

func mlpAgrees<Scalar: TestScalar>(_: Scalar.Type) {
    let model = MLP<Scalar>(sizes: [20, 16, 12, 10], seed: 1)
    let (x, targets) = batch(Scalar.self, rows: 8, inputs: 20, classes: 10, seed: 2)
    let beta = Tensor<Scalar>(1)
    let (loss, tangent) = valueWithGradient(at: model) { m in
        Tensor.softmaxCrossEntropy(logits: m(x), targets: targets, inverseTemperature: beta).scalar
    }
    let (libraryLoss, library) = valueWithGradient(at: model.sequential) { m in
        Tensor.softmaxCrossEntropy(logits: m(x), targets: targets, inverseTemperature: beta)
    }
    let swift = model.namedTensors(of: tangent)
    #expect(loss == libraryLoss.scalar)
    #expect(swift.names == ["l1.weight", "l1.bias", "l2.weight", "l2.bias", "l3.weight", "l3.bias"])
    #expect(library.names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
    #expect(swift.tensors == library.tensors)
    #expect(tangent.l1.weight == library["0.weight"] && tangent.l3.bias == library["4.bias"])
}

@Test func mlpGradientsEqualTheLibrarysInFloat() { mlpAgrees(Float.self) }
@Test func mlpGradientsEqualTheLibrarysInDouble() { mlpAgrees(Double.self) }

func residualAgrees<Scalar: TestScalar>(_: Scalar.Type) {
    let model = ResidualNet<Scalar>(inputs: 12, width: 16, outputs: 5, seed: 3)
    let (x, targets) = batch(Scalar.self, rows: 6, inputs: 12, classes: 5, seed: 4)
    let (loss, tangent) = valueWithGradient(at: model) { m in
        Loss.softmaxCrossEntropy(logits: m(x), labels: targets.argmaxRows()).scalar
    }
    let (libraryLoss, library) = valueWithGradient(at: model.sequential) { m in
        Loss.softmaxCrossEntropy(logits: m(x), labels: targets.argmaxRows())
    }
    let swift = model.namedTensors(of: tangent)
    #expect(loss == libraryLoss.scalar)
    #expect(swift.names == ["stem.weight", "stem.bias", "block.body.0.weight", "block.body.0.bias",
                            "block.body.1.1.weight", "block.body.1.1.bias", "head.weight", "head.bias"])
    #expect(library.names == ["0.weight", "0.bias", "1.body.0.weight", "1.body.0.bias",
                              "1.body.2.weight", "1.body.2.bias", "3.weight", "3.bias"])
    #expect(swift.tensors == library.tensors)
}

@Test func residualGradientsEqualTheLibrarysInFloat() { residualAgrees(Float.self) }
@Test func residualGradientsEqualTheLibrarysInDouble() { residualAgrees(Double.self) }

/// A model differentiated with respect to its input too: the first layer's ∂L/∂x.
@Test func inputGradientThroughALayerEqualsTheLibrarys() {
    let layer = Linear<Double>(weight: normal([4, 3], seed: 5), bias: normal([4], seed: 6))
    let x: Tensor<Double> = normal([2, 3], seed: 7)
    let (gLayer, gx) = gradient(at: layer, x) { (layer: Linear<Double>, x: Tensor<Double>) -> Double in
        layer(x).tanh().sum().scalar
    }
    let library = Backprop.gradient(at: [x, layer.weight, layer.bias]) { p in
        Tensor.affine(p[0], weight: p[1], bias: p[2]).tanh().sum()
    }
    #expect(gx == library[0] && gLayer.weight == library[1] && gLayer.bias == library[2])
}

/// Learnable β inside a model, through the library's `Softmax` layer.
@Test func learnableSoftmaxLayerGetsTheLibrarysBetaGradient() {
    let x: Tensor<Double> = normal([3, 4], seed: 8)
    let u: Tensor<Double> = normal([3, 4], seed: 9)
    let learnable = Softmax<Double>(inverseTemperature: 1.5, learnable: true)
    let fixed = Softmax<Double>(inverseTemperature: 1.5)
    let g = gradient(at: learnable) { s in (s(x) * u).sum().scalar }
    let library = Backprop.gradient(at: [Tensor<Double>(1.5)]) { p in (x.softmax(inverseTemperature: p[0]) * u).sum() }
    #expect(g.beta == library[0])
    #expect(gradient(at: fixed) { s in (s(x) * u).sum().scalar }.beta.isZeroTangent)
    var moved = fixed
    moved.move(by: .init(beta: Tensor(7)))
    #expect(moved.beta == Tensor(1.5))
}

/// Standard normal entries, seeded.
func normal<Scalar: TensorScalar>(_ shape: [Int], seed: UInt64) -> Tensor<Scalar> {
    var rng = SeededGenerator(seed: seed)
    return .randomNormal(shape, generator: &rng)
}

// MARK: - The README's form of the seed example

private let readmeX = Tensor<Double>([1, 0, 2])
private let readmeTarget = Tensor<Double>([0, 1])

@differentiable(reverse, wrt: (w, b, beta))
private func readmeLoss(_ w: Tensor<Double>, _ b: Tensor<Double>, _ beta: Tensor<Double>) -> Double {
    Tensor.softmaxCrossEntropy(logits: .affine(readmeX, weight: w, bias: b), targets: readmeTarget, inverseTemperature: beta).scalar
}

@Test func readmesCompilerDifferentiatedExampleGivesTheReadmeNumbers() {
    let w = Tensor<Double>(rows: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]), b = Tensor<Double>([0.5, -1]), beta = Tensor<Double>(2)
    let (dW, db, dBeta) = gradient(at: w, b, beta, of: readmeLoss)
    #expect(dW == Tensor(rows: [[1.537049566998035, 0.0, 3.07409913399607], [-1.5370495669980353, 0.0, -3.0740991339960706]]))
    #expect(db == Tensor([1.537049566998035, -1.5370495669980353]))
    #expect(dBeta == Tensor(0.4611148700994103))
}
