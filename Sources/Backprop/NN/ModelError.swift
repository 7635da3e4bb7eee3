// The errors the model and training API throws. Each prints as one sentence; none names a
// command-line option (the CLI maps them to its own wording).
//
// What throws and what stops: anything that depends on data, files or a model's contents
// throws one of these (or `DataError` for a file). A programmer error inside tensor
// mathematics — a matmul of mismatched shapes, an axis out of range — stops the program with a
// message naming the operation and the shapes, in debug and release builds alike.

/// A model and the tensors, data or file given to it do not fit.
public enum ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// One tensor whose shape is not the model's.
    public struct ShapeMismatch: Equatable, Sendable {
        /// The tensor's name, as in the state dict (`"0.weight"`).
        public var name: String
        /// The model's shape for it.
        public var expected: [Int]
        /// The shape given.
        public var found: [Int]
    }

    /// Loading a state dict: names the model has that the dict lacks, names the dict has that
    /// the model lacks, and tensors of the wrong shape (PyTorch's strict `load_state_dict`).
    case stateDictMismatch(missing: [String], unexpected: [String], misshaped: [ShapeMismatch])
    /// The data's examples have `found` features (or shape) where the model takes `expected`.
    case inputMismatch(expected: [Int], found: [Int])
    /// The model has `outputs` outputs but the data have `classes` classes.
    case classCountMismatch(outputs: Int, classes: Int)
    /// Example `index` has class label `label`, outside 0..<classCount.
    case labelOutOfRange(label: Int, index: Int, classCount: Int)
    /// A model description that cannot be built (layer sizes that are not positive, …).
    case invalidArchitecture(String)

    /// The error as one sentence, e.g. "the model has 10 outputs, but the data have 3 classes".
    public var description: String {
        switch self {
        case let .stateDictMismatch(missing, unexpected, misshaped):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing " + missing.map { "\"\($0)\"" }.joined(separator: ", ")) }
            if !unexpected.isEmpty { parts.append("unexpected " + unexpected.map { "\"\($0)\"" }.joined(separator: ", ")) }
            for m in misshaped { parts.append("\"\(m.name)\" has shape \(m.found), the model's is \(m.expected)") }
            return "the tensors do not fit the model: " + parts.joined(separator: "; ")
        case let .inputMismatch(expected, found):
            return "the model takes inputs of shape \(expected) per example, but the data have \(found)"
        case let .classCountMismatch(outputs, classes):
            return "the model has \(outputs) outputs, but the data have \(classes) classes"
        case let .labelOutOfRange(label, index, classCount):
            return "example \(index) has label \(label), outside the model's classes 0..<\(classCount)"
        case let .invalidArchitecture(reason):
            return "invalid architecture: \(reason)"
        }
    }
}

/// Gradients or optimizer state that do not fit the parameters being updated.
public enum OptimizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No gradient for this parameter.
    case missingGradient(String)
    /// A gradient for a name the model has no parameter for.
    case unexpectedGradient(String)
    /// A gradient whose shape is not its parameter's.
    case gradientShape(name: String, expected: [Int], found: [Int])
    /// Saved state lacks this buffer (e.g. `"exp_avg.0.weight"`).
    case missingState(String)
    /// Saved state for a name that is no buffer of any parameter of the model.
    case unexpectedState(String)
    /// A saved state buffer whose shape is not its parameter's.
    case stateShape(name: String, expected: [Int], found: [Int])

    /// The error as one sentence, e.g. "no gradient for parameter "0.weight"".
    public var description: String {
        switch self {
        case let .missingGradient(name): return "no gradient for parameter \"\(name)\""
        case let .unexpectedGradient(name): return "a gradient for \"\(name)\", which is not a parameter of the model"
        case let .gradientShape(name, expected, found):
            return "the gradient for \"\(name)\" has shape \(found), the parameter's is \(expected)"
        case let .missingState(name): return "optimizer state \"\(name)\" is missing"
        case let .unexpectedState(name): return "optimizer state \"\(name)\" is not this optimizer's state for any parameter of the model"
        case let .stateShape(name, expected, found):
            return "optimizer state \"\(name)\" has shape \(found), expected \(expected)"
        }
    }
}
