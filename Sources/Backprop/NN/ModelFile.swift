import Foundation

// A trained Classifier as a safetensors file that PyTorch's nn.Sequential can load
// (see docs/formats.md, "Model files").

/// The `__metadata__` keys of a model file.
public enum ModelMetadataKey {
    /// `"backprop-mlp"`: marks a file written by this package.
    public static let format = "format"
    /// JSON array of widths, e.g. `[64,128,10]`.
    public static let architecture = "architecture"
    /// JSON array of the equivalent PyTorch modules, e.g. `["Linear(64, 128)","ReLU()","Linear(128, 10)"]`.
    public static let layers = "layers"
    /// `relu`, `tanh`, `sigmoid` or `gelu`.
    public static let activation = "activation"
    /// β of the output softmax, a decimal number.
    public static let beta = "beta"
    /// JSON arrays of one number per input feature: x′ = (x − mean)/std.
    public static let inputMean = "input_mean", inputStandardDeviation = "input_std"
    /// The training configuration (JSON), for reproducing the data split.
    public static let training = "training"
    /// Where the training data came from (`digits` for the embedded set, else a file name).
    public static let data = "data"
    /// The network's spec (`NetworkArchitecture.description`), for networks built from one;
    /// such files have format `"backprop-sequential"` and no `architecture`/`activation` keys.
    public static let arch = "arch"
    /// JSON array: the shape of one example, e.g. `[1,28,28]` (with `arch`).
    public static let inputShape = "input_shape"
}

extension Classifier {
    /// The model as named tensors (PyTorch `nn.Sequential` `state_dict` names) and metadata.
    public func safeTensors(metadata extraMetadata: [String: String] = [:]) -> SafeTensors<Float> {
        SafeTensors(tensors: Array(network.stateDict), metadata: modelMetadata.merging(extraMetadata) { own, _ in own })
    }

    /// The metadata that describes the model: format, architecture, PyTorch modules,
    /// activation, β and the input standardisation.
    public var modelMetadata: [String: String] {
        var metadata: [String: String] = [:]
        if let architecture {
            metadata[ModelMetadataKey.format] = "backprop-sequential"
            metadata[ModelMetadataKey.arch] = architecture.description
            metadata[ModelMetadataKey.inputShape] = "[" + inputShape.map(String.init).joined(separator: ",") + "]"
            let modules = (try? architecture.pytorchModules(inputShape: inputShape)) ?? []
            metadata[ModelMetadataKey.layers] = "[" + modules.map { "\"\($0)\"" }.joined(separator: ",") + "]"
            metadata[ModelMetadataKey.beta] = "\(beta.scalar)"
            metadata[ModelMetadataKey.inputMean] = Self.jsonArray(standardization.mean)
            metadata[ModelMetadataKey.inputStandardDeviation] = Self.jsonArray(standardization.std)
            return metadata
        }
        metadata[ModelMetadataKey.format] = "backprop-mlp"
        metadata[ModelMetadataKey.architecture] = "[" + layerSizes.map(String.init).joined(separator: ",") + "]"
        var modules: [String] = []
        for i in 0..<(layerSizes.count - 1) {
            if i > 0 { modules.append("\"\(activation.pytorchModule.dropFirst(3))\"") }
            modules.append("\"Linear(\(layerSizes[i]), \(layerSizes[i + 1]))\"")
        }
        metadata[ModelMetadataKey.layers] = "[" + modules.joined(separator: ",") + "]"
        metadata[ModelMetadataKey.activation] = activation.rawValue
        metadata[ModelMetadataKey.beta] = "\(beta.scalar)"
        metadata[ModelMetadataKey.inputMean] = Self.jsonArray(standardization.mean)
        metadata[ModelMetadataKey.inputStandardDeviation] = Self.jsonArray(standardization.std)
        return metadata
    }

    /// Writes the model atomically (temporary file, sync, rename): an existing file at `path`
    /// is replaced only by a complete new one.
    public func write(to path: String, metadata extraMetadata: [String: String] = [:]) throws {
        try safeTensors(metadata: extraMetadata).write(to: path)
    }

    /// Reads a model file written by `write(to:)` or by PyTorch
    /// (`safetensors.torch.save_file(nn.Sequential(Linear, act, Linear, …).state_dict(), path)`).
    ///
    /// Tensors named `"<i>.weight"` [out, in] and `"<i>.bias"` [out] are taken in order of the
    /// index i as Linear layers (a missing bias is zero); names starting `optimizer.` (checkpoint
    /// state) and `beta` are skipped. Without metadata, `activation` is used (default ReLU), β = 1
    /// and inputs are not standardised.
    ///
    /// - Throws: `DataError` naming `source` for names, shapes or metadata that do not fit.
    public init(safeTensors file: SafeTensors<Float>, source: String, activation fallback: Activation? = nil) throws {
        func fail(_ problem: String) -> DataError { DataError(file: source, problem: problem) }
        if let spec = file.metadata[ModelMetadataKey.arch] {
            try self.init(safeTensors: file, source: source, spec: spec)
            return
        }
        var weights: [Int: Tensor<Float>] = [:], biases: [Int: Tensor<Float>] = [:]
        for (name, tensor) in file.tensors {
            if name.hasPrefix("optimizer.") || name == "beta" { continue }
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let index = Int(parts[0]), index >= 0 else {
                throw fail("unexpected tensor \"\(name)\": expected nn.Sequential names such as \"0.weight\" and \"0.bias\"")
            }
            switch parts[1] {
            case "weight":
                guard tensor.rank == 2 else { throw fail("\"\(name)\" has shape \(tensor.shape); a Linear weight is [out, in]") }
                weights[index] = tensor
            case "bias":
                guard tensor.rank == 1 else { throw fail("\"\(name)\" has shape \(tensor.shape); a Linear bias is [out]") }
                biases[index] = tensor
            default:
                throw fail("unexpected tensor \"\(name)\": only Linear layers (weight, bias) are supported")
            }
        }
        if let orphan = biases.keys.sorted().first(where: { weights[$0] == nil }) {
            throw fail("\"\(orphan).bias\" has no \"\(orphan).weight\"")
        }
        let indices = weights.keys.sorted()
        guard !indices.isEmpty else { throw fail("no Linear layers (tensors named \"<i>.weight\") in the file") }
        var sizes = [weights[indices[0]]!.shape[1]]
        var linears: [Linear<Float>] = []
        for i in indices {
            let w = weights[i]!
            guard w.shape[1] == sizes.last! else {
                throw fail("\"\(i).weight\" has \(w.shape[1]) inputs but the previous layer has \(sizes.last!) outputs")
            }
            let b = biases[i] ?? .zeros([w.shape[0]])
            guard b.shape == [w.shape[0]] else {
                throw fail("\"\(i).bias\" has shape \(b.shape) but \"\(i).weight\" has \(w.shape[0]) outputs")
            }
            guard w.scalars.allSatisfy(\.isFinite) && b.scalars.allSatisfy(\.isFinite) else {
                throw fail("layer \(i) contains NaN or infinite values")
            }
            linears.append(Linear(weight: w, bias: b))
            sizes.append(w.shape[0])
        }
        guard sizes.allSatisfy({ $0 > 0 }) else { throw fail("a layer has zero width: \(sizes)") }
        let metadata = file.metadata
        if let text = metadata[ModelMetadataKey.architecture] {
            // Range-checked: 1e20 or 64.5 is not a width (and must not trap converting to Int).
            guard let numbers = Self.parseArray(text), case let declared = numbers.map({ Int(exactly: $0) }),
                  declared.allSatisfy({ $0 != nil }), declared.map({ $0! }) == sizes else {
                throw fail("metadata architecture \(text) does not match the tensors' layer sizes \(sizes)")
            }
        }
        let activation: Activation
        if let text = metadata[ModelMetadataKey.activation] {
            let name = text.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))  // `tanh` or `"tanh"`
            guard let a = Activation(rawValue: name) else {
                throw fail("unknown activation \"\(name)\" in metadata (known: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            activation = a
        } else {
            activation = fallback ?? .relu
        }
        var beta: Float = 1
        if let text = metadata[ModelMetadataKey.beta] {
            guard let b = Float(text), b.isFinite else { throw fail("metadata beta \"\(text)\" is not a finite number") }
            beta = b
        }
        var standardization = Standardization.identity(featureCount: sizes[0])
        if let meanText = metadata[ModelMetadataKey.inputMean] {
            guard let mean = Self.parseArray(meanText), mean.count == sizes[0], mean.allSatisfy({ Float($0).isFinite }) else {
                throw fail("metadata input_mean must be a JSON array of \(sizes[0]) numbers within Float's range")
            }
            standardization.mean = mean.map(Float.init)
        }
        if let stdText = metadata[ModelMetadataKey.inputStandardDeviation] {
            guard let std = Self.parseArray(stdText), std.count == sizes[0],
                  std.allSatisfy({ Float($0).isFinite && Float($0) != 0 }) else {
                throw fail("metadata input_std must be a JSON array of \(sizes[0]) non-zero numbers within Float's range")
            }
            standardization.std = std.map(Float.init)
        }
        var layers: [any Layer<Float>] = []
        for (k, linear) in linears.enumerated() {
            if k > 0 { layers.append(activation.layer(Float.self)) }
            layers.append(linear)
        }
        self.init(network: Sequential(layers), layerSizes: sizes, activation: activation, beta: beta,
                  standardization: standardization)
    }

    /// A network built from the spec in the file's `arch` metadata for its `input_shape`, with
    /// the file's tensors loaded by name (PyTorch's strict `load_state_dict`; `optimizer.` and
    /// `beta` entries skipped), β and the input standardisation from the metadata.
    init(safeTensors file: SafeTensors<Float>, source: String, spec: String) throws {
        func fail(_ problem: String) -> DataError { DataError(file: source, problem: problem) }
        let metadata = file.metadata
        let architecture: NetworkArchitecture
        do {
            architecture = try NetworkArchitecture(parsing: spec)
        } catch {
            throw fail("metadata arch: \(error)")
        }
        guard let shapeText = metadata[ModelMetadataKey.inputShape], let shape = Self.parseArray(shapeText),
              !shape.isEmpty, shape.allSatisfy({ $0 >= 1 && $0 <= 16_777_216 && $0.rounded() == $0 }) else {
            throw fail("metadata input_shape must be a JSON array of positive integers, such as [1,28,28]")
        }
        let inputShape = shape.map { Int($0) }
        let features = inputShape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        guard features <= 1 << 26 else { throw fail("metadata input_shape \(inputShape) has more than \(1 << 26) values per example") }
        // Nothing is allocated for a spec that the file's tensors cannot fill.
        let stored = file.tensors.filter { !$0.name.hasPrefix("optimizer.") && $0.name != "beta" }.reduce(0) { $0 + $1.tensor.count }
        do {
            let needed = try architecture.stateCount(inputShape: inputShape)
            guard needed == stored else {
                throw fail("the spec in metadata arch needs \(needed) values for input shape \(inputShape), but the file holds \(stored)")
            }
        } catch let error as ModelError {
            throw fail("metadata arch: \(error)")
        }
        var beta: Float = 1
        if let text = metadata[ModelMetadataKey.beta] {
            guard let b = Float(text), b.isFinite else { throw fail("metadata beta \"\(text)\" is not a finite number") }
            beta = b
        }
        var standardization = Standardization.identity(featureCount: features)
        if let meanText = metadata[ModelMetadataKey.inputMean] {
            guard let mean = Self.parseArray(meanText), mean.count == features, mean.allSatisfy(\.isFinite) else {
                throw fail("metadata input_mean must be a JSON array of \(features) finite numbers")
            }
            standardization.mean = mean.map(Float.init)
        }
        if let stdText = metadata[ModelMetadataKey.inputStandardDeviation] {
            guard let std = Self.parseArray(stdText), std.count == features, std.allSatisfy({ $0.isFinite && $0 != 0 }) else {
                throw fail("metadata input_std must be a JSON array of \(features) finite non-zero numbers")
            }
            standardization.std = std.map(Float.init)
        }
        var generator = SeededGenerator(seed: 0)
        do {
            try self.init(architecture: architecture, inputShape: inputShape, beta: beta, standardization: standardization,
                          generator: &generator)
        } catch {
            throw fail("metadata arch: \(error)")
        }
        var model = network
        let tensors = file.tensors.filter { !$0.name.hasPrefix("optimizer.") && $0.name != "beta" }
        try model.load(SafeTensors(tensors: tensors, metadata: [:]), source: source)
        guard model.stateDict.tensors.allSatisfy({ $0.scalars.allSatisfy(\.isFinite) }) else {
            throw fail("the model contains NaN or infinite values")
        }
        network = model
    }

    /// Reads a model file (see `init(safeTensors:source:activation:)`).
    public init(contentsOf path: String, activation: Activation? = nil) throws {
        try self.init(safeTensors: try SafeTensors<Float>(contentsOf: path), source: path, activation: activation)
    }

    /// Shortest round-tripping decimal text of each value, as a JSON array.
    static func jsonArray(_ values: [Float]) -> String {
        "[" + values.map { "\($0)" }.joined(separator: ",") + "]"
    }

    /// A JSON array of numbers (strict JSON: `true` is not 1), or nil.
    static func parseArray(_ text: String) -> [Double]? {
        var text = text
        let value = text.withUTF8 { try? StrictJSON.parse(UnsafeRawBufferPointer($0)) }
        guard case let .array(items)? = value else { return nil }
        var out: [Double] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case let .number(literal) = item, let n = Double(literal) else { return nil }
            out.append(n)
        }
        return out
    }
}
