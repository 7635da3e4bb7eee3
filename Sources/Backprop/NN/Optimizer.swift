/// An update rule for a list of parameters, with PyTorch's definitions (`torch.optim`).
///
/// An optimizer is its hyperparameters plus its state (momentum buffers, moment estimates, the
/// step count); `update` applies one step in place. The state can be listed and restored by
/// name, so a checkpoint resumes exactly where training stopped.
public protocol Optimizer<Scalar> {
    associatedtype Scalar: TensorScalar
    /// The step size η (a schedule may change it between steps).
    var learningRate: Scalar { get set }
    /// The number of `update` calls so far.
    var step: Int { get }
    /// One step: each parameter moves using its gradient (same order, same shapes).
    mutating func update(_ parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>])
    /// The state tensors, named `"<buffer>.<parameter index>"` (e.g. `"exp_avg.0"`).
    var stateTensors: [(name: String, tensor: Tensor<Scalar>)] { get }
    /// Restores state saved from `stateTensors` and `step`; throws if a buffer is missing or
    /// has the wrong shape for `parameters`.
    mutating func restore(step: Int, stateTensors: [String: Tensor<Scalar>], parameters: [Tensor<Scalar>]) throws
}

/// A problem restoring optimizer state from a checkpoint.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

extension Optimizer {
    /// Buffers named `name.i` for each parameter, each with the parameter's shape.
    static func buffers(_ name: String, from state: [String: Tensor<Scalar>],
                        matching parameters: [Tensor<Scalar>]) throws -> [Tensor<Scalar>] {
        try parameters.indices.map { i in
            guard let t = state["\(name).\(i)"] else {
                throw OptimizerStateError(description: "optimizer state \"\(name).\(i)\" is missing")
            }
            guard t.shape == parameters[i].shape else {
                throw OptimizerStateError(description: "optimizer state \"\(name).\(i)\" has shape \(t.shape), expected \(parameters[i].shape)")
            }
            return t
        }
    }
}

/// Σ‖gᵢ‖² over all gradients, then every gradient scaled by c = maxNorm/(‖g‖ + 10⁻⁶) when
/// c < 1 — PyTorch's `clip_grad_norm_`. Returns the total norm before clipping.
@discardableResult
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func clipByGlobalNorm<Scalar>(_ gradients: inout [Tensor<Scalar>], maxNorm: Scalar) -> Scalar {
    var sumOfSquares: Scalar = 0
    for g in gradients { for v in g.scalars { sumOfSquares += v * v } }
    let norm = sumOfSquares.squareRoot()
    let coefficient = maxNorm / (norm + Scalar(1e-6))
    if coefficient < 1 {
        for i in gradients.indices { gradients[i].scalars = gradients[i].scalars.map { $0 * coefficient } }
    }
    return norm
}
