// Swift's differentiable programming on Backprop: `import BackpropDifferentiable` (with
// `import _Differentiation` for the attributes and transforms) brings the conformances and
// derivatives of BackpropDerivatives, the library layers' `DifferentiableLayer` conformances
// and `Chain`.
//
// The conformances live in this module, not beside the derivatives: a `@differentiable`
// protocol requirement is met by a declaration without the attribute (the library's
// `callAsFunction`) only when its derivative comes from another module than the conformance.

@_exported import BackpropDerivatives
import Backprop
import _Differentiation

extension Linear: DifferentiableLayer {}
extension ReLU: DifferentiableLayer {}
extension Tanh: DifferentiableLayer {}
extension Sigmoid: DifferentiableLayer {}
extension GELU: DifferentiableLayer {}
extension Softmax: DifferentiableLayer {}
extension Conv2d: DifferentiableLayer {}
extension MaxPool2d: DifferentiableLayer {}
extension AvgPool2d: DifferentiableLayer {}
extension GlobalAvgPool2d: DifferentiableLayer {}
extension Flatten: DifferentiableLayer {}
extension BatchNorm1d: DifferentiableLayer {}
extension BatchNorm2d: DifferentiableLayer {}
extension LayerNorm: DifferentiableLayer {}
extension Dropout: DifferentiableLayer {}
// `Residual` is Differentiable (its call differentiates inside a model) but not a
// DifferentiableLayer: that conditional conformance crashes the Swift 6.3.1 compiler in IRGen
// (bench/differentiable-limits/residual-conformance-crash.swift).

/// Two layers applied one after the other, `second(first(x))`: a differentiable composition.
///
/// `Sequential` holds `[any Layer]`, and an array of existentials has no tangent type, so a
/// `Sequential` cannot be differentiated by Swift. `Chain` nests instead —
/// `Chain(Linear(…), Chain(ReLU(), Linear(…)))` — and its tangent is synthesized. Its tensors
/// are named `"0.<first's names>"` and `"1.<second's names>"`.
public struct Chain<First: DifferentiableLayer, Second: DifferentiableLayer>: DifferentiableLayer
where First.Scalar == Second.Scalar {
    /// The scalar type of both layers.
    public typealias Scalar = First.Scalar
    /// Applied first.
    public var first: First
    /// Applied to the first's output.
    public var second: Second

    /// The composition `second(first(x))`: `first`'s output must fit `second`'s input.
    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    /// Declares `first` as the submodule `"0"` and `second` as `"1"` (`"0.weight"`, and in a
    /// nested chain `"1.0.weight"`, …).
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        visitor.module("0", &first)
        visitor.module("1", &second)
    }

    /// second(first(x)), differentiable with respect to both layers and x: the pullback runs
    /// `second`'s, then `first`'s, and the chain's tangent holds theirs.
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        second(first(x))
    }
}
