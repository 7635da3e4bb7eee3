import Foundation
import Testing
@testable import Backprop

// A nested model with a residual block, a custom layer with a learned parameter and a buffer,
// and two branches joined by concatenation, against PyTorch (float64):
// Fixtures/make_nested_model.py wrote nested_model.safetensors (torch's state_dict) and
// nested_model.json (logits, loss, gradients and two steps of SGD and Adam, by name).
//
// Tolerance: each compared value is at most a few dozen float64 operations deep (6-term dot
// products, tanh, a 3-way log-sum-exp, a 4-row batch sum, two optimizer updates) on O(1)
// values, so summation order and libm differences stay ~1e-14; we allow 1e-10·(1 + |torch|),
// far below any formula error (a missing weight-decay term alone moves a parameter by ~1e-4).
private let tolerance = 1e-10

/// y = x ⊙ scale + shift: `scale` is learned, `shift` is a buffer (PyTorch `register_buffer`).
struct Scale: Layer {
    var scale: Tensor<Double>
    var shift: Tensor<Double>

    init(_ n: Int) {
        scale = .ones([n])
        shift = .zeros([n])
    }

    mutating func visitTensors(with visitor: inout some TensorVisitor<Double>) {
        visitor.parameter("scale", &scale)
        visitor.buffer("shift", &shift)
    }

    func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> { x * scale + shift }
}

/// [left(x), right(x)] joined along the features.
struct TwoBranch: Layer {
    var left: Linear<Double>
    var right: Sequential<Double>

    mutating func visitTensors(with visitor: inout some TensorVisitor<Double>) {
        visitor.module("left", &left)
        visitor.module("right", &right)
    }

    func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> {
        .concatenating([left(x), right(x)], alongAxis: -1)
    }
}

/// The Swift twin of make_nested_model.py's `make_model()` (freshly initialised).
func nestedModel(seed: UInt64 = 1) -> Sequential<Double> {
    var rng = SeededGenerator(seed: seed)
    return Sequential<Double>(
        Linear(inputs: 5, outputs: 6, generator: &rng), Tanh(),
        Residual(Sequential<Double>(Linear(inputs: 6, outputs: 6, generator: &rng), ReLU(),
                                    Linear(inputs: 6, outputs: 6, generator: &rng))),
        Scale(6),
        TwoBranch(left: Linear(inputs: 6, outputs: 2, generator: &rng),
                  right: Sequential<Double>(Linear(inputs: 6, outputs: 3, generator: &rng), Tanh())),
        Linear(inputs: 5, outputs: 3, generator: &rng))
}

private struct NestedFixture {
    let json: [String: Any]
    let x: Tensor<Double>
    let labels: [Int]
    var model: Sequential<Double>

    init() throws {
        json = try loadJSONFixture("nested_model.json")
        x = tensorFromJSON(json["inputs"]!)
        labels = (json["labels"] as! [NSNumber]).map(\.intValue)
        model = nestedModel()
        try model.load(contentsOf: fixtureURL("nested_model.safetensors").path)
    }

    func loss(_ m: Sequential<Double>) -> Tensor<Double> { Loss.softmaxCrossEntropy(logits: m(x), labels: labels) }

    /// `json[key][name]`, or `json[key][name][sub]`, as tensors by parameter name (lists of
    /// names, such as `gradients.order`, are skipped).
    func named(_ key: String, _ sub: String? = nil) -> [String: Tensor<Double>] {
        (json[key] as! [String: Any]).compactMapValues { value in
            if let sub { return (value as? [String: Any])?[sub].map(tensorFromJSON) }
            guard let list = value as? [Any], !(list.first is String) else { return nil }
            return tensorFromJSON(list)
        }
    }
}

@Test func nestedModelNamesItsTensorsAsPyTorchStateDict() throws {
    let f = try NestedFixture()
    let gradients = f.json["gradients"] as! [String: Any]
    #expect(f.model.stateDict.names == gradients["order"] as! [String])
    #expect(f.model.parameterNames == gradients["parameters"] as! [String])
    #expect(f.model.namedBuffers.names == gradients["buffers"] as! [String])
    #expect(f.model.namedBuffers.names == ["3.shift"])
}

@Test func nestedModelGivesPyTorchsLogitsLossAndGradientsByName() throws {
    let f = try NestedFixture()
    expectClose(f.model(f.x), tensorFromJSON(f.json["logits"]!), tolerance: tolerance, "logits")
    let (loss, gradients) = valueWithGradient(at: f.model, of: f.loss)
    #expect(Swift.abs(loss.scalar - (f.json["loss"] as! NSNumber).doubleValue) <= tolerance)
    let expected = f.named("gradients")
    #expect(gradients.names == f.model.parameterNames)
    for (name, g) in gradients {
        expectClose(g, try #require(expected[name]), tolerance: tolerance, "∂L/∂\(name)")
    }
}

@Test(arguments: ["sgd", "adam"])
func optimizersOnTheNestedModelMatchPyTorchForTwoStepsWithStateByName(kind: String) throws {
    let f = try NestedFixture()
    var model = f.model
    var optimizer: any Optimizer<Double> = kind == "sgd"
        ? SGD<Double>(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        : Adam<Double>(learningRate: 0.01)
    let shiftBefore = model.namedBuffers["3.shift"]!
    for _ in 0..<2 {
        let (_, gradients) = valueWithGradient(at: model, of: f.loss)
        try optimizer.update(&model, along: gradients)
    }
    #expect(optimizer.step == 2)
    let expected = f.named(kind)
    for (name, p) in model.namedParameters {
        expectClose(p, try #require(expected[name]), tolerance: tolerance, "\(kind) \(name)")
    }
    #expect(model.namedBuffers["3.shift"] == shiftBefore, "an optimizer moved a buffer")
    let buffers = kind == "sgd" ? ["momentum_buffer"] : ["exp_avg", "exp_avg_sq"]
    #expect(optimizer.state.names.count == buffers.count * model.parameterNames.count)
    for buffer in buffers {
        let torchState = f.named("\(kind)_state", buffer)
        for name in model.parameterNames {
            expectClose(try #require(optimizer.state["\(buffer).\(name)"]), try #require(torchState[name]),
                        tolerance: tolerance, "\(buffer).\(name)")
        }
    }
}

/// The model written here: torch's weights moved by θ ← 0.75·θ + 0.125 (elementwise, so the
/// bytes do not depend on which GEMM backend runs) — Fixtures/nested_here.safetensors, which
/// make_nested_model.py --check loaded into the PyTorch module with strict load_state_dict,
/// recording its logits in nested_here.json.
private func modelWrittenHere() throws -> Sequential<Double> {
    let f = try NestedFixture()
    return f.model.replacingParameters(f.model.parameters.map { $0 * 0.75 + 0.125 })
}

@Test func nestedModelSavedHereLoadsIntoPyTorchWithTheSameOutputs() throws {
    let model = try modelWrittenHere()
    let written = try model.safeTensors(metadata: [:]).encoded()
    let committedURL = fixtureURL("nested_here.safetensors")
    if ProcessInfo.processInfo.environment["BACKPROP_REGENERATE_FIXTURES"] != nil {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/nested_here.safetensors")
        try written.write(to: source)
    }
    // The file PyTorch checked is byte for byte the file this code writes ...
    #expect(try Data(contentsOf: committedURL) == written,
            "nested_here.safetensors is stale: BACKPROP_REGENERATE_FIXTURES=1 swift test --filter nestedModelSaved, then make_nested_model.py --check it --write")
    // ... and PyTorch's outputs from it are ours.
    let torch = try loadJSONFixture("nested_here.json")
    let x = tensorFromJSON(try loadJSONFixture("nested_model.json")["inputs"]!)
    expectClose(model(x), tensorFromJSON(torch["logits"]!), tolerance: 1e-12, "logits of the model saved here, in PyTorch")
}

@Test func modelFilesRoundTripAnyModelWithItsBuffers() throws {
    var model = nestedModel(seed: 5)
    var shifted = model.stateDict
    shifted["3.shift"] = Tensor([1, 2, 3, 4, 5, 6])
    try model.loadStateDict(shifted)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nested-\(UUID().uuidString).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.write(to: path)
    var loaded = nestedModel(seed: 9)
    #expect(loaded.stateDict != model.stateDict)
    try loaded.load(contentsOf: path)
    #expect(loaded.stateDict == model.stateDict)
}
