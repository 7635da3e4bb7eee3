/// An update rule for the parameters of a model, with PyTorch's definitions (`torch.optim`).
///
/// An optimizer is its hyperparameters plus its state (momentum buffers, moment estimates, the
/// step count). `update` moves every parameter of a model in place from its gradient, found by
/// name; state is kept by parameter name, so it can be saved with any model
/// (`"exp_avg.0.weight"`) and checked against the model when it is loaded.
///
///     var optimizer = Adam<Float>(learningRate: 1e-3)
///     let (_, grads) = valueWithGradient(at: model) { m in loss(m) }
///     try optimizer.update(&model, along: grads)
public protocol Optimizer<Scalar>: Sendable {
    /// The scalar type of the parameters it updates.
    associatedtype Scalar: TensorScalar
    /// The step size η (a schedule may change it between steps).
    var learningRate: Scalar { get set }
    /// The number of `update` calls so far.
    var step: Int { get }
    /// One step: each parameter of `model` moves using the gradient of the same name.
    ///
    /// - Throws: `OptimizerError` — before anything changes — when a parameter has no gradient,
    ///   a gradient names no parameter, or a gradient's shape is not its parameter's.
    mutating func update<Model: Module<Scalar>>(_ model: inout Model, along gradients: NamedTensors<Scalar>) throws
    /// The state tensors, named `"<buffer>.<parameter name>"` (e.g. `"exp_avg.0.weight"`).
    var state: NamedTensors<Scalar> { get }
    /// Restores state saved from `state` and `step` for the parameters of `model`.
    ///
    /// - Throws: `OptimizerError` when a buffer is missing, unexpected or has the wrong shape.
    mutating func loadState(_ state: NamedTensors<Scalar>, step: Int, for model: some Module<Scalar>) throws
}

extension Optimizer {
    /// Checks `gradients` against the parameters of `model` (names and shapes), then calls
    /// `body` with each parameter's name, scalars (to update in place) and gradient, in
    /// declaration order.
    static func forEachParameter<Model: Module<Scalar>>(
        of model: inout Model, gradients: NamedTensors<Scalar>,
        _ body: (_ name: String, _ parameter: inout [Scalar], _ gradient: ParameterGradient<Scalar>) -> Void) throws {
        let parameters = model.collectTensors(role: .parameter)
        var positions: [Int] = []
        positions.reserveCapacity(parameters.names.count)
        for (i, name) in parameters.names.enumerated() {
            guard let k = gradients.position(of: name) else { throw OptimizerError.missingGradient(name) }
            let shape = gradients.shape(at: k)
            guard shape == parameters.tensors[i].shape else {
                throw OptimizerError.gradientShape(name: name, expected: parameters.tensors[i].shape, found: shape)
            }
            positions.append(k)
        }
        if gradients.count != parameters.names.count {
            let known = Set(parameters.names)
            if let extra = gradients.names.first(where: { !known.contains($0) }) { throw OptimizerError.unexpectedGradient(extra) }
        }
        withoutActuallyEscaping(body) { body in
            var updater = ParameterUpdater(gradients: gradients, positions: positions, body: body)
            model.visitTensors(with: &updater)
        }
    }

    /// The saved buffers `"<kind>.<parameter name>"` for every parameter of `model`, each of its
    /// parameter's shape, keyed by parameter name in declaration order.
    static func buffers(_ kind: String, from state: NamedTensors<Scalar>,
                        for model: some Module<Scalar>) throws -> NamedTensors<Scalar> {
        let parameters = model.collectTensors(role: .parameter)
        var out = NamedTensors<Scalar>()
        for (name, p) in zip(parameters.names, parameters.tensors) {
            let key = "\(kind).\(name)"
            guard let t = state[key] else { throw OptimizerError.missingState(key) }
            guard t.shape == p.shape else { throw OptimizerError.stateShape(name: key, expected: p.shape, found: t.shape) }
            out[name] = t.detached
        }
        return out
    }

    /// Throws for the first name in `state` that is not `"<kind>.<parameter>"` for one of `kinds`.
    static func rejectUnexpectedState(_ state: NamedTensors<Scalar>, kinds: [String], for model: some Module<Scalar>) throws {
        let expected = Set(model.parameterNames.flatMap { name in kinds.map { "\($0).\(name)" } })
        if let extra = state.names.first(where: { !expected.contains($0) }) { throw OptimizerError.unexpectedState(extra) }
    }

    /// Buffers keyed by parameter name, written out as `"<kind>.<parameter name>"`.
    static func stateEntries(_ kind: String, _ buffers: NamedTensors<Scalar>) -> [(name: String, tensor: Tensor<Scalar>)] {
        buffers.map { (name: "\(kind).\($0.name)", tensor: $0.tensor) }
    }
}

/// A parameter's gradient as an optimizer receives it: its scalars, or — for a dense layer's
/// weight from `valueWithGradient(at: model)` — possibly the product Gᵀ·X not yet evaluated.
struct ParameterGradient<Scalar: TensorScalar> {
    let gradients: NamedTensors<Scalar>
    let position: Int

    /// The gradient's shape (the parameter's), without evaluating anything.
    var shape: [Int] { gradients.shape(at: position) }

    /// The gradient's scalars (evaluating a pending product).
    var scalars: [Scalar] { gradients.tensor(at: position).scalars }

    /// The gradient as a product still to be computed, or nil when it is a tensor or has been
    /// read already (then `scalars` costs nothing more).
    var unevaluatedProduct: DeferredProduct<Scalar>? {
        guard let product = gradients.pendingProduct(at: position), !product.isEvaluated else { return nil }
        return product
    }
}

/// Walks the parameters, handing each one's scalars and its (already checked) gradient to `body`.
private struct ParameterUpdater<Scalar: TensorScalar>: TensorVisitor {
    var path = ModulePath()
    let gradients: NamedTensors<Scalar>
    let positions: [Int]
    let body: (String, inout [Scalar], ParameterGradient<Scalar>) -> Void
    var next = 0

    mutating func visit(_ tensor: inout Tensor<Scalar>, name: String, role: TensorRole) {
        guard role == .parameter else { return }
        tensor.node = nil
        body(path.qualifiedName(name), &tensor.scalars, ParameterGradient(gradients: gradients, position: positions[next]))
        next += 1
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

/// `clipByGlobalNorm` for a model's gradients by name.
@discardableResult
public func clipByGlobalNorm<Scalar>(_ gradients: inout NamedTensors<Scalar>, maxNorm: Scalar) -> Scalar {
    clipByGlobalNorm(&gradients.tensors, maxNorm: maxNorm)
}
