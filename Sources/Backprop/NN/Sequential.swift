import BackpropKernels

/// Layers applied one after another, as PyTorch's `nn.Sequential`; itself a layer, so it nests.
///
/// Layer i's tensors are named `"<i>.<its names>"` exactly as `nn.Sequential.state_dict()`
/// names them: `"0.weight"`, `"0.bias"`, `"2.weight"` (layer 1 being a parameterless
/// activation), and `"2.1.bias"` for a `Sequential` nested at index 2.
///
///     var rng = SeededGenerator(seed: 0)
///     let model = Sequential<Float>(Linear(inputs: 64, outputs: 128, generator: &rng), ReLU(),
///                                   Linear(inputs: 128, outputs: 10, generator: &rng))
///     let logits = model(x)   // [B, 10]
public struct Sequential<Scalar: TensorScalar>: Layer {
    /// The layers, first applied first.
    public var layers: [any Layer<Scalar>]

    /// The layers in the order they are applied (an empty list is the identity).
    public init(_ layers: [any Layer<Scalar>]) {
        self.layers = layers
    }

    /// The layers in the order they are applied.
    public init(_ layers: any Layer<Scalar>...) {
        self.init(layers)
    }

    /// Declares layer i as the submodule `"<i>"`, in order.
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        for i in layers.indices { visitor.module(String(i), &layers[i]) }
    }

    /// The composition: layers[n−1](… layers[0](x)).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        layers.reduce(x) { $1($0) }
    }
}

/// x + f(x): a block whose output adds its input back (He et al., 2016). `body` must keep the
/// shape of its input. Its tensors are named `"body.<their names>"`.
///
///     let block = Residual(Sequential<Float>(Linear(inputs: 64, outputs: 64, generator: &rng), ReLU()))
public struct Residual<Body: Layer>: Layer {
    /// The body's scalar type.
    public typealias Scalar = Body.Scalar
    /// f.
    public var body: Body

    /// The block x + `body`(x).
    public init(_ body: Body) { self.body = body }

    /// Declares `body` as the submodule `"body"`.
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        visitor.module("body", &body)
    }

    /// x + f(x), the shape of x. Stops with a message when f changes the shape.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let y = body(x)
        require(y.shape == x.shape, "Residual: the body maps shape \(x.shape) to \(y.shape); x + f(x) needs equal shapes")
        return x + y
    }
}
