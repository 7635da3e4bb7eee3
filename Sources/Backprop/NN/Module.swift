import BackpropKernels

/// A model, or a part of one: a tree of named tensors.
///
/// A module declares each of its tensors once, in `visitTensors(with:)`: its trainable
/// *parameters*, its *buffers* (state that is saved but never trained, such as running
/// statistics) and its submodules. Everything else — the dotted names PyTorch's `state_dict`
/// uses, gradients in the model's shape, optimizer updates, model files — is built on that one
/// walk, so no list of parameters is ever kept in step with another by hand.
///
///     struct Scale: Layer {
///         var scale: Tensor<Float>                   // learned
///         var shift: Tensor<Float>                   // fixed: a buffer
///         var body: Sequential<Float>                // a submodule
///         mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
///             visitor.parameter("scale", &scale)
///             visitor.buffer("shift", &shift)
///             visitor.module("body", &body)
///         }
///         func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { body(x) * scale + shift }
///     }
///
/// gives the names `scale`, `shift`, `body.0.weight`, … in declaration order. Modules are
/// values (`Sendable`): a copy is an independent model, and tensors are copy-on-write.
public protocol Module<Scalar>: Sendable {
    /// The scalar type of the module's tensors (`Float` or `Double`).
    associatedtype Scalar: TensorScalar
    /// Presents every parameter, buffer and submodule to `visitor`, each once and always in the
    /// same order. The visitor may replace tensors (with the same shapes).
    mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>)
}

/// Whether a tensor of a module is trained.
public enum TensorRole: Sendable, Equatable {
    /// Trained: receives a gradient and is moved by optimizers.
    case parameter
    /// Saved and loaded with the model, never trained (running statistics, counters).
    case buffer
}

/// Something that walks the tensors of a module: reads them, or replaces them in place.
///
/// Implement `visit(_:name:role:)`; the module path (`enterModule`/`leaveModule`) is tracked
/// in `path`, so `qualifiedName(_:)` gives PyTorch's dotted name (`"2.body.0.weight"`).
public protocol TensorVisitor<Scalar> {
    /// The scalar type of the tensors the visitor walks.
    associatedtype Scalar: TensorScalar
    /// The names of the enclosing modules, outermost first.
    var path: ModulePath { get set }
    /// One tensor, with its local name (`"weight"`) and role.
    mutating func visit(_ tensor: inout Tensor<Scalar>, name: String, role: TensorRole)
}

/// The names of the modules enclosing a tensor, joined with dots into PyTorch's names.
public struct ModulePath: Sendable, Equatable {
    /// Outermost first.
    public private(set) var components: [String] = []

    /// The path of the outermost module (no components).
    public init() {}

    /// Enters the submodule `name`.
    public mutating func enter(_ name: String) { components.append(name) }
    /// Leaves the innermost submodule.
    public mutating func leave() { components.removeLast() }

    /// `"a.b.name"` for local name `name` inside modules a, b.
    public func qualifiedName(_ name: String) -> String {
        components.isEmpty ? name : components.joined(separator: ".") + "." + name
    }
}

extension TensorVisitor {
    /// Declares a trainable tensor.
    public mutating func parameter(_ name: String, _ tensor: inout Tensor<Scalar>) {
        visit(&tensor, name: name, role: .parameter)
    }

    /// Declares a tensor that is saved with the model but not trained.
    public mutating func buffer(_ name: String, _ tensor: inout Tensor<Scalar>) {
        visit(&tensor, name: name, role: .buffer)
    }

    /// Declares a submodule: its tensors are named `"<name>.<their names>"`.
    public mutating func module(_ name: String, _ module: inout some Module<Scalar>) {
        path.enter(name)
        module.visitTensors(with: &self)
        path.leave()
    }

    /// Declares a list of submodules: element i's tensors are named `"<name>.<i>.<their names>"`
    /// (PyTorch's `nn.ModuleList`).
    public mutating func modules<M: Module<Scalar>>(_ name: String, _ modules: inout [M]) {
        path.enter(name)
        for i in modules.indices { module(String(i), &modules[i]) }
        path.leave()
    }

    /// The dotted name of the tensor `name` at the current position.
    public func qualifiedName(_ name: String) -> String { path.qualifiedName(name) }
}

// MARK: - Reading a module

/// Collects names, tensors and roles without changing anything.
struct TensorCollector<Scalar: TensorScalar>: TensorVisitor {
    var path = ModulePath()
    /// Which roles to collect (nil: both).
    let role: TensorRole?
    var names: [String] = []
    var tensors: [Tensor<Scalar>] = []
    var roles: [TensorRole] = []

    init(role: TensorRole?) { self.role = role }

    mutating func visit(_ tensor: inout Tensor<Scalar>, name: String, role: TensorRole) {
        guard self.role == nil || self.role == role else { return }
        names.append(path.qualifiedName(name))
        tensors.append(tensor)
        roles.append(role)
    }
}

/// Replaces the tensors of one role, in visiting order, with given ones of the same shapes.
struct TensorReplacer<Scalar: TensorScalar>: TensorVisitor {
    var path = ModulePath()
    let role: TensorRole
    let replacements: [Tensor<Scalar>]
    var next = 0

    mutating func visit(_ tensor: inout Tensor<Scalar>, name: String, role: TensorRole) {
        guard role == self.role else { return }
        let replacement = replacements[next]
        require(replacement.shape == tensor.shape,
                "\(path.qualifiedName(name)): replacement of shape \(replacement.shape) for a tensor of shape \(tensor.shape)")
        tensor = replacement
        next += 1
    }
}

extension Module {
    /// Every tensor with its dotted name and role, in declaration order.
    func collectTensors(role: TensorRole? = nil) -> TensorCollector<Scalar> {
        var collector = TensorCollector<Scalar>(role: role)
        var copy = self   // visiting is `mutating`; the collector writes nothing, so nothing is copied
        copy.visitTensors(with: &collector)
        return collector
    }

    /// The trainable tensors by dotted name (`"0.weight"`, `"2.body.1.bias"`), in declaration order.
    public var namedParameters: NamedTensors<Scalar> {
        let c = collectTensors(role: .parameter)
        return NamedTensors(names: c.names, tensors: c.tensors)
    }

    /// The buffers (saved, not trained) by dotted name, in declaration order.
    public var namedBuffers: NamedTensors<Scalar> {
        let c = collectTensors(role: .buffer)
        return NamedTensors(names: c.names, tensors: c.tensors)
    }

    /// Parameters and buffers together, in declaration order: what a model file holds, as
    /// PyTorch's `state_dict()`.
    public var stateDict: NamedTensors<Scalar> {
        let c = collectTensors()
        return NamedTensors(names: c.names, tensors: c.tensors)
    }

    /// The trainable tensors in declaration order.
    public var parameters: [Tensor<Scalar>] { collectTensors(role: .parameter).tensors }

    /// The dotted names of the trainable tensors, in declaration order.
    public var parameterNames: [String] { collectTensors(role: .parameter).names }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// A copy whose parameters are `parameters`, in declaration order, each of the shape it replaces.
    public func replacingParameters(_ parameters: [Tensor<Scalar>]) -> Self {
        let count = collectTensors(role: .parameter).tensors.count
        require(parameters.count == count, "\(Self.self).replacingParameters: \(parameters.count) tensors for \(count) parameters")
        var copy = self
        var replacer = TensorReplacer<Scalar>(role: .parameter, replacements: parameters)
        copy.visitTensors(with: &replacer)
        return copy
    }

    /// Loads parameters and buffers by name, as PyTorch's `load_state_dict`.
    ///
    /// With `strict` (the default) every tensor of the model must be present with its shape and
    /// no other name may appear; otherwise the missing and unexpected names are ignored (shapes
    /// must still match). Nothing is changed unless the whole load succeeds.
    ///
    /// - Throws: `ModelError.stateDictMismatch` listing every missing, unexpected and mis-shaped
    ///   name at once.
    public mutating func loadStateDict(_ state: NamedTensors<Scalar>, strict: Bool = true) throws {
        let mine = collectTensors()
        var missing: [String] = [], misshaped: [ModelError.ShapeMismatch] = []
        var replacements: [Tensor<Scalar>] = []
        for (name, tensor) in zip(mine.names, mine.tensors) {
            guard let given = state[name] else {
                missing.append(name)
                replacements.append(tensor)
                continue
            }
            if given.shape != tensor.shape {
                misshaped.append(.init(name: name, expected: tensor.shape, found: given.shape))
            }
            replacements.append(given.detached)
        }
        let known = Set(mine.names)
        let unexpected = state.names.filter { !known.contains($0) }
        if !misshaped.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw ModelError.stateDictMismatch(missing: strict ? missing : [], unexpected: strict ? unexpected : [],
                                               misshaped: misshaped)
        }
        var loader = TensorListReplacer<Scalar>(replacements: replacements)
        visitTensors(with: &loader)
    }
}

/// Replaces every tensor, parameters and buffers, in visiting order.
private struct TensorListReplacer<Scalar: TensorScalar>: TensorVisitor {
    var path = ModulePath()
    let replacements: [Tensor<Scalar>]
    var next = 0

    mutating func visit(_ tensor: inout Tensor<Scalar>, name: String, role: TensorRole) {
        tensor = replacements[next]
        next += 1
    }
}
