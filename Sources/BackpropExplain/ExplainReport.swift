import Backprop

/// One forward value of the walk-through: its defining formula and its numbers.
public struct ExplainValue: Sendable {
    /// How the value is defined (`"y = Wx + b"`).
    public let formula: String
    /// The numbers, labelled.
    public let matrix: ExplainMatrix
}

/// An independent estimate of a step's result, and how far it is from the library's answer.
public struct ExplainCheck: Sendable {
    /// Where the estimate comes from.
    public enum Kind: String, Sendable, CaseIterable {
        /// The textbook formula evaluated directly (the closed forms of docs/derivations.md).
        case closedForm = "closed form"
        /// Central differences of the loss (or of the softmax) in Double.
        case finiteDifferences = "finite differences"
        /// The same derivative by forward mode (tangents) instead of reverse mode.
        case forwardMode = "forward mode"
        /// The fused softmax–cross-entropy rule training uses.
        case fusedRule = "fused rule"
        /// One `valueWithGradient` call over the whole network.
        case wholeChain = "whole chain"
    }

    /// Where the estimate comes from.
    public let kind: Kind
    /// The estimate's formula or method, as shown (`"β(p − t)"`).
    public let method: String
    /// The estimate, with the step result's shape and labels.
    public let estimate: ExplainMatrix
    /// max |estimate − result| over the entries.
    public let maxAbsError: Double
}

/// One backward step: a local derivative as formula and numbers, with its checks.
public struct ExplainStep: Sendable {
    /// A short ASCII identifier, unique in the report (`"dL_dW"`), used for file names and anchors.
    public let id: String
    /// The heading (`"∂L/∂W: the outer product g xᵀ"`).
    public let title: String
    /// The formula, in Unicode.
    public let formula: String
    /// Which library call produced `result`.
    public let method: String
    /// The library's answer.
    public let result: ExplainMatrix
    /// Independent estimates of the same matrix.
    public let checks: [ExplainCheck]

    /// The finite-difference estimate, if the step has one.
    public var finiteDifferences: ExplainCheck? { checks.first { $0.kind == .finiteDifferences } }
}

/// The computation graph of the explained network as a chain of operations, each edge carrying
/// its forward value and its backward gradient.
public struct ExplainGraph: Sendable {
    /// A value flowing along an edge, and ∂L/∂(that value) flowing back.
    public struct Edge: Sendable {
        /// The value's name (`"y"`).
        public let name: String
        /// The forward value.
        public let value: ExplainMatrix
        /// The gradient ∂L/∂value; nil for constants (the target t).
        public let gradient: ExplainMatrix?
    }

    /// One operation of the chain.
    public struct Node: Sendable {
        /// The operation's name (`"affine"`).
        public let operation: String
        /// What it computes (`"Wx + b"`).
        public let formula: String
        /// Side inputs drawn above and below the chain (parameters, β, t).
        public let sideInputs: [Edge]
        /// Its output, the next node's main input.
        public let output: Edge
    }

    /// The network's input.
    public let input: Edge
    /// The operations, input to loss.
    public let nodes: [Node]
}

/// The walk-through of one forward and one backward pass, every number computed by the
/// library's own operations and transforms and checked against closed forms and central
/// differences. Build one with `ExplainReport(explaining:)`; render it with `ExplainTextRenderer`,
/// `ExplainHTMLRenderer` or `ExplainMarkdownRenderer`.
public struct ExplainReport: Sendable {
    /// Where the network came from.
    public let source: String
    /// The architecture in one line (`"x ∈ R⁴ → affine (W: 3×4, b) → softmax(β = 2) → cross-entropy"`).
    public let architecture: String
    /// The target class (0-based).
    public let target: Int
    /// The inverse temperature β.
    public let inverseTemperature: Double
    /// The loss L = −log p_target.
    public let loss: Double
    /// The forward pass, input first.
    public let forward: [ExplainValue]
    /// The backward pass, loss first.
    public let backward: [ExplainStep]
    /// Each parameter's step-by-step gradient against one whole-network `valueWithGradient` call.
    public let wholeChain: [ExplainCheck]
    /// The computation graph with values and gradients.
    public let graph: ExplainGraph

    /// Every matrix the report shows, in order (forward values, step results, estimates).
    public var allMatrices: [ExplainMatrix] {
        forward.map(\.matrix) + backward.flatMap { [$0.result] + $0.checks.map(\.estimate) } + wholeChain.map(\.estimate)
    }

    /// The largest error of any check of the given kind.
    public func maxError(of kind: ExplainCheck.Kind) -> Double {
        (backward.flatMap(\.checks) + wholeChain).filter { $0.kind == kind }.map(\.maxAbsError).max() ?? 0
    }
}

extension ExplainCheck {
    /// Whether the estimate agrees with the library's result: within 10⁻⁶·max(1, max|result|)
    /// for finite differences (their own error is ~10⁻⁸), within 10⁻⁹·max(1, max|result|) for
    /// the exact methods (which differ only by rounding).
    public var agrees: Bool {
        let scale = Swift.max(1, estimate.maxMagnitude)
        let tolerance = kind == .finiteDifferences ? 1e-6 : 1e-9
        return maxAbsError <= tolerance * scale
    }
}
