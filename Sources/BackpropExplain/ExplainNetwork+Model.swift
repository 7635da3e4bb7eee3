import Backprop
import Foundation

// Explaining a trained model: its layers from a safetensors model file (docs/formats.md, "Model
// files": PyTorch nn.Sequential names "0.weight" [out, in], "0.bias", "2.weight", …; metadata
// activation, beta, input_mean, input_std), and one example from the command line.

extension ExplainNetwork {
    /// Numbers from a comma- (or space-) separated row: `"0.5, 1, -2"`.
    public static func parseRow(_ row: String) throws -> [Double] {
        let fields = row.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
        guard !fields.isEmpty else { throw ExplainError("the example is empty; give it as comma-separated numbers", setting: .example) }
        return try fields.map { field in
            guard let v = Double(field), v.isFinite else { throw ExplainError("the example's '\(field)' is not a finite number", setting: .example) }
            return v
        }
    }

    /// The model at `path` on one example.
    ///
    /// The file is read by the same loader as `evaluate` and `predict` (`Classifier`), so every
    /// model those accept can be explained. The raw `input` is standardised with the model's
    /// `input_mean`/`input_std` (the report explains the standardised x the network sees). β is
    /// `inverseTemperature` if given, else the model's β. Without `target`, the model's predicted
    /// class is the target.
    public static func loadingModel(at path: String, input: [Double], target: Int?, inverseTemperature: Double?) throws -> ExplainNetwork {
        let file: SafeTensors<Float>
        do { file = try SafeTensors<Float>(contentsOf: path) } catch { throw ExplainError("\(error)") }
        return try fromModel(file, source: path, input: input, target: target, inverseTemperature: inverseTemperature)
    }

    /// The model held in `file` (see `loadingModel(at:input:target:inverseTemperature:)`).
    public static func fromModel<S: TensorScalar>(_ file: SafeTensors<S>, source: String, input: [Double], target: Int?,
                                                  inverseTemperature: Double?) throws -> ExplainNetwork {
        let classifier: Classifier
        do {
            let floats = SafeTensors<Float>(tensors: file.tensors.map { ($0.name, $0.tensor.converted(to: Float.self)) },
                                            metadata: file.metadata)
            classifier = try Classifier(safeTensors: floats, source: source)
        } catch {
            throw ExplainError("\(error)")
        }
        let features = classifier.layerSizes[0]
        guard input.count == features else {
            throw ExplainError("the example has \(input.count) numbers but the model takes \(features) features", setting: .example)
        }
        if classifier.architecture != nil {
            return try fromSpecifiedModel(classifier, source: source, input: input, target: target, inverseTemperature: inverseTemperature)
        }
        let layers = classifier.network.layers.compactMap { $0 as? Linear<Float> }.map {
            Layer(weight: $0.weight.converted(to: Double.self), bias: $0.bias.converted(to: Double.self))
        }
        let activation = classifier.activation
        let mean = classifier.standardization.mean.map(Double.init), std = classifier.standardization.std.map(Double.init)
        let standardised = mean.contains { $0 != 0 } || std.contains { $0 != 1 }
        let x = (0..<features).map { (input[$0] - mean[$0]) / std[$0] }
        var description = "model \(source) (\(classifier.layerSizes.map(String.init).joined(separator: "→")))"
        if standardised { description += ", input standardised with the model's input_mean/input_std" }
        var network = ExplainNetwork(layers: layers, activation: activation,
                                     inverseTemperature: inverseTemperature ?? Double(classifier.beta.scalar),
                                     input: Tensor(x), target: 0, source: description)
        if let target {
            network.target = target
        } else {
            network.target = network.logits().reshaped([1, layers.last!.weight.shape[0]]).argmaxRows()[0]
            network.source += "; target = the predicted class"
        }
        return try network.validated()
    }

    /// A model built from a spec (a CNN): the walk starts at its dense head — the trailing
    /// Linear layers with one activation between them (dropout is the identity in evaluation) —
    /// whose input x is what the layers before it compute from the standardised example, in the
    /// model's own Float arithmetic.
    static func fromSpecifiedModel(_ classifier: Classifier, source: String, input: [Double], target: Int?,
                                   inverseTemperature: Double?) throws -> ExplainNetwork {
        let all = classifier.network.layers
        guard all.last is Linear<Float> else {
            throw ExplainError("\(source): the network does not end in a linear layer, so it has no dense head to explain")
        }
        // From the end: Linear layers with the same activation (or none) between each pair;
        // dropout, the identity in evaluation, is passed over.
        var start = all.count, linears: [Linear<Float>] = []
        var activation: Activation? = nil, between: Activation? = nil, activationFound = false
        scan: for i in stride(from: all.count - 1, through: 0, by: -1) {
            let layer = all[i]
            if let linear = layer as? Linear<Float> {
                if !linears.isEmpty {
                    if !activationFound { (activation, activationFound) = (between, true) } else if activation != between { break scan }
                }
                linears.insert(linear, at: 0)
                start = i
                between = nil
            } else if layer is Dropout<Float> {
                continue
            } else if let kind = Activation(layer: layer), between == nil {
                between = kind
            } else {
                break scan
            }
        }
        let raw = Tensor<Float>(shape: [1, input.count], scalars: input.map(Float.init))
        let prefix = Sequential<Float>(Array(all[..<start]))
        let x = withoutDerivative { prefix(classifier.standardization.apply(raw).reshaped([1] + classifier.inputShape)) }
        let layers = linears.map { Layer(weight: $0.weight.converted(to: Double.self), bias: $0.bias.converted(to: Double.self)) }
        let spec = classifier.architecture!.description
        let parts = spec.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var description = "model \(source) (\(spec) on \(classifier.inputShape.map(String.init).joined(separator: "×")))"
        if start > 0 {
            description += "; its layers 0–\(start - 1) (\(parts.prefix(start).joined(separator: ", "))) compute the \(x.count) features x from the standardised example, and the walk explains the rest"
        }
        var network = ExplainNetwork(layers: layers, activation: activation,
                                     inverseTemperature: inverseTemperature ?? Double(classifier.beta.scalar),
                                     input: x.converted(to: Double.self).reshaped([x.count]), target: 0, source: description)
        if let target {
            network.target = target
        } else {
            network.target = network.logits().reshaped([1, layers.last!.weight.shape[0]]).argmaxRows()[0]
            network.source += "; target = the predicted class"
        }
        return try network.validated()
    }

    /// The logits y for the network's input, with the library's ops.
    func logits() -> Tensor<Double> {
        var a = input
        for (k, layer) in layers.enumerated() {
            a = Tensor.affine(a, weight: layer.weight, bias: layer.bias)
            if k < layers.count - 1 { a = activation.apply(a) }
        }
        return a
    }
}
