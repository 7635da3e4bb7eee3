import Foundation
import Testing
@testable import Backprop
@testable import BackpropExplain

/// The numbers a report shows, recomputed here from the closed forms of docs/derivations.md.
private struct ClosedForms {
    let x: [Double], w: [[Double]], b: [Double], beta: Double, target: Int
    var y: [Double] { w.indices.map { i in zip(w[i], x).reduce(b[i]) { $0 + $1.0 * $1.1 } } }
    var p: [Double] {
        let m = y.map { beta * $0 }.max()!
        let e = y.map { Foundation.exp(beta * $0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
    var t: [Double] { y.indices.map { $0 == target ? 1 : 0 } }
    var loss: Double { -Foundation.log(p[target]) }
    /// ∂L/∂y = β(p − t).
    var g: [Double] { zip(p, t).map { beta * ($0 - $1) } }
    /// β(diag(p) − p pᵀ), row-major.
    var softmaxJacobian: [Double] { p.indices.flatMap { i in p.indices.map { j in beta * ((i == j ? p[i] : 0) - p[i] * p[j]) } } }
    /// g xᵀ, row-major.
    var dW: [Double] { g.flatMap { gi in x.map { gi * $0 } } }
    /// Wᵀ g.
    var dx: [Double] { x.indices.map { j in w.indices.reduce(0) { $0 + w[$1][j] * g[$1] } } }
    /// Σⱼ (∂L/∂pⱼ) pⱼ (yⱼ − ⟨p, y⟩) with ∂L/∂p = −t/p: ⟨p, y⟩ − y_target.
    var dBeta: [Double] {
        let mean = zip(p, y).reduce(0) { $0 + $1.0 * $1.1 }
        let dLdp = p.indices.map { $0 == target ? -1 / p[$0] : 0 }
        return [p.indices.reduce(0) { $0 + dLdp[$1] * p[$1] * (y[$1] - mean) }]
    }
}

private func closedForms(of network: ExplainNetwork) -> ClosedForms {
    let w = network.layers[0].weight, n = w.shape[1]
    return ClosedForms(x: network.input.scalars, w: (0..<w.shape[0]).map { Array(w.scalars[($0 * n)..<(($0 + 1) * n)]) },
                       b: network.layers[0].bias.scalars, beta: network.inverseTemperature, target: network.target)
}

private func expectEntries(_ m: ExplainMatrix, _ expected: [Double], rows: Int, columns: Int, tolerance: Double = 1e-12,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(m.rows == rows && m.columns == columns, "\(m.name) is \(m.shapeDescription), expected \(rows)×\(columns)", sourceLocation: sourceLocation)
    let worst = zip(m.values, expected).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
    #expect(m.values.count == expected.count && worst <= tolerance, "\(m.name): worst relative difference \(worst)", sourceLocation: sourceLocation)
}

private func step(_ report: ExplainReport, _ id: String) throws -> ExplainStep {
    try #require(report.backward.first { $0.id == id }, "no step \(id)")
}

@Suite("explain: the report's numbers are the closed forms")
struct ExplainReportTests {
    static let configurations: [(inputs: Int, outputs: Int, beta: Double, target: Int, seed: UInt64)] = [
        (4, 3, 2, 0, 42), (4, 3, 2, 2, 7), (1, 2, 1, 1, 3), (6, 5, 0, 3, 11), (3, 4, -1.5, 1, 5), (8, 10, 4, 9, 99),
    ]

    @Test("every step equals its closed form: β(diag(p) − p pᵀ), β(p − t), g xᵀ, g, Wᵀ g, ∂L/∂β",
          arguments: configurations.indices)
    func stepsMatchClosedForms(_ index: Int) throws {
        let c = Self.configurations[index]
        let network = try ExplainNetwork.seeded(inputs: c.inputs, outputs: c.outputs, inverseTemperature: c.beta, target: c.target, seed: c.seed)
        let report = try ExplainReport(explaining: network)
        let cf = closedForms(of: network)
        let n = c.inputs, t = c.outputs

        #expect(Swift.abs(report.loss - cf.loss) <= 1e-12 * (1 + cf.loss))
        expectEntries(try step(report, "dL_dp").result, cf.p.indices.map { $0 == c.target ? -1 / cf.p[$0] : 0 }, rows: t, columns: 1)
        expectEntries(try step(report, "softmax_jacobian").result, cf.softmaxJacobian, rows: t, columns: t)
        expectEntries(try step(report, "dL_dy").result, cf.g, rows: t, columns: 1)
        expectEntries(try step(report, "dL_dbeta").result, cf.dBeta, rows: 1, columns: 1)
        expectEntries(try step(report, "dL_dbeta").result, [zip(cf.p, cf.y).reduce(0) { $0 + $1.0 * $1.1 } - cf.y[c.target]], rows: 1, columns: 1)
        expectEntries(try step(report, "dL_dW").result, cf.dW, rows: t, columns: n)
        expectEntries(try step(report, "dL_db").result, cf.g, rows: t, columns: 1)
        expectEntries(try step(report, "dL_dx").result, cf.dx, rows: n, columns: 1)
    }

    @Test("finite differences agree to 1e-6 and every check agrees", arguments: configurations.indices)
    func checksAgree(_ index: Int) throws {
        let c = Self.configurations[index]
        let report = try ExplainReport(explaining: try .seeded(inputs: c.inputs, outputs: c.outputs, inverseTemperature: c.beta, target: c.target, seed: c.seed))
        for step in report.backward {
            let fd = try #require(step.finiteDifferences, "\(step.id) has no finite-difference estimate")
            #expect(fd.maxAbsError <= 1e-6, "\(step.id): finite differences off by \(fd.maxAbsError)")
            #expect(step.checks.contains { $0.kind == .closedForm }, "\(step.id) has no closed form")
            for check in step.checks { #expect(check.agrees, "\(step.id) \(check.kind.rawValue): \(check.maxAbsError)") }
        }
        #expect(report.wholeChain.map(\.estimate.name) == ["∂L/∂x", "∂L/∂W", "∂L/∂b", "∂L/∂β"])
        #expect(report.maxError(of: .wholeChain) <= 1e-12)
        #expect(report.maxError(of: .closedForm) <= 1e-12)
    }

    @Test("the softmax Jacobian is symmetric and forward mode agrees with reverse mode")
    func softmaxJacobianProperties() throws {
        let report = try ExplainReport(explaining: try .seeded(inputs: 5, outputs: 4, inverseTemperature: 3, target: 2, seed: 1))
        let j = try step(report, "softmax_jacobian").result
        for r in 0..<j.rows { for c in 0..<j.columns { #expect(Swift.abs(j[r, c] - j[c, r]) <= 1e-15) } }
        let forward = try #require(try step(report, "softmax_jacobian").checks.first { $0.kind == .forwardMode })
        #expect(forward.maxAbsError <= 1e-15)
    }

    @Test("every matrix shown has its shape and one non-empty label per row and column")
    func matricesAreLabelled() throws {
        let report = try ExplainReport(explaining: try .seeded(inputs: 4, outputs: 3))
        for m in report.allMatrices {
            #expect(m.values.count == m.rows * m.columns)
            #expect(m.rowLabels.count == m.rows && m.columnLabels.count == m.columns, "\(m.name)")
            #expect((m.rowLabels + m.columnLabels).allSatisfy { !$0.isEmpty }, "\(m.name) has an empty label")
        }
        let w = try step(report, "dL_dW").result
        #expect(w.rowLabels == ["y₀", "y₁", "y₂"] && w.columnLabels == ["x₀", "x₁", "x₂", "x₃"])
        let j = try step(report, "softmax_jacobian").result
        #expect(j.rowLabels == ["p₀", "p₁", "p₂"] && j.columnLabels == ["y₀", "y₁", "y₂"])
        for step in report.backward {
            for check in step.checks {
                #expect(check.estimate.rows == step.result.rows && check.estimate.columns == step.result.columns)
                #expect(check.estimate.rowLabels == step.result.rowLabels && check.estimate.columnLabels == step.result.columnLabels)
            }
        }
        #expect(report.forward.map(\.matrix.name) == ["x", "W", "b", "y", "β", "p", "t", "L"])
    }

    @Test("a two-layer model from safetensors: steps per layer, activation step, all checks agree",
          arguments: ["tanh", "relu", "sigmoid", "gelu"])
    func twoLayerModel(_ activation: String) throws {
        var g = SeededGenerator(seed: 5)
        let file = SafeTensors<Double>(
            tensors: [("0.weight", .randomNormal([5, 4], generator: &g)), ("0.bias", .randomNormal([5], generator: &g)),
                      ("2.weight", .randomNormal([3, 5], generator: &g)), ("2.bias", .randomNormal([3], generator: &g))],
            metadata: ["activation": activation, "beta": "1.5", "input_mean": "[0.5,0,0,0]", "input_std": "[2,1,1,1]"])
        let network = try ExplainNetwork.fromModel(file, source: "m.safetensors", input: [1.5, 0.2, -0.3, 0.7], target: nil, inverseTemperature: nil)
        #expect(network.inverseTemperature == 1.5)
        #expect(network.input.scalars == [0.5, 0.2, -0.3, 0.7])
        let logits = network.logits().scalars
        #expect(logits[network.target] == logits.max())
        let report = try ExplainReport(explaining: network)
        #expect(report.backward.map(\.id) == ["dL_dp", "softmax_jacobian", "dL_dy", "dL_dbeta", "dL_dW2", "dL_db2", "dL_dh1", "dL_dz1", "dL_dW1", "dL_db1", "dL_dx"])
        for step in report.backward { for check in step.checks { #expect(check.agrees, "\(step.id) \(check.kind.rawValue): \(check.maxAbsError)") } }
        #expect(try step(report, "dL_dW2").result.columnLabels == subscriptedLabels("h⁽¹⁾", 5))
        #expect(report.wholeChain.count == 6 && report.maxError(of: .wholeChain) <= 1e-12)
        #expect(report.graph.nodes.map(\.operation) == ["affine", activation, "affine", "softmax", "cross-entropy"])
    }

    @Test("bad requests are errors, not crashes")
    func badRequests() throws {
        #expect(throws: ExplainError.self) { try ExplainNetwork.seeded(target: 3) }
        #expect(throws: ExplainError.self) { try ExplainNetwork.seeded(inputs: 0) }
        #expect(throws: ExplainError.self) { try ExplainNetwork.seeded(outputs: 1) }
        #expect(throws: ExplainError.self) { try ExplainNetwork.seeded(inverseTemperature: .nan) }
        #expect(throws: ExplainError.self) { try ExplainNetwork.parseRow("1, two") }
        let file = SafeTensors<Double>(tensors: [("0.weight", .zeros([3, 2])), ("0.bias", .zeros([3]))])
        #expect(throws: ExplainError.self) { try ExplainNetwork.fromModel(file, source: "m", input: [1, 2, 3], target: nil, inverseTemperature: nil) }
        let odd = SafeTensors<Double>(tensors: [("fc.weight", .zeros([3, 2]))])
        #expect(throws: ExplainError.self) { try ExplainNetwork.fromModel(odd, source: "m", input: [1, 2], target: nil, inverseTemperature: nil) }
        #expect(try ExplainNetwork.parseRow("1, -2.5 3") == [1, -2.5, 3])
    }
}
