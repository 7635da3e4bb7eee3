// expect (debug): While evaluating request IRGenRequest
// A derivative of a tuple-valued function of generic tensors — the library's
// `batchNormalization`, which returns (output, mean, variance) — crashes the Swift 6.3.1
// compiler (signal 11 in IR generation of the derivative's thunk), for any `wrt` set.
// Workaround: BackpropDifferentiable's `Tensor.batchNormalized(_:weight:bias:epsilon:)`, the
// output alone, or the `BatchNorm1d`/`BatchNorm2d` layers.
import Backprop
import _Differentiation

extension Tensor {
    @derivative(of: batchNormalization(_:weight:bias:epsilon:), wrt: x)
    public static func _vjpBatchNormalizationLimit(_ x: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Scalar)
        -> (value: (output: Tensor, mean: Tensor, variance: Tensor), pullback: (Tensor, Tensor, Tensor) -> Tensor) {
        let value = batchNormalization(x, weight: weight, bias: bias, epsilon: epsilon)
        let (_, pullback) = Backprop.valueWithPullback(at: x) { batchNormalization($0, weight: weight, bias: bias, epsilon: epsilon).output }
        return (value, { g, _, _ in pullback(g) })
    }
}
