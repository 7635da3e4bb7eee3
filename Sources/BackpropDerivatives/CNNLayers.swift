// The library's convolutional, pooling, normalisation, dropout and flatten layers as
// `Differentiable` values, their calls differentiated by the library's rules. (Their
// `DifferentiableLayer` conformances are in BackpropDifferentiable.)

import Backprop
import _Differentiation

/// The tangent of a layer with a weight and a bias: `Conv2d`, `BatchNorm1d`, `BatchNorm2d`,
/// `LayerNorm`. A field the layer does not have (a convolution without bias, a normalisation
/// without affine parameters) is the zero tangent, and moving the layer by it changes nothing.
public struct WeightAndBiasTangent<Scalar: TensorScalar>: Differentiable, AdditiveArithmetic, Sendable {
    /// ∂/∂W: [out, in/groups, kh, kw] for a convolution, γ's shape for a normalisation (or the
    /// zero tangent).
    public var weight: Tensor<Scalar>
    /// ∂/∂b: [out] for a convolution, β's shape for a normalisation (or the zero tangent).
    public var bias: Tensor<Scalar>

    /// A tangent of the given fields.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
        self.weight = weight
        self.bias = bias
    }

    /// The tangent of a layer's parameters in declaration order (weight, then bias when the
    /// layer has one): missing ones are the zero tangent.
    init(_ parameters: [Tensor<Scalar>]) {
        self.init(weight: parameters.first ?? .zero, bias: parameters.count > 1 ? parameters[1] : .zero)
    }

    /// The fields as the parameter list of a layer with `count` parameters (0, 1 or 2).
    func parameters(count: Int) -> [Tensor<Scalar>] { Array([weight, bias].prefix(count)) }
}

/// A library layer whose parameters are a weight and, optionally, a bias (in that declaration
/// order), differentiated through the library's own call: the layer's parameters and the input
/// become the variables of one library transform.
protocol WeightAndBiasLayer: Layer, Differentiable where TangentVector == WeightAndBiasTangent<Scalar> {}

extension WeightAndBiasLayer {
    /// self ← self + offset, parameter by parameter (`Tensor.move(by:)`: a zero-tangent offset
    /// moves nothing, and a parameter that is the zero tangent takes the offset itself).
    mutating func moveParameters(by offset: WeightAndBiasTangent<Scalar>) {
        var mover = ParameterMover(offsets: offset.parameters(count: parameters.count))
        visitTensors(with: &mover)
    }

    /// The layer's call and its pullback to (∂/∂layer, ∂/∂x), by the library's rules.
    func libraryVJP(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (WeightAndBiasTangent<Scalar>, Tensor<Scalar>)) {
        let (value, pullback) = LibraryRule.vjp([x] + parameters) { self.replacingParameters(Array($0.dropFirst()))($0[0]) }
        return (value, { let g = pullback($0); return (WeightAndBiasTangent(Array(g.dropFirst())), g[0]) })
    }

    /// The layer's call and its pullback to ∂/∂layer alone (∂/∂x is not formed).
    func libraryParametersVJP(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> WeightAndBiasTangent<Scalar>) {
        let (value, pullback) = LibraryRule.vjp(parameters) { self.replacingParameters($0)(x) }
        return (value, { WeightAndBiasTangent(pullback($0)) })
    }

    /// The layer's call and its differential along (a tangent of the layer, ẋ).
    func libraryJVP(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (WeightAndBiasTangent<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>) {
        let count = parameters.count
        let (value, differential) = LibraryRule.jvp([x] + parameters) { self.replacingParameters(Array($0.dropFirst()))($0[0]) }
        return (value, { t, dx in differential([dx] + t.parameters(count: count)) })
    }

    /// The layer's call and its differential along a tangent of the layer alone.
    func libraryParametersJVP(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (WeightAndBiasTangent<Scalar>) -> Tensor<Scalar>) {
        let count = parameters.count
        let (value, differential) = LibraryRule.jvp(parameters) { self.replacingParameters($0)(x) }
        return (value, { differential($0.parameters(count: count)) })
    }
}

/// Adds offsets[i] to the i-th parameter visited, through `Tensor.tangentSum`.
struct ParameterMover<Scalar: TensorScalar>: TensorVisitor {
    var path = ModulePath()
    let offsets: [Tensor<Scalar>]
    var next = 0

    mutating func visit(_ tensor: inout Tensor<Scalar>, name: String, role: TensorRole) {
        guard role == .parameter else { return }
        tensor = Tensor.tangentSum(tensor, offsets[next])
        next += 1
    }
}

// MARK: - Convolution

extension Conv2d: Differentiable, WeightAndBiasLayer {
    /// `WeightAndBiasTangent`: ∂/∂W [out, in/groups, kh, kw] and ∂/∂b [out] (the zero tangent
    /// when the layer has no bias).
    public typealias TangentVector = WeightAndBiasTangent<Scalar>

    /// weight ← weight + offset.weight, bias ← bias + offset.bias (when the layer has a bias).
    public mutating func move(by offset: TangentVector) { moveParameters(by: offset) }

    /// The pullback of the convolution y = conv(x, W) + b (x [N, in, H, W], y [N, out, H′, W′])
    /// to (∂L/∂layer, ∂L/∂x), by the library's `Tensor.conv2d` rule: ∂L/∂W correlates x with g,
    /// ∂L/∂b sums g over N, H′ and W′, ∂L/∂x is the transposed convolution of g with W.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (TangentVector, Tensor<Scalar>)) { libraryVJP(x) }

    /// The layer's parameters alone (a first layer: ∂L/∂x, a transposed convolution, is not formed).
    @derivative(of: callAsFunction, wrt: self)
    public func _vjpCallAsFunctionParameters(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> TangentVector) { libraryParametersVJP(x) }

    /// The differential along (a tangent of the layer, ẋ), by the library's `Tensor.conv2d`
    /// rule: ẏ = conv(ẋ, W) + conv(x, Ẇ) + ḃ.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (TangentVector, Tensor<Scalar>) -> Tensor<Scalar>) { libraryJVP(x) }

    /// The differential along a tangent of the layer alone (x fixed), by the library's
    /// `Tensor.conv2d` rule: ẏ = conv(x, Ẇ) + ḃ.
    @derivative(of: callAsFunction, wrt: self)
    public func _jvpCallAsFunctionParameters(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (TangentVector) -> Tensor<Scalar>) { libraryParametersJVP(x) }
}

// MARK: - Normalisation

/// Batch normalisation's running statistics (`running_mean`, `running_var`,
/// `num_batches_tracked`) are buffers: they have no tangent, `move(by:)` leaves them, and an
/// optimizer never sees them. A training-phase call records their new values in the library's
/// `BufferUpdates` (from the same run of the rule the pullback uses), and
/// `model.updatingBuffers { … }` stores them after the step, exactly as for the library's tape.
extension BatchNorm1d: Differentiable, WeightAndBiasLayer {
    /// `WeightAndBiasTangent`: ∂/∂γ and ∂/∂β, each [C] (the zero tangent when the layer is not
    /// affine). The running statistics have none.
    public typealias TangentVector = WeightAndBiasTangent<Scalar>

    /// γ ← γ + offset.weight, β ← β + offset.bias (when affine); the running statistics stay.
    public mutating func move(by offset: TangentVector) { moveParameters(by: offset) }

    /// The pullback of the call to (∂L/∂layer, ∂L/∂x), by the library's rules: in training,
    /// `Tensor.batchNormalization`'s, through the batch's mean and variance as well; in
    /// inference, those of x·γ/√(running_var + ε) + (β − running_mean·γ/√(running_var + ε)),
    /// with the running statistics constant.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (TangentVector, Tensor<Scalar>)) { libraryVJP(x) }

    /// The differential along (a tangent of the layer, ẋ), by the same rules as the pullback.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (TangentVector, Tensor<Scalar>) -> Tensor<Scalar>) { libraryJVP(x) }
}

/// Running statistics as `BatchNorm1d`'s: buffers, updated through `BufferUpdates`.
extension BatchNorm2d: Differentiable, WeightAndBiasLayer {
    /// `WeightAndBiasTangent`: ∂/∂γ and ∂/∂β, each [C] (the zero tangent when the layer is not
    /// affine). The running statistics have none.
    public typealias TangentVector = WeightAndBiasTangent<Scalar>

    /// γ ← γ + offset.weight, β ← β + offset.bias (when affine); the running statistics stay.
    public mutating func move(by offset: TangentVector) { moveParameters(by: offset) }

    /// The pullback of the call to (∂L/∂layer, ∂L/∂x), by the library's rules: in training,
    /// `Tensor.batchNormalization`'s, through the batch's mean and variance as well; in
    /// inference, those of x·γ/√(running_var + ε) + (β − running_mean·γ/√(running_var + ε)),
    /// with the running statistics constant.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (TangentVector, Tensor<Scalar>)) { libraryVJP(x) }

    /// The differential along (a tangent of the layer, ẋ), by the same rules as the pullback.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (TangentVector, Tensor<Scalar>) -> Tensor<Scalar>) { libraryJVP(x) }
}

extension LayerNorm: Differentiable, WeightAndBiasLayer {
    /// `WeightAndBiasTangent`: ∂/∂γ and ∂/∂β, each of `normalizedShape` (the zero tangent
    /// without `elementwiseAffine`).
    public typealias TangentVector = WeightAndBiasTangent<Scalar>

    /// γ ← γ + offset.weight, β ← β + offset.bias (when `elementwiseAffine`).
    public mutating func move(by offset: TangentVector) { moveParameters(by: offset) }

    /// The pullback of the call to (∂L/∂layer, ∂L/∂x), by the library's
    /// `Tensor.layerNormalization` rule (through each sample's mean and variance over the
    /// normalised axes).
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (TangentVector, Tensor<Scalar>)) { libraryVJP(x) }

    /// The differential along (a tangent of the layer, ẋ), by the library's
    /// `Tensor.layerNormalization` rule.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (TangentVector, Tensor<Scalar>) -> Tensor<Scalar>) { libraryJVP(x) }
}

// MARK: - Layers without parameters

extension MaxPool2d: Differentiable {
    /// `EmptyTangent`: the layer has no parameters.
    public typealias TangentVector = EmptyTangent
    /// Does nothing: the layer has no parameters to move.
    public mutating func move(by offset: EmptyTangent) {}

    /// The pullback of `x.maxPool2d(kernel:stride:padding:)` ([N, C, H, W] → [N, C, H′, W′])
    /// to (no tangent, ∂L/∂x), by the library's rule: each output's cotangent is added at its
    /// window's first maximum in x, zeros elsewhere.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (EmptyTangent, Tensor<Scalar>)) { LibraryRule.vjp(self, x) }

    /// The differential of `x.maxPool2d(kernel:stride:padding:)` along (no tangent, ẋ), by the
    /// library's rule: ẏ = ẋ at each window's first maximum.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (EmptyTangent, Tensor<Scalar>) -> Tensor<Scalar>) { LibraryRule.jvp(self, x) }
}

extension AvgPool2d: Differentiable {
    /// `EmptyTangent`: the layer has no parameters.
    public typealias TangentVector = EmptyTangent
    /// Does nothing: the layer has no parameters to move.
    public mutating func move(by offset: EmptyTangent) {}

    /// The pullback of `x.avgPool2d(kernel:stride:padding:)` ([N, C, H, W] → [N, C, H′, W′]) to
    /// (no tangent, ∂L/∂x), by the library's rule: each output's cotangent, divided by k_h·k_w,
    /// is added to every input of its window.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (EmptyTangent, Tensor<Scalar>)) { LibraryRule.vjp(self, x) }

    /// The differential of `x.avgPool2d(kernel:stride:padding:)` along (no tangent, ẋ), by the
    /// library's rule: the same pooling of ẋ (the map is linear).
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (EmptyTangent, Tensor<Scalar>) -> Tensor<Scalar>) { LibraryRule.jvp(self, x) }
}

extension GlobalAvgPool2d: Differentiable {
    /// `EmptyTangent`: the layer has no parameters.
    public typealias TangentVector = EmptyTangent
    /// Does nothing: the layer has no parameters to move.
    public mutating func move(by offset: EmptyTangent) {}

    /// The pullback of `x.globalAvgPool2d()` ([N, C, H, W] → [N, C, 1, 1]) to (no tangent,
    /// ∂L/∂x), by the library's rule: each channel's cotangent divided by H·W, spread over
    /// its H×W plane.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (EmptyTangent, Tensor<Scalar>)) { LibraryRule.vjp(self, x) }

    /// The differential of `x.globalAvgPool2d()` along (no tangent, ẋ), by the library's rule:
    /// each channel's mean of ẋ.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (EmptyTangent, Tensor<Scalar>) -> Tensor<Scalar>) { LibraryRule.jvp(self, x) }
}

extension Flatten: Differentiable {
    /// `EmptyTangent`: the layer has no parameters.
    public typealias TangentVector = EmptyTangent
    /// Does nothing: the layer has no parameters to move.
    public mutating func move(by offset: EmptyTangent) {}

    /// The pullback of the flattening reshape to (no tangent, ∂L/∂x), by the library's
    /// `reshaped(_:)` rule: the cotangent reshaped back to x's shape.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (EmptyTangent, Tensor<Scalar>)) { LibraryRule.vjp(self, x) }

    /// The differential of the flattening reshape along (no tangent, ẋ), by the library's
    /// `reshaped(_:)` rule: ẋ flattened the same way.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (EmptyTangent, Tensor<Scalar>) -> Tensor<Scalar>) { LibraryRule.jvp(self, x) }
}

/// Dropout under Swift's differentiation is the library's: in `LearningPhase.training` the
/// call draws one mask from the layer's seeded generator (shared by its copies) — one draw per
/// forward pass, the pullback reusing that mask — and in inference it is the identity.
extension Dropout: Differentiable {
    /// `EmptyTangent`: the layer has no parameters.
    public typealias TangentVector = EmptyTangent
    /// Does nothing: the layer has no parameters to move.
    public mutating func move(by offset: EmptyTangent) {}

    /// The pullback of the call to (no tangent, ∂L/∂x), by the library's `dropout` rule: in
    /// training ∂L/∂x = g ⊙ m with the forward pass's mask m (kept elements scaled by
    /// 1/(1 − p), dropped ones 0); in inference ∂L/∂x = g.
    @derivative(of: callAsFunction)
    public func _vjpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (EmptyTangent, Tensor<Scalar>)) { LibraryRule.vjp(self, x) }

    /// The differential of the call along (no tangent, ẋ), by the library's `dropout` rule:
    /// ẏ = ẋ ⊙ m in training with the forward pass's mask, ẏ = ẋ in inference.
    @derivative(of: callAsFunction)
    public func _jvpCallAsFunction(_ x: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (EmptyTangent, Tensor<Scalar>) -> Tensor<Scalar>) { LibraryRule.jvp(self, x) }
}
