// The compiler's tangent vectors in the library's names, so its optimizers take them.

import Backprop
import _Differentiation

extension Module where Self: Differentiable {
    /// The tensors of `tangent` by this model's parameter names (`"l1.weight"`, `"0.bias"`, …,
    /// as `namedParameters`), each of its parameter's shape.
    ///
    /// The model's tangent type is usually synthesized and cannot be walked by name, so a copy
    /// of the model with every parameter set to the zero tangent is moved by `tangent`: its
    /// `move(by:)` (synthesized, or the library layers' from this module) adds each field of the
    /// tangent to its parameter, and adding to the zero tangent returns the tangent's tensor
    /// itself, so no scalar is copied. A parameter that the tangent does not reach (unused by the
    /// loss, or `@noDerivative`) gets zeros.
    public func namedTensors(of tangent: TangentVector) -> NamedTensors<Scalar> {
        var copy = self
        var zeroing = ParameterZeroing<Scalar>()
        copy.visitTensors(with: &zeroing)
        copy.move(by: tangent)
        let named = copy.namedParameters
        return NamedTensors(names: named.names,
                            tensors: zip(named.tensors, zeroing.shapes).map { $0.materialized(toShape: $1) })
    }
}

extension Optimizer {
    /// One step along the compiler's gradient of a model (`gradient(at: model) { … }`): the
    /// library's update, with the tangent read by parameter name (`namedTensors(of:)`).
    ///
    /// - Throws: `OptimizerError` when a gradient's shape is not its parameter's.
    public mutating func update<Model: Module<Scalar> & Differentiable>(_ model: inout Model,
                                                                        along gradient: Model.TangentVector) throws {
        try update(&model, along: model.namedTensors(of: gradient))
    }
}

/// Sets every parameter to the zero tangent, remembering the shapes in visiting order.
private struct ParameterZeroing<Scalar: TensorScalar>: TensorVisitor {
    var path = ModulePath()
    var shapes: [[Int]] = []

    mutating func visit(_ tensor: inout Tensor<Scalar>, name: String, role: TensorRole) {
        guard role == .parameter else { return }
        shapes.append(tensor.shape)
        tensor = .zero
    }
}
