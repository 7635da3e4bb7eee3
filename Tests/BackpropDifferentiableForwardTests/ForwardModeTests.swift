// Forward mode: for every operation, Swift's differential equals the library's JVP. This target
// is built with -enable-experimental-forward-mode-differentiation, which a module needs in
// order to call valueWithDifferential / differential(at:of:) (the library target registers its
// JVPs without any flag).

import Backprop
import BackpropDifferentiable
import Testing
import _Differentiation

func differentialsAgree<Scalar: TensorScalar>(_: Scalar.Type) {
    for (k, c) in operationCatalogue(Scalar.self).enumerated() {
        let t: Tensor<Scalar> = uniform(c.x.shape, -1, 1, seed: 200 + UInt64(k))
        let (value, differential) = _Differentiation.valueWithDifferential(at: c.x, of: c.f)
        let (libraryValue, library) = Backprop.jvp(at: c.x, tangent: t, of: c.f)
        let swift = differential(t)
        #expect(value == libraryValue, "\(c.name): value")
        #expect(swift == library, "\(c.name): differential \(swift) vs the library's \(library)")
    }
}

@Test func everyOperationsDifferentialEqualsTheLibrarysInFloat() { differentialsAgree(Float.self) }
@Test func everyOperationsDifferentialEqualsTheLibrarysInDouble() { differentialsAgree(Double.self) }

/// A layer's call in forward mode: the directional derivative along a tangent of the layer.
@Test func linearLayerDifferentialEqualsTheLibrarys() {
    let x: Tensor<Double> = uniform([2, 3], -1, 1, seed: 1)
    let layer = Linear<Double>(weight: uniform([4, 3], -1, 1, seed: 2), bias: uniform([4], -1, 1, seed: 3))
    let direction = Linear<Double>.TangentVector(weight: uniform([4, 3], -1, 1, seed: 4), bias: uniform([4], -1, 1, seed: 5))
    let (_, differential) = valueWithDifferential(at: layer) { l in l(x).tanh() }
    let library = Backprop.valueWithDifferential(at: [layer.weight, layer.bias]) { p in
        Tensor.affine(x, weight: p[0], bias: p[1]).tanh()
    }.differential([direction.weight, direction.bias])
    #expect(differential(direction) == library)
}
