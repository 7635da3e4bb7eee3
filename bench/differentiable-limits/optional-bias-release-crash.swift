// expect (release): Fatal error: ownership incompatible with an owned value
// Optimised, the pullback of a @differentiable function that passes a non-optional bias to
// the library's `affine(_:weight:bias: Tensor?)` crashes the compiler (OwnershipLiveness.swift,
// in MandatoryDestroyHoisting). Workaround: BackpropDifferentiable's non-optional overload,
// which a plain `bias: b` resolves to.
import Backprop
import BackpropDifferentiable
import _Differentiation

@differentiable(reverse, wrt: (w, b))
func optionalBiasLoss(_ w: Tensor<Float>, _ b: Tensor<Float>, x: Tensor<Float>) -> Float {
    let bias: Tensor<Float>? = b
    return Tensor.affine(x, weight: w, bias: bias).sum().scalar
}
