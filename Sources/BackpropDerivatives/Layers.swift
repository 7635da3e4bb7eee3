// The library's layers as `Differentiable` values, their calls differentiated by the library's
// rules. (Their `DifferentiableLayer` conformances are in BackpropDifferentiable: see there.)

import Backprop
import _Differentiation

/// A layer that Swift can differentiate through, generically: its `callAsFunction` is
/// `@differentiable` with respect to the layer and the input.
///
/// The library's layers conform in `BackpropDifferentiable`; a layer of your own conforms by
/// marking its `callAsFunction` `@differentiable(reverse)`:
///
///     struct Scaled: DifferentiableLayer {
///         var scale: Tensor<Float>
///         mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
///             visitor.parameter("scale", &scale)
///         }
///         @differentiable(reverse)
///         func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { x * scale }
///     }
public protocol DifferentiableLayer<Scalar>: Layer, Differentiable {
    /// The scalar type of the input, the output and the layer's tensors: `Layer`'s `Scalar`,
    /// named again as this protocol's primary associated type (`some DifferentiableLayer<Float>`).
    associatedtype Scalar
    /// The layer applied to `x`, differentiable with respect to the layer and `x`.
    @differentiable(reverse)
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>
}

// MARK: - Linear

extension Linear: Differentiable {
    /// The tangent of a dense layer: one tensor per parameter.
    public struct TangentVector: Differentiable, AdditiveArithmetic, Sendable {
        /// ∂/∂W, [outputs, inputs] (or the zero tangent).
        public var weight: Tensor<Scalar>
        /// ∂/∂b, [outputs] (or the zero tangent).
        public var bias: Tensor<Scalar>

        /// A tangent of the given fields: ∂/∂W [outputs, inputs] and ∂/∂b [outputs], either of
        /// which may be the zero tangent.
        public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
            self.weight = weight
            self.bias = bias
        }
    }

    /// W ← W + offset.weight, b ← b + offset.bias (a zero-tangent field moves nothing).
    public mutating func move(by offset: TangentVector) {
        weight.move(by: offset.weight)
        bias.move(by: offset.bias)
    }
}

extension Linear {
    /// The pullback of y = x·Wᵀ + b to (∂L/∂layer, ∂L/∂x), by the library's `Tensor.affine`
    /// rule: with g = ∂L/∂y [B, outputs] and x [B, inputs], ∂L/∂W = gᵀ·x, ∂L/∂b = g summed over
    /// the batch, ∂L/∂x = g·W.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (TangentVector, Tensor<Scalar>)) {
        let (value, pullback) = LibraryRule.vjp([x, weight, bias]) { self.with(weight: $0[1], bias: $0[2])($0[0]) }
        return (value, { let g = pullback($0); return (TangentVector(weight: g[1], bias: g[2]), g[0]) })
    }

    /// The layer's parameters alone (a first layer: ∂L/∂x, one more product, is not formed).
    @derivative(of: callAsFunction, wrt: self)
    public func _vjpCallAsFunctionParameters(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> TangentVector) {
        let (value, pullback) = LibraryRule.vjp(weight, bias) { self.with(weight: $0, bias: $1)(x) }
        return (value, { let (gw, gb) = pullback($0); return TangentVector(weight: gw, bias: gb) })
    }

    /// The differential along a tangent of the layer alone (x fixed), by the library's
    /// `Tensor.affine` rule: ẏ = x·Ẇᵀ + ḃ.
    @derivative(of: callAsFunction, wrt: self)
    public func _jvpCallAsFunctionParameters(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (TangentVector) -> Tensor<Scalar>) {
        let (value, differential) = LibraryRule.jvp(weight, bias) { self.with(weight: $0, bias: $1)(x) }
        return (value, { differential($0.weight, $0.bias) })
    }

    /// The differential along (a tangent of the layer, ẋ), by the library's `Tensor.affine` rule:
    /// ẏ = ẋ·Wᵀ + x·Ẇᵀ + ḃ.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (TangentVector, Tensor<Scalar>) -> Tensor<Scalar>) {
        let (value, differential) = LibraryRule.jvp([x, weight, bias]) { self.with(weight: $0[1], bias: $0[2])($0[0]) }
        return (value, { t, dx in differential([dx, t.weight, t.bias]) })
    }

    /// This layer holding `weight` and `bias` (variables of a library transform).
    private func with(weight: Tensor<Scalar>, bias: Tensor<Scalar>) -> Linear {
        var layer = self
        layer.weight = weight
        layer.bias = bias
        return layer
    }
}

// MARK: - Activations

extension LibraryRule {
    /// A layer without parameters applied to x, and its pullback to (no tangent, ∂L/∂x) by the
    /// library's rules.
    static func vjp<L: Layer>(_ layer: L, _ x: Tensor<L.Scalar>)
        -> (value: Tensor<L.Scalar>, pullback: (Tensor<L.Scalar>) -> (EmptyTangent, Tensor<L.Scalar>)) {
        let (value, pullback) = vjp(x) { layer($0) }
        return (value, { (EmptyTangent(), pullback($0)) })
    }

    /// A layer without parameters applied to x, and its differential along (no tangent, ẋ) by
    /// the library's rules.
    static func jvp<L: Layer>(_ layer: L, _ x: Tensor<L.Scalar>)
        -> (value: Tensor<L.Scalar>, differential: (EmptyTangent, Tensor<L.Scalar>) -> Tensor<L.Scalar>) {
        let (value, differential) = jvp(x) { layer($0) }
        return (value, { differential($1) })
    }
}

extension ReLU: Differentiable {
    /// `EmptyTangent`: the layer has no parameters.
    public typealias TangentVector = EmptyTangent
    /// Does nothing: the layer has no parameters to move.
    public mutating func move(by offset: EmptyTangent) {}

    /// The pullback of `x.relu()` to (no tangent, ∂L/∂x), by the library's `relu()` rule:
    /// ∂L/∂x = g where x > 0, else 0.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (EmptyTangent, Tensor<Scalar>)) { LibraryRule.vjp(self, x) }

    /// The differential of `x.relu()` along (no tangent, ẋ), by the library's `relu()` rule:
    /// ẏ = ẋ where x > 0, else 0.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (EmptyTangent, Tensor<Scalar>) -> Tensor<Scalar>) { LibraryRule.jvp(self, x) }
}

extension Tanh: Differentiable {
    /// `EmptyTangent`: the layer has no parameters.
    public typealias TangentVector = EmptyTangent
    /// Does nothing: the layer has no parameters to move.
    public mutating func move(by offset: EmptyTangent) {}

    /// The pullback of y = `x.tanh()` to (no tangent, ∂L/∂x), by the library's `tanh()` rule:
    /// ∂L/∂x = g ⊙ (1 − y²).
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (EmptyTangent, Tensor<Scalar>)) { LibraryRule.vjp(self, x) }

    /// The differential of y = `x.tanh()` along (no tangent, ẋ), by the library's `tanh()`
    /// rule: ẏ = (1 − y²) ⊙ ẋ.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (EmptyTangent, Tensor<Scalar>) -> Tensor<Scalar>) { LibraryRule.jvp(self, x) }
}

extension Sigmoid: Differentiable {
    /// `EmptyTangent`: the layer has no parameters.
    public typealias TangentVector = EmptyTangent
    /// Does nothing: the layer has no parameters to move.
    public mutating func move(by offset: EmptyTangent) {}

    /// The pullback of y = `x.sigmoid()` to (no tangent, ∂L/∂x), by the library's `sigmoid()`
    /// rule: ∂L/∂x = g ⊙ y(1 − y).
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (EmptyTangent, Tensor<Scalar>)) { LibraryRule.vjp(self, x) }

    /// The differential of y = `x.sigmoid()` along (no tangent, ẋ), by the library's
    /// `sigmoid()` rule: ẏ = y(1 − y) ⊙ ẋ.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (EmptyTangent, Tensor<Scalar>) -> Tensor<Scalar>) { LibraryRule.jvp(self, x) }
}

extension GELU: Differentiable {
    /// `EmptyTangent`: the layer has no parameters.
    public typealias TangentVector = EmptyTangent
    /// Does nothing: the layer has no parameters to move.
    public mutating func move(by offset: EmptyTangent) {}

    /// The pullback of `x.gelu()` = x·Φ(x) to (no tangent, ∂L/∂x), by the library's `gelu()`
    /// rule: ∂L/∂x = g ⊙ (Φ(x) + x·φ(x)).
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (EmptyTangent, Tensor<Scalar>)) { LibraryRule.vjp(self, x) }

    /// The differential of `x.gelu()` = x·Φ(x) along (no tangent, ẋ), by the library's
    /// `gelu()` rule: ẏ = (Φ(x) + x·φ(x)) ⊙ ẋ.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (EmptyTangent, Tensor<Scalar>) -> Tensor<Scalar>) { LibraryRule.jvp(self, x) }
}

// MARK: - Softmax(β)

extension Softmax: Differentiable {
    /// The tangent of a β-softmax layer: ∂/∂β (rank 0). It is always the zero tangent when β
    /// is not learnable, and moving such a layer leaves β as it is.
    public struct TangentVector: Differentiable, AdditiveArithmetic, Sendable {
        /// ∂/∂β, rank 0 (or the zero tangent).
        public var beta: Tensor<Scalar>

        /// The tangent ∂/∂β = `beta`.
        public init(beta: Tensor<Scalar>) { self.beta = beta }
    }

    /// β ← β + offset.beta when β is learnable; a fixed β stays as it is.
    public mutating func move(by offset: TangentVector) {
        if isBetaLearnable { beta.move(by: offset.beta) }
    }
}

extension Softmax {
    /// The pullback of y = softmax(βx) (along the last axis) to (∂L/∂layer, ∂L/∂x), by the
    /// library's `softmax(inverseTemperature:)` rule: with z̄ = y ⊙ (g − Σᵢ gᵢyᵢ) per row,
    /// ∂L/∂x = β·z̄ and ∂L/∂β = Σ x ⊙ z̄ over all elements. For a fixed β the rule runs for x
    /// alone and ∂L/∂β is the zero tangent.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (TangentVector, Tensor<Scalar>)) {
        guard isBetaLearnable else {
            let (value, pullback) = LibraryRule.vjp(x) { self($0) }
            return (value, { (TangentVector(beta: .zero), pullback($0)) })
        }
        let (value, pullback) = LibraryRule.vjp(x, beta) { $0.softmax(inverseTemperature: $1) }
        return (value, { let (gx, gb) = pullback($0); return (TangentVector(beta: gb), gx) })
    }

    /// The differential of y = softmax(βx) along (β̇, ẋ), by the library's
    /// `softmax(inverseTemperature:)` rule: with ż = βẋ + β̇x, ẏ = y ⊙ (ż − Σᵢ yᵢżᵢ) per row.
    /// For a fixed β, β̇ is ignored.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (TangentVector, Tensor<Scalar>) -> Tensor<Scalar>) {
        guard isBetaLearnable else {
            let (value, differential) = LibraryRule.jvp(x) { self($0) }
            return (value, { differential($1) })
        }
        let (value, differential) = LibraryRule.jvp(x, beta) { $0.softmax(inverseTemperature: $1) }
        return (value, { t, dx in differential(dx, t.beta) })
    }
}

// MARK: - Residual

extension Residual: Differentiable where Body: Differentiable {
    /// The tangent of x + f(x): the body's.
    public struct TangentVector: Differentiable, AdditiveArithmetic {
        /// The body's tangent: x + f(x) has no parameters besides f's.
        public var body: Body.TangentVector

        /// The tangent whose body's tangent is `body`.
        public init(body: Body.TangentVector) { self.body = body }
    }

    /// Moves the body by `offset.body`.
    public mutating func move(by offset: TangentVector) {
        body.move(by: offset.body)
    }
}

extension Residual where Body: DifferentiableLayer {
    /// x + f(x): the body differentiated by Swift, the sum by the library's rule.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (TangentVector, Tensor<Scalar>)) {
        let (y, bodyPullback) = valueWithPullback(at: body, x) { body, x in body(x) }
        precondition(y.shape == x.shape, "Residual: the body maps shape \(x.shape) to \(y.shape); x + f(x) needs equal shapes")
        let (value, sumPullback) = LibraryRule.vjp(x, y) { $0 + $1 }
        return (value, { g in
            let (gx, gy) = sumPullback(g)
            let (gBody, gxBody) = bodyPullback(gy)
            return (TangentVector(body: gBody), Tensor.tangentSum(gx, gxBody))
        })
    }
}
