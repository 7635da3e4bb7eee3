/// A differentiable map from a batch of inputs to a batch of outputs, with trainable tensors.
///
/// Layers are thin: their parameters plus a call of tensor operations. Parameters are listed
/// by key path (`parameterPaths`), each with the local name PyTorch's `state_dict` gives it
/// (`"weight"`, `"bias"`), so they can be enumerated, replaced by tracked variables for a
/// gradient, updated by an optimizer and saved — without string-keyed reflection.
///
///     var layer = Linear<Float>(inputs: 4, outputs: 3, generator: &rng)
///     let (loss, grads) = valueWithGradient(at: layer.parameters) { ps in
///         var l = layer; l.parameters = ps; return l(x).sum()
///     }
public protocol Layer<Scalar> {
    associatedtype Scalar: TensorScalar
    /// The trainable tensors, in a fixed order, with their local `state_dict` names.
    var parameterPaths: [(name: String, path: WritableKeyPath<Self, Tensor<Scalar>>)] { get }
    /// The trainable tensors in `parameterPaths` order; setting assigns them in that order.
    /// The default goes through the key paths; a layer on a training loop's hot path (`Linear`)
    /// implements it directly, since a generic type's key paths are built anew at each access.
    var parameters: [Tensor<Scalar>] { get set }
    /// The layer applied to `x` (one example [N] or a batch [B, N]).
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>
}

extension Layer {
    /// The trainable tensors in `parameterPaths` order. Setting assigns them in the same order
    /// (the count must match).
    public var parameters: [Tensor<Scalar>] {
        get { parameterPaths.map { self[keyPath: $0.path] } }
        set {
            let paths = parameterPaths
            precondition(newValue.count == paths.count,
                         "\(Self.self).parameters: \(newValue.count) tensors for \(paths.count) parameters")
            for (p, value) in zip(paths, newValue) {
                precondition(value.shape == self[keyPath: p.path].shape,
                             "\(Self.self).\(p.name): shape \(value.shape) does not match \(self[keyPath: p.path].shape)")
                self[keyPath: p.path] = value
            }
        }
    }

    /// The local names of the parameters (`"weight"`, `"bias"`), in order.
    public var parameterNames: [String] { parameterPaths.map(\.name) }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// A layer with no parameters supplies an empty list.
public protocol ParameterlessLayer: Layer {}

extension ParameterlessLayer {
    public var parameterPaths: [(name: String, path: WritableKeyPath<Self, Tensor<Scalar>>)] { [] }

    /// None; setting accepts only the empty list. (Direct, not through `parameterPaths`: a
    /// `Sequential` reads every layer's list on each training step.)
    public var parameters: [Tensor<Scalar>] {
        get { [] }
        set { precondition(newValue.isEmpty, "\(Self.self).parameters: \(newValue.count) tensors for a layer without parameters") }
    }
}
