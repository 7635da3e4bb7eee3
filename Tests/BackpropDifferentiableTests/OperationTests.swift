// Reverse mode: for every operation, Swift's pullback equals the library's VJP bit for bit.

import Backprop
import BackpropDifferentiable
import Testing
import _Differentiation

func pullbacksAgree<Scalar: TensorScalar>(_: Scalar.Type) {
    for (k, c) in operationCatalogue(Scalar.self).enumerated() {
        let (value, pullback) = _Differentiation.valueWithPullback(at: c.x, of: c.f)
        let u: Tensor<Scalar> = uniform(value.shape, -1, 1, seed: 100 + UInt64(k))
        let (libraryValue, library) = Backprop.vjp(at: c.x, cotangent: u, of: c.f)
        let swift = pullback(u)
        #expect(value == libraryValue, "\(c.name): value")
        #expect(swift == library, "\(c.name): pullback \(swift) vs the library's \(library)")
    }
}

@Test func everyOperationsPullbackEqualsTheLibrarysInFloat() { pullbacksAgree(Float.self) }
@Test func everyOperationsPullbackEqualsTheLibrarysInDouble() { pullbacksAgree(Double.self) }
