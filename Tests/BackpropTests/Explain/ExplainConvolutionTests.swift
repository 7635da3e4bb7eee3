import Foundation
import Testing
@testable import Backprop
@testable import BackpropExplain

// `backprop explain --convolution`: a 3×3 kernel over a 5×5 image in front of the affine map,
// walked forward and backward with the correlation, full-convolution and sum formulas beside
// the library's conv2d pullback, each checked by central differences.

@Test func convolutionWalkThroughChecksEveryStep() throws {
    let report = try ExplainReport(explaining: ExplainNetwork.seededConvolution())
    #expect(report.architecture.hasPrefix("X ∈ R⁵ˣ⁵ → conv (K: 3×3, c) → x = vec(Z) ∈ R⁹ → affine (W: 3×9, b)"))
    let ids = report.backward.map(\.id)
    #expect(Array(ids.suffix(4)) == ["dL_dZ", "dL_dK", "dL_dc", "dL_dX"])
    for step in report.backward {
        #expect(step.finiteDifferences != nil, "\(step.id) has no finite-difference check")
        for check in step.checks { #expect(check.agrees, "\(step.id): \(check.kind.rawValue) \(check.maxAbsError)") }
    }
    for check in report.wholeChain { #expect(check.agrees, "\(check.estimate.name) \(check.maxAbsError)") }
    #expect(report.wholeChain.map(\.estimate.name).filter { ["∂L/∂X", "∂L/∂K", "∂L/∂c"].contains($0) }.count == 3)
    let dK = report.backward.first { $0.id == "dL_dK" }!
    #expect(dK.result.rows == 3 && dK.result.columns == 3 && dK.checks.contains { $0.kind == .closedForm })
    let dX = report.backward.first { $0.id == "dL_dX" }!
    #expect(dX.result.rows == 5 && dX.result.columns == 5 && dX.formula.contains("rot180(K)"))
    #expect(report.forward.map(\.matrix.name).prefix(5) == ["X", "K", "c", "Z", "x"])
    #expect(report.graph.input.name == "X" && report.graph.nodes.first?.operation == "conv2d")
    let html = ExplainHTMLRenderer.render(report)
    #expect(html.contains("∂L/∂K: the correlation of the input with the output gradient") && html.contains("<svg"))
}

/// ∂L/∂X of a stride-1 convolution is the full convolution of G = ∂L/∂Z with the kernel: for
/// a one-hot G the result is the kernel itself, placed where that output read the image.
@Test func inputGradientOfAConvolutionIsTheKernelPlacedAtTheWindow() {
    let kernel = Tensor<Double>(rows: [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    let image = Tensor<Double>.zeros([5, 5])
    let g = Tensor<Double>.basisVector(1 * 3 + 2, shape: [3, 3])   // output (1, 2)
    let dX = valueWithPullback(at: image) { ExplainNetwork.Convolution.apply($0, kernel, Tensor([0])) }.pullback(g)
    var expected = Tensor<Double>.zeros([5, 5])
    for u in 0..<3 { for v in 0..<3 { expected.scalars[(1 + u) * 5 + 2 + v] = kernel.scalars[u * 3 + v] } }
    #expect(dX == expected)
}
