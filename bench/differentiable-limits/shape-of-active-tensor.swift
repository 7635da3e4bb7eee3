// expect (debug): cannot differentiate through a non-differentiable argument
// `shape` is a stored property that Backprop declares without @noDerivative (it does not
// import _Differentiation), so reading it from a tensor being differentiated is an error.
// Workaround: `withoutDerivative(at: w).shape`.
import Backprop
import BackpropDifferentiable
import _Differentiation

@differentiable(reverse)
func flattenedRows(_ w: Tensor<Float>) -> Tensor<Float> {
    w.reshaped([w.shape[0] * w.shape[1]])
}
