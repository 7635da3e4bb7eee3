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
    // Convolution, pooling and normalisation on NCHW batches.
    let image: Tensor<Scalar> = uniform([2, 3, 5, 5], -1, 1, seed: 9)
    let kernel: Tensor<Scalar> = uniform([4, 3, 3, 3], -1, 1, seed: 10)
    let kernelBias: Tensor<Scalar> = uniform([4], -1, 1, seed: 11)
    let grouped: Tensor<Scalar> = uniform([6, 2, 2, 2], -1, 1, seed: 12)   // 4 → 6 channels in 2 groups
    let outputGradient: Tensor<Scalar> = uniform([2, 4, 5, 5], -1, 1, seed: 13)
    // A bias that is Optional before differentiation (promoting a differentiated tensor to
    // `Tensor?` inside the closure crashes the compiler: the article's known limits).
    let optionalBias: Tensor<Scalar>? = kernelBias
    let optionalRow: Tensor<Scalar>? = row
    let gamma: Tensor<Scalar> = uniform([3], 0.5, 1.5, seed: 14)
    let shift: Tensor<Scalar> = uniform([3], -1, 1, seed: 15)
    cases += [
        .init(name: "conv2d x", x: image, f: { Tensor.conv2d($0, weight: kernel, bias: kernelBias, padding: 1) }),
        .init(name: "conv2d W, b", x: kernel, f: { Tensor.conv2d(image, weight: $0, bias: $0.sum(toShape: [4, 1, 1, 1]).reshaped([4]), stride: 2) }),
        .init(name: "conv2d x, W", x: kernel, f: { Tensor.conv2d(image * $0.sum(), weight: $0, bias: kernelBias, dilation: 2) }),
        .init(name: "conv2d optional bias, W", x: kernel, f: { Tensor.conv2d(image, weight: $0, bias: optionalBias, padding: 1) }),
        .init(name: "conv2d no bias, groups", x: uniform([2, 4, 5, 5], -1, 1, seed: 16),
              f: { Tensor.conv2d($0, weight: grouped, stride: Size2D(1, 2), padding: Size2D(1, 0), groups: 2) }),
        .init(name: "conv2dInputGradient", x: kernel,
              f: { Tensor.conv2dInputGradient(outputGradient * $0.sum(), weight: $0, inputShape: [2, 3, 5, 5], padding: 1) }),
        .init(name: "conv2dWeightGradient", x: image,
              f: { Tensor.conv2dWeightGradient($0, outputGradient: outputGradient * $0.sum(), kernel: 3, padding: 1) }),
        .init(name: "maxPool2d", x: image, f: { $0.maxPool2d(kernel: 2) }),
        .init(name: "maxPool2d stride, padding", x: image, f: { $0.maxPool2d(kernel: 3, stride: 2, padding: 1) }),
        .init(name: "avgPool2d", x: image, f: { $0.avgPool2d(kernel: 3, stride: 1, padding: 1) }),
        .init(name: "globalAvgPool2d", x: image, f: { $0.globalAvgPool2d() }),
        .init(name: "batchNormalized x", x: image, f: { Tensor.batchNormalized($0) }),
        .init(name: "batchNormalized x, γ, β", x: gamma, f: { Tensor.batchNormalized(image * $0.sum(), weight: $0, bias: $0 * shift) }),
        .init(name: "batchNormalized [N, C]", x: a, f: { Tensor.batchNormalized($0, weight: row, bias: row, epsilon: 1e-3) }),
        .init(name: "layerNormalization x", x: image, f: { Tensor.layerNormalization($0, normalizedShape: [5, 5]) }),
        .init(name: "layerNormalization optional γ, β", x: a,
              f: { Tensor.layerNormalization($0, normalizedShape: [4], weight: optionalRow, bias: optionalRow) }),
        .init(name: "layerNormalization x, γ, β", x: row, f: { Tensor.layerNormalization(a * $0, normalizedShape: [4], weight: $0, bias: $0 * $0) }),
    ]
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
