/// One gradient check of the catalogue: a labelled function and the point to check it at.
public struct GradientCheckCase: Sendable {
    /// The operation and the situation, e.g. "softmax β=-3".
    public let name: String
    /// The inputs the function is differentiated with respect to.
    public let inputs: [Tensor<Double>]
    /// The function of the inputs.
    public let function: @Sendable ([Tensor<Double>]) -> Tensor<Double>

    /// A case named `name` that checks `function` at `inputs`.
    public init(_ name: String, _ inputs: [Tensor<Double>], _ function: @escaping @Sendable ([Tensor<Double>]) -> Tensor<Double>) {
        self.name = name; self.inputs = inputs; self.function = function
    }

    /// Runs `GradientCheck.check` on this case.
    public func run() -> GradientCheckReport { GradientCheck.check(name, at: inputs, function) }
}

/// Every differentiable operation of the library, each at random shapes (seeded), including
/// n = 1, large logits, β = 0 and β < 0 for the softmax family. `backprop check` and the test
/// suite both run this list, so an operation added without an entry here is a visible gap.
public enum OperationCatalogue {
    /// The catalogue's cases, their inputs drawn from a generator seeded by `seed` (default 2024,
    /// `backprop check`'s default): the same seed gives the same cases.
    public static func cases(seed: UInt64 = 2024) -> [GradientCheckCase] {
        var g = SeededGenerator(seed: seed)
        func normal(_ shape: [Int], _ scale: Double = 1) -> Tensor<Double> { .randomNormal(shape, standardDeviation: scale, generator: &g) }
        /// Values bounded away from 0 (for log, sqrt, division, and the kinks of relu and abs).
        func awayFromZero(_ shape: [Int]) -> Tensor<Double> {
            let t = Tensor<Double>.randomUniform(shape, lower: 0.2, upper: 2, generator: &g)
            let s = Tensor<Double>.randomUniform(shape, lower: -1, upper: 1, generator: &g)
            return Tensor(shape: shape, scalars: zip(t.scalars, s.scalars).map { $1 < 0 ? -$0 : $0 })
        }
        func positive(_ shape: [Int]) -> Tensor<Double> { .randomUniform(shape, lower: 0.3, upper: 3, generator: &g) }
        func size(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(g.next() % UInt64(range.count)) }
        /// A probability row per example (for cross-entropy targets), label-smoothed one-hots.
        func targets(_ rows: Int, _ classes: Int, smoothing: Double) -> Tensor<Double> {
            var t = Tensor<Double>.full([rows, classes], classes > 1 ? smoothing / Double(classes - 1) : 0)
            for r in 0..<rows { t.scalars[r * classes + size(0...(classes - 1))] = classes > 1 ? 1 - smoothing : 1 }
            return t
        }

        let m = size(2...5), n = size(2...6), k = size(1...4)
        var cases: [GradientCheckCase] = [
            .init("add (broadcast [m,n]+[n])", [normal([m, n]), normal([n])]) { $0[0] + $0[1] },
            .init("add (same input twice)", [normal([n])]) { $0[0] + $0[0] * $0[0] },
            .init("subtract (broadcast [m,1]-[n])", [normal([m, 1]), normal([n])]) { $0[0] - $0[1] },
            .init("multiply (broadcast)", [normal([m, n]), normal([1, n])]) { $0[0] * $0[1] },
            .init("divide", [normal([m, n]), awayFromZero([m, n])]) { $0[0] / $0[1] },
            .init("negate", [normal([n])]) { -$0[0] },
            .init("maximum", [normal([m, n]), normal([m, n])]) { Tensor.maximum($0[0], $0[1]) },
            .init("exp", [normal([m, n])]) { $0[0].exp() },
            .init("log", [positive([m, n])]) { $0[0].log() },
            .init("tanh", [normal([m, n], 2)]) { $0[0].tanh() },
            .init("sigmoid", [normal([m, n], 3)]) { $0[0].sigmoid() },
            .init("relu", [awayFromZero([m, n])]) { $0[0].relu() },
            .init("abs", [awayFromZero([n])]) { $0[0].abs() },
            .init("sqrt", [positive([m, n])]) { $0[0].sqrt() },
            .init("erf", [normal([m, n])]) { $0[0].erf() },
            .init("pow 3", [normal([n])]) { $0[0].pow(3) },
            .init("gelu", [normal([m, n], 2)]) { $0[0].gelu() },
            .init("reshape", [normal([m, n])]) { $0[0].reshaped([n, m]) * Tensor<Double>.ones([n, m]).cumulative() },
            .init("transpose", [normal([m, n])]) { $0[0].transposed() },
            .init("broadcast", [normal([1, n])]) { $0[0].broadcast(to: [m, n]) },
            .init("sum to shape", [normal([m, n])]) { $0[0].sum(toShape: [1, n]) },
            .init("rows", [normal([m + 2, n])]) { $0[0].rows(1..<(m + 1)) },
            .init("padded", [normal([m, n])]) { $0[0].padded(rowsBefore: 1, rowsAfter: 2) },
            .init("concatenate rows", [normal([m, n]), normal([k, n])]) { Tensor.concatenatingRows([$0[0], $0[1]]) },
            .init("concatenate axis 1 (rank 3, extents m, m+1, 1)", [normal([k, m, 2]), normal([k, m + 1, 2]), normal([k, 1, 2])]) {
                Tensor.concatenating($0, alongAxis: 1)
            },
            .init("concatenate axis -1", [normal([m, n]), normal([m, k])]) { Tensor.concatenating($0, alongAxis: -1) },
            .init("slice axis 1", [normal([k, n + 2, m])]) { $0[0].slice(1..<(n + 1), alongAxis: 1) },
            .init("padded last axis", [normal([m, k, n])]) { $0[0].padded(before: 2, after: 1, alongAxis: -1) },
            .init("split into 3 along axis 1, weighted sum", [normal([k, 1 + 2 * n, 2])]) { x in
                let p = x[0].split(sizes: [1, n, n], alongAxis: 1)
                return p[0] * 2 + p[1] * Tensor<Double>.ones([k, n, 2]).cumulative() - p[2] * 0.5
            },
            .init("sum axis 0", [normal([m, n])]) { $0[0].sum(alongAxis: 0) },
            .init("sum axis -1 keep", [normal([m, n])]) { $0[0].sum(alongAxis: -1, keepingDimension: true) },
            .init("sum all", [normal([m, n])]) { $0[0].sum() },
            .init("mean axis 1", [normal([m, n])]) { $0[0].mean(alongAxis: 1) },
            .init("mean all", [normal([m, n])]) { $0[0].mean() },
            .init("max axis 1", [normal([m, n])]) { $0[0].max(alongAxis: 1) },
            .init("matmul A·B", [normal([m, k]), normal([k, n])]) { Tensor.matmul($0[0], $0[1]) },
            .init("matmul Aᵀ·B", [normal([k, m]), normal([k, n])]) { Tensor.matmul($0[0], transposed: true, $0[1]) },
            .init("matmul A·Bᵀ", [normal([m, k]), normal([n, k])]) { Tensor.matmul($0[0], $0[1], transposed: true) },
            .init("matmul Aᵀ·Bᵀ", [normal([k, m]), normal([n, k])]) { Tensor.matmul($0[0], transposed: true, $0[1], transposed: true) },
            .init("affine x∈ℝᴺ", [normal([n]), normal([m, n]), normal([m])]) { Tensor.affine($0[0], weight: $0[1], bias: $0[2]) },
            .init("affine batch", [normal([k, n]), normal([m, n]), normal([m])]) { Tensor.affine($0[0], weight: $0[1], bias: $0[2]) },
            .init("affine no bias", [normal([k, n]), normal([m, n])]) { Tensor.affine($0[0], weight: $0[1]) },
            .init("affine n=1", [normal([1]), normal([1, 1]), normal([1])]) { Tensor.affine($0[0], weight: $0[1], bias: $0[2]) },
        ]
        // The softmax family: β differentiable, at ordinary, zero, negative and large settings.
        let betas: [(String, Double, Double)] = [("β=2", 2, 1), ("β=0", 0, 1), ("β=-3", -3, 1), ("β=1 n=1", 1, 1),
                                                  ("β=1 logits ±1e4", 1, 1e4), ("β=100 logits ±1e4", 100, 1e4), ("β=0.5 logits ±1e4", 0.5, 1e4)]
        for (label, beta, scale) in betas {
            let width = label.contains("n=1") ? 1 : n
            cases.append(.init("softmax \(label)", [normal([m, width], scale), Tensor(beta)]) { $0[0].softmax(inverseTemperature: $0[1]) })
            cases.append(.init("logSoftmax \(label)", [normal([m, width], scale), Tensor(beta)]) { $0[0].logSoftmax(inverseTemperature: $0[1]) })
            let t = targets(m, width, smoothing: 0.1)
            cases.append(.init("softmaxCrossEntropy \(label)", [normal([m, width], scale), Tensor(beta)]) {
                Tensor.softmaxCrossEntropy(logits: $0[0], targets: t, inverseTemperature: $0[1])
            })
        }
        // Second order: the gradient of each fused loss is itself checked (its Jacobian is the Hessian).
        let t2 = targets(1, n, smoothing: 0)
        cases.append(.init("∇ softmaxCrossEntropy (Hessian) β=2", [normal([1, n])]) { z in
            gradient(at: z[0]) { Tensor.softmaxCrossEntropy(logits: $0, targets: t2, inverseTemperature: Tensor(2.0)) }
        })
        cases.append(.init("∇ softmax·w (Hessian) β=-1.5", [normal([n])]) { x in
            gradient(at: x[0]) { ($0.softmax(inverseTemperature: -1.5) * Tensor<Double>.ones([n]).cumulative()).sum() }
        })
        cases.append(.init("∇ tanh∘affine (Hessian)", [normal([n])]) { x in
            let w = Tensor<Double>.ones([2, n]).cumulative() / Double(n)
            return gradient(at: x[0]) { Tensor.affine($0, weight: w).tanh().sum() }
        })
        cases += convolutionalCases(normal: normal)
        return cases
    }

    /// Convolution, pooling, normalisation and dropout at small odd shapes: stride, padding,
    /// dilation, groups, non-square kernels and images, the two adjoints of conv2d on their own,
    /// and second derivatives through the recorded backward passes.
    static func convolutionalCases(normal: ([Int], Double) -> Tensor<Double>) -> [GradientCheckCase] {
        func n(_ shape: [Int]) -> Tensor<Double> { normal(shape, 1) }
        let weights = { @Sendable (shape: [Int]) in Tensor<Double>.ones(shape).cumulative() / Double(shape.reduce(1, *)) }
        var cases: [GradientCheckCase] = [
            .init("conv2d 3×3 pad 1 bias", [n([2, 2, 4, 5]), n([3, 2, 3, 3]), n([3])]) {
                Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1)
            },
            .init("conv2d 3×5 stride 2 pad 1", [n([2, 2, 7, 9]), n([2, 2, 3, 5]), n([2])]) {
                Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1)
            },
            .init("conv2d dilation 2 stride (1,2) pad (2,1)", [n([1, 2, 7, 6]), n([2, 2, 3, 2])]) {
                Tensor.conv2d($0[0], weight: $0[1], stride: Size2D(1, 2), padding: Size2D(2, 1), dilation: 2)
            },
            .init("conv2d groups 2", [n([2, 4, 5, 5]), n([4, 2, 2, 3]), n([4])]) {
                Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], padding: Size2D(0, 1), groups: 2)
            },
            .init("conv2d 1×1", [n([2, 3, 3, 4]), n([2, 3, 1, 1])]) { Tensor.conv2d($0[0], weight: $0[1]) },
            .init("conv2d input gradient (transposed conv) stride 2", [n([2, 3, 3, 4]), n([3, 2, 3, 3])]) {
                Tensor.conv2dInputGradient($0[0], weight: $0[1], inputShape: [2, 2, 6, 8], stride: 2, padding: 1)
            },
            .init("conv2d weight gradient groups 2 dilation 2", [n([2, 4, 6, 6]), n([2, 2, 4, 4])]) {
                Tensor.conv2dWeightGradient($0[0], outputGradient: $0[1], kernel: 2, dilation: 2, groups: 2)
            },
            .init("maxPool2d 3×3 stride 2 pad 1", [n([2, 2, 7, 9])]) { $0[0].maxPool2d(kernel: 3, stride: 2, padding: 1) },
            .init("maxPool2d 2×2", [n([1, 2, 4, 22])]) { $0[0].maxPool2d(kernel: 2) },
            .init("avgPool2d 2×3 stride (1,2) pad 1", [n([2, 2, 5, 7])]) {
                $0[0].avgPool2d(kernel: Size2D(2, 3), stride: Size2D(1, 2), padding: 1)
            },
            .init("globalAvgPool2d", [n([2, 3, 3, 4])]) { $0[0].globalAvgPool2d() },
            .init("batchNormalization [N,C,H,W] affine", [n([3, 2, 3, 4]), n([2]), n([2])]) {
                Tensor.batchNormalization($0[0], weight: $0[1], bias: $0[2]).output
            },
            .init("batchNormalization [N,C]", [n([5, 3])]) { Tensor.batchNormalization($0[0]).output },
            .init("layerNormalization last 2 axes affine", [n([3, 2, 4]), n([2, 4]), n([2, 4])]) {
                Tensor.layerNormalization($0[0], normalizedShape: [2, 4], weight: $0[1], bias: $0[2])
            },
            .init("layerNormalization last axis", [n([4, 5])]) { Tensor.layerNormalization($0[0], normalizedShape: [5]) },
            .init("dropout p=0.3 (fixed mask)", [n([3, 5])]) { x in
                var g = SeededGenerator(seed: 11)
                return x[0].dropout(probability: 0.3, generator: &g)
            },
        ]
        // Second order: the gradient of a smooth function of each op, its Jacobian a Hessian,
        // so the recorded backward passes (the composed formulas) are checked too.
        let cw = weights([1, 2, 2, 2]), kernel = weights([2, 1, 3, 3]) - 0.5
        cases.append(.init("∇ Σc·tanh(conv2d) stride 2 (Hessian in x)", [n([1, 1, 5, 5])]) { x in
            gradient(at: x[0]) { (Tensor.conv2d($0, weight: kernel, stride: 2, padding: 1).tanh() * weights([1, 2, 3, 3])).sum() }
        })
        cases.append(.init("∇ Σc·tanh(conv2d) (Hessian in W)", [n([2, 1, 3, 3])]) { w in
            let x = weights([1, 1, 4, 4]) - 0.4
            return gradient(at: w[0]) { (Tensor.conv2d(x, weight: $0, stride: 2, padding: 1).tanh() * cw).sum() }
        })
        cases.append(.init("∇ Σc·maxPool2d(x)² (Hessian)", [n([1, 1, 4, 4])]) { x in
            gradient(at: x[0]) { ($0.maxPool2d(kernel: 2).squared() * weights([1, 1, 2, 2])).sum() }
        })
        cases.append(.init("∇ Σc·avgPool2d(x)² (Hessian)", [n([1, 1, 4, 5])]) { x in
            gradient(at: x[0]) { ($0.avgPool2d(kernel: 2, stride: 1, padding: 1).squared() * weights([1, 1, 5, 6])).sum() }
        })
        cases.append(.init("∇ Σc·tanh(batchNormalization) (Hessian)", [n([3, 2, 2])]) { x in
            let gamma = Tensor<Double>([1.5, -0.5]), beta = Tensor<Double>([0.1, 0.2])
            return gradient(at: x[0]) { (Tensor.batchNormalization($0, weight: gamma, bias: beta).output.tanh() * weights([3, 2, 2])).sum() }
        })
        cases.append(.init("∇ Σc·tanh(layerNormalization) (Hessian)", [n([2, 5])]) { x in
            let gamma = weights([5]) + 0.5, beta = weights([5])
            return gradient(at: x[0]) { (Tensor.layerNormalization($0, normalizedShape: [5], weight: gamma, bias: beta).tanh() * weights([2, 5])).sum() }
        })
        return cases
    }
}

extension Tensor {
    /// 1, 2, 3, … in this shape (a constant used to weight outputs unevenly in checks).
    func cumulative() -> Tensor {
        Tensor(shape: shape, scalars: (0..<count).map { Scalar($0 + 1) })
    }
}
