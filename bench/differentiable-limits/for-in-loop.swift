// expect (debug): cannot differentiate through a non-differentiable result
// `for x in array` iterates with IndexingIterator.next(), which has no derivative.
// Workaround: an index loop, `for i in 0..<n { … xs[i] … }` (Array's subscript has one).
import Backprop
import BackpropDifferentiable
import _Differentiation

@differentiable(reverse)
func sumOfSquares(_ xs: [Tensor<Float>]) -> Tensor<Float> {
    var total = Tensor<Float>(0)
    for x in xs { total = total + x.squared().sum() }
    return total
}
