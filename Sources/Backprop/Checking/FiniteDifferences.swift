/// Finite differences in `Double`: the independent check beside every analytic derivative, used
/// by the gradient checker, by `backprop jacobian --method numeric` and by `backprop explain`.
public enum FiniteDifferences {
    /// How a derivative along a direction u is approximated from values of f.
    public enum Stencil: Sendable {
        /// (f(x + hu) − f(x − hu)) / 2h. Truncation error h²|f‴|/6, rounding ≈ ε|f|/h: with
        /// h = 10⁻⁶ agreement to ~10⁻⁸ is what to expect.
        case central
        /// (−f(x + 2hu) + 8f(x + hu) − 8f(x − hu) + f(x − 2hu)) / 12h. Truncation error
        /// h⁴|f⁽⁵⁾|/30, rounding ≈ 1.5·ε|f|/h: with h = 10⁻³ both are ≈ 10⁻¹³ for well-scaled f,
        /// so it agrees with exact derivatives to ~10⁻¹² (the central stencil's best is ε^{2/3}).
        case fourthOrder

        /// (offset c, weight w): D = Σ w·f(x + c·h·u) / h.
        var terms: [(offset: Double, weight: Double)] {
            switch self {
            case .central: return [(1, 0.5), (-1, -0.5)]
            case .fourthOrder: return [(2, -1.0 / 12), (1, 8.0 / 12), (-1, -8.0 / 12), (-2, 1.0 / 12)]
            }
        }
    }

    /// The derivative of f at `inputs` along `direction` (one tangent per input, same shapes),
    /// flattened like f's value. `evaluate` is called with the moved inputs; derivatives are not
    /// recorded.
    public static func directionalDerivative(of f: ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>],
                                             along direction: [Tensor<Double>], step h: Double,
                                             stencil: Stencil = .central) -> [Double] {
        withoutDerivative {
            var sum: [Double] = []
            for (offset, weight) in stencil.terms {
                let moved = zip(inputs, direction).map { x, u in
                    Tensor(shape: x.shape, scalars: zip(x.scalars, u.scalars).map { $0 + offset * h * $1 })
                }
                let value = f(moved).scalars
                if sum.isEmpty { sum = [Double](repeating: 0, count: value.count) }
                for i in value.indices { sum[i] += weight * value[i] }
            }
            return sum.map { $0 / h }
        }
    }

    /// The Jacobian of f at x, [f(x).count, x.count]: entry (i, j) ≈ ∂f(x)ᵢ/∂xⱼ, column j from
    /// the stencil along eⱼ with step `step(xⱼ)`.
    public static func jacobian(of f: (Tensor<Double>) -> Tensor<Double>, at x: Tensor<Double>,
                                stencil: Stencil = .central,
                                step: (Double) -> Double = relativeStep) -> Tensor<Double> {
        let x = x.detached
        let outputs = withoutDerivative { f(x) }.count
        var result = [Double](repeating: 0, count: outputs * x.count)
        for j in 0..<x.count {
            let column = directionalDerivative(of: { f($0[0]) }, at: [x], along: [.basisVector(j, shape: x.shape)],
                                               step: step(x.scalars[j]), stencil: stencil)
            for i in 0..<outputs { result[i * x.count + j] = column[i] }
        }
        return Tensor(shape: [outputs, x.count], scalars: result)
    }

    /// The gradient of a scalar-valued f at x, the shape of x (central differences, relative step).
    public static func gradient(of f: (Tensor<Double>) -> Tensor<Double>, at x: Tensor<Double>) -> Tensor<Double> {
        Tensor(shape: x.shape, scalars: jacobian(of: f, at: x).scalars)
    }

    /// h = 10⁻⁶·max(1, |x|): the central stencil's step for an entry of size x.
    public static func relativeStep(_ x: Double) -> Double { 1e-6 * Swift.max(1, Swift.abs(x)) }
}
