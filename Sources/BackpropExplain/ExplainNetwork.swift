import Backprop

/// A problem with what `explain` was asked to explain, said in one line.
public struct ExplainError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The setting an error is about, so a caller can name it in its own words.
    public enum Setting: String, Sendable {
        /// The example x (its length or its numbers).
        case example
        /// The number of inputs N of a generated network.
        case inputCount = "input count"
        /// The number of classes T of a generated network.
        case outputCount = "output count"
        /// The target class.
        case target
        /// The softmax's inverse temperature β.
        case beta = "β"
    }

    /// The message.
    public let description: String
    /// The setting the message is about, if one.
    public let setting: Setting?

    /// An error with the given message, about `setting` if given.
    public init(_ description: String, setting: Setting? = nil) {
        self.description = description
        self.setting = setting
    }
}

/// How an explanation evaluates and writes the function between two dense layers: the
/// library's ``Activation``, or nil for none (the identity).
extension Optional where Wrapped == Activation {
    /// h = f(z) with the library's differentiable op; z itself for the identity.
    func apply(_ z: Tensor<Double>) -> Tensor<Double> { map { $0(z) } ?? z }

    /// f′(z) from its closed form (``Activation/derivative(at:output:)``), given z and h = f(z).
    func derivative(input z: Double, output h: Double) -> Double { map { $0.derivative(at: z, output: h) } ?? 1 }

    /// The function's name, as model files and the graph's nodes write it.
    var name: String { map(\.rawValue) ?? "identity" }

    /// The function's name as the formulas write it.
    var symbol: String { self == .sigmoid ? "σ" : name }

    /// f′ written out, in terms of z and h = f(z).
    var derivativeFormula: String {
        switch self {
        case .relu: return "relu′(z) = 1 if z > 0, else 0"
        case .tanh: return "tanh′(z) = 1 − h²"
        case .sigmoid: return "σ′(z) = h(1 − h)"
        case .gelu: return "gelu′(z) = Φ(z) + z φ(z)"
        case nil: return "f′(z) = 1"
        }
    }
}

/// A dense network ending in softmax(β·) and cross-entropy, with one input and its target:
/// the thing `explain` walks through.
///
/// Layer k maps h_{k−1} to z_k = W_k h_{k−1} + b_k (W_k is [out, in], PyTorch's layout);
/// every layer but the last is followed by `activation`, h_k = f(z_k). The last layer's output
/// is the logits y, then p = softmax(βy) and L = −log p_target.
public struct ExplainNetwork {
    /// One dense layer's parameters.
    public struct Layer {
        /// W, [outputs, inputs].
        public var weight: Tensor<Double>
        /// b, [outputs].
        public var bias: Tensor<Double>
        /// A layer from its weight [out, in] and bias [out].
        public init(weight: Tensor<Double>, bias: Tensor<Double>) {
            self.weight = weight
            self.bias = bias
        }
    }

    /// A one-channel convolution in front of the dense layers: the image X [H, W], the kernel
    /// K [kh, kw] and the bias c. It computes Z = K ⋆ X + c (a valid cross-correlation, PyTorch's
    /// `conv2d`), Z_ij = Σ_uv K_uv X_{i+u, j+v} + c, and the first dense layer takes x = vec(Z),
    /// Z's rows one after another.
    public struct Convolution: Sendable {
        /// X, [H, W].
        public var image: Tensor<Double>
        /// K, [kh, kw].
        public var kernel: Tensor<Double>
        /// c.
        public var bias: Double

        /// A convolution of `image` X [H, W] with `kernel` K [kh, kw] (kh ≤ H, kw ≤ W) plus `bias` c.
        public init(image: Tensor<Double>, kernel: Tensor<Double>, bias: Double) {
            self.image = image
            self.kernel = kernel
            self.bias = bias
        }

        /// Z = K ⋆ X + c with the library's `conv2d`, [H − kh + 1, W − kw + 1].
        public func output() -> Tensor<Double> { Self.apply(image, kernel, Tensor([bias])) }

        /// Z for given X [H, W], K [kh, kw] and c [1], differentiable in all three.
        static func apply(_ x: Tensor<Double>, _ k: Tensor<Double>, _ c: Tensor<Double>) -> Tensor<Double> {
            let (h, w, kh, kw) = (x.shape[0], x.shape[1], k.shape[0], k.shape[1])
            return Tensor.conv2d(x.reshaped([1, 1, h, w]), weight: k.reshaped([1, 1, kh, kw]), bias: c)
                .reshaped([h - kh + 1, w - kw + 1])
        }
    }

    /// The convolution in front of the dense layers, if any; `input` is then vec(Z).
    public var convolution: Convolution? = nil

    /// The dense layers, input first.
    public var layers: [Layer]
    /// The function between layers, nil for none (the identity); unused with one layer.
    public var activation: Activation?
    /// The softmax's inverse temperature β.
    public var inverseTemperature: Double
    /// The example x, [inputs].
    public var input: Tensor<Double>
    /// The target class, 0-based.
    public var target: Int
    /// Where the network came from, for the report's heading.
    public var source: String

    /// A network; call `validated()` before explaining one built from user input.
    public init(layers: [Layer], activation: Activation? = nil, inverseTemperature: Double,
                input: Tensor<Double>, target: Int, source: String) {
        self.layers = layers
        self.activation = activation
        self.inverseTemperature = inverseTemperature
        self.input = input
        self.target = target
        self.source = source
    }

    /// The number of inputs N.
    public var inputCount: Int { input.count }
    /// The number of classes T (the last layer's outputs).
    public var classCount: Int { layers.last?.bias.count ?? 0 }

    /// The seed's network: x ∈ R^N → affine (W: T×N, b) → softmax(β) → cross-entropy.
    ///
    /// x ~ N(0, 1), W ~ N(0, 1/N), b ~ N(0, 0.1²), all from `SeededGenerator(seed:)` and rounded
    /// to two decimals so the report is easy to follow by hand.
    public static func seeded(inputs: Int = 4, outputs: Int = 3, inverseTemperature: Double = 2,
                              target: Int = 0, seed: UInt64 = 42) throws -> ExplainNetwork {
        guard inputs >= 1, inputs <= 64 else { throw ExplainError("the input count must be between 1 and 64, got \(inputs)", setting: .inputCount) }
        guard outputs >= 2, outputs <= 32 else { throw ExplainError("the output count must be between 2 and 32, got \(outputs)", setting: .outputCount) }
        var generator = SeededGenerator(seed: seed)
        func rounded(_ t: Tensor<Double>) -> Tensor<Double> {
            Tensor(shape: t.shape, scalars: t.scalars.map { ($0 * 100).rounded() / 100 })
        }
        let x = rounded(.randomNormal([inputs], generator: &generator))
        let w = rounded(.randomNormal([outputs, inputs], standardDeviation: 1 / Double(inputs).squareRoot(), generator: &generator))
        let b = rounded(.randomNormal([outputs], standardDeviation: 0.1, generator: &generator))
        return try ExplainNetwork(layers: [Layer(weight: w, bias: b)], inverseTemperature: inverseTemperature,
                                  input: x, target: target, source: "seeded network (seed \(seed))").validated()
    }

    /// A 3×3 convolution over a 5×5 image in front of the seed's network: X ∈ R^{5×5} →
    /// conv (K: 3×3, c) → x = vec(Z) ∈ R⁹ → affine (W: T×9, b) → softmax(β) → cross-entropy.
    ///
    /// X ~ N(0, 1), K ~ N(0, 1/9), c ~ N(0, 0.3²), then W and b as in `seeded`, all from
    /// `SeededGenerator(seed:)` and rounded to two decimals.
    public static func seededConvolution(imageSize: Int = 5, kernelSize: Int = 3, outputs: Int = 3, inverseTemperature: Double = 2,
                                         target: Int = 0, seed: UInt64 = 42) throws -> ExplainNetwork {
        guard kernelSize >= 1, kernelSize <= 7, imageSize >= kernelSize, imageSize <= 16 else {
            throw ExplainError("the kernel must be 1…7 wide and the image at least as wide as the kernel and at most 16, got \(kernelSize) and \(imageSize)", setting: .inputCount)
        }
        guard outputs >= 2, outputs <= 32 else { throw ExplainError("the output count must be between 2 and 32, got \(outputs)", setting: .outputCount) }
        var generator = SeededGenerator(seed: seed)
        func rounded(_ t: Tensor<Double>) -> Tensor<Double> {
            Tensor(shape: t.shape, scalars: t.scalars.map { ($0 * 100).rounded() / 100 })
        }
        let image = rounded(.randomNormal([imageSize, imageSize], generator: &generator))
        let kernel = rounded(.randomNormal([kernelSize, kernelSize], standardDeviation: 1 / Double(kernelSize), generator: &generator))
        let c = rounded(.randomNormal([1], standardDeviation: 0.3, generator: &generator)).scalars[0]
        let convolution = Convolution(image: image, kernel: kernel, bias: c)
        let features = (imageSize - kernelSize + 1) * (imageSize - kernelSize + 1)
        let w = rounded(.randomNormal([outputs, features], standardDeviation: 1 / Double(features).squareRoot(), generator: &generator))
        let b = rounded(.randomNormal([outputs], standardDeviation: 0.1, generator: &generator))
        var network = ExplainNetwork(layers: [Layer(weight: w, bias: b)], inverseTemperature: inverseTemperature,
                                     input: withoutDerivative { convolution.output() }.reshaped([features]), target: target,
                                     source: "seeded convolution (seed \(seed))")
        network.convolution = convolution
        return try network.validated()
    }

    /// The network itself, or the first reason it cannot be explained.
    public func validated() throws -> ExplainNetwork {
        guard !layers.isEmpty else { throw ExplainError("the network has no layers") }
        if let convolution {
            let (x, k) = (convolution.image, convolution.kernel)
            guard x.rank == 2, k.rank == 2, k.shape[0] >= 1, k.shape[1] >= 1, x.shape[0] >= k.shape[0], x.shape[1] >= k.shape[1] else {
                throw ExplainError("the convolution needs an image [H, W] at least as large as its kernel [kh, kw], got \(x.shape) and \(k.shape)")
            }
            guard input.count == (x.shape[0] - k.shape[0] + 1) * (x.shape[1] - k.shape[1] + 1) else {
                throw ExplainError("the dense input has \(input.count) entries, but the convolution gives \((x.shape[0] - k.shape[0] + 1) * (x.shape[1] - k.shape[1] + 1))")
            }
            guard x.scalars.allSatisfy(\.isFinite), k.scalars.allSatisfy(\.isFinite), convolution.bias.isFinite else {
                throw ExplainError("the image or the kernel contains NaN or infinity")
            }
        }
        guard input.rank == 1, input.count >= 1 else { throw ExplainError("the input must be a non-empty vector, got shape \(input.shape)") }
        var width = input.count
        for (k, layer) in layers.enumerated() {
            guard layer.weight.rank == 2, layer.weight.shape[1] == width else {
                throw ExplainError("layer \(k): weight shape \(layer.weight.shape) does not take \(width) inputs")
            }
            guard layer.bias.shape == [layer.weight.shape[0]] else {
                throw ExplainError("layer \(k): bias shape \(layer.bias.shape) does not match weight shape \(layer.weight.shape)")
            }
            width = layer.weight.shape[0]
        }
        guard width >= 2 else { throw ExplainError("the last layer must have at least 2 outputs (classes), got \(width)") }
        guard target >= 0, target < width else { throw ExplainError("the target must be a class in 0..<\(width), got \(target)", setting: .target) }
        guard inverseTemperature.isFinite else { throw ExplainError("β must be finite, got \(inverseTemperature)", setting: .beta) }
        let finite = input.scalars.allSatisfy(\.isFinite)
            && layers.allSatisfy { $0.weight.scalars.allSatisfy(\.isFinite) && $0.bias.scalars.allSatisfy(\.isFinite) }
        guard finite else { throw ExplainError("the input or the parameters contain NaN or infinity") }
        return self
    }
}
