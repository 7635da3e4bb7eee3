import Foundation
import Testing
@testable import Backprop
import BackpropKernels

// The convolutional layers on the model API: batch norm's running statistics against PyTorch
// (the batch-norm cases of Fixtures/cnn_ops.json), buffers by PyTorch's names, training and
// evaluation behaviour.

@Test(arguments: CNNOpCase.all.filter { $0.op == "batchNorm" })
func batchNormRunningStatisticsMatchPyTorch(_ c: CNNOpCase) throws {
    let x = c.input("x")
    var model = Sequential<Double>(x.rank == 4 ? BatchNorm2d<Double>(features: x.shape[1], affine: c.inputNames.count == 3)
                                            : BatchNorm1d<Double>(features: x.shape[1], affine: c.inputNames.count == 3))
    if c.inputNames.count == 3 {
        var state = model.stateDict
        state["0.weight"] = c.input("weight")
        state["0.bias"] = c.input("bias")
        try model.loadStateDict(state)
    }
    #expect(model.namedBuffers.names == ["0.running_mean", "0.running_var", "0.num_batches_tracked"])
    func expectStatistics(_ key: String) {
        let expected = c.json[key] as! [String: Any]
        expectClose(model.namedBuffers["0.running_mean"]!, tensorFromShapedJSON(expected["running_mean"]!), tolerance: 1e-10, "\(key) running_mean")
        expectClose(model.namedBuffers["0.running_var"]!, tensorFromShapedJSON(expected["running_var"]!), tolerance: 1e-10, "\(key) running_var")
        #expect(model.namedBuffers["0.num_batches_tracked"]!.scalar == (expected["num_batches_tracked"] as! NSNumber).doubleValue)
    }
    let y = model.updatingBuffers { m in withLearningPhase(.training) { m(x) } }
    expectClose(y, c.tensor("output"), tolerance: 1e-10, "training output")
    expectStatistics("after_one")
    _ = model.updatingBuffers { m in withLearningPhase(.training) { m(c.tensor("second_batch")) } }
    expectStatistics("after_two")
    // A training-mode pass outside `updatingBuffers` leaves the statistics alone.
    _ = withLearningPhase(.training) { model(x) }
    expectStatistics("after_two")
    expectClose(model(c.tensor("evaluation_input")), c.tensor("evaluation_output"), tolerance: 1e-10, "evaluation output")
}

@Test func convolutionalLayersDeclareTheirTensorsUnderPyTorchsNames() {
    var rng = SeededGenerator(seed: 3)
    let conv = Conv2d<Float>(inChannels: 4, outChannels: 6, kernelSize: Size2D(3, 5), groups: 2, generator: &rng)
    #expect(conv.namedParameters.names == ["weight", "bias"])
    #expect(conv.weight.shape == [6, 2, 3, 5])
    // PyTorch's default initialisation: U(−1/√fan_in, 1/√fan_in), fan_in = (C/groups)·kh·kw = 30.
    let bound = 1 / Float(30).squareRoot()
    #expect(conv.weight.scalars.allSatisfy { Swift.abs($0) <= bound } && conv.bias!.scalars.allSatisfy { Swift.abs($0) <= bound })
    #expect(Conv2d<Float>(inChannels: 1, outChannels: 2, kernelSize: 3, bias: false, generator: &rng).parameterNames == ["weight"])
    #expect(BatchNorm2d<Float>(features: 3).stateDict.names == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
    #expect(BatchNorm1d<Float>(features: 3, affine: false).stateDict.names == ["running_mean", "running_var", "num_batches_tracked"])
    #expect(LayerNorm<Float>(normalizedShape: [2, 3]).parameterNames == ["weight", "bias"])
    #expect(Sequential<Float>(MaxPool2d(kernelSize: 2), AvgPool2d(kernelSize: 2), GlobalAvgPool2d(), Flatten(), Dropout()).stateDict.names.isEmpty)
}

@Test func poolingAndFlattenLayersGivePyTorchsShapes() {
    let x = Tensor<Float>.randomNormal([2, 3, 7, 9], generator: &rng7)
    #expect(MaxPool2d<Float>(kernelSize: 3, stride: 2, padding: 1)(x).shape == [2, 3, 4, 5])
    #expect(AvgPool2d<Float>(kernelSize: 2)(x).shape == [2, 3, 3, 4])
    #expect(GlobalAvgPool2d<Float>()(x).shape == [2, 3, 1, 1])
    #expect(Flatten<Float>()(x).shape == [2, 189])
}

nonisolated(unsafe) private var rng7 = SeededGenerator(seed: 7)

@Test func dropoutIsTheIdentityInEvaluationAndSeededInvertedMasksInTraining() {
    let x = Tensor<Float>.ones([100, 100])
    let layer = Dropout<Float>(probability: 0.3, seed: 5)
    #expect(layer(x) == x)   // evaluation (the default phase)
    let y = withLearningPhase(.training) { layer(x) }
    let kept = y.scalars.filter { $0 != 0 }
    #expect(kept.allSatisfy { Swift.abs($0 - 1 / 0.7) < 1e-6 })
    #expect(Swift.abs(Double(kept.count) / 10_000 - 0.7) < 0.03)
    let again = withLearningPhase(.training) { layer(x) }
    #expect(again != y, "each call draws a new mask")
    let fresh = Dropout<Float>(probability: 0.3, seed: 5)
    #expect(withLearningPhase(.training) { fresh(x) } == y, "the same seed gives the same masks")
    // Gradients flow through the kept elements only, scaled as the values.
    let g = withLearningPhase(.training) { gradient(at: x) { Dropout<Float>(probability: 0.3, seed: 5)($0).sum() } }
    #expect(g == y)
}

@Test func trainerStoresBatchNormRunningStatisticsAfterEveryStep() throws {
    var rng = SeededGenerator(seed: 1)
    let model = Sequential<Float>(Conv2d(inChannels: 1, outChannels: 2, kernelSize: 3, padding: 1, generator: &rng),
                                  BatchNorm2d(features: 2), ReLU(), Flatten(), Linear(inputs: 2 * 4 * 4, outputs: 3, generator: &rng),
                                  BatchNorm1d(features: 3))
    let x = Tensor<Float>.randomNormal([10, 1, 4, 4], mean: 2, generator: &rng)
    let data = try LabeledExamples(inputs: x, labels: (0..<10).map { $0 % 3 })
    var trainer = try Trainer(model: model, optimizer: SGD<Float>(learningRate: 0.01),
                              loop: TrainingLoop(epochs: 2, batchSize: 4, seed: 0), trainingData: data)
    try trainer.fit()
    let buffers = trainer.model.namedBuffers
    #expect(buffers["1.num_batches_tracked"]!.scalar == 6)   // 3 steps per epoch, 2 epochs
    #expect(buffers["5.num_batches_tracked"]!.scalar == 6)
    // The inputs have mean 2: the first conv's outputs are far from the initial running mean 0.
    #expect(buffers["1.running_mean"]!.scalars.allSatisfy { $0 != 0 })
    #expect(buffers["1.running_var"]!.scalars.allSatisfy { $0 != 1 })
}

// A CNN with every layer kind against PyTorch float32 (Fixtures/make_cnn_model.py): torch's
// trained state_dict (F32, num_batches_tracked I64) loads here and gives torch's evaluation
// outputs, and a model trained here loads into the PyTorch nn.Sequential with strict
// load_state_dict and gives ours. Float32 arithmetic in both, summed in different orders over
// at most 144 terms of O(1): we allow 1e-5·(1 + |torch|).

/// The Swift twin of make_cnn_model.py's `make_model()` (freshly initialised).
func interopCNN(seed: UInt64 = 1) -> Sequential<Float> {
    var rng = SeededGenerator(seed: seed)
    return Sequential<Float>(
        Conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, generator: &rng), BatchNorm2d(features: 4), ReLU(),
        MaxPool2d(kernelSize: 2),
        Conv2d(inChannels: 4, outChannels: 6, kernelSize: Size2D(3, 5), stride: Size2D(1, 2), padding: Size2D(1, 2), groups: 2,
               generator: &rng), ReLU(),
        AvgPool2d(kernelSize: 2, stride: 1, padding: 1), Dropout(probability: 0.25, seed: 3), Flatten(),
        Linear(inputs: 144, outputs: 16, generator: &rng), LayerNorm(normalizedShape: [16]), ReLU(), BatchNorm1d(features: 16),
        Linear(inputs: 16, outputs: 3, generator: &rng))
}

private func interopInputs() throws -> Tensor<Float> {
    tensorFromShapedJSON(try loadJSONFixture("cnn_model.json")["inputs"]!).converted(to: Float.self)
}

@Test func pytorchSavedCNNLoadsHereAndGivesItsEvaluationOutputs() throws {
    var model = interopCNN()
    let json = try loadJSONFixture("cnn_model.json")
    #expect(model.stateDict.names == json["names"] as! [String])
    try model.load(contentsOf: fixtureURL("cnn_model.safetensors").path)
    #expect(model.namedBuffers["1.num_batches_tracked"]!.scalar == 3)
    let outputs = model(try interopInputs()).converted(to: Double.self)
    expectClose(outputs, tensorFromJSON(json["outputs"]!), tolerance: 1e-5, "evaluation outputs")
}

/// torch's model after two SGD steps here (training mode: dropout masks and batch statistics
/// from this library, running statistics updated by the trainer's rule).
private func cnnTrainedHere() throws -> Sequential<Float> {
    var model = interopCNN()
    try model.load(contentsOf: fixtureURL("cnn_model.safetensors").path)
    let x = try interopInputs()
    let labels = [1, 0, 2, 2, 1]
    var sgd = SGD<Float>(learningRate: 0.05)
    for _ in 0..<2 {
        let grads = model.updatingBuffers { m in
            withLearningPhase(.training) { gradient(at: m) { Loss.softmaxCrossEntropy(logits: $0(x), labels: labels) } }
        }
        try sgd.update(&model, along: grads)
    }
    return model
}

@Test func cnnSavedHereLoadsIntoPyTorchWithTheSameOutputs() throws {
    let model = try cnnTrainedHere()
    #expect(model.namedBuffers["12.num_batches_tracked"]!.scalar == 5)
    if ProcessInfo.processInfo.environment["BACKPROP_REGENERATE_FIXTURES"] != nil {
        let written = try model.safeTensors(metadata: [:]).encoded()
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/cnn_here.safetensors")
        try written.write(to: source)
    }
    // The file PyTorch checked was written by this code from the same two steps. Its bytes
    // depend on the GEMM backend's rounding (the Swift kernels, the AVX2 kernels with FMA, or a
    // system BLAS), so the tensors are compared: each within 1e-4·(1 + |value|), the reach of a
    // few Float roundings through two SGD steps, far below any layout error (O(1)).
    let committed = try SafeTensors<Float>(contentsOf: fixtureURL("cnn_here.safetensors").path)
    #expect(Set(committed.names) == Set(model.stateDict.names),
            "cnn_here.safetensors is stale: BACKPROP_REGENERATE_FIXTURES=1 swift test --filter cnnSavedHere, then make_cnn_model.py --check it --write")
    for (name, tensor) in model.stateDict {
        expectClose(tensor.converted(to: Double.self), try #require(committed[name]).converted(to: Double.self), tolerance: 1e-4, name)
    }
    // ... and PyTorch's outputs from it are ours.
    var loaded = interopCNN()
    try loaded.load(committed, source: "cnn_here.safetensors")
    let torch = try loadJSONFixture("cnn_here.json")
    expectClose(loaded(try interopInputs()).converted(to: Double.self), tensorFromJSON(torch["outputs"]!), tolerance: 1e-5,
                "outputs of the CNN saved here, in PyTorch")
}

/// The 2×2, stride-2 max pooling runs without branches on the data: the same maxima and first
/// arg-max positions as a plain loop, with ties and NaNs (PyTorch's rule: a NaN always wins).
@Test func maxPool2x2MatchesAPlainLoopWithTiesAndNaNs() {
    var rng = SeededGenerator(seed: 4)
    var x = Tensor<Float>.randomNormal([2, 3, 6, 38], generator: &rng)
    for i in stride(from: 0, to: x.count, by: 7) { x.scalars[i] = 0.5 }       // ties
    x.scalars[5] = .nan; x.scalars[38 * 2 + 17] = .nan
    let (values, indices) = PoolingKernels.maxPool(x.scalars, PoolingGeometry(planes: 6, height: 6, width: 38, kernel: 2, stride: 2, padding: 0))
    var o = 0
    for plane in 0..<6 {
        for oh in 0..<3 {
            for ow in 0..<19 {
                var bestIndex = plane * 228 + 2 * oh * 38 + 2 * ow
                for (r, c) in [(0, 1), (1, 0), (1, 1)] {
                    let i = plane * 228 + (2 * oh + r) * 38 + 2 * ow + c
                    let (v, best) = (x.scalars[i], x.scalars[bestIndex])
                    if v > best || v.isNaN { bestIndex = i }
                }
                #expect(Int(indices[o]) == bestIndex, "window \(plane), \(oh), \(ow)")
                #expect(values[o] == x.scalars[bestIndex] || (values[o].isNaN && x.scalars[bestIndex].isNaN))
                o += 1
            }
        }
    }
}
