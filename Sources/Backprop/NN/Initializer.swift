/// How a weight matrix [out, in] is filled before training. All draws use a `SeededGenerator`,
/// so the same seed gives the same weights.
public enum Initializer: String, CaseIterable, Sendable {
    /// PyTorch's `nn.Linear` default: W ~ U(−1/√in, 1/√in) (Kaiming-uniform with a = √5).
    case kaimingUniform = "kaiming"
    /// Glorot & Bengio: W ~ U(−a, a) with a = √(6 / (in + out)).
    case xavierUniform = "xavier"
    /// All zeros (useful for tests and for a last layer that should start neutral).
    case zeros

    /// A [outputs, inputs] weight drawn from this distribution.
    public func weight<Scalar>(outputs: Int, inputs: Int, generator: inout SeededGenerator) -> Tensor<Scalar> {
        switch self {
        case .kaimingUniform:
            // kaiming_uniform_(a=√5): gain = √(2/(1+a²)) = √(1/3), bound = gain·√(3/fan_in) = 1/√fan_in.
            let bound = Scalar(1 / Double(Swift.max(inputs, 1)).squareRoot())
            return .randomUniform([outputs, inputs], lower: -bound, upper: bound, generator: &generator)
        case .xavierUniform:
            let bound = Scalar((6 / Double(Swift.max(inputs + outputs, 1))).squareRoot())
            return .randomUniform([outputs, inputs], lower: -bound, upper: bound, generator: &generator)
        case .zeros:
            return .zeros([outputs, inputs])
        }
    }

    /// A bias [outputs] to go with the weight. PyTorch draws `nn.Linear`'s bias from
    /// U(−1/√in, 1/√in) too; Xavier and zeros start it at 0.
    public func bias<Scalar>(outputs: Int, inputs: Int, generator: inout SeededGenerator) -> Tensor<Scalar> {
        switch self {
        case .kaimingUniform:
            let bound = Scalar(1 / Double(Swift.max(inputs, 1)).squareRoot())
            return .randomUniform([outputs], lower: -bound, upper: bound, generator: &generator)
        case .xavierUniform, .zeros:
            return .zeros([outputs])
        }
    }
}
