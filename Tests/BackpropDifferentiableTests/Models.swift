// Models shared by the tests: the same networks as Swift-differentiable structs and as the
// library's Sequential, built from the same tensors.

import Backprop
import BackpropDifferentiable
import _Differentiation

/// A scalar type the tests run in: Float or Double (each its own tangent).
protocol TestScalar: TensorScalar, Differentiable, Codable where TangentVector == Self {}
extension Float: TestScalar {}
extension Double: TestScalar {}

/// An MLP as a struct of the library's layers: in → hidden → hidden → out, ReLU between.
struct MLP<Scalar: TensorScalar>: Module, Differentiable {
    var l1: Linear<Scalar>
    var l2: Linear<Scalar>
    var l3: Linear<Scalar>

    mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        visitor.module("l1", &l1)
        visitor.module("l2", &l2)
        visitor.module("l3", &l3)
    }

    /// The logits. Differentiable with respect to the model only, so the first layer's ∂L/∂x
    /// is not formed.
    @differentiable(reverse, wrt: self)
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        l3(l2(l1(x).relu()).relu())
    }

    init(sizes: [Int], seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        l1 = Linear(inputs: sizes[0], outputs: sizes[1], generator: &rng)
        l2 = Linear(inputs: sizes[1], outputs: sizes[2], generator: &rng)
        l3 = Linear(inputs: sizes[2], outputs: sizes[3], generator: &rng)
    }

    /// The same network as the library's Sequential (names 0, 2, 4).
    var sequential: Sequential<Scalar> {
        Sequential(l1, ReLU(), l2, ReLU(), l3)
    }
}

/// A residual network: a linear stem, a residual block of two linear layers with ReLU between
/// (a library `Residual` around a `Chain`), a tanh and a linear head.
struct ResidualNet<Scalar: TensorScalar>: Module, Differentiable {
    var stem: Linear<Scalar>
    var block: Residual<Chain<Linear<Scalar>, Chain<ReLU<Scalar>, Linear<Scalar>>>>
    var head: Linear<Scalar>

    mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        visitor.module("stem", &stem)
        visitor.module("block", &block)
        visitor.module("head", &head)
    }

    @differentiable(reverse, wrt: self)
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        head(Tanh()(block(stem(x))))
    }

    init(inputs: Int, width: Int, outputs: Int, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        stem = Linear(inputs: inputs, outputs: width, generator: &rng)
        let a = Linear<Scalar>(inputs: width, outputs: width, generator: &rng)
        let b = Linear<Scalar>(inputs: width, outputs: width, generator: &rng)
        block = Residual(Chain(a, Chain(ReLU(), b)))
        head = Linear(inputs: width, outputs: outputs, generator: &rng)
    }

    /// The same network from the library's layers alone.
    var sequential: Sequential<Scalar> {
        let body = block.body
        return Sequential(stem, Residual(Sequential(body.first, ReLU(), body.second.second)), Tanh(), head)
    }
}

/// A batch of inputs and one-hot targets.
func batch<Scalar: TensorScalar>(_: Scalar.Type, rows: Int, inputs: Int, classes: Int, seed: UInt64)
    -> (x: Tensor<Scalar>, targets: Tensor<Scalar>) {
    var rng = SeededGenerator(seed: seed)
    let x = Tensor<Scalar>.randomNormal([rows, inputs], generator: &rng)
    let labels = (0..<rows).map { _ in Int(rng.next() % UInt64(classes)) }
    return (x, .oneHot(labels, classCount: classes))
}
