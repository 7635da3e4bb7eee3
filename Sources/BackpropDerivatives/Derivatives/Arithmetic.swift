// Derivatives of the elementwise arithmetic (Rules/Arithmetic.swift), each routed to the
// library's rule. Binary operators have a VJP for both operands and one for each alone, so a
// constant operand's cotangent is never computed, and a JVP for each of the same subsets
// (forward mode takes the derivative registered for exactly the parameters it needs).

import Backprop
import _Differentiation

extension Tensor {
    // MARK: a + b

    @derivative(of: +)
    public static func _vjpAdd(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(a, b) { $0 + $1 }
    }

    @derivative(of: +, wrt: a)
    public static func _vjpAddLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { $0 + b }
    }

    @derivative(of: +, wrt: b)
    public static func _vjpAddRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { a + $0 }
    }

    @derivative(of: +, wrt: a)
    public static func _jvpAddLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { $0 + b }
    }

    @derivative(of: +, wrt: b)
    public static func _jvpAddRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { a + $0 }
    }

    @derivative(of: +)
    public static func _jvpAdd(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(a, b) { $0 + $1 }
    }

    // MARK: a − b

    @derivative(of: -)
    public static func _vjpSubtract(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(a, b) { $0 - $1 }
    }

    @derivative(of: -, wrt: a)
    public static func _vjpSubtractLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { $0 - b }
    }

    @derivative(of: -, wrt: b)
    public static func _vjpSubtractRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { a - $0 }
    }

    @derivative(of: -, wrt: a)
    public static func _jvpSubtractLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { $0 - b }
    }

    @derivative(of: -, wrt: b)
    public static func _jvpSubtractRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { a - $0 }
    }

    @derivative(of: -)
    public static func _jvpSubtract(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(a, b) { $0 - $1 }
    }

    // MARK: a ⊙ b

    @derivative(of: *)
    public static func _vjpMultiply(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(a, b) { $0 * $1 }
    }

    @derivative(of: *, wrt: a)
    public static func _vjpMultiplyLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { $0 * b }
    }

    @derivative(of: *, wrt: b)
    public static func _vjpMultiplyRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { a * $0 }
    }

    @derivative(of: *, wrt: a)
    public static func _jvpMultiplyLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { $0 * b }
    }

    @derivative(of: *, wrt: b)
    public static func _jvpMultiplyRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { a * $0 }
    }

    @derivative(of: *)
    public static func _jvpMultiply(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(a, b) { $0 * $1 }
    }

    // MARK: a ⊘ b

    @derivative(of: /)
    public static func _vjpDivide(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(a, b) { $0 / $1 }
    }

    @derivative(of: /, wrt: a)
    public static func _vjpDivideLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { $0 / b }
    }

    @derivative(of: /, wrt: b)
    public static func _vjpDivideRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { a / $0 }
    }

    @derivative(of: /, wrt: a)
    public static func _jvpDivideLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { $0 / b }
    }

    @derivative(of: /, wrt: b)
    public static func _jvpDivideRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { a / $0 }
    }

    @derivative(of: /)
    public static func _jvpDivide(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(a, b) { $0 / $1 }
    }

    // MARK: −x, maximum

    @derivative(of: -)
    public static func _vjpNegate(_ x: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(x) { -$0 }
    }

    @derivative(of: -)
    public static func _jvpNegate(_ x: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(x) { -$0 }
    }

    @derivative(of: maximum)
    public static func _vjpMaximum(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(a, b) { maximum($0, $1) }
    }

    @derivative(of: maximum, wrt: a)
    public static func _vjpMaximumLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { maximum($0, b) }
    }

    @derivative(of: maximum, wrt: b)
    public static func _vjpMaximumRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { maximum(a, $0) }
    }

    @derivative(of: maximum, wrt: a)
    public static func _jvpMaximumLeft(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { maximum($0, b) }
    }

    @derivative(of: maximum, wrt: b)
    public static func _jvpMaximumRight(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { maximum(a, $0) }
    }

    @derivative(of: maximum)
    public static func _jvpMaximum(_ a: Tensor, _ b: Tensor) -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(a, b) { maximum($0, $1) }
    }

    // MARK: A tensor and a constant scalar (the scalar is not differentiated)

    @derivative(of: +, wrt: a)
    public static func _vjpAddScalar(_ a: Tensor, _ b: Scalar) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { $0 + b }
    }

    @derivative(of: +, wrt: a)
    public static func _jvpAddScalar(_ a: Tensor, _ b: Scalar) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { $0 + b }
    }

    @derivative(of: +, wrt: b)
    public static func _vjpScalarAdd(_ a: Scalar, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { a + $0 }
    }

    @derivative(of: +, wrt: b)
    public static func _jvpScalarAdd(_ a: Scalar, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { a + $0 }
    }

    @derivative(of: -, wrt: a)
    public static func _vjpSubtractScalar(_ a: Tensor, _ b: Scalar) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { $0 - b }
    }

    @derivative(of: -, wrt: a)
    public static func _jvpSubtractScalar(_ a: Tensor, _ b: Scalar) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { $0 - b }
    }

    @derivative(of: -, wrt: b)
    public static func _vjpScalarSubtract(_ a: Scalar, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { a - $0 }
    }

    @derivative(of: -, wrt: b)
    public static func _jvpScalarSubtract(_ a: Scalar, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { a - $0 }
    }

    @derivative(of: *, wrt: a)
    public static func _vjpMultiplyScalar(_ a: Tensor, _ b: Scalar) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { $0 * b }
    }

    @derivative(of: *, wrt: a)
    public static func _jvpMultiplyScalar(_ a: Tensor, _ b: Scalar) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { $0 * b }
    }

    @derivative(of: *, wrt: b)
    public static func _vjpScalarMultiply(_ a: Scalar, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { a * $0 }
    }

    @derivative(of: *, wrt: b)
    public static func _jvpScalarMultiply(_ a: Scalar, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { a * $0 }
    }

    @derivative(of: /, wrt: a)
    public static func _vjpDivideScalar(_ a: Tensor, _ b: Scalar) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { $0 / b }
    }

    @derivative(of: /, wrt: a)
    public static func _jvpDivideScalar(_ a: Tensor, _ b: Scalar) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { $0 / b }
    }

    @derivative(of: /, wrt: b)
    public static func _vjpScalarDivide(_ a: Scalar, _ b: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { a / $0 }
    }

    @derivative(of: /, wrt: b)
    public static func _jvpScalarDivide(_ a: Scalar, _ b: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { a / $0 }
    }

    // MARK: Compound assignment

    @derivative(of: +=)
    public static func _vjpAddAssign(_ a: inout Tensor, _ b: Tensor) -> (value: Void, pullback: (inout Tensor) -> Tensor) {
        let (value, pullback) = LibraryRule.vjp(a, b) { $0 + $1 }
        a = value
        return ((), { g in let (ga, gb) = pullback(g); g = ga; return gb })
    }

    @derivative(of: +=)
    public static func _jvpAddAssign(_ a: inout Tensor, _ b: Tensor) -> (value: Void, differential: (inout Tensor, Tensor) -> Void) {
        let (value, differential) = LibraryRule.jvp(a, b) { $0 + $1 }
        a = value
        return ((), { da, db in da = differential(da, db) })
    }

    @derivative(of: -=)
    public static func _vjpSubtractAssign(_ a: inout Tensor, _ b: Tensor) -> (value: Void, pullback: (inout Tensor) -> Tensor) {
        let (value, pullback) = LibraryRule.vjp(a, b) { $0 - $1 }
        a = value
        return ((), { g in let (ga, gb) = pullback(g); g = ga; return gb })
    }

    @derivative(of: -=)
    public static func _jvpSubtractAssign(_ a: inout Tensor, _ b: Tensor) -> (value: Void, differential: (inout Tensor, Tensor) -> Void) {
        let (value, differential) = LibraryRule.jvp(a, b) { $0 - $1 }
        a = value
        return ((), { da, db in da = differential(da, db) })
    }

    @derivative(of: *=)
    public static func _vjpMultiplyAssign(_ a: inout Tensor, _ b: Tensor) -> (value: Void, pullback: (inout Tensor) -> Tensor) {
        let (value, pullback) = LibraryRule.vjp(a, b) { $0 * $1 }
        a = value
        return ((), { g in let (ga, gb) = pullback(g); g = ga; return gb })
    }

    @derivative(of: *=)
    public static func _jvpMultiplyAssign(_ a: inout Tensor, _ b: Tensor) -> (value: Void, differential: (inout Tensor, Tensor) -> Void) {
        let (value, differential) = LibraryRule.jvp(a, b) { $0 * $1 }
        a = value
        return ((), { da, db in da = differential(da, db) })
    }
}
