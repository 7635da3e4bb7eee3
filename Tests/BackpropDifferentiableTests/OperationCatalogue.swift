// Every public differentiable operation of the library as a differentiable closure of one
// tensor, for comparing Swift's derivatives (this module's registrations) with the library's
// own transforms on the same closure. Shared by the reverse-mode and forward-mode tests.

import Backprop
import BackpropDifferentiable
import _Differentiation

/// One case: a name, a point and a differentiable function of it.
struct CatalogueCase<Scalar: TensorScalar> {
    let name: String
    let x: Tensor<Scalar>
    let f: @differentiable(reverse) (Tensor<Scalar>) -> Tensor<Scalar>
}

/// Entries drawn uniformly from [lower, upper], seeded.
func uniform<Scalar: TensorScalar>(_ shape: [Int], _ lower: Scalar, _ upper: Scalar, seed: UInt64) -> Tensor<Scalar> {
    var rng = SeededGenerator(seed: seed)
    return .randomUniform(shape, lower: lower, upper: upper, generator: &rng)
}

func operationCatalogue<Scalar: TensorScalar>(_: Scalar.Type) -> [CatalogueCase<Scalar>] {
    let a: Tensor<Scalar> = uniform([3, 4], -2, 2, seed: 1)          // any sign
    let p: Tensor<Scalar> = uniform([3, 4], 0.5, 2, seed: 2)         // positive
    let row: Tensor<Scalar> = uniform([4], 0.5, 1.5, seed: 3)        // broadcasts along rows
    let c: Tensor<Scalar> = uniform([3, 4], -1, 1, seed: 4)
    let m: Tensor<Scalar> = uniform([5, 4], -1, 1, seed: 5)          // [5, 4]
    let w: Tensor<Scalar> = uniform([5, 4], -1, 1, seed: 6)
    let b: Tensor<Scalar> = uniform([5], -1, 1, seed: 7)
    let targets = Tensor<Scalar>.oneHot([1, 0, 3], classCount: 4)
    let beta = Tensor<Scalar>(1.5)
    let two: Scalar = 2
    var cases: [CatalogueCase<Scalar>] = [
        // Arithmetic, each operand differentiated alone and both together (broadcasting included).
        .init(name: "a + row", x: a, f: { $0 + row }),
        .init(name: "row + a", x: a, f: { row + $0 }),
        .init(name: "a − row", x: a, f: { $0 - row }),
        .init(name: "row − a", x: a, f: { row - $0 }),
        .init(name: "a ⊙ c", x: a, f: { $0 * c }),
        .init(name: "c ⊙ a", x: a, f: { c * $0 }),
        .init(name: "a ⊘ row", x: a, f: { $0 / row }),
        .init(name: "c ⊘ p", x: p, f: { c / $0 }),
        .init(name: "a ⊙ a + a", x: a, f: { $0 * $0 + $0 }),
        .init(name: "(a − a²) ⊘ a", x: p, f: { ($0 - $0 * $0) / $0 }),
        .init(name: "−a", x: a, f: { -$0 }),
        .init(name: "maximum(a, c)", x: a, f: { Tensor.maximum($0, c) }),
        .init(name: "maximum(c, a)", x: a, f: { Tensor.maximum(c, $0) }),
        .init(name: "maximum(a, −a)", x: a, f: { Tensor.maximum($0, -$0) }),
        .init(name: "a + 2, 2 + a", x: a, f: { ($0 + two) * (two + $0) }),
        .init(name: "a − 2, 2 − a", x: a, f: { ($0 - two) * (two - $0) }),
        .init(name: "a ⊙ 2, 2 ⊙ a", x: a, f: { ($0 * two) + (two * $0) }),
        .init(name: "p ⊘ 2, 2 ⊘ p", x: p, f: { ($0 / two) + (two / $0) }),
        .init(name: "+=, −=, *=", x: a, f: { x in
            var y = x
            y += c
            y *= x
            y -= row
            return y
        }),
        // Elementwise functions.
        .init(name: "exp", x: a, f: { $0.exp() }),
        .init(name: "log", x: p, f: { $0.log() }),
        .init(name: "tanh", x: a, f: { $0.tanh() }),
        .init(name: "sigmoid", x: a, f: { $0.sigmoid() }),
        .init(name: "sqrt", x: p, f: { $0.sqrt() }),
        .init(name: "abs", x: a, f: { $0.abs() }),
        .init(name: "relu", x: a, f: { $0.relu() }),
        .init(name: "erf", x: a, f: { $0.erf() }),
        .init(name: "gelu", x: a, f: { $0.gelu() }),
        .init(name: "squared", x: a, f: { $0.squared() }),
        .init(name: "pow 3", x: a, f: { $0.pow(3) }),
        .init(name: "pow 0.5", x: p, f: { $0.pow(0.5) }),
        // Products and the affine map.
        .init(name: "matmul(a, mᵀ)", x: a, f: { Tensor.matmul($0, transposed: false, m, transposed: true) }),
        .init(name: "matmul(mᵀ… , a)", x: a, f: { Tensor.matmul(m, transposed: false, $0.transposed(), transposed: false) }),
        .init(name: "matmul(aᵀ, aᵀ)ᵀ", x: uniform([4, 4], -1, 1, seed: 8), f: { Tensor.matmul($0, transposed: true, $0, transposed: true) }),
        .init(name: "a.matmul(mᵀ)", x: a, f: { $0.matmul(m.transposed()) }),
        .init(name: "m.matmul(aᵀ)", x: a, f: { m.matmul($0.transposed()) }),
        .init(name: "affine x", x: a, f: { Tensor.affine($0, weight: w, bias: b) }),
        .init(name: "affine W", x: w, f: { Tensor.affine(a, weight: $0, bias: b) }),
        .init(name: "affine b", x: b, f: { Tensor.affine(a, weight: w, bias: $0) }),
        .init(name: "affine x, W, b", x: w, f: { Tensor.affine(m.transposed().matmul($0), weight: $0, bias: $0.sum(alongAxis: 1)) }),
        .init(name: "affine without bias", x: w, f: { Tensor.affine(a, weight: $0) }),
        .init(name: "affine one example", x: a.rows(0..<1).reshaped([4]), f: { Tensor.affine($0, weight: w, bias: b) }),
        // Reductions.
        .init(name: "sum along 1", x: a, f: { $0.sum(alongAxis: 1) }),
        .init(name: "sum along 0, kept", x: a, f: { $0.sum(alongAxis: 0, keepingDimension: true) }),
        .init(name: "sum", x: a, f: { $0.sum() }),
        .init(name: "mean along −1", x: a, f: { $0.mean(alongAxis: -1) }),
        .init(name: "mean", x: a, f: { $0.mean() }),
        .init(name: "max along 1", x: a, f: { $0.max(alongAxis: 1) }),
        .init(name: "max along 0, kept", x: a, f: { $0.max(alongAxis: 0, keepingDimension: true) }),
        // Shapes.
        .init(name: "reshaped", x: a, f: { $0.reshaped([2, 6]) }),
        .init(name: "transposed", x: a, f: { $0.transposed() }),
        .init(name: "broadcast", x: row, f: { $0.broadcast(to: [2, 3, 4]) }),
        .init(name: "sum(toShape:)", x: a, f: { $0.sum(toShape: [1, 4]) }),
        .init(name: "slice", x: a, f: { $0.slice(1..<3, alongAxis: 1) }),
        .init(name: "padded", x: a, f: { $0.padded(before: 1, after: 2, alongAxis: 0) }),
        .init(name: "rows", x: a, f: { $0.rows(1..<3) }),
        .init(name: "padded rows", x: a, f: { $0.padded(rowsBefore: 2, rowsAfter: 1) }),
    ]
    #if !FORWARD_MODE
    // The experimental forward mode of Swift 6.3.1 crashes the compiler (signal 11 in the
    // Differentiation pass) on these closures; their JVPs are registered all the same.
    cases += [
        .init(name: "concatenating", x: a, f: { Tensor.concatenating([$0, c, $0 * c], alongAxis: 1) }),
        .init(name: "concatenatingRows", x: a, f: { Tensor.concatenatingRows([c, $0]) }),
        .init(name: "split, both pieces", x: a, f: { x in
            let pieces = x.split(sizes: [1, 3], alongAxis: 1)
            return pieces[0] * pieces[1]
        }),
        .init(name: "split, one piece", x: a, f: { $0.split(sizes: [2, 1], alongAxis: 0)[1] }),
    ]
    #endif
    cases += [
        // Softmax and losses.
        .init(name: "softmax(β tensor)", x: a, f: { $0.softmax(inverseTemperature: beta) }),
        .init(name: "softmax(β) wrt β", x: beta, f: { a.softmax(inverseTemperature: $0) }),
        .init(name: "softmax(β scalar)", x: a, f: { $0.softmax(inverseTemperature: 1.5) }),
        .init(name: "logSoftmax(β tensor)", x: a, f: { $0.logSoftmax(inverseTemperature: beta) }),
        .init(name: "logSoftmax(β) wrt β", x: beta, f: { a.logSoftmax(inverseTemperature: $0) }),
        .init(name: "logSoftmax(β scalar)", x: a, f: { $0.logSoftmax(inverseTemperature: 0.5) }),
        .init(name: "softmaxCrossEntropy targets", x: a, f: { Tensor.softmaxCrossEntropy(logits: $0, targets: targets, inverseTemperature: beta) }),
        .init(name: "softmaxCrossEntropy wrt β", x: beta, f: { Tensor.softmaxCrossEntropy(logits: a, targets: targets, inverseTemperature: $0) }),
        .init(name: "softmaxCrossEntropy z, β", x: beta, f: { Tensor.softmaxCrossEntropy(logits: a * $0, targets: targets, inverseTemperature: $0) }),
        .init(name: "softmaxCrossEntropy labels", x: a, f: { Tensor.softmaxCrossEntropy(logits: $0, labels: [1, 0, 3], inverseTemperature: 2) }),
        .init(name: "Loss.softmaxCrossEntropy smoothed", x: a, f: { Loss.softmaxCrossEntropy(logits: $0, labels: [1, 0, 3], labelSmoothing: 0.1) }),
        .init(name: "Loss.softmaxCrossEntropy wrt β", x: beta, f: { Loss.softmaxCrossEntropy(logits: a, labels: [1, 0, 3], inverseTemperature: $0) }),
        .init(name: "Loss.negativeLogLikelihood", x: a, f: { Loss.negativeLogLikelihood(logProbabilities: $0.logSoftmax(), labels: [2, 2, 0]) }),
        .init(name: "Loss.meanSquaredError", x: a, f: { Loss.meanSquaredError($0, c) }),
        .init(name: "Loss.meanSquaredError both", x: a, f: { Loss.meanSquaredError($0, $0 * c) }),
        // Constants.
        .init(name: "detached", x: a, f: { $0 * $0.detached }),
    ]
    return cases
}
