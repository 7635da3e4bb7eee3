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
    public var learningRate: Scalar
    /// μ, 0 for plain SGD.
    public var momentum: Scalar
    /// Use the Nesterov form g + μ·b.
    public var nesterov: Bool
    /// λ, added to the gradient as λ·θ.
    public var weightDecay: Scalar
    public private(set) var step = 0
    /// b per parameter name (empty until the first step, and when μ = 0).
    var momentumBuffers = NamedTensors<Scalar>()

    public init(learningRate: Scalar, momentum: Scalar = 0, nesterov: Bool = false, weightDecay: Scalar = 0) {
        require(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public mutating func update<Model: Module<Scalar>>(_ model: inout Model, along gradients: NamedTensors<Scalar>) throws {
        let (lr, mu, wd, nesterov) = (learningRate, momentum, weightDecay, nesterov)
        try Self.forEachParameter(of: &model, gradients: gradients) { name, p, g in
            guard mu != 0 else {
                OptimizerKernels.sgdStep(&p, gradient: g, learningRate: lr, weightDecay: wd)
                return
            }
            if let k = momentumBuffers.position(of: name) {
                OptimizerKernels.sgdMomentumStep(&p, gradient: g, momentumBuffer: &momentumBuffers.tensors[k].scalars,
                                                 firstStep: false, learningRate: lr, momentum: mu, weightDecay: wd,
                                                 nesterov: nesterov)
            } else {
                var b = [Scalar](repeating: 0, count: p.count)
                OptimizerKernels.sgdMomentumStep(&p, gradient: g, momentumBuffer: &b, firstStep: true, learningRate: lr,
                                                 momentum: mu, weightDecay: wd, nesterov: nesterov)
                momentumBuffers[name] = Tensor(shape: gradients[name]!.shape, scalars: b)
            }
        }
        step += 1
    }

    public var state: NamedTensors<Scalar> { NamedTensors(Self.stateEntries("momentum_buffer", momentumBuffers)) }

    public mutating func loadState(_ state: NamedTensors<Scalar>, step: Int, for model: some Module<Scalar>) throws {
        let kinds = momentum != 0 && step > 0 ? ["momentum_buffer"] : []
        try Self.rejectUnexpectedState(state, kinds: kinds, for: model)
        momentumBuffers = kinds.isEmpty ? NamedTensors() : try Self.buffers("momentum_buffer", from: state, for: model)
        self.step = step
    }
}
