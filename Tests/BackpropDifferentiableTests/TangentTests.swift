// The zero tangent, the optimizers' view of the compiler's tangents, and which engine a call uses.

import Backprop
import BackpropDifferentiable
import Testing
import _Differentiation

/// The address of a tensor's storage (to show that no copy was made).
func storage<Scalar>(_ t: Tensor<Scalar>) -> UnsafeRawPointer? {
    t.scalars.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
}

/// Sums through the AdditiveArithmetic witnesses, as Swift's differentiation does.
func tangentSum<T: AdditiveArithmetic>(_ a: T, _ b: T) -> T { a + b }
func tangentDifference<T: AdditiveArithmetic>(_ a: T, _ b: T) -> T { a - b }

@Test func addingTheZeroTangentReturnsTheOtherOperandWithoutCopying() {
    let g: Tensor<Float> = uniform([64, 32], -1, 1, seed: 1)
    #expect(Tensor<Float>.zero.shape == [] && Tensor<Float>.zero.isZeroTangent)
    #expect(storage(tangentSum(.zero, g)) == storage(g))
    #expect(storage(tangentSum(g, .zero)) == storage(g))
    #expect(storage(tangentDifference(g, .zero)) == storage(g))
    #expect(tangentDifference(.zero, g) == -g)
    var moved = g
    moved.move(by: .zero)
    #expect(storage(moved) == storage(g))
    // Two non-zero tangents: the library's broadcasting sum.
    #expect(tangentSum(g, g) == g + g)
    #expect(tangentSum(Tensor<Float>(2), g) == Tensor(2) + g)
    // The zero tangent stands for zeros of any shape.
    #expect(Tensor<Float>.zero.materialized(toShape: [2, 3]) == .zeros([2, 3]))
    #expect(g.materialized(toShape: [2, 3]) == g)
}

/// A model's tangent starts as zero tangents, and each use of a parameter adds its gradient.
@Test func aModelTangentHoldsTheGradientTensorsThemselves() {
    let model = MLP<Float>(sizes: [6, 5, 4, 3], seed: 1)
    let x: Tensor<Float> = uniform([2, 6], -1, 1, seed: 2)
    let (_, pullback) = valueWithPullback(at: model) { m in m(x).sum().scalar }
    let tangent = pullback(1)
    #expect(tangent.l1.weight.shape == [5, 6] && tangent.l3.bias.shape == [3])
    let zero = MLP<Float>.TangentVector.zero
    #expect(zero.l1.weight.isZeroTangent && zero.l3.bias.isZeroTangent)
    #expect(storage((zero + tangent).l2.weight) == storage(tangent.l2.weight))
}

@Test func namedTensorsOfATangentUseTheModelsNamesAndFillUnreachedParametersWithZeros() {
    let model = MLP<Double>(sizes: [6, 5, 4, 3], seed: 3)
    let x: Tensor<Double> = uniform([2, 6], -1, 1, seed: 4)
    // Only the first layer is used: the others' gradients are zero tangents.
    let tangent = gradient(at: model) { m in m.l1(x).sum().scalar }
    #expect(tangent.l2.weight.isZeroTangent)
    let named = model.namedTensors(of: tangent)
    #expect(named.names == model.parameterNames)
    #expect(named["l2.weight"] == .zeros([4, 5]) && named["l3.bias"] == .zeros([3]))
    #expect(named["l1.weight"] == tangent.l1.weight)
    #expect(model.namedTensors(of: .zero).tensors == model.parameters.map { .zeros($0.shape) })
}

/// Training with the compiler's gradients and the library's optimizer follows the library's
/// own training exactly.
func trainingAgrees<Scalar: TestScalar>(_: Scalar.Type) throws {
    var model = MLP<Scalar>(sizes: [10, 8, 8, 4], seed: 5)
    var library = model.sequential
    let (x, targets) = batch(Scalar.self, rows: 16, inputs: 10, classes: 4, seed: 6)
    let labels = targets.argmaxRows()
    var optimizer = SGD<Scalar>(learningRate: 0.1, momentum: 0.9)
    var libraryOptimizer = SGD<Scalar>(learningRate: 0.1, momentum: 0.9)
    var losses: [Scalar] = []
    for _ in 0..<5 {
        let (loss, g) = valueWithGradient(at: model) { m in Loss.softmaxCrossEntropy(logits: m(x), labels: labels).scalar }
        try optimizer.update(&model, along: g)
        let (libraryLoss, libraryGradients) = valueWithGradient(at: library) { m in
            Loss.softmaxCrossEntropy(logits: m(x), labels: labels)
        }
        try libraryOptimizer.update(&library, along: libraryGradients)
        #expect(loss == libraryLoss.scalar)
        losses.append(loss)
    }
    #expect(model.parameters == library.parameters)
    #expect(losses.last! < losses.first!)
}

@Test func trainingWithTheCompilersGradientFollowsTheLibrarysInFloat() throws { try trainingAgrees(Float.self) }
@Test func trainingWithTheCompilersGradientFollowsTheLibrarysInDouble() throws { try trainingAgrees(Double.self) }

/// Adam too takes the tangent; a tangent of the wrong shape is refused before anything moves.
@Test func adamTakesTheTangentAndWrongShapesAreRefused() throws {
    var model = MLP<Float>(sizes: [4, 3, 3, 2], seed: 7)
    let x: Tensor<Float> = uniform([5, 4], -1, 1, seed: 8)
    var adam = Adam<Float>(learningRate: 0.01)
    let before = model.parameters
    try adam.update(&model, along: gradient(at: model) { m in m(x).squared().mean().scalar })
    #expect(model.parameters != before && adam.step == 1)
    var wrong = MLP<Float>.TangentVector.zero
    wrong.l1.weight = .ones([2, 2])
    let moved = model.parameters
    #expect(throws: OptimizerError.self) { try adam.update(&model, along: wrong) }
    #expect(model.parameters == moved)
}

// MARK: - Which engine a call uses

@Test func unqualifiedCallsResolveByTheirArgumentsAndQualifiedNamesForceAnEngine() {
    let x: Tensor<Double> = uniform([3], -1, 1, seed: 9)
    var taped: [Bool] = []
    // A Tensor argument with a Tensor-valued closure: Backprop's tape (the variable is tracked).
    let g1: Tensor<Double> = gradient(at: x) { x in
        taped.append(x.isTracked)
        return x.squared().sum()
    }
    // A Scalar-valued closure: Swift's differentiation (nothing is recorded on the tape).
    let g2: Tensor<Double> = gradient(at: x) { x in
        taped.append(x.isTracked)
        return x.squared().sum().scalar
    }
    #expect(taped == [true, false])
    #expect(g1 == g2)
    // Module-qualified names choose explicitly.
    let g3 = Backprop.gradient(at: x) { $0.squared().sum() }
    let g4 = _Differentiation.gradient(at: x) { $0.squared().sum().scalar }
    #expect(g3 == g1 && g4 == g1)
    // A model argument with a Tensor-valued closure: Backprop's gradient by parameter name.
    let model = MLP<Double>(sizes: [3, 2, 2, 1], seed: 10)
    let named: NamedTensors<Double> = gradient(at: model) { m in m(x.reshaped([1, 3])).sum() }
    let tangent: MLP<Double>.TangentVector = gradient(at: model) { m in m(x.reshaped([1, 3])).sum().scalar }
    #expect(named.tensors == model.namedTensors(of: tangent).tensors)
}
