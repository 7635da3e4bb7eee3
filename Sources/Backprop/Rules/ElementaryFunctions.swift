import BackpropKernels

// Unary elementary functions: forward, VJP and JVP side by side. Each derivative is written
// with differentiable operations on the saved input x or output y, so it can be differentiated again.

extension Tensor {
    /// The kernel alone: op applied to every element, untracked.
    func unary(_ op: UnaryOperation) -> Tensor {
        Tensor(shape: shape, scalars: ElementwiseKernels.unary(op, scalars))
    }

    /// Records a unary op whose derivative is y′ = `derivative(x, y)` elementwise:
    /// VJP g ⊙ y′, JVP y′ ⊙ ẋ. `fusedPullback(g, x)`, when given, computes the same VJP in one
    /// kernel pass and is used when the backward pass is not being recorded.
    func unaryRecorded(_ op: UnaryOperation, fusedPullback: ((Tensor, Tensor) -> Tensor)? = nil,
                       derivative: @escaping (Tensor, Tensor) -> Tensor) -> Tensor {
        let x = self
        return Tensor.recordedElementwise(op.rawValue, value: unary(op), inputs: [x],
                               pullback: { p in
                                   if let fusedPullback, PullbackInput<Scalar>.mayFuse { return [fusedPullback(p.cotangent, x)] }
                                   return [p.cotangent * derivative(x, p.output)]
                               },
                               differential: { t, y in t[0].map { derivative(x, y) * $0 } })
    }

    /// eˣ, elementwise. Derivative: eˣ = y.
    public func exp() -> Tensor { unaryRecorded(.exp) { _, y in y } }                         // (eˣ)′ = eˣ = y
    /// The natural logarithm, elementwise (x > 0). Derivative: 1/x.
    public func log() -> Tensor { unaryRecorded(.log) { x, _ in 1 / x } }                     // (log x)′ = 1/x
    /// tanh x, elementwise. Derivative: 1 − y².
    public func tanh() -> Tensor { unaryRecorded(.tanh) { _, y in 1 - y * y } }               // (tanh x)′ = 1 − y²
    /// σ(x) = 1/(1 + e^{−x}), elementwise. Derivative: y(1 − y).
    public func sigmoid() -> Tensor { unaryRecorded(.sigmoid) { _, y in y * (1 - y) } }       // σ′ = σ(1 − σ)
    /// √x, elementwise (x ≥ 0). Derivative: 1/(2y).
    public func sqrt() -> Tensor { unaryRecorded(.sqrt) { _, y in 0.5 / y } }                 // (√x)′ = 1/(2√x)
    /// |x|, elementwise. Derivative: sign x (0 at 0).
    public func abs() -> Tensor { unaryRecorded(.abs) { x, _ in x.unary(.sign) } }            // |x|′ = sign x (0 at 0)
    /// max(x, 0). Derivative: 1 where x > 0, else 0 (0 at the kink, as PyTorch).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func relu() -> Tensor {
        unaryRecorded(.relu, fusedPullback: { g, x in
            Tensor(shape: g.shape, scalars: ElementwiseKernels.reluBackward(g.scalars, input: x.scalars))
        }) { x, _ in x.unary(.positiveStep) }
    }
    /// The error function; erf′(x) = (2/√π)·e^{−x²}.
    public func erf() -> Tensor {
        unaryRecorded(.erf) { x, _ in Scalar(2 / Double.pi.squareRoot()) * (-(x * x)).exp() }
    }
    /// x raised to a constant power p; derivative p·x^{p−1}.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pow(_ p: Scalar) -> Tensor {
        let x = self
        // An integral exponent uses repeated multiplication, defined for negative bases too.
        let integral: Int? = p.rounded() == p && Swift.abs(p) < 1_048_576 ? Int(p) : nil
        let value = Tensor(shape: shape, scalars: scalars.map { x in integral.map { Scalar.pow(x, $0) } ?? Scalar.pow(x, p) })
        let derivative = { (x: Tensor) in p * x.pow(p - 1) }
        return Tensor.recordedElementwise("pow", value: value, inputs: [x],
                               pullback: { [$0.cotangent * derivative(x)] },
                               differential: { t, _ in t[0].map { derivative(x) * $0 } })
    }
    /// x². A composite of `*`.
    public func squared() -> Tensor { self * self }
    /// GELU, exact form as PyTorch's default: x·Φ(x) = x·½(1 + erf(x/√2)). A composite.
    public func gelu() -> Tensor {
        self * (0.5 * (1 + (self * Scalar(1 / Double(2).squareRoot())).erf()))
    }
}
