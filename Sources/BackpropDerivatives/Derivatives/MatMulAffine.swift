// Derivatives of the matrix product and the affine map (Rules/MatMul.swift, Rules/Affine.swift),
// routed to the library's rules, with a VJP and a JVP per subset of operands that a model
// differentiates (a first layer's input is a constant: its cotangent, one more product, is skipped).

import Backprop
import _Differentiation

extension Tensor {
    // MARK: matmul(_:transposed:_:transposed:)

    @derivative(of: matmul(_:transposed:_:transposed:), wrt: (a, b))
    public static func _vjpMatmul(_ a: Tensor, transposed ta: Bool, _ b: Tensor, transposed tb: Bool)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(a, b) { matmul($0, transposed: ta, $1, transposed: tb) }
    }

    @derivative(of: matmul(_:transposed:_:transposed:), wrt: a)
    public static func _vjpMatmulLeft(_ a: Tensor, transposed ta: Bool, _ b: Tensor, transposed tb: Bool)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(a) { matmul($0, transposed: ta, b, transposed: tb) }
    }

    @derivative(of: matmul(_:transposed:_:transposed:), wrt: b)
    public static func _vjpMatmulRight(_ a: Tensor, transposed ta: Bool, _ b: Tensor, transposed tb: Bool)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(b) { matmul(a, transposed: ta, $0, transposed: tb) }
    }

    @derivative(of: matmul(_:transposed:_:transposed:), wrt: a)
    public static func _jvpMatmulLeft(_ a: Tensor, transposed ta: Bool, _ b: Tensor, transposed tb: Bool)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(a) { matmul($0, transposed: ta, b, transposed: tb) }
    }

    @derivative(of: matmul(_:transposed:_:transposed:), wrt: b)
    public static func _jvpMatmulRight(_ a: Tensor, transposed ta: Bool, _ b: Tensor, transposed tb: Bool)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(b) { matmul(a, transposed: ta, $0, transposed: tb) }
    }

    @derivative(of: matmul(_:transposed:_:transposed:), wrt: (a, b))
    public static func _jvpMatmul(_ a: Tensor, transposed ta: Bool, _ b: Tensor, transposed tb: Bool)
        -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(a, b) { matmul($0, transposed: ta, $1, transposed: tb) }
    }

    // MARK: self.matmul(other)

    @derivative(of: matmul(_:))
    public func _vjpMatmul(_ other: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(self, other) { $0.matmul($1) }
    }

    @derivative(of: matmul(_:), wrt: self)
    public func _vjpMatmulLeft(_ other: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.matmul(other) }
    }

    @derivative(of: matmul(_:), wrt: other)
    public func _vjpMatmulRight(_ other: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(other) { self.matmul($0) }
    }

    @derivative(of: matmul(_:), wrt: self)
    public func _jvpMatmulLeft(_ other: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.matmul(other) }
    }

    @derivative(of: matmul(_:), wrt: other)
    public func _jvpMatmulRight(_ other: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(other) { self.matmul($0) }
    }

    @derivative(of: matmul(_:))
    public func _jvpMatmul(_ other: Tensor) -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(self, other) { $0.matmul($1) }
    }

    // MARK: affine(_:weight:bias:) with the library's optional bias

    @derivative(of: affine(_:weight:bias:), wrt: (x, weight, bias))
    public static func _vjpAffine(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Optional<Tensor>.TangentVector)) {
        guard let bias else {
            let (value, pullback) = LibraryRule.vjp(x, weight) { affine($0, weight: $1) }
            return (value, { let (gx, gw) = pullback($0); return (gx, gw, .init(nil)) })
        }
        let (value, pullback) = LibraryRule.vjp([x, weight, bias]) { affine($0[0], weight: $0[1], bias: $0[2]) }
        return (value, { let g = pullback($0); return (g[0], g[1], .init(g[2])) })
    }

    @derivative(of: affine(_:weight:bias:), wrt: (weight, bias))
    public static func _vjpAffineParameters(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Optional<Tensor>.TangentVector)) {
        guard let bias else {
            let (value, pullback) = LibraryRule.vjp(weight) { affine(x, weight: $0) }
            return (value, { (pullback($0), .init(nil)) })
        }
        let (value, pullback) = LibraryRule.vjp(weight, bias) { affine(x, weight: $0, bias: $1) }
        return (value, { let (gw, gb) = pullback($0); return (gw, .init(gb)) })
    }

    @derivative(of: affine(_:weight:bias:), wrt: (x, weight))
    public static func _vjpAffineInputAndWeight(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(x, weight) { affine($0, weight: $1, bias: bias) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: weight)
    public static func _vjpAffineWeight(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(weight) { affine(x, weight: $0, bias: bias) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: x)
    public static func _vjpAffineInput(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(x) { affine($0, weight: weight, bias: bias) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: (weight, bias))
    public static func _jvpAffineParameters(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, differential: (Tensor, Optional<Tensor>.TangentVector) -> Tensor) {
        guard let bias else {
            let (value, differential) = LibraryRule.jvp(weight) { affine(x, weight: $0) }
            return (value, { dw, _ in differential(dw) })
        }
        let (value, differential) = LibraryRule.jvp(weight, bias) { affine(x, weight: $0, bias: $1) }
        return (value, { dw, db in differential(dw, db.value ?? .zero) })
    }

    @derivative(of: affine(_:weight:bias:), wrt: (x, weight))
    public static func _jvpAffineInputAndWeight(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(x, weight) { affine($0, weight: $1, bias: bias) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: weight)
    public static func _jvpAffineWeight(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(weight) { affine(x, weight: $0, bias: bias) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: x)
    public static func _jvpAffineInput(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(x) { affine($0, weight: weight, bias: bias) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: (x, weight, bias))
    public static func _jvpAffine(_ x: Tensor, weight: Tensor, bias: Tensor?)
        -> (value: Tensor, differential: (Tensor, Tensor, Optional<Tensor>.TangentVector) -> Tensor) {
        guard let bias else {
            let (value, differential) = LibraryRule.jvp(x, weight) { affine($0, weight: $1) }
            return (value, { dx, dw, _ in differential(dx, dw) })
        }
        let (value, differential) = LibraryRule.jvp([x, weight, bias]) { affine($0[0], weight: $0[1], bias: $0[2]) }
        return (value, { dx, dw, db in differential([dx, dw, db.value ?? .zero]) })
    }

    // MARK: affine(_:weight:bias:) with a bias that is always there

    /// y = x·Wᵀ + b with a bias that is not optional: the library's `affine`, for differentiable
    /// code. Calls with a non-optional bias resolve here, and their derivatives skip the
    /// `Optional` tangent — which is also what keeps an optimised build of a `@differentiable`
    /// caller from crashing the Swift 6.3 compiler (see the article's known limits).
    public static func affine(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
        affine(x, weight: weight, bias: Optional(bias))
    }

    @derivative(of: affine(_:weight:bias:), wrt: (x, weight, bias))
    public static func _vjpAffineWithBias(_ x: Tensor, weight: Tensor, bias: Tensor)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
        let (value, pullback) = LibraryRule.vjp([x, weight, bias]) { affine($0[0], weight: $0[1], bias: Optional($0[2])) }
        return (value, { let g = pullback($0); return (g[0], g[1], g[2]) })
    }

    @derivative(of: affine(_:weight:bias:), wrt: (weight, bias))
    public static func _vjpAffineWithBiasParameters(_ x: Tensor, weight: Tensor, bias: Tensor)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(weight, bias) { affine(x, weight: $0, bias: Optional($1)) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: x)
    public static func _vjpAffineWithBiasInput(_ x: Tensor, weight: Tensor, bias: Tensor)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(x) { affine($0, weight: weight, bias: Optional(bias)) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: (weight, bias))
    public static func _jvpAffineWithBiasParameters(_ x: Tensor, weight: Tensor, bias: Tensor)
        -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(weight, bias) { affine(x, weight: $0, bias: Optional($1)) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: x)
    public static func _jvpAffineWithBiasInput(_ x: Tensor, weight: Tensor, bias: Tensor)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(x) { affine($0, weight: weight, bias: Optional(bias)) }
    }

    @derivative(of: affine(_:weight:bias:), wrt: (x, weight, bias))
    public static func _jvpAffineWithBias(_ x: Tensor, weight: Tensor, bias: Tensor)
        -> (value: Tensor, differential: (Tensor, Tensor, Tensor) -> Tensor) {
        let (value, differential) = LibraryRule.jvp([x, weight, bias]) { affine($0[0], weight: $0[1], bias: Optional($0[2])) }
        return (value, { differential([$0, $1, $2]) })
    }
}
