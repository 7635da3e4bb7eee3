// Tensor as a Swift `Differentiable` value, and the bridge to the library's own derivative rules.

import Backprop
import _Differentiation

// MARK: - Tangent arithmetic

/// A tensor's tangent (and cotangent) is a tensor of its shape, or the *zero tangent*: the
/// rank-0 tensor 0, which stands for zeros of any shape (it broadcasts).
///
/// Swift's differentiation starts every adjoint at `zero` and adds into it, and a model's
/// tangent holds `zero` in every field that a use did not reach. Adding the zero tangent
/// therefore returns the other operand as it is — no allocation, no pass over memory — while
/// the sum of two non-zero tangents is the library's own broadcasting `+`.
///
/// These are the `AdditiveArithmetic` witnesses only (`@_implements`): `a + b` written in code
/// still calls the library's operator, which records on Backprop's tape and always broadcasts.
/// The one visible difference of the shortcut is the sign of a zero: `zero + (−0)` gives −0
/// where IEEE addition gives +0.
extension Tensor: AdditiveArithmetic {
    /// The zero tangent: rank 0, value 0, standing for zeros of any shape.
    public static var zero: Tensor { Tensor(0) }

    /// Whether this is the zero tangent (a rank-0 tensor whose value is zero).
    public var isZeroTangent: Bool { shape.isEmpty && scalars[0] == 0 }

    /// This tensor, or when it is the zero tangent standing in for a tensor of `shape`, zeros of
    /// that shape.
    public func materialized(toShape shape: [Int]) -> Tensor {
        self.shape == shape || !isZeroTangent ? self : .zeros(shape)
    }

    /// a + b, returning the other operand unchanged when one is the zero tangent.
    @_implements(AdditiveArithmetic, +(_:_:))
    public static func tangentSum(_ a: Tensor, _ b: Tensor) -> Tensor {
        if b.isZeroTangent { return a }
        if a.isZeroTangent { return b }
        return a + b
    }

    /// a − b, returning a unchanged when b is the zero tangent and −b when a is.
    @_implements(AdditiveArithmetic, -(_:_:))
    public static func tangentDifference(_ a: Tensor, _ b: Tensor) -> Tensor {
        if b.isZeroTangent { return a }
        if a.isZeroTangent { return -b }
        return a - b
    }

    /// a += b through `tangentSum`.
    @_implements(AdditiveArithmetic, +=(_:_:))
    public static func tangentAdd(_ a: inout Tensor, _ b: Tensor) {
        a = tangentSum(a, b)
    }

    /// a −= b through `tangentDifference`.
    @_implements(AdditiveArithmetic, -=(_:_:))
    public static func tangentSubtract(_ a: inout Tensor, _ b: Tensor) {
        a = tangentDifference(a, b)
    }
}

/// A tensor is its own tangent space: `TangentVector == Tensor`.
extension Tensor: Differentiable {
    /// A tensor: of this tensor's shape, or the zero tangent.
    public typealias TangentVector = Tensor

    /// self ← self + offset (the zero tangent moves nothing).
    public mutating func move(by offset: Tensor) {
        self = Tensor.tangentSum(self, offset)
    }
}

/// The tangent of a value with nothing to differentiate (an activation layer).
public struct EmptyTangent: Differentiable, AdditiveArithmetic, Sendable {
    /// Itself: the tangent of an empty tangent is empty.
    public typealias TangentVector = EmptyTangent
    /// The empty tangent, the type's only value.
    public init() {}
    /// The empty tangent, the type's only value.
    public static var zero: EmptyTangent { EmptyTangent() }
    /// The empty tangent: the sum of two empty tangents.
    public static func + (_: EmptyTangent, _: EmptyTangent) -> EmptyTangent { EmptyTangent() }
    /// The empty tangent: the difference of two empty tangents.
    public static func - (_: EmptyTangent, _: EmptyTangent) -> EmptyTangent { EmptyTangent() }
    /// Does nothing: there is nothing to move.
    public mutating func move(by _: EmptyTangent) {}
}

// MARK: - The bridge to the library's rules

/// Runs a library operation under Backprop's own transforms and hands its derivative to Swift:
/// every derivative this module registers is one of these calls, so the rules the compiler
/// uses are the library's hand-written VJPs and JVPs (fused kernels included).
enum LibraryRule {
    /// f's value at `inputs` and its pullback from `Backprop.valueWithPullback(at:of:)`: one
    /// cotangent per input, each of its input's shape. A zero-tangent cotangent (Swift passes
    /// one for an unused result) is pulled back to zero tangents without running the rules.
    static func vjp<Scalar>(_ inputs: [Tensor<Scalar>], _ f: ([Tensor<Scalar>]) -> Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> [Tensor<Scalar>]) {
        let (value, pullback) = Backprop.valueWithPullback(at: inputs, of: f)
        let count = inputs.count, shape = value.shape
        return (value, { cotangent in
            if cotangent.shape != shape {
                precondition(cotangent.isZeroTangent,
                             "pullback: cotangent of shape \(cotangent.shape) for a value of shape \(shape)")
                return [Tensor<Scalar>](repeating: .zero, count: count)
            }
            return pullback(cotangent)
        })
    }

    /// `vjp` for one input.
    static func vjp<Scalar>(_ input: Tensor<Scalar>, _ f: (Tensor<Scalar>) -> Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>) {
        let (value, pullback) = vjp([input]) { f($0[0]) }
        return (value, { pullback($0)[0] })
    }

    /// `vjp` for two inputs.
    static func vjp<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>,
                            _ f: (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>)) {
        let (value, pullback) = vjp([a, b]) { f($0[0], $0[1]) }
        return (value, { let g = pullback($0); return (g[0], g[1]) })
    }

    /// f's value at `inputs` and its differential from `Backprop.valueWithDifferential(at:of:)`.
    /// Zero-tangent inputs are expanded to zeros of their input's shape; when every input
    /// tangent is zero the result is the zero tangent, with no rule run.
    static func jvp<Scalar>(_ inputs: [Tensor<Scalar>], _ f: ([Tensor<Scalar>]) -> Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: ([Tensor<Scalar>]) -> Tensor<Scalar>) {
        let (value, differential) = Backprop.valueWithDifferential(at: inputs, of: f)
        let shapes = inputs.map { $0.shape }
        return (value, { tangents in
            if zip(tangents, shapes).allSatisfy({ $0.shape != $1 && $0.isZeroTangent }) { return .zero }
            return differential(zip(tangents, shapes).map { $0.materialized(toShape: $1) })
        })
    }

    /// `jvp` for one input.
    static func jvp<Scalar>(_ input: Tensor<Scalar>, _ f: (Tensor<Scalar>) -> Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (Tensor<Scalar>) -> Tensor<Scalar>) {
        let (value, differential) = jvp([input]) { f($0[0]) }
        return (value, { differential([$0]) })
    }

    /// `jvp` for two inputs.
    static func jvp<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>,
                            _ f: (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>) {
        let (value, differential) = jvp([a, b]) { f($0[0], $0[1]) }
        return (value, { differential([$0, $1]) })
    }
}
