import RealModule

/// Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), exactly as PyTorch's `torch.optim.Adam`
/// and `torch.optim.AdamW` (no AMSGrad). At step t = 1, 2, …:
///
///     Adam:   g ← ∇ + λ·θ                 AdamW:  θ ← θ·(1 − η·λ),  g ← ∇
///     m ← m + (1 − β₁)(g − m)            (first moment; PyTorch's lerp)
///     v ← β₂·v + (1 − β₂)·g²             (second moment)
///     θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
public struct Adam<Scalar: TensorScalar>: Optimizer {
    /// How weight decay λ enters the update.
    public enum WeightDecay: Sendable {
        /// Added to the gradient (λ·θ), as `torch.optim.Adam`.
        case l2(Scalar)
        /// Applied to the parameters directly (θ·(1 − ηλ)), as `torch.optim.AdamW`.
        case decoupled(Scalar)
    }

    public var learningRate: Scalar
    /// β₁, β₂: the moment decay rates.
    public var beta1: Scalar, beta2: Scalar
    /// ε, added to the denominator.
    public var epsilon: Scalar
    public var weightDecay: WeightDecay
    public private(set) var step = 0
    /// m and v per parameter (empty until the first step).
    var firstMoments: [Tensor<Scalar>] = [], secondMoments: [Tensor<Scalar>] = []

    /// Adam (L2 weight decay, default 0).
    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999,
                epsilon: Scalar = 1e-8, weightDecay: Scalar = 0) {
        self.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: .l2(weightDecay))
    }

    public init(learningRate: Scalar, beta1: Scalar, beta2: Scalar, epsilon: Scalar, weightDecay: WeightDecay) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// AdamW with PyTorch's defaults (decoupled weight decay λ = 0.01).
    public static func adamW(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999,
                             epsilon: Scalar = 1e-8, weightDecay: Scalar = 1e-2) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: .decoupled(weightDecay))
    }

    public mutating func update(_ parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        precondition(parameters.count == gradients.count, "Adam: \(gradients.count) gradients for \(parameters.count) parameters")
        if firstMoments.isEmpty {
            firstMoments = parameters.map { .zeros($0.shape) }
            secondMoments = firstMoments
        }
        step += 1
        let t = Scalar(step)
        let (lr, b1, b2, eps) = (learningRate, beta1, beta2, epsilon)
        let correction1 = 1 - Scalar.pow(b1, t)
        let correction2Root = (1 - Scalar.pow(b2, t)).squareRoot()
        let stepSize = lr / correction1
        var l2: Scalar = 0, shrink: Scalar = 1
        switch weightDecay {
        case .l2(let lambda): l2 = lambda
        case .decoupled(let lambda): shrink = 1 - lr * lambda
        }
        for i in parameters.indices {
            precondition(gradients[i].count == parameters[i].count,
                         "Adam: gradient \(i) has shape \(gradients[i].shape), parameter \(parameters[i].shape)")
            var p = parameters[i].detached.scalars
            OptimizerKernels.adamStep(&p, firstMoment: &firstMoments[i].scalars, secondMoment: &secondMoments[i].scalars,
                                      gradient: gradients[i].scalars, shrink: shrink, l2: l2, beta1: b1, beta2: b2,
                                      stepSize: stepSize, correction2Root: correction2Root, epsilon: eps)
            parameters[i] = Tensor(shape: parameters[i].shape, scalars: p)
        }
    }

    public var stateTensors: [(name: String, tensor: Tensor<Scalar>)] {
        firstMoments.enumerated().map { (name: "exp_avg.\($0.offset)", tensor: $0.element) }
            + secondMoments.enumerated().map { (name: "exp_avg_sq.\($0.offset)", tensor: $0.element) }
    }

    public mutating func restore(step: Int, stateTensors: [String: Tensor<Scalar>], parameters: [Tensor<Scalar>]) throws {
        self.step = step
        if step > 0 {
            firstMoments = try Self.buffers("exp_avg", from: stateTensors, matching: parameters)
            secondMoments = try Self.buffers("exp_avg_sq", from: stateTensors, matching: parameters)
        } else {
            firstMoments = []; secondMoments = []
        }
    }
}
