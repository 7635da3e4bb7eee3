import Testing
@testable import Backprop

@Test func linearDefaultInitIsPyTorchKaimingUniformWithinOneOverSqrtFanIn() {
    var rng = SeededGenerator(seed: 7)
    let layer = Linear<Double>(inputs: 16, outputs: 300, generator: &rng)
    #expect(layer.weight.shape == [300, 16] && layer.bias.shape == [300])
    let bound = 1 / 16.0.squareRoot()
    #expect(layer.weight.scalars.allSatisfy { Swift.abs($0) <= bound })
    #expect(layer.bias.scalars.allSatisfy { Swift.abs($0) <= bound })
    // Uniform on [−b, b]: the extremes come close to the bound and the variance is b²/3.
    let w = layer.weight.scalars
    #expect(w.max()! > 0.95 * bound && w.min()! < -0.95 * bound)
    let variance = w.reduce(0) { $0 + $1 * $1 } / Double(w.count)
    #expect(Swift.abs(variance - bound * bound / 3) < 0.1 * bound * bound / 3)
}

@Test func xavierAndZerosInitializers() {
    var rng = SeededGenerator(seed: 1)
    let x = Linear<Float>(inputs: 10, outputs: 20, initializer: .xavierUniform, generator: &rng)
    let bound = Float((6.0 / 30).squareRoot())
    #expect(x.weight.scalars.allSatisfy { Swift.abs($0) <= bound } && x.bias.scalars.allSatisfy { $0 == 0 })
    let z = Linear<Float>(inputs: 3, outputs: 2, initializer: .zeros, generator: &rng)
    #expect(z.weight == .zeros([2, 3]) && z.bias == .zeros([2]))
}

@Test func sameSeedGivesSameWeightsAndDifferentSeedsDiffer() {
    var a = SeededGenerator(seed: 3), b = SeededGenerator(seed: 3), c = SeededGenerator(seed: 4)
    let la = Linear<Float>(inputs: 5, outputs: 4, generator: &a)
    let lb = Linear<Float>(inputs: 5, outputs: 4, generator: &b)
    let lc = Linear<Float>(inputs: 5, outputs: 4, generator: &c)
    #expect(la.weight == lb.weight && la.bias == lb.bias)
    #expect(la.weight != lc.weight)
}

@Test func linearComputesXWTransposePlusB() {
    let layer = Linear<Double>(weight: Tensor(rows: [[1, 2], [3, 4], [5, 6]]), bias: Tensor([1, 0, -1]))
    #expect(layer(Tensor(rows: [[1, 1], [2, 0]])) == Tensor(rows: [[4, 7, 10], [3, 6, 9]]))
    #expect(layer(Tensor([1, 1])) == Tensor([4, 7, 10]))
}

@Test func activationLayersMatchTheirOps() {
    let x = Tensor<Double>([-2, -0.5, 0, 0.5, 2])
    #expect(ReLU<Double>()(x) == Tensor([0, 0, 0, 0.5, 2]))
    #expect(Tanh<Double>()(x) == x.tanh())
    #expect(Sigmoid<Double>()(x) == x.sigmoid())
    #expect(GELU<Double>()(x) == x.gelu())
    for a in Activation.allCases {
        let layer: any Layer<Double> = a.layer(Double.self)
        let y = layer.callAsFunction(x)
        #expect(y.shape == x.shape)
    }
}

@Test func parametersAreEnumeratedAndReplacedInDeclarationOrder() {
    var rng = SeededGenerator(seed: 0)
    var model = Sequential<Double>(Linear(inputs: 3, outputs: 4, generator: &rng), Tanh(),
                                   Linear(inputs: 4, outputs: 2, generator: &rng))
    #expect(model.parameterNames == ["0.weight", "0.bias", "2.weight", "2.bias"])
    #expect(model.parameters.map(\.shape) == [[4, 3], [4], [2, 4], [2]])
    #expect(model.parameterCount == 12 + 4 + 8 + 2)
    var ps = model.parameters
    ps[2] = .zeros([2, 4]); ps[3] = Tensor([1, -1])
    model = model.replacingParameters(ps)
    #expect(model(Tensor(rows: [[1, 2, 3]])) == Tensor(rows: [[1, -1]]))
    #expect((model.layers[2] as! Linear<Double>).weight == .zeros([2, 4]))
}

@Test func softmaxLayerWithLearnableBetaExposesBetaAndItsGradient() {
    let fixed = Softmax<Double>(inverseTemperature: 2)
    #expect(fixed.parameters.isEmpty)
    let learnable = Softmax<Double>(inverseTemperature: 2, learnable: true)
    #expect(learnable.parameterNames == ["beta"])
    #expect(learnable.parameters.count == 1 && learnable.parameters[0] == learnable.beta)
    let x = Tensor<Double>([0.1, 0.7, -0.3])
    #expect(learnable(x) == x.softmax(inverseTemperature: 2))
    // ∂/∂β of y₀ = y₀(x₀ − ⟨y, x⟩) (ClosedForm.softmaxDerivativeWithRespectToBeta).
    let g = gradient(at: learnable.parameters) { ps in
        let l = learnable.replacingParameters(ps)
        return l(x).rows(0..<1).sum()
    }
    let y = x.softmax(inverseTemperature: 2)
    let expected = ClosedForm.softmaxDerivativeWithRespectToBeta(input: x, output: y).scalars[0]
    #expect(Swift.abs(g[0].scalar - expected) < 1e-14)
}

@Test func softmaxCrossEntropyWithSmoothingIsFiniteForHugeLogits() {
    let z = Tensor<Double>(rows: [[1e4, -1e4, 0], [-1e4, 1e4, 3]])
    let (loss, g) = valueWithGradient(at: z) { Loss.softmaxCrossEntropy(logits: $0, labels: [1, 1], labelSmoothing: 0.1) }
    #expect(loss.scalar.isFinite && g.scalars.allSatisfy(\.isFinite))
    // Smoothed targets (1 − ε)e_k + ε/C: the gradient is (p − t)/B.
    let p = withoutDerivative { z.softmax() }
    let t: [Double] = [0.1 / 3, 0.9 + 0.1 / 3, 0.1 / 3]
    for r in 0..<2 { for c in 0..<3 { #expect(Swift.abs(g[r, c] - (p[r, c] - t[c]) / 2) < 1e-15) } }
}

@Test func learningRateSchedulesFollowPyTorchClosedForms() {
    #expect(LearningRateSchedule.constant.learningRate(base: 0.1, epoch: 9) == 0.1)
    let step = LearningRateSchedule.step(every: 3, factor: 0.5)
    #expect([0, 2, 3, 5, 6].map { step.learningRate(base: 1, epoch: $0) } == [1, 1, 0.5, 0.5, 0.25])
    let cosine = LearningRateSchedule.cosine(epochs: 10, minimum: 0.01)
    #expect(cosine.learningRate(base: 0.1, epoch: 0) == 0.1)
    #expect(Swift.abs(cosine.learningRate(base: 0.1, epoch: 5) - 0.055) < 1e-15)
    #expect(Swift.abs(cosine.learningRate(base: 0.1, epoch: 10) - 0.01) < 1e-15)
}

@Test func clippingLeavesSmallGradientsAlone() {
    var g = [Tensor<Double>([0.3, 0.4])]
    let norm = clipByGlobalNorm(&g, maxNorm: 1)
    #expect(norm == 0.5 && g[0] == Tensor([0.3, 0.4]))
}
