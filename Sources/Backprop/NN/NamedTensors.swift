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
    public internal(set) var tensors: [Tensor<Scalar>] {
        get { pending.isEmpty ? stored : stored.indices.map(tensor(at:)) }
        _modify {
            // In place (no copy of the scalars an element's change writes to).
            if !pending.isEmpty { evaluatePending() }
            yield &stored
        }
        set {
            stored = newValue
            pending = [:]
        }
    }
    /// The tensors, with an empty placeholder where `pending` holds a product.
    private var stored: [Tensor<Scalar>]
    /// Gradients not yet evaluated, by position (see `valueWithGradient(at:of:)` for models).
    private var pending: [Int: DeferredProduct<Scalar>] = [:]
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
        self.stored = tensors
        self.positions = positions
    }

    /// Gradients by name, some of them unevaluated products.
    init(names: [String], gradients: [Cotangent<Scalar>]) {
        let placeholder = Tensor<Scalar>(shape: [0], scalars: [])
        self.init(names: names, tensors: gradients.map { g in
            if case .tensor(let t) = g { t } else { placeholder }
        })
        for (i, g) in gradients.enumerated() { if case .product(let p) = g { pending[i] = p } }
    }

    /// Evaluates every pending product into `stored`.
    private mutating func evaluatePending() {
        for (i, product) in pending { stored[i] = product.value }
        pending = [:]
    }

    /// The tensor at `position` (evaluating it if it is a pending product).
    func tensor(at position: Int) -> Tensor<Scalar> { pending[position]?.value ?? stored[position] }

    /// The shape of the tensor at `position`, without evaluating anything.
    func shape(at position: Int) -> [Int] { pending[position]?.shape ?? stored[position].shape }

    /// The unevaluated product at `position`, if that gradient is one.
    func pendingProduct(at position: Int) -> DeferredProduct<Scalar>? { pending[position] }

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
    public subscript(position: Int) -> (name: String, tensor: Tensor<Scalar>) { (names[position], tensor(at: position)) }

    /// The tensor named `name`, or nil. Setting a new name appends it; setting nil removes it.
    public subscript(name: String) -> Tensor<Scalar>? {
        get { positions[name].map(tensor(at:)) }
        set {
            if let i = positions[name] {
                if let newValue {
                    stored[i] = newValue
                    pending[i] = nil
                } else {
                    evaluatePending()   // so that positions can shift
                    names.remove(at: i)
                    stored.remove(at: i)
                    positions = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
                }
            } else if let newValue {
                positions[name] = names.count
                names.append(name)
                stored.append(newValue)
            }
        }
    }

    /// The position of `name`, or nil.
    public func position(of name: String) -> Int? { positions[name] }

    /// The same names with each tensor transformed.
    public func mapTensors(_ transform: (Tensor<Scalar>) throws -> Tensor<Scalar>) rethrows -> NamedTensors {
        var copy = self
        copy.tensors = try tensors.map(transform)
        return copy
    }

    /// The same names in the same order, with equal tensors (shapes and scalars).
    public static func == (lhs: NamedTensors, rhs: NamedTensors) -> Bool {
        lhs.names == rhs.names && lhs.tensors == rhs.tensors
    }
}
