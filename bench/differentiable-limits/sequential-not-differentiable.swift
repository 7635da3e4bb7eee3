// expect (debug): has no derivative because '[any DifferentiableLayer<Float>]' does not conform to 'Differentiable'
// A list of layers of different types is an array of existentials, which has no tangent type:
// `Sequential` ([any Layer]) cannot be Differentiable, and a list of `any DifferentiableLayer`
// is silently left out of the derivative (a warning). Workaround: a struct of layer fields,
// or `Chain`.
import Backprop
import BackpropDifferentiable
import _Differentiation

struct AnySequential: Differentiable {
    var layers: [any DifferentiableLayer<Float>]
}
