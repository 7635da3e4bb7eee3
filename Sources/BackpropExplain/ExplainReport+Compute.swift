import Backprop

// Computes the walk-through with the library's own operations (affine, softmax, log,
// softmaxCrossEntropy) and transforms (valueWithPullback, jacobian, valueWithGradient): the
// same rules training uses. Closed forms and central differences are only the checks beside them.

extension ExplainReport {
    /// Walks one forward and one backward pass of `network` and checks every step.
    ///
    /// - Throws: `ExplainError` when the network cannot be explained (shapes, target, β).
    public init(explaining network: ExplainNetwork) throws {
        let net = try network.validated()
        let layerCount = net.layers.count
        let names = ExplainNames(layerCount: layerCount)
        let beta = Tensor(net.inverseTemperature)
        let classes = net.classCount
        let target = net.target
        let t = Tensor<Double>.basisVector(target, shape: [classes])
        let activation = net.activation
        let parameters = net.layers.flatMap { [$0.weight, $0.bias] } + [beta]

        // L as a function of the logits y: −log softmax(βy)_target, picking the target entry
        // with `rows` (so a probability that underflows to 0 elsewhere cannot make 0·log 0 = NaN).
        func lossOfProbabilities(_ p: Tensor<Double>) -> Tensor<Double> { -(p.rows(target..<(target + 1)).log().sum()) }
        func lossOfLogits(_ y: Tensor<Double>, _ beta: Tensor<Double>) -> Tensor<Double> {
            lossOfProbabilities(y.softmax(inverseTemperature: beta))
        }
        // L from the input `a` of layer `first` on, with parameters [W₀, b₀, …, β].
        func loss(from first: Int, _ a: Tensor<Double>, _ params: [Tensor<Double>]) -> Tensor<Double> {
            var a = a
            for k in first..<layerCount {
                a = Tensor.affine(a, weight: params[2 * k], bias: params[2 * k + 1])
                if k < layerCount - 1 { a = activation.apply(a) }
            }
            return lossOfLogits(a, params[2 * layerCount])
        }
        // L with the i-th of [x, W₀, b₀, …, β] replaced by `value`.
        func loss(replacing i: Int, with value: Tensor<Double>) -> Tensor<Double> {
            var all = [net.input] + parameters
            all[i] = value
            return loss(from: 0, all[0], Array(all.dropFirst()))
        }

        // Forward pass.
        var inputs = [net.input]                 // inputs[k]: what layer k receives
        var preActivations: [Tensor<Double>] = []
        for (k, layer) in net.layers.enumerated() {
            let z = Tensor.affine(inputs[k], weight: layer.weight, bias: layer.bias)
            preActivations.append(z)
            if k < layerCount - 1 { inputs.append(activation.apply(z)) }
        }
        let y = preActivations[layerCount - 1]
        let p = y.softmax(inverseTemperature: beta)
        let lossValue = lossOfProbabilities(p).scalar

        func labels(_ name: String, _ n: Int) -> [String] { subscriptedLabels(name, n) }
        func vector(_ name: String, _ v: Tensor<Double>, entries: String? = nil) -> ExplainMatrix {
            .column(name, v.scalars, labels: labels(entries ?? name, v.count))
        }
        let yName = names.preActivation(layerCount - 1)
        var forward: [ExplainValue] = [ExplainValue(formula: "x, the input", matrix: vector("x", net.input))]
        if let conv = net.convolution {
            let z = withoutDerivative { conv.output() }
            forward = [
                ExplainValue(formula: "X, the input image (\(conv.image.shape[0])×\(conv.image.shape[1]))", matrix: imageMatrix("X", conv.image, "m", "n")),
                ExplainValue(formula: "K, the kernel (\(conv.kernel.shape[0])×\(conv.kernel.shape[1]))", matrix: imageMatrix("K", conv.kernel, "u", "v")),
                ExplainValue(formula: "c, the convolution's bias", matrix: .scalar("c", conv.bias)),
                ExplainValue(formula: "Z = K ⋆ X + c,  Zᵢⱼ = Σᵤᵥ Kᵤᵥ X₍ᵢ₊ᵤ₎₍ⱼ₊ᵥ₎ + c  (the kernel slides over the image)",
                             matrix: imageMatrix("Z", z, "i", "j")),
                ExplainValue(formula: "x = vec(Z), Z's rows one after another: the affine map's input", matrix: vector("x", net.input)),
            ]
        }
        for (k, layer) in net.layers.enumerated() {
            let w = names.weight(k), b = names.bias(k), x = names.input(k), z = names.preActivation(k)
            forward.append(ExplainValue(formula: "\(w), the weight (\(layer.weight.shape[0]) outputs × \(layer.weight.shape[1]) inputs)",
                                        matrix: ExplainMatrix(name: w, layer.weight, rowLabels: labels(z, layer.weight.shape[0]),
                                                              columnLabels: labels(x, layer.weight.shape[1]))))
            forward.append(ExplainValue(formula: "\(b), the bias", matrix: vector(b, layer.bias)))
            forward.append(ExplainValue(formula: "\(z) = \(w)\(x) + \(b)", matrix: vector(z, preActivations[k])))
            if k < layerCount - 1 {
                let h = names.input(k + 1)
                forward.append(ExplainValue(formula: "\(h) = \(activation.symbol)(\(z))", matrix: vector(h, inputs[k + 1])))
            }
        }
        forward.append(ExplainValue(formula: "β, the inverse temperature", matrix: .scalar("β", net.inverseTemperature)))
        forward.append(ExplainValue(formula: "p = softmax(β\(yName)), pⱼ = exp(β\(yName)ⱼ) / Σᵢ exp(β\(yName)ᵢ)", matrix: vector("p", p)))
        forward.append(ExplainValue(formula: "t, the one-hot target (class \(target))", matrix: vector("t", t)))
        forward.append(ExplainValue(formula: "L = −log p\(subscripted("", target)) = −Σⱼ tⱼ log pⱼ", matrix: .scalar("L", lossValue)))

        func check(_ kind: ExplainCheck.Kind, _ method: String, _ values: [Double], of result: ExplainMatrix) -> ExplainCheck {
            let estimate = result.withValues(values, name: result.name)
            return ExplainCheck(kind: kind, method: method, estimate: estimate,
                                maxAbsError: ExplainMatrix.maxAbsDifference(result, estimate))
        }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var steps: [ExplainStep] = []

        // ∂L/∂p: the cross-entropy's local derivative.
        let dLdp = valueWithPullback(at: p, of: lossOfProbabilities).pullback(Tensor(1.0))
        let dLdpMatrix = vector(gradientName("p"), dLdp, entries: "p")
        steps.append(ExplainStep(
            id: "dL_dp", title: "∂L/∂p: cross-entropy on the probabilities",
            formula: "L = −Σⱼ tⱼ log pⱼ  ⇒  ∂L/∂pⱼ = −tⱼ / pⱼ  (only the target entry is non-zero: −1/p\(subscripted("", target)))",
            method: "valueWithPullback(at: p) of −log p_target, pulled back from 1",
            result: dLdpMatrix,
            checks: [
                check(.closedForm, "−t ⊘ p", (0..<classes).map { $0 == target ? -1 / p.scalars[$0] : 0 }, of: dLdpMatrix),
                check(.finiteDifferences, "central differences of L(p)",
                      FiniteDifferences.gradient(of: lossOfProbabilities, at: p).scalars, of: dLdpMatrix),
            ]))

        // ∂p/∂y: the softmax Jacobian.
        let softmaxOfLogits = { (y: Tensor<Double>) in y.softmax(inverseTemperature: beta) }
        let jacobianReverse = jacobian(of: softmaxOfLogits, at: y, mode: .reverse)
        let jacobianForward = jacobian(of: softmaxOfLogits, at: y, mode: .forward)
        let jacobianMatrix = ExplainMatrix(name: "∂p/∂\(yName)", jacobianReverse,
                                           rowLabels: labels("p", classes), columnLabels: labels(yName, classes))
        steps.append(ExplainStep(
            id: "softmax_jacobian", title: "∂p/∂\(yName): the softmax Jacobian",
            formula: "J = β(diag(p) − p pᵀ),  Jᵢⱼ = ∂pᵢ/∂\(yName)ⱼ = β pᵢ(δᵢⱼ − pⱼ)  (symmetric)",
            method: "jacobian(of: softmax(β·), at: \(yName), mode: .reverse), one pullback per row",
            result: jacobianMatrix,
            checks: [
                check(.closedForm, "β(diag(p) − p pᵀ)",
                      ClosedForm.softmaxJacobian(output: p, inverseTemperature: net.inverseTemperature).scalars, of: jacobianMatrix),
                check(.forwardMode, "jacobian(mode: .forward), one tangent per column", jacobianForward.scalars, of: jacobianMatrix),
                check(.finiteDifferences, "central differences of softmax(β\(yName))",
                      FiniteDifferences.jacobian(of: softmaxOfLogits, at: y).scalars, of: jacobianMatrix),
            ]))

        // ∂L/∂y and ∂L/∂β through the softmax's own pullback; the fused rule as a check.
        let softmaxPullback = valueWithPullback(at: [y, beta]) { $0[0].softmax(inverseTemperature: $0[1]) }.pullback(dLdp)
        let fused = valueWithPullback(at: [y, beta]) {
            Tensor.softmaxCrossEntropy(logits: $0[0], targets: t, inverseTemperature: $0[1])
        }.pullback(Tensor(1.0))
        let jacobianClosed = ClosedForm.softmaxJacobian(output: p, inverseTemperature: net.inverseTemperature)
        let dLdyMatrix = vector(gradientName(yName), softmaxPullback[0], entries: yName)
        steps.append(ExplainStep(
            id: "dL_dy", title: "\(gradientName(yName)): back through the softmax",
            formula: "\(gradientName(yName)) = Jᵀ ∂L/∂p = β p ⊙ (∂L/∂p − ⟨∂L/∂p, p⟩)  =  β(p − t)  (the fused shortcut)",
            method: "valueWithPullback(at: [\(yName), β]) of softmax(β\(yName)), pulled back from ∂L/∂p",
            result: dLdyMatrix,
            checks: [
                check(.closedForm, "Jᵀ ∂L/∂p with J = β(diag(p) − p pᵀ)",
                      (0..<classes).map { j in (0..<classes).reduce(0) { $0 + jacobianClosed.scalars[$1 * classes + j] * dLdp.scalars[$1] } },
                      of: dLdyMatrix),
                check(.closedForm, "β(p − t)", (0..<classes).map { net.inverseTemperature * (p.scalars[$0] - t.scalars[$0]) }, of: dLdyMatrix),
                check(.fusedRule, "softmaxCrossEntropy(logits:targets:inverseTemperature:) pullback", fused[0].scalars, of: dLdyMatrix),
                check(.finiteDifferences, "central differences of L(\(yName))",
                      FiniteDifferences.gradient(of: { lossOfLogits($0, beta) }, at: y).scalars, of: dLdyMatrix),
            ]))

        let dLdbeta = softmaxPullback[1].scalar
        let dLdbetaMatrix = ExplainMatrix.scalar(gradientName("β"), dLdbeta)
        let dpdbeta = ClosedForm.softmaxDerivativeWithRespectToBeta(input: y, output: p)
        steps.append(ExplainStep(
            id: "dL_dbeta", title: "∂L/∂β: the inverse temperature",
            formula: "∂pⱼ/∂β = pⱼ(\(yName)ⱼ − ⟨p, \(yName)⟩)  ⇒  ∂L/∂β = Σⱼ (∂L/∂pⱼ) pⱼ (\(yName)ⱼ − ⟨p, \(yName)⟩) = ⟨p, \(yName)⟩ − \(yName)\(subscripted("", target))",
            method: "the same softmax pullback, its β component",
            result: dLdbetaMatrix,
            checks: [
                check(.closedForm, "Σⱼ (∂L/∂pⱼ) pⱼ (\(yName)ⱼ − ⟨p, \(yName)⟩)", [dot(dLdp.scalars, dpdbeta.scalars)], of: dLdbetaMatrix),
                check(.fusedRule, "softmaxCrossEntropy pullback, β component", [fused[1].scalar], of: dLdbetaMatrix),
                check(.finiteDifferences, "central differences of L(β)",
                      [FiniteDifferences.gradient(of: { loss(replacing: 2 * layerCount + 1, with: $0) }, at: beta).scalar],
                      of: dLdbetaMatrix),
            ]))

        // Through the layers, last first: g = ∂L/∂z for the layer being undone.
        var g = softmaxPullback[0]
        var gradientsOfPreActivations = [Tensor<Double>](repeating: .zeros([0]), count: layerCount)
        var gradientsOfInputs = [Tensor<Double>](repeating: .zeros([0]), count: layerCount)
        var parameterGradients = [Tensor<Double>](repeating: .zeros([0]), count: 2 * layerCount)
        for k in stride(from: layerCount - 1, through: 0, by: -1) {
            let layer = net.layers[k]
            let a = inputs[k], outputs = layer.weight.shape[0], width = layer.weight.shape[1]
            let w = names.weight(k), b = names.bias(k), x = names.input(k), z = names.preActivation(k), tag = names.tag(k)
            gradientsOfPreActivations[k] = g
            let gName = gradientName(z)
            let pulled = valueWithPullback(at: [a, layer.weight, layer.bias]) {
                Tensor.affine($0[0], weight: $0[1], bias: $0[2])
            }.pullback(g)
            parameterGradients[2 * k] = pulled[1]
            parameterGradients[2 * k + 1] = pulled[2]
            gradientsOfInputs[k] = pulled[0]
            let method = "valueWithPullback(at: [\(x), \(w), \(b)]) of affine, pulled back from g = \(gName)"

            let dW = ExplainMatrix(name: gradientName(w), pulled[1], rowLabels: labels(z, outputs), columnLabels: labels(x, width))
            steps.append(ExplainStep(
                id: "dL_dW\(tag)", title: "\(gradientName(w)): the outer product g \(x)ᵀ",
                formula: "\(z)ᵢ = Σⱼ \(w)ᵢⱼ \(x)ⱼ + \(b)ᵢ  ⇒  ∂L/∂\(w)ᵢⱼ = gᵢ \(x)ⱼ,  \(gradientName(w)) = g \(x)ᵀ  (g = \(gName), \(outputs)×\(width) like \(w))",
                method: method, result: dW,
                checks: [
                    check(.closedForm, "g \(x)ᵀ", (0..<outputs).flatMap { i in (0..<width).map { j in g.scalars[i] * a.scalars[j] } }, of: dW),
                    check(.finiteDifferences, "central differences of L(\(w))",
                          FiniteDifferences.gradient(of: { loss(replacing: 1 + 2 * k, with: $0) }, at: layer.weight).scalars, of: dW),
                ]))

            let db = vector(gradientName(b), pulled[2], entries: b)
            steps.append(ExplainStep(
                id: "dL_db\(tag)", title: "\(gradientName(b)): the bias gets g itself",
                formula: "∂\(z)ᵢ/∂\(b)ⱼ = δᵢⱼ (∂\(z)/∂\(b) = I)  ⇒  \(gradientName(b)) = g",
                method: method, result: db,
                checks: [
                    check(.closedForm, "g", g.scalars, of: db),
                    check(.finiteDifferences, "central differences of L(\(b))",
                          FiniteDifferences.gradient(of: { loss(replacing: 2 + 2 * k, with: $0) }, at: layer.bias).scalars, of: db),
                ]))

            let dx = vector(gradientName(x), pulled[0], entries: x)
            let params = parameters
            steps.append(ExplainStep(
                id: "dL_d\(k == 0 ? "x" : "h\(k)")", title: "\(gradientName(x)): the input, Wᵀ g",
                formula: "∂\(z)/∂\(x) = \(w)  ⇒  \(gradientName(x)) = \(w)ᵀ g  (\(width) entries like \(x))",
                method: method, result: dx,
                checks: [
                    check(.closedForm, "\(w)ᵀ g", (0..<width).map { j in (0..<outputs).reduce(0) { $0 + layer.weight.scalars[$1 * width + j] * g.scalars[$1] } }, of: dx),
                    check(.finiteDifferences, "central differences of L(\(x))",
                          FiniteDifferences.gradient(of: { loss(from: k, $0, params) }, at: a).scalars, of: dx),
                ]))

            guard k > 0 else { break }
            // Back through the activation between layer k−1 and layer k.
            let zPrev = preActivations[k - 1], hPrev = inputs[k], zName = names.preActivation(k - 1)
            let gz = valueWithPullback(at: zPrev) { activation.apply($0) }.pullback(pulled[0])
            let dz = vector(gradientName(zName), gz, entries: zName)
            steps.append(ExplainStep(
                id: "dL_dz\(k)", title: "\(gradientName(zName)): back through \(activation.symbol)",
                formula: "\(x) = \(activation.symbol)(\(zName))  ⇒  \(gradientName(zName)) = \(activation.symbol)′(\(zName)) ⊙ \(gradientName(x)),  \(activation.derivativeFormula)",
                method: "valueWithPullback(at: \(zName)) of \(activation.name), pulled back from \(gradientName(x))",
                result: dz,
                checks: [
                    check(.closedForm, "\(activation.symbol)′(\(zName)) ⊙ \(gradientName(x))",
                          (0..<zPrev.count).map { activation.derivative(input: zPrev.scalars[$0], output: hPrev.scalars[$0]) * pulled[0].scalars[$0] },
                          of: dz),
                    check(.finiteDifferences, "central differences of L(\(zName))",
                          FiniteDifferences.gradient(of: { loss(from: k, activation.apply($0), params) }, at: zPrev).scalars, of: dz),
                ]))
            g = gz
        }

        if let conv = net.convolution {
            steps += ExplainReport.convolutionSteps(conv, dLdx: gradientsOfInputs[0], lossOfInput: { loss(from: 0, $0, parameters) })
        }

        // The whole chain in one call: what training does.
        let whole = valueWithGradient(at: [net.input] + parameters) { loss(from: 0, $0[0], Array($0.dropFirst())) }.gradient
        var wholeChain: [ExplainCheck] = []
        func wholeCheck(_ result: ExplainStep, _ gradient: Tensor<Double>) {
            wholeChain.append(check(.wholeChain, "valueWithGradient(at: [x, W, b, …, β]) of the whole network",
                                    gradient.scalars, of: result.result))
        }
        func step(_ id: String) -> ExplainStep { steps.first { $0.id == id }! }
        wholeCheck(step("dL_dx"), whole[0])
        for k in 0..<layerCount {
            wholeCheck(step("dL_dW\(names.tag(k))"), whole[1 + 2 * k])
            wholeCheck(step("dL_db\(names.tag(k))"), whole[2 + 2 * k])
        }
        wholeCheck(step("dL_dbeta"), whole[1 + 2 * layerCount])
        var imageGradient: Tensor<Double>? = nil
        if let conv = net.convolution {
            let z = conv.output()
            let wholeConv = valueWithGradient(at: [conv.image, conv.kernel, Tensor([conv.bias])] + parameters) { p in
                loss(from: 0, ExplainNetwork.Convolution.apply(p[0], p[1], p[2]).reshaped([z.count]), Array(p.dropFirst(3)))
            }.gradient
            wholeChain.append(check(.wholeChain, "valueWithGradient(at: [X, K, c, W, b, …, β]) of the whole network",
                                    wholeConv[0].scalars, of: step("dL_dX").result))
            wholeChain.append(check(.wholeChain, "valueWithGradient(at: [X, K, c, W, b, …, β]) of the whole network",
                                    wholeConv[1].scalars, of: step("dL_dK").result))
            wholeChain.append(check(.wholeChain, "valueWithGradient(at: [X, K, c, W, b, …, β]) of the whole network",
                                    wholeConv[2].scalars, of: step("dL_dc").result))
            imageGradient = step("dL_dX").result.withValues(step("dL_dX").result.values, name: gradientName("X")).asTensor
        }

        // The graph: each edge's value and gradient.
        func edge(_ name: String, _ value: ExplainMatrix, _ gradient: ExplainMatrix?) -> ExplainGraph.Edge {
            ExplainGraph.Edge(name: name, value: value, gradient: gradient)
        }
        var nodes: [ExplainGraph.Node] = []
        for (k, layer) in net.layers.enumerated() {
            let w = names.weight(k), b = names.bias(k), x = names.input(k), z = names.preActivation(k)
            let outputs = layer.weight.shape[0], width = layer.weight.shape[1]
            nodes.append(ExplainGraph.Node(
                operation: "affine", formula: "\(w)\(x) + \(b)",
                sideInputs: [
                    edge(w, ExplainMatrix(name: w, layer.weight, rowLabels: labels(z, outputs), columnLabels: labels(x, width)),
                         ExplainMatrix(name: gradientName(w), parameterGradients[2 * k], rowLabels: labels(z, outputs), columnLabels: labels(x, width))),
                    edge(b, vector(b, layer.bias), vector(gradientName(b), parameterGradients[2 * k + 1], entries: b)),
                ],
                output: edge(z, vector(z, preActivations[k]), vector(gradientName(z), gradientsOfPreActivations[k], entries: z))))
            if k < layerCount - 1 {
                let h = names.input(k + 1)
                nodes.append(ExplainGraph.Node(
                    operation: activation.name, formula: "\(activation.symbol)(\(z))", sideInputs: [],
                    output: edge(h, vector(h, inputs[k + 1]), vector(gradientName(h), gradientsOfInputs[k + 1], entries: h))))
            }
        }
        nodes.append(ExplainGraph.Node(
            operation: "softmax", formula: "softmax(β\(yName))",
            sideInputs: [edge("β", .scalar("β", net.inverseTemperature), dLdbetaMatrix)],
            output: edge("p", vector("p", p), dLdpMatrix)))
        nodes.append(ExplainGraph.Node(
            operation: "cross-entropy", formula: "−log p\(subscripted("", target))",
            sideInputs: [edge("t", vector("t", t), nil)],
            output: edge("L", .scalar("L", lossValue), .scalar(gradientName("L"), 1))))
        var graphInput = edge("x", vector("x", net.input), vector(gradientName("x"), gradientsOfInputs[0], entries: "x"))
        var architecture = "x ∈ R\(superscripted(net.inputCount))"
        if let conv = net.convolution, let imageGradient {
            let (h, w, kh, kw) = (conv.image.shape[0], conv.image.shape[1], conv.kernel.shape[0], conv.kernel.shape[1])
            nodes.insert(ExplainGraph.Node(
                operation: "conv2d", formula: "vec(K ⋆ X + c)",
                sideInputs: [edge("K", imageMatrix("K", conv.kernel, "u", "v"), step("dL_dK").result),
                             edge("c", .scalar("c", conv.bias), step("dL_dc").result)],
                output: graphInput), at: 0)
            graphInput = edge("X", imageMatrix("X", conv.image, "m", "n"), imageMatrix(gradientName("X"), imageGradient, "m", "n"))
            architecture = "X ∈ R\(superscripted(h))ˣ\(superscripted(w)) → conv (K: \(kh)×\(kw), c) → x = vec(Z) ∈ R\(superscripted(net.inputCount))"
        }
        let graph = ExplainGraph(input: graphInput, nodes: nodes)

        for (k, layer) in net.layers.enumerated() {
            architecture += " → affine (\(names.weight(k)): \(layer.weight.shape[0])×\(layer.weight.shape[1]), \(names.bias(k)))"
            if k < layerCount - 1 { architecture += " → \(activation.name)" }
        }
        architecture += " → softmax(β = \(ExplainFormat.number(net.inverseTemperature))) → cross-entropy"
        self.init(source: net.source, architecture: architecture, target: target, inverseTemperature: net.inverseTemperature,
                  loss: lossValue, forward: forward, backward: steps, wholeChain: wholeChain, graph: graph)
    }
}

/// `n` in superscript digits (`R⁴`).
func superscripted(_ n: Int) -> String {
    let digits = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
    return String(n).map { digits[Int(String($0))!] }.joined()
}

/// A matrix of an image, a kernel or a convolution's output, rows labelled `row`ᵢ and columns `column`ⱼ.
func imageMatrix(_ name: String, _ t: Tensor<Double>, _ row: String, _ column: String) -> ExplainMatrix {
    ExplainMatrix(name: name, t, rowLabels: subscriptedLabels(row, t.shape[0]), columnLabels: subscriptedLabels(column, t.shape[1]))
}

extension ExplainMatrix {
    /// The values as a [rows, columns] tensor.
    var asTensor: Tensor<Double> { Tensor(shape: [rows, columns], scalars: values) }
}

extension ExplainReport {
    /// The backward steps of the convolution in front of the dense layers, from G = ∂L/∂Z
    /// (∂L/∂x read back into Z's shape): ∂L/∂K as the correlation of the input with G, ∂L/∂c
    /// as the sum of G, and ∂L/∂X as the full convolution of G with the kernel (the correlation
    /// of the zero-padded G with the flipped kernel), each from the conv2d op's pullback and
    /// checked against its closed form and central differences of L.
    static func convolutionSteps(_ conv: ExplainNetwork.Convolution, dLdx: Tensor<Double>,
                                 lossOfInput: @escaping (Tensor<Double>) -> Tensor<Double>) -> [ExplainStep] {
        let (x, k, c) = (conv.image, conv.kernel, Tensor([conv.bias]))
        let (h, w, kh, kw) = (x.shape[0], x.shape[1], k.shape[0], k.shape[1])
        let (oh, ow) = (h - kh + 1, w - kw + 1)
        let g = dLdx.reshaped([oh, ow])
        func lossOf(_ x: Tensor<Double>, _ k: Tensor<Double>, _ c: Tensor<Double>) -> Tensor<Double> {
            lossOfInput(ExplainNetwork.Convolution.apply(x, k, c).reshaped([oh * ow]))
        }
        func check(_ kind: ExplainCheck.Kind, _ method: String, _ values: [Double], of result: ExplainMatrix) -> ExplainCheck {
            let estimate = result.withValues(values, name: result.name)
            return ExplainCheck(kind: kind, method: method, estimate: estimate, maxAbsError: ExplainMatrix.maxAbsDifference(result, estimate))
        }
        let pulled = valueWithPullback(at: [x, k, c]) { ExplainNetwork.Convolution.apply($0[0], $0[1], $0[2]) }.pullback(g)
        let method = "valueWithPullback(at: [X, K, c]) of conv2d, pulled back from G = ∂L/∂Z"
        var steps: [ExplainStep] = []

        let dZ = imageMatrix(gradientName("Z"), g, "i", "j")
        steps.append(ExplainStep(
            id: "dL_dZ", title: "∂L/∂Z: the affine input's gradient, back in Z's shape",
            formula: "x = vec(Z)  ⇒  ∂L/∂Zᵢⱼ = ∂L/∂x₍\(ow)ᵢ₊ⱼ₎: the same numbers, read row by row into \(oh)×\(ow)  (call it G)",
            method: "∂L/∂x from the affine step, reshaped", result: dZ,
            checks: [check(.finiteDifferences, "central differences of L(Z)",
                           FiniteDifferences.gradient(of: { lossOfInput($0.reshaped([oh * ow])) }, at: withoutDerivative { conv.output() }).scalars,
                           of: dZ)]))

        var correlation = [Double](repeating: 0, count: kh * kw)
        for u in 0..<kh { for v in 0..<kw { for i in 0..<oh { for j in 0..<ow {
            correlation[u * kw + v] += g.scalars[i * ow + j] * x.scalars[(i + u) * w + j + v]
        } } } }
        let dK = imageMatrix(gradientName("K"), pulled[1], "u", "v")
        steps.append(ExplainStep(
            id: "dL_dK", title: "∂L/∂K: the correlation of the input with the output gradient",
            formula: "Zᵢⱼ = Σᵤᵥ Kᵤᵥ X₍ᵢ₊ᵤ₎₍ⱼ₊ᵥ₎ + c  ⇒  ∂L/∂Kᵤᵥ = Σᵢⱼ Gᵢⱼ X₍ᵢ₊ᵤ₎₍ⱼ₊ᵥ₎: G slides over X as K did (\(kh)×\(kw) like K)",
            method: method, result: dK,
            checks: [
                check(.closedForm, "Σᵢⱼ Gᵢⱼ X₍ᵢ₊ᵤ₎₍ⱼ₊ᵥ₎", correlation, of: dK),
                check(.finiteDifferences, "central differences of L(K)",
                      FiniteDifferences.gradient(of: { lossOf(x, $0, c) }, at: k).scalars, of: dK),
            ]))

        let dc = ExplainMatrix.scalar(gradientName("c"), pulled[2].scalars[0])
        steps.append(ExplainStep(
            id: "dL_dc", title: "∂L/∂c: the bias reaches every output",
            formula: "∂Zᵢⱼ/∂c = 1  ⇒  ∂L/∂c = Σᵢⱼ Gᵢⱼ",
            method: method, result: dc,
            checks: [
                check(.closedForm, "Σᵢⱼ Gᵢⱼ", [g.scalars.reduce(0, +)], of: dc),
                check(.finiteDifferences, "central differences of L(c)",
                      FiniteDifferences.gradient(of: { lossOf(x, k, $0) }, at: c).scalars, of: dc),
            ]))

        var full = [Double](repeating: 0, count: h * w)
        for p in 0..<h { for q in 0..<w { for u in 0..<kh { for v in 0..<kw {
            let (i, j) = (p - u, q - v)
            if i >= 0 && i < oh && j >= 0 && j < ow { full[p * w + q] += g.scalars[i * ow + j] * k.scalars[u * kw + v] }
        } } } }
        let dX = imageMatrix(gradientName("X"), pulled[0], "m", "n")
        steps.append(ExplainStep(
            id: "dL_dX", title: "∂L/∂X: the full convolution of G with the kernel",
            formula: "∂L/∂Xₘₙ = Σᵤᵥ G₍ₘ₋ᵤ₎₍ₙ₋ᵥ₎ Kᵤᵥ (G = 0 outside): G padded by \(kh - 1)×\(kw - 1) zeros, correlated with the flipped kernel rot180(K) (\(h)×\(w) like X)",
            method: method, result: dX,
            checks: [
                check(.closedForm, "Σᵤᵥ G₍ₘ₋ᵤ₎₍ₙ₋ᵥ₎ Kᵤᵥ", full, of: dX),
                check(.finiteDifferences, "central differences of L(X)",
                      FiniteDifferences.gradient(of: { lossOf($0, k, c) }, at: x).scalars, of: dX),
            ]))
        return steps
    }
}
