// Derivatives of the elementwise functions (Rules/ElementaryFunctions.swift), each routed to
// the library's rule (a fused kernel where the library has one, as relu's).

import Backprop
import _Differentiation

extension Tensor {
    @derivative(of: exp)
    public func _vjpExp() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.exp() }
    }

    @derivative(of: exp)
    public func _jvpExp() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.exp() }
    }

    @derivative(of: log)
    public func _vjpLog() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.log() }
    }

    @derivative(of: log)
    public func _jvpLog() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.log() }
    }

    @derivative(of: tanh)
    public func _vjpTanh() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.tanh() }
    }

    @derivative(of: tanh)
    public func _jvpTanh() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.tanh() }
    }

    @derivative(of: sigmoid)
    public func _vjpSigmoid() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.sigmoid() }
    }

    @derivative(of: sigmoid)
    public func _jvpSigmoid() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.sigmoid() }
    }

    @derivative(of: sqrt)
    public func _vjpSqrt() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.sqrt() }
    }

    @derivative(of: sqrt)
    public func _jvpSqrt() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.sqrt() }
    }

    @derivative(of: abs)
    public func _vjpAbs() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.abs() }
    }

    @derivative(of: abs)
    public func _jvpAbs() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.abs() }
    }

    @derivative(of: relu)
    public func _vjpRelu() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.relu() }
    }

    @derivative(of: relu)
    public func _jvpRelu() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.relu() }
    }

    @derivative(of: erf)
    public func _vjpErf() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.erf() }
    }

    @derivative(of: erf)
    public func _jvpErf() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.erf() }
    }

    @derivative(of: gelu)
    public func _vjpGelu() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.gelu() }
    }

    @derivative(of: gelu)
    public func _jvpGelu() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.gelu() }
    }

    @derivative(of: squared)
    public func _vjpSquared() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.squared() }
    }

    @derivative(of: squared)
    public func _jvpSquared() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.squared() }
    }

    /// x^p for a constant exponent p.
    @derivative(of: pow, wrt: self)
    public func _vjpPow(_ p: Scalar) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.pow(p) }
    }

    @derivative(of: pow, wrt: self)
    public func _jvpPow(_ p: Scalar) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.pow(p) }
    }
}
