// Library layers as DifferentiableLayer values in generic code, Chain, a layer of one's own,
// and the workarounds of the article's known limits (kept compiling here).

import Backprop
import BackpropDifferentiable
import Testing
import _Differentiation

/// Differentiates any DifferentiableLayer generically: its gradient at x for L = Σ layer(x).
func layerGradient<L: DifferentiableLayer>(_ layer: L, at x: Tensor<L.Scalar>) -> (L.TangentVector, Tensor<L.Scalar>)
where L.Scalar: Differentiable, L.Scalar.TangentVector == L.Scalar {
    gradient(at: layer, x) { layer, x in layer(x).sum().scalar }
}

@Test func libraryLayersDifferentiateGenerically() {
    let x: Tensor<Double> = uniform([2, 3], -1, 1, seed: 1)
    let linear = Linear<Double>(weight: uniform([4, 3], -1, 1, seed: 2), bias: uniform([4], -1, 1, seed: 3))
    let (g, gx) = layerGradient(linear, at: x)
    let library = Backprop.gradient(at: [x, linear.weight, linear.bias]) { p in Tensor.affine(p[0], weight: p[1], bias: p[2]).sum() }
    #expect(gx == library[0] && g.weight == library[1] && g.bias == library[2])
    for (name, gradient) in [("relu", layerGradient(ReLU<Double>(), at: x).1), ("tanh", layerGradient(Tanh<Double>(), at: x).1),
                             ("sigmoid", layerGradient(Sigmoid<Double>(), at: x).1), ("gelu", layerGradient(GELU<Double>(), at: x).1)] {
        let f: (Tensor<Double>) -> Tensor<Double> = switch name {
        case "relu": { $0.relu() }
        case "tanh": { $0.tanh() }
        case "sigmoid": { $0.sigmoid() }
        default: { $0.gelu() }
        }
        #expect(gradient == Backprop.gradient(at: x) { f($0).sum() }, "\(name)")
    }
}

/// y = x ⊙ scale: a layer of one's own, its call marked @differentiable.
struct Scale: DifferentiableLayer {
    var scale: Tensor<Float>
    mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
        visitor.parameter("scale", &scale)
    }
    @differentiable(reverse)
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { x * scale }
}

@Test func chainComposesLibraryLayersAndOnesOwnWithSequentialsResults() throws {
    var rng = SeededGenerator(seed: 4)
    let a = Linear<Float>(inputs: 3, outputs: 4, generator: &rng)
    let b = Linear<Float>(inputs: 4, outputs: 2, generator: &rng)
    let scale = Scale(scale: uniform([4], 0.5, 1.5, seed: 5))
    var chain = Chain(a, Chain(scale, Chain(Tanh<Float>(), b)))
    let x: Tensor<Float> = uniform([5, 3], -1, 1, seed: 6)
    #expect(chain.parameterNames == ["0.weight", "0.bias", "1.0.scale", "1.1.1.weight", "1.1.1.bias"])
    let (loss, tangent) = valueWithGradient(at: chain) { c in c(x).squared().mean().scalar }
    let library = Backprop.valueWithGradient(at: [a.weight, a.bias, scale.scale, b.weight, b.bias]) { p in
        Tensor.affine((Tensor.affine(x, weight: p[0], bias: p[1]) * p[2]).tanh(), weight: p[3], bias: p[4]).squared().mean()
    }
    #expect(loss == library.value.scalar)
    #expect(chain.namedTensors(of: tangent).tensors == library.gradient)
    var sgd = SGD<Float>(learningRate: 0.5)
    try sgd.update(&chain, along: tangent)
    #expect(chain.second.first.scale == scale.scale - Tensor(0.5) * library.gradient[2])
}

// MARK: - Workarounds of the known limits (bench/differentiable-limits has the failing forms)

/// `for x in xs` is not differentiable; an index loop is.
@differentiable(reverse)
func sumOfSquares(_ xs: [Tensor<Float>]) -> Tensor<Float> {
    var total = Tensor<Float>(0)
    for i in 0..<withoutDerivative(at: xs.count) { total = total + xs[i].squared().sum() }
    return total
}

/// A differentiated tensor's shape is read from `withoutDerivative(at:)`.
@differentiable(reverse)
func flattenedRows(_ w: Tensor<Float>) -> Tensor<Float> {
    let shape = withoutDerivative(at: w).shape
    return w.reshaped([shape[0] * shape[1]])
}

/// A synthesized tangent cannot be extended: scaling a model's gradient is a free function.
func scaled(_ g: MLP<Float>.TangentVector, by s: Float) -> MLP<Float>.TangentVector {
    func scale(_ l: Linear<Float>.TangentVector) -> Linear<Float>.TangentVector {
        .init(weight: l.weight * s, bias: l.bias * s)
    }
    return .init(l1: scale(g.l1), l2: scale(g.l2), l3: scale(g.l3))
}

/// The non-optional `affine` (what a plain `bias: b` resolves to) in a @differentiable function:
/// the form that builds with optimisation (the differentiable-step target builds it in release).
@differentiable(reverse, wrt: (w, b))
func affineLoss(_ w: Tensor<Float>, _ b: Tensor<Float>, x: Tensor<Float>) -> Float {
    Tensor.affine(x, weight: w, bias: b).tanh().sum().scalar
}

@Test func workaroundsOfTheKnownLimitsDifferentiate() {
    let xs: [Tensor<Float>] = [uniform([3], -1, 1, seed: 7), uniform([2, 2], -1, 1, seed: 8)]
    let g = gradient(at: xs) { sumOfSquares($0).scalar }
    #expect(g.base == [xs[0] * Tensor(2), xs[1] * Tensor(2)])
    let w: Tensor<Float> = uniform([2, 3], -1, 1, seed: 9)
    #expect(gradient(at: w) { flattenedRows($0).sum().scalar } == .ones([2, 3]))
    let model = MLP<Float>(sizes: [3, 2, 2, 1], seed: 10)
    let tangent = gradient(at: model) { m in m(w).sum().scalar }
    var stepped = model
    stepped.move(by: scaled(tangent, by: -0.1))
    #expect(stepped.l1.weight == model.l1.weight + Tensor(-0.1) * tangent.l1.weight)
    let b: Tensor<Float> = uniform([2], -1, 1, seed: 11)
    let x: Tensor<Float> = uniform([4, 3], -1, 1, seed: 12)
    let (gw, gb) = gradient(at: w, b) { w, b in affineLoss(w, b, x: x) }
    let library = Backprop.gradient(at: [w, b]) { p in Tensor.affine(x, weight: p[0], bias: p[1]).tanh().sum() }
    #expect(gw == library[0] && gb == library[1])
}
