import BackpropKernels

/// A dense (fully connected) layer: y = x·Wᵀ + b.
///
/// Shapes as PyTorch's `nn.Linear`: `weight` W is [out, in], `bias` b is [out]; x is [in] or a
/// batch [B, in], giving [out] or [B, out]. The default initialisation is PyTorch's:
/// W and b ~ U(−1/√in, 1/√in). See `Tensor.affine` for the derivatives.
///
///     var rng = SeededGenerator(seed: 0)
///     let layer = Linear<Float>(inputs: 64, outputs: 128, generator: &rng)
///     let y = layer(x)   // [B, 128]
public struct Linear<Scalar: TensorScalar>: Layer {
    /// W, [outputs, inputs].
    public var weight: Tensor<Scalar>
    /// b, [outputs].
    public var bias: Tensor<Scalar>

    /// A layer with the given weight [out, in] and bias [out].
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
        require(weight.rank == 2 && bias.shape == [weight.shape[0]],
                     "Linear: weight \(weight.shape) and bias \(bias.shape) do not fit ([out, in] and [out])")
        self.weight = weight
        self.bias = bias
    }

    /// A freshly initialised layer (weight first, then bias, from `generator`).
    public init(inputs: Int, outputs: Int, initializer: Initializer = .kaimingUniform,
                generator: inout SeededGenerator) {
        require(inputs > 0 && outputs > 0, "Linear: sizes must be positive, got \(inputs) → \(outputs)")
        let w: Tensor<Scalar> = initializer.weight(outputs: outputs, inputs: inputs, generator: &generator)
        let b: Tensor<Scalar> = initializer.bias(outputs: outputs, inputs: inputs, generator: &generator)
        self.init(weight: w, bias: b)
    }

    /// The number of input features.
    public var inputCount: Int { weight.shape[1] }
    /// The number of outputs.
    public var outputCount: Int { weight.shape[0] }

    /// Declares `weight` and then `bias` as parameters (PyTorch's `state_dict` order).
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        visitor.parameter("bias", &bias)
    }

    /// y = x·Wᵀ + b: x [in] → [out], or [B, in] → [B, out].
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        .affine(x, weight: weight, bias: bias)
    }
}
