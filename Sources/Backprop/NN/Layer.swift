/// A module that maps a batch of inputs to a batch of outputs: y = f(x; θ).
///
/// A layer is its tensors (declared once in `visitTensors(with:)`, see `Module`) plus a call of
/// differentiable tensor operations. Layers compose: `Sequential` is a layer, and any struct
/// whose fields are layers is a layer once it declares them as submodules.
///
///     struct Residual: Layer {
///         var body: Sequential<Float>
///         mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
///             visitor.module("body", &body)
///         }
///         func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { x + body(x) }
///     }
public protocol Layer<Scalar>: Module {
    /// The scalar type (`Module.Scalar`, restated so a conforming type's `Scalar` is inferred
    /// from its `callAsFunction`).
    associatedtype Scalar
    /// The layer applied to `x` (one example, or a batch with examples along the first axis).
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>
}

/// A layer with no tensors of its own (an activation, a reshape).
public protocol ParameterlessLayer: Layer {}

extension ParameterlessLayer {
    /// Nothing to declare.
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {}
}
