/// The two maps of the derivation — y = softmax(βx) and y = Wx + b — with their Jacobians
/// available four ways (reverse and forward mode, the closed form, finite differences), so that the
/// methods can be compared entry by entry (`backprop jacobian`).
public enum ClosedFormMap: Sendable {
    /// y = softmax(βx), x ∈ ℝⁿ. Jacobian [n, n].
    case softmax(x: Tensor<Double>, beta: Double)
    /// y = Wx + b with W [T, N]. Jacobian with respect to `wrt`: x → [T, N], b → [T, T], W → [T, T·N].
    case affine(weight: Tensor<Double>, bias: Tensor<Double>, x: Tensor<Double>, wrt: AffineArgument)

    /// The argument of y = Wx + b a Jacobian is taken with respect to; the raw value is its
    /// name on the command line.
    public enum AffineArgument: String, Sendable, CaseIterable {
        /// W, the weight [T, N]; b, the bias [T]; x, the input [N].
        case w, b, x
    }

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
        case .numeric: return FiniteDifferences.jacobian(of: function, at: point, stencil: .fourthOrder, step: { _ in 1e-3 })
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
