import Foundation
import Testing
import Backprop

/// The README's library example, verbatim, with its printed values checked against the seed's
/// closed forms: g = ∂L/∂y = β(p − t), ∂L/∂W = g xᵀ, ∂L/∂b = g, ∂L/∂β = ⟨p − t, y⟩.
@Test func readmeExampleGivesTheSeedFormulas() {
    // --- README example begins
    let x = Tensor<Double>([1, 0, 2])
    let w = Tensor<Double>(rows: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    let b = Tensor<Double>([0.5, -1])
    let beta = Tensor<Double>(2)
    let target = Tensor<Double>([0, 1])                  // the true class is 1

    let (loss, grads) = valueWithGradient(at: [w, b, beta]) { p in
        let y = Tensor.affine(x, weight: p[0], bias: p[1])   // y = Wx + b
        return Tensor.softmaxCrossEntropy(logits: y, targets: target, inverseTemperature: p[2])
    }
    print("L     =", loss.scalar)
    print("∂L/∂W =", grads[0])
    print("∂L/∂b =", grads[1])
    print("∂L/∂β =", grads[2])
    // --- README example ends

    let y = Tensor<Double>([0.1 + 0.6 + 0.5, 0.4 + 1.2 - 1])       // [1.2, 0.6] by hand
    let e0 = Double.exp(2 * 1.2), e1 = Double.exp(2 * 0.6)
    let p = [e0 / (e0 + e1), e1 / (e0 + e1)]
    let g = [2 * p[0], 2 * (p[1] - 1)]
    #expect(Swift.abs(loss.scalar + Double.log(p[1])) < 1e-15)
    expectClose(grads[0], Tensor(rows: [[g[0] * 1, 0, g[0] * 2], [g[1] * 1, 0, g[1] * 2]]), tolerance: 1e-15, "∂L/∂W")
    expectClose(grads[1], Tensor(g), tolerance: 1e-15, "∂L/∂b")
    expectClose(grads[2], Tensor(p[0] * y.scalars[0] + (p[1] - 1) * y.scalars[1]), tolerance: 1e-15, "∂L/∂β")
}

/// The README's "Your own model" program is the `your-own-model` example target, verbatim
/// (CI builds and runs the target, so the README's code is known to compile and train).
@Test func readmeYourOwnModelIsTheExampleProgram() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let program = try String(contentsOf: root.appendingPathComponent("Examples/YourOwnModel/main.swift"), encoding: .utf8)
    let section = try #require(readme.range(of: "## Your own model"))
    let fence = try #require(readme.range(of: "```swift\n", range: section.upperBound..<readme.endIndex))
    let end = try #require(readme.range(of: "```\n", range: fence.upperBound..<readme.endIndex))
    #expect(String(readme[fence.upperBound..<end.lowerBound]) == program)
    #expect(program.split(separator: "\n", omittingEmptySubsequences: false).count <= 41, "the program must stay within 40 lines")
}
