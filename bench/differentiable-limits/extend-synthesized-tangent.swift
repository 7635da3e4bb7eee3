// expect (debug): cannot be extended
// A synthesized TangentVector cannot be extended, so a method such as scaling a model's
// gradient must be a free function (or the model declares its own TangentVector).
import Backprop
import BackpropDifferentiable
import _Differentiation

struct Pair: Differentiable {
    var a: Tensor<Float>
    var b: Tensor<Float>
}

extension Pair.TangentVector {
    func scaled(by s: Float) -> Self { Self(a: a * s, b: b * s) }
}
