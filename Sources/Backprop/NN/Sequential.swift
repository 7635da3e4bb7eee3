/// Layers applied one after another, as PyTorch's `nn.Sequential`.
///
/// Parameters are the layers' parameters in order; each is named `"<index>.<local name>"`
/// exactly as `nn.Sequential.state_dict()` names them (`"0.weight"`, `"0.bias"`, `"2.weight"`, …
/// where layer 1 is a parameterless activation).
///
///     var rng = SeededGenerator(seed: 0)
///     let model = Sequential<Float>(Linear(inputs: 64, outputs: 128, generator: &rng), ReLU(),
///                                   Linear(inputs: 128, outputs: 10, generator: &rng))
///     let logits = model(x)   // [B, 10]
public struct Sequential<Scalar: TensorScalar> {
    /// The layers, first applied first.
    public var layers: [any Layer<Scalar>]

    public init(_ layers: [any Layer<Scalar>]) {
        self.layers = layers
    }

    public init(_ layers: any Layer<Scalar>...) {
        self.init(layers)
    }

    /// The composition: layers[n−1](… layers[0](x)).
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        layers.reduce(x) { $1($0) }
    }

    /// Every layer's parameters, in layer order. Setting splits the list back by layer.
    public var parameters: [Tensor<Scalar>] {
        get { layers.flatMap { $0.parameters } }
        set {
            let counts = layers.map { $0.parameters.count }
            let total = counts.reduce(0, +)
            precondition(newValue.count == total, "Sequential.parameters: \(newValue.count) tensors for \(total) parameters")
            var start = 0
            for (i, n) in counts.enumerated() {
                if n > 0 { layers[i].parameters = Array(newValue[start..<(start + n)]) }
                start += n
            }
        }
    }

    /// The `state_dict` name of each parameter, in the order of `parameters`.
    public var parameterNames: [String] {
        layers.enumerated().flatMap { i, layer in layer.parameterNames.map { "\(i).\($0)" } }
    }

    /// The parameters with their `state_dict` names.
    public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
        Array(zip(parameterNames, parameters)).map { (name: $0.0, tensor: $0.1) }
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// A copy whose parameters are `parameters` (for differentiating with respect to them).
    public func replacingParameters(_ parameters: [Tensor<Scalar>]) -> Sequential {
        var copy = self
        copy.parameters = parameters
        return copy
    }
}
