// expect (debug): cannot differentiate through a non-differentiable argument
// The library's `dropout(probability:generator:)` draws its mask from an `inout` generator.
// Its derivative is registered (wrt self), but a differentiable caller cannot use it: an
// `inout` argument is a result of the call, and `SeededGenerator` has no tangent ("function is
// not differentiable … cannot differentiate through a non-differentiable argument").
// Workaround: the `Dropout` layer, which holds its seeded generator (shared by its copies).
import Backprop
import BackpropDifferentiable
import _Differentiation

@differentiable(reverse)
func droppedOut(_ x: Tensor<Float>) -> Tensor<Float> {
    var generator = SeededGenerator(seed: 1)
    return x.dropout(probability: 0.5, generator: &generator)
}
