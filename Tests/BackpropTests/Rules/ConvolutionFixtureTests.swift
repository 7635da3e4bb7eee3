import Foundation
import Testing
@testable import Backprop

// Convolution, pooling, batch and layer normalisation against PyTorch float64
// (Fixtures/make_cnn_ops.py → cnn_ops.json): batch 3, 7×9 images, stride 2, padding 1,
// dilation 2, groups 2, a 3×5 kernel, alone and together. Each case holds the inputs, a random
// upstream gradient u, the output y and the gradients of Σ y ⊙ u.
//
// Tolerances: in Double every value is a sum of at most a few hundred products of O(1) numbers
// (a 3×5 kernel over 2 channels, or a 3·7·9 = 189-value batch statistic), so summation order
// leaves ~1e-13; we allow 1e-10·(1 + |torch|). In Float the same inputs are rounded to 24 bits
// and summed in Float: we allow 1e-4·(1 + |torch|).

/// A tensor from `{"shape": [...], "data": [...]}`.
func tensorFromShapedJSON(_ value: Any) -> Tensor<Double> {
    let object = value as! [String: Any]
    return Tensor(shape: (object["shape"] as! [NSNumber]).map(\.intValue), scalars: (object["data"] as! [NSNumber]).map(\.doubleValue))
}

struct CNNOpCase: CustomTestStringConvertible, @unchecked Sendable {  // immutable JSON
    let name: String
    let op: String
    let json: [String: Any]

    var testDescription: String { name }
    var settings: [String: Any] { json["settings"] as! [String: Any] }
    func pair(_ key: String) -> Size2D {
        let v = (settings[key] as! [NSNumber]).map(\.intValue)
        return Size2D(v[0], v[1])
    }
    var inputNames: [String] { ["x", "weight", "bias"].filter { (json["inputs"] as! [String: Any])[$0] != nil } }
    func input(_ name: String) -> Tensor<Double> { tensorFromShapedJSON((json["inputs"] as! [String: Any])[name]!) }
    func gradient(_ name: String) -> Tensor<Double> { tensorFromShapedJSON((json["gradients"] as! [String: Any])[name]!) }
    func tensor(_ key: String) -> Tensor<Double> { tensorFromShapedJSON(json[key]!) }
    var epsilon: Double { (settings["epsilon"] as? NSNumber)?.doubleValue ?? 1e-5 }

    /// The case's op on `inputs` (x, then weight and bias when the case has them).
    func apply<S: TensorScalar>(_ p: [Tensor<S>]) -> Tensor<S> {
        let weight = p.count > 1 ? p[1] : nil, bias = p.count > 2 ? p[2] : nil
        switch op {
        case "conv2d":
            return .conv2d(p[0], weight: p[1], bias: bias, stride: pair("stride"), padding: pair("padding"),
                           dilation: pair("dilation"), groups: (settings["groups"] as! NSNumber).intValue)
        case "maxPool2d": return p[0].maxPool2d(kernel: pair("kernel"), stride: pair("stride"), padding: pair("padding"))
        case "avgPool2d": return p[0].avgPool2d(kernel: pair("kernel"), stride: pair("stride"), padding: pair("padding"))
        case "globalAvgPool2d": return p[0].globalAvgPool2d()
        case "batchNorm": return Tensor.batchNormalization(p[0], weight: weight, bias: bias, epsilon: S(epsilon)).output
        case "layerNorm":
            return .layerNormalization(p[0], normalizedShape: (settings["normalized_shape"] as! [NSNumber]).map(\.intValue),
                                       weight: weight, bias: bias, epsilon: S(epsilon))
        default: fatalError("unknown op \(op)")
        }
    }

    static let all: [CNNOpCase] = {
        // A test argument list cannot throw: a missing or unreadable fixture stops the run, naming it.
        guard let url = Bundle.module.url(forResource: "cnn_ops", withExtension: "json", subdirectory: "Fixtures") else {
            fatalError("Fixtures/cnn_ops.json is not in the test bundle")
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
                fatalError("Fixtures/cnn_ops.json: the top level is not an object")
            }
            object = parsed
        } catch {
            fatalError("Fixtures/cnn_ops.json: \(error)")
        }
        return (object["cases"] as! [[String: Any]]).map {
            CNNOpCase(name: $0["name"] as! String, op: $0["op"] as! String, json: $0)
        }
    }()
}

/// Output and gradients in scalar type S, converted back to Double.
private func outputAndGradients<S: TensorScalar>(_ c: CNNOpCase, _: S.Type) -> (Tensor<Double>, [Tensor<Double>]) {
    let inputs = c.inputNames.map { c.input($0).converted(to: S.self) }
    let (y, pullback) = valueWithPullback(at: inputs) { c.apply($0) }
    let grads = pullback(c.tensor("upstream").converted(to: S.self))
    return (y.converted(to: Double.self), grads.map { $0.converted(to: Double.self) })
}

@Test(arguments: CNNOpCase.all)
func convolutionalOpsMatchPyTorchInDouble(_ c: CNNOpCase) {
    let (y, grads) = outputAndGradients(c, Double.self)
    expectClose(y, c.tensor("output").reshaped(y.shape), tolerance: 1e-10, "\(c.name): y")
    for (name, g) in zip(c.inputNames, grads) {
        expectClose(g, c.gradient(name), tolerance: 1e-10, "\(c.name): ∂L/∂\(name)")
    }
}

@Test(arguments: CNNOpCase.all)
func convolutionalOpsMatchPyTorchInFloat(_ c: CNNOpCase) {
    let (y, grads) = outputAndGradients(c, Float.self)
    expectClose(y, c.tensor("output").reshaped(y.shape), tolerance: 1e-4, "\(c.name): y")
    for (name, g) in zip(c.inputNames, grads) {
        expectClose(g, c.gradient(name), tolerance: 1e-4, "\(c.name): ∂L/∂\(name)")
    }
}

/// The fused backward kernels and the composed formulas (used when the backward pass is
/// itself recorded) give the same gradients.
@Test(arguments: CNNOpCase.all.filter { $0.op == "batchNorm" || $0.op == "layerNorm" })
func normalizationFusedAndComposedBackwardAgree(_ c: CNNOpCase) {
    let (_, fused) = outputAndGradients(c, Double.self)
    let (_, composed) = DifferentiationContext.$fusedKernelsDisabled.withValue(true) { outputAndGradients(c, Double.self) }
    for (a, b) in zip(fused, composed) { expectClose(a, b, tolerance: 1e-12, c.name) }
}
