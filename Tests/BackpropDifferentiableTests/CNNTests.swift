// A small CNN as a struct of the library's convolutional layers, differentiated by Swift:
// gradients, running statistics and a few optimizer steps equal the library's own (its tape on
// the same layers as a Sequential), bit for bit — every derivative Swift uses is the library's
// rule, run on the same values in the same order, so no rounding bound is needed.

import Backprop
import BackpropDifferentiable
import Testing
import _Differentiation

/// conv(2→4, 3×3, pad 1) → batch norm → relu → max pool 2 → conv(4→6, 3×3, pad 1) → avg pool 2
/// → flatten → dropout → linear(24→3): [N, 2, 8, 8] → [N, 3] logits.
struct SmallCNN<Scalar: TensorScalar>: Module, Differentiable {
    var conv1: Conv2d<Scalar>
    var norm: BatchNorm2d<Scalar>
    var pool = MaxPool2d<Scalar>(kernelSize: 2)
    var conv2: Conv2d<Scalar>
    var average = AvgPool2d<Scalar>(kernelSize: 2)
    var flatten = Flatten<Scalar>()
    var dropout: Dropout<Scalar>
    var head: Linear<Scalar>

    mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        visitor.module("conv1", &conv1)
        visitor.module("norm", &norm)
        visitor.module("conv2", &conv2)
        visitor.module("head", &head)
    }

    @differentiable(reverse, wrt: self)
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let features = pool(norm(conv1(x)).relu())
        return head(dropout(flatten(average(conv2(features)))))
    }

    init(dropout probability: Double, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        conv1 = Conv2d(inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, generator: &rng)
        norm = BatchNorm2d(features: 4)
        conv2 = Conv2d(inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, generator: &rng)
        dropout = Dropout(probability: probability, seed: seed)
        head = Linear(inputs: 24, outputs: 3, generator: &rng)
    }

    /// The same network as the library's Sequential (its own dropout generator, same seed, so
    /// it draws the same masks as this model's from the start).
    func sequential(dropoutSeed: UInt64) -> Sequential<Scalar> {
        Sequential(conv1, norm, ReLU(), pool, conv2, average, flatten,
                   Dropout(probability: dropout.probability, seed: dropoutSeed), head)
    }
}

/// A batch of images [rows, 2, 8, 8] and labels in 0..<3.
func imageBatch<Scalar: TensorScalar>(_: Scalar.Type, rows: Int, seed: UInt64) -> (x: Tensor<Scalar>, labels: [Int]) {
    var rng = SeededGenerator(seed: seed)
    let x = Tensor<Scalar>.randomNormal([rows, 2, 8, 8], generator: &rng)
    return (x, (0..<rows).map { _ in Int(rng.next() % 3) })
}

func cnnGradientsAgree<Scalar: TestScalar>(_: Scalar.Type, phase: LearningPhase, dropout: Double) {
    let seed: UInt64 = 21
    var model = SmallCNN<Scalar>(dropout: dropout, seed: seed)
    var library = model.sequential(dropoutSeed: seed)
    let (x, labels) = imageBatch(Scalar.self, rows: 4, seed: 22)
    let (loss, tangent) = model.updatingBuffers { m in
        withLearningPhase(phase) {
            valueWithGradient(at: m) { m in Loss.softmaxCrossEntropy(logits: m(x), labels: labels).scalar }
        }
    }
    let (libraryLoss, libraryGradient) = library.updatingBuffers { m in
        withLearningPhase(phase) {
            valueWithGradient(at: m) { m in Loss.softmaxCrossEntropy(logits: m(x), labels: labels) }
        }
    }
    let swift = model.namedTensors(of: tangent)
    #expect(loss == libraryLoss.scalar)
    #expect(swift.names == ["conv1.weight", "conv1.bias", "norm.weight", "norm.bias", "conv2.weight", "conv2.bias",
                            "head.weight", "head.bias"])
    #expect(swift.tensors == libraryGradient.tensors)
    // Running statistics: updated in training (one batch tracked), untouched in inference.
    #expect(model.namedBuffers.tensors == library.namedBuffers.tensors)
    #expect(model.norm.batchesTracked == (phase == .training ? 1 : 0))
}

@Test func cnnGradientsAndRunningStatisticsEqualTheLibrarysInTrainingInFloat() {
    cnnGradientsAgree(Float.self, phase: .training, dropout: 0)
}

@Test func cnnGradientsAndRunningStatisticsEqualTheLibrarysInTrainingInDouble() {
    cnnGradientsAgree(Double.self, phase: .training, dropout: 0)
}

@Test func cnnGradientsWithSeededDropoutEqualTheLibrarysInFloat() {
    cnnGradientsAgree(Float.self, phase: .training, dropout: 0.25)
}

@Test func cnnGradientsWithSeededDropoutEqualTheLibrarysInDouble() {
    cnnGradientsAgree(Double.self, phase: .training, dropout: 0.25)
}

@Test func cnnGradientsInInferenceUseRunningStatisticsAndNoDropoutAsTheLibrary() {
    cnnGradientsAgree(Double.self, phase: .inference, dropout: 0.5)
}

func cnnTrainingAgrees<Scalar: TestScalar>(_: Scalar.Type) throws {
    let seed: UInt64 = 31
    var model = SmallCNN<Scalar>(dropout: 0.25, seed: seed)
    var library = model.sequential(dropoutSeed: seed)
    var optimizer = SGD<Scalar>(learningRate: 0.1, momentum: 0.9)
    var libraryOptimizer = SGD<Scalar>(learningRate: 0.1, momentum: 0.9)
    for step in 0..<4 {
        let (x, labels) = imageBatch(Scalar.self, rows: 4, seed: 40 + UInt64(step))
        let tangent = model.updatingBuffers { m in
            withLearningPhase(.training) { gradient(at: m) { m in Loss.softmaxCrossEntropy(logits: m(x), labels: labels).scalar } }
        }
        try optimizer.update(&model, along: tangent)
        let libraryGradient = library.updatingBuffers { m in
            withLearningPhase(.training) { gradient(at: m) { m in Loss.softmaxCrossEntropy(logits: m(x), labels: labels) } }
        }
        try libraryOptimizer.update(&library, along: libraryGradient)
    }
    #expect(model.parameters == library.parameters)
    #expect(model.namedBuffers.tensors == library.namedBuffers.tensors)
    #expect(model.norm.batchesTracked == 4)
}

@Test func cnnParametersAfterFourSgdStepsEqualTheLibrarysInFloat() throws { try cnnTrainingAgrees(Float.self) }
@Test func cnnParametersAfterFourSgdStepsEqualTheLibrarysInDouble() throws { try cnnTrainingAgrees(Double.self) }

/// ∂L/∂layer and ∂L/∂x of L = Σ u ⊙ layer(x), by Swift and by the library's tape on the layer's
/// parameters as variables.
func layerAgrees<L: DifferentiableLayer & Module>(_ layer: L, at x: Tensor<Double>, _ name: String)
where L.Scalar == Double, L.TangentVector == WeightAndBiasTangent<Double> {
    let u: Tensor<Double> = uniform(layer(x).shape, -1, 1, seed: 50)
    let (g, gx) = gradient(at: layer, x) { layer, x in (layer(x) * u).sum().scalar }
    let library = Backprop.gradient(at: [x] + layer.parameters) { p in (layer.replacingParameters(Array(p.dropFirst()))(p[0]) * u).sum() }
    #expect(gx == library[0], "\(name): ∂x")
    #expect(Array([g.weight, g.bias].prefix(layer.parameters.count)) == Array(library.dropFirst()), "\(name): parameters")
    #expect(layer.parameters.count == 2 || g.bias.isZeroTangent, "\(name): a missing bias has the zero tangent")
}

@Test func convolutionAndNormalizationLayersDifferentiateAsTheLibrarys() {
    var rng = SeededGenerator(seed: 60)
    let image: Tensor<Double> = uniform([2, 4, 6, 6], -1, 1, seed: 61)
    layerAgrees(Conv2d(inChannels: 4, outChannels: 6, kernelSize: 3, stride: 2, padding: 1, groups: 2, bias: false,
                       generator: &rng), at: image, "Conv2d without bias, grouped")
    layerAgrees(LayerNorm(normalizedShape: [6, 6]), at: image, "LayerNorm")
    layerAgrees(LayerNorm(normalizedShape: [6], elementwiseAffine: false), at: image, "LayerNorm without affine")
    withLearningPhase(.training) {
        layerAgrees(BatchNorm2d(features: 4, affine: false), at: image, "BatchNorm2d without affine")
        layerAgrees(BatchNorm1d(features: 4), at: image.reshaped([2, 4, 36]), "BatchNorm1d [N, C, L]")
        layerAgrees(BatchNorm1d(features: 36), at: image.reshaped([8, 36]) * 2, "BatchNorm1d [N, C]")
    }
    let pooled = gradient(at: image) { x in (GlobalAvgPool2d<Double>()(x) * 3).sum().scalar }
    #expect(pooled == Backprop.gradient(at: image) { x in (GlobalAvgPool2d<Double>()(x) * 3).sum() })
}

/// Moving a layer by its tangent moves its parameters and nothing else; the zero tangent and a
/// missing bias move nothing.
@Test func movingNormalizationAndConvolutionLayersLeavesBuffersAndMissingBiases() {
    var norm = BatchNorm2d<Float>(features: 2)
    let before = norm.namedBuffers
    norm.move(by: .init(weight: Tensor([1, 2]), bias: Tensor([3, 4])))
    #expect(norm.parameters == [Tensor([2, 3]), Tensor([3, 4])])
    #expect(norm.namedBuffers.tensors == before.tensors)
    var rng = SeededGenerator(seed: 70)
    var conv = Conv2d<Float>(inChannels: 1, outChannels: 2, kernelSize: 1, bias: false, generator: &rng)
    let weight = conv.weight
    conv.move(by: .init(weight: .zero, bias: Tensor([5, 6])))
    #expect(conv.weight == weight && conv.bias == nil)
}
