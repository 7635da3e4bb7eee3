// expect (debug): Assertion failed: (isAbstract()), function getAbstract
// Declaring the conditional conformance `Residual: DifferentiableLayer where Body:
// DifferentiableLayer` crashes the compiler in IRGen, emitting the witness's VJP thunk. So a
// Residual can be a field of a model struct (its call has a derivative) but cannot sit inside
// a Chain. Workaround: a model struct with the residual block as a field.
import Backprop
import BackpropDifferentiable
import _Differentiation

extension Residual: DifferentiableLayer where Body: DifferentiableLayer {}
