// Derivatives of the reductions (Rules/Reduction.swift), routed to the library's rules.

import Backprop
import _Differentiation

extension Tensor {
    @derivative(of: sum(alongAxis:keepingDimension:))
    public func _vjpSumAlongAxis(alongAxis axis: Int, keepingDimension: Bool) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.sum(alongAxis: axis, keepingDimension: keepingDimension) }
    }

    @derivative(of: sum(alongAxis:keepingDimension:))
    public func _jvpSumAlongAxis(alongAxis axis: Int, keepingDimension: Bool) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.sum(alongAxis: axis, keepingDimension: keepingDimension) }
    }

    @derivative(of: sum())
    public func _vjpSum() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.sum() }
    }

    @derivative(of: sum())
    public func _jvpSum() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.sum() }
    }

    @derivative(of: mean(alongAxis:keepingDimension:))
    public func _vjpMeanAlongAxis(alongAxis axis: Int, keepingDimension: Bool) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.mean(alongAxis: axis, keepingDimension: keepingDimension) }
    }

    @derivative(of: mean(alongAxis:keepingDimension:))
    public func _jvpMeanAlongAxis(alongAxis axis: Int, keepingDimension: Bool) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.mean(alongAxis: axis, keepingDimension: keepingDimension) }
    }

    @derivative(of: mean())
    public func _vjpMean() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.mean() }
    }

    @derivative(of: mean())
    public func _jvpMean() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.mean() }
    }

    @derivative(of: max(alongAxis:keepingDimension:))
    public func _vjpMaxAlongAxis(alongAxis axis: Int, keepingDimension: Bool) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.max(alongAxis: axis, keepingDimension: keepingDimension) }
    }

    @derivative(of: max(alongAxis:keepingDimension:))
    public func _jvpMaxAlongAxis(alongAxis axis: Int, keepingDimension: Bool) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.max(alongAxis: axis, keepingDimension: keepingDimension) }
    }
}
