import Foundation

/// A network written as a compact spec: layers separated by commas, each a keyword and its
/// settings, built into a `Sequential<Float>` for a given input shape and class count.
///
///     conv 16 3 pad 1, relu, maxpool 2, conv 32 3 pad 1, relu, maxpool 2, flatten, linear 10
///
/// | layer | meaning (PyTorch module) |
/// |---|---|
/// | `conv OUT K [stride S] [pad P] [dilation D] [groups G] [nobias]` | `Conv2d(in, OUT, K, …)`; K, S, P, D are `3` or `3x5` (height × width) |
/// | `maxpool K [stride S] [pad P]`, `avgpool K [stride S] [pad P]` | `MaxPool2d`, `AvgPool2d` (stride defaults to K) |
/// | `gap` | `AdaptiveAvgPool2d(1)`: [C, H, W] → [C, 1, 1] |
/// | `flatten` | `Flatten()` |
/// | `linear [OUT]` | `Linear(in, OUT)`; without OUT, the last layer's width is the class count |
/// | `relu`, `tanh`, `sigmoid`, `gelu` | the activation |
/// | `batchnorm` | `BatchNorm2d(C)` on [C, H, W], `BatchNorm1d(F)` on [F] |
/// | `layernorm` | `LayerNorm` over every axis of one example |
/// | `dropout P` | `Dropout(P)` |
///
/// A preset name (`cnn`, `cnn-bn`) stands for its spec. Input channels and widths follow from
/// the input shape ([C, H, W] for images, [F] for feature rows), and `description` is the spec
/// with every width written out, as model files store it. Problems — an unknown word, a
/// missing number, a window larger than its input, a `linear` on an image not flattened —
/// throw `ModelError.invalidArchitecture` naming the layer.
public struct NetworkArchitecture: Equatable, Sendable, CustomStringConvertible {
    /// One layer of a spec.
    public enum LayerSpec: Equatable, Sendable {
        /// `conv`: a `Conv2d` with `outChannels` outputs (its inputs follow from the previous layer).
        case conv(outChannels: Int, kernel: Size2D, stride: Size2D, padding: Size2D, dilation: Size2D, groups: Int, bias: Bool)
        /// `maxpool`: a `MaxPool2d`.
        case maxPool(kernel: Size2D, stride: Size2D, padding: Size2D)
        /// `avgpool`: an `AvgPool2d`.
        case avgPool(kernel: Size2D, stride: Size2D, padding: Size2D)
        /// `gap`: a `GlobalAvgPool2d`, [C, H, W] → [C, 1, 1].
        case globalAvgPool
        /// `flatten`: a `Flatten` of every axis of an example into one.
        case flatten
        /// nil: the class count.
        case linear(outputs: Int?)
        /// `relu`, `tanh`, `sigmoid` or `gelu`: the activation's layer.
        case activation(Activation)
        /// `batchnorm`: `BatchNorm2d` on [C, H, W], `BatchNorm1d` on [F].
        case batchNorm
        /// `layernorm`: a `LayerNorm` over every axis of one example.
        case layerNorm
        /// `dropout P`: a `Dropout` with probability P.
        case dropout(Double)
    }

    /// The layers, input first.
    public var layers: [LayerSpec]

    /// Named specs.
    public static let presets: [(name: String, spec: String)] = [
        ("cnn", "conv 16 3 pad 1, relu, maxpool 2, conv 32 3 pad 1, relu, maxpool 2, flatten, linear"),
        ("cnn-bn", "conv 16 3 pad 1, batchnorm, relu, maxpool 2, conv 32 3 pad 1, batchnorm, relu, maxpool 2, flatten, dropout 0.25, linear"),
    ]

    /// The network of these layers, input first.
    public init(layers: [LayerSpec]) { self.layers = layers }

    /// Parses a spec or a preset name.
    ///
    /// - Throws: `ModelError.invalidArchitecture` for a spec that cannot be read.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let spec = Self.presets.first { $0.name == trimmed.lowercased() }?.spec ?? trimmed
        let parts = spec.split(separator: ",", omittingEmptySubsequences: false)
        guard !spec.isEmpty else { throw ModelError.invalidArchitecture("the spec is empty") }
        var layers: [LayerSpec] = []
        for (i, part) in parts.enumerated() {
            let words = part.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
            let label = "layer \(i + 1) (\"\(part.trimmingCharacters(in: .whitespaces))\")"
            do {
                layers.append(try Self.parseLayer(words))
            } catch let SpecProblem.message(problem) {
                throw ModelError.invalidArchitecture("\(label): \(problem)")
            }
        }
        self.init(layers: layers)
    }

    private enum SpecProblem: Error { case message(String) }

    private static func parseLayer(_ words: [String]) throws -> LayerSpec {
        guard let keyword = words.first else {
            throw SpecProblem.message("empty layer (two commas in a row?)")
        }
        var rest = Array(words.dropFirst())
        func positiveInt(_ word: String, _ what: String, minimum: Int = 1) throws -> Int {
            guard let v = Int(word), v >= minimum else {
                throw SpecProblem.message("\(what) must be an integer ≥ \(minimum), got \"\(word)\"")
            }
            return v
        }
        func size(_ word: String, _ what: String, minimum: Int = 1) throws -> Size2D {
            let pieces = word.split(separator: "x", omittingEmptySubsequences: false)
            guard pieces.count == 1 || pieces.count == 2 else {
                throw SpecProblem.message("\(what) must be N or HxW, got \"\(word)\"")
            }
            let values = try pieces.map { try positiveInt(String($0), what, minimum: minimum) }
            return values.count == 1 ? Size2D(values[0], values[0]) : Size2D(values[0], values[1])
        }
        /// `keyword value` pairs after the positional settings.
        func options(_ allowed: [String]) throws -> [String: String] {
            var found: [String: String] = [:]
            var k = 0
            while k < rest.count {
                let name = rest[k]
                if name == "nobias" && allowed.contains("nobias") { found[name] = ""; k += 1; continue }
                guard allowed.contains(name) else {
                    throw SpecProblem.message("unknown setting \"\(name)\" (settings: \(allowed.joined(separator: ", ")))")
                }
                guard k + 1 < rest.count else { throw SpecProblem.message("\"\(name)\" needs a value") }
                guard found[name] == nil else { throw SpecProblem.message("\"\(name)\" is given twice") }
                found[name] = rest[k + 1]
                k += 2
            }
            return found
        }
        func noSettings() throws {
            if let extra = rest.first { throw SpecProblem.message("\"\(keyword)\" takes no settings, got \"\(extra)\"") }
        }
        switch keyword {
        case "conv":
            guard rest.count >= 2 else { throw SpecProblem.message("conv needs an output channel count and a kernel size, e.g. \"conv 16 3\"") }
            let out = try positiveInt(rest[0], "the output channel count")
            let kernel = try size(rest[1], "the kernel size")
            rest.removeFirst(2)
            let o = try options(["stride", "pad", "dilation", "groups", "nobias"])
            return .conv(outChannels: out, kernel: kernel, stride: try o["stride"].map { try size($0, "stride") } ?? 1,
                         padding: try o["pad"].map { try size($0, "pad", minimum: 0) } ?? 0,
                         dilation: try o["dilation"].map { try size($0, "dilation") } ?? 1,
                         groups: try o["groups"].map { try positiveInt($0, "groups") } ?? 1, bias: o["nobias"] == nil)
        case "maxpool", "avgpool":
            guard let first = rest.first else { throw SpecProblem.message("\(keyword) needs a kernel size, e.g. \"\(keyword) 2\"") }
            let kernel = try size(first, "the kernel size")
            rest.removeFirst()
            let o = try options(["stride", "pad"])
            let stride = try o["stride"].map { try size($0, "stride") } ?? kernel
            let padding = try o["pad"].map { try size($0, "pad", minimum: 0) } ?? 0
            guard 2 * padding.height <= kernel.height && 2 * padding.width <= kernel.width else {
                throw SpecProblem.message("pad \(padding) must be at most half the kernel \(kernel)")
            }
            return keyword == "maxpool" ? .maxPool(kernel: kernel, stride: stride, padding: padding)
                : .avgPool(kernel: kernel, stride: stride, padding: padding)
        case "gap", "globalavgpool":
            try noSettings()
            return .globalAvgPool
        case "flatten":
            try noSettings()
            return .flatten
        case "linear":
            guard rest.count <= 1 else { throw SpecProblem.message("linear takes one width, got \"\(rest.joined(separator: " "))\"") }
            return .linear(outputs: try rest.first.map { try positiveInt($0, "the width") })
        case "batchnorm":
            try noSettings()
            return .batchNorm
        case "layernorm":
            try noSettings()
            return .layerNorm
        case "dropout":
            guard rest.count == 1, let p = Double(rest[0]), p >= 0, p < 1 else {
                throw SpecProblem.message("dropout needs one probability in [0, 1), e.g. \"dropout 0.25\"")
            }
            return .dropout(p)
        default:
            if let activation = Activation(rawValue: keyword) {
                try noSettings()
                return .activation(activation)
            }
            throw SpecProblem.message("unknown layer \"\(keyword)\" (layers: conv, maxpool, avgpool, gap, flatten, linear, relu, tanh, sigmoid, gelu, batchnorm, layernorm, dropout; presets: \(Self.presets.map(\.name).joined(separator: ", ")))")
        }
    }

    /// The spec, every setting that is not a default written out (`conv 16 3 pad 1, relu, …`).
    public var description: String {
        func s(_ v: Size2D) -> String { v.height == v.width ? "\(v.height)" : "\(v.height)x\(v.width)" }
        func pool(_ name: String, _ kernel: Size2D, _ stride: Size2D, _ padding: Size2D) -> String {
            var text = "\(name) \(s(kernel))"
            if stride != kernel { text += " stride \(s(stride))" }
            if padding != 0 { text += " pad \(s(padding))" }
            return text
        }
        return layers.map { layer -> String in
            switch layer {
            case let .conv(out, kernel, stride, padding, dilation, groups, bias):
                var text = "conv \(out) \(s(kernel))"
                if stride != 1 { text += " stride \(s(stride))" }
                if padding != 0 { text += " pad \(s(padding))" }
                if dilation != 1 { text += " dilation \(s(dilation))" }
                if groups != 1 { text += " groups \(groups)" }
                if !bias { text += " nobias" }
                return text
            case let .maxPool(kernel, stride, padding): return pool("maxpool", kernel, stride, padding)
            case let .avgPool(kernel, stride, padding): return pool("avgpool", kernel, stride, padding)
            case .globalAvgPool: return "gap"
            case .flatten: return "flatten"
            case let .linear(outputs): return outputs.map { "linear \($0)" } ?? "linear"
            case let .activation(a): return a.rawValue
            case .batchNorm: return "batchnorm"
            case .layerNorm: return "layernorm"
            case let .dropout(p): return "dropout \(p)"
            }
        }.joined(separator: ", ")
    }

    /// The same spec with a width-less last `linear` given `classes` outputs.
    ///
    /// - Throws: `ModelError.invalidArchitecture` when the spec does not end in a `linear`
    ///   layer (optionally followed by activations or dropout), or another `linear` has no width.
    public func resolved(classes: Int) throws -> NetworkArchitecture {
        guard let last = layers.lastIndex(where: { if case .linear = $0 { return true } else { return false } }) else {
            throw ModelError.invalidArchitecture("the spec must end with a linear layer giving one output per class")
        }
        var copy = self
        for (i, layer) in layers.enumerated() {
            guard case .linear(nil) = layer else { continue }
            guard i == last else { throw ModelError.invalidArchitecture("layer \(i + 1) (\"linear\"): only the last linear layer may omit its width") }
            copy.layers[i] = .linear(outputs: classes)
        }
        return copy
    }

    /// The shape of one example after each layer, starting from `inputShape` ([C, H, W] or [F]).
    ///
    /// - Throws: `ModelError.invalidArchitecture` naming the first layer that does not fit its
    ///   input.
    public func shapes(inputShape: [Int]) throws -> [[Int]] {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ModelError.invalidArchitecture("the input shape \(inputShape) must be non-empty and positive")
        }
        var shapes = [inputShape]
        for (i, layer) in layers.enumerated() {
            let shape = shapes[shapes.count - 1]
            func fail(_ problem: String) -> ModelError {
                .invalidArchitecture("layer \(i + 1) (\"\(NetworkArchitecture(layers: [layer]).description)\") on input \(shape.map(String.init).joined(separator: "×")): \(problem)")
            }
            func image() throws -> (Int, Int, Int) {
                guard shape.count == 3 else { throw fail("needs an image [C, H, W]; give the data an input shape C,H,W") }
                return (shape[0], shape[1], shape[2])
            }
            switch layer {
            case let .conv(out, kernel, stride, padding, dilation, groups, _):
                let (c, h, w) = try image()
                guard c % groups == 0 && out % groups == 0 else { throw fail("\(groups) groups must divide the \(c) input and \(out) output channels") }
                let oh = (h + 2 * padding.height - dilation.height * (kernel.height - 1) - 1) / stride.height + 1
                let ow = (w + 2 * padding.width - dilation.width * (kernel.width - 1) - 1) / stride.width + 1
                guard h + 2 * padding.height - dilation.height * (kernel.height - 1) - 1 >= 0,
                      w + 2 * padding.width - dilation.width * (kernel.width - 1) - 1 >= 0, oh >= 1, ow >= 1 else {
                    throw fail("the kernel does not fit the \(h)×\(w) input")
                }
                shapes.append([out, oh, ow])
            case let .maxPool(kernel, stride, padding), let .avgPool(kernel, stride, padding):
                let (c, h, w) = try image()
                guard h + 2 * padding.height >= kernel.height && w + 2 * padding.width >= kernel.width else {
                    throw fail("the window does not fit the \(h)×\(w) input")
                }
                shapes.append([c, (h + 2 * padding.height - kernel.height) / stride.height + 1,
                               (w + 2 * padding.width - kernel.width) / stride.width + 1])
            case .globalAvgPool:
                let (c, _, _) = try image()
                shapes.append([c, 1, 1])
            case .flatten:
                shapes.append([shape.reduce(1, *)])
            case let .linear(outputs):
                guard shape.count == 1 else { throw fail("needs a flat input; add flatten before it") }
                guard let outputs else { throw fail("has no width (resolve the class count first)") }
                shapes.append([outputs])
            case .activation, .layerNorm, .dropout:
                shapes.append(shape)
            case .batchNorm:
                guard shape.count == 1 || shape.count == 3 else { throw fail("needs [C, H, W] or [F]") }
                shapes.append(shape)
            }
        }
        return shapes
    }

    /// The number of scalars in the state dict of the network for `inputShape` (parameters and
    /// buffers), computed from the spec alone — so a file's claim can be checked before anything
    /// is allocated.
    public func stateCount(inputShape: [Int]) throws -> Int {
        let shapes = try self.shapes(inputShape: inputShape)
        var total = 0
        for (i, layer) in layers.enumerated() {
            let shape = shapes[i]
            let count: Int
            switch layer {
            case let .conv(out, kernel, _, _, _, groups, bias):
                count = out * (shape[0] / groups) * kernel.height * kernel.width + (bias ? out : 0)
            case let .linear(outputs): count = shape[0] * (outputs ?? 0) + (outputs ?? 0)
            case .batchNorm: count = 4 * shape[0] + 1
            case .layerNorm: count = 2 * shape.reduce(1, *)
            default: count = 0
            }
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow else { throw ModelError.invalidArchitecture("the network has too many parameters") }
            total = sum
        }
        return total
    }

    /// The network for one input shape, initialised in layer order from `generator` (PyTorch's
    /// default initialisation for every layer; dropout layer i is seeded with `seed + i`).
    ///
    /// - Throws: `ModelError.invalidArchitecture` when a layer does not fit its input.
    public func makeNetwork(inputShape: [Int], seed: UInt64 = 0, generator: inout SeededGenerator) throws -> Sequential<Float> {
        let shapes = try self.shapes(inputShape: inputShape)
        var built: [any Layer<Float>] = []
        for (i, layer) in layers.enumerated() {
            let shape = shapes[i]
            switch layer {
            case let .conv(out, kernel, stride, padding, dilation, groups, bias):
                built.append(Conv2d<Float>(inChannels: shape[0], outChannels: out, kernelSize: kernel, stride: stride, padding: padding,
                                           dilation: dilation, groups: groups, bias: bias, generator: &generator))
            case let .maxPool(kernel, stride, padding): built.append(MaxPool2d<Float>(kernelSize: kernel, stride: stride, padding: padding))
            case let .avgPool(kernel, stride, padding): built.append(AvgPool2d<Float>(kernelSize: kernel, stride: stride, padding: padding))
            case .globalAvgPool: built.append(GlobalAvgPool2d<Float>())
            case .flatten: built.append(Flatten<Float>())
            case let .linear(outputs): built.append(Linear<Float>(inputs: shape[0], outputs: outputs!, generator: &generator))
            case let .activation(a): built.append(a.layer(Float.self))
            case .batchNorm:
                built.append(shape.count == 3 ? BatchNorm2d<Float>(features: shape[0]) as any Layer<Float> : BatchNorm1d<Float>(features: shape[0]))
            case .layerNorm: built.append(LayerNorm<Float>(normalizedShape: shape))
            case let .dropout(p): built.append(Dropout<Float>(probability: p, seed: seed &+ UInt64(i)))
            }
        }
        return Sequential(built)
    }

    /// The equivalent PyTorch modules, one per layer (`Conv2d(1, 16, kernel_size=(3, 3), padding=(1, 1))`, …),
    /// whose `nn.Sequential` has this network's state_dict.
    public func pytorchModules(inputShape: [Int]) throws -> [String] {
        let shapes = try self.shapes(inputShape: inputShape)
        func pair(_ v: Size2D) -> String { "(\(v.height), \(v.width))" }
        return layers.enumerated().map { i, layer in
            let shape = shapes[i]
            switch layer {
            case let .conv(out, kernel, stride, padding, dilation, groups, bias):
                var text = "Conv2d(\(shape[0]), \(out), kernel_size=\(pair(kernel))"
                if stride != 1 { text += ", stride=\(pair(stride))" }
                if padding != 0 { text += ", padding=\(pair(padding))" }
                if dilation != 1 { text += ", dilation=\(pair(dilation))" }
                if groups != 1 { text += ", groups=\(groups)" }
                if !bias { text += ", bias=False" }
                return text + ")"
            case let .maxPool(kernel, stride, padding):
                return "MaxPool2d(kernel_size=\(pair(kernel)), stride=\(pair(stride))" + (padding != 0 ? ", padding=\(pair(padding)))" : ")")
            case let .avgPool(kernel, stride, padding):
                return "AvgPool2d(kernel_size=\(pair(kernel)), stride=\(pair(stride))" + (padding != 0 ? ", padding=\(pair(padding)))" : ")")
            case .globalAvgPool: return "AdaptiveAvgPool2d(1)"
            case .flatten: return "Flatten()"
            case let .linear(outputs): return "Linear(\(shape[0]), \(outputs ?? 0))"
            case let .activation(a): return String(a.pytorchModule.dropFirst(3))
            case .batchNorm: return shape.count == 3 ? "BatchNorm2d(\(shape[0]))" : "BatchNorm1d(\(shape[0]))"
            case .layerNorm: return "LayerNorm(\(shape))"
            case let .dropout(p): return "Dropout(\(p))"
            }
        }
    }
}
