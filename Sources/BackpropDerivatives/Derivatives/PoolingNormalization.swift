// Derivatives of pooling (Rules/Pooling.swift), the normalisations (Rules/Normalization.swift)
// and dropout (Rules/Dropout.swift), each routed to the library's rule.

import Backprop
import _Differentiation

extension Tensor {
    // MARK: Pooling

    @derivative(of: maxPool2d(kernel:stride:padding:))
    public func _vjpMaxPool2d(kernel: Size2D, stride: Size2D?, padding: Size2D) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.maxPool2d(kernel: kernel, stride: stride, padding: padding) }
    }

    @derivative(of: maxPool2d(kernel:stride:padding:))
    public func _jvpMaxPool2d(kernel: Size2D, stride: Size2D?, padding: Size2D) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.maxPool2d(kernel: kernel, stride: stride, padding: padding) }
    }

    @derivative(of: avgPool2d(kernel:stride:padding:))
    public func _vjpAvgPool2d(kernel: Size2D, stride: Size2D?, padding: Size2D) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.avgPool2d(kernel: kernel, stride: stride, padding: padding) }
    }

    @derivative(of: avgPool2d(kernel:stride:padding:))
    public func _jvpAvgPool2d(kernel: Size2D, stride: Size2D?, padding: Size2D) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.avgPool2d(kernel: kernel, stride: stride, padding: padding) }
    }

    @derivative(of: globalAvgPool2d)
    public func _vjpGlobalAvgPool2d() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.globalAvgPool2d() }
    }

    @derivative(of: globalAvgPool2d)
    public func _jvpGlobalAvgPool2d() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.globalAvgPool2d() }
    }

    // MARK: Normalisation (γ and β both given or both nil)

    /// [x], or [x, γ, β] when the affine parameters are given.
    static func inputs(_ x: Tensor, _ weight: Tensor?, _ bias: Tensor?) -> [Tensor] {
        [x] + (weight.map { [$0, bias!] } ?? [])
    }

    /// The cotangents (or tangents) of optional γ and β from the library's list [x, γ, β] or [x].
    static func optionalPair(_ g: [Tensor]) -> (Optional<Tensor>.TangentVector, Optional<Tensor>.TangentVector) {
        g.count > 1 ? (.init(g[1]), .init(g[2])) : (.init(nil), .init(nil))
    }

    /// batchNormalization's output on the list [x] or [x, γ, β].
    static func batchNormalized(_ p: [Tensor], _ epsilon: Scalar) -> Tensor {
        batchNormalization(p[0], weight: p.count > 1 ? Optional(p[1]) : nil, bias: p.count > 1 ? Optional(p[2]) : nil,
                           epsilon: epsilon).output
    }

    /// layerNormalization from the list [x] or [x, γ, β].
    static func layerNormalized(_ p: [Tensor], _ normalizedShape: [Int], _ epsilon: Scalar) -> Tensor {
        layerNormalization(p[0], normalizedShape: normalizedShape, weight: p.count > 1 ? Optional(p[1]) : nil,
                           bias: p.count > 1 ? Optional(p[2]) : nil, epsilon: epsilon)
    }

    // The library's `batchNormalization` returns (output, mean, variance). A derivative of a
    // tuple-valued function of Tensor<Scalar> crashes the Swift 6.3.1 compiler in IRGen
    // (bench/differentiable-limits/batchnorm-tuple-result-crash.swift), so the differentiable
    // form is `batchNormalized`, the output alone (the batch statistics are constants of the
    // library's rule anyway: they feed the running statistics, not the loss).

    /// Batch normalisation with batch statistics, the output alone and without affine
    /// parameters: the library's `batchNormalization(x, epsilon:).output`, for differentiable code.
    ///
    /// x is [N, C] or [N, C, …]; each channel is normalised over its M = N·(trailing extents)
    /// values, y = (x − μ_c)/√(σ²_c + ε) with the biased σ². Derivatives: the library's rule
    /// (see `batchNormalization`).
    public static func batchNormalized(_ x: Tensor, epsilon: Scalar = 1e-5) -> Tensor {
        batchNormalization(x, epsilon: epsilon).output
    }

    /// Batch normalisation with batch statistics and affine parameters, the output alone: the
    /// library's `batchNormalization(x, weight:, bias:, epsilon:).output`, for differentiable code.
    ///
    /// y = γ_c (x − μ_c)/√(σ²_c + ε) + β_c, x [N, C] or [N, C, …], `weight` γ and `bias` β [C].
    /// Non-optional parameters, as `affine`'s overload: promoting a differentiated tensor to the
    /// library's `Tensor?` crashes the compiler (the article's known limits).
    public static func batchNormalized(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Scalar = 1e-5) -> Tensor {
        batchNormalization(x, weight: weight, bias: bias, epsilon: epsilon).output
    }

    @derivative(of: batchNormalized(_:epsilon:))
    public static func _vjpBatchNormalized(_ x: Tensor, epsilon: Scalar) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(x) { batchNormalized($0, epsilon: epsilon) }
    }

    @derivative(of: batchNormalized(_:epsilon:))
    public static func _jvpBatchNormalized(_ x: Tensor, epsilon: Scalar) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(x) { batchNormalized($0, epsilon: epsilon) }
    }

    @derivative(of: batchNormalized(_:weight:bias:epsilon:), wrt: (x, weight, bias))
    public static func _vjpBatchNormalizedAffine(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Scalar)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
        let (value, pullback) = LibraryRule.vjp([x, weight, bias]) { batchNormalized($0, epsilon) }
        return (value, { let g = pullback($0); return (g[0], g[1], g[2]) })
    }

    @derivative(of: batchNormalized(_:weight:bias:epsilon:), wrt: x)
    public static func _vjpBatchNormalizedAffineInput(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Scalar)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(x) { batchNormalized([$0, weight, bias], epsilon) }
    }

    @derivative(of: batchNormalized(_:weight:bias:epsilon:), wrt: (x, weight, bias))
    public static func _jvpBatchNormalizedAffine(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Scalar)
        -> (value: Tensor, differential: (Tensor, Tensor, Tensor) -> Tensor) {
        let (value, differential) = LibraryRule.jvp([x, weight, bias]) { batchNormalized($0, epsilon) }
        return (value, { differential([$0, $1, $2]) })
    }

    @derivative(of: batchNormalized(_:weight:bias:epsilon:), wrt: x)
    public static func _jvpBatchNormalizedAffineInput(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Scalar)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(x) { batchNormalized([$0, weight, bias], epsilon) }
    }

    // MARK: layerNormalization with non-optional γ and β

    /// Layer normalisation over the trailing `normalizedShape` axes with affine parameters that
    /// are not optional: the library's `layerNormalization`, for differentiable code (calls with
    /// non-optional `weight` γ and `bias` β, both of `normalizedShape`, resolve here; see
    /// `batchNormalized(_:weight:bias:epsilon:)` for why).
    public static func layerNormalization(_ x: Tensor, normalizedShape: [Int], weight: Tensor, bias: Tensor,
                                          epsilon: Scalar = 1e-5) -> Tensor {
        layerNormalization(x, normalizedShape: normalizedShape, weight: Optional(weight), bias: Optional(bias), epsilon: epsilon)
    }

    @derivative(of: layerNormalization(_:normalizedShape:weight:bias:epsilon:), wrt: (x, weight, bias))
    public static func _vjpLayerNormalizationAffine(_ x: Tensor, normalizedShape: [Int], weight: Tensor, bias: Tensor, epsilon: Scalar)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
        let (value, pullback) = LibraryRule.vjp([x, weight, bias]) { layerNormalized($0, normalizedShape, epsilon) }
        return (value, { let g = pullback($0); return (g[0], g[1], g[2]) })
    }

    @derivative(of: layerNormalization(_:normalizedShape:weight:bias:epsilon:), wrt: x)
    public static func _vjpLayerNormalizationAffineInput(_ x: Tensor, normalizedShape: [Int], weight: Tensor, bias: Tensor, epsilon: Scalar)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(x) { layerNormalized([$0, weight, bias], normalizedShape, epsilon) }
    }

    @derivative(of: layerNormalization(_:normalizedShape:weight:bias:epsilon:), wrt: (x, weight, bias))
    public static func _jvpLayerNormalizationAffine(_ x: Tensor, normalizedShape: [Int], weight: Tensor, bias: Tensor, epsilon: Scalar)
        -> (value: Tensor, differential: (Tensor, Tensor, Tensor) -> Tensor) {
        let (value, differential) = LibraryRule.jvp([x, weight, bias]) { layerNormalized($0, normalizedShape, epsilon) }
        return (value, { differential([$0, $1, $2]) })
    }

    @derivative(of: layerNormalization(_:normalizedShape:weight:bias:epsilon:), wrt: x)
    public static func _jvpLayerNormalizationAffineInput(_ x: Tensor, normalizedShape: [Int], weight: Tensor, bias: Tensor, epsilon: Scalar)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(x) { layerNormalized([$0, weight, bias], normalizedShape, epsilon) }
    }

    // MARK: layerNormalization with the library's optional γ and β

    @derivative(of: layerNormalization(_:normalizedShape:weight:bias:epsilon:), wrt: (x, weight, bias))
    public static func _vjpLayerNormalization(_ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?, epsilon: Scalar)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Optional<Tensor>.TangentVector, Optional<Tensor>.TangentVector)) {
        let (value, pullback) = LibraryRule.vjp(inputs(x, weight, bias)) { layerNormalized($0, normalizedShape, epsilon) }
        return (value, { g in
            let p = pullback(g)
            let (gw, gb) = optionalPair(p)
            return (p[0], gw, gb)
        })
    }

    @derivative(of: layerNormalization(_:normalizedShape:weight:bias:epsilon:), wrt: x)
    public static func _vjpLayerNormalizationInput(_ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?, epsilon: Scalar)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(x) { layerNormalization($0, normalizedShape: normalizedShape, weight: weight, bias: bias, epsilon: epsilon) }
    }

    @derivative(of: layerNormalization(_:normalizedShape:weight:bias:epsilon:), wrt: (x, weight, bias))
    public static func _jvpLayerNormalization(_ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?, epsilon: Scalar)
        -> (value: Tensor, differential: (Tensor, Optional<Tensor>.TangentVector, Optional<Tensor>.TangentVector) -> Tensor) {
        let (value, differential) = LibraryRule.jvp(inputs(x, weight, bias)) { layerNormalized($0, normalizedShape, epsilon) }
        return (value, { dx, dw, db in differential(weight == nil ? [dx] : [dx, dw.value ?? .zero, db.value ?? .zero]) })
    }

    @derivative(of: layerNormalization(_:normalizedShape:weight:bias:epsilon:), wrt: x)
    public static func _jvpLayerNormalizationInput(_ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?, epsilon: Scalar)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(x) { layerNormalization($0, normalizedShape: normalizedShape, weight: weight, bias: bias, epsilon: epsilon) }
    }

    // MARK: Dropout

    // Registered, but a differentiable caller cannot use it with the Swift 6.3 toolchain: the
    // `inout` generator is a semantic result without a tangent ("cannot differentiate through a
    // non-differentiable argument"; bench/differentiable-limits/dropout-inout-generator.swift).
    // The `Dropout` layer, which holds its generator, is the differentiable form.

    @derivative(of: dropout(probability:generator:), wrt: self)
    public func _vjpDropout(probability p: Double, generator: inout SeededGenerator) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.dropout(probability: p, generator: &generator) }
    }

    @derivative(of: dropout(probability:generator:), wrt: self)
    public func _jvpDropout(probability p: Double, generator: inout SeededGenerator) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.dropout(probability: p, generator: &generator) }
    }
}
