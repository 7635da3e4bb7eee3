import Foundation

/// Gradient checking: every derivative rule against central finite differences in `Double`,
/// and reverse mode against forward mode.
///
/// ## Method
/// For f: ℝⁿ → ℝᵐ (several inputs are concatenated), with J = ∂f/∂x:
/// - small problems (m·n ≤ `fullJacobianLimit`): the full J three ways — reverse mode (one
///   pullback per output), forward mode (one tangent per input) and central differences
///   D_h = (f(x + h eⱼ) − f(x − h eⱼ)) / 2h, column by column;
/// - large problems: random directions u (inputs) and v (outputs), checking the exact identity
///   ⟨u, Jᵀv⟩ = ⟨Ju, v⟩ between the modes and both against ⟨D_h(u), v⟩.
///
/// ## Tolerances, and why
/// A central difference errs by truncation ≈ h²·|f‴|/6 plus rounding ≈ ε·|f|/h (ε = 2⁻⁵²).
/// Rather than guess |f‴|, the check measures it: D_{2h} − D_h ≈ 3·(truncation of D_h) (Richardson),
/// so each entry's allowance is
///
///     allowance = safety · (|D_{2h} − D_h| / 3 + ε·F/h) + floor,
///
/// with F the largest |f| seen, `safety` = 10 and `floor` = 1e-10·(1 + |D_h|). A wrong rule is off
/// by O(|J|), far above this; a correct one is within it unless f is not smooth near x (a ReLU kink),
/// which the checked inputs avoid. Reverse against forward mode compares two exact computations
/// that differ only in rounding order: allowed 1e-9·(1 + |J|) (≈ 10⁶ ε, room for sums of ~10³ terms
/// of magnitude up to 10³).
public enum GradientCheck {
    /// The step h of the central differences.
    public static let step = 1e-6
    /// Multiplier on the measured finite-difference error.
    public static let safety = 10.0

    /// Checks `f` at `inputs`; `name` labels the report.
    public static func check(_ name: String, at inputs: [Tensor<Double>],
                             fullJacobianLimit: Int = 40_000, directions: Int = 3, seed: UInt64 = 1,
                             _ f: @escaping ([Tensor<Double>]) -> Tensor<Double>) -> GradientCheckReport {
        let inputCount = inputs.reduce(0) { $0 + $1.count }
        let (value, pullback) = valueWithPullback(at: inputs, of: f)
        let (_, differential) = valueWithDifferential(at: inputs, of: f)
        let outputCount = value.count
        var report = GradientCheckReport(name: name, inputShapes: inputs.map(\.shape), outputShape: value.shape,
                                         method: outputCount * inputCount <= fullJacobianLimit ? .fullJacobian : .randomProjections)
        let h = step
        var largest = value.scalars.reduce(0) { Swift.max($0, Swift.abs($1)) }

        /// Central differences of f along `direction` (one tangent per input) with step s.
        func difference(_ direction: [Tensor<Double>], _ s: Double) -> [Double] {
            FiniteDifferences.directionalDerivative(of: { xs in
                let y = withoutDerivative { f(xs) }
                for v in y.scalars { largest = Swift.max(largest, Swift.abs(v)) }
                return y
            }, at: inputs, along: direction, step: s)
        }
        func compare(analytic: Double, numeric: Double, numeric2h: Double, entry: String) {
            let allowance = safety * (Swift.abs(numeric2h - numeric) / 3 + Double.ulpOfOne * largest / h) + 1e-10 * (1 + Swift.abs(numeric))
            report.record(analytic: analytic, reference: numeric, allowance: allowance, entry: entry, against: .finiteDifferences)
        }
        func compareModes(_ reverse: Double, _ forward: Double, entry: String) {
            report.record(analytic: reverse, reference: forward, allowance: 1e-9 * (1 + Swift.abs(forward)), entry: entry, against: .forwardMode)
        }

        if report.method == .fullJacobian {
            // Reverse mode: row i of J from the pullback of eᵢ.
            var reverseRows: [[Double]] = []
            for i in 0..<outputCount {
                reverseRows.append(pullback(.basisVector(i, shape: value.shape)).flatMap(\.scalars))
            }
            // Forward mode and finite differences, column by column.
            var column = 0
            for (k, input) in inputs.enumerated() {
                for j in 0..<input.count {
                    var direction = inputs.map { Tensor<Double>.zeros($0.shape) }
                    direction[k] = .basisVector(j, shape: input.shape)
                    let forward = differential(direction).scalars
                    let d1 = difference(direction, h), d2 = difference(direction, 2 * h)
                    for i in 0..<outputCount {
                        let entry = "∂y[\(i)]/∂x\(inputs.count > 1 ? "\(k)" : "")[\(j)]"
                        compare(analytic: reverseRows[i][column], numeric: d1[i], numeric2h: d2[i], entry: entry)
                        compare(analytic: forward[i], numeric: d1[i], numeric2h: d2[i], entry: entry + " (forward)")
                        compareModes(reverseRows[i][column], forward[i], entry: entry)
                    }
                    column += 1
                }
            }
        } else {
            var generator = SeededGenerator(seed: seed)
            for d in 0..<directions {
                let u = inputs.map { Tensor<Double>.randomNormal($0.shape, generator: &generator) }
                let v = Tensor<Double>.randomNormal(value.shape, generator: &generator)
                let jtv = pullback(v)
                let reverse = zip(u, jtv).reduce(0.0) { $0 + zip($1.0.scalars, $1.1.scalars).reduce(0) { $0 + $1.0 * $1.1 } }
                let ju = differential(u).scalars
                let forward = zip(ju, v.scalars).reduce(0.0) { $0 + $1.0 * $1.1 }
                let d1 = zip(difference(u, h), v.scalars).reduce(0.0) { $0 + $1.0 * $1.1 }
                let d2 = zip(difference(u, 2 * h), v.scalars).reduce(0.0) { $0 + $1.0 * $1.1 }
                compare(analytic: reverse, numeric: d1, numeric2h: d2, entry: "⟨u\(d), Jᵀv\(d)⟩")
                compare(analytic: forward, numeric: d1, numeric2h: d2, entry: "⟨Ju\(d), v\(d)⟩")
                compareModes(reverse, forward, entry: "⟨u\(d), Jᵀv\(d)⟩ vs ⟨Ju\(d), v\(d)⟩")
            }
        }
        return report
    }
}

/// The outcome of one gradient check: the worst entry and whether every entry was within its allowance.
public struct GradientCheckReport: Sendable {
    /// How the Jacobian J was checked; the raw value names the method in `summary`.
    public enum Method: String, Sendable {
        /// Every entry of J (m·n ≤ `fullJacobianLimit`), by reverse mode, forward mode and central
        /// differences.
        case fullJacobian = "full Jacobian"
        /// Random directions u, v: ⟨u, Jᵀv⟩ (reverse) against ⟨Ju, v⟩ (forward) and both against
        /// ⟨D_h(u), v⟩ (central differences), for larger problems.
        case randomProjections = "⟨u, Jᵀv⟩ = ⟨Ju, v⟩"
    }
    /// What an analytic value was compared with; the raw value names it in `summary`.
    public enum Reference: String, Sendable {
        /// Central finite differences D_h, with the Richardson-estimated allowance.
        case finiteDifferences = "finite differences"
        /// Forward mode, compared with reverse mode (allowed 1e-9·(1 + |J|)).
        case forwardMode = "forward mode"
    }

    /// The label of the check (the operation and its situation, e.g. "softmax β=-3").
    public let name: String
    /// The shapes of the inputs differentiated with respect to.
    public let inputShapes: [[Int]]
    /// The shape of the function's output.
    public let outputShape: [Int]
    /// Full Jacobian or random projections, chosen by the problem's size.
    public let method: Method
    /// Largest |analytic − reference| over all entries.
    public private(set) var maxAbsoluteError = 0.0
    /// Largest |analytic − reference| / |reference| over entries with |reference| > 1e-8 (smaller
    /// references make relative errors meaningless).
    public private(set) var maxRelativeError = 0.0
    /// The entry with the largest error relative to its allowance, and that ratio (≤ 1 passes).
    public private(set) var worstEntry = ""
    /// |analytic − reference| / allowance at `worstEntry`; at most 1 for a passing check
    /// (infinity for a NaN).
    public private(set) var worstRatio = 0.0
    /// The analytic (reverse- or forward-mode) value at `worstEntry`.
    public private(set) var worstAnalytic = 0.0
    /// The value `worstAnalytic` was compared with at `worstEntry`.
    public private(set) var worstReference = 0.0
    /// What `worstReference` is: finite differences or forward mode.
    public private(set) var worstReferenceKind = Reference.finiteDifferences
    /// The number of entries compared.
    public private(set) var comparisons = 0

    init(name: String, inputShapes: [[Int]], outputShape: [Int], method: Method) {
        self.name = name; self.inputShapes = inputShapes; self.outputShape = outputShape; self.method = method
    }

    /// Every entry within its allowance (and none NaN).
    public var passed: Bool { worstRatio <= 1 && !worstRatio.isNaN }

    mutating func record(analytic: Double, reference: Double, allowance: Double, entry: String, against kind: Reference) {
        comparisons += 1
        let error = Swift.abs(analytic - reference)
        maxAbsoluteError = Swift.max(maxAbsoluteError, error.isNaN ? .infinity : error)
        if Swift.abs(reference) > 1e-8 { maxRelativeError = Swift.max(maxRelativeError, error / Swift.abs(reference)) }
        let ratio = error.isNaN ? Double.infinity : error / allowance
        if ratio > worstRatio || comparisons == 1 {
            worstRatio = ratio; worstEntry = entry; worstAnalytic = analytic; worstReference = reference; worstReferenceKind = kind
        }
    }

    /// One line naming the worst entry.
    public var summary: String {
        "\(name): \(passed ? "pass" : "FAIL") — \(method.rawValue), worst \(worstEntry): analytic \(worstAnalytic) vs \(worstReferenceKind.rawValue) \(worstReference) (\(String(format: "%.2g", worstRatio))× allowance)"
    }
}

