/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, exactly
/// as PyTorch's `torch.optim.SGD` (dampening 0):
///
///     g ← ∇ + λ·θ                         (weight decay λ)
///     b ← g on the first step, else μ·b + g   (momentum μ > 0)
///     g ← g + μ·b  (Nesterov)   or   g ← b
///     θ ← θ − η·g
public struct SGD<Scalar: TensorScalar>: Optimizer {
    public var learningRate: Scalar
    /// μ, 0 for plain SGD.
    public var momentum: Scalar
    /// Use the Nesterov form g + μ·b.
    public var nesterov: Bool
    /// λ, added to the gradient as λ·θ.
    public var weightDecay: Scalar
    public private(set) var step = 0
    /// One momentum buffer per parameter (empty until the first step, or when μ = 0).
    var momentumBuffers: [Tensor<Scalar>] = []

    public init(learningRate: Scalar, momentum: Scalar = 0, nesterov: Bool = false, weightDecay: Scalar = 0) {
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public mutating func update(_ parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        precondition(parameters.count == gradients.count, "SGD: \(gradients.count) gradients for \(parameters.count) parameters")
        let first = momentumBuffers.isEmpty
        if first && momentum != 0 { momentumBuffers = parameters.map { .zeros($0.shape) } }
        let (lr, mu, wd) = (learningRate, momentum, weightDecay)
        for i in parameters.indices {
            var p = parameters[i].detached.scalars
            let g = gradients[i].scalars
            precondition(g.count == p.count, "SGD: gradient \(i) has shape \(gradients[i].shape), parameter \(parameters[i].shape)")
            if mu != 0 {
                var b = momentumBuffers[i].scalars
                for j in p.indices {
                    let d = g[j] + wd * p[j]
                    b[j] = first ? d : mu * b[j] + d
                    p[j] -= lr * (nesterov ? d + mu * b[j] : b[j])
                }
                momentumBuffers[i].scalars = b
            } else {
                for j in p.indices { p[j] -= lr * (g[j] + wd * p[j]) }
            }
            parameters[i] = Tensor(shape: parameters[i].shape, scalars: p)
        }
        step += 1
    }

    public var stateTensors: [(name: String, tensor: Tensor<Scalar>)] {
        momentumBuffers.enumerated().map { (name: "momentum_buffer.\($0.offset)", tensor: $0.element) }
    }

    public mutating func restore(step: Int, stateTensors: [String: Tensor<Scalar>], parameters: [Tensor<Scalar>]) throws {
        self.step = step
        momentumBuffers = momentum != 0 && step > 0
            ? try Self.buffers("momentum_buffer", from: stateTensors, matching: parameters) : []
    }
}
