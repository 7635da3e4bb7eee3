import BackpropKernels

/// A multilayer perceptron that classifies raw feature rows: the model `backprop train` builds.
///
/// Raw inputs x are standardised, x′ = (x − mean)/std, then passed through
/// Linear → activation → … → Linear, giving logits z = model(x); class probabilities are
/// softmax(β·z). `layerSizes` [d₀, d₁, …, d_L] lists the input width, the hidden widths and the
/// class count. Its tensors are the network's, named as in `nn.Sequential` (`"0.weight"`, …),
/// plus `"beta"` when β is learned; the standardisation is part of the model file's metadata.
///
///     var rng = SeededGenerator(seed: 0)
///     let model = Classifier(layerSizes: [64, 128, 10], activation: .relu, generator: &rng)
///     let labels = try model.predict(features)   // [Int], one per row
public struct Classifier: Layer {
    /// A classifier computes in `Float`.
    public typealias Scalar = Float
    /// Linear layers at even indices, activations between them (PyTorch `nn.Sequential` layout).
    public var network: Sequential<Float>
    /// [inputs, hidden…, classes].
    public let layerSizes: [Int]
    /// The activation between linear layers.
    public let activation: Activation
    /// β, the inverse temperature of the output softmax (a rank-0 tensor).
    public var beta: Tensor<Float>
    /// Whether β is a parameter (trained with the weights).
    public var isBetaLearnable = false
    /// The input standardisation, fitted on the training split.
    public var standardization: Standardization
    /// The spec the network was built from (`--arch`), or nil for the MLP of `layerSizes`.
    /// With a spec, `layerSizes` is [inputs, classes] and `activation` is unused.
    public let architecture: NetworkArchitecture?
    /// One example as the network takes it: [C, H, W] for images, [inputs] for feature rows.
    /// Raw inputs are rows of `inputCount` features, reshaped to this after standardisation.
    public let inputShape: [Int]

    /// A network from its parts; `network` must be Linear/activation alternating per `layerSizes`.
    public init(network: Sequential<Float>, layerSizes: [Int], activation: Activation, beta: Float,
                standardization: Standardization) {
        require(standardization.featureCount == layerSizes.first, "Classifier: standardisation has \(standardization.featureCount) features for \(layerSizes.first ?? 0) inputs")
        self.network = network
        self.layerSizes = layerSizes
        self.activation = activation
        self.beta = Tensor(beta)
        self.standardization = standardization
        self.architecture = nil
        self.inputShape = [layerSizes[0]]
    }

    /// A network built from a spec, from its parts: `network` must be `architecture` built for
    /// `inputShape` (see `NetworkArchitecture.makeNetwork`).
    ///
    /// - Throws: `ModelError.invalidArchitecture` when the spec does not fit the input shape or
    ///   does not end in one score per class.
    public init(network: Sequential<Float>, architecture: NetworkArchitecture, inputShape: [Int], beta: Float,
                standardization: Standardization) throws {
        let shapes = try architecture.shapes(inputShape: inputShape)
        guard let output = shapes.last, output.count == 1 else {
            throw ModelError.invalidArchitecture("the network's output must be one score per class (end with flatten and linear), got \(shapes.last ?? [])")
        }
        let features = inputShape.reduce(1, *)
        require(standardization.featureCount == features, "Classifier: standardisation has \(standardization.featureCount) features for input shape \(inputShape)")
        self.network = network
        self.layerSizes = [features, output[0]]
        self.activation = .relu
        self.beta = Tensor(beta)
        self.standardization = standardization
        self.architecture = architecture
        self.inputShape = inputShape
    }

    /// A freshly initialised network built from `architecture` (resolved: every linear layer
    /// has its width) for examples of `inputShape`, layers drawn in order from `generator`.
    ///
    /// - Throws: `ModelError.invalidArchitecture` when the spec does not fit the input shape.
    public init(architecture: NetworkArchitecture, inputShape: [Int], beta: Float = 1, learnBeta: Bool = false,
                standardization: Standardization? = nil, seed: UInt64 = 0, generator: inout SeededGenerator) throws {
        let network = try architecture.makeNetwork(inputShape: inputShape, seed: seed, generator: &generator)
        try self.init(network: network, architecture: architecture, inputShape: inputShape, beta: beta,
                      standardization: standardization ?? .identity(featureCount: inputShape.reduce(1, *)))
        isBetaLearnable = learnBeta
    }

    /// A freshly initialised network (layers drawn in order from `generator`).
    public init(layerSizes: [Int], activation: Activation = .relu, beta: Float = 1, learnBeta: Bool = false,
                initializer: Initializer = .kaimingUniform, standardization: Standardization? = nil,
                generator: inout SeededGenerator) {
        require(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 > 0 },
                     "Classifier: layer sizes \(layerSizes) need at least an input and an output width, all positive")
        var layers: [any Layer<Float>] = []
        for i in 0..<(layerSizes.count - 1) {
            if i > 0 { layers.append(activation.layer(Float.self)) }
            layers.append(Linear<Float>(inputs: layerSizes[i], outputs: layerSizes[i + 1], initializer: initializer, generator: &generator))
        }
        self.init(network: Sequential(layers), layerSizes: layerSizes, activation: activation, beta: beta,
                  standardization: standardization ?? .identity(featureCount: layerSizes[0]))
        isBetaLearnable = learnBeta
    }

    /// Declares the network's tensors (`"0.weight"`, `"0.bias"`, …), then `"beta"` when β is learned.
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
        network.visitTensors(with: &visitor)
        if isBetaLearnable { visitor.parameter("beta", &beta) }
    }

    /// The logits z [n, classes] of raw inputs [n, inputs] (standardised first).
    public func callAsFunction(_ raw: Tensor<Float>) -> Tensor<Float> { logits(raw) }

    /// The number of input features.
    public var inputCount: Int { layerSizes[0] }
    /// The number of classes.
    public var classCount: Int { layerSizes[layerSizes.count - 1] }

    /// Logits z [n, classes] for standardised inputs [n, inputs] (reshaped to [n] + `inputShape`
    /// for a network built from a spec).
    public func logits(standardized x: Tensor<Float>) -> Tensor<Float> {
        guard architecture != nil, x.rank == 2 else { return network(x) }
        return network(x.reshaped([x.shape[0]] + inputShape))
    }

    /// Logits z [n, classes] for raw inputs [n, inputs] (standardised first).
    public func logits(_ raw: Tensor<Float>) -> Tensor<Float> { logits(standardized: standardization.apply(raw)) }

    /// softmax(β·z) for raw inputs [n, inputs]: one probability row per input row.
    ///
    /// - Throws: `ModelError.inputMismatch` when the rows do not have `inputCount` features.
    public func probabilities(_ raw: Tensor<Float>) throws -> Tensor<Float> {
        try checkInputs(raw)
        return withoutDerivative { logits(raw).softmax(inverseTemperature: beta) }
    }

    /// The most probable class of each raw input row.
    ///
    /// - Throws: `ModelError.inputMismatch` when the rows do not have `inputCount` features.
    public func predict(_ raw: Tensor<Float>) throws -> [Int] {
        try checkInputs(raw)
        return withoutDerivative { logits(raw).argmaxRows() }
    }

    /// Mean cross-entropy, accuracy and confusion matrix on raw inputs and their labels.
    ///
    /// - Throws: `ModelError.inputMismatch` when the rows do not have `inputCount` features or
    ///   their number is not the number of labels; `ModelError.labelOutOfRange` for a label
    ///   outside 0..<classCount.
    public func evaluate(_ raw: Tensor<Float>, labels: [Int]) throws -> ClassificationReport {
        try checkInputs(raw)
        guard raw.shape[0] == labels.count else { throw ModelError.inputMismatch(expected: [labels.count], found: [raw.shape[0]]) }
        if let i = labels.firstIndex(where: { !(0..<classCount).contains($0) }) {
            throw ModelError.labelOutOfRange(label: labels[i], index: i, classCount: classCount)
        }
        return report(standardized: standardization.apply(raw), labels: labels)
    }

    /// Throws unless `raw` is [n, inputCount].
    func checkInputs(_ raw: Tensor<Float>) throws {
        guard raw.rank == 2, raw.shape[1] == inputCount else {
            throw ModelError.inputMismatch(expected: [inputCount], found: Array(raw.shape.dropFirst()))
        }
    }

    /// The report for standardised inputs whose shapes and labels are known to fit.
    func report(standardized x: Tensor<Float>, labels: [Int]) -> ClassificationReport {
        withoutDerivative {
            guard !labels.isEmpty else {
                return ClassificationReport(loss: .nan, confusion: ClassificationReport.confusionMatrix(labels: [], predictions: [], classCount: classCount))
            }
            let z = logits(standardized: x)
            let loss = Loss.softmaxCrossEntropy(logits: z, labels: labels, inverseTemperature: beta.detached).scalar
            return ClassificationReport(loss: Double(loss),
                                        confusion: ClassificationReport.confusionMatrix(labels: labels, predictions: z.argmaxRows(), classCount: classCount))
        }
    }
}
