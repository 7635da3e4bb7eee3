// Elementwise activation layers (no parameters) and β-softmax (β optionally learnable).

/// max(x, 0), elementwise (PyTorch `nn.ReLU`).
public struct ReLU<Scalar: TensorScalar>: ParameterlessLayer {
    /// The layer; it has no settings and no tensors.
    public init() {}
    /// max(x, 0) for each element of x (any shape); the derivative is 1 where x > 0, else 0.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.relu() }
}

/// tanh x, elementwise (PyTorch `nn.Tanh`).
public struct Tanh<Scalar: TensorScalar>: ParameterlessLayer {
    /// The layer; it has no settings and no tensors.
    public init() {}
    /// tanh x for each element of x (any shape); derivative 1 − tanh² x.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.tanh() }
}

/// σ(x) = 1/(1 + e^{−x}), elementwise (PyTorch `nn.Sigmoid`).
public struct Sigmoid<Scalar: TensorScalar>: ParameterlessLayer {
    /// The layer; it has no settings and no tensors.
    public init() {}
    /// σ(x) for each element of x (any shape); derivative σ(x)(1 − σ(x)).
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.sigmoid() }
}

/// x·Φ(x), the exact (erf) GELU, elementwise (PyTorch `nn.GELU()` default).
public struct GELU<Scalar: TensorScalar>: ParameterlessLayer {
    /// The layer; it has no settings and no tensors.
    public init() {}
    /// x·Φ(x) for each element of x (any shape), Φ the standard normal CDF.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.gelu() }
}

/// y = softmax(βx) along the last axis, with inverse temperature β.
///
/// With `learnable: true`, β (a rank-0 tensor, `state_dict` name `"beta"`) is a parameter and
/// receives a gradient ∂L/∂β; otherwise it is a constant and the layer has no parameters, like
/// PyTorch's `nn.Softmax(dim=-1)` when β = 1.
public struct Softmax<Scalar: TensorScalar>: Layer {
    /// β, a rank-0 tensor.
    public var beta: Tensor<Scalar>
    /// Whether β is trained (a parameter).
    public let isBetaLearnable: Bool

    /// A softmax with inverse temperature β = `inverseTemperature` (default 1), trained when
    /// `learnable` (default false).
    public init(inverseTemperature beta: Scalar = 1, learnable: Bool = false) {
        self.beta = Tensor(beta)
        self.isBetaLearnable = learnable
    }

    /// β as a parameter when it is learnable; a fixed β is configuration, not a tensor of the
    /// model (as `dim` of PyTorch's `nn.Softmax`), so the layer then declares nothing.
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        if isBetaLearnable { visitor.parameter("beta", &beta) }
    }

    /// softmax(βx) along the last axis of x (any rank ≥ 1), same shape out: each row's exponentials
    /// e^{βxᵢ} over their sum.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        x.softmax(inverseTemperature: beta)
    }
}

/// The activations a multilayer perceptron can use between its linear layers, by the name the
/// command line and model files use.
public enum Activation: String, CaseIterable, Sendable {
    /// `ReLU`, `Tanh`, `Sigmoid` and `GELU`; the raw value is the name (`"relu"`, …).
    case relu, tanh, sigmoid, gelu

    /// The layer for this activation.
    public func layer<Scalar: TensorScalar>(_: Scalar.Type = Scalar.self) -> any Layer<Scalar> {
        switch self {
        case .relu: return ReLU<Scalar>()
        case .tanh: return Tanh<Scalar>()
        case .sigmoid: return Sigmoid<Scalar>()
        case .gelu: return GELU<Scalar>()
        }
    }

    /// The PyTorch module that computes the same function.
    public var pytorchModule: String {
        switch self {
        case .relu: return "nn.ReLU()"
        case .tanh: return "nn.Tanh()"
        case .sigmoid: return "nn.Sigmoid()"
        case .gelu: return "nn.GELU()"
        }
    }
}

extension Activation {
    /// The activation an elementwise activation layer computes: `.relu` for ``ReLU``, `.tanh`
    /// for ``Tanh``, `.sigmoid` for ``Sigmoid``, `.gelu` for ``GELU``; nil for any other layer.
    public init?<Scalar: TensorScalar>(layer: any Layer<Scalar>) {
        switch layer {
        case is ReLU<Scalar>: self = .relu
        case is Tanh<Scalar>: self = .tanh
        case is Sigmoid<Scalar>: self = .sigmoid
        case is GELU<Scalar>: self = .gelu
        default: return nil
        }
    }

    /// h = f(z), elementwise, with the library's differentiable op: what ``layer(_:)``'s layer
    /// computes, recorded on the tape like any other op.
    public func callAsFunction<Scalar: TensorScalar>(_ z: Tensor<Scalar>) -> Tensor<Scalar> {
        switch self {
        case .relu: return z.relu()
        case .tanh: return z.tanh()
        case .sigmoid: return z.sigmoid()
        case .gelu: return z.gelu()
        }
    }

    /// f′(z) in closed form, given z and h = f(z) (each rule uses whichever is simpler):
    ///
    /// - relu′(z) = 1 if z > 0, else 0 (0 at the kink, as PyTorch);
    /// - tanh′(z) = 1 − h²;
    /// - σ′(z) = h(1 − h);
    /// - gelu′(z) = Φ(z) + z·φ(z), with Φ(z) = ½(1 + erf(z/√2)) and φ(z) = e^{−z²/2}/√(2π).
    ///
    /// The textbook formula, independent of the tape: a check on the op's pullback.
    public func derivative<Scalar: TensorScalar>(at z: Scalar, output h: Scalar) -> Scalar {
        switch self {
        case .relu: return z > 0 ? 1 : 0
        case .tanh: return 1 - h * h
        case .sigmoid: return h * (1 - h)
        case .gelu:
            let cdf = (1 + Scalar.erf(z / Scalar(2).squareRoot())) / 2
            let density = Scalar.exp(-z * z / 2) / (2 * Scalar.pi).squareRoot()
            return cdf + z * density
        }
    }
}
