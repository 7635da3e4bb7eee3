import BackpropKernels

// The differential operators, named as in Swift's differentiable programming where they overlap.
// Every transform records the graph of `f` from fresh variables, then walks it with `Engine`.
// Inside another transform the walk is itself recorded, so transforms nest (see `hessian`).

/// Runs `body` as one more level of differentiation. Returns whether this is the outermost level.
private func differentiating<R>(_ body: (_ outermost: Bool) -> R) -> R {
    let depth = DifferentiationContext.depth
    return DifferentiationContext.$depth.withValue(depth + 1) {
        DifferentiationContext.$recordingDisabled.withValue(false) { body(depth == 0) }
    }
}

/// Runs a graph walk: recorded when nested in an outer transform, plain otherwise.
private func walking<R>(outermost: Bool, _ body: () -> R) -> R {
    outermost ? withoutDerivative(body) : body()
}

/// The value of `f` at `x` and its pullback v ↦ vᵀ·∂f/∂x (the vector–Jacobian product).
///
/// The pullback takes a cotangent with the shape of the value and returns one with each
/// variable's shape. It may be called many times (one graph, many walks).
public func valueWithPullback<Scalar>(at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> [Tensor<Scalar>]) {
    differentiating { outermost in
        let variables = xs.map { $0.makingVariable() }
        let y = f(variables)
        let nodes = variables.map { $0.node! }
        let pullback = { (v: Tensor<Scalar>) -> [Tensor<Scalar>] in
            let gs = walking(outermost: outermost) { Engine.pullback(v, through: y, to: nodes) }
            return zip(gs, xs).map { g, x in g ?? .zeros(x.shape) }
        }
        return (outermost ? y.detached : y, pullback)
    }
}

/// The value of a scalar-valued `f` at `xs` and a backward pass that hands over each gradient
/// as soon as it is complete: `backward(seed, whenFinished)` walks the graph once from
/// ∂L/∂f = `seed` and calls `whenFinished(i, seed·∂f/∂xᵢ)` for each variable the value depends
/// on the moment its gradient is final (in the walk's order: usually the last-used variable
/// first). The receiver owns the gradient: nothing else refers to its scalars, so it can be
/// changed in place without a copy. Variables the value does not depend on are not reported.
/// Data-parallel training uses it to start reducing gradients while the rest of the backward
/// pass runs, with the seed as the rank's share of the global batch.
func valueWithStreamingGradient<Scalar>(at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, backward: (_ seed: Scalar, _ whenFinished: (Int, Tensor<Scalar>) -> Void) -> Void) {
    differentiating { outermost in
        let variables = xs.map { $0.makingVariable() }
        let y = f(variables)
        require(y.count == 1, "gradient: f must return one scalar, got shape \(y.shape)")
        let nodes = variables.map { $0.node! }
        let backward = { (seed: Scalar, whenFinished: (Int, Tensor<Scalar>) -> Void) in
            withoutActuallyEscaping(whenFinished) { hook in
                _ = walking(outermost: outermost) {
                    Engine.pullback(Tensor(shape: y.shape, scalars: [seed]), through: y, to: nodes, whenFinished: hook)
                }
            }
        }
        return (outermost ? y.detached : y, backward)
    }
}

/// `valueWithGradient(at:of:)` for a model's parameters: a gradient may come back as the
/// unevaluated product that defines it (`Engine.pullbackDeferringProducts`), at the outermost
/// level only; inside another transform the walk is recorded and every gradient is computed.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func valueWithDeferredGradient<Scalar>(at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, gradient: [Cotangent<Scalar>]) {
    differentiating { outermost in
        let variables = xs.map { $0.makingVariable() }
        let y = f(variables)
        require(y.count == 1, "gradient: f must return one scalar, got shape \(y.shape)")
        let nodes = variables.map { $0.node! }
        let seed = Tensor<Scalar>.ones(y.shape)
        let gs: [Cotangent<Scalar>?] = walking(outermost: outermost) {
            outermost ? Engine.pullbackDeferringProducts(seed, through: y, to: nodes)
                      : Engine.pullback(seed, through: y, to: nodes).map { $0.map { .tensor($0) } }
        }
        return (outermost ? y.detached : y, zip(gs, xs).map { g, x in g ?? .tensor(.zeros(x.shape)) })
    }
}

/// The value of `f` at `x` and its pullback v ↦ vᵀ·∂f/∂x.
public func valueWithPullback<Scalar>(at x: Tensor<Scalar>, of f: (Tensor<Scalar>) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>) {
    let (value, pullback) = valueWithPullback(at: [x]) { f($0[0]) }
    return (value, { pullback($0)[0] })
}

/// The value of a scalar-valued `f` at `xs` and ∂f/∂xᵢ for each variable (each the shape of xᵢ).
public func valueWithGradient<Scalar>(at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, gradient: [Tensor<Scalar>]) {
    let (value, pullback) = valueWithPullback(at: xs, of: f)
    require(value.count == 1, "gradient: f must return one scalar, got shape \(value.shape)")
    return (value, pullback(.ones(value.shape)))
}

/// The value of a scalar-valued `f` at `x` and its gradient ∂f/∂x (the shape of x).
public func valueWithGradient<Scalar>(at x: Tensor<Scalar>, of f: (Tensor<Scalar>) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, gradient: Tensor<Scalar>) {
    let (value, g) = valueWithGradient(at: [x]) { f($0[0]) }
    return (value, g[0])
}

/// The value of a scalar-valued `f` of two variables and both partial gradients.
public func valueWithGradient<Scalar>(at x: Tensor<Scalar>, _ y: Tensor<Scalar>,
                                      of f: (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, gradient: (Tensor<Scalar>, Tensor<Scalar>)) {
    let (value, g) = valueWithGradient(at: [x, y]) { f($0[0], $0[1]) }
    return (value, (g[0], g[1]))
}

/// The gradient ∂f/∂x of a scalar-valued `f` at `x`.
public func gradient<Scalar>(at x: Tensor<Scalar>, of f: (Tensor<Scalar>) -> Tensor<Scalar>) -> Tensor<Scalar> {
    valueWithGradient(at: x, of: f).gradient
}

/// The partial gradients of a scalar-valued `f` of two variables.
public func gradient<Scalar>(at x: Tensor<Scalar>, _ y: Tensor<Scalar>,
                             of f: (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>) {
    valueWithGradient(at: x, y, of: f).gradient
}

/// The gradients of a scalar-valued `f` with respect to each of `xs`.
public func gradient<Scalar>(at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) -> Tensor<Scalar>) -> [Tensor<Scalar>] {
    valueWithGradient(at: xs, of: f).gradient
}

/// The value of `f` at `xs` and its differential (ẋ₁, …) ↦ ∂f/∂x·ẋ (forward mode).
///
/// The differential pushes tangents through the recorded graph in evaluation order with each
/// operation's JVP rule; it may be called many times.
public func valueWithDifferential<Scalar>(at xs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, differential: ([Tensor<Scalar>]) -> Tensor<Scalar>) {
    differentiating { outermost in
        let variables = xs.map { $0.makingVariable() }
        let y = f(variables)
        let nodes = variables.map { $0.node! }
        let differential = { (tangents: [Tensor<Scalar>]) -> Tensor<Scalar> in
            require(tangents.count == xs.count, "differential: \(tangents.count) tangents for \(xs.count) variables")
            let t = walking(outermost: outermost) { Engine.pushforward(tangents, from: nodes, through: y) }
            return t ?? .zeros(y.shape)
        }
        return (outermost ? y.detached : y, differential)
    }
}

/// The value of `f` at `x` and its differential ẋ ↦ ∂f/∂x·ẋ (forward mode).
public func valueWithDifferential<Scalar>(at x: Tensor<Scalar>, of f: (Tensor<Scalar>) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, differential: (Tensor<Scalar>) -> Tensor<Scalar>) {
    let (value, differential) = valueWithDifferential(at: [x]) { f($0[0]) }
    return (value, { differential([$0]) })
}

/// Jacobian–vector product: f(x) and ∂f/∂x·tangent (forward mode).
public func jvp<Scalar>(at x: Tensor<Scalar>, tangent: Tensor<Scalar>, of f: (Tensor<Scalar>) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, tangent: Tensor<Scalar>) {
    let (value, differential) = valueWithDifferential(at: x, of: f)
    return (value, differential(tangent))
}

/// Vector–Jacobian product: f(x) and cotangentᵀ·∂f/∂x (reverse mode).
public func vjp<Scalar>(at x: Tensor<Scalar>, cotangent: Tensor<Scalar>, of f: (Tensor<Scalar>) -> Tensor<Scalar>)
    -> (value: Tensor<Scalar>, cotangent: Tensor<Scalar>) {
    let (value, pullback) = valueWithPullback(at: x, of: f)
    return (value, pullback(cotangent))
}

/// How `jacobian(of:at:mode:)` builds the matrix.
public enum JacobianMode: String, Sendable, CaseIterable {
    /// Reverse mode: row i is eᵢᵀ·J. All rows are pulled back together, the identity as one
    /// batch of cotangents, in a single walk of the graph.
    case reverse
    /// One tangent per input entry: column j is J·eⱼ.
    case forward
}

/// The Jacobian of `f` at `x` as a matrix of shape [f(x).count, x.count]: entry (i, j) is
/// ∂f(x)ᵢ/∂xⱼ with both flattened row-major.
///
///     let j = jacobian(of: { $0.softmax(inverseTemperature: 2) }, at: x)   // [n, n]
public func jacobian<Scalar>(of f: (Tensor<Scalar>) -> Tensor<Scalar>, at x: Tensor<Scalar>,
                             mode: JacobianMode = .reverse) -> Tensor<Scalar> {
    switch mode {
    case .reverse:
        return reverseJacobian(of: f, at: x, batched: true)
    case .forward:
        let (y, differential) = valueWithDifferential(at: x, of: f)
        var columns: [Tensor<Scalar>] = []
        columns.reserveCapacity(x.count)
        for j in 0..<x.count {
            columns.append(differential(.basisVector(j, shape: x.shape)).reshaped([1, y.count]))
        }
        return columns.isEmpty ? .zeros([y.count, 0]) : Tensor.concatenatingRows(columns).transposed()
    }
}

/// The reverse-mode Jacobian, either with the identity pulled back as one batch of y.count
/// cotangents ([y.count] + y's shape) in one walk, where each rule with a batched pullback runs
/// once for all rows (`batched`), or with one pullback per row (the reference the batched walk
/// is tested against).
func reverseJacobian<Scalar>(of f: (Tensor<Scalar>) -> Tensor<Scalar>, at x: Tensor<Scalar>,
                             batched: Bool) -> Tensor<Scalar> {
    if !batched {
        let (y, pullback) = valueWithPullback(at: x, of: f)
        var rows: [Tensor<Scalar>] = []
        rows.reserveCapacity(y.count)
        for i in 0..<y.count {
            rows.append(pullback(.basisVector(i, shape: y.shape)).reshaped([1, x.count]))
        }
        return rows.isEmpty ? .zeros([0, x.count]) : .concatenatingRows(rows)
    }
    return differentiating { outermost in
        let variable = x.makingVariable()
        let y = f(variable)
        guard y.count > 0 else { return .zeros([0, x.count]) }
        let seeds = Tensor<Scalar>.identity(y.count).reshaped([y.count] + y.shape)
        let g = walking(outermost: outermost) { Engine.pullbackBatch(seeds, through: y, to: [variable.node!])[0] }
        return g.map { $0.reshaped([y.count, x.count]) } ?? .zeros([y.count, x.count])
    }
}

/// The Hessian ∂²f/∂x² of a scalar-valued `f` at `x`, shape [x.count, x.count]: the Jacobian of
/// the gradient, found by differentiating the (recorded) backward pass. For small inputs.
public func hessian<Scalar>(of f: @escaping (Tensor<Scalar>) -> Tensor<Scalar>, at x: Tensor<Scalar>,
                            mode: JacobianMode = .reverse) -> Tensor<Scalar> {
    jacobian(of: { gradient(at: $0, of: f) }, at: x, mode: mode)
}
