/// The two maps of the derivation — y = softmax(βx) and y = Wx + b — with their Jacobians
/// available four ways (reverse and forward mode, the closed form, finite differences), so that the
/// methods can be compared entry by entry (`backprop jacobian`).
public enum ClosedFormMap: Sendable {
    /// y = softmax(βx), x ∈ ℝⁿ. Jacobian [n, n].
    case softmax(x: Tensor<Double>, beta: Double)
    /// y = Wx + b with W [T, N]. Jacobian with respect to `wrt`: x → [T, N], b → [T, T], W → [T, T·N].
    case affine(weight: Tensor<Double>, bias: Tensor<Double>, x: Tensor<Double>, wrt: AffineArgument)

    public enum AffineArgument: String, Sendable, CaseIterable { case w, b, x }

    /// How the Jacobian is obtained.
    public enum Method: String, Sendable, CaseIterable {
        /// Reverse mode through the library's rules, one pullback per output.
        case reverse
        /// Forward mode through the library's rules, one tangent per input entry.
        case forward
        /// The formula: β(diag(y) − y yᵀ); W; I_T; δ_ti x_j.
        case closedForm = "closed-form"
        /// Fourth-order central differences (step 1e-3) of the forward computation.
        case numeric
    }

    /// The map as a function of the argument being differentiated.
    public var function: (Tensor<Double>) -> Tensor<Double> {
        switch self {
        case let .softmax(_, beta):
            return { $0.softmax(inverseTemperature: beta) }
        case let .affine(w, b, x, wrt):
            switch wrt {
            case .x: return { Tensor.affine($0, weight: w, bias: b) }
            case .b: return { Tensor.affine(x, weight: w, bias: $0) }
            case .w: return { Tensor.affine(x, weight: $0.reshaped(w.shape), bias: b) }
            }
        }
    }

    /// The point the Jacobian is taken at (W flattened row-major when differentiating by W).
    public var point: Tensor<Double> {
        switch self {
        case let .softmax(x, _): return x
        case let .affine(w, b, x, wrt):
            switch wrt {
            case .x: return x
            case .b: return b
            case .w: return w.reshaped([w.count])
            }
        }
    }

    /// The Jacobian [outputs, inputs], rows indexing outputs, columns the flattened argument.
    public func jacobian(method: Method) -> Tensor<Double> {
        switch method {
        case .reverse: return Backprop.jacobian(of: function, at: point, mode: .reverse)
        case .forward: return Backprop.jacobian(of: function, at: point, mode: .forward)
        case .numeric: return numericJacobian(of: function, at: point)
        case .closedForm:
            switch self {
            case let .softmax(x, beta):
                return ClosedForm.softmaxJacobian(output: x.softmax(inverseTemperature: beta), inverseTemperature: beta)
            case let .affine(w, _, x, wrt):
                switch wrt {
                case .x: return ClosedForm.affineJacobianWithRespectToInput(weight: w)
                case .b: return ClosedForm.affineJacobianWithRespectToBias(outputs: w.shape[0])
                case .w: return ClosedForm.affineJacobianWithRespectToWeight(input: x, outputs: w.shape[0])
                }
            }
        }
    }
}

/// The Jacobian of `f` at `x` by finite differences, [f(x).count, x.count], column j from the
/// fourth-order central stencil
///
///     (−f(x + 2h eⱼ) + 8 f(x + h eⱼ) − 8 f(x − h eⱼ) + f(x − 2h eⱼ)) / 12h,
///
/// whose truncation error is h⁴|f⁽⁵⁾|/30 and rounding error ≈ 1.5·ε|f|/h. With h = 1e-3 both are
/// ≈ 1e-13 for well-scaled f, so this agrees with exact Jacobians to ~1e-12 (a plain central
/// difference cannot: its best error is ≈ ε^{2/3} ≈ 1e-10).
public func numericJacobian(of f: (Tensor<Double>) -> Tensor<Double>, at x: Tensor<Double>, step h: Double = 1e-3) -> Tensor<Double> {
    let y = withoutDerivative { f(x) }
    var j = Tensor<Double>.zeros([y.count, x.count])
    func shifted(_ c: Int, _ by: Double) -> [Double] {
        var moved = x
        moved.scalars[c] += by
        return withoutDerivative { f(moved) }.scalars
    }
    for c in 0..<x.count {
        let p2 = shifted(c, 2 * h), p1 = shifted(c, h), m1 = shifted(c, -h), m2 = shifted(c, -2 * h)
        for r in 0..<y.count { j.scalars[r * x.count + c] = (-p2[r] + 8 * p1[r] - 8 * m1[r] + m2[r]) / (12 * h) }
    }
    return j
}
