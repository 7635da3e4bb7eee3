// One CNN training step through Swift's differentiation against the library's own (the check
// every run makes, --smoke included): an optimised build of the convolution, pooling,
// normalisation and dropout derivatives, and their gradients, running statistics and updated
// parameters equal to the tape's.
import Backprop
import BackpropDifferentiable
import _Differentiation

/// conv → batch norm → relu → max pool → conv → avg pool → flatten → dropout → linear, on
/// [N, 1, 8, 8] images.
struct CheckCNN: Module, Differentiable {
    typealias Scalar = Float
    var conv1: Conv2d<Float>
    var norm = BatchNorm2d<Float>(features: 4)
    var pool = MaxPool2d<Float>(kernelSize: 2)
    var conv2: Conv2d<Float>
    var average = AvgPool2d<Float>(kernelSize: 2)
    var flatten = Flatten<Float>()
    var dropout = Dropout<Float>(probability: 0.25, seed: 3)
    var head: Linear<Float>

    mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
        visitor.module("conv1", &conv1)
        visitor.module("norm", &norm)
        visitor.module("conv2", &conv2)
        visitor.module("head", &head)
    }

    @differentiable(reverse, wrt: self)
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        head(dropout(flatten(average(conv2(pool(norm(conv1(x)).relu()))))))
    }
}

/// What differs between one training step of `CheckCNN` by Swift's differentiation and by the
/// library's tape (empty when gradients, running statistics and parameters are identical).
func cnnStepFailures() -> [String] {
    var g = SeededGenerator(seed: 5)
    var model = CheckCNN(conv1: Conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, generator: &g),
                         conv2: Conv2d(inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, generator: &g),
                         head: Linear(inputs: 24, outputs: 3, generator: &g))
    var library = Sequential<Float>(model.conv1, model.norm, ReLU(), model.pool, model.conv2, model.average, model.flatten,
                                    Dropout(probability: 0.25, seed: 3), model.head)
    let x = Tensor<Float>.randomNormal([4, 1, 8, 8], generator: &g)
    let labels = (0..<4).map { _ in Int(g.next() % 3) }
    var optimizer = SGD<Float>(learningRate: 0.1), libraryOptimizer = SGD<Float>(learningRate: 0.1)
    let tangent = model.updatingBuffers { m in
        withLearningPhase(.training) { gradient(at: m) { m in Loss.softmaxCrossEntropy(logits: m(x), labels: labels).scalar } }
    }
    let libraryGradient = library.updatingBuffers { m in
        withLearningPhase(.training) { gradient(at: m) { m in Loss.softmaxCrossEntropy(logits: m(x), labels: labels) } }
    }
    var failures: [String] = []
    if model.namedTensors(of: tangent).tensors != libraryGradient.tensors { failures.append("CNN gradients differ") }
    do {
        try optimizer.update(&model, along: tangent)
        try libraryOptimizer.update(&library, along: libraryGradient)
    } catch { return ["CNN step: \(error)"] }
    if model.parameters != library.parameters { failures.append("CNN parameters differ after a step") }
    if model.namedBuffers.tensors != library.namedBuffers.tensors { failures.append("CNN running statistics differ") }
    return failures
}
