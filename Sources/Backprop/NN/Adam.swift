import RealModule
import BackpropKernels

/// Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), exactly as PyTorch's `torch.optim.Adam`
/// and `torch.optim.AdamW` (no AMSGrad). At step t = 1, 2, …:
///
///     Adam:   g ← ∇ + λ·θ                 AdamW:  θ ← θ·(1 − η·λ),  g ← ∇
///     m ← m + (1 − β₁)(g − m)            (first moment; PyTorch's lerp)
///     v ← β₂·v + (1 − β₂)·g²             (second moment)
///     θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// State: m and v per parameter, saved as `"exp_avg.<parameter name>"` and
/// `"exp_avg_sq.<parameter name>"`.
public struct Adam<Scalar: TensorScalar>: Optimizer {
    /// How weight decay λ enters the update.
    public enum WeightDecay: Sendable {
        /// Added to the gradient (λ·θ), as `torch.optim.Adam`.
        case l2(Scalar)
        /// Applied to the parameters directly (θ·(1 − ηλ)), as `torch.optim.AdamW`.
        case decoupled(Scalar)
    }

    /// η, the step size (default 10⁻³).
    public var learningRate: Scalar
    /// β₁, β₂: the moment decay rates.
    public var beta1: Scalar, beta2: Scalar
    /// ε, added to the denominator.
    public var epsilon: Scalar
    /// λ and how it enters the update: `.l2` for Adam, `.decoupled` for AdamW.
    public var weightDecay: WeightDecay
    /// t, the number of updates so far (the bias corrections use t + 1 for the next one).
    public private(set) var step = 0
    /// m and v per parameter name (empty until the first step).
    var firstMoments = NamedTensors<Scalar>(), secondMoments = NamedTensors<Scalar>()

    /// Adam (L2 weight decay, default 0).
    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999,
                epsilon: Scalar = 1e-8, weightDecay: Scalar = 0) {
        self.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: .l2(weightDecay))
    }

    /// Adam or AdamW with every hyperparameter given, the kind of weight decay included.
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

    /// One Adam step at t = `step` + 1 on every parameter of `model` (see the type's formulas); m and
    /// v start at zero on a parameter's first step.
    /// - Throws: `OptimizerError`, before anything changes, when the gradients' names or shapes do not
    ///   match the model's parameters.
    public mutating func update<Model: Module<Scalar>>(_ model: inout Model, along gradients: NamedTensors<Scalar>) throws {
        let t = Scalar(step + 1)
        let (lr, b1, b2, eps) = (learningRate, beta1, beta2, epsilon)
        let correction1 = 1 - Scalar.pow(b1, t)
        let correction2Root = (1 - Scalar.pow(b2, t)).squareRoot()
        let stepSize = lr / correction1
        var l2: Scalar = 0, shrink: Scalar = 1
        switch weightDecay {
        case .l2(let lambda): l2 = lambda
        case .decoupled(let lambda): shrink = 1 - lr * lambda
        }
        try Self.forEachParameter(of: &model, gradients: gradients) { name, p, g in
            if firstMoments.position(of: name) == nil {
                let zeros = Tensor<Scalar>.zeros(g.shape)
                firstMoments[name] = zeros
                secondMoments[name] = zeros
            }
            let k = firstMoments.position(of: name)!, kv = secondMoments.position(of: name)!
            OptimizerKernels.adamStep(&p, firstMoment: &firstMoments.tensors[k].scalars,
                                      secondMoment: &secondMoments.tensors[kv].scalars, gradient: g.scalars, shrink: shrink, l2: l2,
                                      beta1: b1, beta2: b2, stepSize: stepSize, correction2Root: correction2Root, epsilon: eps)
        }
        step += 1
    }

    /// m and v of every parameter updated so far, as `"exp_avg.<name>"` then `"exp_avg_sq.<name>"`
    /// (PyTorch's state names).
    public var state: NamedTensors<Scalar> {
        NamedTensors(Self.stateEntries("exp_avg", firstMoments) + Self.stateEntries("exp_avg_sq", secondMoments))
    }

    /// Restores m and v of every parameter of `model` and the step count t = `step`; at step 0 the
    /// state must be empty.
    /// - Throws: `OptimizerError` when a moment is missing, unexpected or has the wrong shape.
    public mutating func loadState(_ state: NamedTensors<Scalar>, step: Int, for model: some Module<Scalar>) throws {
        let kinds = step > 0 ? ["exp_avg", "exp_avg_sq"] : []
        try Self.rejectUnexpectedState(state, kinds: kinds, for: model)
        if step > 0 {
            firstMoments = try Self.buffers("exp_avg", from: state, for: model)
            secondMoments = try Self.buffers("exp_avg_sq", from: state, for: model)
        } else {
            firstMoments = NamedTensors()
            secondMoments = NamedTensors()
        }
        self.step = step
    }
}
