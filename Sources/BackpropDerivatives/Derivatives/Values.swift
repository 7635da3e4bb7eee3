// Derivatives of reading a tensor's value, making a rank-0 tensor and detaching: the bridges
// between tensors and Swift's `Float`/`Double`, so a loss can end in `.scalar` and be
// differentiated with `gradient(at:of:)`.

import Backprop
import _Differentiation

extension Tensor where Scalar: Differentiable, Scalar.TangentVector == Scalar {
    /// ∂scalar/∂self: the cotangent g becomes a tensor of this shape holding g.
    @derivative(of: scalar)
    public func _vjpScalar() -> (value: Scalar, pullback: (Scalar) -> Tensor) {
        let shape = self.shape
        return (scalar, { Tensor(shape: shape, scalars: [$0]) })
    }

    @derivative(of: scalar)
    public func _jvpScalar() -> (value: Scalar, differential: (Tensor) -> Scalar) {
        (scalar, { $0.scalar })
    }

    /// The rank-0 tensor holding `value`: its cotangent's one element is value's.
    @derivative(of: init(_:))
    public static func _vjpInit(_ value: Scalar) -> (value: Tensor, pullback: (Tensor) -> Scalar) {
        (Tensor(value), { $0.scalar })
    }

    @derivative(of: init(_:))
    public static func _jvpInit(_ value: Scalar) -> (value: Tensor, differential: (Scalar) -> Tensor) {
        (Tensor(value), { Tensor($0) })
    }
}

extension Tensor {
    /// A detached tensor is a constant: its derivative is zero (a stop-gradient, as on the tape).
    @derivative(of: detached)
    public func _vjpDetached() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        (detached, { _ in .zero })
    }

    @derivative(of: detached)
    public func _jvpDetached() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        (detached, { _ in .zero })
    }
}
