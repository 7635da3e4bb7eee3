import Synchronization
import BackpropKernels

/// Which transforms are active on this task or thread.
///
/// `depth` counts the enclosing derivative transforms (`gradient`, `pullback`, `jvp`, …);
/// operations record graph nodes only while `depth > 0` and recording is not disabled by
/// `withoutDerivative(_:)`. Nested transforms (depth > 1) make the backward pass itself
/// recorded, which is how derivatives of derivatives work.
enum DifferentiationContext {
    @TaskLocal static var depth = 0
    @TaskLocal static var recordingDisabled = false
    /// Makes every rule take its composed formula even when it could call a fused kernel
    /// (for testing that both agree).
    @TaskLocal static var fusedKernelsDisabled = false

    /// Whether a differentiable operation should record a graph node now.
    static var isRecording: Bool { depth > 0 && !recordingDisabled }
}

/// Source of node identifiers. Identifiers only grow, so a node's inputs always have smaller
/// identifiers than the node: sorting by identifier is a topological order, and a walk can skip
/// every node older than the variables being differentiated.
private let nodeCounter = Atomic<Int>(0)

/// What a rule's pullback receives: the cotangent of the output, the output itself (tracked,
/// so rules that reuse it stay differentiable) and which inputs need a cotangent.
public struct PullbackInput<Scalar: TensorScalar> {
    /// ∂L/∂y, the shape of the output.
    public let cotangent: Tensor<Scalar>
    /// The forward output y.
    public let output: Tensor<Scalar>
    /// `needs[i]` is false when input i is a constant, so its cotangent may be skipped (nil).
    public let needs: [Bool]

    /// For a batched pullback: the number of cotangents in the batch (the leading extent).
    var batchCount: Int { cotangent.shape[0] }

    /// Whether the pullback may call fused kernels: true when the backward pass is not itself
    /// being recorded. A recorded pass (a derivative of a derivative) must use the composed,
    /// differentiable formulas instead.
    static var mayFuse: Bool { !DifferentiationContext.isRecording && !DifferentiationContext.fusedKernelsDisabled }
}

/// One recorded application of a differentiable operation.
///
/// The node keeps what its rules need: the input nodes (nil for constants), their shapes (so the
/// engine can un-broadcast cotangents), the output's scalars and the two rules. Rules are written
/// with differentiable `Tensor` operations, so running them while recording builds a graph too.
final class GraphNode<Scalar: TensorScalar> {
    typealias Pullback = (PullbackInput<Scalar>) -> [Tensor<Scalar>?]
    typealias Differential = (_ tangents: [Tensor<Scalar>?], _ output: Tensor<Scalar>) -> Tensor<Scalar>?
    /// A pullback for a batch of cotangents at once: `cotangent` has shape [k] + the output's
    /// shape, and each returned cotangent [k] + the input's shape (or [k] + a shape that
    /// broadcasts to it; the engine sums it down). Returns nil when it cannot handle this call
    /// (the engine then pulls the k cotangents back one at a time).
    typealias BatchedPullback = (PullbackInput<Scalar>) -> [Tensor<Scalar>?]?
    /// Input i's cotangent as an unevaluated product, given the output's cotangent, or nil when
    /// the rule has no such form for that input (see `DeferredProduct`).
    typealias DeferredPullback = (_ input: Int, _ cotangent: Tensor<Scalar>) -> DeferredProduct<Scalar>?

    let id: Int
    let op: String
    /// Mutable only so that `deinit` can take the graph apart without recursion.
    private(set) var inputs: [GraphNode?]
    let inputShapes: [[Int]]
    let shape: [Int]
    let outputScalars: [Scalar]
    private(set) var pullback: Pullback
    private(set) var differential: Differential
    /// The batched pullback, for rules that have one (see `BatchedPullback`).
    private(set) var batchedPullback: BatchedPullback?
    /// The deferred form of some inputs' cotangents, for rules that have one.
    private(set) var deferredPullback: DeferredPullback?

    init(op: String, inputs: [GraphNode?], inputShapes: [[Int]], shape: [Int], outputScalars: [Scalar],
         pullback: @escaping Pullback, differential: @escaping Differential,
         batchedPullback: BatchedPullback? = nil, deferredPullback: DeferredPullback? = nil) {
        self.id = nodeCounter.add(1, ordering: .relaxed).newValue
        self.op = op
        self.inputs = inputs
        self.inputShapes = inputShapes
        self.shape = shape
        self.outputScalars = outputScalars
        self.pullback = pullback
        self.differential = differential
        self.batchedPullback = batchedPullback
        self.deferredPullback = deferredPullback
    }

    /// Releases a long chain of nodes iteratively. Left to itself, releasing the last tensor of a
    /// 100 000-op chain would release its node, whose inputs and rule closures release the node
    /// before, and so on: one stack frame per node. Instead every node that is about to die hands
    /// its inputs to a work list first, so each release happens at the same depth.
    deinit {
        var pending = detachReferences()
        while var node = pending.popLast() {
            if isKnownUniquelyReferenced(&node) { pending.append(contentsOf: node.detachReferences()) }
        }
    }

    /// Empties inputs and rules, returning the input nodes (still alive: the caller holds them).
    private func detachReferences() -> [GraphNode] {
        let held = inputs.compactMap { $0 }
        inputs = []
        pullback = { _ in [] }
        differential = { _, _ in nil }
        batchedPullback = nil
        deferredPullback = nil
        return held
    }

    /// The output as a tracked tensor (the value a rule may reuse).
    var output: Tensor<Scalar> { Tensor(shape: shape, scalars: outputScalars, node: self) }
}

extension Tensor {
    /// Attaches a derivative rule to a value computed by a kernel.
    ///
    /// When no derivative is being taken, or every input is a constant, the value is returned
    /// untracked and the rules are dropped. Otherwise a node is recorded whose inputs are the
    /// inputs' nodes.
    ///
    /// - Parameters:
    ///   - op: the operation's name, used in error messages and graph dumps.
    ///   - pullback: the VJP: cotangent of the output ↦ cotangent of each input (nil = zero).
    ///     A cotangent may have the output's broadcast shape; the engine sums it down.
    ///   - differential: the JVP: tangents of the inputs (nil = zero) ↦ tangent of the output.
    ///   - batchedPullback: optionally, the VJP of a batch of cotangents at once (used by
    ///     `jacobian`); without it a batch is pulled back one cotangent at a time.
    ///   - deferredPullback: optionally, an input's cotangent as an unevaluated product, which
    ///     the walk behind `valueWithGradient(at: model)` may hand over instead (a dense layer's
    ///     weight gradient); it must equal what `pullback` gives for that input.
    static func recorded(_ op: String, value: Tensor, inputs: [Tensor],
                         pullback: @escaping GraphNode<Scalar>.Pullback,
                         differential: @escaping GraphNode<Scalar>.Differential,
                         batchedPullback: GraphNode<Scalar>.BatchedPullback? = nil,
                         deferredPullback: GraphNode<Scalar>.DeferredPullback? = nil) -> Tensor {
        guard DifferentiationContext.isRecording, inputs.contains(where: { $0.node != nil }) else {
            return value.detached
        }
        // Closures, not key paths: in generic code a key path literal is instantiated anew, from
        // its mangled name, at every evaluation (it was ~10 % of `backprop train`).
        let node = GraphNode(op: op, inputs: inputs.map { $0.node }, inputShapes: inputs.map { $0.shape },
                             shape: value.shape, outputScalars: value.scalars,
                             pullback: pullback, differential: differential, batchedPullback: batchedPullback,
                             deferredPullback: deferredPullback)
        return Tensor(shape: value.shape, scalars: value.scalars, node: node)
    }

    /// `recorded` for an elementwise operation whose pullback only combines the cotangent with
    /// tensors of the output's shape (or shapes broadcasting to it). Broadcasting aligns shapes
    /// from the right, so the same pullback serves a batch of cotangents ([k] + output shape).
    static func recordedElementwise(_ op: String, value: Tensor, inputs: [Tensor],
                                    pullback: @escaping GraphNode<Scalar>.Pullback,
                                    differential: @escaping GraphNode<Scalar>.Differential) -> Tensor {
        recorded(op, value: value, inputs: inputs, pullback: pullback, differential: differential,
                 batchedPullback: pullback)
    }

    /// A fresh variable node for `self`, linked to its current node (if an outer transform tracks it).
    func makingVariable() -> Tensor {
        let node = GraphNode<Scalar>(
            op: "variable", inputs: [self.node], inputShapes: [shape], shape: shape, outputScalars: scalars,
            pullback: { [$0.cotangent] }, differential: { tangents, _ in tangents[0] },
            batchedPullback: { [$0.cotangent] })
        return Tensor(shape: shape, scalars: scalars, node: node)
    }
}

/// Runs `body` with no graph recording: values computed inside are constants. Use it for
/// inference and for bookkeeping on values that must not be differentiated.
public func withoutDerivative<R>(_ body: () throws -> R) rethrows -> R {
    try DifferentiationContext.$recordingDisabled.withValue(true, operation: body)
}

// A node is immutable once built (every stored property is a `let`), so sharing it across
// threads is safe; its rule closures capture only tensors, which are values. (`Tensor` is
// `Sendable` through this.)
extension GraphNode: @unchecked Sendable {}
