import BackpropKernels

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, exactly
/// as PyTorch's `torch.optim.SGD` (dampening 0):
///
///     g ← ∇ + λ·θ                         (weight decay λ)
///     b ← g on the first step, else μ·b + g   (momentum μ > 0)
///     g ← g + μ·b  (Nesterov)   or   g ← b
///     θ ← θ − η·g
///
/// State: one momentum buffer per parameter, saved as `"momentum_buffer.<parameter name>"`.
public struct SGD<Scalar: TensorScalar>: Optimizer {
    /// η, the step size.
    public var learningRate: Scalar
    /// μ, 0 for plain SGD.
    public var momentum: Scalar
    /// Use the Nesterov form g + μ·b.
    public var nesterov: Bool
    /// λ, added to the gradient as λ·θ.
    public var weightDecay: Scalar
    /// The number of updates so far.
    public private(set) var step = 0
    /// b per parameter name (empty until the first step, and when μ = 0).
    var momentumBuffers = NamedTensors<Scalar>()

    /// SGD with step size η = `learningRate`, momentum μ (default 0), Nesterov's form (default off;
    /// it needs μ > 0, or the initialiser stops with a message) and weight decay λ (default 0).
    public init(learningRate: Scalar, momentum: Scalar = 0, nesterov: Bool = false, weightDecay: Scalar = 0) {
        require(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// One step on every parameter of `model` (see the type's formulas); a parameter's momentum
    /// buffer is its first step's gradient.
    /// - Throws: `OptimizerError`, before anything changes, when the gradients' names or shapes do not
    ///   match the model's parameters.
    public mutating func update<Model: Module<Scalar>>(_ model: inout Model, along gradients: NamedTensors<Scalar>) throws {
        let (lr, mu, wd, nesterov) = (learningRate, momentum, weightDecay, nesterov)
        try Self.forEachParameter(of: &model, gradients: gradients) { name, p, g in
            guard mu != 0 else {
                if wd == 0, let product = g.unevaluatedProduct {
                    product.addScaled(-lr, to: &p)   // θ += (−η)·Gᵀ·X in one product
                } else {
                    OptimizerKernels.sgdStep(&p, gradient: g.scalars, learningRate: lr, weightDecay: wd)
                }
                return
            }
            if let k = momentumBuffers.position(of: name) {
                OptimizerKernels.sgdMomentumStep(&p, gradient: g.scalars, momentumBuffer: &momentumBuffers.tensors[k].scalars,
                                                 firstStep: false, learningRate: lr, momentum: mu, weightDecay: wd,
                                                 nesterov: nesterov)
            } else {
                var b = [Scalar](repeating: 0, count: p.count)
                OptimizerKernels.sgdMomentumStep(&p, gradient: g.scalars, momentumBuffer: &b, firstStep: true, learningRate: lr,
                                                 momentum: mu, weightDecay: wd, nesterov: nesterov)
                momentumBuffers[name] = Tensor(shape: g.shape, scalars: b)
            }
        }
        step += 1
    }

    /// The momentum buffer b of every parameter updated so far, as `"momentum_buffer.<name>"`
    /// (empty when μ = 0).
    public var state: NamedTensors<Scalar> { NamedTensors(Self.stateEntries("momentum_buffer", momentumBuffers)) }

    /// Restores the momentum buffers of every parameter of `model` and the step count; with μ = 0 or
    /// at step 0 the state must be empty.
    /// - Throws: `OptimizerError` when a buffer is missing, unexpected or has the wrong shape.
    public mutating func loadState(_ state: NamedTensors<Scalar>, step: Int, for model: some Module<Scalar>) throws {
        let kinds = momentum != 0 && step > 0 ? ["momentum_buffer"] : []
        try Self.rejectUnexpectedState(state, kinds: kinds, for: model)
        momentumBuffers = kinds.isEmpty ? NamedTensors() : try Self.buffers("momentum_buffer", from: state, for: model)
        self.step = step
    }
}
