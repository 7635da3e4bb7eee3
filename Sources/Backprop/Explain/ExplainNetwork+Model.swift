import Foundation

// Explaining a trained model: its layers from a safetensors model file (docs/formats.md, "Model
// files": PyTorch nn.Sequential names "0.weight" [out, in], "0.bias", "2.weight", …; metadata
// activation, beta, input_mean, input_std), and one example from the command line.

extension ExplainNetwork {
    /// Numbers from a comma- (or space-) separated row: `"0.5, 1, -2"`.
    public static func parseRow(_ row: String) throws -> [Double] {
        let fields = row.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
        guard !fields.isEmpty else { throw ExplainError("--input is empty; give the example as comma-separated numbers") }
        return try fields.map { field in
            guard let v = Double(field), v.isFinite else { throw ExplainError("--input: '\(field)' is not a finite number") }
            return v
        }
    }

    /// The model at `path` on one example.
    ///
    /// The raw `input` is standardised with the file's `input_mean`/`input_std` when present (the
    /// report explains the standardised x the network sees). β is `inverseTemperature` if given,
    /// else a `"beta"` tensor, else the `beta` metadata, else 1. Without `target`, the model's
    /// predicted class is the target.
    public static func loadingModel(at path: String, input: [Double], target: Int?, inverseTemperature: Double?) throws -> ExplainNetwork {
        let file: SafeTensors<Double>
        do { file = try SafeTensors<Double>(contentsOf: path) } catch { throw ExplainError("\(error)") }
        return try fromModel(file, source: path, input: input, target: target, inverseTemperature: inverseTemperature)
    }

    /// The model held in `file` (see `loadingModel(at:input:target:inverseTemperature:)`).
    public static func fromModel(_ file: SafeTensors<Double>, source: String, input: [Double], target: Int?,
                                 inverseTemperature: Double?) throws -> ExplainNetwork {
        func fail(_ problem: String) -> ExplainError { ExplainError("\(source): \(problem)") }
        var weights: [Int: Tensor<Double>] = [:], biases: [Int: Tensor<Double>] = [:]
        for (name, tensor) in file.tensors {
            if name.hasPrefix("optimizer.") || name == "beta" { continue }
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let index = Int(parts[0]), index >= 0, parts[1] == "weight" || parts[1] == "bias" else {
                throw fail("unexpected tensor \"\(name)\": expected nn.Sequential Linear names such as \"0.weight\" and \"0.bias\"")
            }
            if parts[1] == "weight" { weights[index] = tensor } else { biases[index] = tensor }
        }
        if let orphan = biases.keys.sorted().first(where: { weights[$0] == nil }) { throw fail("\"\(orphan).bias\" has no \"\(orphan).weight\"") }
        let indices = weights.keys.sorted()
        guard !indices.isEmpty else { throw fail("no Linear layers (tensors named \"<i>.weight\")") }
        let layers = try indices.map { i -> Layer in
            let w = weights[i]!
            guard w.rank == 2 else { throw fail("\"\(i).weight\" has shape \(w.shape); a Linear weight is [out, in]") }
            return Layer(weight: w, bias: biases[i] ?? .zeros([w.shape[0]]))
        }
        let features = layers[0].weight.shape[1]
        guard input.count == features else {
            throw ExplainError("--input has \(input.count) numbers but the model takes \(features) features")
        }

        let metadata = file.metadata
        var activation = ExplainActivation.relu
        if let text = metadata["activation"] {
            let name = text.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            guard let a = ExplainActivation(named: name) else { throw fail("unknown activation \"\(name)\" in metadata") }
            activation = a
        }
        var beta = 1.0
        if let inverseTemperature {
            beta = inverseTemperature
        } else if let tensor = file["beta"], tensor.count == 1 {
            beta = tensor.scalars[0]
        } else if let text = metadata["beta"] {
            guard let b = Double(text.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))) else { throw fail("metadata beta \"\(text)\" is not a number") }
            beta = b
        }
        var x = input
        var standardised = false
        if let text = metadata["input_mean"] {
            guard let mean = numbers(text), mean.count == features else { throw fail("metadata input_mean must be a JSON array of \(features) numbers") }
            x = zip(x, mean).map { $0 - $1 }
            standardised = true
        }
        if let text = metadata["input_std"] {
            guard let std = numbers(text), std.count == features, std.allSatisfy({ $0 != 0 }) else {
                throw fail("metadata input_std must be a JSON array of \(features) non-zero numbers")
            }
            x = zip(x, std).map { $0 / $1 }
            standardised = true
        }
        let sizes = [features] + layers.map { $0.weight.shape[0] }
        var description = "model \(source) (\(sizes.map(String.init).joined(separator: "→")))"
        if standardised { description += ", input standardised with the model's input_mean/input_std" }
        var network = ExplainNetwork(layers: layers, activation: activation, inverseTemperature: beta,
                                     input: Tensor(x), target: 0, source: description)
        if let target {
            network.target = target
        } else {
            guard layers.allSatisfy({ $0.weight.scalars.allSatisfy(\.isFinite) && $0.bias.scalars.allSatisfy(\.isFinite) }) else {
                throw fail("the parameters contain NaN or infinity")
            }
            network.target = network.logits().scalars.indices.max { network.logits().scalars[$0] < network.logits().scalars[$1] } ?? 0
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

    /// A JSON array of numbers (`"[0.5,1,2]"`), or nil.
    private static func numbers(_ text: String) -> [Double]? {
        guard let data = text.data(using: .utf8), let list = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return nil }
        var out: [Double] = []
        for item in list {
            guard let n = item as? NSNumber else { return nil }
            out.append(n.doubleValue)
        }
        return out
    }
}
