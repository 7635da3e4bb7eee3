// expect (debug): explicit attribute is necessary because candidate is declared in a different type context or file
// A @differentiable protocol requirement is met by a declaration without the attribute only
// when its derivative is registered in another module than the conformance. Here a library
// function with a derivative registered in this same module cannot meet one; this is why
// BackpropDifferentiable declares the layers' DifferentiableLayer conformances in a module of
// its own, apart from BackpropDerivatives.
import Backprop
import BackpropDifferentiable
import _Differentiation

func double(_ x: Tensor<Float>) -> Tensor<Float> { x + x }
struct Doubler {
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { x + x }
}
extension Doubler {
    @derivative(of: callAsFunction)
    func _vjp(_ x: Tensor<Float>) -> (value: Tensor<Float>, pullback: (Tensor<Float>) -> Tensor<Float>) {
        (x + x, { $0 + $0 })
    }
}
protocol TensorMap {
    @differentiable(reverse)
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float>
}
extension Doubler: TensorMap {}
