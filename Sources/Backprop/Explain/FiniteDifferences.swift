/// Central differences in Double: the independent check beside every analytic derivative.
///
/// ∂f/∂xᵢ ≈ (f(x + h eᵢ) − f(x − h eᵢ)) / 2h with h = 10⁻⁶·max(1, |xᵢ|): truncation error
/// O(h²) ≈ 10⁻¹², rounding error O(ε/h) ≈ 10⁻¹⁰, so agreement to ~10⁻⁸ is what to expect.
enum FiniteDifferences {
    /// The step used for an entry of size `value`.
    static func step(for value: Double) -> Double { 1e-6 * Swift.max(1, Swift.abs(value)) }

    /// The gradient of a scalar-valued `f` at `x`, the shape of `x`.
    static func gradient(of f: (Tensor<Double>) -> Tensor<Double>, at x: Tensor<Double>) -> Tensor<Double> {
        let columns = jacobian(of: f, at: x)
        return Tensor(shape: x.shape, scalars: columns.scalars)
    }

    /// The Jacobian of `f` at `x`, [f(x).count, x.count]; entry (i, j) ≈ ∂f(x)ᵢ/∂xⱼ.
    static func jacobian(of f: (Tensor<Double>) -> Tensor<Double>, at x: Tensor<Double>) -> Tensor<Double> {
        withoutDerivative {
            let x = x.detached
            let outputs = f(x).count
            var result = [Double](repeating: 0, count: outputs * x.count)
            for j in 0..<x.count {
                let h = step(for: x.scalars[j])
                var plus = x, minus = x
                plus.scalars[j] += h
                minus.scalars[j] -= h
                let fPlus = f(plus).scalars, fMinus = f(minus).scalars
                for i in 0..<outputs { result[i * x.count + j] = (fPlus[i] - fMinus[i]) / (2 * h) }
            }
            return Tensor(shape: [outputs, x.count], scalars: result)
        }
    }
}
