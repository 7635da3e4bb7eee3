import BackpropKernels

/// Tensors with dotted names, in order: a model's parameters or `state_dict`, its gradients,
/// an optimizer's state.
///
///     let (loss, grads) = valueWithGradient(at: model) { m in loss(m) }
///     grads["0.weight"]            // ∂L/∂W of layer 0, [out, in]
///     for (name, g) in grads { print(name, g.shape) }
public struct NamedTensors<Scalar: TensorScalar>: Sendable, RandomAccessCollection, Equatable {
    /// The names, unique, in order.
    public private(set) var names: [String]
    /// The tensors, in the order of `names`.
    public internal(set) var tensors: [Tensor<Scalar>]
    private var positions: [String: Int]

    /// Names and tensors of equal count; names must be unique.
    public init(names: [String], tensors: [Tensor<Scalar>]) {
        require(names.count == tensors.count, "NamedTensors: \(names.count) names for \(tensors.count) tensors")
        var positions: [String: Int] = [:]
        positions.reserveCapacity(names.count)
        for (i, name) in names.enumerated() {
            require(positions.updateValue(i, forKey: name) == nil, "NamedTensors: the name \"\(name)\" appears twice")
        }
        self.names = names
        self.tensors = tensors
        self.positions = positions
    }

    /// No tensors.
    public init() { self.init(names: [], tensors: []) }

    /// From (name, tensor) pairs in order.
    public init(_ pairs: [(name: String, tensor: Tensor<Scalar>)]) {
        self.init(names: pairs.map(\.name), tensors: pairs.map(\.tensor))
    }

    /// The position of the first (name, tensor) pair, 0.
    public var startIndex: Int { 0 }
    /// The number of tensors: the position after the last.
    public var endIndex: Int { names.count }
    /// The (name, tensor) pair at `position`, in insertion order.
    public subscript(position: Int) -> (name: String, tensor: Tensor<Scalar>) { (names[position], tensors[position]) }

    /// The tensor named `name`, or nil. Setting a new name appends it; setting nil removes it.
    public subscript(name: String) -> Tensor<Scalar>? {
        get { positions[name].map { tensors[$0] } }
        set {
            if let i = positions[name] {
                if let newValue {
                    tensors[i] = newValue
                } else {
                    names.remove(at: i)
                    tensors.remove(at: i)
                    positions = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
                }
            } else if let newValue {
                positions[name] = names.count
                names.append(name)
                tensors.append(newValue)
            }
        }
    }

    /// The position of `name`, or nil.
    public func position(of name: String) -> Int? { positions[name] }

    /// The same names with each tensor transformed.
    public func mapTensors(_ transform: (Tensor<Scalar>) throws -> Tensor<Scalar>) rethrows -> NamedTensors {
        var copy = self
        for i in tensors.indices { copy.tensors[i] = try transform(tensors[i]) }
        return copy
    }

    /// The same names in the same order, with equal tensors (shapes and scalars).
    public static func == (lhs: NamedTensors, rhs: NamedTensors) -> Bool {
        lhs.names == rhs.names && lhs.tensors == rhs.tensors
    }
}
