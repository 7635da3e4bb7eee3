import BackpropKernels

// Elementwise arithmetic with broadcasting: forward, VJP and JVP side by side.
// Cotangents are returned in the broadcast (output) shape; the engine sums them down.

extension Tensor {
    static func broadcastShape(_ op: String, _ a: Tensor, _ b: Tensor) -> [Int] {
        guard let shape = Broadcasting.shape(a.shape, b.shape) else {
            requirementFailed("\(op): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        return shape
    }

    static func binaryValue(_ op: BinaryOperation, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape(op.rawValue, a, b)
        return Tensor(shape: shape, scalars: ElementwiseKernels.binary(op, a.scalars, a.shape, b.scalars, b.shape, shape: shape))
    }

    /// a + b. ∂/∂a: g; ∂/∂b: g. JVP: ȧ + ḃ.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        recordedElementwise("add", value: binaryValue(.add, a, b), inputs: [a, b],
                 pullback: { [$0.cotangent, $0.cotangent] },
                 differential: { t, _ in sumOfTangents(t[0], t[1]) })
    }

    /// a − b. ∂/∂a: g; ∂/∂b: −g. JVP: ȧ − ḃ.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        recordedElementwise("subtract", value: binaryValue(.subtract, a, b), inputs: [a, b],
                 pullback: { p in [p.cotangent, p.needs[1] ? -p.cotangent : nil] },
                 differential: { t, _ in sumOfTangents(t[0], t[1].map { -$0 }) })
    }

    /// a ⊙ b. ∂/∂a: g ⊙ b; ∂/∂b: g ⊙ a. JVP: ȧ ⊙ b + a ⊙ ḃ.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        recordedElementwise("multiply", value: binaryValue(.multiply, a, b), inputs: [a, b],
                 pullback: { p in [p.needs[0] ? p.cotangent * b : nil, p.needs[1] ? p.cotangent * a : nil] },
                 differential: { t, _ in sumOfTangents(t[0].map { $0 * b }, t[1].map { a * $0 }) })
    }

    /// a ⊘ b. ∂/∂a: g ⊘ b; ∂/∂b: −g ⊙ y ⊘ b (y = a ⊘ b). JVP: (ȧ − y ⊙ ḃ) ⊘ b.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        recordedElementwise("divide", value: binaryValue(.divide, a, b), inputs: [a, b],
                 pullback: { p in [p.needs[0] ? p.cotangent / b : nil,
                                   p.needs[1] ? -(p.cotangent * p.output / b) : nil] },
                 differential: { t, y in sumOfTangents(t[0].map { $0 / b }, t[1].map { -(y * $0 / b) }) })
    }

    /// −x. VJP: −g. JVP: −ẋ.
    public static prefix func - (x: Tensor) -> Tensor {
        recordedElementwise("negate", value: Tensor(shape: x.shape, scalars: ElementwiseKernels.unary(.negate, x.scalars)),
                 inputs: [x], pullback: { [-$0.cotangent] }, differential: { t, _ in t[0].map { -$0 } })
    }

    /// Elementwise maximum. The cotangent goes to the larger input (to `a` on ties).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let y = binaryValue(.maximum, a, b)
        let pickA = withoutDerivative { (a - b).unary(.sign) + 1 }.unary(.sign)  // 1 where a ≥ b
        return recordedElementwise("maximum", value: y, inputs: [a, b],
                        pullback: { p in [p.cotangent * pickA, p.cotangent * (1 - pickA)] },
                        differential: { t, _ in sumOfTangents(t[0].map { $0 * pickA }, t[1].map { $0 * (1 - pickA) }) })
    }

    static func sumOfTangents(_ a: Tensor?, _ b: Tensor?) -> Tensor? {
        switch (a, b) {
        case let (a?, b?): return a + b
        case let (a?, nil): return a
        case let (nil, b?): return b
        case (nil, nil): return nil
        }
    }

    /// a + b with b a constant scalar, added to every element. ∂/∂a: g.
    public static func + (a: Tensor, b: Scalar) -> Tensor { a + Tensor(b) }
    /// a + b with a a constant scalar, added to every element. ∂/∂b: g.
    public static func + (a: Scalar, b: Tensor) -> Tensor { Tensor(a) + b }
    /// a − b with b a constant scalar, subtracted from every element. ∂/∂a: g.
    public static func - (a: Tensor, b: Scalar) -> Tensor { a - Tensor(b) }
    /// a − b with a a constant scalar, each element subtracted from it. ∂/∂b: −g.
    public static func - (a: Scalar, b: Tensor) -> Tensor { Tensor(a) - b }
    /// a·b with b a constant scalar multiplying every element. ∂/∂a: g·b.
    public static func * (a: Tensor, b: Scalar) -> Tensor { a * Tensor(b) }
    /// a·b with a a constant scalar multiplying every element. ∂/∂b: a·g.
    public static func * (a: Scalar, b: Tensor) -> Tensor { Tensor(a) * b }
    /// a / b with b a constant scalar dividing every element. ∂/∂a: g / b.
    public static func / (a: Tensor, b: Scalar) -> Tensor { a / Tensor(b) }
    /// a ⊘ b with a a constant scalar divided by every element. ∂/∂b: −g ⊙ a ⊘ b².
    public static func / (a: Scalar, b: Tensor) -> Tensor { Tensor(a) / b }

    /// a ← a + b (broadcasting; recorded as `+`, so a stays differentiable).
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    /// a ← a − b (broadcasting; recorded as `-`).
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    /// a ← a ⊙ b (broadcasting; recorded as `*`).
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
}
